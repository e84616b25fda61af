/* A run's results by data version in PostgreSQL (run_results, keyed by the run id of the event
 * log): the run-time figure and every `joulestream reprocess`, as sqlite_results.c keeps them,
 * so that `show` says which data each figure comes from whatever the database. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

#define COLS "data_version,zone_code,computed_ns,kind,ci_source,ci_avg_g_per_kwh,ci_min_g_per_kwh," \
	"ci_max_g_per_kwh,outside_kwh,it_kwh,facility_kwh,co2e_g,water_site_l,water_grid_l,water_l," \
	"embodied_g,sci_g,functional_units,functional_unit"
#define NUMS 13

int jst__pg_add_result(struct jst_store *s, const char *run_id, const struct jst_run_result *r)
{
	char num[NUMS][32], computed[24];
	const double v[NUMS] = {r->ci_avg_g_per_kwh,
				r->ci_min_g_per_kwh,
				r->ci_max_g_per_kwh,
				r->outside_kwh,
				r->footprint.it_kwh,
				r->footprint.facility_kwh,
				r->footprint.co2e_g,
				r->footprint.water_site_l,
				r->footprint.water_grid_l,
				r->footprint.water_l,
				r->embodied_g,
				r->sci_g,
				r->functional_units};
	const char *p[6 + NUMS];
	p[0] = run_id;
	p[1] = r->data_version;
	p[2] = r->zone_code;
	snprintf(computed, sizeof(computed), "%llu", (unsigned long long)r->computed_ns);
	p[3] = computed;
	p[4] = r->kind;
	p[5] = r->ci_source;
	for (int i = 0; i < NUMS; i++) {
		snprintf(num[i], sizeof(num[i]), "%.17g", v[i]);
		p[6 + i] = num[i];
	}
	const char *params[6 + NUMS + 1];
	memcpy(params, p, sizeof(p));
	params[6 + NUMS] = r->functional_unit;
	int rc;
	PGresult *res = jst__pg_query(s, "INSERT INTO run_results(run," COLS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
	                              "$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) ON CONFLICT(run,data_version,zone_code)"
	                              " DO UPDATE SET computed_ns=excluded.computed_ns,kind=excluded.kind,"
	                              "ci_source=excluded.ci_source,ci_avg_g_per_kwh=excluded.ci_avg_g_per_kwh,"
	                              "ci_min_g_per_kwh=excluded.ci_min_g_per_kwh,ci_max_g_per_kwh=excluded.ci_max_g_per_kwh,"
	                              "outside_kwh=excluded.outside_kwh,it_kwh=excluded.it_kwh,"
	                              "facility_kwh=excluded.facility_kwh,co2e_g=excluded.co2e_g,"
	                              "water_site_l=excluded.water_site_l,water_grid_l=excluded.water_grid_l,"
	                              "water_l=excluded.water_l,embodied_g=excluded.embodied_g,sci_g=excluded.sci_g,"
	                              "functional_units=excluded.functional_units,functional_unit=excluded.functional_unit",
	                              6 + NUMS + 1, params, PGRES_COMMAND_OK, &rc, "writing a result");
	if (res)
		jst__pq.PQclear(res);
	return rc;
}

void jst__pg_load_extras(struct jst_store *s, struct jst_run *run)
{
	const char *id = run->id;
	int rc;
	run->nresults = 0;
	PGresult *res = jst__pg_query(s, "SELECT " COLS " FROM run_results WHERE run=$1 ORDER BY computed_ns DESC,"
	                              " data_version", 1, &id, PGRES_TUPLES_OK, &rc, "reading results");
	if (!res)
		return;
	int rows = jst__pq.PQntuples(res);
	for (int i = 0; i < rows && run->nresults < JST_RESULTS_MAX; i++) {
		struct jst_run_result *r = &run->results[run->nresults++];
		memset(r, 0, sizeof(*r));
		double *v[NUMS] = {&r->ci_avg_g_per_kwh,
				   &r->ci_min_g_per_kwh,
				   &r->ci_max_g_per_kwh,
				   &r->outside_kwh,
				   &r->footprint.it_kwh,
				   &r->footprint.facility_kwh,
				   &r->footprint.co2e_g,
				   &r->footprint.water_site_l,
				   &r->footprint.water_grid_l,
				   &r->footprint.water_l,
				   &r->embodied_g,
				   &r->sci_g,
				   &r->functional_units};
		jst__pg_text(res, i, 0, r->data_version, sizeof(r->data_version));
		jst__pg_text(res, i, 1, r->zone_code, sizeof(r->zone_code));
		r->computed_ns = (uint64_t)jst__pg_i64(res, i, 2);
		jst__pg_text(res, i, 3, r->kind, sizeof(r->kind));
		jst__pg_text(res, i, 4, r->ci_source, sizeof(r->ci_source));
		for (int k = 0; k < NUMS; k++)
			*v[k] = jst__pg_f64(res, i, 5 + k);
		jst__pg_text(res, i, 5 + NUMS, r->functional_unit, sizeof(r->functional_unit));
	}
	jst__pq.PQclear(res);
}
