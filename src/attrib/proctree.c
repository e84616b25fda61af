/* The run's process tree and its CPU time, from procfs under a configurable root. A rescan of
 * /proc finds new members (at the first sample, then at most every JST__RESCAN_NS, skipped while
 * /proc/loadavg says no process was created since the last one); between rescans only the
 * tracked processes are re-read, through their open /proc/PID/stat with pread.
 * Membership is sticky: a process seen in the run stays in it until it exits, even if it is
 * later reparented outside. Not here: cgroups, threads, per-process energy (see share.c). */
#include "attrib/proctree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrib/procstat.h"
#include "core/util.h"

#define TREE_MAX 65536u     /* processes tracked in one run; more are not counted */
#define SCAN_MAX (1u << 20) /* host processes looked at in one rescan */
#define FDS_MAX 256u        /* stat files kept open; the others are opened at each read */
#define DENTS_SIZE 32768u   /* getdents64 buffer */
#define STAT_BUF 1024u      /* a /proc/PID/stat line; fields past 22 may be cut, unused */
#define FULL_SCAN_NS 2000000000u /* a rescan at least this often, whatever loadavg says */

/* A tracked process. */
struct proc {
	pid_t pid, ppid;
	int fd; /* open /proc/PID/stat, or -1: opened at each read */
	char state;
	bool dead;      /* exited (or its pid was reused): dropped at the end of this sample */
	bool reused;    /* dead, and its pid already names another process */
	uint64_t start; /* starttime, ticks after boot */
	uint64_t ticks; /* utime + stime + cutime + cstime at the last read */
};

/* What a rescan knows of a process. OUT is final for that process: its ancestry can only
 * change by reparenting to an ancestor subreaper or init, never into the run. MAYBE_OUT is
 * the same verdict from an incomplete read (a parent gone meanwhile, a cycle), asked again at
 * the next rescan. */
enum mark { MARK_UNKNOWN, MARK_TRACKED, MARK_IN, MARK_OUT, MARK_MAYBE_OUT, MARK_BUSY };

/* A process seen by a rescan. */
struct seen {
	pid_t pid, ppid;
	uint64_t start;
	uint64_t ino;       /* d_ino of <root>/proc/PID: a new process gets a new inode */
	unsigned char mark; /* enum mark */
};

struct jst_proctree {
	int dirfd;  /* <root>/proc */
	int statfd; /* <root>/proc/stat */
	int loadfd; /* /proc/loadavg when root is "/", else -1 (its last pid is the reader's namespace) */
	uint64_t last_pid; /* the newest pid at the last rescan */
	pid_t reaper;
	double hz;
	struct proc *procs; /* sorted by pid */
	size_t n, cap;
	struct seen *seen; /* the last rescan, sorted by pid */
	size_t nseen, seen_cap;
	struct seen *prev; /* the one before: processes known to be outside are not read again */
	size_t nprev, prev_cap;
	char *dents;
	unsigned nfds, fd_max;
	uint64_t rescan_ns, last_scan_ns, last_full_ns;
	bool scanned;
	struct jst__cpu_stat host_prev;
	uint64_t gone_ticks; /* CPU time of members that exited and reached no tracked parent */
	pid_t *left;         /* members dropped by the last sample, sorted: they were in the run
	                      * during the interval that sample closed */
	size_t nleft, left_cap;
	double cum_s;        /* the highest cumulative run CPU time handed out so far */
};

/* Grows *arr (elements of size sz) to hold need, doubling, at most max. */
static int grow(void **arr, size_t *cap, size_t sz, size_t need, size_t max)
{
	if (need > max)
		return -E2BIG;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	if (c > max)
		c = max;
	void *p = realloc(*arr, c * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static int open_pid_stat(const struct jst_proctree *t, pid_t pid)
{
	char rel[32];
	snprintf(rel, sizeof rel, "%d/stat", (int)pid);
	int fd = openat(t->dirfd, rel, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Reads /proc/PID/stat through fd, or by path when fd < 0. A vanished process gives -ESRCH
 * (pread on its open file) or -ENOENT (by path); an empty file is taken as gone too. */
static int read_pid_stat(const struct jst_proctree *t, int fd, pid_t pid, struct jst__pid_stat *st)
{
	char buf[STAT_BUF];
	int own = -1;
	if (fd < 0) {
		own = fd = open_pid_stat(t, pid);
		if (fd < 0)
			return fd;
	}
	ssize_t r = jst__pread_all(fd, buf, sizeof buf);
	if (own >= 0)
		close(own);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return -ESRCH;
	if (jst__parse_pid_stat(buf, (size_t)r, st) < 0 || st->pid != pid)
		return -EINVAL;
	return 0;
}

static uint64_t stat_ticks(const struct jst__pid_stat *st)
{
	return st->utime + st->stime + st->cutime + st->cstime;
}

static ssize_t find_proc(const struct jst_proctree *t, pid_t pid)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->procs[mid].pid == pid)
			return (ssize_t)mid;
		if (t->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static ssize_t find_in(const struct seen *a, size_t n, pid_t pid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid].pid == pid)
			return (ssize_t)mid;
		if (a[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static ssize_t find_seen(const struct jst_proctree *t, pid_t pid)
{
	return find_in(t->seen, t->nseen, pid);
}

/* Starts tracking pid if it is still the process a rescan saw (same start time). */
static int track(struct jst_proctree *t, pid_t pid, uint64_t start)
{
	if (t->n >= TREE_MAX)
		return -E2BIG;
	if (t->n == t->cap) {
		void *p = t->procs;
		int r = grow(&p, &t->cap, sizeof *t->procs, t->n + 1, TREE_MAX);
		if (r < 0)
			return r;
		t->procs = p;
	}
	int fd = -1;
	if (t->nfds < t->fd_max) {
		fd = open_pid_stat(t, pid);
		if (fd < 0 && fd != -EMFILE && fd != -ENFILE)
			return fd; /* gone since the rescan */
		if (fd < 0)
			fd = -1; /* out of descriptors: read by path */
	}
	struct jst__pid_stat st;
	int r = read_pid_stat(t, fd, pid, &st);
	if (r == 0 && st.starttime != start)
		r = -ESRCH; /* the pid was reused since the rescan */
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (fd >= 0)
		t->nfds++;
	t->procs[t->n++] = (struct proc){.pid = pid,
					 .ppid = st.ppid,
					 .fd = fd,
					 .state = st.state,
					 .start = st.starttime,
					 .ticks = stat_ticks(&st)};
	return 0;
}

/* Re-reads every tracked process; those gone or replaced are marked dead. */
static void refresh(struct jst_proctree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct proc *p = &t->procs[i];
		struct jst__pid_stat st;
		int r = read_pid_stat(t, p->fd, p->pid, &st);
		if (r < 0 || st.starttime != p->start) {
			p->dead = true;
			p->reused = r == 0;
			continue;
		}
		p->ppid = st.ppid;
		p->state = st.state;
		p->ticks = stat_ticks(&st);
	}
}

/* In-place heapsort of the rescan by pid (no allocation; /proc lists pids in order already, a
 * fixture directory need not). */
static void sift(struct seen *a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1].pid > a[c].pid)
			c++;
		if (a[i].pid >= a[c].pid)
			return;
		struct seen tmp = a[i];
		a[i] = a[c];
		a[c] = tmp;
		i = c;
	}
}

static void sort_seen(struct seen *a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (size_t end = n; end-- > 1;) {
		struct seen tmp = a[0];
		a[0] = a[end];
		a[end] = tmp;
		sift(a, 0, end);
	}
}

/* Adds one /proc entry to the rescan. Tracked processes are not read again, nor those the
 * previous rescan found outside the run if their directory is the same inode: procfs gives a
 * new process a new one (ino 0 or 1 means unknown: read it). */
static int see(struct jst_proctree *t, pid_t pid, uint64_t ino)
{
	if (t->nseen == t->seen_cap) {
		void *p = t->seen;
		int r = grow(&p, &t->seen_cap, sizeof *t->seen, t->nseen + 1, SCAN_MAX);
		if (r < 0)
			return r;
		t->seen = p;
	}
	struct seen *s = &t->seen[t->nseen];
	ssize_t i = find_proc(t, pid);
	ssize_t j = ino > 1 ? find_in(t->prev, t->nprev, pid) : -1;
	if (i >= 0 && !t->procs[i].dead) {
		*s = (struct seen){pid, t->procs[i].ppid, t->procs[i].start, ino, MARK_TRACKED};
	} else if (j >= 0 && t->prev[j].ino == ino && t->prev[j].mark == MARK_OUT) {
		*s = t->prev[j];
	} else {
		struct jst__pid_stat st;
		if (read_pid_stat(t, -1, pid, &st) < 0)
			return 0; /* exited between readdir and open, or unreadable */
		*s = (struct seen){pid, st.ppid, st.starttime, ino, MARK_UNKNOWN};
		if (t->reaper > 0 && pid == t->reaper)
			s->mark = MARK_OUT;
	}
	t->nseen++;
	return 0;
}

static bool digits_to_pid(const char *name, pid_t *pid)
{
	uint64_t v;
	if (name[0] < '0' || name[0] > '9' || jst__parse_u64(name, strlen(name), &v) < 0 ||
	    v == 0 || v > INT32_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

/* Lists <root>/proc into t->seen, sorted by pid. Returns 0, -E2BIG when the host has more
 * processes than SCAN_MAX (the rest is not looked at), or the error of getdents64. */
static int list_procs(struct jst_proctree *t)
{
	struct seen *sw = t->prev;
	size_t cap = t->prev_cap;
	t->prev = t->seen;
	t->prev_cap = t->seen_cap;
	t->nprev = t->nseen;
	t->seen = sw;
	t->seen_cap = cap;
	t->nseen = 0;
	if (lseek(t->dirfd, 0, SEEK_SET) < 0)
		return -errno;
	bool sorted = true;
	for (;;) {
		ssize_t got = getdents64(t->dirfd, t->dents, DENTS_SIZE);
		if (got < 0)
			return errno == ENOENT ? 0 : -errno;
		if (got == 0)
			break;
		for (ssize_t off = 0; off < got;) {
			const struct dirent64 *de = (const struct dirent64 *)(t->dents + off);
			off += de->d_reclen;
			pid_t pid;
			if (!digits_to_pid(de->d_name, &pid))
				continue;
			int r = see(t, pid, de->d_ino);
			if (r < 0) {
				sort_seen(t->seen, t->nseen);
				return r;
			}
			if (t->nseen > 1 && t->seen[t->nseen - 2].pid >= t->seen[t->nseen - 1].pid)
				sorted = false;
		}
	}
	if (!sorted)
		sort_seen(t->seen, t->nseen);
	return 0;
}

/* Whether seen[i] belongs to the run: its parent chain reaches a tracked process or the
 * reaper. Every process on the chain is resolved on the way (each is walked once per scan). */
static void resolve(struct jst_proctree *t, size_t i)
{
	struct seen *s = t->seen;
	size_t cur = i;
	unsigned char res;
	while (s[cur].mark == MARK_UNKNOWN) {
		s[cur].mark = MARK_BUSY;
		pid_t pp = s[cur].ppid;
		if (t->reaper > 0 && pp == t->reaper) {
			res = MARK_IN;
			goto assign;
		}
		if (pp <= 0 || pp == s[cur].pid) {
			res = MARK_OUT; /* reached the top: init, kthreadd, another namespace */
			goto assign;
		}
		ssize_t j = find_seen(t, pp);
		if (j < 0) {
			res = MARK_MAYBE_OUT; /* the parent exited since, or was not listed */
			goto assign;
		}
		cur = (size_t)j;
	}
	switch (s[cur].mark) {
	case MARK_TRACKED:
	case MARK_IN: res = MARK_IN; break;
	case MARK_OUT: res = MARK_OUT; break;
	default: res = MARK_MAYBE_OUT; break; /* a cycle (racy read) or a doubtful parent */
	}
assign:
	for (cur = i; s[cur].mark == MARK_BUSY;) {
		s[cur].mark = res;
		ssize_t j = find_seen(t, s[cur].ppid);
		if (j < 0)
			break;
		cur = (size_t)j;
	}
}

/* A full rescan: tracked processes absent from /proc (or replaced) are marked dead, and
 * every other process is resolved. */
static int rescan(struct jst_proctree *t)
{
	int r = list_procs(t);
	if (r == 0) {
		/* gone processes whose open file still reads (fixture trees, never a live /proc) */
		for (size_t i = 0; i < t->n; i++) {
			struct proc *p = &t->procs[i];
			ssize_t j = find_seen(t, p->pid);
			if (j < 0 || t->seen[j].start != p->start) {
				p->dead = true;
				p->reused = j >= 0;
			}
		}
	}
	for (size_t i = 0; i < t->nseen; i++)
		if (t->seen[i].mark == MARK_UNKNOWN)
			resolve(t, i);
	return r;
}

/* Drops dead processes. Their CPU time leaves the sum: it comes back in the parent's cutime
 * when a tracked parent (or the reaper, through reaped_s) waited for them; otherwise (an orphan
 * reaped by init, a root waited for by a shell) it is kept in gone_ticks. */
static void settle(struct jst_proctree *t)
{
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct proc *p = &t->procs[i];
		if (!p->dead)
			continue;
		bool waited = (t->reaper > 0 && p->ppid == t->reaper) || find_proc(t, p->ppid) >= 0;
		if (!waited)
			t->gone_ticks += p->ticks;
	}
	t->nleft = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct proc *p = &t->procs[i];
		if (p->dead) {
			/* out of memory only forgets that it was a member a moment ago */
			void *left = t->left;
			if (!p->reused && (t->nleft < t->left_cap ||
			                   grow(&left, &t->left_cap, sizeof *t->left, t->nleft + 1,
			                        TREE_MAX) == 0)) {
				t->left = left;
				t->left[t->nleft++] = p->pid;
			}
			if (p->fd >= 0) {
				close(p->fd);
				t->nfds--;
			}
			continue;
		}
		t->procs[w++] = *p;
	}
	t->n = w;
}

/* Tracks the members a rescan found, then restores the pid order. Past TREE_MAX (or out of
 * memory) the others are left out; they are tried again at the next rescan. */
static void add_members(struct jst_proctree *t)
{
	size_t before = t->n;
	for (size_t i = 0; i < t->nseen; i++) {
		const struct seen *s = &t->seen[i];
		if (s->mark != MARK_IN)
			continue;
		int r = track(t, s->pid, s->start);
		if (r == -E2BIG || r == -ENOMEM)
			break;
	}
	/* insertion sort: the new ones are few and mostly after the old ones */
	for (size_t i = before; i < t->n; i++) {
		struct proc p = t->procs[i];
		size_t j = i;
		for (; j > 0 && t->procs[j - 1].pid > p.pid; j--)
			t->procs[j] = t->procs[j - 1];
		t->procs[j] = p;
	}
}

/* Whether a process was created since the last call, from the newest pid in /proc/loadavg
 * ("0.00 0.01 0.05 1/123 4567"). True when it cannot tell. */
static bool pids_created(struct jst_proctree *t)
{
	char buf[128];
	if (t->loadfd < 0)
		return true;
	ssize_t n = jst__pread_all(t->loadfd, buf, sizeof buf);
	const char *sp = n > 0 ? memrchr(buf, ' ', (size_t)n) : NULL;
	uint64_t pid;
	if (!sp || jst__parse_u64(sp + 1, (size_t)(buf + n - sp - 1), &pid) < 0)
		return true;
	bool created = pid != t->last_pid;
	t->last_pid = pid;
	return created;
}

static int read_host(const struct jst_proctree *t, struct jst__cpu_stat *out)
{
	char buf[512];
	ssize_t r = jst__pread_all(t->statfd, buf, sizeof buf);
	if (r < 0)
		return (int)r;
	return jst__parse_cpu_stat(buf, (size_t)r, out);
}

/* The first call counts the run from its processes' start and the host from
 * jst_proctree_new() (for `joulestream run` both start together). The run's cumulative CPU time
 * is the sum of utime + stime + cutime + cstime over the tracked processes, plus gone_ticks, plus
 * reaped_s; d->run_s is how much it rose above the highest value handed out so far, so it is
 * never negative and a dip (a process reaped before reaped_s shows it) is not counted twice.
 * Fails only when the host's /proc/stat cannot be read; a rescan that fails (or meets
 * TREE_MAX / SCAN_MAX) leaves the tracked processes counted and is tried again. */
int jst_proctree_sample(struct jst_proctree *t, double reaped_s, struct jst_cpu_times *d)
{
	if (!t || !d)
		return -EINVAL;
	*d = (struct jst_cpu_times){0};
	struct jst__cpu_stat host;
	int r = read_host(t, &host);
	if (r < 0)
		return r;
	uint64_t dtotal = host.total > t->host_prev.total ? host.total - t->host_prev.total : 0;
	uint64_t didle = host.idle > t->host_prev.idle ? host.idle - t->host_prev.idle : 0;
	if (didle > dtotal)
		didle = dtotal;
	t->host_prev = host;

	refresh(t);
	uint64_t now = jst__mono_ns();
	bool due = !t->scanned || now - t->last_scan_ns >= t->rescan_ns;
	if (due && t->scanned && now - t->last_full_ns < FULL_SCAN_NS && !pids_created(t)) {
		due = false; /* nothing was created since the last rescan: nothing new to find */
		t->last_scan_ns = now;
	}
	if (due) {
		/* a failed or partial rescan is tried again next time; d stays valid */
		(void)pids_created(t); /* remember the newest pid as of this rescan */
		(void)rescan(t);
		t->scanned = true;
		t->last_scan_ns = t->last_full_ns = now;
	}
	settle(t);
	if (due)
		add_members(t);

	uint64_t ticks = t->gone_ticks;
	for (size_t i = 0; i < t->n; i++) {
		ticks += t->procs[i].ticks;
		if (t->procs[i].state != 'Z' && t->procs[i].state != 'X')
			d->nprocs++;
	}
	double cum = (double)ticks / t->hz + (isfinite(reaped_s) && reaped_s > 0 ? reaped_s : 0);
	if (cum > t->cum_s) {
		d->run_s = cum - t->cum_s;
		t->cum_s = cum;
	}
	d->host_total_s = (double)dtotal / t->hz;
	d->host_busy_s = (double)(dtotal - didle) / t->hz;
	return 0;
}

int jst_proctree_new(struct jst_proctree **out, const char *procfs_root, pid_t root, pid_t reaper)
{
	if (!out || root <= 0 || reaper < 0)
		return -EINVAL;
	*out = NULL;
	struct jst_proctree *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->dirfd = t->statfd = t->loadfd = -1;
	t->reaper = reaper;
	t->fd_max = FDS_MAX;
	t->rescan_ns = JST__RESCAN_NS;
	long hz = sysconf(_SC_CLK_TCK);
	t->hz = hz > 0 ? (double)hz : 100.0;
	char path[4096];
	int r = jst__path(path, sizeof path, procfs_root, "/proc");
	if (r < 0)
		goto fail;
	t->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	t->statfd = openat(t->dirfd, "stat", O_RDONLY | O_CLOEXEC);
	if (t->statfd < 0) {
		r = -errno;
		goto fail;
	}
	/* /proc/loadavg's last field is the newest pid of the reader's own pid namespace, so it
	 * tells about a procfs root only when that root is ours */
	if (!procfs_root || !*procfs_root || strcmp(procfs_root, "/") == 0)
		t->loadfd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	t->dents = malloc(DENTS_SIZE);
	if (!t->dents) {
		r = -ENOMEM;
		goto fail;
	}
	/* host times count from here; the run's from its processes' start */
	if ((r = read_host(t, &t->host_prev)) < 0)
		goto fail;
	struct jst__pid_stat st;
	r = read_pid_stat(t, -1, root, &st);
	if (r == 0)
		r = track(t, root, st.starttime);
	if (r < 0) {
		r = r == -ENOENT ? -ESRCH : r; /* no such process */
		goto fail;
	}
	*out = t;
	return 0;
fail:
	jst_proctree_free(t);
	return r;
}

void jst_proctree_free(struct jst_proctree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->procs[i].fd >= 0)
			close(t->procs[i].fd);
	if (t->dirfd >= 0)
		close(t->dirfd);
	if (t->loadfd >= 0)
		close(t->loadfd);
	if (t->statfd >= 0)
		close(t->statfd);
	free(t->procs);
	free(t->left);
	free(t->seen);
	free(t->prev);
	free(t->dents);
	free(t);
}

bool jst_proctree_has(const struct jst_proctree *t, pid_t pid)
{
	if (!t || pid <= 0)
		return false;
	if (find_proc(t, pid) >= 0)
		return true;
	size_t lo = 0, hi = t->nleft; /* exited during the last interval: still its member */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->left[mid] == pid)
			return true;
		if (t->left[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

size_t jst_proctree_count(const struct jst_proctree *t)
{
	return t ? t->n : 0;
}

size_t jst_proctree_alive(const struct jst_proctree *t, pid_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; t && i < t->n; i++) {
		const struct proc *p = &t->procs[i];
		if (p->dead || p->state == 'Z' || p->state == 'X')
			continue;
		if (n < max)
			out[n] = p->pid;
		n++;
	}
	return n;
}

void jst__proctree_set_rescan_ns(struct jst_proctree *t, uint64_t ns)
{
	t->rescan_ns = ns;
}

void jst__proctree_set_fd_max(struct jst_proctree *t, unsigned n)
{
	t->fd_max = n;
}

unsigned jst__proctree_open_fds(const struct jst_proctree *t)
{
	return t->nfds;
}
