/* Unit tests of the carbon module: the bundled zones, mixes, water factors and cloud regions
 * load; lookups by ISO-2, ISO-3, sub-national code, any case; golden footprints computed by
 * hand from the published figures; and a cross-check of every bundled intensity against the
 * reference copies in ../shared/data (env JST_SHARED_DATA). The cross-check is its own test,
 * `test_carbon --shared-data` (unit.test_carbon.shared_data): a user's clone has no ../shared,
 * and there it is reported as skipped (77) with the reason, not passed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carbon/carbon_data.h"
#include "check.h"
#include "core/util.h"
#include "joulestream/carbon.h"

#define GAL 3.785411784e-3 /* L/kWh per gal/MWh */

/* The first calls race from several threads: the tables must load exactly once. */
static const struct jst_grid_zone *raced[4];

static void *race(void *arg)
{
	raced[*(const int *)arg] = jst_grid_zone_find("de");
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[4];
	int idx[4] = {0, 1, 2, 3};
	for (int i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&t[i], NULL, race, &idx[i]), 0);
	for (int i = 0; i < 4; i++)
		CHECK_INT(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 4; i++)
		CHECK(raced[i] != NULL && raced[i] == jst_grid_zone_find("DE"));
}

static void test_tables(void)
{
	CHECK(jst__carbon_data_error() == NULL);
	CHECK(jst__cloud_data_error() == NULL);
	size_t n = jst_grid_zone_count(), countries = 0, sub = 0;
	CHECK_INT(n, 405); /* 209 Ember countries + 147 Electricity Maps zones + 49 US states */
	for (size_t i = 0; i < n; i++) {
		const struct jst_grid_zone *z = jst_grid_zone_at(i);
		CHECK(z && z->code && *z->code && z->name && *z->name);
		CHECK(z->ci_source && *z->ci_source && z->ewif_source && *z->ewif_source);
		CHECK(z->year >= 2020 && z->year <= 2025);
		CHECK(z->ci_g_per_kwh >= 0 && z->ci_g_per_kwh < 2000);
		CHECK(z->ewif_l_per_kwh < 0 || z->ewif_l_per_kwh < 20);
		if (strchr(z->code, '-')) {
			sub++;
			CHECK_HAS(z->ci_source, "Electricity Maps 2024");
		} else {
			countries++;
			CHECK_HAS(z->ci_source, "Ember");
			CHECK_INT(strlen(z->code), 2);
		}
		CHECK(jst_grid_zone_find(z->code) == z);
	}
	CHECK(countries >= 200);
	CHECK_INT(countries, 209);
	CHECK_INT(sub, 147 + 49);
	CHECK(jst_grid_zone_at(n) == NULL);
	for (int f = 0; f < JST_FUEL_COUNT; f++)
		CHECK(jst__fuel_water_l_per_kwh((enum jst__fuel)f) >= 0);
}

static void test_lookups(void)
{
	const struct jst_grid_zone *de = jst_grid_zone_find("DE");
	CHECK(de != NULL);
	if (!de)
		return;
	CHECK(jst_grid_zone_find("de") == de);
	CHECK(jst_grid_zone_find("DEU") == de);
	CHECK(jst_grid_zone_find("deu") == de);
	CHECK_STR(de->name, "Germany");
	CHECK_NEAR(de->ci_g_per_kwh, 342.06, 1e-9);
	CHECK_INT(de->year, 2024);
	CHECK_STR(de->ci_source, "Ember 2024 yearly average");

	const struct jst_grid_zone *ciso = jst_grid_zone_find("us-cal-ciso");
	CHECK(ciso != NULL && ciso == jst_grid_zone_find("US-CAL-CISO"));
	if (ciso) {
		CHECK_NEAR(ciso->ci_g_per_kwh, 229, 0);
		CHECK_INT(ciso->year, 2024);
		CHECK_STR(ciso->ci_source,
		          "Electricity Maps 2024 yearly average (consumption-based, life-cycle)");
	}
	CHECK(jst_grid_zone_find("GB") == jst_grid_zone_find("gbr"));
	CHECK(jst_grid_zone_find("XK") != NULL); /* Kosovo: user-assigned XK / XKX */
	CHECK(jst_grid_zone_find("NA") != NULL && jst_grid_zone_find("NAM") != NULL);

	/* unknown codes, and the world only through jst_grid_world() */
	CHECK(jst_grid_zone_find("XX") == NULL);
	CHECK(jst_grid_zone_find("DEUX") == NULL);
	CHECK(jst_grid_zone_find("D") == NULL);
	CHECK(jst_grid_zone_find("") == NULL);
	CHECK(jst_grid_zone_find(NULL) == NULL);
	CHECK(jst_grid_zone_find("WORLD") == NULL);
	CHECK(jst_grid_zone_find("world") == NULL);
	CHECK(jst_grid_zone_find("US-CAL") == NULL);
	const struct jst_grid_zone *w = jst_grid_world();
	CHECK(w != NULL);
	if (w) {
		CHECK_STR(w->code, "WORLD");
		CHECK_NEAR(w->ci_g_per_kwh, 472.94, 1e-9);
		CHECK_INT(w->year, 2024);
		CHECK(w->ewif_l_per_kwh > 0);
	}
}

/* EWIF of Germany by hand from data/generation_mix.csv (OWID 2023 shares, %) and the
 * Macknick et al. 2012 medians (gal/MWh) in data/water_factors.csv; shares add up to 100. */
static double ewif_de(void)
{
	double gal = 26.813 * 479 + 15.056 * 198 + 3.988 * 826 + 1.733 * 672 + 3.859 * 4491 +
	             27.197 * 0 + 12.195 * 1 + 9.117 * 553 + 0.042 * 10;
	return gal / 100 * GAL; /* 426.68264 gal/MWh = 1.6152 L/kWh */
}

static void test_ewif(void)
{
	static const char *const top[] = {
		"CN", "US", "IN", "RU", "JP", "BR", "CA", "KR", "DE", "FR", "SA", "IR", "ID",
		"MX", "GB", "IT", "TR", "ES", "AU", "TW", "VN", "ZA", "TH", "EG", "PL", "MY",
		"PK", "AR", "UA", "SE", "NO", "NL", "AE"};
	size_t covered = 0;
	for (size_t i = 0; i < JST_ARRAY_LEN(top); i++) {
		const struct jst_grid_zone *z = jst_grid_zone_find(top[i]);
		CHECK(z != NULL);
		if (z && z->ewif_l_per_kwh >= 0) {
			covered++;
			CHECK_HAS(z->ewif_source, " generation mix (Ember, Energy Institute), with ");
			CHECK_HAS(z->ewif_source, "Macknick et al. 2012");
		}
	}
	CHECK(covered >= 30);
	CHECK_INT(covered, JST_ARRAY_LEN(top));
	/* every country with a published mix has its grid water: all but Kosovo (no OWID row) */
	size_t countries = 0, unknown = 0;
	for (size_t i = 0; i < jst_grid_zone_count(); i++) {
		const struct jst_grid_zone *z = jst_grid_zone_at(i);
		if (strchr(z->code, '-'))
			continue;
		countries++;
		if (z->ewif_l_per_kwh < 0) {
			unknown++;
			CHECK_STR(z->code, "XK");
		}
	}
	CHECK_INT(countries, 209);
	CHECK_INT(unknown, 1);

	const struct jst_grid_zone *de = jst_grid_zone_find("DE");
	CHECK_NEAR(de ? de->ewif_l_per_kwh : -1, ewif_de(), 1e-12);
	CHECK_NEAR(ewif_de(), 1.6151695, 1e-6);
	/* Norway, nearly all hydro: 88.521 % at 4491 gal/MWh dominates (shares sum to 99.999) */
	const struct jst_grid_zone *no = jst_grid_zone_find("NO");
	double gal_no = (0.026 * 479 + 0.898 * 198 + 0.534 * 826 + 88.521 * 4491 + 0.111 * 1 +
	                 0.156 * 553 + 0.013 * 10) / 99.999;
	CHECK_NEAR(no ? no->ewif_l_per_kwh : -1, gal_no * GAL, 1e-12);
	CHECK_NEAR(jst__fuel_water_l_per_kwh(JST_FUEL_HYDRO), 4491 * GAL, 1e-12);

	/* a sub-national zone has its country's EWIF, and says so */
	const struct jst_grid_zone *us = jst_grid_zone_find("US"), *pjm = jst_grid_zone_find("US-MIDA-PJM");
	CHECK(us && pjm && pjm->ewif_l_per_kwh == us->ewif_l_per_kwh);
	CHECK_HAS(pjm ? pjm->ewif_source : NULL, "country-level figure of US");
	/* a zone whose country has no published mix: unknown, and said so */
	const struct jst_grid_zone *xk = jst_grid_zone_find("XK");
	CHECK(xk && xk->ewif_l_per_kwh < 0);
	CHECK_HAS(xk ? xk->ewif_source : NULL, "unknown");
	const struct jst_grid_zone *pt = jst_grid_zone_find("PT-MA"); /* Madeira: Portugal's */
	CHECK_HAS(pt ? pt->ewif_source : NULL, "country-level figure of PT");
}

static void test_footprint(void)
{
	const struct jst_grid_zone *de = jst_grid_zone_find("DE");
	struct jst_footprint out;
	/* 1 kWh of IT energy in Germany, PUE 1.5, WUE 0.5 L/kWh */
	struct jst_footprint_in in = {3.6e6, 1.5, 0.5, de};
	jst_footprint(&in, &out);
	CHECK_NEAR(out.it_kwh, 1.0, 1e-12);
	CHECK_NEAR(out.facility_kwh, 1.5, 1e-12);
	CHECK_NEAR(out.co2e_g, 513.09, 1e-9);              /* 1.5 kWh × 342.06 g/kWh */
	CHECK_NEAR(out.water_site_l, 0.5, 1e-12);          /* 1 kWh × 0.5 L/kWh, IT energy */
	CHECK_NEAR(out.water_grid_l, 2.42275424, 1e-8);    /* 1.5 kWh × 1.6151695 L/kWh */
	CHECK_NEAR(out.water_grid_l, 1.5 * ewif_de(), 1e-12);
	CHECK_NEAR(out.water_l, 0.5 + 1.5 * ewif_de(), 1e-12);

	/* 36 MJ (10 kWh) on AWS eu-central-1 with the provider's PUE and WUE */
	const struct jst_cloud_region *r = jst_cloud_find("aws", "eu-central-1");
	CHECK(r != NULL);
	if (r) {
		struct jst_footprint_in c = {36e6, r->pue, r->wue_l_per_kwh, jst_grid_zone_find(r->zone)};
		jst_footprint(&c, &out);
		CHECK_NEAR(out.facility_kwh, 11.4, 1e-12);
		CHECK_NEAR(out.co2e_g, 11.4 * 342.06, 1e-9);
		CHECK_NEAR(out.water_site_l, 1.8, 1e-12);
		CHECK_NEAR(out.water_l, 1.8 + 11.4 * ewif_de(), 1e-9);
	}

	/* unknown zone: the world average; unknown EWIF: no grid water; no energy: nothing */
	struct jst_footprint_in u = {3.6e6, 1.0, 0.0, NULL};
	jst_footprint(&u, &out);
	CHECK_NEAR(out.co2e_g, 472.94, 1e-9);
	struct jst_footprint_in xk = {3.6e6, 1.2, 1.8, jst_grid_zone_find("XK")};
	jst_footprint(&xk, &out);
	CHECK_NEAR(out.co2e_g, 1.2 * 958.72, 1e-9);
	CHECK_NEAR(out.water_grid_l, 0, 0);
	CHECK_NEAR(out.water_l, 1.8, 1e-12);
	struct jst_footprint_in z = {0, JST_DEFAULT_PUE, JST_DEFAULT_WUE_L_PER_KWH, de};
	jst_footprint(&z, &out);
	CHECK_NEAR(out.co2e_g + out.water_l + out.facility_kwh, 0, 0);
}

static void test_cloud(void)
{
	size_t n = jst_cloud_count(), aws = 0, gcp = 0, azure = 0;
	CHECK(n >= 60);
	for (size_t i = 0; i < n; i++) {
		const struct jst_cloud_region *r = jst_cloud_at(i);
		CHECK(r && jst_grid_zone_find(r->zone) != NULL);
		CHECK(r && r->pue >= 1 && r->pue < 2 && r->source && *r->source && *r->location);
		if (r && strcmp(r->provider, "aws") == 0)
			aws++;
		else if (r && strcmp(r->provider, "gcp") == 0)
			gcp++;
		else if (r && strcmp(r->provider, "azure") == 0)
			azure++;
		CHECK(r && jst_cloud_find(r->provider, r->region) == r);
	}
	CHECK_INT(aws + gcp + azure, n);
	CHECK(aws >= 20 && gcp >= 20 && azure >= 20);
	CHECK(jst_cloud_at(n) == NULL);

	const struct jst_cloud_region *r = jst_cloud_find("aws", "us-east-1");
	CHECK(r && strcmp(r->zone, "US-MIDA-PJM") == 0 && r->pue == 1.14 && r->wue_l_per_kwh == 0.18);
	CHECK(jst_cloud_find("AWS", "US-EAST-1") == r);
	CHECK(jst_cloud_find("amazon", "us-east-1") == r);
	r = jst_cloud_find(NULL, "aws:eu-central-1");
	CHECK(r && strcmp(r->zone, "DE") == 0);
	r = jst_cloud_find("aws", "us-west-2");
	CHECK(r && strcmp(r->zone, "US-NW-BPAT") == 0);
	r = jst_cloud_find("gcp", "europe-west4");
	CHECK(r && strcmp(r->zone, "NL") == 0 && r->pue == 1.09 && r->wue_l_per_kwh < 0);
	CHECK(jst_cloud_find("google", "europe-west4") == r);
	r = jst_cloud_find("azure", "westeurope");
	CHECK(r && strcmp(r->zone, "NL") == 0 && r->wue_l_per_kwh == 0.30);
	CHECK(jst_cloud_find("aws", "nowhere-1") == NULL);
	CHECK(jst_cloud_find("ibm", "us-south") == NULL);
	CHECK(jst_cloud_find(NULL, "us-east-1") == NULL);

	/* the regions the 2024 table missed (issue 16), and the nearest names of an unknown one */
	static const char *const added[] = {
		"gcp:europe-west10", "gcp:europe-west12", "gcp:me-central2", "gcp:northamerica-south1",
		"aws:ap-southeast-7", "aws:mx-central-1", "aws:us-gov-west-1", "aws:cn-north-1",
		"azure:germanynorth", "azure:mexicocentral", "azure:newzealandnorth"};
	for (size_t i = 0; i < JST_ARRAY_LEN(added); i++) {
		r = jst_cloud_find(NULL, added[i]);
		CHECK(r != NULL);
		if (!r)
			fprintf(stderr, "missing cloud region %s\n", added[i]);
	}
	CHECK(aws >= 38 && gcp >= 42 && azure >= 65);
	char near[200];
	jst_cloud_nearest("aws:us-est-1", near, sizeof(near));
	CHECK_STR(near, "aws:us-east-1, aws:us-west-1, aws:us-east-2"); /* 1, 1, 2 edits */
	jst_cloud_nearest("azure:germanywest", near, sizeof(near));
	CHECK_HAS(near, "azure:germanywestcentral");
	jst_cloud_nearest("europe-west10", near, sizeof(near)); /* no provider: all of them */
	CHECK_HAS(near, "gcp:europe-west10");
	CHECK(jst_cloud_find(NULL, "averyveryverylongprovider:x") == NULL);
	CHECK(jst_cloud_find("aws", NULL) == NULL);
}

/* ---- cross-check against ../shared/data (ad-hoc scanners for the two JSON layouts) ---- */

static char *slurp(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		len += fread(buf + len, 1, cap - len, f);
		if (len < cap)
			break;
		char *bigger = cap < (64u << 20) ? realloc(buf, 2 * cap + 1) : NULL;
		if (!bigger) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = bigger;
		cap *= 2;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The number after `"key":` at or after p (and before limit), or NAN. */
static double number_after(const char *p, const char *limit, const char *key)
{
	const char *k = strstr(p, key);
	if (!k || (limit && k > limit))
		return NAN;
	k = strchr(k + strlen(key), ':');
	if (!k)
		return NAN;
	k++;
	size_t n = strcspn(k, ",}\n");
	double v;
	return jst__parse_double(k, n, &v) == 0 ? v : NAN;
}

static void check_ember(const char *dir)
{
	char *js = slurp(dir, "ember-yearly-intensity.json");
	if (!js) {
		fprintf(stderr, "%s/ember-yearly-intensity.json: %s\n", dir, strerror(errno));
		CHECK(js != NULL);
		return;
	}
	size_t compared = 0;
	bool world_seen = false;
	for (const char *p = strstr(js, "\"country_code\": \""); p; p = strstr(p + 1, "\"country_code\": \"")) {
		const char *code = p + strlen("\"country_code\": \"");
		size_t clen = strcspn(code, "\"");
		const char *next = strstr(code, "\"country_code\"");
		double ci = number_after(code, next, "\"emissions_intensity_gco2_per_kwh\"");
		double year = number_after(code, next, "\"year\"");
		char a3[8] = "";
		if (clen == 0) {
			const char *end = next ? next : code + strlen(code);
			const char *world = strstr(code, "\"World\"");
			if (world && world < end) {
				const struct jst_grid_zone *w = jst_grid_world();
				CHECK(w && w->ci_g_per_kwh == ci && w->year == (int)year);
				world_seen = true;
			}
			continue;
		}
		CHECK(clen == 3);
		memcpy(a3, code, clen < 7 ? clen : 7);
		const struct jst_grid_zone *z = jst_grid_zone_find(a3);
		if (!z) {
			fprintf(stderr, "ember %s: not in data/grid_intensity.csv\n", a3);
			CHECK(z != NULL);
			continue;
		}
		if (z->ci_g_per_kwh != ci || z->year != (int)year)
			fprintf(stderr, "ember %s: %g (%g) vs bundled %g (%d)\n", a3, ci, year,
			        z->ci_g_per_kwh, z->year);
		CHECK(z->ci_g_per_kwh == ci);
		CHECK_INT(z->year, (int)year);
		compared++;
	}
	printf("Ember cross-check: %zu countries compared\n", compared);
	CHECK_INT(compared, 209);
	CHECK(world_seen);
	free(js);
}

static void check_electricitymaps(const char *dir)
{
	char *js = slurp(dir, "electricitymaps-yearly-2024.json");
	if (!js) {
		fprintf(stderr, "%s/electricitymaps-yearly-2024.json: %s\n", dir, strerror(errno));
		CHECK(js != NULL);
		return;
	}
	size_t compared = 0;
	/* top-level keys are written `\n  "ZONE": {` */
	for (const char *p = strstr(js, "\n  \""); p; p = strstr(p + 1, "\n  \"")) {
		char code[32];
		const char *k = p + 4;
		size_t n = strcspn(k, "\"");
		if (n == 0 || n >= sizeof(code) || !memchr(k, '-', n))
			continue;
		memcpy(code, k, n);
		code[n] = '\0';
		const char *next = strstr(k, "\n  \"");
		const char *ci = strstr(k, "\"carbonIntensity\"");
		double v = ci && (!next || ci < next) ? number_after(ci, next, "\"value\"") : NAN;
		const struct jst_grid_zone *z = jst_grid_zone_find(code);
		CHECK(z != NULL);
		CHECK(z && z->ci_g_per_kwh == v);
		compared++;
	}
	printf("Electricity Maps cross-check: %zu sub-national zones compared\n", compared);
	CHECK_INT(compared, 147);
	free(js);
}

/* 77 (skipped, with the reason) when the reference folder is not there; its files missing
 * from a folder that is there is a failure. */
static int test_against_shared_data(void)
{
	const char *dir = getenv("JST_SHARED_DATA");
	if (!dir || !*dir) {
		printf("SKIP: JST_SHARED_DATA is not set: no reference data to cross-check against\n");
		return 77;
	}
	if (access(dir, F_OK) != 0) {
		printf("SKIP: %s: %s (the reference copies live in ../shared/data next to the "
		       "project's clone; a user's clone has none)\n", dir, strerror(errno));
		return 77;
	}
	check_ember(dir);
	check_electricitymaps(dir);
	return check_done();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--shared-data") == 0)
		return test_against_shared_data();
	test_threads();
	test_tables();
	test_lookups();
	test_ewif();
	test_footprint();
	test_cloud();
	return check_done();
}
