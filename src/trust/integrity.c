/* Integrity flags, computed while a run is recorded: per tick only comparisons and additions
 * on state allocated once; the sentences are written at the end. What is flagged, and why the
 * thresholds are what they are, is in docs/integrity.md; a flag never changes a figure, it
 * says how far to trust it. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "trust/integrity.h"

#define GAP_INTERVALS 3.0      /* a gap: an interval longer than this many intervals... */
#define GAP_MIN_S 0.1          /* ...and longer than the interval by at least this */
#define POWER_WINDOW_S 1.0     /* power is judged on averages over at least this long */
#define POWER_ABSURD_W 20000.0 /* any single zone above this is a sensor error (no limit known) */
#define CLOCK_STEP_S 0.05      /* wall vs monotonic difference per tick that counts as a step... */
#define CLOCK_SLEW 0.001       /* ...plus this fraction of the tick (NTP slews at most 0.05 %) */

struct span { /* occurrences of one kind of trouble */
	unsigned long count;
	double seconds, first_s, value;
};

struct zone_check {
	bool ever_ok;      /* a valid reading came */
	double last_ok_s;  /* end of the last interval with a reading, s since the start */
	unsigned long bad; /* readings without a value since then */
	double appeared_s; /* first valid reading, when it came late (< 0: not late) */
	struct span gap, back, reset, over;
	bool gone;
	double gone_s;
	double win_j, win_s; /* the power window being filled */
};

struct jst__integrity {
	double interval_s, gap_s;
	uint64_t mono0, mono_prev, wall_prev;
	struct span loop_gap, clock;
	size_t nzones;
	struct zone_check z[]; /* [nzones] */
};

double jst__gap_threshold_s(double interval_s)
{
	double a = GAP_INTERVALS * interval_s, b = interval_s + GAP_MIN_S;
	return a > b ? a : b;
}

double jst__power_margin(enum jst_zone_kind kind)
{
	switch (kind) {
	case JST_KIND_GPU: return 1.25; /* the driver enforces its power limit on ~1 s averages */
	case JST_KIND_PACKAGE:
	case JST_KIND_CORE:
	case JST_KIND_UNCORE:
	case JST_KIND_DRAM:
	case JST_KIND_PSYS:
		return 2.5; /* max_power is TDP/PL1; PL2 turbo may reach ~2x for tens of seconds */
	default: return 1.5;
	}
}

int jst__integrity_new(struct jst__integrity **out, size_t nzones, double interval_s)
{
	struct jst__integrity *ig = calloc(1, sizeof(*ig) + nzones * sizeof(struct zone_check));
	if (!ig)
		return -ENOMEM;
	ig->nzones = nzones;
	ig->interval_s = interval_s;
	ig->gap_s = jst__gap_threshold_s(interval_s);
	*out = ig;
	return 0;
}

void jst__integrity_free(struct jst__integrity *ig)
{
	free(ig);
}

void jst__integrity_start(struct jst__integrity *ig, uint64_t mono_ns, uint64_t wall_ns)
{
	size_t n = ig->nzones;
	double iv = ig->interval_s, gap = ig->gap_s;
	memset(ig, 0, sizeof(*ig) + n * sizeof(struct zone_check));
	ig->nzones = n;
	ig->interval_s = iv;
	ig->gap_s = gap;
	ig->mono0 = ig->mono_prev = mono_ns;
	ig->wall_prev = wall_ns;
	for (size_t i = 0; i < n; i++)
		ig->z[i].appeared_s = -1;
}

static void hit(struct span *s, double t_s, double seconds, double value)
{
	if (s->count++ == 0)
		s->first_s = t_s;
	s->seconds += seconds;
	if (value > s->value)
		s->value = value;
}

/* The zone's power over windows of at least POWER_WINDOW_S. */
static void power_check(struct zone_check *zc, const struct jst_zone *zone, double t_s, double dt,
			double energy_j)
{
	if (!isfinite(energy_j) || energy_j < 0) {
		hit(&zc->over, t_s, dt, 0);
		return;
	}
	zc->win_j += energy_j;
	zc->win_s += dt;
	if (zc->win_s < POWER_WINDOW_S - 1e-9) /* ten 0.1 s ticks add up to 0.999... */
		return;
	double p = zc->win_j / zc->win_s;
	double limit = zone->max_power_w > 0 ? zone->max_power_w * jst__power_margin(zone->kind) :
					       POWER_ABSURD_W;
	if (p > limit)
		hit(&zc->over, t_s + dt - zc->win_s, zc->win_s, p);
	zc->win_j = zc->win_s = 0;
}

static void zone_tick(struct jst__integrity *ig, struct zone_check *zc, const struct jst_zone *zone,
		      const struct jst_reading *rd, double t_s, double dt)
{
	double te = t_s + dt;
	if ((rd->flags & JST_READ_GONE) && !zc->gone) {
		zc->gone = true;
		zc->gone_s = te;
	}
	if (rd->flags & JST_READ_RESET)
		hit(&zc->reset, t_s, dt, dt);
	else if (rd->flags & JST_READ_BACKWARDS)
		hit(&zc->back, t_s, dt, dt);
	if (!(rd->flags & (JST_READ_ENERGY | JST_READ_BACKWARDS))) {
		zc->bad++;
		return;
	}
	double silent = te - zc->last_ok_s; /* since the previous reading */
	if (!zc->ever_ok && zc->bad > 0 && te > ig->gap_s)
		zc->appeared_s = t_s;
	else if (zc->ever_ok && zc->bad > 0 && silent > ig->gap_s)
		hit(&zc->gap, zc->last_ok_s, silent, silent);
	zc->ever_ok = true;
	zc->bad = 0;
	zc->last_ok_s = te;
	/* the energy covers everything since the previous reading (the registry keeps counter
	 * and power-integration baselines across failed reads), not just this tick */
	if (rd->flags & JST_READ_ENERGY)
		power_check(zc, zone, t_s, silent, rd->energy_j);
}

void jst__integrity_tick(struct jst__integrity *ig, const struct jst_run *run, uint64_t mono_ns,
			 uint64_t wall_ns, const struct jst_reading *rd)
{
	double t_s = (double)(ig->mono_prev - ig->mono0) / 1e9;
	double dt = (double)(mono_ns - ig->mono_prev) / 1e9;
	if (dt > ig->gap_s)
		hit(&ig->loop_gap, t_s, dt - ig->interval_s, dt);
	/* the wall clock should advance as the monotonic one, up to NTP's slewing */
	double dw = ((double)wall_ns - (double)ig->wall_prev) / 1e9;
	double step = fabs(dw - dt);
	if (step > CLOCK_STEP_S + CLOCK_SLEW * dt)
		hit(&ig->clock, t_s, step, step);
	size_t nz = run->nzones < ig->nzones ? run->nzones : ig->nzones;
	for (size_t i = 0; i < nz; i++)
		zone_tick(ig, &ig->z[i], &run->zones[i].zone, &rd[i], t_s, dt);
	ig->mono_prev = mono_ns;
	ig->wall_prev = wall_ns;
}

static struct jst_run_flag *add(struct jst_run *run, enum jst_flag_kind kind, const char *zone,
				const struct span *s, double limit, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct jst_run_flag *add(struct jst_run *run, enum jst_flag_kind kind, const char *zone,
				const struct span *s, double limit, const char *fmt, ...)
{
	if (run->nflags == JST_FLAGS_MAX) {
		_Static_assert(JST_FLAGS_MAX == 24, "the note below names the ceiling");
		static const char more[] =
			"more integrity flags than kept (24): the first ones are listed";
		for (size_t i = 0; i < run->nnotes; i++)
			if (strcmp(run->notes[i], more) == 0)
				return NULL;
		jst_run_note(run, "%s", more);
		return NULL;
	}
	struct jst_run_flag *f = &run->flags[run->nflags++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	jst__strlcpy(f->zone, zone ? zone : "", sizeof(f->zone));
	if (s) {
		f->count = s->count;
		f->seconds = s->seconds;
		f->first_s = s->first_s;
		f->value = s->value;
	}
	f->limit = limit;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
	return f;
}

static void zone_flags(struct jst__integrity *ig, struct jst_run *run, size_t i, double end_s)
{
	const struct zone_check *zc = &ig->z[i];
	const struct jst_zone *z = &run->zones[i].zone;
	const char *how = z->flags & JST_ZONE_POWER_ONLY ?
				  "energy across it is interpolated from power" :
				  "its counter's energy arrived with the next read";
	if (zc->gap.count)
		add(run, JST_FLAG_SENSOR_GAP, z->name, &zc->gap, ig->gap_s,
		    "%s had no valid reading for up to %.3g s (%lu time%s, %.3g s in all; threshold "
		    "%.2g s): %s",
		    z->name, zc->gap.value, zc->gap.count, zc->gap.count == 1 ? "" : "s",
		    zc->gap.seconds, ig->gap_s, how);
	if (zc->back.count)
		add(run, JST_FLAG_BACKWARDS, z->name, &zc->back, 0,
		    "%s's counter went back %lu time%s with no known range: %.3g s of its energy is "
		    "missing from the totals",
		    z->name, zc->back.count, zc->back.count == 1 ? "" : "s", zc->back.seconds);
	if (zc->reset.count)
		add(run, JST_FLAG_RESET, z->name, &zc->reset, 0,
		    "%s's counter restarted %lu time%s (a driver reload or firmware: read as a wrap it "
		    "would mean over %.0f× the device's %.0f W): %.3g s of its energy is missing from "
		    "the totals, none of it invented",
		    z->name, zc->reset.count, zc->reset.count == 1 ? "" : "s", JST_RESET_FACTOR,
		    z->max_power_w, zc->reset.seconds);
	if (zc->appeared_s >= 0) {
		struct span s = {1, zc->appeared_s, zc->appeared_s, zc->appeared_s};
		add(run, JST_FLAG_APPEARED, z->name, &s, ig->gap_s,
		    "%s gave its first valid reading %.1f s into the run: its energy before then is "
		    "not measured",
		    z->name, zc->appeared_s);
	}
	if (zc->gone) {
		struct span s = {1, end_s - zc->gone_s, zc->gone_s, zc->gone_s};
		add(run, JST_FLAG_GONE, z->name, &s, 0,
		    "%s (%s) disappeared %.1f s into the run: its "
		    "last %.1f s are not measured",
		    z->name, z->source ? z->source : "?", zc->gone_s, end_s - zc->gone_s);
	} else if (!zc->ever_ok && end_s > 0) {
		struct span s = {1, end_s, 0, end_s};
		add(run, JST_FLAG_FAILED, z->name, &s, 0,
		    "%s never gave a valid reading: its energy "
		    "is missing",
		    z->name);
	} else if (end_s - zc->last_ok_s > ig->gap_s) {
		struct span s = {1, end_s - zc->last_ok_s, zc->last_ok_s, end_s - zc->last_ok_s};
		add(run, JST_FLAG_FAILED, z->name, &s, ig->gap_s,
		    "%s gave no valid reading for the "
		    "last %.1f s of the run: that energy is missing",
		    z->name, end_s - zc->last_ok_s);
	}
	if (zc->over.count) {
		double limit = z->max_power_w > 0 ? z->max_power_w * jst__power_margin(z->kind) :
						    POWER_ABSURD_W;
		if (z->max_power_w > 0)
			add(run, JST_FLAG_POWER, z->name, &zc->over, limit,
			    "%s averaged up to %.0f W over %g s windows, above its limit %.0f W x %.2g "
			    "(%lu window%s, %.1f s): a sensor error, or the limit is wrong",
			    z->name, zc->over.value, POWER_WINDOW_S, z->max_power_w,
			    jst__power_margin(z->kind), zc->over.count,
			    zc->over.count == 1 ? "" : "s", zc->over.seconds);
		else
			add(run, JST_FLAG_POWER, z->name, &zc->over, limit,
			    "%s reported an impossible power (up to %.0f W, or negative) in %lu window%s",
			    z->name, zc->over.value, zc->over.count,
			    zc->over.count == 1 ? "" : "s");
	}
}

static void estimate_flag(struct jst_run *run)
{
	char names[200] = "";
	size_t counted = 0, est = 0, off = 0;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone *z = &run->zones[i].zone;
		if (!(z->flags & JST_ZONE_COUNTED))
			continue;
		counted++;
		if (!(z->flags & JST_ZONE_ESTIMATE))
			continue;
		est++;
		int w = snprintf(names + off, sizeof(names) - off, "%s%s", off ? ", " : "",
				 z->name);
		if (w > 0 && (size_t)w < sizeof(names) - off)
			off += (size_t)w;
	}
	struct span s = {est, run->duration_s, 0, (double)est};
	if (est && est == counted)
		add(run, JST_FLAG_ESTIMATE, "", &s, 0,
		    "measured only by estimate: every counted zone "
		    "(%s) is modelled from CPU use and TDP, none is measured",
		    names);
	else if (est)
		add(run, JST_FLAG_ESTIMATE, "", &s, 0,
		    "partly estimated: %s modelled, the other counted "
		    "zones measured",
		    names);
}

void jst__integrity_finish(struct jst__integrity *ig, struct jst_run *run, uint64_t mono_ns,
			   unsigned long unstored)
{
	double end_s = (double)(mono_ns - ig->mono0) / 1e9;
	run->nflags = 0;
	if (run->nzones == 0)
		add(run, JST_FLAG_NO_SENSOR, "", NULL, 0,
		    "no energy sensor and no estimate: the "
		    "energy of this run is unknown");
	if (ig->loop_gap.count)
		add(run, JST_FLAG_GAP, "", &ig->loop_gap, ig->gap_s,
		    "sampling came late %lu time%s: longest interval %.2f s for %g s chosen (threshold "
		    "%.2g s), %.1f s late in all; counters keep the energy, the timeline is coarser "
		    "there",
		    ig->loop_gap.count, ig->loop_gap.count == 1 ? "" : "s", ig->loop_gap.value,
		    ig->interval_s, ig->gap_s, ig->loop_gap.seconds);
	for (size_t i = 0; i < ig->nzones && i < run->nzones; i++)
		zone_flags(ig, run, i, end_s);
	if (ig->clock.count)
		add(run, JST_FLAG_CLOCK, "", &ig->clock, CLOCK_STEP_S,
		    "the wall clock stepped %lu time%s against the monotonic clock (largest %.2f s): "
		    "start and end times and the intensity used may be off by that much; durations "
		    "and energy are not affected",
		    ig->clock.count, ig->clock.count == 1 ? "" : "s", ig->clock.value);
	estimate_flag(run);
	if (unstored) {
		struct span s = {unstored, 0, 0, (double)unstored};
		add(run, JST_FLAG_UNSTORED, "", &s, 0,
		    "%lu samples were not stored (buffer full): the "
		    "totals are complete but the stored log cannot reproduce them",
		    unstored);
	}
}
