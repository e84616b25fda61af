/* The integration of carbon and water over time (docs/methodology.md, "Integration over
 * time"): one routine, jst_carbon_acc_add(), used by the monitor at every tick and by
 * reprocessing over stored samples, so the two give the same figure for the same data. The glue
 * between the accumulator and a run record (its footprint fields, result rows) is
 * src/record/footprint.c: this file knows no run. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/intensity.h"

#define J_PER_KWH 3.6e6

static double usable(double v)
{
	return isfinite(v) && v >= 0 ? v : 0;
}

void jst_carbon_acc_init(struct jst_carbon_acc *a, const struct jst_series *series, double ci_year,
                         double pue, double wue, double ewif)
{
	memset(a, 0, sizeof(*a));
	a->series = series && series->n ? series : NULL;
	a->ci_year = usable(ci_year);
	a->pue = isfinite(pue) && pue >= 1 ? pue : 1;
	a->wue = usable(wue);
	a->ewif = usable(ewif);
	a->ci_min = INFINITY;
	a->ci_max = -INFINITY;
}

static int64_t to_ns(double s)
{
	return (int64_t)llround(s * 1e9);
}

/* The part [t, t1) of an interval of dur ns holding kwh of IT energy, at the series value
 * in force at t. Returns where that value stops (or t1). */
static int64_t segment(struct jst_carbon_acc *a, int64_t t, int64_t t1, int64_t dur, double kwh)
{
	const struct jst_series *s = a->series;
	ssize_t i = jst_series_find(s, t, &a->hint);
	int64_t next;
	double ci;
	if (i < 0) {
		next = t < s->pts[0].t_ns && s->pts[0].t_ns < t1 ? s->pts[0].t_ns : t1;
		ci = a->ci_year;
	} else {
		int64_t e = jst_series_end(s, (size_t)i);
		next = e < t1 ? e : t1;
		ci = s->pts[i].ci_g_per_kwh;
	}
	double part = kwh * (double)(next - t) / (double)dur;
	a->co2e_g += part * a->pue * ci;
	if (i < 0) {
		a->outside_kwh += part;
	} else {
		if (ci < a->ci_min)
			a->ci_min = ci;
		if (ci > a->ci_max)
			a->ci_max = ci;
	}
	return next;
}

void jst_carbon_acc_add(struct jst_carbon_acc *a, uint64_t start_ns, double t_s, double dt_s,
                        double energy_j)
{
	if (!(energy_j > 0) || !isfinite(energy_j))
		return;
	double kwh = energy_j / J_PER_KWH;
	a->it_kwh += kwh;
	a->facility_kwh += kwh * a->pue;
	a->water_site_l += kwh * a->wue;
	a->water_grid_l += kwh * a->pue * a->ewif;
	if (!a->series) {
		a->co2e_g += kwh * a->pue * a->ci_year;
		return;
	}
	int64_t t0 = (int64_t)start_ns + to_ns(t_s);
	int64_t dur = isfinite(dt_s) && dt_s > 0 ? to_ns(dt_s) : 0;
	if (dur <= 0) { /* an instant: all of it at the value in force then */
		segment(a, t0, t0 + 1, 1, kwh);
		return;
	}
	for (int64_t t = t0, t1 = t0 + dur; t < t1;)
		t = segment(a, t, t1, dur, kwh);
}
