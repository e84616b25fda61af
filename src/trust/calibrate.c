/* `joulestream calibrate`: the host's idle power per zone, measured over a chosen time with
 * nothing else asked of the machine, then a reference workload (a fixed CPU load on N threads;
 * a GPU load only when one is built in, which this build is not: no CUDA toolkit) to check that
 * the sensors respond: a loaded zone's power must rise by JST_CALIB_LOAD_FACTOR, else the
 * verdict warns. The figures go to the store per host (sqlite_trust.c) and give every later
 * run of the host its idle floor (floor.c). docs/integrity.md, "Calibration". */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/trust.h"

#define LOAD_THREADS_MAX 256

struct phase {
	double j[JST_ZONES_MAX];
	unsigned long ok[JST_ZONES_MAX];
	double seconds;
};

static atomic_bool spin_stop;

/* A fixed CPU load: floating-point work with no memory traffic, until told to stop. */
static void *spin(void *arg)
{
	volatile double x = 1.0 + (double)(uintptr_t)arg * 1e-9;
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		for (int i = 0; i < 4096; i++)
			x = x * 1.0000001 + 1e-9;
	return NULL;
}

static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = {(time_t)(t_ns / 1000000000u), (long)(t_ns % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Samples every zone for seconds, every c->interval_s (the options' interval or its default:
 * o->interval_s is 0 when none was given, and a zero step never ended); progress about once
 * a second. */
static void measure(struct jst_sensors *s, const struct jst_calib_opts *o, const struct jst_calibration *c,
		    const char *name, double seconds, struct phase *ph)
{
	struct jst_reading rd[JST_ZONES_MAX];
	size_t nz = jst_sensors_count(s);
	uint64_t step = (uint64_t)(c->interval_s * 1e9), t0 = jst__mono_ns(), next = t0,
		 last_say = 0;
	memset(ph, 0, sizeof(*ph));
	jst_sensors_read(s, t0, rd); /* a fresh baseline: the phase starts now */
	for (;;) {
		next += step;
		if ((double)(next - t0) / 1e9 > seconds + 1e-9)
			break;
		sleep_until(next);
		uint64_t now = jst__mono_ns();
		jst_sensors_read(s, now, rd);
		for (size_t i = 0; i < nz; i++)
			if (rd[i].flags & JST_READ_ENERGY) {
				ph->j[i] += rd[i].energy_j;
				ph->ok[i]++;
			}
		ph->seconds = (double)(now - t0) / 1e9;
		if (o->progress && (now - last_say >= 1000000000u || ph->seconds >= seconds)) {
			o->progress(o->ud, name, ph->seconds, seconds);
			last_say = now;
		}
	}
}

static void describe_zones(struct jst_sensors *s, struct jst_calibration *c)
{
	c->nzones = jst_sensors_count(s);
	for (size_t i = 0; i < c->nzones; i++) {
		const struct jst_zone *z = jst_sensors_zone(s, i);
		struct jst_calib_zone *cz = &c->zones[i];
		memset(cz, 0, sizeof(*cz));
		jst__strlcpy(cz->zone, z->name, sizeof(cz->zone));
		jst__strlcpy(cz->source, z->source ? z->source : "", sizeof(cz->source));
		jst__strlcpy(cz->uid, z->uid, sizeof(cz->uid));
		cz->kind = z->kind;
		cz->counted = (z->flags & JST_ZONE_COUNTED) != 0;
		cz->estimate = (z->flags & JST_ZONE_ESTIMATE) != 0;
	}
	for (size_t b = 0, off = 0; b < jst_sensors_backend_count(s); b++) {
		const struct jst_backend_status *st = jst_sensors_backend(s, b);
		int w;
		if (st->state == JST_BACKEND_ACTIVE &&
		    (w = snprintf(c->sensors + off, sizeof(c->sensors) - off, "%s%s",
				  off ? "," : "", st->name)) > 0 &&
		    (size_t)w < sizeof(c->sensors) - off)
			off += (size_t)w;
	}
}

static void say(struct jst_calibration *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct jst_calibration *c, const char *fmt, ...)
{
	size_t off = strlen(c->result);
	va_list ap;
	va_start(ap, fmt);
	if (off + 1 < sizeof(c->result))
		vsnprintf(c->result + off, sizeof(c->result) - off, fmt, ap);
	va_end(ap);
}

/* A zone the CPU load must move: a counted CPU package (or the estimate's CPU zone). */
static bool cpu_checked(const struct jst_calib_zone *z)
{
	return z->counted && z->kind == JST_KIND_PACKAGE;
}

/* Runs the CPU load on threads while measuring, then judges every CPU package zone. */
static int cpu_reference(struct jst_sensors *s, const struct jst_calib_opts *o,
			 struct jst_calibration *c, size_t *checked, size_t *passed)
{
	pthread_t th[LOAD_THREADS_MAX];
	unsigned started = 0;
	struct phase *ph = malloc(sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	atomic_store(&spin_stop, false);
	for (; started < c->threads; started++)
		if (pthread_create(&th[started], NULL, spin, (void *)(uintptr_t)started) != 0)
			break;
	measure(s, o, c, "cpu load", c->load_s, ph);
	atomic_store(&spin_stop, true);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	say(c, "cpu load on %u thread%s for %.0f s:", started, started == 1 ? "" : "s",
	    ph->seconds);
	for (size_t i = 0; i < c->nzones; i++) {
		struct jst_calib_zone *z = &c->zones[i];
		if (!ph->ok[i] || ph->seconds <= 0)
			continue;
		z->load_w = ph->j[i] / ph->seconds;
		z->ratio = z->idle_w > 0 ? z->load_w / z->idle_w : 0;
		if (!cpu_checked(z))
			continue;
		(*checked)++;
		bool ok = z->idle_w > 0 ? z->ratio >= JST_CALIB_LOAD_FACTOR : z->load_w > 0;
		*passed += ok;
		say(c, " %s %.1f W -> %.1f W (x%.2f%s)", z->zone, z->idle_w, z->load_w, z->ratio,
		    ok ? ", responds" : ", DID NOT RESPOND");
	}
	if (*checked == 0)
		say(c, " no CPU package zone to check");
	say(c, ";");
	free(ph);
	return started == c->threads ? 0 : -EAGAIN;
}

static void gpu_reference(struct jst_calibration *c)
{
	size_t gpus = 0;
	for (size_t i = 0; i < c->nzones; i++)
		gpus += c->zones[i].kind == JST_KIND_GPU;
	if (gpus == 0)
		say(c, " gpu load: no GPU zone here;");
	else
		say(c,
		    " gpu load: skipped, this build has no GPU workload (no CUDA toolkit): the %zu GPU "
		    "zone%s got their idle power only; check them with a GPU job under joulestream run;",
		    gpus, gpus == 1 ? "" : "s");
}

static int check_opts(const struct jst_calib_opts *o, struct jst_calibration *c, char *err,
		      size_t errlen)
{
	const char *load = o->load ? o->load : "cpu";
	if (strcmp(load, "cpu") && strcmp(load, "gpu") && strcmp(load, "both") &&
	    strcmp(load, "none")) {
		snprintf(err, errlen, "load is cpu, gpu, both or none, not '%s'", load);
		return -EINVAL;
	}
	jst__strlcpy(c->load, load, sizeof(c->load));
	c->duration_s = o->duration_s > 0 ? o->duration_s : 60;
	c->interval_s = o->interval_s > 0 ? o->interval_s : 0.5;
	c->load_s = o->load_s > 0 ? o->load_s : 10;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	c->threads = o->threads ? o->threads : (unsigned)(cpus > 0 ? cpus : 1);
	if (c->duration_s > 86400 || c->load_s > 3600 || c->interval_s < 0.01 ||
	    c->interval_s > 60 || c->interval_s * 2 > c->duration_s ||
	    c->threads > LOAD_THREADS_MAX) {
		snprintf(err, errlen,
			 "out of range: duration up to 24 h, load up to 1 h, interval 10 ms to "
			 "60 s and at most half the duration, threads up to %d",
			 LOAD_THREADS_MAX);
		return -EINVAL;
	}
	return 0;
}

int jst_calibrate(const struct jst_calib_opts *o, struct jst_calibration *c, char *err,
		  size_t errlen)
{
	memset(c, 0, sizeof(*c));
	int r = check_opts(o, c, err, errlen);
	if (r < 0)
		return r;
	struct utsname u;
	jst__strlcpy(c->host, uname(&u) == 0 ? u.nodename : "unknown", sizeof(c->host));
	struct jst_sensor_opts so = {o->roots, o->sensors, o->no_estimate};
	struct jst_sensors *s = NULL;
	struct phase *idle = malloc(sizeof(*idle));
	if (!idle || (r = jst_sensors_open(&s, &so)) < 0 || jst_sensors_count(s) == 0) {
		snprintf(err, errlen, "%s",
			 !idle ? "out of memory" :
			 r < 0 ? jst_strerror(r) :
				 "no energy sensor and no estimate on this host");
		jst_sensors_close(s);
		free(idle);
		return r < 0 ? r : -ENOENT;
	}
	describe_zones(s, c);
	c->calibrated_ns = jst__wall_ns();
	measure(s, o, c, "idle", c->duration_s, idle);
	for (size_t i = 0; i < c->nzones; i++) {
		c->zones[i].samples = idle->ok[i];
		c->zones[i].idle_w =
			idle->ok[i] && idle->seconds > 0 ? idle->j[i] / idle->seconds : 0;
	}
	size_t checked = 0, passed = 0;
	if (strcmp(c->load, "cpu") == 0 || strcmp(c->load, "both") == 0)
		r = cpu_reference(s, o, c, &checked, &passed);
	if (strcmp(c->load, "gpu") == 0 || strcmp(c->load, "both") == 0)
		gpu_reference(c);
	if (strcmp(c->load, "none") == 0)
		say(c, "no reference workload (--load none);");
	c->ref_ok = checked > 0 && passed == checked;
	if (checked && !c->ref_ok)
		say(c,
		    " warning: a sensor did not rise by x%.1f under load: it may not measure this "
		    "device, or the host was busy (docs/integrity.md)",
		    JST_CALIB_LOAD_FACTOR);
	jst_sensors_close(s);
	free(idle);
	if (r == -EAGAIN)
		say(c, " (fewer load threads than asked could start)");
	return 0;
}
