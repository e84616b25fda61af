/* The streaming pipeline's pure parts: the power sketch's quantiles (within 1 %), workload keys
 * from /proc/PID/cgroup (cgroup v1 and v2, Docker, containerd, Kubernetes pods) and environ,
 * and the aggregation of a batch (counted zones only in totals, shares, gaps, CO2e from the
 * run's zone and PUE) through an in-memory loader. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "attrib/workload.h"
#include "check.h"
#include "joulestream/carbon.h"

static void test_sketch(void)
{
	struct jst_sketch s;
	memset(&s, 0, sizeof(s));
	for (int i = 1; i <= 1000; i++)
		jst__sketch_add(&s, (double)i);
	CHECK_NEAR(jst__sketch_quantile(&s, 0.5), 500, 500 * 0.011);
	CHECK_NEAR(jst__sketch_quantile(&s, 0.9), 900, 900 * 0.011);
	CHECK_NEAR(jst__sketch_quantile(&s, 0.99), 990, 990 * 0.011);
	unsigned char blob[JST_SKETCH_MAX * 8];
	size_t n = jst__sketch_encode(&s, blob, sizeof(blob));
	struct jst_sketch t;
	CHECK_INT(jst__sketch_decode(&t, blob, n), 0);
	CHECK(t.count == 1000 && jst__sketch_quantile(&t, 0.9) == jst__sketch_quantile(&s, 0.9));
	/* bounded: a huge range merges the low end, the high quantiles stay accurate */
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 100000; i++)
		jst__sketch_add(&s, 0.01 * pow(1.0002, i));
	CHECK(s.n <= JST_SKETCH_MAX);
	double want = 0.01 * pow(1.0002, 98999);
	CHECK_NEAR(jst__sketch_quantile(&s, 0.99), want, want * 0.011);
}

static void key(const char *cg, const char *want)
{
	char k[JST_WORKLOAD_KEY] = "";
	int r = jst__cgroup_workload(cg, strlen(cg), k, sizeof(k));
	CHECK_INT(r, want[0] != '\0');
	CHECK_STR(k, want);
}

static void test_cgroup(void)
{
	key("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_aaaa_bbbb_cccc_0123456789ab.slice/"
	    "cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n",
	    "pod:1b2c3d4e-aaaa-bbbb-cccc-0123456789ab");
	key("12:memory:/kubepods/burstable/pod1b2c3d4e-aaaa-bbbb-cccc-0123456789ab/"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n11:cpu:/kubepods\n",
	    "pod:1b2c3d4e-aaaa-bbbb-cccc-0123456789ab");
	key("0::/system.slice/docker-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.scope\n",
	    "container:fedcba987654");
	key("4:cpuacct:/docker/fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210\n",
	    "container:fedcba987654");
	key("0::/user.slice/user-1000.slice/session-2.scope\n", "");
	key("0::/\n", "");
	key("garbage without colons", "");
	char k[JST_WORKLOAD_KEY] = "";
	const char env[] = "PATH=/bin\0JOULESTREAM_RUN_ID=01ABC\0HOME=/x";
	CHECK_INT(jst__environ_run(env, sizeof(env) - 1, k, sizeof(k)), 1);
	CHECK_STR(k, "run:01ABC");
	const char bad[] = "JOULESTREAM_RUN_ID=../x";
	CHECK_INT(jst__environ_run(bad, sizeof(bad) - 1, k, sizeof(k)), 0);
}

static int no_run(void *ud, const char *run, struct jst_agg_run *out) { (void)ud; (void)run; (void)out; return 0; }
static int no_zone(void *ud, const char *r, const char *z, struct jst_agg_zone *o) { (void)ud; (void)r; (void)z; (void)o; return 0; }
static int no_win(void *ud, const char *r, const char *z, uint64_t w, struct jst_agg_window *o)
{
	(void)ud; (void)r; (void)z; (void)w; (void)o;
	return 0;
}

static void sample(struct jst_event *ev, const char *zone, enum jst_zone_kind kind, uint64_t ts, double e, double share)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = JST_EV_SAMPLE;
	strcpy(ev->run, "R");
	strcpy(ev->host, "h");
	strcpy(ev->zone, zone);
	ev->kind = kind;
	ev->ts_ns = ts;
	ev->dt_s = 1;
	ev->energy_j = e;
	ev->power_w = e;
	ev->share = share;
}

static void test_agg(void)
{
	struct jst_agg a;
	jst__agg_init(&a);
	struct jst_agg_loader ld = {NULL, no_run, no_zone, no_win};
	struct jst_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = JST_EV_RUN_START;
	strcpy(ev.run, "R");
	strcpy(ev.host, "h");
	strcpy(ev.user, "ana");
	strcpy(ev.zone_code, "FR");
	ev.pue = 1.5;
	ev.wue_l_per_kwh = 0;
	ev.interval_s = 1;
	ev.ts_ns = 60000000000ull * 10;
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	uint64_t t = ev.ts_ns;
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 1000000000u, 3.6e6, 0.5); /* 1 kWh, half the run's */
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	sample(&ev, "core-0", JST_KIND_CORE, t + 1000000000u, 1e6, 1); /* inside the package: not counted */
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 4000000000u, 3.6e6, 0.5); /* 2 s missing: a gap */
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	CHECK_INT(a.nruns, 1);
	CHECK_NEAR(a.runs[0].energy_j, 3.6e6, 1e-6);
	CHECK_NEAR(a.runs[0].host_energy_j, 7.2e6, 1e-6);
	double ci = jst_grid_zone_find("FR")->ci_g_per_kwh;
	CHECK_NEAR(a.runs[0].co2e_g, 1.0 * 1.5 * ci, 1e-9);
	CHECK_INT(a.runs[0].gaps, 1);
	CHECK_INT(a.runs[0].samples, 3);
	CHECK_INT(a.nzones, 2);
	CHECK_INT(a.nwins, 2);
	size_t users = 0;
	for (size_t i = 0; i < a.ntotals; i++)
		if (a.totals[i].dim == JST_DIM_USER) {
			users++;
			CHECK_STR(a.totals[i].key, "ana");
			CHECK_NEAR(a.totals[i].energy_j, 3.6e6, 1e-6);
		}
	CHECK_INT(users, 1);
	jst__agg_release(&a);
}

int main(void)
{
	test_sketch();
	test_cgroup();
	test_agg();
	return check_done();
}
