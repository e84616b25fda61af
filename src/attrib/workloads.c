/* The agent's per-workload CPU accounting (workload.h): one pass over /proc per scan, each
 * process's CPU time delta added to its workload's. A process's key is read once, when it is
 * first seen (its cgroup and environment do not change in practice). CPU time of a process
 * that exits between two scans is not seen; it stays with the host, never with a workload, so
 * the sum over workloads cannot exceed the host. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrib/procstat.h"
#include "attrib/workload.h"
#include "core/util.h"

struct proc {
	pid_t pid;
	uint64_t start, cpu;
	uint32_t comm;              /* hash of its name: an exec changes it */
	char key[JST_WORKLOAD_KEY]; /* "" = the host's */
};

struct jst_workloads {
	char root[512];
	struct proc *old, *cur;
	size_t nold, ncur, cap;
	struct jst__cpu_stat host;
	bool primed;
	double tick_s;
};

int jst__workloads_new(struct jst_workloads **out, const char *procfs_root)
{
	struct jst_workloads *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	jst__strlcpy(w->root, procfs_root && *procfs_root ? procfs_root : "/", sizeof(w->root));
	long hz = sysconf(_SC_CLK_TCK);
	w->tick_s = 1.0 / (double)(hz > 0 ? hz : 100);
	*out = w;
	return 0;
}

void jst__workloads_free(struct jst_workloads *w)
{
	if (!w)
		return;
	free(w->old);
	free(w->cur);
	free(w);
}

static int by_pid(const void *a, const void *b)
{
	pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
	return x < y ? -1 : x > y;
}

static void read_key(struct jst_workloads *w, pid_t pid, char *key)
{
	char path[600], buf[8192];
	key[0] = '\0';
	if (jst__path(path, sizeof(path), w->root, "/proc/%d/environ", (int)pid) == 0) {
		ssize_t n = jst__read_file(path, buf, sizeof(buf));
		if (n > 0 && jst__environ_run(buf, (size_t)n, key, JST_WORKLOAD_KEY))
			return;
	}
	if (jst__path(path, sizeof(path), w->root, "/proc/%d/cgroup", (int)pid) == 0) {
		ssize_t n = jst__read_file(path, buf, sizeof(buf));
		if (n > 0)
			jst__cgroup_workload(buf, (size_t)n, key, JST_WORKLOAD_KEY);
	}
}

/* Adds cpu_s to key's entry in out. */
static void add_use(struct jst_workload_use *out, size_t max, size_t *n, const char *key, double cpu_s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i].key, key) == 0) {
			out[i].cpu_s += cpu_s;
			return;
		}
	if (*n == max)
		return;
	jst__strlcpy(out[*n].key, key, JST_WORKLOAD_KEY);
	out[(*n)++].cpu_s = cpu_s;
}

/* FNV-1a of the name between the first '(' and the last ')' of a stat line. */
static uint32_t comm_hash(const char *p, size_t n)
{
	const char *a = memchr(p, '(', n), *b = NULL;
	for (const char *q = p + n; q > p; q--)
		if (q[-1] == ')') {
			b = q - 1;
			break;
		}
	uint32_t h = 2166136261u;
	for (const char *q = a ? a + 1 : p; b && q < b; q++)
		h = (h ^ (unsigned char)*q) * 16777619u;
	return h;
}

static int one_pid(struct jst_workloads *w, pid_t pid, struct jst_workload_use *out, size_t max, size_t *n)
{
	char path[600], buf[1024];
	if (jst__path(path, sizeof(path), w->root, "/proc/%d/stat", (int)pid) < 0)
		return 0;
	ssize_t len = jst__read_file(path, buf, sizeof(buf));
	struct jst__pid_stat ps;
	if (len <= 0 || jst__parse_pid_stat(buf, (size_t)len, &ps) < 0)
		return 0; /* gone meanwhile */
	if (w->ncur == w->cap) {
		size_t c = w->cap ? w->cap * 2 : 512;
		struct proc *a = realloc(w->cur, c * sizeof(*a)), *b = realloc(w->old, c * sizeof(*b));
		if (a)
			w->cur = a;
		if (b)
			w->old = b;
		if (!a || !b)
			return -ENOMEM;
		w->cap = c;
	}
	struct proc *p = &w->cur[w->ncur++];
	p->pid = pid;
	p->start = ps.starttime;
	p->cpu = ps.utime + ps.stime;
	p->comm = comm_hash(buf, (size_t)len);
	struct proc probe = {.pid = pid};
	const struct proc *o = w->nold ? bsearch(&probe, w->old, w->nold, sizeof(probe), by_pid) : NULL;
	/* the same process: its key is kept, unless it had none and has exec'd since (seen between
	 * fork and exec, it had its parent's environment, without JOULESTREAM_RUN_ID) */
	if (o && o->start == p->start && (o->key[0] || o->comm == p->comm)) {
		memcpy(p->key, o->key, sizeof(p->key));
		if (p->key[0] && p->cpu > o->cpu)
			add_use(out, max, n, p->key, (double)(p->cpu - o->cpu) * w->tick_s);
		return 0;
	}
	read_key(w, pid, p->key);
	if (p->key[0] && w->primed)
		add_use(out, max, n, p->key, (double)p->cpu * w->tick_s); /* started since the last scan */
	return 0;
}

const char *jst__workloads_key(const struct jst_workloads *w, pid_t pid)
{
	struct proc probe = {.pid = pid};
	const struct proc *p = w->nold ? bsearch(&probe, w->old, w->nold, sizeof(probe), by_pid) : NULL;
	return p ? p->key : "";
}

int jst__workloads_scan(struct jst_workloads *w, struct jst_workload_use *out, size_t max, size_t *n,
                        double *host_total_s, double *host_busy_s)
{
	char path[600], buf[4096];
	*n = 0;
	*host_total_s = *host_busy_s = 0;
	struct jst__cpu_stat cs;
	if (jst__path(path, sizeof(path), w->root, "/proc/stat") < 0)
		return -ENAMETOOLONG;
	ssize_t len = jst__read_file(path, buf, sizeof(buf));
	if (len <= 0 || jst__parse_cpu_stat(buf, (size_t)len, &cs) < 0)
		return -EIO;
	if (jst__path(path, sizeof(path), w->root, "/proc") < 0)
		return -ENAMETOOLONG;
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	w->ncur = 0;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		uint64_t pid;
		if (!isdigit((unsigned char)e->d_name[0]) || jst__parse_u64(e->d_name, strlen(e->d_name), &pid) < 0)
			continue;
		r = one_pid(w, (pid_t)pid, out, max, n);
	}
	closedir(d);
	qsort(w->cur, w->ncur, sizeof(*w->cur), by_pid);
	struct proc *t = w->old;
	w->old = w->cur;
	w->cur = t;
	w->nold = w->ncur;
	if (w->primed && cs.total >= w->host.total && cs.idle >= w->host.idle) {
		*host_total_s = (double)(cs.total - w->host.total) * w->tick_s;
		*host_busy_s = *host_total_s - (double)(cs.idle - w->host.idle) * w->tick_s;
	}
	if (!w->primed)
		*n = 0;
	w->host = cs;
	w->primed = true;
	return r;
}
