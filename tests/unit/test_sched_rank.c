/* Where to run (src/sched/rank.c, hints.c): sites from a configuration with the new keys
 * (capacity, accelerators, label, partition) and their mistakes; carbon = CI × PUE and water =
 * WUE + PUE × EWIF per IT kWh; the ranking by carbon, by water and by a weighted, min-max
 * normalised score, checked by hand; equal scores keep the configuration's order; a series'
 * mean over the window replaces the yearly CI; Nomad weights linear from 100 to the lowest
 * (GreenDirector), Kubernetes weights 100 to 1; the hints' text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "joulestream/carbon.h"
#include "joulestream/sched.h"

#define S 1000000000LL
#define H (3600 * S)
#define T0 (1709251200LL * S) /* 2024-03-01T00:00:00Z */

static const char conf[] =
	"[site a]\nzone = DE\npue = 1.2\nwue = 0.5\npartition = gpu-a\naccelerators = H100, a100\n"
	"capacity = 64\nlabel = dc-a\n"
	"[site b]\nzone = FR\npue = 1.5\nwue = 2.0\npartition = gpu-b\n"
	"[site c]\nzone = PL\npue = 1.1\nwue = 0\n"
	"[site d]\ncloud = aws:eu-central-1\npartition = gpu-a\n";

/* Constant intensities over the window, so that carbon is known exactly. */
static const char series_csv[] =
	"datetime,zone,ci_g_per_kwh\n"
	"2024-03-01T00:00:00Z,DE,300\n2024-03-01T00:00:00Z,FR,40\n2024-03-01T00:00:00Z,PL,600\n"
	"2024-03-01T12:00:00Z,DE,100\n2024-03-01T12:00:00Z,FR,40\n2024-03-01T12:00:00Z,PL,600\n";

static size_t sites_of(const struct jst_config *c, struct jst_sched_site *v)
{
	char err[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < c->nsites; i++) {
		int r = jst_sched_site_init(&v[n], &c->sites[i], "test.conf", (int)i, err, sizeof(err));
		CHECK_INT(r, 0);
		n += r == 0;
	}
	return n;
}

static const struct jst_sched_site *named(const struct jst_sched_site *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	fprintf(stderr, "site %s is not in the ranking\n", name); /* a failure, not a NULL to follow */
	abort();
}

static void test_config_keys(void)
{
	struct jst_config c;
	char err[256] = "";
	CHECK_INT(jst_config_parse(conf, sizeof(conf) - 1, "test.conf", &c, err, sizeof(err)), 0);
	const struct jst_site_cfg *a = jst_config_site(&c, "a");
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_STR(a->accelerators, "h100,a100");
	CHECK_STR(a->partition, "gpu-a");
	CHECK_STR(a->label, "dc-a");
	CHECK_NEAR(a->capacity, 64, 0);
	CHECK_NEAR(jst_config_site(&c, "b")->capacity, -1, 0);
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"[site x]\nzone = DE\naccelerators = h100,,a100\n", "line 3: 'accelerators' must be names"},
		{"[site x]\nzone = DE\naccelerators = h100,\n", "'accelerators' ends with a comma"},
		{"[site x]\nzone = DE\nlabel = -dc\n", "bad label '-dc'"},
		{"[site x]\nzone = DE\npartition = a,b\n", "bad partition 'a,b'"},
		{"[site x]\nzone = DE\ncapacity = lots\n", "'capacity' must be a number"},
		{"[site x]\nzone = DE\ngpus = 8\n", "expected zone, cloud, pue, wue, embodied_kg, "
		                                    "lifetime_years, capacity, accelerators, label or partition"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(jst_config_parse(bad[i].text, strlen(bad[i].text), "x.conf", &c, err, sizeof(err)),
		          -EINVAL);
		CHECK_HAS(err, bad[i].want);
	}
}

static void test_site_init(void)
{
	struct jst_config c;
	struct jst_sched_site v[8];
	char err[256] = "";
	CHECK_INT(jst_config_parse(conf, sizeof(conf) - 1, "test.conf", &c, err, sizeof(err)), 0);
	size_t n = sites_of(&c, v);
	CHECK_INT(n, 4);
	const struct jst_sched_site *d = named(v, n, "d");
	CHECK_STR(d->zone, "DE");
	CHECK_STR(d->label, "eu-central-1"); /* no label: the cloud region */
	CHECK_NEAR(d->pue, jst_cloud_find("aws", "eu-central-1")->pue, 0);
	CHECK_STR(named(v, n, "a")->label, "dc-a");
	CHECK_STR(named(v, n, "c")->label, "c"); /* neither: the name */
	CHECK_HAS(named(v, n, "a")->pue_source, "site a (test.conf)");
	CHECK_STR(named(v, n, "b")->ci_source, jst_grid_zone_find("FR")->ci_source);
	struct jst_site_cfg bad = c.sites[0];
	bad.zone[0] = '\0';
	CHECK_INT(jst_sched_site_init(&v[0], &bad, "test.conf", 0, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "site a has neither zone nor cloud");
	strcpy(bad.zone, "XX");
	CHECK_INT(jst_sched_site_init(&v[0], &bad, "test.conf", 0, err, sizeof(err)), -ENOENT);
	CHECK_HAS(err, "unknown zone 'XX'");
}

/* The series' means over 2024-03-01 (24 h): DE ½ 300 + ½ 100 = 200, FR 40, PL 600. Carbon:
 * a 200 × 1.2 = 240, b 40 × 1.5 = 60, c 600 × 1.1 = 660; d stays yearly (DE 342.06 × 1.14). */
static void ranked(struct jst_sched_site *v, size_t *n, const struct jst_rank_opts *o)
{
	struct jst_config c;
	struct jst_ci_file *f = NULL;
	char err[256] = "";
	CHECK_INT(jst_config_parse(conf, sizeof(conf) - 1, "test.conf", &c, err, sizeof(err)), 0);
	CHECK_INT(jst_ci_parse(series_csv, sizeof(series_csv) - 1, "w.csv", NULL, &f, err, sizeof(err)), 0);
	*n = sites_of(&c, v);
	for (size_t i = 0; i < *n; i++) {
		const struct jst_series *s = jst_ci_select(f, v[i].zone);
		if (s && strcmp(v[i].name, "d") != 0)
			jst_sched_site_use_series(&v[i], s, T0, T0 + 24 * H);
	}
	jst_sched_rank(v, *n, o);
	jst_ci_free(f);
}

static void test_rank_carbon(void)
{
	struct jst_sched_site v[8];
	size_t n;
	struct jst_rank_opts o = {JST_RANK_CARBON, 0, 0, 0};
	ranked(v, &n, &o);
	CHECK_STR(v[0].name, "b");
	CHECK_STR(v[1].name, "a");
	CHECK_STR(v[2].name, "d");
	CHECK_STR(v[3].name, "c");
	CHECK_NEAR(v[0].carbon, 60, 1e-9);
	CHECK_NEAR(v[1].carbon, 240, 1e-9);
	CHECK_NEAR(v[1].ci, 200, 1e-9);
	CHECK(v[1].ci_series && !v[2].ci_series);
	CHECK_NEAR(v[1].coverage, 1, 1e-12);
	CHECK_HAS(v[1].data_version, "file:w.csv@sha256:");
	CHECK_NEAR(v[2].carbon, 342.06 * 1.14, 1e-9);
	CHECK_NEAR(v[3].carbon, 660, 1e-9);
	CHECK_INT(v[0].rank, 1);
	CHECK_INT(v[3].rank, 4);
	/* GreenDirector: 100 + (0 − 100) (x − 60) / (660 − 60): a 70, d (389.95) 45.01 -> 45, c 0 */
	CHECK_INT(v[0].nomad_weight, 100);
	CHECK_INT(v[1].nomad_weight, 70);
	CHECK_INT(v[2].nomad_weight, 45);
	CHECK_INT(v[3].nomad_weight, 0);
	/* Kubernetes: 100 − 99 (x − 60) / 600: a 70.3 -> 70, d 45.56 -> 46, c 1 */
	CHECK_INT(v[1].k8s_weight, 70);
	CHECK_INT(v[2].k8s_weight, 46);
	CHECK_INT(v[3].k8s_weight, 1);
	/* the lowest Nomad weight at -100: a 100 − 200 × 0.3 = 40, d −9.98 -> −10 */
	o.nomad_min = -100;
	ranked(v, &n, &o);
	CHECK_INT(v[1].nomad_weight, 40);
	CHECK_INT(v[2].nomad_weight, -10);
	CHECK_INT(v[3].nomad_weight, -100);
}

static double water_of(const char *zone, double pue, double wue)
{
	return wue + pue * jst_grid_zone_find(zone)->ewif_l_per_kwh;
}

static void test_rank_water_and_both(void)
{
	struct jst_sched_site v[8];
	size_t n;
	struct jst_rank_opts o = {JST_RANK_WATER, 0, 0, 0};
	double wa = water_of("DE", 1.2, 0.5), wb = water_of("FR", 1.5, 2.0);
	double wc = water_of("PL", 1.1, 0), wd = water_of("DE", 1.14, 0.18);
	ranked(v, &n, &o);
	CHECK_NEAR(named(v, n, "a")->water, wa, 1e-12);
	CHECK_NEAR(named(v, n, "b")->water, wb, 1e-12);
	for (size_t i = 1; i < n; i++)
		CHECK(v[i - 1].score <= v[i].score);
	/* both, 0.5/0.5: normalised carbon a 0.3, b 0, c 1, d (393.369 − 60) / 600; water by its range */
	double lo = wa, hi = wa, ws[4] = {wa, wb, wc, wd};
	for (int i = 0; i < 4; i++) {
		lo = ws[i] < lo ? ws[i] : lo;
		hi = ws[i] > hi ? ws[i] : hi;
	}
	o.by = JST_RANK_BOTH;
	ranked(v, &n, &o);
	CHECK_NEAR(named(v, n, "a")->score, 0.5 * 0.3 + 0.5 * (wa - lo) / (hi - lo), 1e-12);
	CHECK_NEAR(named(v, n, "b")->score, 0.5 * 0 + 0.5 * (wb - lo) / (hi - lo), 1e-12);
	CHECK_NEAR(named(v, n, "c")->score, 0.5 * 1 + 0.5 * (wc - lo) / (hi - lo), 1e-12);
	/* weights 1,0 give the carbon order; 0,1 the water order; 7,3 are normalised to 0.7,0.3 */
	o.w_carbon = 1;
	o.w_water = 0;
	ranked(v, &n, &o);
	CHECK_STR(v[0].name, "b");
	CHECK_STR(v[3].name, "c");
	o.w_carbon = 7;
	o.w_water = 3;
	ranked(v, &n, &o);
	CHECK_NEAR(named(v, n, "a")->score, 0.7 * 0.3 + 0.3 * (wa - lo) / (hi - lo), 1e-12);
}

/* Two sites with equal figures keep the configuration's order, whichever it is. */
static void test_ties_keep_order(void)
{
	static const char one[] = "[site x]\nzone = DE\npue = 1.2\n[site y]\nzone = DE\npue = 1.2\n"
	                          "[site z]\nzone = SE\npue = 1.2\n";
	static const char two[] = "[site y]\nzone = DE\npue = 1.2\n[site x]\nzone = DE\npue = 1.2\n"
	                          "[site z]\nzone = SE\npue = 1.2\n";
	struct jst_config c;
	struct jst_sched_site v[4];
	struct jst_rank_opts o = {JST_RANK_CARBON, 0, 0, 0};
	char err[128];
	CHECK_INT(jst_config_parse(one, sizeof(one) - 1, "1", &c, err, sizeof(err)), 0);
	size_t n = sites_of(&c, v);
	jst_sched_rank(v, n, &o);
	CHECK_STR(v[0].name, "z");
	CHECK_STR(v[1].name, "x");
	CHECK_STR(v[2].name, "y");
	CHECK_INT(v[1].nomad_weight, v[2].nomad_weight);
	CHECK_INT(jst_config_parse(two, sizeof(two) - 1, "2", &c, err, sizeof(err)), 0);
	n = sites_of(&c, v);
	jst_sched_rank(v, n, &o);
	CHECK_STR(v[1].name, "y");
	CHECK_STR(v[2].name, "x");
	/* all equal: GreenDirector's 0 everywhere (no preference), Kubernetes 100 */
	static const char eq[] = "[site x]\nzone = DE\npue = 1.2\n[site y]\nzone = DE\npue = 1.2\n";
	CHECK_INT(jst_config_parse(eq, sizeof(eq) - 1, "3", &c, err, sizeof(err)), 0);
	n = sites_of(&c, v);
	CHECK_INT(n, 2);
	jst_sched_rank(v, n, &o);
	CHECK_INT(v[0].nomad_weight, 0);
	CHECK_INT(v[1].k8s_weight, 100);
}

static void test_hints(void)
{
	struct jst_sched_site v[8];
	size_t n, len = 0, skipped = 9;
	char *buf = NULL;
	struct jst_rank_opts o = {JST_RANK_CARBON, 0, 0, 0};
	ranked(v, &n, &o);
	FILE *f = open_memstream(&buf, &len);
	jst_hints_nomad(f, v, n, "${node.datacenter}", "line one\nline two");
	fclose(f);
	CHECK_HAS(buf, "# line one\n# line two\naffinity {\n  attribute = \"${node.datacenter}\"\n"
	               "  value     = \"b\"\n  weight    = 100\n}\n");
	CHECK_HAS(buf, "value     = \"a\"\n  weight    = 70\n");
	CHECK_HAS(buf, "# c: weight 0, no preference");
	free(buf);
	f = open_memstream(&buf, &len);
	jst_hints_k8s(f, v, n, "topology.kubernetes.io/region", NULL);
	fclose(f);
	CHECK_HAS(buf, "affinity:\n  nodeAffinity:\n    preferredDuringSchedulingIgnoredDuringExecution:\n"
	               "    - weight: 100  # b\n");
	CHECK_HAS(buf, "values: [\"dc-a\"]");
	CHECK_HAS(buf, "values: [\"eu-central-1\"]");
	free(buf);
	f = open_memstream(&buf, &len);
	CHECK_INT(jst_hints_slurm(f, v, n, &skipped), 0);
	fclose(f);
	CHECK_STR(buf, "--partition=gpu-b,gpu-a\n"); /* b, a, d (gpu-a again), c (none) */
	CHECK_INT(skipped, 1);
	free(buf);
	f = open_memstream(&buf, &len);
	CHECK_INT(jst_hints_slurm(f, &v[3], 1, &skipped), -ENOENT); /* c alone has none */
	fclose(f);
	free(buf);
}

int main(void)
{
	test_config_keys();
	test_site_init();
	test_rank_carbon();
	test_rank_water_and_both();
	test_ties_keep_order();
	test_hints();
	return check_done();
}
