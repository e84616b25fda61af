/* The API's query parameters (src/server/params.c) without a server: defaults, every accepted
 * form, and the message of each refusal; the run-page cursor formatted and parsed back. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "server/params.h"
#include "store/cursor.h"

/* A query as "key", "value" pairs, NULL-terminated. */
static const char *lookup(const void *ud, const char *key)
{
	const char *const *kv = ud;
	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

static void test_runs(void)
{
	char err[400];
	const char *none[] = {NULL};
	struct jst_run_query q = {.only_user = "ada", .now_ns = 5};
	CHECK_INT(jst__params_runs(lookup, none, &q, err, sizeof(err)), 0);
	CHECK_INT(q.limit, 100);
	CHECK_INT(q.sort, JST_SORT_START);
	CHECK(q.user == NULL && q.status == NULL && q.cursor == NULL && q.from_ns == 0 &&
	      q.to_ns == 0);
	CHECK_STR(q.only_user, "ada");
	CHECK_INT(q.now_ns, 5);

	const char *all[] = {"user",   "bob",
			     "model",  "m",
			     "host",   "h",
			     "zone",   "DE",
			     "status", "stalled",
			     "sort",   "water",
			     "limit",  "1000",
			     "from",   "2024-03-01T00:00:00Z",
			     "to",     "1709337600000000001",
			     "cursor", "40f86a0000000000~R1",
			     NULL};
	CHECK_INT(jst__params_runs(lookup, all, &q, err, sizeof(err)), 0);
	CHECK_STR(q.user, "bob");
	CHECK_STR(q.zone, "DE");
	CHECK_STR(q.status, "stalled");
	CHECK_INT(q.sort, JST_SORT_WATER);
	CHECK_INT(q.limit, 1000);
	CHECK(q.from_ns == 1709251200000000000ull);
	CHECK(q.to_ns == 1709337600000000001ull);

	struct {
		const char *key, *val, *msg;
	} bad[] = {
		{"sort", "watts", "bad sort 'watts': start, energy, co2e, duration or water"},
		{"limit", "0", "bad limit '0': 1 to 1000"},
		{"limit", "1001", "bad limit '1001': 1 to 1000"},
		{"limit", "5x", "bad limit '5x': 1 to 1000"},
		{"status", "done", "bad status 'done': running, finished or stalled"},
		{"cursor", "40f86a0000000000R1",
		 "bad cursor: pass the \"next\" of the previous page"},
		{"cursor", "40F86A0000000000~R1",
		 "bad cursor: pass the \"next\" of the previous page"},
		{"cursor", "40f86a0000000000~",
		 "bad cursor: pass the \"next\" of the previous page"},
		{"from", "2024-03-01", NULL},
		{"to", "-5", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *one[] = {bad[i].key, bad[i].val, NULL};
		err[0] = '\0';
		CHECK_INT(jst__params_runs(lookup, one, &q, err, sizeof(err)), -EINVAL);
		if (bad[i].msg)
			CHECK_STR(err, bad[i].msg);
		else
			CHECK(strncmp(err, "bad ", 4) == 0 && strstr(err, "ISO 8601 with a zone"));
	}
	/* a run id longer than any run's in a cursor */
	char longc[128];
	snprintf(longc, sizeof(longc), "40f86a0000000000~%070d", 7);
	const char *lc[] = {"cursor", longc, NULL};
	CHECK_INT(jst__params_runs(lookup, lc, &q, err, sizeof(err)), -EINVAL);
}

static void test_aggregates_events(void)
{
	char err[400];
	struct jst_agg_params a;
	const char *none[] = {NULL};
	CHECK_INT(jst__params_aggregates(lookup, none, &a, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "missing by: user, model, project, host, zone or phase");
	const char *badby[] = {"by", "run", NULL};
	CHECK_INT(jst__params_aggregates(lookup, badby, &a, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "bad by 'run': user, model, project, host, zone or phase");
	const char *ok[] = {"by", "phase", "from", "1", "to", "2024-03-01T01:00:00+01:00", NULL};
	CHECK_INT(jst__params_aggregates(lookup, ok, &a, err, sizeof(err)), 0);
	CHECK_STR(a.by, "phase");
	CHECK(a.from_ns == 1 && a.to_ns == 1709251200000000000ull);

	struct jst_events_params e;
	CHECK_INT(jst__params_events(lookup, none, &e, err, sizeof(err)), 0);
	CHECK(e.type == NULL && e.after == 0 && e.limit == 5000);
	const char *ev[] = {"type", "run_end", "after", "9223372036854775807", "limit", "0", NULL};
	CHECK_INT(jst__params_events(lookup, ev, &e, err, sizeof(err)), 0);
	CHECK_STR(e.type, "run_end");
	CHECK(e.after == (uint64_t)INT64_MAX && e.limit == 1);
	const char *bt[] = {"type", "heartbeat", NULL};
	CHECK_INT(jst__params_events(lookup, bt, &e, err, sizeof(err)), -EINVAL);
	CHECK_STR(
		err,
		"bad type 'heartbeat': sample, phase, metric, run_start, run_end, mark or intensity");
	const char *ba[] = {"after", "9223372036854775808", NULL};
	CHECK_INT(jst__params_events(lookup, ba, &e, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "bad after '9223372036854775808': an integer from 0 to 9223372036854775807");
	const char *bl[] = {"limit", "20001", NULL};
	CHECK_INT(jst__params_events(lookup, bl, &e, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "bad limit '20001': an integer from 0 to 20000");
}

static void test_cursor(void)
{
	char c[128], run[65];
	double v;
	CHECK_INT(jst__cursor_format(1234.5, "R-1", c, sizeof(c)), 20);
	CHECK_STR(c, "40934a0000000000~R-1");
	CHECK_INT(jst__cursor_parse(c, &v, run, sizeof(run)), 0);
	CHECK(v == 1234.5);
	CHECK_STR(run, "R-1");
	CHECK_INT(jst__cursor_parse("40934a00000000~R-1", &v, run, sizeof(run)), -EINVAL);
}

int main(void)
{
	test_runs();
	test_aggregates_events();
	test_cursor();
	return check_done();
}
