/* The store conformance suite: the same named cases on every store dialect. Given a target (a
 * SQLite path, "sqlite:PATH", or a postgresql:// URL), each case opens a store of its own (a
 * file PATH.CASE, or the URL with search_path set to the schema CASE, which the PostgreSQL
 * wrapper creates from `--list`) and checks the event-log API of ingest.h, audit.h and
 * store.h: every event type, idempotent re-ingest, batches refused whole, run lists with
 * filters and pages, summaries, zones, windows, aggregates per dimension, phases summing to
 * * the run, raw events by page, deletion then rebuild, replay against incremental, hosts,
 * tokens, the audit log, source offsets and the event chain; and the per-job half of store.h
 * as `joulestream run` writes a run (its events through the store's sink, the session's record
 * calls) and reads it back (load by id, prefix and "last", list, samples, metrics and training
 * record, results by data version, the timeline), its event digest and the event chain's head,
 * and an attestation signed and checked against the store, the same on every dialect; the
 * accounting hierarchy's properties over generated fleets (hierarchy.c). A call a dialect does not support yet (-ENOTSUP) makes the case an expected skip,
 * printed with its reason and listed at the end, never a silent pass. Exit 0 when no case
 * failed. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/check.h"
#include "agg/metricwin.h"
#include "joulestream/audit.h"
#include "joulestream/carbon.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/sink.h"
#include "joulestream/store.h"
#include "joulestream/train.h"
#include "joulestream/trust.h"

#include <sodium.h>

#define BASE 1700000000000000000ull
#define SEC 1000000000ull

/* hierarchy.c: the accounting hierarchy's properties over generated fleets */
int conformance_case_hierarchy(struct jst_store *s);

static const char *target;
static char case_target[1200]; /* the store of the case being run */
static bool is_pg;
static char skip_why[600];

/* The case's own store: a fresh file, or a schema of its own. */
static struct jst_store *open_case(const char *name)
{
	char t[1200], err[600];
	if (is_pg) {
		snprintf(t, sizeof(t), "%s%soptions=-csearch_path%%3Dcase_%s", target,
			 strchr(target, '?') ? "&" : "?", name);
	} else {
		snprintf(t, sizeof(t), "%s.%s", target, name);
		const char *path = strncmp(t, "sqlite:", 7) == 0 ? t + 7 : t;
		char side[1300];
		unlink(path);
		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	struct jst_store *s = NULL;
	snprintf(case_target, sizeof(case_target), "%s", t);
	if (jst_store_open(&s, t, err, sizeof(err)) < 0) {
		fprintf(stderr, "cannot open %s: %s\n", t, err);
		return NULL;
	}
	return s;
}

/* Marks the case as not supported on this dialect when r is -ENOTSUP; true then. */
static bool unsupported(struct jst_store *s, int r, const char *call)
{
	if (r != -ENOTSUP)
		return false;
	if (!skip_why[0])
		snprintf(skip_why, sizeof(skip_why), "%s: %s", call, jst_store_errmsg(s));
	return true;
}

/* NDJSON builders */
struct nd {
	char p[65536];
	size_t n;
};

static void add(struct nd *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct nd *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(b->p + b->n, sizeof(b->p) - b->n, fmt, ap);
	va_end(ap);
	if (w > 0 && (size_t)w < sizeof(b->p) - b->n)
		b->n += (size_t)w;
	b->p[b->n++] = '\n';
	b->p[b->n] = '\0';
}

static void ev_start(struct nd *b, const char *run, const char *host, const char *user,
		     const char *model, uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-s\",\"type\":\"run_start\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"%s\","
	    "\"user\":\"%s\",\"model\":\"%s\",\"command\":[\"x\"],\"interval_s\":1,\"zone\":\"FR\"}",
	    run, ts, run, host, user, model);
}

static void ev_sample(struct nd *b, const char *run, const char *host, const char *zone, int idx,
		      int i, double energy, uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-%s-%d\",\"type\":\"sample\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"%s\","
	    "\"zone\":\"%s\",\"zone_index\":%d,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":1,\"energy_j\":%.17g,"
	    "\"share\":1}",
	    run, zone, i, ts, run, host, zone, idx, energy);
}

static void ev_phase(struct nd *b, const char *run, int seq, const char *name, bool begin,
		     uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-p-%d\",\"type\":\"phase\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"h1\",\"name\":\"%s\","
	    "\"edge\":\"%s\"}",
	    run, seq, ts, run, name, begin ? "begin" : "end");
}

static void ev_metric(struct nd *b, const char *run, int seq, double loss, uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-m-%d\",\"type\":\"metric\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"h1\",\"step\":%d,"
	    "\"epoch\":0,\"values\":{\"loss\":%g}}",
	    run, seq, ts, run, seq, loss);
}

static void ev_end(struct nd *b, const char *run, const char *host, uint64_t ts, int code)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-e\",\"type\":\"run_end\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"%s\","
	    "\"exit\":%d,\"signal\":0,\"duration_s\":10,\"samples\":10}",
	    run, ts, run, host, code);
}

static void ev_heartbeat(struct nd *b, const char *agent, int seq, const char *host, uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-h-%d\",\"type\":\"heartbeat\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"%s\","
	    "\"uptime_s\":%d,\"interval_s\":30}",
	    agent, seq, ts, agent, host, seq * 30);
}

/* Ingests b; returns the result (accepted, duplicates), or {-1,-1} after a failed CHECK. */
static struct jst_ingest_result ingest(struct jst_store *s, const struct nd *b)
{
	struct jst_event_batch eb = {0};
	struct jst_ingest_result res = {(size_t)-1, (size_t)-1};
	size_t line = 0;
	char err[300];
	int r = jst_event_batch_parse(b->p, b->n, 0, &eb, &line, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "line %zu: %s\n", line, err);
	CHECK_INT(r, 0);
	if (r == 0) {
		r = jst_store_ingest(s, &eb, &res);
		if (r < 0)
			fprintf(stderr, "ingest: %s\n", jst_store_errmsg(s));
		CHECK_INT(r, 0);
	}
	jst_event_batch_release(&eb);
	return res;
}

/* A run of n samples of 10 J in zone gpu0 and 5 J in cpu0, start and end. */
static void a_run(struct jst_store *s, const char *run, const char *host, const char *user,
		  const char *model, uint64_t t0, int n)
{
	struct nd b = {.n = 0};
	ev_start(&b, run, host, user, model, t0);
	for (int i = 0; i < n; i++) {
		ev_sample(&b, run, host, "gpu0", 0, i, 10, t0 + (uint64_t)(i + 1) * SEC);
		ev_sample(&b, run, host, "cpu0", 1, i, 5, t0 + (uint64_t)(i + 1) * SEC);
	}
	ev_end(&b, run, host, t0 + (uint64_t)(n + 1) * SEC, 0);
	struct jst_ingest_result r = ingest(s, &b);
	CHECK_INT(r.accepted, 2 + 2 * n);
}

static int count_ev(int64_t seq, const char *body, size_t len, void *ud)
{
	(void)seq, (void)body, (void)len;
	(*(int *)ud)++;
	return 0;
}

static int events_of(struct jst_store *s, const char *run, const char *type)
{
	int n = 0;
	CHECK(jst_store_run_events(s, run, type, 0, 1000, count_ev, &n) >= 0);
	return n;
}

/* --- cases --- */

static int case_ingest_types(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start(&b, "T1", "h1", "ann", "m1", BASE);
	ev_phase(&b, "T1", 0, "train", true, BASE + SEC / 2);
	ev_sample(&b, "T1", "h1", "gpu0", 0, 0, 10, BASE + SEC);
	ev_metric(&b, "T1", 0, 0.5, BASE + SEC);
	ev_phase(&b, "T1", 1, "train", false, BASE + 3 * SEC / 2);
	ev_end(&b, "T1", "h1", BASE + 2 * SEC, 3);
	ev_heartbeat(&b, "AGENT1", 0, "h1", BASE);
	struct jst_ingest_result r = ingest(s, &b);
	CHECK_INT(r.accepted, 7);
	CHECK_INT(r.duplicates, 0);
	const char *types[] = {"run_start", "phase", "sample", "metric", "run_end"};
	int want[] = {1, 2, 1, 1, 1};
	for (int i = 0; i < 5; i++)
		CHECK_INT(events_of(s, "T1", types[i]), want[i]);
	CHECK_INT(events_of(s, "T1", NULL), 6);
	struct jst_run_summary sum;
	CHECK_INT(jst_store_get_run(s, "T1", &sum), 0);
	CHECK_STR(sum.status, "finished");
	CHECK_INT(sum.exit_code, 3);
	CHECK_STR(sum.user, "ann");
	CHECK_STR(sum.model, "m1");
	CHECK_NEAR(sum.energy_j, 10, 1e-9);
	return 0;
}

static int case_idempotent(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start(&b, "I1", "h1", "ann", "m1", BASE);
	ev_sample(&b, "I1", "h1", "gpu0", 0, 0, 10, BASE + SEC);
	ev_sample(&b, "I1", "h1", "gpu0", 0, 0, 10, BASE + SEC); /* the same id twice in a batch */
	struct jst_ingest_result r = ingest(s, &b);
	CHECK_INT(r.accepted, 2);
	CHECK_INT(r.duplicates, 1);
	r = ingest(s, &b); /* a retry */
	CHECK_INT(r.accepted, 0);
	CHECK_INT(r.duplicates, 3);
	CHECK_INT(events_of(s, "I1", NULL), 2);
	struct jst_run_summary sum;
	CHECK_INT(jst_store_get_run(s, "I1", &sum), 0);
	CHECK_INT(sum.samples, 1);
	CHECK_NEAR(sum.energy_j, 10, 1e-9);
	return 0;
}

static int case_batch_whole(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start(&b, "W1", "h1", "ann", "m1", BASE);
	ev_sample(&b, "W1", "h1", "gpu0", 0, 0, 10, BASE + SEC);
	add(&b,
	    "{\"v\":1,\"id\":\"W1-bad\",\"type\":\"sample\",\"ts_ns\":1,\"run\":\"W1\",\"energy_j\":-1}");
	struct jst_event_batch eb = {0};
	size_t line = 0;
	char err[300];
	CHECK(jst_event_batch_parse(b.p, b.n, 0, &eb, &line, err, sizeof(err)) < 0);
	CHECK_INT(eb.n, 0);
	CHECK_INT(line, 3);
	jst_event_batch_release(&eb);
	/* too many events: refused whole too */
	CHECK_INT(jst_event_batch_parse(b.p, b.n, 1, &eb, &line, err, sizeof(err)), -E2BIG);
	jst_event_batch_release(&eb);
	struct jst_run_summary sum;
	CHECK_INT(jst_store_get_run(s, "W1", &sum), -ENOENT);
	CHECK_INT(events_of(s, "W1", NULL), 0);
	/* refused by the store: a batch whose source offset cannot be written (no topic) is not
	 * stored at all, events included */
	b.n = 0;
	ev_start(&b, "W1", "h1", "ann", "m1", BASE);
	ev_sample(&b, "W1", "h1", "gpu0", 0, 0, 10, BASE + SEC);
	CHECK_INT(jst_event_batch_parse(b.p, b.n, 0, &eb, &line, err, sizeof(err)), 0);
	struct jst_source_offset off[] = {{"g", NULL, 0, 10}};
	struct jst_source_batch src = {off, 1, NULL, 0};
	struct jst_ingest_result res;
	int r = jst_store_ingest_from(s, &eb, &src, &res);
	jst_event_batch_release(&eb);
	if (unsupported(s, r, "jst_store_ingest_from"))
		return 1;
	CHECK(r < 0);
	CHECK(res.accepted == 0 && res.duplicates == 0);
	CHECK_INT(jst_store_get_run(s, "W1", &sum), -ENOENT);
	CHECK_INT(events_of(s, "W1", NULL), 0);
	struct jst_events_report rep;
	CHECK_INT(jst_store_events_verify(s, NULL, NULL, &rep), 0);
	CHECK(rep.entries == 0 && rep.events == 0 && rep.problems == 0); /* nor chained */
	/* the valid part sent again alone is stored */
	b.n = 0;
	ev_start(&b, "W1", "h1", "ann", "m1", BASE);
	CHECK_INT(ingest(s, &b).accepted, 1);
	return 0;
}

struct page {
	char ids[64][JST_EVENT_ID_MAX + 1];
	int n;
};

static int page_cb(const struct jst_run_summary *r, void *ud)
{
	struct page *p = ud;
	if (p->n < 64)
		strcpy(p->ids[p->n++], r->run);
	return 0;
}

static void five_runs(struct jst_store *s)
{
	const char *users[] = {"ann", "bob", "ann", "cy", "ann"};
	const char *models[] = {"m1", "m2", "m2", "m1", "m3"};
	for (int i = 0; i < 5; i++) {
		char run[16], host[16];
		snprintf(run, sizeof(run), "L%d", i);
		snprintf(host, sizeof(host), "h%d", i % 2);
		a_run(s, run, host, users[i], models[i], BASE + (uint64_t)i * 100 * SEC, i + 1);
	}
}

static int case_runs_list(struct jst_store *s)
{
	five_runs(s);
	struct jst_run_query q = {.limit = 100, .sort = JST_SORT_START};
	struct page p = {.n = 0};
	char next[128];
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 5);
	CHECK_STR(p.ids[0], "L4"); /* newest first */
	CHECK_STR(next, "");
	q.user = "ann";
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 3);
	q.user = NULL;
	q.model = "m1";
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 2);
	q.model = NULL;
	q.host = "h1";
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 2);
	q.host = NULL;
	q.only_user = "bob";
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK(p.n == 1 && strcmp(p.ids[0], "L1") == 0);
	q.only_user = NULL;
	q.status = "finished";
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 5);
	q.status = NULL;
	q.from_ns = BASE + 100 * SEC;
	q.to_ns = BASE + 300 * SEC;
	p.n = 0;
	CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
	CHECK_INT(p.n, 2);
	q.from_ns = q.to_ns = 0;
	/* by energy, two a page: L4 L3 | L2 L1 | L0 */
	q.sort = JST_SORT_ENERGY;
	q.limit = 2;
	struct page all = {.n = 0};
	char cur[128] = "";
	for (int pages = 0; pages < 5; pages++) {
		q.cursor = cur[0] ? cur : NULL;
		CHECK(jst_store_query_runs(s, &q, page_cb, &all, next, sizeof(next)) >= 0);
		strcpy(cur, next);
		if (!cur[0])
			break;
	}
	CHECK_INT(all.n, 5);
	const char *want[] = {"L4", "L3", "L2", "L1", "L0"};
	for (int i = 0; i < 5 && i < all.n; i++)
		CHECK_STR(all.ids[i], want[i]);
	q.cursor = "not a cursor";
	CHECK_INT(jst_store_query_runs(s, &q, page_cb, &all, next, sizeof(next)), -EINVAL);
	return 0;
}

/* Each sort orders by its own figure on every store: A9 started first and used the most
 * energy, so it heads every sort but the start's, and a page cut inside a sort resumes there. */
static int case_runs_sorted(struct jst_store *s)
{
	five_runs(s);
	a_run(s, "A9", "h0", "dee", "m9", BASE - 1000 * SEC, 20);
	enum jst_run_sort sorts[] = {JST_SORT_START, JST_SORT_ENERGY, JST_SORT_CO2E, JST_SORT_WATER};
	for (size_t k = 0; k < sizeof(sorts) / sizeof(sorts[0]); k++) {
		struct jst_run_query q = {.limit = 1, .sort = sorts[k]};
		struct page p = {.n = 0};
		char next[128];
		CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
		CHECK_INT(p.n, 1);
		CHECK_STR(p.ids[0], sorts[k] == JST_SORT_START ? "L4" : "A9");
		q.cursor = next;
		CHECK(jst_store_query_runs(s, &q, page_cb, &p, next, sizeof(next)) >= 0);
		CHECK_INT(p.n, 2);
		CHECK_STR(p.ids[1], sorts[k] == JST_SORT_START ? "L3" : "L4");
	}
	struct jst_run_summary r;
	CHECK_INT(jst_store_get_run(s, "A9", &r), 0);
	CHECK(r.water_l > 0); /* else the water sort would only be the tie break */
	return 0;
}

static int case_run_summary(struct jst_store *s)
{
	a_run(s, "S1", "h1", "ann", "m1", BASE, 10);
	struct jst_run_summary r;
	CHECK_INT(jst_store_get_run(s, "S1", &r), 0);
	CHECK_STR(r.run, "S1");
	CHECK_STR(r.host, "h1");
	CHECK_STR(r.status, "finished");
	CHECK(r.has_start);
	CHECK_INT(r.start_ns, BASE);
	CHECK_INT(r.samples, 20);
	CHECK_NEAR(r.energy_j, 150, 1e-9);
	CHECK(r.co2e_g > 0);
	CHECK_INT(jst_store_get_run(s, "NOPE", &r), -ENOENT);
	return 0;
}

static int zone_cb(const struct jst_zone_summary *z, void *ud)
{
	double *sum = ud;
	sum[0] += z->energy_j;
	sum[1] += 1;
	return 0;
}

static int case_zones(struct jst_store *s)
{
	a_run(s, "Z1", "h1", "ann", "m1", BASE, 4);
	double sum[2] = {0, 0};
	CHECK(jst_store_run_zones(s, "Z1", zone_cb, sum) >= 0);
	CHECK_INT(sum[1], 2);
	CHECK_NEAR(sum[0], 60, 1e-9);
	return 0;
}

static int win_cb(const struct jst_window *w, void *ud)
{
	double *sum = ud;
	sum[0] += w->energy_j;
	sum[1] += (double)w->samples;
	CHECK(w->max_w >= w->avg_w - 1e-9);
	return 0;
}

static int metric_cb(int64_t seq, const char *body, size_t len, void *ud)
{
	(void)seq;
	CHECK_INT(jst__metric_wins_add(ud, body, len), 0);
	return 0;
}

static int case_windows(struct jst_store *s)
{
	a_run(s, "V1", "h1", "ann", "m1", BASE, 130); /* more than two minutes: several windows */
	struct nd b = {.n = 0};
	for (int i = 0; i < 4; i++)
		ev_metric(&b, "V1", i, 1.0 / (i + 1), BASE + (uint64_t)(40 * i + 1) * SEC);
	CHECK_INT(ingest(s, &b).accepted, 4);
	double sum[2] = {0, 0};
	CHECK(jst_store_run_windows(s, "V1", win_cb, sum) >= 0);
	CHECK_NEAR(sum[0], 130 * 15, 1e-6);
	CHECK_INT(sum[1], 260);
	/* metric windows are folded from the run's metric events at read time (the API's timeline):
	 * at 1, 41, 81 and 121 s after a start 20 s into a minute, windows of 1, 2 and 1 values */
	struct jst_metric_wins m = {0};
	CHECK(jst_store_run_events(s, "V1", "metric", 0, 100, metric_cb, &m) >= 0);
	jst__metric_wins_sort(&m);
	CHECK_INT(m.n, 3);
	if (m.n == 3) {
		CHECK_STR(m.cell[1].name, "loss");
		CHECK_INT(m.cell[0].count, 1);
		CHECK_INT(m.cell[1].count, 2);
		CHECK_NEAR(m.cell[1].max, 0.5, 1e-12);
		CHECK_NEAR(m.cell[1].last, 1.0 / 3, 1e-6); /* sent with %g */
		CHECK_NEAR(m.cell[2].last, 0.25, 1e-12);
	}
	jst__metric_wins_release(&m);
	return 0;
}

struct aggs {
	char key[16][336];
	double e[16];
	int n;
};

static int agg_cb(const struct jst_aggregate *a, void *ud)
{
	struct aggs *g = ud;
	if (g->n < 16) {
		strcpy(g->key[g->n], a->key);
		g->e[g->n++] = a->energy_j;
	}
	return 0;
}

static double agg_sum(struct jst_store *s, const char *by, const char *only, struct aggs *g)
{
	memset(g, 0, sizeof(*g));
	CHECK(jst_store_aggregates(s, by, 0, 0, only, agg_cb, g) >= 0);
	double t = 0;
	for (int i = 0; i < g->n; i++)
		t += g->e[i];
	return t;
}

static int case_aggregates(struct jst_store *s)
{
	five_runs(s); /* 15 J a tick: 15 * (1+2+3+4+5) */
	const char *dims[] = {"user", "model", "host", "zone", "phase"};
	struct aggs g;
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(agg_sum(s, dims[i], NULL, &g), 225, 1e-6);
	agg_sum(s, "user", NULL, &g);
	CHECK_INT(g.n, 3);
	CHECK_STR(g.key[0], "ann"); /* largest first: 15 * (1+3+5) */
	CHECK_NEAR(g.e[0], 135, 1e-6);
	CHECK_NEAR(agg_sum(s, "user", "bob", &g), 30, 1e-6);
	CHECK_INT(g.n, 1);
	CHECK(jst_store_aggregates(s, "colour", 0, 0, NULL, agg_cb, &g) < 0);
	return 0;
}

static int case_phases(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start(&b, "P1", "h1", "ann", "m1", BASE);
	ev_phase(&b, "P1", 0, "train", true, BASE + SEC / 2);
	for (int i = 0; i < 6; i++) {
		if (i == 3) {
			ev_phase(&b, "P1", 1, "train", false, BASE + (uint64_t)i * SEC + SEC / 2);
			ev_phase(&b, "P1", 2, "eval", true, BASE + (uint64_t)i * SEC + SEC / 2);
		}
		ev_sample(&b, "P1", "h1", "gpu0", 0, i, 10 + i, BASE + (uint64_t)(i + 1) * SEC);
	}
	ev_phase(&b, "P1", 3, "eval", false, BASE + 7 * SEC);
	ev_end(&b, "P1", "h1", BASE + 8 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 12);
	struct aggs g;
	double phases = agg_sum(s, "phase", NULL, &g);
	struct jst_run_summary r;
	CHECK_INT(jst_store_get_run(s, "P1", &r), 0);
	CHECK_NEAR(phases, r.energy_j, 1e-9);
	CHECK_NEAR(r.energy_j, 75, 1e-9);
	CHECK(g.n >= 2);
	return 0;
}

struct seqs {
	int64_t last;
	int n;
	bool ordered;
};

static int seq_cb(int64_t seq, const char *body, size_t len, void *ud)
{
	(void)body, (void)len;
	struct seqs *q = ud;
	if (seq <= q->last)
		q->ordered = false;
	q->last = seq;
	q->n++;
	return 0;
}

static int case_run_events(struct jst_store *s)
{
	a_run(s, "E1", "h1", "ann", "m1", BASE, 5); /* 12 events */
	a_run(s, "E2", "h1", "bob", "m1", BASE, 2);
	struct seqs q = {0, 0, true};
	int pages = 0;
	for (int before; pages < 20; pages++) {
		before = q.n;
		CHECK(jst_store_run_events(s, "E1", NULL, q.last, 5, seq_cb, &q) >= 0);
		if (q.n == before)
			break;
	}
	CHECK_INT(q.n, 12);
	CHECK_INT(pages, 3);
	CHECK(q.ordered);
	CHECK_INT(events_of(s, "E1", "sample"), 10);
	CHECK_INT(events_of(s, "E2", NULL), 6);
	CHECK_INT(events_of(s, "NOPE", NULL), 0);
	return 0;
}

/* Every view of the store as text, to compare two states exactly. */
struct snap {
	char *p;
	size_t n, cap;
};

static void snap_add(struct snap *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void snap_add(struct snap *b, const char *fmt, ...)
{
	if (b->n + 1024 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 65536;
		b->p = realloc(b->p, b->cap);
	}
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		b->n += (size_t)w < b->cap - b->n ? (size_t)w : 0;
}

static int snap_zone(const struct jst_zone_summary *z, void *ud)
{
	snap_add(ud, " zone %s %s %s %" PRId64 " %" PRId64 " %.17g %.17g\n", z->zone, z->kind,
		 z->source, z->samples, z->gaps, z->energy_j, z->host_energy_j);
	return 0;
}

static int snap_win(const struct jst_window *w, void *ud)
{
	snap_add(ud, " win %s %" PRIu64 " %" PRId64 " %.17g %.17g %.17g %.17g %.17g %.17g\n",
		 w->zone, w->win_ns, w->samples, w->energy_j, w->co2e_g, w->water_l, w->max_w,
		 w->p50_w, w->p99_w);
	return 0;
}

static int snap_agg(const struct jst_aggregate *a, void *ud)
{
	snap_add(ud, " agg %s %" PRId64 " %.17g %.17g %.17g\n", a->key, a->samples, a->energy_j,
		 a->co2e_g, a->water_l);
	return 0;
}

struct snap_runs {
	struct jst_store *s;
	struct snap *b;
};

static int snap_run(const struct jst_run_summary *r, void *ud)
{
	struct snap_runs *sr = ud;
	snap_add(sr->b, "run %s %s %s %" PRId64 " %.17g %.17g %.17g %" PRIu64 " %" PRIu64 "\n",
		 r->run, r->user, r->status, r->samples, r->energy_j, r->co2e_g, r->water_l,
		 r->start_ns, r->end_ns);
	jst_store_run_zones(sr->s, r->run, snap_zone, sr->b);
	jst_store_run_windows(sr->s, r->run, snap_win, sr->b);
	return 0;
}

static char *snapshot(struct jst_store *s)
{
	struct snap b = {NULL, 0, 0};
	struct snap_runs sr = {s, &b};
	struct jst_run_query q = {.limit = 1000, .sort = JST_SORT_START};
	char next[128];
	snap_add(&b, "runs\n");
	CHECK(jst_store_query_runs(s, &q, snap_run, &sr, next, sizeof(next)) >= 0);
	const char *dims[] = {"user", "model", "host", "zone", "phase"};
	for (int i = 0; i < 5; i++) {
		snap_add(&b, "by %s\n", dims[i]);
		CHECK(jst_store_aggregates(s, dims[i], 0, 0, NULL, snap_agg, &b) >= 0);
	}
	return b.p;
}

static int case_delete_rebuild(struct jst_store *s)
{
	five_runs(s);
	uint64_t replayed = 0;
	CHECK_INT(jst_store_run_delete(s, "L2", BASE, &replayed), 0);
	CHECK(replayed > 0);
	struct jst_run_summary r;
	CHECK_INT(jst_store_get_run(s, "L2", &r), -ENOENT);
	CHECK_INT(jst_store_run_delete(s, "L2", BASE, &replayed), -ENOENT);
	CHECK_INT(events_of(s, "L2", NULL), 8); /* the raw events stay */
	struct aggs g;
	CHECK_NEAR(agg_sum(s, "user", NULL, &g), 225 - 45, 1e-6);
	/* a later event of the deleted run is kept, not aggregated */
	struct nd b = {.n = 0};
	ev_sample(&b, "L2", "h0", "gpu0", 0, 99, 1000, BASE + 299 * SEC);
	CHECK_INT(ingest(s, &b).accepted, 1);
	CHECK_INT(jst_store_get_run(s, "L2", &r), -ENOENT);
	char *after_delete = snapshot(s);
	uint64_t events = 0;
	CHECK_INT(jst_store_rebuild(s, &events), 0);
	char *rebuilt = snapshot(s);
	CHECK_STR(rebuilt, after_delete);
	free(after_delete);
	free(rebuilt);
	return 0;
}

static int case_replay_equals_incremental(struct jst_store *s)
{
	five_runs(s);
	struct nd b = {.n = 0};
	ev_phase(&b, "L1", 0, "train", true, BASE + 100 * SEC);
	ev_sample(&b, "L1", "h1", "gpu0", 0, 50, 7.25, BASE + 100 * SEC + SEC / 3);
	ev_phase(&b, "L1", 1, "train", false, BASE + 101 * SEC);
	CHECK_INT(ingest(s, &b).accepted, 3);
	char *incremental = snapshot(s);
	uint64_t events = 0;
	CHECK_INT(jst_store_rebuild(s, &events), 0);
	CHECK_INT(events, 40 + 3);
	char *replayed = snapshot(s);
	CHECK_STR(replayed, incremental);
	free(incremental);
	free(replayed);
	return 0;
}

/* Hourly carbon (docs/schema.md, intensity): a run's values in the log give each sample its
 * CO2e, whenever they come: before their samples (a file's), in the same batch, or after them
 * (a live source's, flagged late; or out of order, or again): the minutes already counted are
 * charged again, so the run, its minutes and its totals end with the figure of its view, and
 * a rebuild, replaying the log batch by batch, gives the same aggregates bit for bit. */
static void ev_intensity(struct nd *b, const char *run, const char *seq, uint64_t ts, const char *vals,
			 bool late)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-i-%s\",\"type\":\"intensity\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"h1\",\"zone\":\"FR\",\"source\":\"test\",\"data_version\":\"file:t@sha256:0\","
	    "\"step_s\":60,\"ci_g_per_kwh\":[%s]%s}",
	    run, seq, ts, run, vals, late ? ",\"late\":true" : "");
}

/* A run_start as `run` writes it, with its PUE and WUE (the view takes them from there). */
static void ev_start_site(struct nd *b, const char *run, const char *user, const char *zone)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-s\",\"type\":\"run_start\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"h1\",\"user\":\"%s\",\"model\":\"m1\",\"command\":[\"x\"],"
	    "\"interval_s\":1,\"zone\":\"%s\",\"pue\":%.17g,\"wue_l_per_kwh\":%.17g}",
	    run, (uint64_t)BASE, run, user, zone, JST_DEFAULT_PUE, JST_DEFAULT_WUE_L_PER_KWH);
}

struct co2e_sums {
	double windows, user, zone, phase, phase_j;
	const char *key;
};

static int co2e_cb(const struct jst_window *w, void *ud)
{
	((struct co2e_sums *)ud)->windows += w->co2e_g;
	return 0;
}

static int co2e_agg_cb(const struct jst_aggregate *a, void *ud)
{
	struct co2e_sums *x = ud;
	if (strcmp(a->key, x->key) == 0)
		x->user += a->co2e_g;
	return 0;
}

static int phase_sum_cb(const struct jst_aggregate *a, void *ud)
{
	struct co2e_sums *x = ud;
	x->phase += a->co2e_g;
	x->phase_j += a->energy_j;
	return 0;
}

static void samples(struct nd *b, const char *run, int from, int to)
{
	for (int i = from; i <= to; i++)
		ev_sample(b, run, "h1", "gpu0", 0, i, 10, BASE + (uint64_t)i * SEC);
}

/* Checks a run's CO2e everywhere against want, and that a rebuild changes nothing. */
static void check_co2e(struct jst_store *s, const char *run, double want)
{
	struct jst_run_summary r;
	CHECK_INT(jst_store_get_run(s, run, &r), 0);
	CHECK_NEAR(r.co2e_g, want, 1e-12 * want);
	struct co2e_sums x = {0};
	CHECK(jst_store_run_windows(s, run, co2e_cb, &x) >= 0);
	CHECK_NEAR(x.windows, want, 1e-12 * want);
	const char *dims[] = {"user", "zone"}, *keys[] = {r.user, r.zone};
	for (int d = 0; d < 2; d++) { /* each run of a case has a user and a zone of its own */
		x.user = 0;
		x.key = keys[d];
		CHECK(jst_store_aggregates(s, dims[d], 0, 0, NULL, co2e_agg_cb, &x) >= 0);
		CHECK_NEAR(x.user, want, 1e-12 * want);
	}
	CHECK(jst_store_run_phases(s, run, phase_sum_cb, &x) >= 0);
	CHECK_NEAR(x.phase, want, 1e-12 * want);
	struct jst_run *view = calloc(1, sizeof(*view)); /* the run's view: `show --db` */
	CHECK_INT(jst_store_load(s, run, view), 0);
	CHECK_NEAR(view->result.footprint.co2e_g, want, 1e-12 * want);
	free(view);
	char *incremental = snapshot(s);
	uint64_t events = 0;
	CHECK_INT(jst_store_rebuild(s, &events), 0);
	char *replayed = snapshot(s);
	CHECK_STR(replayed, incremental);
	free(incremental);
	free(replayed);
}

static double g_of(double kwh_at_100, double kwh_at_900, double kwh_at_300)
{
	return JST_DEFAULT_PUE * (kwh_at_100 * 100 + kwh_at_900 * 900 + kwh_at_300 * 300);
}

#define KWH(n) ((n) * 10 / 3.6e6) /* n samples of 10 J */

static int case_intensity(struct jst_store *s)
{
	/* before, in the batch, and from the store in the next batch */
	struct nd b = {.n = 0};
	ev_start_site(&b, "CI", "ann", "FR");
	ev_intensity(&b, "CI", "0", BASE, "100,900", false);
	samples(&b, "CI", 1, 30);
	CHECK_INT(ingest(s, &b).accepted, 32);
	b.n = 0;
	samples(&b, "CI", 31, 90);
	ev_end(&b, "CI", "h1", BASE + 91 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 61);
	check_co2e(s, "CI", g_of(KWH(60), KWH(30), 0));
	return 0;
}

/* A live source's values, after every sample (their minutes counted at the yearly average):
 * in a batch of their own, then sent again (a duplicate id, and the same values as a new
 * event), which changes nothing. */
static int case_intensity_late(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start_site(&b, "LA", "ann", "FR");
	samples(&b, "LA", 1, 150);
	CHECK_INT(ingest(s, &b).accepted, 151);
	b.n = 0;
	ev_intensity(&b, "LA", "0", BASE, "100,900,300", true);
	CHECK_INT(ingest(s, &b).accepted, 1);
	double want = g_of(KWH(60), KWH(60), KWH(30));
	check_co2e(s, "LA", want);
	CHECK_INT(ingest(s, &b).duplicates, 1);
	b.n = 0;
	ev_intensity(&b, "LA", "again", BASE, "100,900,300", true);
	ev_end(&b, "LA", "h1", BASE + 151 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 2);
	check_co2e(s, "LA", want);
	/* a late value in the batch of the samples it covers, after them */
	b.n = 0;
	ev_start_site(&b, "LB", "bob", "DE");
	samples(&b, "LB", 1, 150);
	ev_intensity(&b, "LB", "0", BASE, "100,900,300", true);
	ev_end(&b, "LB", "h1", BASE + 151 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 153);
	check_co2e(s, "LB", want);
	return 0;
}

/* Values out of order: the second minute's before the first's, with samples between; and a
 * value that extends an earlier one whose hold had ended (the time between is then the
 * earlier value's, as the run's series holds each value until the next). */
static int case_intensity_out_of_order(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start_site(&b, "OO", "ann", "FR");
	samples(&b, "OO", 1, 70);
	CHECK_INT(ingest(s, &b).accepted, 71);
	b.n = 0;
	ev_intensity(&b, "OO", "1", BASE + 60 * SEC, "900,300", true);
	CHECK_INT(ingest(s, &b).accepted, 1);
	b.n = 0;
	samples(&b, "OO", 71, 150);
	CHECK_INT(ingest(s, &b).accepted, 80);
	b.n = 0;
	ev_intensity(&b, "OO", "0", BASE, "100", true);
	ev_end(&b, "OO", "h1", BASE + 151 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 2);
	check_co2e(s, "OO", g_of(KWH(60), KWH(60), KWH(30)));

	b.n = 0;
	ev_start_site(&b, "GP", "bob", "DE");
	ev_intensity(&b, "GP", "0", BASE, "100", false);
	samples(&b, "GP", 1, 150);
	CHECK_INT(ingest(s, &b).accepted, 152);
	b.n = 0;
	ev_intensity(&b, "GP", "1", BASE + 120 * SEC, "300", true);
	ev_end(&b, "GP", "h1", BASE + 151 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 2);
	check_co2e(s, "GP", g_of(KWH(120), 0, KWH(30)));
	return 0;
}

/* A finished run with training marks: its phases on the server are those of its record (the
 * run's view: marks split a tick's energy by time, CO2e and water as the record's share of the
 * run's footprint), not the split by sample arrival; a rebuild gives the same. */
static void ev_mark(struct nd *b, const char *run, int seq, const char *text, uint64_t ts)
{
	add(b,
	    "{\"v\":1,\"id\":\"%s-k-%d\",\"type\":\"mark\",\"ts_ns\":%" PRIu64
	    ",\"run\":\"%s\",\"host\":\"h1\",\"mark\":\"%s\"}",
	    run, seq, ts, run, text);
}

struct phase_rows {
	char name[8][64];
	double e[8], co2e[8], water[8];
	int n;
};

static int phase_rows_cb(const struct jst_aggregate *a, void *ud)
{
	struct phase_rows *p = ud;
	const char *slash = strchr(a->key, '/');
	if (p->n < 8 && slash) {
		snprintf(p->name[p->n], sizeof(p->name[0]), "%s", slash + 1);
		p->e[p->n] = a->energy_j;
		p->co2e[p->n] = a->co2e_g;
		p->water[p->n++] = a->water_l;
	}
	return 0;
}

static int case_phases_record(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start_site(&b, "PR", "ann", "FR");
	ev_mark(&b, "PR", 0, "phase - begin train", BASE + SEC / 2);
	ev_phase(&b, "PR", 0, "train", true, BASE + SEC / 2);
	for (int i = 1; i <= 6; i++) {
		if (i == 4) {
			ev_mark(&b, "PR", 1, "phase - end train", BASE + 3 * SEC + SEC / 4);
			ev_phase(&b, "PR", 1, "train", false, BASE + 3 * SEC + SEC / 4);
			ev_mark(&b, "PR", 2, "phase - begin eval", BASE + 3 * SEC + SEC / 4);
			ev_phase(&b, "PR", 2, "eval", true, BASE + 3 * SEC + SEC / 4);
		}
		ev_sample(&b, "PR", "h1", "gpu0", 0, i, 10 + i, BASE + (uint64_t)i * SEC);
	}
	CHECK_INT(ingest(s, &b).accepted, 13);
	b.n = 0; /* the values and the end come later: the phases are the record's from then on */
	ev_intensity(&b, "PR", "0", BASE, "100", true);
	ev_mark(&b, "PR", 3, "phase - end eval", BASE + 6 * SEC);
	ev_phase(&b, "PR", 3, "eval", false, BASE + 6 * SEC);
	ev_end(&b, "PR", "h1", BASE + 7 * SEC, 0);
	CHECK_INT(ingest(s, &b).accepted, 4);
	struct jst_run *run = calloc(1, sizeof(*run));
	struct jst_train *t = jst_train_new();
	CHECK_INT(jst_store_load(s, "PR", run), 0);
	CHECK_INT(jst_store_load_train(s, run, t), 0);
	run->train = t;
	struct phase_rows got = {.n = 0};
	CHECK(jst_store_run_phases(s, "PR", phase_rows_cb, &got) >= 0);
	CHECK_INT(got.n, (int)t->nphases);
	double sum = 0;
	for (size_t p = 0; p < t->nphases; p++) {
		struct jst_footprint fp;
		jst_train_footprint(run, t->phases[p].energy_j, &fp);
		int k = 0;
		while (k < got.n && strcmp(got.name[k], t->phases[p].path) != 0)
			k++;
		CHECK(k < got.n);
		if (k == got.n)
			continue;
		CHECK_NEAR(got.e[k], t->phases[p].energy_j, 1e-12 * run->run_j);
		CHECK_NEAR(got.co2e[k], fp.co2e_g, 1e-12 * run->result.footprint.co2e_g);
		CHECK_NEAR(got.water[k], fp.water_l, 1e-12 * run->result.footprint.water_l);
		sum += got.e[k];
	}
	CHECK_NEAR(sum, 11 + 12 + 13 + 14 + 15 + 16, 1e-9);
	/* half of the first tick is outside any phase, a quarter of the fourth is train's */
	CHECK_NEAR(t->phases[0].energy_j, 5.5, 1e-9);
	CHECK_STR(t->phases[0].path, "(none)");
	check_co2e(s, "PR", JST_DEFAULT_PUE * 100 * (81 / 3.6e6));
	free(t);
	free(run);
	return 0;
}

static int host_cb(const struct jst_host_summary *h, void *ud)
{
	struct jst_host_summary *out = ud;
	if (strcmp(h->host, "hb1") == 0)
		out[0] = *h;
	else if (strcmp(h->host, "hb2") == 0)
		out[1] = *h;
	return 0;
}

static int case_hosts(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_heartbeat(&b, "AG1", 1, "hb1", BASE + 60 * SEC);
	ev_heartbeat(&b, "AG2", 0, "hb2", BASE);
	CHECK_INT(ingest(s, &b).accepted, 2);
	b.n = 0;
	ev_heartbeat(&b, "AG1", 0, "hb1", BASE); /* older, later: the newest stays */
	CHECK_INT(ingest(s, &b).accepted, 1);
	struct jst_host_summary h[2];
	memset(h, 0, sizeof(h));
	int r = jst_store_hosts(s, host_cb, h);
	if (unsupported(s, r, "jst_store_hosts"))
		return 1;
	CHECK(r >= 0);
	CHECK_INT(h[0].last_ns, BASE + 60 * SEC);
	CHECK_STR(h[0].agent, "AG1");
	CHECK_NEAR(h[0].interval_s, 30, 1e-9);
	CHECK_INT(h[1].last_ns, BASE);
	return 0;
}

struct toks {
	struct jst_token_info t[8];
	int n;
};

static int tok_cb(const struct jst_token_info *t, void *ud)
{
	struct toks *k = ud;
	if (k->n < 8)
		k->t[k->n++] = *t;
	return 0;
}

static int case_tokens(struct jst_store *s)
{
	struct jst_token_info t = {.role = JST_ROLE_READER, .created_ns = BASE};
	strcpy(t.prefix, "jst_aaaa");
	memset(t.hash, 1, sizeof(t.hash));
	strcpy(t.user, "ann");
	strcpy(t.label, "laptop");
	int64_t id1 = 0, id2 = 0;
	CHECK_INT(jst_store_token_add(s, &t, &id1), 0);
	strcpy(t.prefix, "jst_bbbb");
	memset(t.hash, 2, sizeof(t.hash));
	t.role = JST_ROLE_AGENT;
	t.user[0] = '\0';
	strcpy(t.hosts, "node1,node2"); /* what the agent token may speak for */
	CHECK_INT(jst_store_token_add(s, &t, &id2), 0);
	CHECK(id2 > id1);
	CHECK(jst_store_token_add(s, &t, &id2) < 0); /* the same hash twice */
	struct toks k = {.n = 0};
	CHECK(jst_store_tokens(s, tok_cb, &k) >= 0);
	CHECK_INT(k.n, 2);
	CHECK(k.t[0].id == id1 && k.t[0].role == JST_ROLE_READER &&
	      strcmp(k.t[0].user, "ann") == 0);
	CHECK(memcmp(k.t[1].hash, t.hash, 32) == 0 && k.t[1].revoked_ns == 0);
	CHECK(strcmp(k.t[1].hosts, "node1,node2") == 0 && k.t[0].hosts[0] == '\0');
	char idtxt[24];
	snprintf(idtxt, sizeof(idtxt), "%" PRId64, id1);
	CHECK_INT(jst_store_token_revoke(s, idtxt, BASE + SEC), 0);
	CHECK_INT(jst_store_token_revoke(s, "jst_bbbb", BASE + 2 * SEC), 0);
	CHECK_INT(jst_store_token_revoke(s, "jst_zzzz", BASE), -ENOENT);
	k.n = 0;
	CHECK(jst_store_tokens(s, tok_cb, &k) >= 0);
	CHECK(k.n == 2 && k.t[0].revoked_ns == BASE + SEC && k.t[1].revoked_ns == BASE + 2 * SEC);
	return 0;
}

static int audit_cb(const struct jst_audit_entry *e, void *ud)
{
	int64_t *ids = ud;
	if (ids[0] < 8)
		ids[1 + ids[0]++] = e->id;
	return 0;
}

static bool audit_hook(void *ud, const struct jst_event_batch *b,
		       const struct jst_ingest_result *res, struct jst_audit_entry *e)
{
	(void)ud, (void)b;
	if (!res->accepted)
		return false;
	snprintf(e->actor, sizeof(e->actor), "token:1");
	snprintf(e->action, sizeof(e->action), "events.ingest");
	snprintf(e->object, sizeof(e->object), "batch");
	snprintf(e->outcome, sizeof(e->outcome), "ok");
	return true;
}

static int case_audit(struct jst_store *s)
{
	const char *actions[] = {"token.create", "run.delete", "token.revoke"};
	for (int i = 0; i < 3; i++) {
		struct jst_audit_entry e;
		memset(&e, 0, sizeof(e));
		jst_audit_local(&e, actions[i], "x", "ok");
		int r = jst_store_audit_add(s, &e);
		if (unsupported(s, r, "jst_store_audit_add"))
			return 1;
		CHECK_INT(r, 0);
		CHECK_INT(e.id, i + 1);
		CHECK(strlen(e.hash) == 64);
	}
	jst_store_set_ingest_audit(s, audit_hook, NULL);
	a_run(s, "A1", "h1", "ann", "m1", BASE, 1);
	struct nd b = {.n = 0};
	ev_start(&b, "A1", "h1", "ann", "m1", BASE);
	CHECK_INT(ingest(s, &b).duplicates, 1); /* no row for a batch of duplicates */
	jst_store_set_ingest_audit(s, NULL, NULL);
	int64_t ids[9] = {0};
	struct jst_audit_query q = {.limit = 10};
	CHECK_INT(jst_store_audit_list(s, &q, audit_cb, ids), 4);
	CHECK(ids[0] == 4 && ids[1] == 4 && ids[4] == 1); /* newest first */
	q.action = "token.";
	memset(ids, 0, sizeof(ids));
	CHECK_INT(jst_store_audit_list(s, &q, audit_cb, ids), 2);
	memset(ids, 0, sizeof(ids));
	CHECK(jst_store_audit_scan(s, 2, audit_cb, ids) >= 0);
	CHECK(ids[0] == 2 && ids[1] == 3 && ids[2] == 4);
	struct jst_audit_report rep;
	CHECK_INT(jst_store_audit_verify(s, NULL, NULL, &rep), 0);
	CHECK_INT(rep.rows, 4);
	CHECK_INT(rep.problems, 0);
	CHECK_INT(rep.deletions, 1);
	CHECK(strlen(rep.head) == 64);
	return 0;
}

static int off_cb(int32_t part, int64_t next, void *ud)
{
	int64_t *o = ud;
	if (part >= 0 && part < 4)
		o[part] = next;
	return 0;
}

static int st_off(const struct jst_source_state *o, void *ud)
{
	(*(int *)ud) += 1;
	(void)o;
	return 0;
}

static int st_ref(const struct jst_source_refusal *r, void *ud)
{
	(*(int *)ud) += 100;
	CHECK_STR(r->error, "not json");
	return 0;
}

static int case_source_offsets(struct jst_store *s)
{
	struct nd b = {.n = 0};
	ev_start(&b, "K1", "h1", "ann", "m1", BASE);
	struct jst_event_batch eb = {0};
	size_t line;
	char err[300];
	CHECK_INT(jst_event_batch_parse(b.p, b.n, 0, &eb, &line, err, sizeof(err)), 0);
	struct jst_source_offset off[] = {{"g", "t", 0, 10}, {"g", "t", 1, 7}};
	struct jst_source_reject rej[] = {{"g", "t", 1, 6, "not json", "{{", 2}};
	struct jst_source_batch src = {off, 2, rej, 1};
	struct jst_ingest_result res;
	int r = jst_store_ingest_from(s, &eb, &src, &res);
	jst_event_batch_release(&eb);
	if (unsupported(s, r, "jst_store_ingest_from"))
		return 1;
	CHECK_INT(r, 0);
	CHECK_INT(res.accepted, 1);
	int64_t o[4] = {-1, -1, -1, -1};
	CHECK(jst_store_source_offsets(s, "g", "t", off_cb, o) >= 0);
	CHECK(o[0] == 10 && o[1] == 7 && o[2] == -1);
	/* a later batch moves one partition on */
	struct jst_source_offset off2[] = {{"g", "t", 0, 12}};
	struct jst_source_batch src2 = {off2, 1, NULL, 0};
	struct jst_event_batch empty = {0};
	CHECK_INT(jst_store_ingest_from(s, &empty, &src2, &res), 0);
	CHECK(jst_store_source_offsets(s, "g", "t", off_cb, o) >= 0);
	CHECK(o[0] == 12 && o[1] == 7);
	/* a stale member (it lost partition 0 in a rebalance but finishes its batch) cannot move
	 * the offset back: the stored one only grows */
	struct jst_source_offset off3[] = {{"g", "t", 0, 11}, {"g", "t", 1, 9}};
	struct jst_source_batch src3 = {off3, 2, NULL, 0};
	CHECK_INT(jst_store_ingest_from(s, &empty, &src3, &res), 0);
	CHECK(jst_store_source_offsets(s, "g", "t", off_cb, o) >= 0);
	CHECK(o[0] == 12 && o[1] == 9);
	int seen = 0;
	int64_t refused = 0;
	CHECK_INT(jst_store_sources(s, 10, st_off, st_ref, &seen, &refused), 0);
	CHECK_INT(seen, 2 + 100);
	CHECK_INT(refused, 1);
	return 0;
}

static int case_event_chain(struct jst_store *s)
{
	five_runs(s);
	struct nd b = {.n = 0};
	ev_start(&b, "L0", "h0", "ann", "m1", BASE); /* duplicates: no entry */
	CHECK_INT(ingest(s, &b).duplicates, 1);
	uint64_t replayed;
	CHECK_INT(jst_store_run_delete(s, "L3", BASE, &replayed),
		  0); /* tombstones leave the log whole */
	struct jst_events_report rep;
	int r = jst_store_events_verify(s, NULL, NULL, &rep);
	if (unsupported(s, r, "jst_store_events_verify"))
		return 1;
	CHECK_INT(r, 0);
	CHECK_INT(rep.problems, 0);
	CHECK_INT(rep.entries, 5);
	CHECK_INT(rep.events, 40);
	CHECK_INT(rep.migrated, 0);
	CHECK(strlen(rep.head) == 64);
	return 0;
}

static int list_cb(const struct jst_run *run, void *ud)
{
	(void)run;
	(*(int *)ud)++;
	return 0;
}

static int sample_cb(const struct jst_sample *v, void *ud)
{
	*(double *)ud += v->run_j;
	return 0;
}

/* The per-job half of store.h (joulestream run's own record), written as `joulestream run`
 * writes it: the run's events through the store's sink (run_start, three samples, run_end),
 * and the record calls of its session. Each case writes the same run. */
static struct jst_run *local_run(struct jst_store *s, int *rc)
{
	struct jst_run *run = calloc(1, sizeof(*run));
	snprintf(run->id, sizeof(run->id), "%s", "01JD5Z0LOCALRUN00000000000");
	strcpy(run->meta.host, "node1");
	strcpy(run->meta.user, "ada");
	strcpy(run->meta.command, "python train.py");
	run->start_ns = BASE;
	run->interval_s = 1;
	run->site.pue = 1.2;
	run->site.wue_l_per_kwh = -1;
	run->nzones = 1;
	struct jst_zone *z = &run->zones[0].zone;
	strcpy(z->name, "package-0");
	z->kind = JST_KIND_PACKAGE;
	z->source = "rapl";
	z->flags = JST_ZONE_COUNTED;
	char sink_target[1300], err[600], spool[] = "/tmp/jst-conformance-XXXXXX";
	snprintf(sink_target, sizeof(sink_target), "%s%s", is_pg || strncmp(case_target, "sqlite:", 7) == 0 ? "" : "sqlite:",
		 case_target);
	struct jst_sink_opts o = {.spool_dir = mkdtemp(spool)};
	struct jst_sink *k = NULL;
	*rc = jst_sink_open(&k, sink_target, &o, err, sizeof(err));
	CHECK_INT(*rc, 0);
	if (*rc < 0) {
		free(run);
		return NULL;
	}
	static char line[JST_EVENT_LINE_MAX];
	int n = jst_event_encode_run_start(run, NULL, 0, NULL, line, sizeof(line));
	CHECK(n > 0);
	jst_sink_write(k, line, (size_t)n);
	for (int i = 0; i < 3; i++) {
		struct jst_sample v = {i, 1, 0, JST_READ_ENERGY, 20, 10, 20, 0};
		n = jst_event_encode_sample(run, &v, (uint64_t)i, line, sizeof(line));
		CHECK(n > 0);
		jst_sink_write(k, line, (size_t)n);
	}
	run->finished = true;
	run->end_ns = BASE + 3 * SEC;
	run->duration_s = 3;
	run->samples = 3;
	run->run_j = 30;
	run->host_j = 60;
	n = jst_event_encode_run_end(run, line, sizeof(line));
	CHECK(n > 0);
	jst_sink_write(k, line, (size_t)n);
	struct jst_sink_stats st;
	jst_sink_close(k, 10000, &st);
	CHECK_INT((int)st.delivered, 5);
	CHECK_INT(jst_store_run_end(s, run), 0);
	rmdir(spool);
	return run;
}

static int case_local_run_record(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc), *back = calloc(1, sizeof(*back));
	if (!run) {
		free(back);
		return rc == -ENOTSUP ? 1 : -1;
	}
	CHECK_INT(jst_store_load(s, "last", back), 0);
	CHECK_STR(back->id, run->id);
	CHECK_NEAR(back->run_j, 30, 1e-9);
	CHECK(back->finished);
	CHECK_INT(jst_store_load(s, "01JD", back), 0); /* a unique prefix */
	CHECK_INT(jst_store_load(s, "ZZZZZZ", back), -ENOENT);
	CHECK_INT((int)back->nzones, 1); /* the view of the events: totals from the samples */
	CHECK_NEAR(back->zones[0].run_j, 30, 1e-9);
	CHECK_NEAR(back->zones[0].host_j, 60, 1e-9);
	CHECK_INT((int)back->zones[0].samples, 3);
	int n = 0;
	CHECK(jst_store_list(s, 0, list_cb, &n) >= 0);
	CHECK_INT(n, 1);
	double sum = 0;
	CHECK(jst_store_samples(s, run->id, sample_cb, &sum) >= 0);
	CHECK_NEAR(sum, 30, 1e-9);
	free(run);
	free(back);
	return 0;
}

static int case_local_metrics_train(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc);
	if (!run)
		return rc == -ENOTSUP ? 1 : -1;
	struct jst_train *t = calloc(1, sizeof(*t));
	CHECK_INT(jst_store_load_train(s, run, t), -ENOENT); /* no training marks were recorded */
	free(t);
	free(run);
	return 0;
}

static int case_local_results(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc);
	if (!run)
		return rc == -ENOTSUP ? 1 : -1;
	struct jst_run_result res;
	memset(&res, 0, sizeof(res));
	strcpy(res.data_version, "test-2025.1");
	strcpy(res.kind, "reprocess");
	strcpy(res.zone_code, "FR");
	res.footprint.co2e_g = 1.5;
	rc = jst_store_add_result(s, run->id, &res);
	if (unsupported(s, rc, "jst_store_add_result")) {
		free(run);
		return 1;
	}
	CHECK_INT(rc, 0);
	res.footprint.co2e_g = 2.5; /* the same version and zone: replaced */
	CHECK_INT(jst_store_add_result(s, run->id, &res), 0);
	struct jst_run *back = calloc(1, sizeof(*back));
	CHECK_INT(jst_store_load(s, run->id, back), 0);
	int found = 0;
	for (size_t i = 0; i < back->nresults; i++)
		if (strcmp(back->results[i].data_version, "test-2025.1") == 0) {
			found++;
			CHECK_NEAR(back->results[i].footprint.co2e_g, 2.5, 1e-12);
		}
	CHECK_INT(found, 1);
	free(back);
	free(run);
	return 0;
}

static int case_local_timeline(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc);
	if (!run)
		return rc == -ENOTSUP ? 1 : -1;
	struct jst_timeline tl;
	CHECK_INT(jst_timeline_init(&tl, 1), 0);
	CHECK(jst_store_timeline(s, run, &tl) >= 0);
	double sum = 0;
	for (size_t i = 0; i < tl.npoints; i++)
		sum += tl.run_j[i];
	CHECK_NEAR(sum, 30, 1e-9);
	jst_timeline_release(&tl);
	free(run);
	return 0;
}

/* The run's event digest by its definition (docs/integrity.md), from the events as stored. */
struct def_digest {
	crypto_hash_sha256_state h;
	int64_t last;
	size_t n;
};

static int def_event(int64_t seq, const char *body, size_t len, void *ud)
{
	struct def_digest *d = ud;
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	crypto_hash_sha256_update(&d->h, b, 8);
	crypto_hash_sha256_update(&d->h, (const unsigned char *)body, len);
	d->last = seq;
	d->n++;
	return 0;
}

static void by_definition(struct jst_store *s, const char *run, char out[65])
{
	struct def_digest d = {.last = 0, .n = 0};
	unsigned char h[32];
	crypto_hash_sha256_init(&d.h);
	crypto_hash_sha256_update(&d.h, (const unsigned char *)"joulestream.run-events/1\n", 25);
	for (size_t before = 1; before != d.n;) {
		before = d.n;
		CHECK(jst_store_run_events(s, run, NULL, d.last, 2, def_event, &d) >= 0);
	}
	crypto_hash_sha256_final(&d.h, h);
	sodium_bin2hex(out, 65, h, 32);
}

/* The run's event digest: its definition over the stored events, the view's content hash, and
 * changed by one more event of the run; the event chain's head moves with each batch. */
static int case_local_event_digest(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc), *back = calloc(1, sizeof(*back));
	char d[65], want[65], head[65], head2[65];
	if (!run) {
		free(back);
		return rc == -ENOTSUP ? 1 : -1;
	}
	CHECK_INT(jst_store_event_digest(s, run->id, d), 0);
	by_definition(s, run->id, want);
	CHECK_STR(d, want);
	CHECK_INT(jst_store_load(s, run->id, back), 0);
	CHECK_STR(back->prov.content_hash, d);
	CHECK_INT(jst_store_event_digest(s, "NOSUCHRUN", want), -ENOENT);
	CHECK_INT(jst_store_chain_head(s, head), 0);
	CHECK_INT((int)strlen(head), 64);
	static char line[JST_EVENT_LINE_MAX];
	struct jst_mark mk;
	CHECK_INT(jst_mark_parse("tag - dataset=x", 15, &mk, NULL), 0);
	int n = jst_event_encode_mark(run, &mk, run->start_ns + SEC, false, 0, line, sizeof(line));
	CHECK(n > 0);
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t bad;
	char err[256];
	CHECK_INT(jst_event_batch_parse(line, (size_t)n, 0, &b, &bad, err, sizeof(err)), 0);
	CHECK_INT(jst_store_ingest(s, &b, &res), 0);
	jst_event_batch_release(&b);
	CHECK_INT(jst_store_event_digest(s, run->id, want), 0);
	CHECK(strcmp(want, d) != 0);
	by_definition(s, run->id, d);
	CHECK_STR(want, d);
	CHECK_INT(jst_store_chain_head(s, head2), 0);
	CHECK(strcmp(head, head2) != 0);
	free(back);
	free(run);
	return 0;
}

/* An attestation of the run signed with a fresh key: its subject is the run's event digest,
 * the signature verifies, and the statement reads back with the store's figures. */
static int case_local_attestation(struct jst_store *s)
{
	int rc;
	struct jst_run *run = local_run(s, &rc), *back = calloc(1, sizeof(*back));
	if (!run) {
		free(back);
		return rc == -ENOTSUP ? 1 : -1;
	}
	char dir[] = "/tmp/jst-conformance-key-XXXXXX", err[600], head[65], cmd[300];
	struct jst_key k;
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(jst_key_create(dir, &k, NULL, NULL, err, sizeof(err)), 0);
	CHECK_INT(jst_store_load(s, run->id, back), 0);
	CHECK_INT(jst_store_chain_head(s, head), 0);
	char *st = NULL, *env = NULL;
	CHECK_INT(jst_attest_statement(back, back->prov.content_hash, back->finished, head, NULL, 0,
				       &st, err, sizeof(err)),
		  0);
	CHECK_INT(jst_dsse_sign(JST_INTOTO_PAYLOAD_TYPE, (const unsigned char *)st, st ? strlen(st) : 0, &k, &env, err,
	                        sizeof(err)), 0);
	struct jst_dsse e;
	struct jst_attest_info info;
	char now[65];
	CHECK_INT(jst_dsse_parse(env ? env : "", env ? strlen(env) : 0, &e, err, sizeof(err)), 0);
	CHECK_INT(jst_dsse_verify(&e, &k, NULL), 0);
	CHECK_INT(jst_attest_parse((const char *)e.payload, e.payload_n, &info, err, sizeof(err)), 0);
	CHECK_INT(jst_store_event_digest(s, run->id, now), 0);
	CHECK_STR(info.subjects[0].sha256, now);
	CHECK_STR(info.content_hash, now);
	CHECK_NEAR(info.energy_j, 30, 1e-9);
	jst_dsse_release(&e);
	free(st);
	free(env);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	free(back);
	free(run);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct jst_store *s);
} cases[] = {
	{"ingest_types", case_ingest_types},
	{"idempotent", case_idempotent},
	{"batch_whole", case_batch_whole},
	{"runs_list", case_runs_list},
	{"runs_sorted", case_runs_sorted},
	{"run_summary", case_run_summary},
	{"zones", case_zones},
	{"windows", case_windows},
	{"aggregates", case_aggregates},
	{"phases", case_phases},
	{"run_events", case_run_events},
	{"delete_rebuild", case_delete_rebuild},
	{"replay_equals_incremental", case_replay_equals_incremental},
	{"hosts", case_hosts},
	{"tokens", case_tokens},
	{"audit", case_audit},
	{"source_offsets", case_source_offsets},
	{"event_chain", case_event_chain},
	{"local_run_record", case_local_run_record},
	{"local_metrics_train", case_local_metrics_train},
	{"local_results", case_local_results},
	{"local_timeline", case_local_timeline},
	{"local_event_digest", case_local_event_digest},
	{"local_attestation", case_local_attestation},
	{"intensity", case_intensity},
	{"intensity_late", case_intensity_late},
	{"intensity_out_of_order", case_intensity_out_of_order},
	{"phases_record", case_phases_record},
	{"hierarchy", conformance_case_hierarchy},
};

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s SQLITE-PATH|postgresql://URL [CASE...] | --list\n",
			argv[0]);
		return 2;
	}
	target = argv[1];
	is_pg = strncmp(target, "postgresql:", 11) == 0;
	const char *dialect = is_pg ? "postgresql" : "sqlite";
	char skipped[4096] = "";
	int ok = 0, nskip = 0, nfail = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool wanted = argc == 2;
		for (int k = 2; k < argc; k++)
			wanted |= strcmp(argv[k], cases[i].name) == 0;
		if (!wanted)
			continue;
		int failed_before = check_failed;
		skip_why[0] = '\0';
		struct jst_store *s = open_case(cases[i].name);
		CHECK(s != NULL);
		int r = s ? cases[i].fn(s) : -1;
		jst_store_close(s);
		if (check_failed != failed_before || r < 0) {
			printf("FAIL %s (%s)\n", cases[i].name, dialect);
			nfail++;
		} else if (r == 1) {
			printf("SKIP %s: not yet supported on this dialect (%s): %s\n",
			       cases[i].name, dialect, skip_why);
			size_t l = strlen(skipped);
			snprintf(skipped + l, sizeof(skipped) - l, " %s", cases[i].name);
			nskip++;
		} else {
			printf("ok   %s (%s)\n", cases[i].name, dialect);
			ok++;
		}
	}
	printf("%s: %d cases ok, %d not yet supported on this dialect%s%s, %d failed\n", dialect,
	       ok, nskip, nskip ? ":" : "", skipped, nfail);
	check_done();
	return nfail ? 1 : 0;
}
