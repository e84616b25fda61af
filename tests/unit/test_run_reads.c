/* Per-run reads of a SQLite store (issue 11, "Per-run reads stay flat"): a run's phase totals
 * (jst_store_run_phases) are exactly the "phase" aggregates of its keys, in the same order and
 * to the bit, also for runs whose ids prefix one another; a run's metric and phase events come
 * through the (run, type) index in log order and page by sequence number, and a run without
 * metrics has none; a rebuild from the log gives the same answers; and a store of schema 10
 * (before the indexes) is migrated in place on open and answers the same. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"

#define BASE 1700000000000000000ULL

struct rows {
	struct jst_aggregate a[32];
	size_t n;
};

static int keep_agg(const struct jst_aggregate *a, void *ud)
{
	struct rows *r = ud;
	if (r->n < 32)
		r->a[r->n++] = *a;
	return 0;
}

/* The old way: every run's phase totals, filtered to "ID/…". */
static void phases_by_scan(struct jst_store *s, const char *id, struct rows *out)
{
	struct rows all = {.n = 0};
	memset(out, 0, sizeof(*out));
	CHECK(jst_store_aggregates(s, "phase", 0, 0, NULL, keep_agg, &all) >= 0);
	size_t n = strlen(id);
	for (size_t i = 0; i < all.n; i++)
		if (strncmp(all.a[i].key, id, n) == 0 && all.a[i].key[n] == '/')
			out->a[out->n++] = all.a[i];
}

static void same_rows(const struct rows *a, const struct rows *b)
{
	CHECK_INT(a->n, b->n);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		CHECK_STR(a->a[i].key, b->a[i].key);
		CHECK_INT(a->a[i].samples, b->a[i].samples);
		CHECK(memcmp(&a->a[i].energy_j, &b->a[i].energy_j, sizeof(double)) == 0);
		CHECK(memcmp(&a->a[i].co2e_g, &b->a[i].co2e_g, sizeof(double)) == 0);
		CHECK(memcmp(&a->a[i].water_l, &b->a[i].water_l, sizeof(double)) == 0);
	}
}

struct evs {
	char text[4096];
	size_t n;
	int64_t last;
};

static int keep_ev(int64_t seq, const char *body, size_t len, void *ud)
{
	struct evs *e = ud;
	size_t used = strlen(e->text);
	snprintf(e->text + used, sizeof(e->text) - used, "%.*s\n", (int)len, body);
	e->n++;
	e->last = seq;
	return 0;
}

static void events(struct jst_store *s, const char *run, const char *type, struct evs *out)
{
	memset(out, 0, sizeof(*out));
	CHECK_INT(jst_store_run_events(s, run, type, -1, 100, keep_ev, out), 0);
}

/* Appends one event line to b: the common fields, then tail. */
static void line(char *b, size_t cap, const char *run, const char *id, uint64_t ts,
		 const char *tail)
{
	size_t used = strlen(b);
	snprintf(b + used, cap - used,
		 "{\"v\":1,\"id\":\"%s\",\"ts_ns\":%llu,\"run\":\"%s\",\"host\":\"h\",%s}\n", id,
		 (unsigned long long)ts, run, tail);
}

/* Run RUN: a start, samples over three minutes on two zones, phases "train" then "eval" (or none),
 * and metrics when asked. */
static void make_run(char *b, size_t cap, const char *run, bool with_phases, bool with_metrics,
		     int k)
{
	char id[80], tail[400];
	snprintf(id, sizeof(id), "%s-start", run);
	line(b, cap, run, id, BASE,
	     "\"type\":\"run_start\",\"user\":\"u\",\"model\":\"m\",\"command\":[\"x\"],"
	     "\"interval_s\":1,\"zone\":\"FR\",\"pue\":1.2");
	for (int i = 0; i < 170; i++) {
		uint64_t ts = BASE + (uint64_t)(i + 1) * 1000000000ULL;
		if (with_phases && (i == 0 || i == 100)) {
			snprintf(id, sizeof(id), "%s-p%d", run, i);
			snprintf(tail, sizeof(tail),
				 "\"type\":\"phase\",\"name\":\"%s\",\"edge\":\"begin\"",
				 i ? "eval" : "train");
			if (i) { /* train ends where eval begins */
				char end[80];
				snprintf(end, sizeof(end), "%s-pe%d", run, i);
				line(b, cap, run, end, ts - 1,
				     "\"type\":\"phase\",\"name\":\"train\",\"edge\":\"end\"");
			}
			line(b, cap, run, id, ts - 1, tail);
		}
		for (int z = 0; z < 2; z++) {
			snprintf(id, sizeof(id), "%s-%d-%d", run, i, z);
			snprintf(
				tail, sizeof(tail),
				"\"type\":\"sample\",\"zone\":\"%s\",\"zone_index\":%d,\"kind\":\"%s\","
				"\"source\":\"%s\",\"dt_s\":1,\"energy_j\":%.2f,\"share\":0.75",
				z ? "package-0" : "gpu0", z, z ? "package" : "gpu",
				z ? "rapl" : "nvml", 37.25 + (i * 7 + z * 13 + k * 5) % 91 / 3.0);
			line(b, cap, run, id, ts, tail);
		}
		if (with_metrics && i % 50 == 10) {
			snprintf(id, sizeof(id), "%s-m%d", run, i);
			snprintf(tail, sizeof(tail),
				 "\"type\":\"metric\",\"step\":%d,\"values\":{\"loss\":%g}", i,
				 1.0 / (i + 1));
			line(b, cap, run, id, ts + 5, tail);
		}
	}
	snprintf(id, sizeof(id), "%s-end", run);
	line(b, cap, run, id, BASE + 171000000000ULL,
	     "\"type\":\"run_end\",\"exit\":0,\"signal\":0,\"duration_s\":171,"
	     "\"samples\":340,\"notes\":[]");
}

static void ingest(struct jst_store *s, const char *ndjson)
{
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t ln = 0;
	char err[300];
	int r = jst_event_batch_parse(ndjson, strlen(ndjson), 0, &b, &ln, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "line %zu: %s\n", ln, err);
	CHECK_INT(r, 0);
	CHECK_INT(jst_store_ingest(s, &b, &res), 0);
	CHECK(res.accepted > 0);
	jst_event_batch_release(&b);
}

/* Everything a run's page reads, as text, to compare two stores or two moments. */
struct answers {
	struct rows ph[3];
	struct evs metrics[3], phase_ev[3];
	double energy[3];
};

static const char *const runs[] = {"A", "AB", "A-1"};

static void answers(struct jst_store *s, struct answers *a)
{
	for (int i = 0; i < 3; i++) {
		struct rows scan;
		memset(&a->ph[i], 0, sizeof(a->ph[i]));
		CHECK(jst_store_run_phases(s, runs[i], keep_agg, &a->ph[i]) >= 0);
		phases_by_scan(s, runs[i], &scan);
		same_rows(&a->ph[i],
			  &scan); /* the run's keys, as the scan of every run's finds them */
		events(s, runs[i], "metric", &a->metrics[i]);
		events(s, runs[i], "phase", &a->phase_ev[i]);
		struct jst_run_summary r;
		CHECK_INT(jst_store_get_run(s, runs[i], &r), 0);
		a->energy[i] = r.energy_j;
	}
}

static void same_answers(const struct answers *x, const struct answers *y)
{
	for (int i = 0; i < 3; i++) {
		same_rows(&x->ph[i], &y->ph[i]);
		CHECK_STR(x->metrics[i].text, y->metrics[i].text);
		CHECK_STR(x->phase_ev[i].text, y->phase_ev[i].text);
		CHECK(memcmp(&x->energy[i], &y->energy[i], sizeof(double)) == 0);
	}
}

static int user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Makes the store look as schema 10 left it: without migration 11's indexes. */
static void back_to_schema_10(const char *path)
{
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(
		sqlite3_exec(
			db,
			"DROP INDEX ev_log_run_type; DROP INDEX ev_totals_phase;"
			" ALTER TABLE api_tokens DROP COLUMN hosts; PRAGMA user_version=10;", /* 13's too */
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
}

static void test_run_reads(const char *path)
{
	struct jst_store *s;
	char err[600];
	size_t cap = 1 << 20;
	char *b = calloc(1, cap);
	CHECK(b != NULL);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	make_run(b, cap, "A", true, true, 0);
	make_run(b, cap, "AB", true, false, 1);
	ingest(s, b);
	b[0] = '\0';
	make_run(b, cap, "A-1", false, false, 2); /* no phases: only "(none)" */
	ingest(s, b);
	free(b);

	struct answers live, again;
	answers(s, &live);
	CHECK_INT(live.ph[0].n, 2); /* train, eval */
	CHECK(live.ph[0].n >= 1 && strncmp(live.ph[0].a[0].key, "A/", 2) == 0);
	CHECK_INT(live.ph[1].n, 2);
	CHECK(live.ph[1].n >= 1 && strncmp(live.ph[1].a[0].key, "AB/", 3) == 0);
	CHECK_INT(live.ph[2].n, 1);
	CHECK(live.ph[2].n == 1 && strcmp(live.ph[2].a[0].key, "A-1/(none)") == 0);
	CHECK_INT(live.metrics[0].n, 4); /* steps 10, 60, 110, 160 */
	CHECK_HAS(live.metrics[0].text, "\"step\":10,");
	CHECK_INT(live.metrics[1].n, 0); /* a run without metrics */
	CHECK_INT(live.metrics[2].n, 0);
	CHECK_INT(live.phase_ev[0].n, 3);
	CHECK_INT(live.phase_ev[2].n, 0);

	/* pages of one after a sequence number give the same events, in log order */
	struct evs page = {.n = 0}, all;
	events(s, "A", "metric", &all);
	for (int64_t after = -1;;) {
		size_t before = page.n;
		CHECK_INT(jst_store_run_events(s, "A", "metric", after, 1, keep_ev, &page), 0);
		if (page.n == before)
			break;
		after = page.last;
	}
	CHECK_STR(page.text, all.text);

	uint64_t n = 0;
	CHECK_INT(jst_store_rebuild(s, &n), 0);
	CHECK(n > 0);
	answers(s, &again);
	same_answers(&live, &again);
	struct rows none = {.n = 0};
	CHECK_INT(jst_store_run_phases(s, "nope", keep_agg, &none), 0);
	jst_store_close(s);

	/* a store from before migration 11 is migrated (on a copy: migration 12; and 13) and answers
	 * the same */
	int newest = user_version(path);
	CHECK(newest >= 13);
	back_to_schema_10(path);
	CHECK_INT(user_version(path), 10);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	CHECK_INT(user_version(path), newest);
	answers(s, &again);
	same_answers(&live, &again);
	jst_store_close(s);

	/* a store past migration 12 takes the later steps in place (no copy) */
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "ALTER TABLE api_tokens DROP COLUMN hosts; PRAGMA user_version=12;", NULL, NULL,
	                       NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	CHECK_INT(user_version(path), newest);
	answers(s, &again);
	same_answers(&live, &again);
	jst_store_close(s);
}

int main(void)
{
	char dir[] = "/tmp/jst-runreads-XXXXXX", path[300];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.db", dir);
	test_run_reads(path);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
