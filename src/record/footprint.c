/* A run's footprint result from the carbon accumulator (src/carbon/integrate.c): the
 * accumulator started from the run's site, its figures as a result with the series'
 * provenance, the yearly-average result, a bounded timeline fed to it, and result rows
 * (run_results) made from and put back into a run. Pure: no I/O, no allocation. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/record.h"

void jst_carbon_acc_for_site(struct jst_carbon_acc *a, const struct jst_run_site *site,
			     const struct jst_series *series)
{
	jst_carbon_acc_init(a, series, site->ci_g_per_kwh, site->pue, site->wue_l_per_kwh,
			    site->ewif_l_per_kwh);
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

void jst_carbon_acc_result(const struct jst_carbon_acc *a, struct jst_run_result *res)
{
	struct jst_footprint *fp = &res->footprint;
	fp->it_kwh = a->it_kwh;
	fp->facility_kwh = a->facility_kwh;
	fp->co2e_g = a->co2e_g;
	fp->water_site_l = a->water_site_l;
	fp->water_grid_l = a->water_grid_l;
	fp->water_l = a->water_site_l + a->water_grid_l;
	res->outside_kwh = a->series ? a->outside_kwh : 0;
	res->ci_avg_g_per_kwh = a->facility_kwh > 0 ? a->co2e_g / a->facility_kwh : a->ci_year;
	res->ci_min_g_per_kwh = a->ci_min <= a->ci_max ? a->ci_min : a->ci_year;
	res->ci_max_g_per_kwh = a->ci_min <= a->ci_max ? a->ci_max : a->ci_year;
	if (a->series && a->outside_kwh > 0) { /* the yearly average was in force too */
		res->ci_min_g_per_kwh = fmin(res->ci_min_g_per_kwh, a->ci_year);
		res->ci_max_g_per_kwh = fmax(res->ci_max_g_per_kwh, a->ci_year);
	}
	if (!a->series) {
		res->ci_series[0] = '\0';
		snprintf(res->data_version, sizeof(res->data_version), "%s", JST_DATA_VERSION);
		return;
	}
	describe_series(a, res->ci_series, sizeof(res->ci_series));
	/* energy outside the series used the bundled yearly average: both versions produced it */
	snprintf(res->data_version, sizeof(res->data_version), "%.120s%s", a->series->version,
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

void jst_run_yearly_result(const struct jst_run *run, struct jst_run_result *res)
{
	const struct jst_run_site *site = &run->site;
	struct jst_grid_zone gz = {
		.code = site->zone_code,
		.name = site->zone_name,
		.ci_g_per_kwh = site->ci_g_per_kwh,
		.year = site->ci_year,
		.ewif_l_per_kwh = site->ewif_l_per_kwh,
	};
	struct jst_footprint_in in = {
		.it_energy_j = run->run_j,
		.pue = site->pue,
		.wue_l_per_kwh = site->wue_l_per_kwh,
		.zone = &gz,
	};
	jst_footprint(&in, &res->footprint);
	res->ci_series[0] = '\0';
	res->outside_kwh = 0;
	res->ci_avg_g_per_kwh = site->ci_g_per_kwh;
	res->ci_min_g_per_kwh = res->ci_max_g_per_kwh = site->ci_g_per_kwh;
	snprintf(res->data_version, sizeof(res->data_version), "%s", JST_DATA_VERSION);
}

void jst_run_result_from_run(const struct jst_run *run, const char *kind, struct jst_run_result *res)
{
	*res = run->result;
	if (!res->data_version[0])
		jst__strlcpy(res->data_version, JST_DATA_VERSION, sizeof(res->data_version));
	res->computed_ns = jst__wall_ns();
	jst__strlcpy(res->kind, kind, sizeof(res->kind));
	jst__strlcpy(res->zone_code, run->site.zone_code, sizeof(res->zone_code));
	if (run->result.ci_series[0])
		jst__strlcpy(res->ci_source, run->result.ci_series, sizeof(res->ci_source));
	else
		snprintf(res->ci_source, sizeof(res->ci_source), "%.180s", run->site.ci_source);
}

void jst_run_apply_result(struct jst_run *run, const struct jst_run_result *res)
{
	struct jst_run_site *site = &run->site;
	if (res->zone_code[0] && strcmp(res->zone_code, site->zone_code) != 0) {
		const struct jst_grid_zone *z = jst_grid_zone_find(res->zone_code);
		jst__strlcpy(site->zone_code, res->zone_code, sizeof(site->zone_code));
		if (z) {
			jst__strlcpy(site->zone_name, z->name, sizeof(site->zone_name));
			site->ci_g_per_kwh = z->ci_g_per_kwh;
			site->ci_year = z->year;
			jst__strlcpy(site->ci_source, z->ci_source, sizeof(site->ci_source));
			site->ewif_l_per_kwh = z->ewif_l_per_kwh;
			jst__strlcpy(site->ewif_source, z->ewif_source, sizeof(site->ewif_source));
		}
		site->zone_origin = JST_ORIGIN_OPTION;
	}
	struct jst_run_result *cur = &run->result;
	char fallback[sizeof(cur->ci_fallback)], embodied[sizeof(cur->embodied_source)];
	memcpy(fallback, cur->ci_fallback, sizeof(fallback));
	memcpy(embodied, cur->embodied_source, sizeof(embodied));
	*cur = *res;
	memcpy(cur->ci_fallback, fallback, sizeof(fallback));
	memcpy(cur->embodied_source, embodied, sizeof(embodied));
	bool series = strncmp(res->data_version, "bundled", 7) != 0;
	jst__strlcpy(cur->ci_series, series ? res->ci_source : "", sizeof(cur->ci_series));
}
