/* The process tree on a fixture procfs (tests/fixtures/procfs-tree, copied to a temporary
 * directory and rewritten between samples): the /proc parsers, membership with and without the
 * reaper, exact CPU deltas in clock ticks, continuity when a child is reaped, pid reuse, the
 * rescan interval and the budget of open stat files. Live processes are in
 * test_attrib_live.c, the sharing model in test_attrib_share.c. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib/procstat.h"
#include "attrib/proctree.h"
#include "attrib/workload.h"
#include "check.h"
#include "joulestream/attrib.h"

static double hz;
static char tmp[256];

static void copy_tree(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	if (!d) {
		fprintf(stderr, "cannot open fixture %s\n", src);
		exit(2);
	}
	mkdir(dst, 0755);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char s[1024], t[1024];
		snprintf(s, sizeof s, "%s/%s", src, de->d_name);
		snprintf(t, sizeof t, "%s/%s", dst, de->d_name);
		struct stat st;
		if (stat(s, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			copy_tree(s, t);
			continue;
		}
		FILE *in = fopen(s, "rb"), *out = fopen(t, "wb");
		char buf[4096];
		size_t n;
		while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
			fwrite(buf, 1, n, out);
		if (in)
			fclose(in);
		if (out)
			fclose(out);
	}
	closedir(d);
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char s[1024];
			snprintf(s, sizeof s, "%s/%s", path, de->d_name);
			remove_tree(s);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* A fresh copy of the fixture in tmp. */
static void fresh_tree(void)
{
	if (tmp[0])
		remove_tree(tmp);
	snprintf(tmp, sizeof tmp, "/tmp/jst-attrib-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(2);
	}
	const char *fx = getenv("JST_FIXTURES");
	char src[512];
	snprintf(src, sizeof src, "%s/procfs-tree/proc", fx ? fx : "tests/fixtures");
	char dst[512];
	snprintf(dst, sizeof dst, "%s/proc", tmp);
	copy_tree(src, dst);
}

static void write_stat_in(const char *name, int pid, const char *comm, char state, int ppid, int ut,
			  int st, int cut, int cst, int start)
{
	char path[512];
	snprintf(path, sizeof path, "%s/proc/%s", tmp, name);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/proc/%s/stat", tmp, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fprintf(f,
		"%d (%s) %c %d %d %d 0 -1 4194560 100 0 0 0 %d %d %d %d 20 0 1 0 %d 10000000 "
		"500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		pid, comm, state, ppid, pid, pid, ut, st, cut, cst, start);
	fclose(f);
}

/* Rewrites (in place, so that an open descriptor sees it) or creates proc/PID/stat. */
static void write_stat(int pid, const char *comm, char state, int ppid, int ut, int st, int cut,
		       int cst, int start)
{
	char name[16];
	snprintf(name, sizeof name, "%d", pid);
	write_stat_in(name, pid, comm, state, ppid, ut, st, cut, cst, start);
}

static void remove_proc(int pid)
{
	char path[512];
	snprintf(path, sizeof path, "%s/proc/%d", tmp, pid);
	remove_tree(path);
}

/* A new process under an old pid, as procfs shows it: a new directory (a new inode). */
static void replace_proc(int pid, const char *comm, char state, int ppid, int ut, int st, int start)
{
	write_stat_in(".new", pid, comm, state, ppid, ut, st, 0, 0, start);
	remove_proc(pid);
	char from[512], to[512];
	snprintf(from, sizeof from, "%s/proc/.new", tmp);
	snprintf(to, sizeof to, "%s/proc/%d", tmp, pid);
	if (rename(from, to) < 0) {
		perror("rename");
		exit(2);
	}
}

/* proc/stat with a non-zero guest field, which must not be counted twice. */
static void write_cpu(int user, int system, int idle, int iowait)
{
	char path[512];
	snprintf(path, sizeof path, "%s/proc/stat", tmp);
	FILE *f = fopen(path, "w");
	if (!f)
		exit(2);
	fprintf(f, "cpu  %d 0 %d %d %d 0 0 0 33 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\n", user,
		system, idle, iowait);
	fclose(f);
}

static void test_parsers(void)
{
	struct jst__pid_stat st;
	const char *l = "300 (a) b) R 200 300 300 0 -1 4194560 100 0 0 0 100 20 -5 7 -100 -20 1 0 "
			"1010 10000000 500 18446744073709551615\n";
	CHECK_INT(jst__parse_pid_stat(l, strlen(l), &st), 0);
	CHECK_INT(st.pid, 300);
	CHECK_INT(st.ppid, 200);
	CHECK_INT(st.state, 'R');
	CHECK_INT(st.utime, 100);
	CHECK_INT(st.stime, 20);
	CHECK_INT(st.cutime, 0); /* negative reads as 0 */
	CHECK_INT(st.cstime, 7);
	CHECK_INT(st.starttime, 1010);

	const char *odd = "7 () ) (x)) Z 1 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 99";
	CHECK_INT(jst__parse_pid_stat(odd, strlen(odd), &st), 0);
	CHECK_INT(st.state, 'Z');
	CHECK_INT(st.ppid, 1);
	CHECK_INT(st.utime + st.stime + st.cutime + st.cstime, 10);
	CHECK_INT(st.starttime, 99);
	/* the parser stops at n: the same line cut before field 22 is invalid */
	CHECK_INT(jst__parse_pid_stat(odd, strlen(odd) - 3, &st), -EINVAL);

	const char *bad[] = {"",
			     "abc",
			     "12 (x",
			     "12 x) S 1",
			     "x1 (a) S 1 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 9",
			     "1 (a) S 99999999999 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 9",
			     "1 (a) SS 1 1 1 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0 9",
			     "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 2 3 4 20 0 1 0 9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_INT(jst__parse_pid_stat(bad[i], strlen(bad[i]), &st), -EINVAL);

	struct jst__cpu_stat c;
	const char *cpu = "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 100 100 100 100\n";
	CHECK_INT(jst__parse_cpu_stat(cpu, strlen(cpu), &c), 0);
	CHECK_INT(c.total, 36); /* guest (9) and guest_nice (10) are inside user and nice */
	CHECK_INT(c.idle, 9);
	const char *old = "cpu  1 2 3 4\nintr 5";
	CHECK_INT(jst__parse_cpu_stat(old, strlen(old), &c), 0);
	CHECK_INT(c.total, 10);
	CHECK_INT(c.idle, 4);
	const char *badcpu[] = {"", "cpu0 1 2 3 4", "cpu  1 2 3", "cpu  1 2 3\n4 5",
				"intr 1 2 3 4"};
	for (size_t i = 0; i < sizeof badcpu / sizeof badcpu[0]; i++)
		CHECK_INT(jst__parse_cpu_stat(badcpu[i], strlen(badcpu[i]), &c), -EINVAL);
	const char *huge = "cpu  18446744073709551615 1 0 0";
	CHECK_INT(jst__parse_cpu_stat(huge, strlen(huge), &c), -ERANGE);
}

static const int in_run[] = {300, 301, 302, 303, 400, 401};
static const int never[] = {1, 2, 3, 100, 200, 250, 260, 500, 501};

static void test_membership(void)
{
	fresh_tree();
	/* a process that exited between readdir and open, and an unreadable one */
	char path[512];
	snprintf(path, sizeof path, "%s/proc/700", tmp);
	mkdir(path, 0755);
	write_stat_in("701", 701, "x", 'S', 300, 1, 1, 0, 0, 0);
	snprintf(path, sizeof path, "%s/proc/701/stat", tmp);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs("701 (cut", f);
		fclose(f);
	}
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 200), 0);
	CHECK_INT(jst_proctree_count(t), 1); /* the root, until the first sample */
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_INT(jst_proctree_count(t), 6);
	CHECK_INT(d.nprocs, 5); /* 303 is a zombie */
	for (size_t i = 0; i < sizeof in_run / sizeof in_run[0]; i++)
		CHECK(jst_proctree_has(t, in_run[i]));
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
		CHECK(!jst_proctree_has(t, never[i]));
	/* from the processes' start: 120 + 50 + 10 + 4 + 30 + 2 ticks; host since _new: none */
	CHECK_NEAR(d.run_s, 216 / hz, 1e-9);
	CHECK_NEAR(d.host_total_s, 0, 1e-12);
	jst_proctree_free(t);

	/* an agent (no reaper): only descendants of the root */
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 0), 0);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_INT(jst_proctree_count(t), 4);
	CHECK(jst_proctree_has(t, 303));
	CHECK(!jst_proctree_has(t, 400));
	CHECK(!jst_proctree_has(t, 401));
	CHECK(!jst_proctree_has(t, 200));
	CHECK_NEAR(d.run_s, 184 / hz, 1e-9);
	jst_proctree_free(t);

	/* a root whose parent chain is a cycle, and a reaper equal to the root */
	CHECK_INT(jst_proctree_new(&t, tmp, 250, 250), 0);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK(jst_proctree_has(t, 250));
	CHECK(jst_proctree_has(t, 260));
	CHECK(!jst_proctree_has(t, 300));
	jst_proctree_free(t);

	CHECK_INT(jst_proctree_new(&t, tmp, 999, 0), -ESRCH);
	CHECK(t == NULL);
	CHECK_INT(jst_proctree_new(&t, "/nonexistent-jst-root", 300, 0), -ENOENT);
	CHECK_INT(jst_proctree_new(&t, tmp, 0, 0), -EINVAL);
	CHECK_INT(jst_proctree_new(&t, tmp, 300, -1), -EINVAL);
	CHECK(!jst_proctree_has(NULL, 300));
	CHECK_INT(jst_proctree_count(NULL), 0);
	CHECK_INT(jst_proctree_sample(NULL, 0, &d), -EINVAL);
}

/* The run with the monitor as reaper, sample after sample, every delta exact. */
static void test_sequence(unsigned fd_max)
{
	fresh_tree();
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 200), 0);
	jst__proctree_set_rescan_ns(t, 0);
	jst__proctree_set_fd_max(t, fd_max);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 216 / hz, 1e-9);
	CHECK(jst__proctree_open_fds(t) <= (fd_max > 1 ? fd_max : 1));

	/* host: +100 user +50 system +40 idle +10 iowait; run: +30 root, +10 worker */
	write_cpu(1100, 550, 8040, 110);
	write_stat(300, "a) b", 'R', 200, 130, 20, 0, 0, 1010);
	write_stat(301, "worker (1)", 'R', 300, 50, 10, 0, 0, 1020);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 40 / hz, 1e-9);
	CHECK_NEAR(d.host_total_s, 200 / hz, 1e-9);
	CHECK_NEAR(d.host_busy_s, 150 / hz, 1e-9);
	CHECK_INT(d.nprocs, 5);

	/* 302 used 2 more ticks and was reaped by 301; the zombie 303 was reaped by the root:
	 * their time moves into the parents' cutime, the sum only grows by the 2 new ticks */
	remove_proc(302);
	write_stat(301, "worker (1)", 'S', 300, 50, 10, 12, 0, 1020);
	remove_proc(303);
	write_stat(300, "a) b", 'R', 200, 130, 20, 3, 1, 1010);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 2 / hz, 1e-9);
	CHECK_NEAR(d.host_total_s, 0, 1e-12);
	/* gone, but members during the interval this sample closed (a GPU they used until they
	 * exited was the run's then); not after the next sample */
	CHECK(jst_proctree_has(t, 302));
	CHECK(jst_proctree_has(t, 303));
	CHECK(!jst_proctree_has(t, 304));
	CHECK_INT(jst_proctree_count(t), 4);

	/* pid reuse: 401 (reaped by 400) is now an unrelated process; 302 a new child of root */
	write_stat(401, "other", 'S', 500, 3, 0, 0, 0, 3000);
	write_stat(400, "d", 'R', 200, 30, 0, 2, 0, 1040);
	write_stat(302, "new (302)", 'R', 300, 6, 1, 0, 0, 2000);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 7 / hz, 1e-9);
	CHECK(!jst_proctree_has(t, 401));
	CHECK(jst_proctree_has(t, 302));
	CHECK(!jst_proctree_has(t, 303));
	CHECK_INT(jst_proctree_count(t), 4);

	/* the reaper reaped 400 (32 ticks seen) but the caller's reaped_s does not show it yet,
	 * while 301 used 5 ticks: no negative delta, and the 5 ticks are not lost */
	remove_proc(400);
	write_stat(301, "worker (1)", 'S', 300, 55, 10, 12, 0, 1020);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 0, 1e-12);
	CHECK_INT(jst_proctree_count(t), 3);
	/* now reaped_s has 400's final 35 ticks: 3 new ones + the 5 of 301 */
	CHECK_INT(jst_proctree_sample(t, 35 / hz, &d), 0);
	CHECK_NEAR(d.run_s, 8 / hz, 1e-9);
	CHECK_INT(jst_proctree_sample(t, 35 / hz, &d), 0);
	CHECK_NEAR(d.run_s, 0, 1e-12);
	write_stat(300, "a) b", 'R', 200, 140, 20, 3, 1, 1010);
	CHECK_INT(jst_proctree_sample(t, 35 / hz, &d), 0);
	CHECK_NEAR(d.run_s, 10 / hz, 1e-9);
	CHECK(jst__proctree_open_fds(t) <= (fd_max > 1 ? fd_max : 1));
	jst_proctree_free(t);
}

/* Agent mode: an orphan adopted by init stays in the run, and its CPU time stays counted
 * after init reaps it. */
static void test_lost_orphan(void)
{
	fresh_tree();
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 0), 0);
	jst__proctree_set_rescan_ns(t, 0);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 184 / hz, 1e-9);
	write_stat(301, "worker (1)", 'R', 1, 45, 10, 0, 0, 1020);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 5 / hz, 1e-9);
	CHECK(jst_proctree_has(t, 301));
	CHECK(jst_proctree_has(t, 302));
	remove_proc(301);
	write_stat(302, "x) (y) z", 'S', 1, 5, 5, 0, 0, 1030);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 0, 1e-12);
	CHECK(jst_proctree_has(t, 302));
	write_stat(300, "a) b", 'R', 200, 110, 20, 0, 0, 1010);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 10 / hz, 1e-9);
	jst_proctree_free(t);
}

/* Between rescans tracked processes are still read; new ones wait for the next rescan. */
static void test_rescan_policy(void)
{
	fresh_tree();
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 200), 0);
	jst__proctree_set_rescan_ns(t, UINT64_MAX / 2);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0); /* the first sample always scans */
	CHECK_INT(jst_proctree_count(t), 6);
	write_stat(600, "late", 'R', 300, 8, 1, 0, 0, 1100);
	write_stat(300, "a) b", 'R', 200, 101, 20, 0, 0, 1010);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 1 / hz, 1e-9);
	CHECK(!jst_proctree_has(t, 600));
	jst__proctree_set_rescan_ns(t, 0);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK(jst_proctree_has(t, 600));
	CHECK_NEAR(d.run_s, 9 / hz, 1e-9); /* its time from its start */

	/* a process found outside the run is not read again while its directory is the same
	 * (a change no real process can make, to show that it is not read) ... */
	write_stat(501, "un child", 'S', 300, 1, 1, 0, 0, 950);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK(!jst_proctree_has(t, 501));
	CHECK_NEAR(d.run_s, 0, 1e-12);
	/* ... but a new process under its pid (a new directory) is */
	replace_proc(501, "new child", 'R', 300, 4, 0, 3000);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK(jst_proctree_has(t, 501));
	CHECK_NEAR(d.run_s, 4 / hz, 1e-9);
	/* its old parent stays outside */
	CHECK(!jst_proctree_has(t, 500));
	jst_proctree_free(t);
}

/* Enough processes to grow the tables and exceed the budget of open files: a chain 150 deep
 * under the root and 150 children of the adopted orphan. */
static void test_many(void)
{
	fresh_tree();
	for (int i = 0; i < 300; i++) {
		int ppid = i < 150 ? (i == 0 ? 300 : 1000 + i - 1) : 400;
		write_stat(1000 + i, "many", 'S', ppid, 1, 0, 0, 0, 5000 + i);
	}
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, tmp, 300, 200), 0);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_INT(jst_proctree_count(t), 306);
	CHECK_NEAR(d.run_s, 516 / hz, 1e-9);
	CHECK(jst__proctree_open_fds(t) <= 256);
	CHECK(jst_proctree_has(t, 1149));
	CHECK(jst_proctree_has(t, 1299));
	for (int i = 0; i < 300; i++)
		write_stat(1000 + i, "many", 'S', i < 150 ? (i == 0 ? 300 : 1000 + i - 1) : 400, 2,
			   0, 0, 0, 5000 + i);
	CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	CHECK_NEAR(d.run_s, 300 / hz, 1e-9);
	jst_proctree_free(t);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* A process first seen between fork and exec has its parent's environment, without
 * JOULESTREAM_RUN_ID: once it has exec'd (its name changed), its run is read again; a process
 * that kept its name keeps the key it was first given. */
static void write_text(const char *root, const char *rel, const char *text, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fwrite(text, 1, n, f);
		fclose(f);
	}
}

static void test_workload_after_exec(void)
{
	char root[] = "/tmp/jst-wl-XXXXXX", dir[600];
	CHECK(mkdtemp(root) != NULL);
	snprintf(dir, sizeof(dir), "%s/proc", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/proc/42", root);
	mkdir(dir, 0755);
	const char cpu[] = "cpu  1000 0 500 8000 100 0 0 0 0 0\n";
	const char before[] = "42 (joulestream) S 1 42 42 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 777 0 0\n";
	const char after[] = "42 (sh) S 1 42 42 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 777 0 0\n";
	const char env0[] = "HOME=/root\0PATH=/bin\0";
	const char env1[] = "HOME=/root\0JOULESTREAM_RUN_ID=RUNX1\0PATH=/bin\0";
	write_text(root, "proc/stat", cpu, sizeof(cpu) - 1);
	write_text(root, "proc/42/stat", before, sizeof(before) - 1);
	write_text(root, "proc/42/environ", env0, sizeof(env0) - 1);
	struct jst_workloads *w;
	struct jst_workload_use use[4];
	size_t n;
	double total, busy;
	CHECK_INT(jst__workloads_new(&w, root), 0);
	CHECK_INT(jst__workloads_scan(w, use, 4, &n, &total, &busy), 0);
	CHECK_STR(jst__workloads_key(w, 42), ""); /* forked, not exec'd yet */
	write_text(root, "proc/42/environ", env1, sizeof(env1) - 1);
	CHECK_INT(jst__workloads_scan(w, use, 4, &n, &total, &busy), 0);
	CHECK_STR(jst__workloads_key(w, 42), ""); /* the same image: the key is not read again */
	write_text(root, "proc/42/stat", after, sizeof(after) - 1);
	CHECK_INT(jst__workloads_scan(w, use, 4, &n, &total, &busy), 0);
	CHECK(strstr(jst__workloads_key(w, 42), "RUNX1") != NULL); /* exec'd: its run is read */
	jst__workloads_free(w);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_INT(system(cmd), 0);
}

int main(void)
{
	int fds = count_fds();
	long tck = sysconf(_SC_CLK_TCK);
	hz = tck > 0 ? (double)tck : 100.0;
	test_parsers();
	test_membership();
	test_sequence(256);
	test_sequence(1);
	test_lost_orphan();
	test_rescan_policy();
	test_many();
	test_workload_after_exec();
	if (tmp[0])
		remove_tree(tmp);
	CHECK_INT(count_fds(), fds); /* every stat file closed */
	return check_done();
}
