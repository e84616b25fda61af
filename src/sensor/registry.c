/* The sensor set: probes every backend in the static table, opens the available ones, and reads
 * them at every tick. This file owns the failure policy (a failing backend is retried with an
 * exponential backoff and disabled after too many failures in a row) and turns power readings
 * into energy by trapezoidal integration. It does not know any hardware. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sensor/sensor.h"

/* Order matters: measuring backends first, so that later ones can see what is covered;
 * the estimate last, so that it stands in only for what nothing measures. */
static const struct jst_sensor_ops *const backends[] = {
	&jst__sensor_rapl,
	&jst__sensor_nvml,
	&jst__sensor_hwmon,
	&jst__sensor_estimate,
	NULL,
};

#define NBACKENDS (JST_ARRAY_LEN(backends) - 1)
#define FAIL_DISABLE 20       /* consecutive failures before a backend is disabled */
#define BACKOFF_MAX_TICKS 256 /* longest wait between retries, in reads */

struct backend_slot {
	const struct jst_sensor_ops *ops;
	void *state;
	size_t first, n;        /* its zones in the set */
	unsigned fails_in_row;  /* consecutive failed reads */
	unsigned skip;          /* reads to skip before the next try */
	unsigned backoff;       /* current backoff, in reads */
	struct jst_backend_status st;
};

struct zone_state {
	double last_power_w;    /* previous power reading, for the trapezoid */
	uint64_t last_ns;       /* time of the previous read of this zone */
	bool have_power;
	bool gone;
};

struct jst_sensors {
	struct jst_zone zones[JST_ZONES_MAX];
	struct zone_state zs[JST_ZONES_MAX];
	struct jst_reading raw[JST_ZONES_MAX];
	size_t nzones;
	struct backend_slot slots[NBACKENDS];
	size_t nslots;
	uint64_t last_ns;
};

static bool wanted(const char *only, const char *name)
{
	return !only || !*only || jst__list_has(only, name);
}

static enum jst_backend_state state_of(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM:
		return JST_BACKEND_FORBIDDEN;
	case -ENOENT:
	case -ENOTSUP:
	case -ENXIO:
		return JST_BACKEND_ABSENT;
	case -EALREADY:
		return JST_BACKEND_UNNEEDED;
	default:
		return JST_BACKEND_FAILED;
	}
}

int jst_sensors_open(struct jst_sensors **out, const struct jst_sensor_opts *opts)
{
	struct jst_sensor_opts none = {0};
	if (!opts)
		opts = &none;
	struct jst_sensors *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < NBACKENDS; i++) {
		const struct jst_sensor_ops *ops = backends[i];
		struct backend_slot *b = &s->slots[s->nslots++];
		b->ops = ops;
		b->st.name = ops->name;
		b->st.description = ops->description;
		b->first = s->nzones;
		if (!wanted(opts->only, ops->name) ||
		    (opts->no_estimate && ops == &jst__sensor_estimate)) {
			b->st.state = JST_BACKEND_DISABLED;
			snprintf(b->st.why, sizeof(b->st.why), "not selected");
			continue;
		}
		struct jst_sensor_ctx ctx = {opts->roots, s->zones, s->nzones};
		int r = ops->probe(&ctx, b->st.why, sizeof(b->st.why));
		if (r < 0) {
			b->st.state = state_of(r);
			continue;
		}
		b->st.why[0] = '\0';
		r = ops->open(&ctx, &b->state, s->zones + s->nzones, JST_ZONES_MAX - s->nzones,
		              b->st.why, sizeof(b->st.why));
		if (r < 0) {
			b->st.state = state_of(r);
			b->state = NULL;
			continue;
		}
		b->n = (size_t)r;
		b->st.nzones = b->n;
		b->st.state = JST_BACKEND_ACTIVE; /* why may keep a note: zones left out */
		s->nzones += b->n;
	}
	uint64_t now = jst__mono_ns();
	s->last_ns = now;
	/* Baseline power readings for the trapezoid; counters took theirs in open(). */
	for (size_t i = 0; i < s->nslots; i++) {
		struct backend_slot *b = &s->slots[i];
		if (b->st.state != JST_BACKEND_ACTIVE)
			continue;
		if (b->ops->read(b->state, s->raw + b->first) < 0)
			continue;
		for (size_t z = b->first; z < b->first + b->n; z++) {
			s->zs[z].last_ns = now;
			if (s->raw[z].flags & JST_READ_POWER) {
				s->zs[z].last_power_w = s->raw[z].power_w;
				s->zs[z].have_power = true;
			}
		}
	}
	*out = s;
	return 0;
}

void jst_sensors_close(struct jst_sensors *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].state && s->slots[i].ops->close)
			s->slots[i].ops->close(s->slots[i].state);
	free(s);
}

size_t jst_sensors_count(const struct jst_sensors *s)
{
	return s->nzones;
}

const struct jst_zone *jst_sensors_zone(const struct jst_sensors *s, size_t i)
{
	return i < s->nzones ? &s->zones[i] : NULL;
}

size_t jst_sensors_backend_count(const struct jst_sensors *s)
{
	return s->nslots;
}

const struct jst_backend_status *jst_sensors_backend(const struct jst_sensors *s, size_t i)
{
	return i < s->nslots ? &s->slots[i].st : NULL;
}

bool jst_sensors_estimated(const struct jst_sensors *s)
{
	for (size_t i = 0; i < s->nzones; i++)
		if ((s->zones[i].flags & JST_ZONE_ESTIMATE) && (s->zones[i].flags & JST_ZONE_COUNTED))
			return true;
	return false;
}

static void backend_failed(struct backend_slot *b, int err)
{
	b->st.failures++;
	b->fails_in_row++;
	if (b->fails_in_row >= FAIL_DISABLE) {
		b->st.state = JST_BACKEND_DISABLED;
		snprintf(b->st.why, sizeof(b->st.why),
		         "disabled after %u failed reads in a row (last: %s)", b->fails_in_row,
		         jst_strerror(err));
		return;
	}
	b->backoff = b->backoff ? b->backoff * 2 : 1;
	if (b->backoff > BACKOFF_MAX_TICKS)
		b->backoff = BACKOFF_MAX_TICKS;
	b->skip = b->backoff;
	snprintf(b->st.why, sizeof(b->st.why), "read failed: %s (retrying)", jst_strerror(err));
}

/* Turns a backend's raw reading of zone z into the interval's energy and average power. */
static int settle(struct jst_sensors *s, size_t z, uint64_t now_ns, struct jst_reading *o)
{
	struct zone_state *zs = &s->zs[z];
	const struct jst_reading *r = &s->raw[z];
	double dt = (double)(now_ns - zs->last_ns) / 1e9;
	o->flags = r->flags & ~(unsigned)(JST_READ_ENERGY | JST_READ_POWER);
	o->energy_j = 0;
	o->power_w = 0;
	if (r->flags & JST_READ_GONE)
		zs->gone = true;
	if (r->flags & (JST_READ_FAILED | JST_READ_GONE)) {
		/* Nothing valid now. Leave the zone's last good time and power alone: a counter's
		 * next delta covers the gap, and the next power reading is integrated across it
		 * from the last good one. */
		o->flags |= JST_READ_FAILED;
		return 1;
	}
	if ((r->flags & (JST_READ_WRAP | JST_READ_ENERGY)) == (JST_READ_WRAP | JST_READ_ENERGY) &&
	    s->zones[z].max_power_w > 0 && dt > 0 &&
	    r->energy_j / dt > JST_RESET_FACTOR * s->zones[z].max_power_w) {
		/* Not a wrap: the counter restarted from low (a reload), so the wrap's delta would be
		 * impossible power. The backend already took the new value as its baseline; the
		 * energy between the last value and the restart is unknown, as when a counter goes
		 * back with no known range. */
		o->flags =
			(o->flags & ~(unsigned)JST_READ_WRAP) | JST_READ_BACKWARDS | JST_READ_RESET;
		zs->last_ns = now_ns;
		return 1;
	}
	if (r->flags & JST_READ_BACKWARDS) {
		/* The counter restarted with no known range: this interval's energy is unknown,
		 * never invented; the backend has taken a new baseline. */
		zs->last_ns = now_ns;
		return 1;
	}
	if (r->flags & JST_READ_ENERGY) {
		o->energy_j = r->energy_j;
		o->flags |= JST_READ_ENERGY;
		if (r->flags & JST_READ_POWER)
			o->power_w = r->power_w;
		else if (dt > 0)
			o->power_w = r->energy_j / dt;
	} else if (r->flags & JST_READ_POWER) {
		double p0 = zs->have_power ? zs->last_power_w : r->power_w;
		o->energy_j = dt > 0 ? (p0 + r->power_w) / 2 * dt : 0;
		o->power_w = r->power_w;
		o->flags |= JST_READ_ENERGY | JST_READ_POWER;
		zs->last_power_w = r->power_w;
		zs->have_power = true;
	}
	zs->last_ns = now_ns;
	return 0;
}

int jst_sensors_read(struct jst_sensors *s, uint64_t now_ns, struct jst_reading *out)
{
	int problems = 0;
	for (size_t i = 0; i < s->nslots; i++) {
		struct backend_slot *b = &s->slots[i];
		if (b->n == 0)
			continue;
		bool ok = b->st.state == JST_BACKEND_ACTIVE;
		if (ok && b->skip > 0) {
			b->skip--;
			ok = false;
		} else if (ok) {
			int r = b->ops->read(b->state, s->raw + b->first);
			if (r < 0) {
				backend_failed(b, r);
				ok = false;
			} else {
				b->fails_in_row = 0;
				b->backoff = 0;
			}
		}
		for (size_t z = b->first; z < b->first + b->n; z++) {
			if (!ok || s->zs[z].gone) {
				/* Skipped or failed: counters keep counting, so leave last_ns alone
				 * and the next good read covers the whole gap. */
				out[z] = (struct jst_reading){0, 0, JST_READ_FAILED};
				if (s->zs[z].gone)
					out[z].flags |= JST_READ_GONE;
				problems++;
				continue;
			}
			problems += settle(s, z, now_ns, &out[z]);
		}
	}
	s->last_ns = now_ns;
	return problems;
}

int jst_sensors_gpu_procs(struct jst_sensors *s, size_t i, struct jst_gpu_proc *out, size_t max)
{
	for (size_t k = 0; k < s->nslots; k++) {
		struct backend_slot *b = &s->slots[k];
		if (i < b->first || i >= b->first + b->n)
			continue;
		if (!b->ops->gpu_procs || b->st.state != JST_BACKEND_ACTIVE)
			return -ENOTSUP;
		return b->ops->gpu_procs(b->state, i - b->first, out, max);
	}
	return -EINVAL;
}

void jst_sensors_drivers(const struct jst_sensors *s, char *buf, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < s->nslots; i++) {
		const struct backend_slot *b = &s->slots[i];
		char one[128];
		if (b->st.state != JST_BACKEND_ACTIVE || !b->ops->driver ||
		    b->ops->driver(b->state, one, sizeof(one)) < 0)
			continue;
		int w = snprintf(buf + off, n - off, "%s%s", off ? ", " : "", one);
		if (w < 0 || (size_t)w >= n - off)
			break;
		off += (size_t)w;
	}
}

const char *jst_zone_kind_name(enum jst_zone_kind k)
{
	static const char *const names[] = {"package", "core", "uncore", "dram", "psys", "gpu", "other"};
	return (unsigned)k < JST_ARRAY_LEN(names) ? names[k] : "?";
}

const char *jst_backend_state_name(enum jst_backend_state st)
{
	static const char *const names[] = {"active", "absent", "forbidden", "unneeded", "disabled", "failed"};
	return (unsigned)st < JST_ARRAY_LEN(names) ? names[st] : "?";
}

const char *jst__source_name(const char *name)
{
	for (size_t i = 0; backends[i]; i++)
		if (name && strcmp(name, backends[i]->name) == 0)
			return backends[i]->name;
	return "unknown";
}
