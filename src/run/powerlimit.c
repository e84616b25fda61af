/* GPU power limits while a job trains (powerlimit.h; docs/methodology.md, "GPU power limits").
 * After a warm-up at the maximum limit, candidates from the maximum down to the minimum (every
 * step_w watts, every GPU its own range) each run for a window of the job's steps; the limits
 * that cannot bind (10 % or more above the average power the job draws at the maximum) are
 * skipped, and the descent
 * stops once the goal has been worse than the best for two candidates in a row, or, for
 * slowdown:F, at the first candidate slower than F times the maximum's step. Time per step is
 * from the step marks' times, energy per step from the GPUs' energy counters read when the
 * marks arrive. The note file is what survives a kill -9: written before any limit is set. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/gpulimit.h"
#include "run/powerlimit.h"

#define PATIENCE 2        /* candidates worse than the best in a row before stopping */
#define TIE 1e-6          /* a lower limit must beat the best by this fraction */
#define NOTE_LINES 64

enum phase { PH_WARMUP, PH_SETTLE, PH_WINDOW, PH_DONE, PH_OFF };

struct jst__plim {
	struct jst__plim_opts o;
	struct jst_gpu_power *rec;
	struct jst_gpu_ctl *ctl;
	size_t ctl_i[JST_GPUP_GPUS]; /* ctl index of each managed GPU */
	bool set_any;                /* a limit was set: restore at the end */
	char key[17];                /* saved profile's file name */
	enum phase phase;
	unsigned count;              /* steps in the current phase */
	unsigned k;                  /* candidate: limits max - k × step_w */
	unsigned worse;
	uint64_t t0;
	double e0[JST_GPUP_GPUS];
	double e_now[JST_GPUP_GPUS]; /* the counters read at the current step mark */
	double ref_power[JST_GPUP_GPUS];
};

/* ---- Goals. ---- */

int jst__plim_parse(const char *spec, struct jst__plim_opts *o)
{
	*o = (struct jst__plim_opts){.goal = JST_PLIM_ENERGY, .eta = 0.5, .slowdown = 1.1,
	                             .warmup = 10, .window = 20, .settle = 1, .step_w = 25};
	if (strncmp(spec, "auto", 4) != 0 || (spec[4] && spec[4] != ':'))
		return -EINVAL;
	const char *g = spec[4] ? spec + 5 : "energy";
	char *end;
	if (strcmp(g, "energy") == 0) {
		o->goal = JST_PLIM_ENERGY;
	} else if (strcmp(g, "time") == 0) {
		o->goal = JST_PLIM_TIME;
	} else if (strncmp(g, "cost:", 5) == 0) {
		o->goal = JST_PLIM_COST;
		errno = 0;
		o->eta = strtod(g + 5, &end);
		if (errno || end == g + 5 || *end || !(o->eta >= 0 && o->eta <= 1))
			return -EINVAL;
	} else if (strncmp(g, "slowdown:", 9) == 0) {
		o->goal = JST_PLIM_SLOWDOWN;
		errno = 0;
		o->slowdown = strtod(g + 9, &end);
		if (errno || end == g + 9 || *end || !(o->slowdown >= 1 && o->slowdown <= 100))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

void jst__plim_goal_text(const struct jst__plim_opts *o, char *buf, size_t n)
{
	switch (o->goal) {
	case JST_PLIM_ENERGY: snprintf(buf, n, "energy"); break;
	case JST_PLIM_TIME: snprintf(buf, n, "time"); break;
	case JST_PLIM_COST: snprintf(buf, n, "cost:%g", o->eta); break;
	case JST_PLIM_SLOWDOWN: snprintf(buf, n, "slowdown:%g", o->slowdown); break;
	}
}

/* The goal's score of point i (lower is better; INFINITY: not allowed). */
static double score(const struct jst__plim_opts *o, const struct jst_gpu_power *rec, size_t i)
{
	const struct jst_gpu_point *pt = &rec->points[i];
	double pmax = 0;
	for (size_t g = 0; g < rec->ngpus; g++)
		pmax += rec->max_w[g];
	switch (o->goal) {
	case JST_PLIM_TIME:
		return pt->time_s;
	case JST_PLIM_COST: /* Zeus: η·E + (1−η)·MaxPower·T */
		return o->eta * pt->energy_j + (1 - o->eta) * pmax * pt->time_s;
	case JST_PLIM_SLOWDOWN:
		if (rec->ref >= 0 && pt->time_s > o->slowdown * rec->points[rec->ref].time_s * (1 + 1e-9))
			return INFINITY;
		return pt->energy_j;
	case JST_PLIM_ENERGY:
		break;
	}
	return pt->energy_j;
}

/* The best point in measured order (highest limits first): a later one must be better by TIE. */
static int choose(const struct jst__plim_opts *o, const struct jst_gpu_power *rec)
{
	int best = -1;
	double bs = INFINITY;
	for (size_t i = 0; i < rec->npoints; i++) {
		double s = score(o, rec, i);
		if (isfinite(s) && (best < 0 || s < bs * (1 - TIE))) {
			best = (int)i;
			bs = s;
		}
	}
	return best;
}

/* ---- The state directory: the note of limits to restore, saved profiles. ---- */

static int state_dir(char *buf, size_t n, const char *sub)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int w;
	if (xdg && *xdg == '/')
		w = snprintf(buf, n, "%s/joulestream%s", xdg, sub);
	else if (home && *home)
		w = snprintf(buf, n, "%s/.local/state/joulestream%s", home, sub);
	else
		return -ENOENT;
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int mkdirs(const char *path)
{
	char tmp[1024];
	if (!jst__strlcpy(tmp, path, sizeof(tmp)))
		return -ENAMETOOLONG;
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

struct note {
	char uuid[96];
	double limit_w;
	long pid;
};

/* Opens the note file locked exclusively and reads its lines. Returns the fd or -errno. */
static int note_open(struct note *lines, size_t *n)
{
	char dir[1024], path[1100];
	*n = 0;
	int r = state_dir(dir, sizeof(dir), "");
	if (r < 0 || (r = mkdirs(dir)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/gpu-limits", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			r = -errno;
			close(fd);
			return r;
		}
	char buf[NOTE_LINES * 160];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[len > 0 ? len : 0] = '\0';
	for (char *line = buf, *nl; line && *line && *n < NOTE_LINES; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct note *e = &lines[*n];
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL, *end;
		if (!sp1 || !sp2 || (size_t)(sp1 - line) >= sizeof(e->uuid))
			continue;
		memcpy(e->uuid, line, (size_t)(sp1 - line));
		e->uuid[sp1 - line] = '\0';
		e->limit_w = strtod(sp1 + 1, &end);
		if (end != sp2 || !(e->limit_w > 0))
			continue;
		e->pid = strtol(sp2 + 1, &end, 10);
		if (*end || e->pid <= 0)
			continue;
		(*n)++;
	}
	return fd;
}

/* Rewrites the note and closes (unlocks) it. */
static void note_close(int fd, const struct note *lines, size_t n)
{
	char buf[NOTE_LINES * 160];
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, sizeof(buf) - off, "%s %.3f %ld\n", lines[i].uuid,
		                 lines[i].limit_w, lines[i].pid);
		if (w > 0 && (size_t)w < sizeof(buf) - off)
			off += (size_t)w;
	}
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, off, 0) == (ssize_t)off)
		fsync(fd);
	close(fd);
}

static bool alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

int jst__plim_restore_left(char *msg, size_t n)
{
	char dir[1024], path[1100];
	struct stat sb;
	msg[0] = '\0';
	if (state_dir(dir, sizeof(dir), "") < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/gpu-limits", dir);
	if (stat(path, &sb) < 0 || sb.st_size == 0)
		return 0; /* the usual case: one stat */
	struct note lines[NOTE_LINES];
	size_t nl;
	int fd = note_open(lines, &nl);
	if (fd < 0)
		return 0;
	struct jst_gpu_ctl *ctl = NULL;
	char why[JST_WHY_MAX] = "";
	int restored = 0, err = 0;
	size_t keep = 0;
	for (size_t i = 0; i < nl; i++) {
		if (alive(lines[i].pid)) {
			lines[keep++] = lines[i];
			continue;
		}
		if (!ctl && jst_gpu_ctl_open(&ctl, why, sizeof(why)) < 0) {
			err = -ENODEV;
			lines[keep++] = lines[i];
			continue;
		}
		int g = jst_gpu_ctl_find(ctl, lines[i].uuid);
		int r = g < 0 ? 0 : jst_gpu_ctl_set(ctl, (size_t)g, lines[i].limit_w, why, sizeof(why));
		if (r < 0) {
			err = r;
			lines[keep++] = lines[i]; /* try again next time */
		} else if (g >= 0) {
			restored++;
		}
	}
	note_close(fd, lines, keep);
	jst_gpu_ctl_close(ctl);
	if (err < 0) {
		snprintf(msg, n, "a GPU power limit left behind by a killed run (%s/gpu-limits) "
		         "could not be restored: %s", dir, why);
		return err;
	}
	if (restored)
		snprintf(msg, n, "restored %d GPU power limit%s left behind by a killed run (%s/gpu-limits)",
		         restored, restored == 1 ? "" : "s", dir);
	return restored;
}

/* Adds (add) or removes this process's lines for the managed GPUs. */
static int note_update(struct jst__plim *p, bool add)
{
	struct note lines[NOTE_LINES];
	size_t n;
	int fd = note_open(lines, &n);
	if (fd < 0)
		return fd;
	long me = (long)getpid();
	size_t keep = 0;
	for (size_t i = 0; i < n; i++)
		if (lines[i].pid != me)
			lines[keep++] = lines[i];
	for (size_t g = 0; add && g < p->rec->ngpus && keep < NOTE_LINES; g++) {
		struct note *e = &lines[keep++];
		jst__strlcpy(e->uuid, p->rec->gpu_uuid[g], sizeof(e->uuid));
		e->limit_w = p->rec->prev_w[g];
		e->pid = me;
	}
	note_close(fd, lines, keep);
	return 0;
}

/* ---- Saved profiles: what advice-only runs read. ---- */

static void profile_key(struct jst__plim *p, const char *command)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a 64 over the command and the GPUs */
	for (const char *s = command; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	for (size_t g = 0; g < p->rec->ngpus; g++)
		for (const char *s = p->rec->gpu_uuid[g]; *s; s++)
			h = (h ^ (unsigned char)*s) * 1099511628211ull;
	snprintf(p->key, sizeof(p->key), "%016llx", (unsigned long long)h);
}

static void profile_save(struct jst__plim *p)
{
	char dir[1024], path[1200], tmp[1210];
	const struct jst_gpu_power *rec = p->rec;
	if (rec->npoints == 0 || state_dir(dir, sizeof(dir), "/gpu-profiles") < 0 || mkdirs(dir) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, p->key);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	time_t now = time(NULL);
	struct tm tm;
	char date[32];
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(f, "joulestream-gpu-profile 1 %s %zu\n", date, rec->ngpus);
	for (size_t i = 0; i < rec->npoints; i++) {
		const struct jst_gpu_point *pt = &rec->points[i];
		fprintf(f, "point %.17g %.17g %u", pt->time_s, pt->energy_j, pt->steps);
		for (size_t g = 0; g < rec->ngpus; g++)
			fprintf(f, " %.3f", pt->limits_w[g]);
		fputc('\n', f);
	}
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static bool profile_load(struct jst__plim *p)
{
	char dir[1024], path[1200], line[512];
	struct jst_gpu_power *rec = p->rec;
	if (state_dir(dir, sizeof(dir), "/gpu-profiles") < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, p->key);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	static const char magic[] = "joulestream-gpu-profile 1 ";
	char date[40] = "", *sp = NULL, *end = NULL;
	if (fgets(line, sizeof(line), f) && strncmp(line, magic, sizeof(magic) - 1) == 0)
		sp = strchr(line + sizeof(magic) - 1, ' ');
	size_t ng = sp ? strtoul(sp + 1, &end, 10) : 0;
	if (!sp || (size_t)(sp - line) - (sizeof(magic) - 1) >= sizeof(date) || ng != rec->ngpus ||
	    (*end && *end != '\n')) {
		fclose(f);
		return false;
	}
	memcpy(date, line + sizeof(magic) - 1, (size_t)(sp - line) - (sizeof(magic) - 1));
	rec->npoints = 0;
	while (rec->npoints < JST_GPUP_POINTS && fgets(line, sizeof(line), f)) {
		struct jst_gpu_point *pt = &rec->points[rec->npoints];
		char *s = line;
		if (strncmp(s, "point ", 6) != 0)
			continue;
		s += 6;
		pt->time_s = strtod(s, &end);
		pt->energy_j = strtod(end, &end);
		pt->steps = (unsigned)strtoul(end, &end, 10);
		for (size_t g = 0; g < ng; g++)
			pt->limits_w[g] = strtod(end, &end);
		if (!(pt->time_s > 0) || !(pt->energy_j >= 0))
			continue;
		pt->power_w = pt->energy_j / pt->time_s;
		rec->npoints++;
	}
	fclose(f);
	jst__strlcpy(rec->advice_from, date, sizeof(rec->advice_from));
	rec->ref = rec->npoints ? 0 : -1;
	return rec->npoints > 0;
}

/* ---- Setting limits. ---- */

static int set_all(struct jst__plim *p, const double *w)
{
	char why[JST_WHY_MAX];
	int err = 0;
	for (size_t g = 0; g < p->rec->ngpus; g++) {
		int r = jst_gpu_ctl_set(p->ctl, p->ctl_i[g], w[g], why, sizeof(why));
		if (r < 0) {
			err = r;
			jst__strlcpy(p->rec->why, why, sizeof(p->rec->why));
		} else {
			p->set_any = true;
		}
	}
	return err;
}

static void candidate(const struct jst__plim *p, unsigned k, double *w)
{
	for (size_t g = 0; g < p->rec->ngpus; g++) {
		double v = p->rec->max_w[g] - k * p->o.step_w;
		w[g] = v < p->rec->min_w[g] ? p->rec->min_w[g] : v;
	}
}

static bool all_at_min(const struct jst__plim *p, unsigned k)
{
	double w[JST_GPUP_GPUS];
	candidate(p, k, w);
	for (size_t g = 0; g < p->rec->ngpus; g++)
		if (w[g] > p->rec->min_w[g])
			return false;
	return true;
}

/* Some GPU's limit at candidate k is less than BIND_MARGIN above the average power it drew at
 * the maximum limit: higher ones are taken not to bind (the average hides short peaks, hence
 * the margin). */
#define BIND_MARGIN 1.1
static bool binds(const struct jst__plim *p, unsigned k)
{
	double w[JST_GPUP_GPUS];
	candidate(p, k, w);
	for (size_t g = 0; g < p->rec->ngpus; g++)
		if (w[g] < p->ref_power[g] * BIND_MARGIN)
			return true;
	return false;
}

static struct jst__plim *crash_p; /* what the crash handler restores */

static void on_crash(int sig)
{
	if (crash_p)
		jst__plim_restore(crash_p); /* best effort: the process is going down anyway */
	signal(sig, SIG_DFL);
	raise(sig);
}

int jst__plim_new(struct jst__plim **out, const struct jst__plim_opts *o, const char *command,
                  struct jst_gpu_power *rec)
{
	*out = NULL;
	memset(rec, 0, sizeof(*rec));
	rec->best = rec->ref = -1;
	snprintf(rec->mode, sizeof(rec->mode), o->profile ? "profile" : "auto");
	jst__plim_goal_text(o, rec->goal, sizeof(rec->goal));
	snprintf(rec->state, sizeof(rec->state), "failed");
	struct jst__plim *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *o;
	p->rec = rec;
	p->phase = PH_OFF;
	char why[sizeof(rec->why) - sizeof("no GPU power limits: ") + 1] = ""; /* fits rec->why whole */
	int r = jst_gpu_ctl_open(&p->ctl, why, sizeof(why));
	if (r < 0) {
		snprintf(rec->why, sizeof(rec->why), "no GPU power limits: %s", why);
		free(p);
		return r;
	}
	for (size_t i = 0; i < jst_gpu_ctl_count(p->ctl) && rec->ngpus < JST_GPUP_GPUS; i++) {
		struct jst_gpu_limit l;
		if (jst_gpu_ctl_info(p->ctl, i, &l) < 0)
			continue;
		size_t g = rec->ngpus++;
		p->ctl_i[g] = i;
		rec->gpu_index[g] = l.index;
		jst__strlcpy(rec->gpu_uuid[g], l.uuid, sizeof(rec->gpu_uuid[g]));
		rec->prev_w[g] = l.current_w;
		rec->min_w[g] = l.min_w;
		rec->max_w[g] = l.max_w;
	}
	if (rec->ngpus == 0) {
		snprintf(rec->why, sizeof(rec->why), "no GPU reports a settable power limit");
		jst_gpu_ctl_close(p->ctl);
		free(p);
		return -ENOTSUP;
	}
	profile_key(p, command);
	*out = p;
	/* The note first: from here a kill -9 leaves what to restore. */
	if ((r = note_update(p, true)) < 0) {
		snprintf(rec->why, sizeof(rec->why), "cannot write the restore note in the state "
		         "directory ($XDG_STATE_HOME/joulestream): %s; limits left unchanged", strerror(-r));
		return 0;
	}
	crash_p = p;
	static const int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++)
		signal(crashes[i], on_crash);
	if (set_all(p, rec->max_w) == -EPERM) {
		char refusal[sizeof(rec->why)];
		memcpy(refusal, rec->why, sizeof(refusal));
		jst__plim_restore(p); /* the GPUs that took the maximum before one refused */
		note_update(p, false);
		memcpy(rec->why, refusal, sizeof(refusal));
		snprintf(rec->mode, sizeof(rec->mode), "advice");
		snprintf(rec->state, sizeof(rec->state), "refused");
		return 0;
	}
	if (!p->set_any) {
		note_update(p, false);
		return 0; /* rec->why has the reason */
	}
	double e;
	if (jst_gpu_ctl_energy(p->ctl, p->ctl_i[0], &e) < 0) {
		snprintf(rec->why, sizeof(rec->why), "profiling needs the GPUs' energy counters "
		         "(NVIDIA Volta or newer); limits left unchanged");
		jst__plim_restore(p);
		return 0;
	}
	snprintf(rec->state, sizeof(rec->state), "profiling");
	p->phase = PH_WARMUP;
	return 0;
}

/* ---- Profiling, step by step. ---- */

static void begin_window(struct jst__plim *p, uint64_t t)
{
	p->t0 = t;
	memcpy(p->e0, p->e_now, sizeof(p->e0));
	p->count = 0;
	p->phase = PH_WINDOW;
}

static void finish_profile(struct jst__plim *p)
{
	struct jst_gpu_power *rec = p->rec;
	p->phase = PH_DONE;
	rec->best = choose(&p->o, rec);
	profile_save(p);
	if (rec->best < 0) {
		snprintf(rec->why, sizeof(rec->why), "no candidate measured");
		jst__plim_restore(p);
		return;
	}
	snprintf(rec->state, sizeof(rec->state), "chosen");
	for (size_t g = 0; g < rec->ngpus; g++)
		rec->chosen_w[g] = rec->points[rec->best].limits_w[g];
	if (p->o.profile)
		jst__plim_restore(p);
	else
		set_all(p, rec->chosen_w);
}

/* The window ended at t: a point, then the next candidate or the choice. */
static void end_window(struct jst__plim *p, uint64_t t)
{
	struct jst_gpu_power *rec = p->rec;
	struct jst_gpu_point *pt = &rec->points[rec->npoints];
	memset(pt, 0, sizeof(*pt));
	candidate(p, p->k, pt->limits_w);
	pt->steps = p->count;
	pt->time_s = (double)(t - p->t0) / 1e9 / p->count;
	for (size_t g = 0; g < rec->ngpus; g++) {
		double de = p->e_now[g] - p->e0[g];
		pt->energy_j += de / p->count;
		if (p->k == 0 && t > p->t0)
			p->ref_power[g] = de / ((double)(t - p->t0) / 1e9);
	}
	if (!(pt->time_s > 0) || !isfinite(pt->energy_j)) {
		snprintf(rec->why, sizeof(rec->why), "a window measured no time or no energy");
		finish_profile(p);
		return;
	}
	pt->power_w = pt->energy_j / pt->time_s;
	size_t i = rec->npoints++;
	if (p->k == 0)
		rec->ref = (int)i;
	/* stop rules */
	/* ties (limits that do not bind yet) neither count as worse nor reset the count */
	int best = choose(&p->o, rec);
	double si = score(&p->o, rec, i), sb = score(&p->o, rec, (size_t)best);
	if (best == (int)i)
		p->worse = 0;
	else if (!isfinite(si) || si > sb * (1 + TIE))
		p->worse++;
	bool stop = p->worse >= PATIENCE || rec->npoints == JST_GPUP_POINTS || all_at_min(p, p->k) ||
	            (p->o.goal == JST_PLIM_SLOWDOWN && !isfinite(score(&p->o, rec, i)));
	if (!stop) {
		unsigned k = p->k + 1;
		while (!binds(p, k) && !all_at_min(p, k))
			k++; /* limits above what the job draws cannot win */
		p->k = k;
		double w[JST_GPUP_GPUS];
		candidate(p, k, w);
		if (set_all(p, w) < 0)
			stop = true;
	}
	if (stop) {
		finish_profile(p);
		return;
	}
	p->count = 0;
	p->phase = PH_SETTLE;
	if (p->o.settle == 0)
		begin_window(p, t);
}

bool jst__plim_step(struct jst__plim *p, uint64_t t)
{
	if (!p)
		return false;
	p->rec->steps++;
	/* every step mark samples the counters while limits are managed: a window's energy is
	 * then exactly its steps', and a job can tell its mark was taken */
	for (size_t g = 0; p->set_any && g < p->rec->ngpus; g++)
		if (jst_gpu_ctl_energy(p->ctl, p->ctl_i[g], &p->e_now[g]) < 0)
			p->e_now[g] = NAN;
	switch (p->phase) {
	case PH_WARMUP:
		if (p->count++ >= p->o.warmup)
			begin_window(p, t);
		break;
	case PH_SETTLE:
		if (++p->count >= p->o.settle)
			begin_window(p, t);
		break;
	case PH_WINDOW:
		if (++p->count >= p->o.window)
			end_window(p, t);
		break;
	case PH_DONE:
		if (p->rec->best >= 0 && !p->o.profile)
			p->rec->steps_after++;
		break;
	case PH_OFF:
		break;
	}
	return jst__plim_done(p);
}

bool jst__plim_done(const struct jst__plim *p)
{
	return p && (p->phase == PH_DONE || p->phase == PH_OFF);
}

void jst__plim_restore(struct jst__plim *p)
{
	if (!p || !p->set_any)
		return;
	char why[JST_WHY_MAX];
	bool ok = true;
	for (size_t g = 0; g < p->rec->ngpus; g++)
		if (jst_gpu_ctl_set(p->ctl, p->ctl_i[g], p->rec->prev_w[g], why, sizeof(why)) < 0)
			ok = false;
	p->set_any = false;
	p->rec->restored = ok;
	if (ok)
		note_update(p, false); /* else the note stays: the next run tries again */
	else
		jst__strlcpy(p->rec->why, why, sizeof(p->rec->why));
}

void jst__plim_account(struct jst__plim *p, const struct jst_run *run)
{
	if (!p)
		return;
	struct jst_gpu_power *rec = p->rec;
	unsigned long n = rec->steps_after;
	if (strcmp(rec->mode, "advice") == 0) {
		if (!profile_load(p))
			return;
		rec->best = choose(&p->o, rec);
		n = rec->steps;
	}
	if (rec->best < 0 || rec->ref < 0)
		return;
	const struct jst_gpu_point *b = &rec->points[rec->best], *r = &rec->points[rec->ref];
	rec->saved_j = n * (r->energy_j - b->energy_j);
	rec->extra_time_s = n * (b->time_s - r->time_s);
	/* per IT joule as the run's footprint had it, else the site's yearly figures */
	const struct jst_footprint *fp = &run->result.footprint;
	const struct jst_run_site *site = &run->site;
	double it_j = fp->it_kwh * 3.6e6;
	if (it_j > 0) {
		rec->saved_co2e_g = rec->saved_j * fp->co2e_g / it_j;
		rec->saved_water_l = rec->saved_j * fp->water_l / it_j;
	} else {
		double pue = site->pue > 0 ? site->pue : 1;
		double ewif = site->ewif_l_per_kwh > 0 ? site->ewif_l_per_kwh : 0;
		rec->saved_co2e_g = rec->saved_j / 3.6e6 * pue * site->ci_g_per_kwh;
		rec->saved_water_l = rec->saved_j / 3.6e6 * (site->wue_l_per_kwh + pue * ewif);
	}
}

void jst__plim_free(struct jst__plim *p)
{
	if (!p)
		return;
	jst__plim_restore(p);
	if (crash_p == p)
		crash_p = NULL;
	jst_gpu_ctl_close(p->ctl);
	free(p);
}

void jst__plim_table(FILE *f, const struct jst_gpu_power *rec)
{
	fprintf(f, "%-24s %12s %14s %10s\n", "limit W", "time/step s", "energy/step J", "power W");
	for (size_t i = 0; i < rec->npoints; i++) {
		const struct jst_gpu_point *pt = &rec->points[i];
		char lim[64] = "";
		size_t off = 0;
		for (size_t g = 0; g < rec->ngpus && off < sizeof(lim) - 8; g++)
			off += (size_t)snprintf(lim + off, sizeof(lim) - off, "%s%.0f", g ? "," : "",
			                        pt->limits_w[g]);
		fprintf(f, "%-24s %12.4f %14.3f %10.1f%s%s%s\n", lim, pt->time_s, pt->energy_j,
		        pt->power_w, (int)i == rec->ref ? "  max" : "", (int)i == rec->best ? "  <- " : "",
		        (int)i == rec->best ? rec->goal : "");
	}
}
