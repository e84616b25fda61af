/* The in-process tracker (tracker.h): a monitor on the calling process, a sampling thread that
 * ticks it at the interval (pthread_cond_timedwait on the monotonic clock, so stop is
 * immediate), and marks from any thread under one mutex. The run's record is a session's
 * (session.h), as for `joulestream run`: samples and marks go to the run's sinks as events
 * under the lock (a copy into a queue: the sinks' threads write), metrics are copied out under
 * the lock and written to the store's training record outside it, so a mark waits at most for
 * one tick, never for SQLite. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/config.h"
#include "joulestream/intensity.h"
#include "joulestream/report.h"
#include "joulestream/run.h"
#include "joulestream/store.h"
#include "joulestream/tracker.h"
#include "joulestream/train.h"
#include "joulestream/trust.h"
#include "run/powerlimit.h"
#include "run/session.h"

#define DRAIN_NS 250000000u

struct jst_tracker {
	/* options */
	char zone[32], cloud[64], site[64], config[512], db[1024], project[128], model[128];
	char command[2048], sensors[64];
	char sysfs[512], procfs[512];
	double pue, wue;
	uint64_t interval_ns;
	enum jst_scope scope;
	bool no_estimate, no_store;
	long long epochs, predict_after;
	bool gpu_limit;               /* gpu_power_limit: profile and set GPU limits (issue 18) */
	struct jst__plim_opts plim;
	struct jst__plim *pl;
	struct jst_gpu_power gpower;

	struct jst_run *run;
	struct jst_monitor *mon;
	struct jst__session ses; /* the run's store and sinks */
	bool started, stopped, stopping;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	uint64_t last_tick_ns;

	char err[512];
};

static int fail(struct jst_tracker *t, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct jst_tracker *t, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return r;
}

int jst_tracker_new(struct jst_tracker **out)
{
	struct jst_tracker *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pue = t->wue = -1;
	t->interval_ns = 1000000000u;
	t->epochs = t->predict_after = -1;
	jst__plim_parse("auto", &t->plim);
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	*out = t;
	return 0;
}

static int set_text(struct jst_tracker *t, char *dst, size_t n, const char *key, const char *v)
{
	if (!jst__strlcpy(dst, v, n))
		return fail(t, -EINVAL, "tracker option %s is too long (at most %zu bytes)", key, n - 1);
	return 0;
}

static int set_number(struct jst_tracker *t, const char *key, const char *v, double lo, double hi, double *out)
{
	if (jst__parse_double(v, strlen(v), out) < 0 || *out < lo || *out > hi)
		return fail(t, -EINVAL, "tracker option %s: '%s' is not a number from %g to %g", key, v, lo, hi);
	return 0;
}

int jst_tracker_set(struct jst_tracker *t, const char *key, const char *v)
{
	double d;
	int r;
	if (t->started)
		return fail(t, -EBUSY, "tracker option %s: set it before the tracker starts", key);
	if (!strcmp(key, "zone")) return set_text(t, t->zone, sizeof(t->zone), key, v);
	if (!strcmp(key, "cloud")) return set_text(t, t->cloud, sizeof(t->cloud), key, v);
	if (!strcmp(key, "site")) return set_text(t, t->site, sizeof(t->site), key, v);
	if (!strcmp(key, "config")) return set_text(t, t->config, sizeof(t->config), key, v);
	if (!strcmp(key, "db")) return set_text(t, t->db, sizeof(t->db), key, v);
	if (!strcmp(key, "project")) return set_text(t, t->project, sizeof(t->project), key, v);
	if (!strcmp(key, "model")) return set_text(t, t->model, sizeof(t->model), key, v);
	if (!strcmp(key, "command")) return set_text(t, t->command, sizeof(t->command), key, v);
	if (!strcmp(key, "sensors")) return set_text(t, t->sensors, sizeof(t->sensors), key, v);
	if (!strcmp(key, "sysfs_root")) return set_text(t, t->sysfs, sizeof(t->sysfs), key, v);
	if (!strcmp(key, "procfs_root")) return set_text(t, t->procfs, sizeof(t->procfs), key, v);
	if (!strcmp(key, "gpu_power_limit")) {
		struct jst__plim_opts o;
		if (jst__plim_parse(v, &o) < 0)
			return fail(t, -EINVAL, "bad gpu_power_limit '%s' (auto, auto:energy, auto:time, "
			            "auto:cost:ETA, auto:slowdown:F)", v);
		o.warmup = t->plim.warmup, o.window = t->plim.window, o.step_w = t->plim.step_w;
		t->plim = o;
		t->gpu_limit = true;
		return 0;
	}
	if (!strcmp(key, "gpu_warmup") || !strcmp(key, "gpu_window")) {
		bool win = !strcmp(key, "gpu_window");
		r = set_number(t, key, v, win ? 1 : 0, 1e6, &d);
		if (r == 0)
			*(win ? &t->plim.window : &t->plim.warmup) = (unsigned)d;
		return r;
	}
	if (!strcmp(key, "gpu_limit_step"))
		return set_number(t, key, v, 1, 1000, &t->plim.step_w);
	if (!strcmp(key, "pue")) return set_number(t, key, v, 1, 5, &t->pue);
	if (!strcmp(key, "wue")) return set_number(t, key, v, 0, 100, &t->wue);
	if (!strcmp(key, "store") || !strcmp(key, "no_estimate")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return fail(t, -EINVAL, "tracker option %s: expected 0 or 1, not '%s'", key, v);
		if (key[0] == 's')
			t->no_store = v[0] == '0';
		else
			t->no_estimate = v[0] == '1';
		return 0;
	}
	if (!strcmp(key, "scope")) {
		if (strcmp(v, "process") && strcmp(v, "host"))
			return fail(t, -EINVAL, "tracker option scope: expected process or host, not '%s'", v);
		t->scope = v[0] == 'h' ? JST_SCOPE_HOST : JST_SCOPE_PROCESS;
		return 0;
	}
	if (!strcmp(key, "interval")) {
		if ((r = set_number(t, key, v, 0.001, 3600, &d)) < 0)
			return r;
		t->interval_ns = (uint64_t)(d * 1e9 + 0.5);
		return 0;
	}
	if (!strcmp(key, "epochs") || !strcmp(key, "predict_after")) {
		if ((r = set_number(t, key, v, 0, 1e9, &d)) < 0)
			return r;
		*(key[0] == 'e' ? &t->epochs : &t->predict_after) = (long long)d;
		return 0;
	}
	return fail(t, -EINVAL, "unknown tracker option '%s'", key);
}

/* The run's metadata; the command is this process's command line unless one was given. */
static void collect_meta(struct jst_tracker *t, struct jst_meta *meta)
{
	char buf[4096], *argv[64];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	int argc = 0;
	if (n > 0) {
		buf[n] = '\0';
		for (char *p = buf; p < buf + n && argc < 64; p += strlen(p) + 1)
			argv[argc++] = p;
	}
	jst_meta_collect(meta, t->procfs[0] ? t->procfs : NULL, argc, argv);
	if (t->command[0])
		jst__strlcpy(meta->command, t->command, sizeof(meta->command));
	if (t->project[0])
		jst__strlcpy(meta->project, t->project, sizeof(meta->project));
}

static double reaped_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Under the lock: the pending samples to the sinks (queued; their senders write the store),
 * dropped from the monitor with its pending metrics (mark events carry those). */
static void take_pending(struct jst_tracker *t)
{
	size_t n;
	const struct jst_sample *v = jst_monitor_pending(t->mon, &n);
	jst__run_sink_samples(&t->ses.sink, t->run, v, n);
	jst__run_sink_flush(&t->ses.sink, 0);
	jst_monitor_drained(t->mon);
}

static void *sampler(void *arg)
{
	struct jst_tracker *t = arg;
	pthread_mutex_lock(&t->mu);
	uint64_t next = t->last_tick_ns + t->interval_ns, last_drain = t->last_tick_ns;
	while (!t->stopping) {
		struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
		pthread_cond_timedwait(&t->cond, &t->mu, &ts);
		uint64_t now = jst__mono_ns();
		if (t->stopping || now < next)
			continue;
		next += t->interval_ns;
		if (next <= now) /* late (a stopped process, a busy machine): no catching up */
			next = now + t->interval_ns;
		jst_monitor_tick(t->mon, now, reaped_cpu_s());
		t->last_tick_ns = now;
		if (now - last_drain >= DRAIN_NS) {
			last_drain = now;
			take_pending(t);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static void fill_gpu_meta(struct jst_run *run)
{
	unsigned n = 0;
	const char *label = "";
	for (size_t i = 0; i < run->nzones; i++)
		if (run->zones[i].zone.kind == JST_KIND_GPU) {
			n++;
			label = run->zones[i].zone.label;
		}
	if (n)
		snprintf(run->meta.gpus, sizeof(run->meta.gpus), "%u x %s", n, label);
}

/* Line by line, so that each mark the monitor accepts also reaches the run's sinks as an
 * event (as marksock.c does for `joulestream run`). Under the lock. */
static int mark_lines(struct jst_tracker *t, const char *p, size_t n, uint64_t now)
{
	int r = 0;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		struct jst_mark mk;
		if (len && jst_monitor_mark_text(t->mon, p, len, now) < 0)
			r = -EINVAL;
		else if (len && jst_mark_parse(p, len, &mk, NULL) == 0) {
			jst__session_mark(&t->ses, t->mon, &mk, now);
			if (mk.kind == JST_MARK_STEP)
				jst__plim_step(t->pl, mk.t_ns ? mk.t_ns : now);
		}
		p += nl ? len + 1 : len;
		n -= nl ? len + 1 : len;
	}
	return r;
}

/* Tags and the plan given as options, as marks at the start. */
static void initial_marks(struct jst_tracker *t)
{
	char msg[JST_MARK_MSG_MAX];
	uint64_t now = t->last_tick_ns;
	if (t->model[0] && snprintf(msg, sizeof(msg), "tag - model=%s", t->model) < (int)sizeof(msg))
		mark_lines(t, msg, strlen(msg), now);
	if (t->epochs >= 0 || t->predict_after >= 0) {
		int w = snprintf(msg, sizeof(msg), "plan -");
		if (t->epochs >= 0)
			w += snprintf(msg + w, sizeof(msg) - (size_t)w, " epochs=%lld", t->epochs);
		if (t->predict_after >= 0)
			snprintf(msg + w, sizeof(msg) - (size_t)w, " predict_after=%lld", t->predict_after);
		mark_lines(t, msg, strlen(msg), now);
	}
}

/* The zone, PUE and WUE as `joulestream run` chooses them: the options, the configuration's
 * site (site=, or its default site), a guess from the time zone, else the world average. */
static int choose_site(struct jst_tracker *t, struct jst_config *cfg)
{
	char msg[600];
	int r = jst_config_load(t->config[0] ? t->config : NULL, cfg, msg, sizeof(msg));
	if (r < 0)
		return fail(t, -EINVAL, "%s", msg);
	struct jst_site_opts so = {
		.zone = t->zone[0] ? t->zone : NULL,
		.cloud = t->cloud[0] ? t->cloud : NULL,
		.site = t->site[0] ? t->site : NULL,
		.pue = t->pue,
		.wue = t->wue,
		.cfg = cfg,
	};
	r = jst_run_resolve_site(t->run, &so, msg, sizeof(msg));
	return r < 0 ? fail(t, -EINVAL, "%s", msg) : 0;
}

/* The digests of the configuration and bundled data (record.h), once the zones are known. */
static void record_digests(struct jst_tracker *t, const struct jst_config *cfg)
{
	struct jst_config_in in = {cfg,
				   t->zone[0] ? t->zone : NULL,
				   t->cloud[0] ? t->cloud : NULL,
				   t->site[0] ? t->site : NULL,
				   t->pue,
				   t->wue,
				   t->sensors[0] ? t->sensors : NULL,
				   t->no_estimate,
				   NULL};
	jst_run_digests(t->run, &in);
}

int jst_tracker_start(struct jst_tracker *t)
{
	if (t->started)
		return fail(t, -EBUSY, "the tracker is already started");
	struct jst_run *run = t->run = calloc(1, sizeof(*run));
	if (!run)
		return fail(t, -ENOMEM, "out of memory");
	struct jst_config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return fail(t, -ENOMEM, "out of memory");
	int r = choose_site(t, cfg);
	if (r < 0) {
		free(cfg);
		return r;
	}
	jst_run_id_new(run->id);
	collect_meta(t, &run->meta);
	struct jst_monitor_opts mo = {{t->sysfs[0] ? t->sysfs : NULL, t->procfs[0] ? t->procfs : NULL},
	                              t->sensors[0] ? t->sensors : NULL, t->no_estimate, t->scope,
	                              t->interval_ns, 0};
	r = jst_monitor_new(&t->mon, &mo, run);
	if (r < 0) {
		free(cfg);
		jst_meta_collect_finish(&run->meta);
		return fail(t, r, "cannot open the sensors: %s", jst_strerror(r));
	}
	fill_gpu_meta(run);
	record_digests(t, cfg);
	free(cfg);
	if ((r = jst__session_open(&t->ses, "joulestream tracker", run, NULL, NULL, NULL)) != 0)
		return fail(t, -EINVAL, "cannot open the run's sinks");
	if (!t->no_store)
		jst__session_store(&t->ses, t->db[0] ? t->db : NULL, NULL);
	char msg[JST_NOTE_LEN];
	jst__plim_restore_left(msg, sizeof(msg)); /* limits a killed run left behind */
	if (msg[0])
		jst_run_note(run, "%s", msg);
	if (t->gpu_limit) {
		jst__plim_new(&t->pl, &t->plim, t->command[0] ? t->command : run->meta.command, &t->gpower);
		run->gpu_power = &t->gpower;
		if (t->gpower.why[0])
			jst_run_note(run, "GPU power limit: %s%s", t->gpower.why,
			             strcmp(t->gpower.mode, "advice") == 0 ? "; advice only" : "");
	}
	t->last_tick_ns = jst__mono_ns();
	jst_monitor_start(t->mon, t->last_tick_ns);
	char *argv[] = {t->command[0] ? t->command : run->meta.command};
	jst__session_begin(&t->ses, t->last_tick_ns, t->model[0] ? t->model : NULL, 1, argv);
	jst_monitor_attach(t->mon, getpid(), 0);
	initial_marks(t);
	t->started = true;
	if ((r = pthread_create(&t->thread, NULL, sampler, t)) != 0) {
		t->started = false;
		return fail(t, -r, "cannot start the sampling thread: %s", strerror(r));
	}
	return 0;
}

int jst_tracker_mark(struct jst_tracker *t, const char *msg, size_t n)
{
	if (!t->started || t->stopped)
		return fail(t, -EINVAL, "marks need a started tracker");
	/* an epoch boundary samples at once, so its energy and the prediction are known now */
	bool epoch = n >= 6 && (memcmp(msg, "epoch ", 6) == 0 || memmem(msg, n, "\nepoch ", 7));
	pthread_mutex_lock(&t->mu);
	uint64_t now = jst__mono_ns();
	int r = mark_lines(t, msg, n, now);
	/* not sooner than half an interval after the last one: a sensor read too soon after the
	 * previous one (a counter's update period, /proc's 10 ms clock ticks) says little */
	if (epoch && now >= t->last_tick_ns + t->interval_ns / 2) {
		jst_monitor_tick(t->mon, now, reaped_cpu_s());
		t->last_tick_ns = now;
	}
	pthread_mutex_unlock(&t->mu);
	if (r < 0) {
		size_t k = n < 80 ? n : 80;
		return fail(t, r, "bad training mark '%.*s' (see the report's notes)", (int)k, msg);
	}
	return 0;
}

int jst_tracker_messages(struct jst_tracker *t, unsigned *seen, char *buf, size_t n)
{
	if (n)
		buf[0] = '\0';
	if (!t->mon)
		return 0;
	pthread_mutex_lock(&t->mu);
	size_t k = jst_monitor_messages(t->mon, seen, buf, n);
	pthread_mutex_unlock(&t->mu);
	return (int)k;
}

int jst_tracker_stop(struct jst_tracker *t, int exit_code)
{
	if (!t->started)
		return fail(t, -EINVAL, "the tracker was not started");
	if (t->stopped)
		return 0;
	pthread_mutex_lock(&t->mu);
	t->stopping = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	jst__plim_restore(t->pl); /* the job is over */
	jst_meta_collect_finish(&t->run->meta); /* reaps the git child before the tree is counted */
	uint64_t now = jst__mono_ns();
	jst_monitor_tick(t->mon, now, reaped_cpu_s());
	jst_monitor_finish(t->mon, now);
	t->run->exit_code = exit_code;
	take_pending(t);
	jst__plim_account(t->pl, t->run);
	jst__session_finish(&t->ses);
	t->stopped = true;
	return 0;
}

/* A report into a malloc'd string; under the lock while the sampler runs. */
static char *report(struct jst_tracker *t, bool json)
{
	if (!t->run || !t->mon) {
		fail(t, -EINVAL, "the tracker was not started");
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		fail(t, -ENOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_lock(&t->mu);
	if (!t->stopped) { /* a snapshot: totals so far, at the yearly average */
		jst_run_finish_totals(t->run);
		jst_run_yearly_result(t->run, &t->run->result);
	}
	if (json)
		jst_report_json(f, t->run, jst_monitor_timeline(t->mon));
	else
		jst_report_text(f, t->run, t->ses.store && !t->ses.store_failed ? t->ses.store_path : "");
	pthread_mutex_unlock(&t->mu);
	if (fclose(f) != 0) {
		free(buf);
		fail(t, -ENOMEM, "cannot write the report: %s", strerror(errno));
		return NULL;
	}
	return buf;
}

char *jst_tracker_json(struct jst_tracker *t)
{
	return report(t, true);
}

char *jst_tracker_text(struct jst_tracker *t)
{
	return report(t, false);
}

void jst_tracker_free_string(char *s)
{
	free(s);
}

const char *jst_tracker_run_id(const struct jst_tracker *t)
{
	return t->run ? t->run->id : "";
}

const char *jst_tracker_store_path(const struct jst_tracker *t)
{
	return t->ses.store && !t->ses.store_failed ? t->ses.store_path : "";
}

const char *jst_tracker_error(const struct jst_tracker *t)
{
	return t->err;
}

void jst_tracker_free(struct jst_tracker *t)
{
	if (!t)
		return;
	if (t->started && !t->stopped)
		jst_tracker_stop(t, 0);
	jst__plim_free(t->pl);
	jst_monitor_free(t->mon);
	jst__session_close(&t->ses);
	free(t->run);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->mu);
	free(t);
}
