/* The audit log (joulestream/audit.h): the row hash against vectors computed independently
 * (Python's hashlib over the documented "LEN:VALUE\n" fields), the page cursor and the query
 * parameters of GET /api/v1/audit, and a SQLite store: ids and links assigned at append, pages
 * newest first with filters, the scan and verify, an edited and a deleted row named, and a run
 * deletion that leaves the views while its raw events stay and its later events are not
 * aggregated; an ingest's audit row commits with its batch or not at all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "joulestream/audit.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"
#include "server/params.h"

static void entry(struct jst_audit_entry *e, const char *actor, const char *action,
		  const char *object, uint64_t ts)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->actor, actor);
	strcpy(e->action, action);
	strcpy(e->object, object);
	strcpy(e->outcome, "ok");
	e->ts_ns = ts;
}

static void test_hash(void)
{
	struct jst_audit_entry e;
	entry(&e, "token:7", "events.ingest", "batch of 2 events: run R0", 1700000000000000000ull);
	e.id = 1;
	strcpy(e.role, "agent");
	strcpy(e.user, "ann");
	strcpy(e.detail, "{\"accepted\":2}");
	strcpy(e.client, "127.0.0.1");
	char h[65];
	jst_audit_hash(&e, h);
	CHECK_STR(h, "6d6bd7b581d9ed5664939e42f749297424e121daba497faae215aaa1c6658f64");
	struct jst_audit_entry f;
	entry(&f, "local:bob", "token.revoke", "token:7", 1700000000000000001ull);
	f.id = 2;
	strcpy(f.user, "bob");
	strcpy(f.detail, "{}");
	strcpy(f.prev_hash, h);
	jst_audit_hash(&f, h);
	CHECK_STR(h, "582fe42eac50749c5456e6dc7b096fb631e5745c4d880ae989643542b2907c32");
	/* moving a character from one field to the next changes the hash (length prefixes) */
	char g[65];
	strcpy(f.user, "bo");
	strcpy(f.actor, "local:bobb");
	jst_audit_hash(&f, g);
	CHECK(strcmp(g, h) != 0);
}

static void cursor(const char *p, int want_rc, int64_t want)
{
	int64_t v = -1;
	CHECK_INT(jst_audit_cursor_parse(p, strlen(p), &v), want_rc);
	if (want_rc == 0)
		CHECK_INT(v, want);
}

static void test_cursor(void)
{
	cursor("a1", 0, 1);
	cursor("a9223372036854775807", 0, INT64_MAX);
	cursor("a0", -EINVAL, 0);
	cursor("a", -EINVAL, 0);
	cursor("", -EINVAL, 0);
	cursor("12", -EINVAL, 0);
	cursor("a-3", -EINVAL, 0);
	cursor("a 3", -EINVAL, 0);
	cursor("a3x", -EINVAL, 0);
	cursor("a99999999999999999999", -EINVAL, 0);
	int64_t v = 0;
	CHECK_INT(jst_audit_cursor_parse("a12", 2, &v), 0); /* only n bytes are read */
	CHECK_INT(v, 1);
}

/* A query as a table: "key", "value", … NULL. */
static const char *lookup(const void *ud, const char *key)
{
	const char *const *kv = ud;
	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

static void test_params(void)
{
	struct jst_audit_query q;
	char err[400];
	const char *none[] = {NULL};
	CHECK_INT(jst__params_audit(lookup, none, &q, err, sizeof(err)), 0);
	CHECK(q.limit == 100 && q.before_id == 0 && !q.actor && !q.action && !q.from_ns &&
	      !q.to_ns);
	const char *all[] = {"limit",  "7",
			     "cursor", "a42",
			     "actor",  "token:3",
			     "action", "token.",
			     "from",   "2026-01-01T00:00:00Z",
			     "to",     "1800000000000000000",
			     NULL};
	CHECK_INT(jst__params_audit(lookup, all, &q, err, sizeof(err)), 0);
	CHECK(q.limit == 7 && q.before_id == 42);
	CHECK_STR(q.actor, "token:3");
	CHECK_STR(q.action, "token.");
	CHECK_INT(q.from_ns, 1767225600000000000ll);
	CHECK_INT(q.to_ns, 1800000000000000000ll);
	const char *empty[] = {"actor", "", "action", "", "cursor", "", "limit", "", NULL};
	CHECK_INT(jst__params_audit(lookup, empty, &q, err, sizeof(err)), 0);
	CHECK(!q.actor && !q.action && q.before_id == 0 && q.limit == 100);
	const char *bad[][3] = {{"limit", "0", "bad limit '0': 1 to 1000"},
				{"limit", "1001", "bad limit"},
				{"limit", "-1", "bad limit"},
				{"cursor", "17", "bad cursor '17'"},
				{"cursor", "a0", "bad cursor"},
				{"from", "yesterday", "bad from 'yesterday'"},
				{"to", "2026-01-01", "bad to"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = {bad[i][0], bad[i][1], NULL};
		err[0] = '\0';
		CHECK_INT(jst__params_audit(lookup, kv, &q, err, sizeof(err)), -EINVAL);
		CHECK(strncmp(err, bad[i][2], strlen(bad[i][2])) == 0);
	}
}

struct ids {
	int64_t v[16];
	size_t n;
};

static int collect(const struct jst_audit_entry *e, void *ud)
{
	struct ids *ids = ud;
	if (ids->n < 16)
		ids->v[ids->n++] = e->id;
	return 0;
}

static struct ids list(struct jst_store *s, const struct jst_audit_query *q)
{
	struct ids ids = {{0}, 0};
	CHECK_INT(jst_store_audit_list(s, q, collect, &ids), (int)ids.n);
	return ids;
}

static void problem(void *ud, int64_t id, const char *what)
{
	(void)what;
	*(int64_t *)ud = id;
}

static void test_store(const char *path)
{
	struct jst_store *s;
	char err[600];
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	const char *actors[] = {"token:1", "token:2", "local:ann", "token:2", "anonymous"};
	const char *actions[] = {"events.ingest", "run.delete", "token.create", "events.ingest",
				 "token.revoke"};
	char prev[65] = "";
	for (int i = 0; i < 5; i++) {
		struct jst_audit_entry e;
		entry(&e, actors[i], actions[i], "x", 1000 + (uint64_t)i * 10);
		CHECK_INT(jst_store_audit_add(s, &e), 0);
		CHECK_INT(e.id, i + 1);
		CHECK_STR(e.prev_hash, prev);
		CHECK_STR(e.detail, "{}");
		strcpy(prev, e.hash);
	}
	struct jst_audit_query q = {.limit = 2};
	struct ids a = list(s, &q);
	CHECK(a.n == 2 && a.v[0] == 5 && a.v[1] == 4);
	q.before_id = 4;
	a = list(s, &q);
	CHECK(a.n == 2 && a.v[0] == 3 && a.v[1] == 2);
	q = (struct jst_audit_query){.limit = 10, .actor = "token:2"};
	a = list(s, &q);
	CHECK(a.n == 2 && a.v[0] == 4 && a.v[1] == 2);
	q = (struct jst_audit_query){.limit = 10, .action = "token."};
	a = list(s, &q);
	CHECK(a.n == 2 && a.v[0] == 5 && a.v[1] == 3);
	q = (struct jst_audit_query){.limit = 10,
				     .action = "token"}; /* not a prefix without the dot */
	CHECK_INT(list(s, &q).n, 0);
	q = (struct jst_audit_query){.limit = 10, .from_ns = 1010, .to_ns = 1030};
	a = list(s, &q);
	CHECK(a.n == 2 && a.v[0] == 3 && a.v[1] == 2);
	struct jst_audit_report rep;
	int64_t bad = 0;
	CHECK_INT(jst_store_audit_verify(s, problem, &bad, &rep), 0);
	CHECK(rep.rows == 5 && rep.problems == 0 && rep.deletions == 1 && bad == 0);
	CHECK_STR(rep.head, prev);
	jst_store_close(s);

	/* tampering, as someone with the file would: triggers dropped, a row edited, one deleted */
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE audit_log SET object='y' WHERE id=2", NULL, NULL, NULL) !=
	      SQLITE_OK);
	CHECK_INT(
		sqlite3_exec(
			db,
			"DROP TRIGGER audit_log_no_update; UPDATE audit_log SET object='y' WHERE id=2",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	CHECK_INT(jst_store_audit_verify(s, problem, &bad, &rep), 0);
	CHECK(rep.problems == 1 && bad == 2);
	jst_store_close(s);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(
		sqlite3_exec(
			db,
			"UPDATE audit_log SET object='x' WHERE id=2; DROP TRIGGER audit_log_no_delete;"
			" DELETE FROM audit_log WHERE id=3",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	CHECK_INT(jst_store_audit_verify(s, problem, &bad, &rep), 0);
	CHECK(rep.rows == 4 && rep.problems == 2 &&
	      bad == 4); /* row 4: a gap before it, a broken link */
	jst_store_close(s);
}

static void ingest(struct jst_store *s, const char *ndjson, size_t want)
{
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t line = 0;
	char err[300];
	CHECK_INT(jst_event_batch_parse(ndjson, strlen(ndjson), 0, &b, &line, err, sizeof(err)), 0);
	CHECK_INT(jst_store_ingest(s, &b, &res), 0);
	CHECK_INT(res.accepted, want);
	jst_event_batch_release(&b);
}

#define SAMPLE(ID, RUN, TS)                                                                                   \
	"{\"v\":1,\"id\":\"" ID "\",\"type\":\"sample\",\"ts_ns\":" TS ",\"run\":\"" RUN                      \
	"\",\"host\":\"h\","                                                                                  \
	"\"zone\":\"gpu0\",\"zone_index\":0,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":1,\"energy_j\":10," \
	"\"share\":1}\n"

static void test_delete(const char *path)
{
	struct jst_store *s;
	char err[600];
	struct jst_run_summary r;
	uint64_t n = 0;
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	ingest(s,
	       SAMPLE("a1", "A", "1000000000") SAMPLE("b1", "B", "1000000000")
		       SAMPLE("b2", "B", "2000000000"),
	       3);
	CHECK_INT(jst_store_get_run(s, "B", &r), 0);
	CHECK_INT(jst_store_run_delete(s, "B", 5, &n), 0);
	CHECK_INT(n, 1); /* A's one event replayed */
	CHECK_INT(jst_store_get_run(s, "B", &r), -ENOENT);
	CHECK_INT(jst_store_get_run(s, "A", &r), 0);
	CHECK_NEAR(r.energy_j, 10, 1e-12);
	CHECK_INT(jst_store_run_delete(s, "B", 6, &n), -ENOENT);
	CHECK(strstr(jst_store_errmsg(s), "deleted already") != NULL);
	ingest(s, SAMPLE("b3", "B", "3000000000") SAMPLE("a2", "A", "2000000000"), 2);
	CHECK_INT(jst_store_get_run(s, "B", &r), -ENOENT); /* stored, not aggregated */
	CHECK_INT(jst_store_get_run(s, "A", &r), 0);
	CHECK_NEAR(r.energy_j, 20, 1e-12);
	CHECK_INT(jst_store_rebuild(s, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(jst_store_get_run(s, "B", &r), -ENOENT);
	jst_store_close(s);
}

static bool hook(void *ud, const struct jst_event_batch *b, const struct jst_ingest_result *res,
		 struct jst_audit_entry *e)
{
	int *calls = ud;
	(*calls)++;
	if (res->accepted == 0)
		return false; /* no row wanted */
	snprintf(e->actor, sizeof(e->actor), "token:9");
	snprintf(e->action, sizeof(e->action), "events.ingest");
	snprintf(e->object, sizeof(e->object), "batch of %zu", b->n);
	snprintf(e->outcome, sizeof(e->outcome), "ok");
	return true;
}

/* The row of an ingest hook commits with the batch, and a batch whose row cannot be written is
 * not stored either. */
static void test_ingest_hook(const char *path)
{
	struct jst_store *s;
	char err[600];
	int calls = 0;
	struct jst_run_summary r;
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	jst_store_set_ingest_audit(s, hook, &calls);
	ingest(s, SAMPLE("h1", "H", "1000000000"), 1);
	ingest(s, SAMPLE("h1", "H", "1000000000"), 0); /* a duplicate: the hook wants no row */
	jst_store_set_ingest_audit(s, NULL, NULL);
	ingest(s, SAMPLE("h2", "H", "2000000000"), 1); /* no hook: no row */
	CHECK_INT(calls, 2);
	struct jst_audit_query q = {.limit = 10};
	struct ids a = list(s, &q);
	CHECK(a.n == 1 && a.v[0] == 1);
	jst_store_close(s);
	sqlite3 *db;
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "DROP TABLE audit_log", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	jst_store_set_ingest_audit(s, hook, &calls);
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t line = 0;
	const char *ev = SAMPLE("h3", "H", "3000000000");
	CHECK_INT(jst_event_batch_parse(ev, strlen(ev), 0, &b, &line, err, sizeof(err)), 0);
	CHECK(jst_store_ingest(s, &b, &res) < 0);
	CHECK(strstr(jst_store_errmsg(s), "audit log") != NULL);
	jst_event_batch_release(&b);
	jst_store_set_ingest_audit(s, NULL, NULL);
	CHECK_INT(jst_store_get_run(s, "H", &r), 0);
	CHECK_INT(r.samples, 2); /* h3 was rolled back with its row */
	jst_store_close(s);
}

int main(void)
{
	test_hash();
	test_cursor();
	test_params();
	char dir[] = "/tmp/jst-audit-XXXXXX", path[300], path2[300], path3[300];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a.db", dir);
	snprintf(path2, sizeof(path2), "%s/d.db", dir);
	snprintf(path3, sizeof(path3), "%s/h.db", dir);
	test_store(path);
	test_delete(path2);
	test_ingest_hook(path3);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
