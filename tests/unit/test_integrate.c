/* The integration of carbon and water over time, against values computed by hand: intervals
 * split exactly where the intensity changes (hour boundaries), energy before and after a
 * series charged at the yearly average and counted, instants, water with and without a known
 * EWIF, golden yearly figures for a few zones (India, Norway, France, CAISO), the bounded
 * timeline feeding the same routine, SCI with the embodied data, and result rows. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "core/util.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"

#define S 1000000000LL
#define T0 1709251200LL /* 2024-03-01T00:00:00Z */
#define GAL 3.785411784e-3

static struct jst_ci_file *hourly(void)
{
	static const char csv[] = "datetime,zone,ci_g_per_kwh\n"
	                          "2024-03-01T00:00:00Z,DE,100\n"
	                          "2024-03-01T01:00:00Z,DE,200\n"
	                          "2024-03-01T02:00:00Z,DE,300\n";
	struct jst_ci_file *f = NULL;
	char err[256];
	CHECK_INT(jst_ci_parse(csv, sizeof(csv) - 1, "h.csv", NULL, &f, err, sizeof(err)), 0);
	return f;
}

static void test_hour_boundaries(void)
{
	struct jst_ci_file *f = hourly();
	const struct jst_series *s = jst_ci_select(f, "DE");
	struct jst_carbon_acc a;
	uint64_t start = (uint64_t)(T0 + 3590) * S; /* the run starts at 00:59:50 */
	jst_carbon_acc_init(&a, s, 342.06, 1.5, 0.5, -1);
	/* 3600 J = 1 Wh over 20 s across 01:00: 10 s at 100, 10 s at 200 */
	jst_carbon_acc_add(&a, start, 0, 20, 3600);
	CHECK_NEAR(a.co2e_g, 0.001 * 1.5 * (0.5 * 100 + 0.5 * 200), 1e-12); /* 0.225 g */
	/* 1 kWh from 01:00:10 to 02:00:10: 3590 s at 200 and 10 s at 300 */
	jst_carbon_acc_add(&a, start, 20, 3600, 3.6e6);
	CHECK_NEAR(a.co2e_g, 0.225 + 1.5 * (3590.0 / 3600 * 200 + 10.0 / 3600 * 300), 1e-9);
	CHECK_NEAR(a.co2e_g - 0.225, 300.41666666666667, 1e-9);
	CHECK_NEAR(a.outside_kwh, 0, 0);
	CHECK_NEAR(a.ci_min, 100, 0);
	CHECK_NEAR(a.ci_max, 300, 0);
	/* the last value holds one hour (the gap before it): 03:00 onwards is outside */
	double before = a.co2e_g;
	jst_carbon_acc_add(&a, (uint64_t)(T0 + 2 * 3600 + 1800) * S, 0, 3600, 3.6e6);
	CHECK_NEAR(a.co2e_g - before, 1.5 * (0.5 * 300 + 0.5 * 342.06), 1e-9);
	CHECK_NEAR(a.outside_kwh, 0.5, 1e-12);
	/* before the first value: all outside */
	before = a.co2e_g;
	jst_carbon_acc_add(&a, (uint64_t)(T0 - 7200) * S, 0, 60, 3.6e6);
	CHECK_NEAR(a.co2e_g - before, 1.5 * 342.06, 1e-9);
	CHECK_NEAR(a.outside_kwh, 1.5, 1e-12);
	/* straddling the start of the series */
	before = a.co2e_g;
	jst_carbon_acc_add(&a, (uint64_t)(T0 - 30) * S, 0, 60, 3.6e6);
	CHECK_NEAR(a.co2e_g - before, 1.5 * (0.5 * 342.06 + 0.5 * 100), 1e-9);
	CHECK_NEAR(a.outside_kwh, 2.0, 1e-12);
	/* an instant (dt 0) takes the value in force */
	before = a.co2e_g;
	jst_carbon_acc_add(&a, (uint64_t)(T0 + 3600) * S, 0, 0, 3.6e6);
	CHECK_NEAR(a.co2e_g - before, 1.5 * 200, 1e-9);
	/* nothing for no energy */
	jst_carbon_acc_add(&a, start, 0, 10, 0);
	jst_carbon_acc_add(&a, start, 0, 10, NAN);
	CHECK_NEAR(a.co2e_g - before, 1.5 * 200, 1e-9);
	/* water does not depend on the series: E × WUE, EWIF unknown counts 0 */
	CHECK_NEAR(a.it_kwh, 0.001 + 5, 1e-12);
	CHECK_NEAR(a.water_site_l, (0.001 + 5) * 0.5, 1e-12);
	CHECK_NEAR(a.water_grid_l, 0, 0);
	jst_ci_free(f);
}

/* Many small samples across a boundary give the same total as one big one. */
static void test_split_invariance(void)
{
	struct jst_ci_file *f = hourly();
	const struct jst_series *s = jst_ci_select(f, "DE");
	struct jst_carbon_acc one, many;
	uint64_t start = (uint64_t)(T0 + 1800) * S;
	jst_carbon_acc_init(&one, s, 342.06, 1.2, 0, 2.0);
	jst_carbon_acc_init(&many, s, 342.06, 1.2, 0, 2.0);
	jst_carbon_acc_add(&one, start, 0, 7200, 7200.0 * 100);
	for (int i = 0; i < 7200; i++)
		jst_carbon_acc_add(&many, start, i, 1, 100);
	CHECK_NEAR(one.co2e_g, many.co2e_g, 1e-9);
	/* 100 W for 2 h from 00:30: 0.05 kWh at each of 100, 200, 200, 300 (half-hours) */
	CHECK_NEAR(one.co2e_g, 1.2 * 0.05 * (100 + 200 + 200 + 300), 1e-9);
	CHECK_NEAR(one.water_grid_l, 0.2 * 1.2 * 2.0, 1e-12);
	jst_ci_free(f);
}

static void test_golden_zones(void)
{
	/* India, 2 kWh, PUE 1.2, WUE 0.2: Ember 2024 708.96 g/kWh; EWIF from the OWID 2023 mix
	 * (coal 75.23 %, gas 2.606, oil 0.201, nuclear 2.449, hydro 7.581, wind 4.172, solar 5.763,
	 * bio 1.998; sum 100): 735.1984 gal/MWh = 2.783024 L/kWh */
	const struct jst_grid_zone *in = jst_grid_zone_find("IN");
	CHECK(in != NULL);
	if (in) {
		struct jst_carbon_acc a;
		jst_carbon_acc_init(&a, NULL, in->ci_g_per_kwh, 1.2, 0.2, in->ewif_l_per_kwh);
		jst_carbon_acc_add(&a, 0, 0, 3600, 2 * 3.6e6);
		CHECK_NEAR(a.co2e_g, 2 * 1.2 * 708.96, 1e-9);           /* 1701.504 g */
		CHECK_NEAR(in->ewif_l_per_kwh, 735.1984 * GAL, 1e-9);
		CHECK_NEAR(a.water_site_l + a.water_grid_l, 0.4 + 2 * 1.2 * 735.1984 * GAL, 1e-9); /* 7.0747 L */
	}
	/* Norway: 30.75 g/kWh; hydro-heavy OWID 2023 mix (88.521 % hydro, shares summing to 99.999):
	 * 3982.696447 gal/MWh = 15.076 L/kWh */
	const struct jst_grid_zone *no = jst_grid_zone_find("NOR");
	CHECK(no && fabs(no->ci_g_per_kwh - 30.75) < 1e-9);
	CHECK(no && fabs(no->ewif_l_per_kwh - 3982.6964469644686 * GAL) < 1e-9);
	/* CAISO (Electricity Maps, consumption-based): 229 g/kWh; EWIF is the US figure */
	const struct jst_grid_zone *ca = jst_grid_zone_find("US-CAL-CISO");
	CHECK(ca && ca->ci_g_per_kwh == 229);
	/* France over a period with a series: 1 kWh spread over 00:00-03:00 at 20, 40, 60 */
	static const char fr[] = "datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,FR,20\n"
	                         "2024-03-01T01:00:00Z,FR,40\n2024-03-01T02:00:00Z,FR,60\n";
	struct jst_ci_file *f = NULL;
	char err[128];
	CHECK_INT(jst_ci_parse(fr, sizeof(fr) - 1, "fr.csv", NULL, &f, err, sizeof(err)), 0);
	struct jst_carbon_acc a;
	jst_carbon_acc_init(&a, jst_ci_select(f, "FR"), 44.18, 1.1, 0, -1);
	for (int i = 0; i < 3; i++)
		jst_carbon_acc_add(&a, (uint64_t)T0 * S, i * 3600.0, 3600, 1.2e6);
	CHECK_NEAR(a.co2e_g, 1.1 * (1.0 / 3) * (20 + 40 + 60), 1e-9); /* 44 g */
	jst_ci_free(f);
}

static void make_run(struct jst_run *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->site.zone_code, "DE");
	r->site.ci_g_per_kwh = 342.06;
	r->site.pue = 1.5;
	r->site.wue_l_per_kwh = 0.5;
	r->site.ewif_l_per_kwh = 1.6;
	r->start_ns = (uint64_t)(T0 + 3590) * S;
	r->nzones = 2;
	r->zones[0].zone.flags = JST_ZONE_COUNTED;
	r->zones[1].zone.flags = 0; /* not counted: left out */
}

static void test_timeline_and_apply(void)
{
	struct jst_ci_file *f = hourly();
	const struct jst_series *s = jst_ci_select(f, "DE");
	struct jst_run run;
	struct jst_timeline tl;
	make_run(&run);
	CHECK_INT(jst_timeline_init(&tl, 2), 0);
	double host[2] = {3600, 999}, rj[2] = {3600, 999};
	jst_timeline_add(&tl, 0, 20, host, rj);
	struct jst_carbon_acc a;
	jst_carbon_acc_for_site(&a, &run.site, s);
	jst_carbon_acc_timeline(&a, &run, &tl);
	CHECK_NEAR(a.co2e_g, 0.225, 1e-12);
	jst_carbon_acc_result(&a, &run.result);
	CHECK_NEAR(run.result.footprint.co2e_g, 0.225, 1e-12);
	CHECK_NEAR(run.result.ci_avg_g_per_kwh, 150, 1e-9);
	CHECK_NEAR(run.result.ci_min_g_per_kwh, 100, 0);
	CHECK_NEAR(run.result.footprint.water_l, 0.001 * (0.5 + 1.5 * 1.6), 1e-12);
	CHECK_HAS(run.result.data_version, "file:h.csv@sha256:");
	CHECK(strstr(run.result.data_version, "+bundled") == NULL);
	CHECK_HAS(run.result.ci_series,
		  "file h.csv, 3 values from 2024-03-01T00:00:00Z to 2024-03-01T03:00:00Z");
	struct jst_run_result res;
	jst_run_result_from_run(&run, "reprocess", &res);
	CHECK_STR(res.kind, "reprocess");
	CHECK_NEAR(res.footprint.co2e_g, 0.225, 1e-12);
	jst_run_finish_totals(&run);
	jst_run_yearly_result(&run, &run.result); /* back to the yearly figure */
	CHECK_STR(run.result.data_version, JST_DATA_VERSION);
	CHECK_STR(run.result.ci_series, "");
	jst_run_apply_result(&run, &res);
	CHECK_NEAR(run.result.footprint.co2e_g, 0.225, 1e-12);
	CHECK_HAS(run.result.ci_series, "file h.csv");
	jst_timeline_release(&tl);
	jst_ci_free(f);
}

static void test_sci(void)
{
	const struct jst_embodied *e = jst_embodied_match("gpu", "NVIDIA H100 80GB HBM3");
	CHECK(e && strcmp(e->name, "nvidia-h100") == 0 && e->kg_co2e == 164);
	CHECK(jst_embodied_match("gpu", "A100-SXM4-80GB") && strcmp(jst_embodied_match("gpu", "A100-SXM4-80GB")->name, "nvidia-a100") == 0);
	CHECK(strcmp(jst_embodied_match("gpu", "NVIDIA GeForce RTX 4090")->name, "gpu") == 0);
	CHECK(strcmp(jst_embodied_match("gpu", "AMD Instinct MI300X")->name, "amd-mi300x") == 0);
	CHECK(strcmp(jst_embodied_match("server", NULL)->name, "server") == 0);
	CHECK(jst_embodied_count() >= 10);
	for (size_t i = 0; i < jst_embodied_count(); i++)
		CHECK(jst_embodied_at(i)->source[0] && jst_embodied_at(i)->lifetime_years > 0);

	struct jst_run run;
	make_run(&run);
	run.scope = JST_SCOPE_HOST;
	run.duration_s = 3600;
	run.nzones = 1;
	run.zones[0].zone.kind = JST_KIND_GPU;
	strcpy(run.zones[0].zone.name, "gpu0");
	strcpy(run.zones[0].zone.label, "NVIDIA H100 80GB HBM3");
	run.result.footprint.co2e_g = 100;
	jst_run_sci(&run, &run.result);
	double year = 365.25 * 86400;
	double m = 164000.0 * 3600 / year / 6 + 2500000.0 * 3600 / year / 6; /* H100 + GPU server */
	CHECK_NEAR(run.result.embodied_g, m, 1e-9);
	CHECK_NEAR(run.result.sci_g, 100 + m, 1e-9);
	CHECK_STR(run.result.functional_unit, "run");
	CHECK_HAS(run.result.embodied_source,
		  "gpu0 (share 1.00): nvidia-h100 164 kg over 6 y, pcf");
	run.result.functional_units = 1000;
	strcpy(run.result.functional_unit, "samples");
	run.site.embodied_kg_opt = 1000;
	run.site.lifetime_years_opt = 5;
	jst_run_sci(&run, &run.result);
	CHECK_NEAR(run.result.embodied_g, 1e6 * 3600 / year / 5, 1e-9);
	CHECK_NEAR(run.result.sci_g, (100 + 1e6 * 3600 / year / 5) / 1000, 1e-12);
}

/* Every source text of the bundled tables reaches the run record whole (the GCP PUE source was
 * once cut at 96 bytes in every stored and attested record); a site path too long for the
 * field is kept by its end and marked, never cut silently. */
static void test_sources_whole(void)
{
	static struct jst_run run;
	char msg[256], spec[96];
	for (size_t i = 0; i < jst_cloud_count(); i++) {
		const struct jst_cloud_region *cr = jst_cloud_at(i);
		memset(&run, 0, sizeof(run));
		snprintf(spec, sizeof(spec), "%s:%s", cr->provider, cr->region);
		CHECK_INT(jst_run_set_site(&run, NULL, spec, -1, -1, msg, sizeof(msg)), 0);
		CHECK_STR(run.site.pue_source, cr->source);
		if (cr->wue_l_per_kwh >= 0)
			CHECK_STR(run.site.wue_source, cr->source);
	}
	for (size_t i = 0; i < jst_grid_zone_count(); i++) {
		const struct jst_grid_zone *z = jst_grid_zone_at(i);
		memset(&run, 0, sizeof(run));
		CHECK_INT(jst_run_set_site(&run, z->code, NULL, -1, -1, msg, sizeof(msg)), 0);
		CHECK_STR(run.site.zone_name, z->name);
		CHECK_STR(run.site.ci_source, z->ci_source);
		CHECK_STR(run.site.ewif_source, z->ewif_source);
	}
	char out[32];
	CHECK(jst__fit_text(out, sizeof(out), "site a (", "/etc/x.conf", ")"));
	CHECK_STR(out, "site a (/etc/x.conf)");
	CHECK(!jst__fit_text(out, sizeof(out), "site a (", "/very/long/path/to/joulestream.conf", ")"));
	CHECK_STR(out, "site a (...to/joulestream.conf)");
	CHECK_INT(strlen(out), sizeof(out) - 1);
}

int main(void)
{
	test_sources_whole();
	test_hour_boundaries();
	test_split_invariance();
	test_golden_zones();
	test_timeline_and_apply();
	test_sci();
	return check_done();
}
