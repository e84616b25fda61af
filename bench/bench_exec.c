/* The joulestream program measured from the outside: commands are started with posix_spawn,
 * interleaved round by round so that drifts in machine load hit them alike, and timed with
 * CLOCK_MONOTONIC; wait4() gives each one's CPU time and peak RSS (its waited-for children
 * included, so plain `true` / `sleep` runs are measured too and subtracted). `startup` is the
 * wall time `joulestream run` adds to a command, `sustained` its CPU while a command runs.
 * It prints markdown for docs/benchmarks.md (bench/run); a measuring tool, not a test. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ARGS_MAX 24
#define CMDS_MAX 12
#define WARMUP 5 /* rounds run first and not counted (the store's database is created then) */
#define TARGET_ADDED_MS 10.0
#define TARGET_CPU_US 50.0
#define TARGET_RSS_MB 8.0

struct opts {
	const char *mode, *jst, *tmp, *sysfs_root, *git_repo, *summary;
	unsigned reps;
	unsigned seconds;
};

struct cmd {
	char label[160]; /* markdown, shown in the tables */
	const char *argv[ARGS_MAX];
	const char *cwd;        /* NULL: this process's */
	unsigned per_round;     /* runs per round */
	double *wall_s, *cpu_s; /* [reps * per_round] */
	long *rss_kb;
	size_t n;
	unsigned failed; /* runs that did not exit 0 */
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Builds cmd from a label and a NULL-terminated argument list. */
static void cmd_set(struct cmd *c, const char *label, const char *cwd, unsigned per_round,
		    const char *const *args)
{
	memset(c, 0, sizeof *c);
	snprintf(c->label, sizeof c->label, "%s", label);
	c->cwd = cwd;
	c->per_round = per_round;
	size_t i = 0;
	for (; args[i] && i < ARGS_MAX - 1; i++)
		c->argv[i] = args[i];
	c->argv[i] = NULL;
}

static int cmd_alloc(struct cmd *c, unsigned reps)
{
	size_t n = (size_t)reps * c->per_round;
	c->wall_s = calloc(n, sizeof(double));
	c->cpu_s = calloc(n, sizeof(double));
	c->rss_kb = calloc(n, sizeof(long));
	return c->wall_s && c->cpu_s && c->rss_kb ? 0 : -1;
}

static void cmd_free(struct cmd *c)
{
	free(c->wall_s);
	free(c->cpu_s);
	free(c->rss_kb);
}

/* Runs c once (stdin and stdout on /dev/null, stderr kept); records it when keep. */
static int run_once(struct cmd *c, bool keep)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (c->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, c->cwd);
	/* posix_spawn takes char *const[]; the strings are not written to */
	char *argv[ARGS_MAX];
	for (size_t i = 0; i < ARGS_MAX; i++)
		argv[i] = (char *)(uintptr_t)c->argv[i];
	pid_t pid;
	double t0 = mono_s();
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0) {
		fprintf(stderr, "bench_exec: cannot run %s: %s\n", argv[0], strerror(r));
		return -1;
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	double t1 = mono_s();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		c->failed++;
		return 0;
	}
	if (keep) {
		c->wall_s[c->n] = t1 - t0;
		c->cpu_s[c->n] = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
		c->rss_kb[c->n] = ru.ru_maxrss;
		c->n++;
	}
	return 0;
}

/* Warm-up rounds, then reps rounds; round r starts at command r mod n. */
static int run_all(struct cmd *cmds, size_t n, unsigned reps)
{
	for (unsigned r = 0; r < WARMUP + reps; r++) {
		for (size_t k = 0; k < n; k++) {
			struct cmd *c = &cmds[(k + r) % n];
			for (unsigned j = 0; j < c->per_round; j++)
				if (run_once(c, r >= WARMUP) < 0)
					return -1;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest rank, on an array median() has sorted. */
static double p90(const double *v, size_t n)
{
	if (n == 0)
		return 0;
	size_t k = (9 * n + 9) / 10;
	return v[k > n ? n - 1 : k - 1];
}

static double max_rss_mb(const struct cmd *c)
{
	long m = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->rss_kb[i] > m)
			m = c->rss_kb[i];
	return (double)m / 1024.0;
}

/* This process's VmHWM in MB. A spawned child's peak RSS from wait4() can be the spawner's:
 * exec carries the old address space's peak over, so it is printed next to the figures. */
static double self_hwm_mb(void)
{
	long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return (double)kb / 1024.0;
}

static FILE *summary_file(const struct opts *o)
{
	return o->summary ? fopen(o->summary, "a") : NULL;
}

/* `true` alone and under `joulestream run` in several set-ups. */
static int startup(const struct opts *o)
{
	const char *j = o->jst, *plain = o->tmp; /* a directory outside any git repository */
	struct cmd cmds[CMDS_MAX];
	size_t n = 0;
	cmd_set(&cmds[n++], "`true`", plain, 1, (const char *const[]){"true", NULL});
	cmd_set(&cmds[n++], "`joulestream run --quiet --no-store -- true`", plain, 1,
		(const char *const[]){j, "run", "--quiet", "--no-store", "--", "true", NULL});
	cmd_set(&cmds[n++], "`joulestream run --quiet -- true` (SQLite store)", plain, 1,
		(const char *const[]){j, "run", "--quiet", "--", "true", NULL});
	if (o->git_repo)
		cmd_set(&cmds[n++],
			"`joulestream run --quiet --no-store -- true` in a git repository",
			o->git_repo, 1,
			(const char *const[]){j, "run", "--quiet", "--no-store", "--", "true",
					      NULL});
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (cmd_alloc(&cmds[i], o->reps) < 0)
			rc = -1;
	if (rc == 0)
		rc = run_all(cmds, n, o->reps);
	if (rc < 0)
		goto out;

	printf("%u runs of each, interleaved (after %u warm-up rounds); wall time from spawn to "
	       "wait, CPU (user + sys) and peak RSS from wait4(), children included (a peak RSS "
	       "near the spawner's own, %.2f MB, may be the spawner's: exec carries it over).\n\n",
	       o->reps, WARMUP, self_hwm_mb());
	printf("| command | runs | median (ms) | p90 (ms) | added: median − `true` (ms) | "
	       "CPU, median (ms) | peak RSS, max (MB) |\n|---|---|---|---|---|---|---|\n");
	double base = 0;
	double added[CMDS_MAX] = {0};
	for (size_t i = 0; i < n; i++) {
		struct cmd *c = &cmds[i];
		double med = median(c->wall_s, c->n), p = p90(c->wall_s, c->n);
		double cpu = median(c->cpu_s, c->n);
		if (i == 0)
			base = med;
		added[i] = med - base;
		printf("| %s | %zu%s | %.2f | %.2f | %s%.2f | %.2f | %.2f |\n", c->label, c->n,
		       c->failed ? " (some failed!)" : "", med * 1e3, p * 1e3, i ? "+" : "",
		       added[i] * 1e3, cpu * 1e3, max_rss_mb(c));
		if (c->failed)
			rc = -1;
	}
	printf("\n");
	FILE *f = summary_file(o);
	if (f) {
		for (size_t i = 1; i < n; i++)
			fprintf(f,
				"| wall time added to `true`: %s | < %.0f ms | %.2f ms (median) | %s |\n",
				cmds[i].label, TARGET_ADDED_MS, added[i] * 1e3,
				added[i] * 1e3 < TARGET_ADDED_MS ? "met" : "**missed**");
		double rss = max_rss_mb(&cmds[2]);
		fprintf(f,
			"| peak RSS, `joulestream run -- true` with the store (max of %zu runs) | < %.0f MB | "
			"%.2f MB | %s |\n",
			cmds[2].n, TARGET_RSS_MB, rss, rss < TARGET_RSS_MB ? "met" : "**missed**");
		fclose(f);
	}
out:
	for (size_t i = 0; i < n; i++)
		cmd_free(&cmds[i]);
	return rc;
}

static const char *const intervals[] = {"1s", "100ms", "10ms", "1ms"};
static const unsigned interval_hz[] = {1, 10, 100, 1000};
#define NINTERVALS 4

/* `sleep S` alone and under `joulestream run --interval I` with the fixture sensors; the same
 * with `true`, whose difference is the start-up and exit cost, taken out of the per-tick figure. */
static int sustained(const struct opts *o)
{
	char secs[16], label[160];
	snprintf(secs, sizeof secs, "%u", o->seconds);
	const char *j = o->jst, *fx = o->sysfs_root;
	struct cmd cmds[2 + 2 * NINTERVALS];
	size_t n = 0;
	snprintf(label, sizeof label, "`sleep %s`", secs);
	cmd_set(&cmds[n++], label, o->tmp, 1, (const char *const[]){"sleep", secs, NULL});
	cmd_set(&cmds[n++], "`true`", o->tmp, 5, (const char *const[]){"true", NULL});
	for (size_t i = 0; i < NINTERVALS; i++) {
		snprintf(label, sizeof label, "%s sleep", intervals[i]);
		cmd_set(&cmds[n++], label, o->tmp, 1,
			(const char *const[]){j, "run", "--quiet", "--no-store", "--sysfs-root", fx,
					      "--sensors", "rapl", "--no-estimate", "--interval",
					      intervals[i], "--", "sleep", secs, NULL});
		snprintf(label, sizeof label, "%s true", intervals[i]);
		cmd_set(&cmds[n++], label, o->tmp, 5,
			(const char *const[]){j, "run", "--quiet", "--no-store", "--sysfs-root", fx,
					      "--sensors", "rapl", "--no-estimate", "--interval",
					      intervals[i], "--", "true", NULL});
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (cmd_alloc(&cmds[i], o->reps) < 0)
			rc = -1;
	if (rc == 0)
		rc = run_all(cmds, n, o->reps);
	if (rc < 0)
		goto out;

	double sleep_cpu = median(cmds[0].cpu_s, cmds[0].n),
	       true_cpu = median(cmds[1].cpu_s, cmds[1].n);
	printf("`joulestream run --quiet --no-store --sysfs-root FIXTURE --sensors rapl --no-estimate "
	       "--interval I -- sleep %u`, %u run%s per interval (interleaved); the tree is one process. "
	       "*CPU over the run*: its median CPU minus that of `sleep %u` alone; *start-up + exit*: "
	       "the same with `true` as the command (%u runs); *CPU per tick*: the difference of the two "
	       "÷ the nominal ticks; peak RSS as in section 2 (spawner's own %.2f MB).\n\n",
	       o->seconds, o->reps, o->reps == 1 ? "" : "s", o->seconds, o->reps * 5,
	       self_hwm_mb());
	printf("| interval | nominal ticks | CPU over the run (ms) | start-up + exit (ms) | "
	       "CPU per tick (µs) | %% of a core while running | peak RSS, max (MB) |\n"
	       "|---|---|---|---|---|---|---|\n");
	double tick_1ms = 0, rss = 0;
	for (size_t i = 0; i < NINTERVALS; i++) {
		struct cmd *cs = &cmds[2 + 2 * i], *ct = &cmds[3 + 2 * i];
		double run_cpu = median(cs->cpu_s, cs->n) - sleep_cpu;
		double start_cpu = median(ct->cpu_s, ct->n) - true_cpu;
		double ticks = (double)o->seconds * interval_hz[i];
		double per_tick = (run_cpu - start_cpu) / ticks;
		if (interval_hz[i] == 1000)
			tick_1ms = per_tick;
		double m = max_rss_mb(cs);
		if (m > rss)
			rss = m;
		/* start-up noise is larger than a few ticks: see the in-process figures */
		if (ticks < 10)
			printf("| %s | %.0f | %.2f | %.2f | too few ticks | too few ticks | %.2f |\n",
			       intervals[i], ticks, run_cpu * 1e3, start_cpu * 1e3, m);
		else
			printf("| %s | %.0f | %.2f | %.2f | %.1f | %.2f %% | %.2f |\n",
			       intervals[i], ticks, run_cpu * 1e3, start_cpu * 1e3, per_tick * 1e6,
			       (run_cpu - start_cpu) / (double)o->seconds * 100, m);
		if (cs->failed || ct->failed) {
			fprintf(stderr, "bench_exec: some runs at %s failed\n", intervals[i]);
			rc = -1;
		}
	}
	printf("\n");
	FILE *f = summary_file(o);
	if (f) {
		fprintf(f,
			"| CPU per sample, `joulestream run --interval 1ms` (1-process tree, cross-check) "
			"| < %.0f µs | %.1f µs | %s |\n",
			TARGET_CPU_US, tick_1ms * 1e6,
			tick_1ms * 1e6 < TARGET_CPU_US ? "met" : "**missed**");
		fprintf(f,
			"| peak RSS, `joulestream run -- sleep %u` at any interval | < %.0f MB | %.2f MB | %s |\n",
			o->seconds, TARGET_RSS_MB, rss, rss < TARGET_RSS_MB ? "met" : "**missed**");
		fclose(f);
	}
out:
	for (size_t i = 0; i < n; i++)
		cmd_free(&cmds[i]);
	return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"jst", required_argument, 0, 'j'},        {"tmp", required_argument, 0, 't'},
		{"sysfs-root", required_argument, 0, 's'}, {"git-repo", required_argument, 0, 'g'},
		{"summary", required_argument, 0, 'S'},    {"reps", required_argument, 0, 'r'},
		{"seconds", required_argument, 0, 'n'},    {0, 0, 0, 0},
	};
	*o = (struct opts){.reps = 200, .seconds = 2};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o->jst = optarg; break;
		case 't': o->tmp = optarg; break;
		case 's': o->sysfs_root = optarg; break;
		case 'g': o->git_repo = optarg; break;
		case 'S': o->summary = optarg; break;
		case 'r': o->reps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o->seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return -1;
		}
	}
	if (optind + 1 != argc || !o->jst || !o->tmp || o->reps == 0 || o->seconds == 0)
		return -1;
	o->mode = argv[optind];
	if (strcmp(o->mode, "sustained") == 0 && !o->sysfs_root)
		return -1;
	return strcmp(o->mode, "startup") == 0 || strcmp(o->mode, "sustained") == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: bench_exec --jst BIN --tmp DIR [--reps N] [--git-repo DIR] [--summary FILE] startup\n"
			"       bench_exec --jst BIN --tmp DIR --sysfs-root FIXTURE [--reps N] [--seconds S] "
			"[--summary FILE] sustained\n");
		return 2;
	}
	int rc = strcmp(o.mode, "startup") == 0 ? startup(&o) : sustained(&o);
	return rc < 0 ? 1 : 0;
}
