/* The Kappa replay in the store: a stored run's sample events fed back through the integration
 * give what the same samples gave when fed live (same routine, same inputs to the nanosecond
 * the events are dated on, same order);
 * only counted zones count; results are kept per data version next to the run-time one,
 * newest first, and a second result of the same version replaces the first. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"
#include "joulestream/store.h"
#include "runlog.h"

#define S 1000000000LL
#define T0 1709251200LL

int main(void)
{
	char dir[] = "/tmp/jst-rep-XXXXXX", path[256], err[512];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/j.db", dir);
	struct jst_store *st;
	CHECK_INT(jst_store_open(&st, path, err, sizeof(err)), 0);
	static struct jst_run run, back;
	strcpy(run.id, "01JD0000000000000000000REP");
	strcpy(run.site.zone_code, "DE");
	run.site.ci_g_per_kwh = 342.06;
	run.site.pue = 1.2;
	run.site.wue_l_per_kwh = 0.3;
	run.site.ewif_l_per_kwh = 1.6;
	run.start_ns = (uint64_t)(T0 + 3000) * S;
	run.interval_s = 0.7;
	run.nzones = 2;
	strcpy(run.zones[0].zone.name, "package-0");
	run.zones[0].zone.flags = JST_ZONE_COUNTED;
	run.zones[0].zone.source = "rapl";
	strcpy(run.zones[1].zone.name, "core-0");
	run.zones[1].zone.kind = JST_KIND_CORE;
	run.zones[1].zone.source = "rapl";
	run.zones[1].zone.flags = 0;
	CHECK_INT(runlog_begin(st, &run), 0);

	static const char csv[] = "datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,100\n"
	                          "2024-03-01T00:55:00Z,DE,250\n2024-03-01T01:05:00Z,DE,175\n";
	struct jst_ci_file *f = NULL;
	CHECK_INT(jst_ci_parse(csv, sizeof(csv) - 1, "s.csv", NULL, &f, err, sizeof(err)), 0);
	const struct jst_series *s = jst_ci_select(f, "DE");
	/* 1200 ticks of 0.7 s with varying power, fed live and stored */
	struct jst_carbon_acc live;
	jst_carbon_acc_for_site(&live, &run.site, s);
	static struct jst_sample v[2400];
	for (int i = 0; i < 1200; i++) {
		double t = i * 0.7, e = 50 + (i % 13) * 7.5;
		v[2 * i] = (struct jst_sample){t, 0.7, 0, 1, e, e, e / 0.7, 0};
		v[2 * i + 1] = (struct jst_sample){t, 0.7, 1, 1, e / 2, e / 2, 0, 0};
		jst_carbon_acc_add(&live, run.start_ns, t, 0.7, e);
	}
	uint64_t seq[JST_ZONES_MAX] = {0};
	CHECK_INT(runlog_samples(st, &run, v, 2400, seq), 0);
	struct jst_carbon_acc replay;
	jst_carbon_acc_for_site(&replay, &run.site, s);
	CHECK_INT(jst_store_replay(st, &run, &replay), 1200); /* the core zone is not counted */
	/* the sample events are dated to the nanosecond: the same figure to rounding */
	CHECK_NEAR(replay.co2e_g, live.co2e_g, 1e-12 * live.co2e_g);
	CHECK(live.ci_min == 100 && live.ci_max == 250);
	CHECK(live.outside_kwh == 0);

	/* results: the run-time one at the end of the run, then a reprocessed one */
	jst_run_finish_totals(&run);
	jst_run_yearly_result(&run, &run.result);
	run.finished = true;
	run.end_ns = run.start_ns + 840 * (uint64_t)S;
	CHECK_INT(runlog_end(st, &run), 0);
	CHECK_INT(jst_store_run_end(st, &run), 0);
	jst_carbon_acc_result(&replay, &run.result);
	struct jst_run_result res;
	jst_run_result_from_run(&run, "reprocess", &res);
	res.computed_ns += 1000; /* later than the run-time row */
	CHECK_INT(jst_store_add_result(st, run.id, &res), 0);
	CHECK_INT(jst_store_add_result(st, run.id, &res), 0); /* same version: replaced */
	CHECK_INT(jst_store_load(st, run.id, &back), 0);
	CHECK_INT(back.nresults, 2);
	CHECK_HAS(back.results[0].data_version, "file:s.csv@sha256:");
	CHECK_STR(back.results[0].kind, "reprocess");
	CHECK_NEAR(back.results[0].footprint.co2e_g, live.co2e_g, 1e-12 * live.co2e_g);
	CHECK_STR(back.results[1].data_version, JST_DATA_VERSION);
	CHECK_STR(back.results[1].kind, "run");
	CHECK_STR(back.result.data_version, JST_DATA_VERSION); /* the run as recorded */
	jst_run_apply_result(&back, &back.results[0]);
	CHECK_NEAR(back.result.footprint.co2e_g, live.co2e_g, 1e-12 * live.co2e_g);
	CHECK_HAS(back.result.data_version, "file:s.csv");
	jst_ci_free(f);
	jst_store_close(st);
	unlink(path);
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	rmdir(dir);
	return check_done();
}
