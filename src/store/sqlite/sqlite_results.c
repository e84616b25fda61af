/* run_results in SQLite: one row per (run, data version, zone) with the figures that version
 * gave, so reprocessing never overwrites the run-time figure and `show` can say which version
 * each figure comes from. The columns mirror struct jst_run_result. */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/sqlite/sqlite_results.h"

#define COLS "data_version,zone_code,computed_ns,kind,ci_source,ci_avg_g_per_kwh,ci_min_g_per_kwh," \
	"ci_max_g_per_kwh,outside_kwh," \
	"it_kwh,facility_kwh,co2e_g,water_site_l,water_grid_l,water_l,embodied_g,sci_g," \
	"functional_units,functional_unit"

int jst__sqlite_result_put(sqlite3 *db, sqlite3_int64 rowid, const struct jst_run_result *r,
                           char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO run_results(run," COLS ") VALUES"
	                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "preparing a result: %s", sqlite3_errmsg(db));
		return -1;
	}
	int k = 1;
	const double nums[] = {r->ci_avg_g_per_kwh,
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
	sqlite3_bind_int64(st, k++, rowid);
	sqlite3_bind_text(st, k++, r->data_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, k++, r->zone_code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, k++, (sqlite3_int64)r->computed_ns);
	sqlite3_bind_text(st, k++, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, k++, r->ci_source, -1, SQLITE_STATIC);
	for (size_t i = 0; i < JST_ARRAY_LEN(nums); i++)
		sqlite3_bind_double(st, k++, nums[i]);
	sqlite3_bind_text(st, k++, r->functional_unit, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "writing a result: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

void jst__sqlite_results_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_run *run)
{
	sqlite3_stmt *st;
	run->nresults = 0;
	if (sqlite3_prepare_v2(db, "SELECT " COLS " FROM run_results WHERE run=?"
	                           " ORDER BY computed_ns DESC, data_version", -1, &st, NULL) != SQLITE_OK)
		return; /* a database from before the table: no results */
	sqlite3_bind_int64(st, 1, rowid);
	while (run->nresults < JST_RESULTS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		struct jst_run_result *r = &run->results[run->nresults++];
		double *nums[] = {&r->ci_avg_g_per_kwh,
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
		memset(r, 0, sizeof(*r));
		text(st, 0, r->data_version, sizeof(r->data_version));
		text(st, 1, r->zone_code, sizeof(r->zone_code));
		r->computed_ns = (uint64_t)sqlite3_column_int64(st, 2);
		text(st, 3, r->kind, sizeof(r->kind));
		text(st, 4, r->ci_source, sizeof(r->ci_source));
		for (size_t i = 0; i < JST_ARRAY_LEN(nums); i++)
			*nums[i] = sqlite3_column_double(st, 5 + (int)i);
		text(st, 5 + (int)JST_ARRAY_LEN(nums), r->functional_unit, sizeof(r->functional_unit));
	}
	sqlite3_finalize(st);
}
