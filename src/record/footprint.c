/* The footprint fields of a run record from the carbon accumulator (src/carbon/integrate.c):
 * the accumulator started from the run's site, its figures written into the run with the
 * series' provenance, the yearly-average figures, a bounded timeline fed to it, and result rows
 * (run_results) made from and put back into a run. Pure: no I/O, no allocation. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/record.h"

void jst_carbon_acc_for_run(struct jst_carbon_acc *a, const struct jst_run *run,
                            const struct jst_series *series)
{
	jst_carbon_acc_init(a, series, run->ci_g_per_kwh, run->pue, run->wue_l_per_kwh,
	                    run->ewif_l_per_kwh);
}

static void describe_series(const struct jst_carbon_acc *a, char *out, size_t n)
{
	const struct jst_series *s = a->series;
	char t0[32], t1[32];
	jst__format_iso8601(s->pts[0].t_ns, t0, sizeof(t0));
	jst__format_iso8601(jst_series_end(s, s->n - 1), t1, sizeof(t1));
	snprintf(out, n, "%.80s, %zu value%s from %s to %s", s->source, s->n,
	         s->n == 1 ? "" : "s", t0, t1);
}

void jst_carbon_acc_apply(const struct jst_carbon_acc *a, struct jst_run *run)
{
	struct jst_footprint *fp = &run->footprint;
	fp->it_kwh = a->it_kwh;
	fp->facility_kwh = a->facility_kwh;
	fp->co2e_g = a->co2e_g;
	fp->water_site_l = a->water_site_l;
	fp->water_grid_l = a->water_grid_l;
	fp->water_l = a->water_site_l + a->water_grid_l;
	run->series_outside_kwh = a->series ? a->outside_kwh : 0;
	run->ci_avg_g_per_kwh = a->facility_kwh > 0 ? a->co2e_g / a->facility_kwh : a->ci_year;
	run->ci_min_g_per_kwh = a->ci_min <= a->ci_max ? a->ci_min : a->ci_year;
	run->ci_max_g_per_kwh = a->ci_min <= a->ci_max ? a->ci_max : a->ci_year;
	if (a->series && a->outside_kwh > 0) { /* the yearly average was in force too */
		run->ci_min_g_per_kwh = fmin(run->ci_min_g_per_kwh, a->ci_year);
		run->ci_max_g_per_kwh = fmax(run->ci_max_g_per_kwh, a->ci_year);
	}
	if (!a->series) {
		run->ci_series[0] = '\0';
		snprintf(run->data_version, sizeof(run->data_version), "%s", JST_DATA_VERSION);
		return;
	}
	describe_series(a, run->ci_series, sizeof(run->ci_series));
	/* energy outside the series used the bundled yearly average: both versions produced it */
	snprintf(run->data_version, sizeof(run->data_version), "%.120s%s", a->series->version,
	         a->outside_kwh > 0 ? "+" JST_DATA_VERSION : "");
}

void jst_carbon_acc_timeline(struct jst_carbon_acc *a, const struct jst_run *run,
                             const struct jst_timeline *tl)
{
	size_t nz = tl->nzones < run->nzones ? tl->nzones : run->nzones;
	for (size_t p = 0; p < tl->npoints; p++)
		for (size_t z = 0; z < nz; z++)
			if (run->zones[z].zone.flags & JST_ZONE_COUNTED)
				jst_carbon_acc_add(a, run->start_ns, tl->t_s[p], tl->dt_s[p],
				                   tl->run_j[p * tl->nzones + z]);
}

void jst_run_yearly_footprint(struct jst_run *run)
{
	jst_run_finish_totals(run);
	run->ci_series[0] = '\0';
	run->series_outside_kwh = 0;
	run->ci_avg_g_per_kwh = run->ci_g_per_kwh;
	run->ci_min_g_per_kwh = run->ci_max_g_per_kwh = run->ci_g_per_kwh;
	snprintf(run->data_version, sizeof(run->data_version), "%s", JST_DATA_VERSION);
}

void jst_run_result_from_run(const struct jst_run *run, const char *kind, struct jst_run_result *res)
{
	memset(res, 0, sizeof(*res));
	jst__strlcpy(res->data_version, run->data_version[0] ? run->data_version : JST_DATA_VERSION,
	             sizeof(res->data_version));
	res->computed_ns = jst__wall_ns();
	jst__strlcpy(res->kind, kind, sizeof(res->kind));
	jst__strlcpy(res->zone_code, run->zone_code, sizeof(res->zone_code));
	if (run->ci_series[0])
		jst__strlcpy(res->ci_source, run->ci_series, sizeof(res->ci_source));
	else
		snprintf(res->ci_source, sizeof(res->ci_source), "%.180s", run->ci_source);
	res->ci_avg_g_per_kwh = run->ci_avg_g_per_kwh;
	res->ci_min_g_per_kwh = run->ci_min_g_per_kwh;
	res->ci_max_g_per_kwh = run->ci_max_g_per_kwh;
	res->outside_kwh = run->series_outside_kwh;
	res->it_kwh = run->footprint.it_kwh;
	res->facility_kwh = run->footprint.facility_kwh;
	res->co2e_g = run->footprint.co2e_g;
	res->water_site_l = run->footprint.water_site_l;
	res->water_grid_l = run->footprint.water_grid_l;
	res->water_l = run->footprint.water_l;
	res->embodied_g = run->embodied_g;
	res->sci_g = run->sci_g;
	res->functional_units = run->functional_units;
	jst__strlcpy(res->functional_unit, run->functional_unit, sizeof(res->functional_unit));
}

void jst_run_apply_result(struct jst_run *run, const struct jst_run_result *res)
{
	jst__strlcpy(run->data_version, res->data_version, sizeof(run->data_version));
	if (res->zone_code[0] && strcmp(res->zone_code, run->zone_code) != 0) {
		const struct jst_grid_zone *z = jst_grid_zone_find(res->zone_code);
		jst__strlcpy(run->zone_code, res->zone_code, sizeof(run->zone_code));
		if (z) {
			jst__strlcpy(run->zone_name, z->name, sizeof(run->zone_name));
			run->ci_g_per_kwh = z->ci_g_per_kwh;
			run->ci_year = z->year;
			jst__strlcpy(run->ci_source, z->ci_source, sizeof(run->ci_source));
			run->ewif_l_per_kwh = z->ewif_l_per_kwh;
			jst__strlcpy(run->ewif_source, z->ewif_source, sizeof(run->ewif_source));
		}
		run->zone_origin = JST_ORIGIN_OPTION;
	}
	bool series = strncmp(res->data_version, "bundled", 7) != 0;
	jst__strlcpy(run->ci_series, series ? res->ci_source : "", sizeof(run->ci_series));
	run->ci_avg_g_per_kwh = res->ci_avg_g_per_kwh;
	run->ci_min_g_per_kwh = res->ci_min_g_per_kwh;
	run->ci_max_g_per_kwh = res->ci_max_g_per_kwh;
	run->series_outside_kwh = res->outside_kwh;
	run->footprint.it_kwh = res->it_kwh;
	run->footprint.facility_kwh = res->facility_kwh;
	run->footprint.co2e_g = res->co2e_g;
	run->footprint.water_site_l = res->water_site_l;
	run->footprint.water_grid_l = res->water_grid_l;
	run->footprint.water_l = res->water_l;
	run->embodied_g = res->embodied_g;
	run->sci_g = res->sci_g;
	run->functional_units = res->functional_units;
	jst__strlcpy(run->functional_unit, res->functional_unit, sizeof(run->functional_unit));
}
