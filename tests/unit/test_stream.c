/* The streaming pipeline's pure parts: the power sketch's quantiles (within 1 %), workload keys
 * from /proc/PID/cgroup (cgroup v1 and v2, Docker, containerd, Kubernetes pods) and environ,
 * and the aggregation of a batch (counted zones only in totals, shares, gaps, CO2e from the
 * run's zone and PUE, phases, hosts' heartbeats) through an in-memory loader; metric values
 * per window; the accounting hierarchy's split of one host's window (agg/hier.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "agg/hier.h"
#include "agg/metricwin.h"
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
	struct jst_agg_loader ld = {NULL, no_run, no_zone, no_win, NULL, NULL, 0};
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

static void phase_ev(struct jst_event *ev, const char *name, bool begin)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = JST_EV_PHASE;
	strcpy(ev->run, "R");
	strcpy(ev->host, "h");
	strcpy(ev->name, name);
	ev->begin = begin;
}

static double phase_total(const struct jst_agg *a, const char *key)
{
	double e = -1;
	for (size_t i = 0; i < a->ntotals; i++)
		if (a->totals[i].dim == JST_DIM_PHASE && strcmp(a->totals[i].key, key) == 0)
			e = (e < 0 ? 0 : e) + a->totals[i].energy_j;
	return e;
}

/* Samples go to the innermost open phase, "(none)" outside any, so the phases add up to the
 * run; an end returns to the parent path. */
static void test_agg_phases(void)
{
	struct jst_agg a;
	jst__agg_init(&a);
	struct jst_agg_loader ld = {NULL, no_run, no_zone, no_win, NULL, NULL, 0};
	struct jst_event ev;
	uint64_t t = 60000000000ull * 10;
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 1000000000u, 10, 1);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	phase_ev(&ev, "train", true);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 2000000000u, 20, 1);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	phase_ev(&ev, "train/forward", true);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 3000000000u, 40, 1);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	phase_ev(&ev, "train/forward", false);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	sample(&ev, "package-0", JST_KIND_PACKAGE, t + 4000000000u, 80, 1);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	CHECK_NEAR(phase_total(&a, "R/(none)"), 10, 0);
	CHECK_NEAR(phase_total(&a, "R/train"), 100, 0);
	CHECK_NEAR(phase_total(&a, "R/train/forward"), 40, 0);
	CHECK_NEAR(a.runs[0].energy_j, 150, 0);
	jst__agg_release(&a);
}

static void heartbeat_ev(struct jst_event *ev, const char *id, const char *run, const char *host, uint64_t ts,
                         double interval)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = JST_EV_HEARTBEAT;
	strcpy(ev->id, id);
	strcpy(ev->run, run);
	strcpy(ev->host, host);
	ev->ts_ns = ts;
	ev->interval_s = interval;
}

/* The newest heartbeat of each host is kept, whatever the order; no run row is made. */
static void test_agg_heartbeats(void)
{
	struct jst_agg a;
	jst__agg_init(&a);
	struct jst_agg_loader ld = {NULL, no_run, no_zone, no_win, NULL, NULL, 0};
	struct jst_event ev;
	heartbeat_ev(&ev, "AG-x-h-7", "", "n1", 200, 60);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	heartbeat_ev(&ev, "AG-x-h-6", "", "n1", 100, 30); /* older, later: ignored */
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	heartbeat_ev(&ev, "RUNID-h-0", "RUNID", "n2", 50, 0);
	CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	CHECK_INT(a.nruns, 0);
	CHECK_INT(a.nhosts, 2);
	CHECK_STR(a.hosts[0].host, "n1");
	CHECK_STR(a.hosts[0].agent, "AG-x");
	CHECK(a.hosts[0].last_ns == 200);
	CHECK_NEAR(a.hosts[0].interval_s, 60, 0);
	CHECK_STR(a.hosts[1].agent, "RUNID");
	CHECK_NEAR(a.hosts[1].interval_s, 0, 0);
	jst__agg_reset(&a);
	CHECK_INT(a.nhosts, 0);
	jst__agg_release(&a);
}

/* Metric values per window: count, average, min, max and the newest value. */
static void test_metric_windows(void)
{
	struct jst_metric_wins m = {0};
	const char *ev[] = {
		"{\"v\":1,\"id\":\"R-m-1\",\"type\":\"metric\",\"ts_ns\":120000000002,\"run\":\"R\",\"host\":\"h\",\"values\":{\"loss\":0.5}}",
		"{\"v\":1,\"id\":\"R-m-0\",\"type\":\"metric\",\"ts_ns\":120000000001,\"run\":\"R\",\"host\":\"h\",\"values\":{\"loss\":1.5,\"acc\":0.25}}",
		"{\"v\":1,\"id\":\"R-m-2\",\"type\":\"metric\",\"ts_ns\":180000000000,\"run\":\"R\",\"host\":\"h\",\"values\":{\"loss\":0.25}}",
	};
	for (size_t i = 0; i < 3; i++)
		CHECK_INT(jst__metric_wins_add(&m, ev[i], strlen(ev[i])), 0);
	const char phase[] = "{\"v\":1,\"id\":\"R-p-0\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"R\",\"host\":\"h\"}";
	CHECK_INT(jst__metric_wins_add(&m, phase, strlen(phase)), -EINVAL);
	jst__metric_wins_sort(&m);
	CHECK_INT(m.n, 3);
	CHECK_STR(m.cell[0].name, "acc");
	CHECK_STR(m.cell[1].name, "loss");
	CHECK(m.cell[1].win == 120000000000ull);
	CHECK_INT(m.cell[1].count, 2);
	CHECK_NEAR(m.cell[1].sum / 2, 1.0, 0);
	CHECK_NEAR(m.cell[1].last, 0.5, 0); /* the newest by ts_ns, not the last read */
	CHECK_NEAR(m.cell[1].min, 0.5, 0);
	CHECK_NEAR(m.cell[1].max, 1.5, 0);
	CHECK(m.cell[2].win == 180000000000ull);
	CHECK(!m.truncated);
	jst__metric_wins_release(&m);
}

/* A body as a pretty-printing client sent it (blanks around the colons), with "ts_ns" also as a
 * string value before the key: the time is still found. */
static void test_metric_windows_blanks(void)
{
	struct jst_metric_wins m = {0};
	const char ev[] = "{\"v\": 1, \"id\": \"ts_ns\", \"type\": \"metric\", \"ts_ns\" :\n"
			  " 180000000007, \"run\": \"R\", \"host\": \"h\", \"values\": {\"loss\": 2}}";
	CHECK_INT(jst__metric_wins_add(&m, ev, strlen(ev)), 0);
	CHECK_INT(m.n, 1);
	CHECK(m.cell[0].win == 180000000000ull);
	CHECK_NEAR(m.cell[0].last, 2, 0);
	const char none[] = "{\"v\":1,\"type\":\"metric\",\"ts_ns\":\"x\",\"values\":{\"loss\":1}}";
	CHECK_INT(jst__metric_wins_add(&m, none, strlen(none)), -EINVAL);
	jst__metric_wins_release(&m);
}

static struct jst_hier_claim claim(const char *run, const char *user, bool agent, bool scope_host, double e,
                                   double secs, uint64_t start_s, uint64_t last_s)
{
	struct jst_hier_claim c;
	memset(&c, 0, sizeof(c));
	snprintf(c.run, sizeof(c.run), "%s", run);
	snprintf(c.user, sizeof(c.user), "%s", user);
	snprintf(c.zone, sizeof(c.zone), "%s", agent ? "DE" : "FR");
	c.series_host = agent;
	c.scope_host = scope_host || agent;
	c.samples = 1;
	c.energy_j = e;
	c.co2e_g = e * (agent ? 2 : 3); /* g per J: the agent's factor, the runs' */
	c.water_l = e / 100;
	c.secs = secs;
	c.start_ns = start_s * 1000000000ull;
	c.last_ns = last_s * 1000000000ull;
	c.interval_s = 1;
	return c;
}

static const struct jst_hier_row *row(const struct jst_hier_rows *r, enum jst_agg_dim d, bool unattr, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->row[i].dim == d && r->row[i].unattributed == unattr && strcmp(r->row[i].key, key) == 0)
			return &r->row[i];
	return NULL;
}

/* One host's window: the agent is the host; a process-scope run keeps its share, a host-scope
 * run takes what is left, the rest is unattributed at the agent's factor; without an agent,
 * two host-scope runs over the same seconds count them once, one after the other both count. */
static void test_hier_split(void)
{
	struct jst_hier_rows out = {0};
	struct jst_hier_claim c[3] = {claim("agent", "root", true, true, 600, 60, 0, 60),
	                              claim("p", "ann", false, false, 100, 60, 0, 60),
	                              claim("h", "bob", false, true, 550, 60, 0, 60)};
	CHECK_INT(jst__hier_split("node", 0, c, 3, &out), 0);
	const struct jst_hier_row *x = row(&out, JST_DIM_HOST, false, "node");
	CHECK(x && fabs(x->energy_j - 600) < 1e-9);
	x = row(&out, JST_DIM_USER, false, "ann");
	CHECK(x && fabs(x->energy_j - 100) < 1e-9 && fabs(x->co2e_g - 300) < 1e-9);
	x = row(&out, JST_DIM_USER, false, "bob"); /* what ann's processes leave of 600 J */
	CHECK(x && fabs(x->energy_j - 500) < 1e-9);
	CHECK(row(&out, JST_DIM_USER, false, "root") == NULL);
	CHECK(row(&out, JST_DIM_USER, true, "") == NULL); /* nothing left */
	c[0] = claim("agent", "root", true, true, 600, 60, 0, 60); /* (split sorts c by run) */
	c[1] = claim("p", "ann", false, false, 100, 60, 0, 60);
	c[2] = claim("h", "bob", false, true, 300, 30, 30, 60); /* half the window */
	CHECK_INT(jst__hier_split("node", 0, c, 3, &out), 0);
	x = row(&out, JST_DIM_USER, true, "");
	CHECK(x && fabs(x->energy_j - 200) < 1e-9 && fabs(x->co2e_g - 400) < 1e-9); /* at the agent's 2 g/J */
	x = row(&out, JST_DIM_HOST, false, "node");
	CHECK(x && fabs(x->energy_j - 600) < 1e-9 && fabs(x->co2e_g - (300 + 900 + 400)) < 1e-9);
	x = row(&out, JST_DIM_ZONE, false, "DE");
	CHECK(x && fabs(x->energy_j - 200) < 1e-9);
	/* no agent: two host-scope runs over the same 30 s read the host twice: counted once */
	struct jst_hier_claim d[2] = {claim("h1", "ann", false, true, 300, 30, 0, 30),
	                              claim("h2", "bob", false, true, 300, 30, 0, 30)};
	CHECK_INT(jst__hier_split("node", 0, d, 2, &out), 0);
	x = row(&out, JST_DIM_HOST, false, "node");
	CHECK(x && fabs(x->energy_j - 300) < 1e-9);
	x = row(&out, JST_DIM_USER, false, "ann");
	CHECK(x && fabs(x->energy_j - 150) < 1e-9);
	/* one after the other (sample ends 1…30 and 31…59): both count */
	d[1] = claim("h2", "bob", false, true, 290, 29, 30, 59);
	CHECK_INT(jst__hier_split("node", 0, d, 2, &out), 0);
	x = row(&out, JST_DIM_HOST, false, "node");
	CHECK(x && fabs(x->energy_j - 590) < 1e-9);
	CHECK_INT(jst__hier_split("node", 0, d, 0, &out), 0);
	CHECK_INT((int)out.n, 0);
	jst__hier_rows_release(&out);
}

int main(void)
{
	test_hier_split();
	test_sketch();
	test_cgroup();
	test_agg();
	test_agg_phases();
	test_agg_heartbeats();
	test_metric_windows();
	test_metric_windows_blanks();
	return check_done();
}
