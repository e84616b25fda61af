/* The process tree on the live /proc with real processes, the way `joulestream run` uses it:
 * this test makes itself a subreaper, forks a root that double-forks a grandchild, which
 * setsid()s and burns CPU after the middle process exited. The grandchild must be found in the
 * run, the run's CPU time must be positive, no more than the host's busy time, and continuous
 * when processes are reaped. Only sanity relations are checked, never how long things take. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attrib/proctree.h"
#include "check.h"
#include "joulestream/attrib.h"

#define SPIN_S 0.3
#define GIVE_UP_MS 10000 /* only so that a broken tree cannot hang the test */

static double hz;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns s seconds of this process's own CPU time, however long that takes on the clock. */
static void spin_cpu(double s)
{
	volatile unsigned long x = 0;
	double start = cpu_now();
	while (cpu_now() - start < s)
		for (int i = 0; i < 10000; i++)
			x = x + 1;
}

static double children_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void read_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(3);
		got += (size_t)r;
	}
}

static void write_byte(int fd)
{
	char c = 'x';
	while (write(fd, &c, 1) < 0 && errno == EINTR) {
	}
}

/* The grandchild: leaves the session, waits to be adopted by the reaper, reports its pid,
 * burns CPU, says so, then waits to be released. */
static void grandchild(pid_t reaper, int pid_w, int done_w, int release_r)
{
	setsid();
	while (getppid() != reaper)
		usleep(1000);
	pid_t me = getpid();
	if (write(pid_w, &me, sizeof me) != (ssize_t)sizeof me)
		_exit(3);
	spin_cpu(SPIN_S);
	write_byte(done_w);
	char c;
	read_exact(release_r, &c, 1);
	_exit(0);
}

struct totals {
	double run_s, busy_s, total_s;
	unsigned samples;
};

static void sample(struct jst_proctree *t, double reaped_s, struct totals *tot,
		   struct jst_cpu_times *d)
{
	CHECK_INT(jst_proctree_sample(t, reaped_s, d), 0);
	CHECK(d->run_s >= 0);
	CHECK(d->host_busy_s >= 0 && d->host_busy_s <= d->host_total_s);
	tot->run_s += d->run_s;
	tot->busy_s += d->host_busy_s;
	tot->total_s += d->host_total_s;
	tot->samples++;
}

/* The root, a middle process that exits at once, and the grandchild it leaves behind. */
struct family {
	pid_t root, gc;
	int p_pid[2], p_done[2], p_gc[2], p_root[2];
};

static int spawn(struct family *f, pid_t reaper)
{
	if (pipe(f->p_pid) || pipe(f->p_done) || pipe(f->p_gc) || pipe(f->p_root))
		return -1;
	f->gc = 0;
	f->root = fork();
	if (f->root == 0) {
		pid_t mid = fork();
		if (mid == 0) {
			if (fork() == 0)
				grandchild(reaper, f->p_pid[1], f->p_done[1], f->p_gc[0]);
			_exit(0); /* the grandchild is now an orphan of the run */
		}
		waitpid(mid, NULL, 0);
		char c;
		read_exact(f->p_root[0], &c, 1);
		_exit(0);
	}
	return f->root > 0 ? 0 : -1;
}

/* Kills what is left after a failed check, so that nothing outlives the test. */
static void kill_family(struct family *f)
{
	if (f->gc > 0 && kill(f->gc, SIGKILL) == 0)
		waitpid(f->gc, NULL, 0);
	if (f->root > 0 && kill(f->root, SIGKILL) == 0)
		waitpid(f->root, NULL, 0);
}

/* Samples until the grandchild is in the tree, then while it burns CPU. */
static void follow_grandchild(struct jst_proctree *t, struct family *f, double base,
			      struct totals *tot, struct jst_cpu_times *d)
{
	read_exact(f->p_pid[0], &f->gc, sizeof f->gc);
	/* found at a later rescan (at most JST__RESCAN_NS after the previous one) */
	int waited = 0;
	for (; !jst_proctree_has(t, f->gc) && waited < GIVE_UP_MS; waited += 10) {
		usleep(10000);
		sample(t, children_cpu() - base, tot, d);
	}
	CHECK(jst_proctree_has(t, f->gc));
	CHECK(jst_proctree_has(t, f->root));
	CHECK(!jst_proctree_has(t, getpid())); /* the reaper is not the run */
	CHECK(!jst_proctree_has(t, getppid()));
	CHECK(d->nprocs >= 2);
	struct pollfd pf = {.fd = f->p_done[0], .events = POLLIN};
	for (waited = 0; poll(&pf, 1, 20) == 0 && waited < GIVE_UP_MS; waited += 20)
		sample(t, children_cpu() - base, tot, d);
	sample(t, children_cpu() - base, tot, d);
	CHECK(jst_proctree_has(t, f->gc));
}

int main(void)
{
	long tck = sysconf(_SC_CLK_TCK);
	hz = tck > 0 ? (double)tck : 100.0;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("prctl(PR_SET_CHILD_SUBREAPER)");
		return 1;
	}
	double base = children_cpu();
	struct family f;
	CHECK_INT(spawn(&f, getpid()), 0);
	struct jst_proctree *t = NULL;
	CHECK_INT(jst_proctree_new(&t, NULL, f.root, getpid()), 0);
	if (!t) {
		kill_family(&f);
		return check_done();
	}
	struct totals tot = {0};
	struct jst_cpu_times d;
	sample(t, 0, &tot, &d);
	CHECK(jst_proctree_has(t, f.root));
	follow_grandchild(t, &f, base, &tot, &d);

	/* no rescan from now on: an exit must be seen through the open stat file (ESRCH) */
	jst__proctree_set_rescan_ns(t, UINT64_MAX / 2);
	write_byte(f.p_gc[1]);
	CHECK_INT(waitpid(f.gc, NULL, 0), f.gc);        /* we are its reaper */
	CHECK(children_cpu() - base >= SPIN_S - 0.001); /* its own CPU time, by construction */
	sample(t, children_cpu() - base, &tot, &d);
	CHECK(jst_proctree_has(t, f.gc)); /* a member during the interval it exited in */
	CHECK(jst_proctree_has(t, f.root));

	write_byte(f.p_root[1]);
	CHECK_INT(waitpid(f.root, NULL, 0), f.root);
	double reaped = children_cpu() - base;
	sample(t, reaped, &tot, &d);
	CHECK_INT(jst_proctree_count(t), 0);
	CHECK_INT(d.nprocs, 0);
	CHECK(!jst_proctree_has(t, f.gc)); /* left two samples ago */
	CHECK(jst_proctree_has(t, f.root));
	sample(t, reaped, &tot, &d);
	CHECK_NEAR(d.run_s, 0, 1e-12);
	CHECK(!jst_proctree_has(t, f.root));

	/* everything is reaped now: what was handed out is the total, within clock-tick rounding
	 * (/proc reports truncated ticks, getrusage microseconds) */
	printf("samples %u: run %.3f s, reaped %.3f s, host busy %.3f s of %.3f s\n", tot.samples,
	       tot.run_s, reaped, tot.busy_s, tot.total_s);
	CHECK(tot.run_s > 0);
	CHECK(tot.run_s >= reaped - 1e-6);
	CHECK(tot.run_s <= reaped + 4 / hz);
	/* the run is part of the host's busy time (host and process counters are sampled apart:
	 * allow a few ticks) */
	CHECK(tot.run_s <= tot.busy_s + 4 / hz);
	jst_proctree_free(t);
	return check_done();
}
