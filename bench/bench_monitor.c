/* The monitor's own cost, measured in-process. For each sampling rate and process-tree size a
 * fresh worker process spawns a real tree of sleeping processes, starts a monitor on it with a
 * fixture RAPL tree as sysfs root, and drives jst_monitor_tick from a timerfd the way
 * `joulestream run` does (reaped CPU time read at each tick, samples drained every 250 ms).
 * It prints markdown tables of CPU per tick against an empty-tick baseline and of peak RSS;
 * bench/run puts them into docs/benchmarks.md. A measuring tool, not a test. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "joulestream/attrib.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/run.h"
#include "joulestream/store.h"

#define DRAIN_NS 250000000ull /* as in src/cli/run.c */
#define NRATES 4
#define NTREES 3
#define STORE_TREE 10  /* the tree size also measured with a SQLite store */
#define TARGET_TREE 10 /* the tree size the CPU target is stated for */
#define TARGET_CPU_US 50.0
#define TARGET_RSS_MB 8.0

static const unsigned rates[NRATES] = {1, 10, 100, 1000};
static const unsigned trees[NTREES] = {1, 10, 100};

struct opts {
	const char *sysfs_root; /* the fixture tree bench/run copied */
	const char *tmp;        /* where the store variants put their database */
	const char *summary;    /* markdown rows for the targets table are appended here */
	bool quick;             /* a few ticks per point, to try the bench itself */
};

struct point {
	unsigned rate_hz;
	unsigned nprocs; /* processes in the tree; 0: baseline (timer wakeups only, no monitor) */
	bool store;      /* samples written to a SQLite store at each drain */
};

struct result {
	bool ok;
	char err[200];
	unsigned long ticks, overruns;
	double cpu_s;                    /* process CPU (user + sys) over the loop */
	double work_p50_us, work_p99_us; /* thread CPU of one tick's monitor work */
	double first_us;                 /* thread CPU of the first tick (not in the above) */
	long hwm_kb, rss_kb;             /* VmHWM and VmRSS after the loop */
	size_t zones, tracked;
	unsigned long stored;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

static double reaped_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
}

/* VmHWM and VmRSS of this process, in kB (-1 when unknown). */
static void memory_kb(long *hwm, long *rss)
{
	*hwm = *rss = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	char line[256];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = strtol(line + 6, NULL, 10);
	}
	fclose(f);
}

/* A root process with n - 1 children, all sleeping in pause() until killed; they die with
 * their parent. Returns the root's pid once every process exists, or -1. */
static pid_t spawn_tree(unsigned n)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t root = fork();
	if (root < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (root == 0) {
		close(p[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (unsigned i = 1; i < n; i++) {
			pid_t c = fork();
			if (c < 0)
				_exit(1);
			if (c == 0) {
				close(p[1]);
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				for (;;)
					pause();
			}
		}
		char b = 1;
		if (write(p[1], &b, 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	char b = 0;
	ssize_t r;
	while ((r = read(p[0], &b, 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (r != 1) {
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
		return -1;
	}
	return root;
}

static void kill_tree(pid_t root)
{
	if (root <= 0)
		return;
	kill(-root, SIGKILL);
	kill(root, SIGKILL);
	waitpid(root, NULL, 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[k ? (k > n ? n - 1 : k - 1) : 0];
}

static unsigned long ticks_for(const struct opts *o, unsigned rate)
{
	if (o->quick)
		return rate >= 10 ? rate / 5 : 2;
	return rate == 1 ? 3 : 2ul * rate; /* 3 s at 1 Hz, 2 s otherwise, after the first tick */
}

struct ctx {
	struct jst_monitor *mon;
	struct jst_run *run;
	struct jst_store *store;
	pid_t root;
	int tfd;
	double *work; /* [ticks] */
};

static int fail(struct result *res, const char *what, const char *why)
{
	snprintf(res->err, sizeof res->err, "%.60s: %.130s", what, why);
	return -1;
}

/* What the store sink does on its thread, here inline: the samples (none: the run's run_start)
 * encoded as events and ingested in one transaction. */
static int store_events(struct ctx *c, const struct jst_sample *v, size_t n)
{
	static char buf[1 << 22];
	static uint64_t seq[JST_ZONES_MAX];
	size_t len = 0;
	int w = 0;
	if (!v)
		w = jst_event_encode_run_start(c->run, NULL, 0, NULL, buf, sizeof(buf) - 1);
	for (size_t i = 0; v && i < n && w >= 0 && len + JST_EVENT_LINE_MAX < sizeof(buf); i++) {
		w = jst_event_encode_sample(c->run, &v[i], seq[v[i].zone % JST_ZONES_MAX]++, buf + len, sizeof(buf) - len - 1);
		if (w >= 0) {
			len += (size_t)w;
			buf[len++] = '\n';
		}
	}
	if (!v && w >= 0)
		len = (size_t)w;
	if (w < 0)
		return w;
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t bad;
	char err[256];
	int r = jst_event_batch_parse(buf, len, 0, &b, &bad, err, sizeof(err));
	if (r == 0)
		r = jst_store_ingest(c->store, &b, &res);
	jst_event_batch_release(&b);
	return r;
}

static int setup(const struct opts *o, const struct point *pt, struct ctx *c, struct result *res)
{
	uint64_t ival = 1000000000ull / pt->rate_hz;
	if (pt->nprocs) {
		if ((c->root = spawn_tree(pt->nprocs)) < 0)
			return fail(res, "spawning the process tree", strerror(errno));
		if (!(c->run = calloc(1, sizeof *c->run)))
			return fail(res, "allocating the run", "out of memory");
		jst_run_id_new(c->run->id);
		struct jst_monitor_opts mo = {{o->sysfs_root, NULL}, "rapl", true,
					      JST_SCOPE_PROCESS,     ival,   0};
		int r = jst_monitor_new(&c->mon, &mo, c->run);
		if (r < 0)
			return fail(res, "jst_monitor_new", jst_strerror(r));
		if (c->run->nzones == 0)
			return fail(res, "the fixture", "no RAPL zone found under --sysfs-root");
		res->zones = c->run->nzones;
	}
	if (pt->store) {
		char path[4096], err[600];
		snprintf(path, sizeof path, "%s/bench-%uhz.db", o->tmp, pt->rate_hz);
		unlink(path);
		if (jst_store_open(&c->store, path, err, sizeof err) < 0)
			return fail(res, "jst_store_open", err);
		if (store_events(c, NULL, 0) < 0)
			return fail(res, "storing run_start", jst_store_errmsg(c->store));
	}
	if (!(c->work = calloc(ticks_for(o, pt->rate_hz), sizeof(double))))
		return fail(res, "allocating", "out of memory");
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = {{(time_t)(ival / 1000000000u), (long)(ival % 1000000000u)},
				 {(time_t)(ival / 1000000000u), (long)(ival % 1000000000u)}};
	if (c->tfd < 0 || timerfd_settime(c->tfd, 0, &its, NULL) < 0)
		return fail(res, "timerfd", strerror(errno));
	if (c->mon) {
		jst_monitor_start(c->mon, mono_ns());
		int r = jst_monitor_attach(c->mon, c->root, getpid());
		if (r < 0)
			return fail(res, "jst_monitor_attach", jst_strerror(r));
	}
	return 0;
}

static void drain(struct ctx *c, struct result *res)
{
	size_t n;
	const struct jst_sample *v = jst_monitor_pending(c->mon, &n);
	if (c->store && n && store_events(c, v, n) == 0)
		res->stored += n;
	jst_monitor_drained(c->mon);
}

/* One timer wakeup and the work after it: the monitor's when there is one. Returns the thread
 * CPU of that work; the baseline reads the thread clock around nothing, so both pay for it. */
static double wake_and_tick(struct ctx *c, struct result *res, uint64_t *last_drain)
{
	struct pollfd pfd = {c->tfd, POLLIN, 0};
	uint64_t exp = 0;
	while (poll(&pfd, 1, -1) < 0 || read(c->tfd, &exp, sizeof exp) != (ssize_t)sizeof exp)
		;
	res->overruns += exp - 1;
	uint64_t now = mono_ns();
	double w0 = thread_cpu_s();
	if (c->mon) {
		jst_monitor_tick(c->mon, now, reaped_cpu_s());
		if (now - *last_drain >= DRAIN_NS) {
			drain(c, res);
			*last_drain = now;
		}
	}
	return thread_cpu_s() - w0;
}

/* The measured loop, as in src/cli/run.c. The first tick (a full scan of /proc to find the
 * tree) is timed apart: it is paid once per run, not per sample. */
static void loop(const struct opts *o, const struct point *pt, struct ctx *c, struct result *res)
{
	unsigned long want = ticks_for(o, pt->rate_hz);
	uint64_t last_drain = mono_ns();
	res->first_us = wake_and_tick(c, res, &last_drain) * 1e6;
	res->overruns = 0;
	double cpu0 = self_cpu_s();
	while (res->ticks < want)
		c->work[res->ticks++] = wake_and_tick(c, res, &last_drain);
	res->cpu_s = self_cpu_s() - cpu0;
	memory_kb(&res->hwm_kb, &res->rss_kb);
	if (c->mon) {
		drain(c, res);
		jst_monitor_finish(c->mon, mono_ns());
	}
	qsort(c->work, res->ticks, sizeof(double), cmp_double);
	res->work_p50_us = pct(c->work, res->ticks, 50) * 1e6;
	res->work_p99_us = pct(c->work, res->ticks, 99) * 1e6;
}

/* Checks, outside the measurement, that the whole tree is visible to attribution. */
static void count_tree(pid_t root, struct result *res)
{
	struct jst_proctree *t;
	if (jst_proctree_new(&t, NULL, root, getpid()) < 0)
		return;
	struct jst_cpu_times d;
	if (jst_proctree_sample(t, 0, &d) == 0)
		res->tracked = jst_proctree_count(t);
	jst_proctree_free(t);
}

/* One point, in the worker process. */
static void measure(const struct opts *o, const struct point *pt, struct result *res)
{
	struct ctx c = {.root = -1, .tfd = -1};
	if (setup(o, pt, &c, res) == 0) {
		loop(o, pt, &c, res);
		if (c.root > 0)
			count_tree(c.root, res);
		res->ok = true;
	}
	if (c.tfd >= 0)
		close(c.tfd);
	kill_tree(c.root);
	jst_monitor_free(c.mon);
	jst_store_close(c.store);
	free(c.run);
	free(c.work);
}

/* Runs a point in a fresh child so that its peak RSS is its own. */
static void run_point(const struct opts *o, const struct point *pt, struct result *res)
{
	memset(res, 0, sizeof *res);
	int p[2];
	if (pipe(p) < 0) {
		fail(res, "pipe", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fail(res, "fork", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		struct result r;
		memset(&r, 0, sizeof r);
		measure(o, pt, &r);
		_exit(write(p[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
	}
	close(p[1]);
	ssize_t n;
	while ((n = read(p[0], res, sizeof *res)) < 0 && errno == EINTR)
		;
	close(p[0]);
	waitpid(pid, NULL, 0);
	if (n != (ssize_t)sizeof *res) {
		memset(res, 0, sizeof *res);
		fail(res, "worker", "died without a result");
	}
}

static double per_tick_us(const struct result *r)
{
	return r->ticks ? r->cpu_s / (double)r->ticks * 1e6 : 0;
}

static double mb(long kb)
{
	return (double)kb / 1024.0;
}

struct all {
	struct result base[NRATES];
	struct result tree[NRATES][NTREES];
	struct result store[NRATES];
};

static void print_matrix(const struct all *a)
{
	printf("Monitor CPU per sample, µs: (CPU per tick − empty-tick baseline per tick); in brackets,\n"
	       "CPU per tick as a multiple of the baseline.\n\n");
	printf("| rate | baseline (timer wakeup only) |");
	for (size_t t = 0; t < NTREES; t++)
		printf(" %u process%s |", trees[t], trees[t] == 1 ? "" : "es");
	printf(" %u processes + SQLite store |\n|---|---|", STORE_TREE);
	for (size_t t = 0; t <= NTREES; t++)
		printf("---|");
	printf("\n");
	for (size_t i = 0; i < NRATES; i++) {
		double b = per_tick_us(&a->base[i]);
		printf("| %u Hz | %.1f µs |", rates[i], b);
		for (size_t t = 0; t <= NTREES; t++) {
			const struct result *r = t < NTREES ? &a->tree[i][t] : &a->store[i];
			if (!r->ok) {
				printf(" failed |");
				continue;
			}
			double x = per_tick_us(r);
			printf(" **%.1f** (×%.1f) |", x - b, b > 0 ? x / b : 0);
		}
		printf("\n");
	}
	printf("\n");
}

static void print_row(const struct result *r, const struct result *base, unsigned rate,
		      const char *tree)
{
	if (!r->ok) {
		printf("| %u Hz | %s | failed: %s ||||||||\n", rate, tree, r->err);
		return;
	}
	double x = per_tick_us(r), b = per_tick_us(base);
	double mon = r == base ? 0 : x - b;
	printf("| %u Hz | %s | %lu | %lu | %.1f | %.1f | %.1f / %.1f | %.3f %% | %.2f | %.2f | %.2f |\n",
	       rate, tree, r->ticks, r->overruns, x, mon, r->work_p50_us, r->work_p99_us,
	       mon * rate / 1e4, r->first_us / 1e3, mb(r->hwm_kb), mb(r->rss_kb));
}

static void print_detail(const struct all *a)
{
	printf("Every point. *ticks*: samples taken; *missed*: timer expirations that found the loop\n"
	       "busy; *CPU/tick*: process CPU (getrusage, user + sys) over the loop ÷ ticks;\n"
	       "*monitor/tick*: that minus the baseline's; *work p50 / p99*: thread CPU of one tick's\n"
	       "monitor work (tick, reaped-CPU read, drain); *%% of a core*: monitor/tick × rate;\n"
	       "*first tick*: thread CPU of the tick before the measured ones (it scans all of /proc\n"
	       "to find the tree; paid once per run); *VmHWM*, *VmRSS*: of the worker process after\n"
	       "the loop.\n\n");
	printf("| rate | tree | ticks | missed | CPU/tick (µs) | monitor/tick (µs) | work p50 / p99 (µs) "
	       "| %% of a core | first tick (ms) | VmHWM (MB) | VmRSS (MB) |\n"
	       "|---|---|---|---|---|---|---|---|---|---|---|\n");
	char label[64];
	for (size_t i = 0; i < NRATES; i++) {
		print_row(&a->base[i], &a->base[i], rates[i], "baseline");
		for (size_t t = 0; t < NTREES; t++) {
			snprintf(label, sizeof label, "%u proc", trees[t]);
			print_row(&a->tree[i][t], &a->base[i], rates[i], label);
		}
		snprintf(label, sizeof label, "%u proc + store", STORE_TREE);
		print_row(&a->store[i], &a->base[i], rates[i], label);
	}
	printf("\n");
}

/* Rows of the targets table, appended to the summary file. */
static void print_summary(const struct opts *o, const struct all *a)
{
	FILE *f = o->summary ? fopen(o->summary, "a") : NULL;
	if (!f)
		return;
	size_t ti = 0;
	for (size_t t = 0; t < NTREES; t++)
		if (trees[t] == TARGET_TREE)
			ti = t;
	/* one row per rate: the target holds at every rate or it is missed */
	for (size_t i = 0; i < NRATES; i++) {
		const struct result *r = &a->tree[i][ti];
		double x = per_tick_us(r) - per_tick_us(&a->base[i]);
		fprintf(f,
			"| CPU per sample at %u Hz, %u-process tree (in-process, %zu RAPL zones) | "
			"< %.0f µs | %.1f µs (×%.1f the wakeup alone) | %s |\n",
			rates[i], trees[ti], r->zones, TARGET_CPU_US, x,
			per_tick_us(&a->base[i]) > 0 ? per_tick_us(r) / per_tick_us(&a->base[i]) :
						       0,
			!(r->ok && a->base[i].ok) ? "failed" :
			x < TARGET_CPU_US         ? "met" :
						    "**missed**");
	}
	long hwm = 0, base = 0;
	for (size_t i = 0; i < NRATES; i++) {
		for (size_t t = 0; t < NTREES; t++)
			if (a->tree[i][t].hwm_kb > hwm)
				hwm = a->tree[i][t].hwm_kb;
		if (a->store[i].hwm_kb > hwm)
			hwm = a->store[i].hwm_kb;
		if (a->base[i].hwm_kb > base)
			base = a->base[i].hwm_kb;
	}
	fprintf(f,
		"| peak RSS, bench_monitor with a monitor (worst point; baseline %.2f MB) | < %.0f MB "
		"| %.2f MB | %s |\n",
		mb(base), TARGET_RSS_MB, mb(hwm), mb(hwm) < TARGET_RSS_MB ? "met" : "**missed**");
	fclose(f);
}

/* Processes on the host: a rescan of /proc costs in proportion to them. */
static unsigned host_procs(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] >= '1' && e->d_name[0] <= '9';
	closedir(d);
	return n;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"sysfs-root", required_argument, 0, 's'},
		{"tmp", required_argument, 0, 't'},
		{"summary", required_argument, 0, 'S'},
		{"quick", no_argument, 0, 'q'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->sysfs_root = optarg; break;
		case 't': o->tmp = optarg; break;
		case 'S': o->summary = optarg; break;
		case 'q': o->quick = true; break;
		default: return -1;
		}
	}
	return o->sysfs_root && o->tmp && optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: bench_monitor --sysfs-root FIXTURE --tmp DIR [--summary FILE] [--quick]\n");
		return 2;
	}
	static struct all a;
	unsigned procs0 = host_procs();
	for (size_t i = 0; i < NRATES; i++) {
		struct point pt = {rates[i], 0, false};
		fprintf(stderr, "bench_monitor: %u Hz: baseline", rates[i]);
		run_point(&o, &pt, &a.base[i]);
		for (size_t t = 0; t < NTREES; t++) {
			fprintf(stderr, ", %u proc", trees[t]);
			pt.nprocs = trees[t];
			run_point(&o, &pt, &a.tree[i][t]);
			if (a.tree[i][t].ok && a.tree[i][t].tracked != trees[t])
				fprintf(stderr, " (tracked %zu of %u!)", a.tree[i][t].tracked,
					trees[t]);
		}
		fprintf(stderr, ", %u proc + store\n", STORE_TREE);
		pt = (struct point){rates[i], STORE_TREE, true};
		run_point(&o, &pt, &a.store[i]);
	}
	size_t zones = a.tree[0][0].zones;
	printf("Fixture: %zu RAPL zones (copy of tests/fixtures/sysfs-2socket); trees of sleeping "
	       "processes; %s per point, after a first tick timed apart. Processes on the host: %u "
	       "at the start, %u at the end (every rescan of /proc, at most every 100 ms, walks them "
	       "all).\n\n",
	       zones, o.quick ? "a few ticks (--quick)" : "3 s at 1 Hz, 2 s at the other rates",
	       procs0, host_procs());
	print_matrix(&a);
	print_detail(&a);
	print_summary(&o, &a);
	for (size_t i = 0; i < NRATES; i++) {
		bool bad = !a.base[i].ok || !a.store[i].ok;
		for (size_t t = 0; t < NTREES; t++)
			bad = bad || !a.tree[i][t].ok;
		if (bad) {
			fprintf(stderr, "bench_monitor: some points failed (see the table)\n");
			return 1;
		}
	}
	return 0;
}
