/* Fuzz target: the query parameters of the API (src/server/params.c) as a client sends them,
 * a raw query string ("by=user&from=2024-03-01T00:00:00Z&limit=5"). The target splits it the
 * way libmicrohttpd does for serve (pairs at '&', key and value at the first '=', %XX decoded,
 * the first of repeated keys wins) and reads it as the arguments of /api/v1/runs,
 * /api/v1/aggregates, /api/v1/runs/{id}/events and /api/v1/audit. Checks: an accepted query is in range
 * (limits, sort, status, type, a cursor that formats back to itself, numeric times taken
 * exactly); a refused one says why; the run filters read are the arguments given. */
#include <stdio.h>

#include "fuzz.h"
#include "server/params.h"
#include "store/cursor.h"

#define ARGS_MAX 32

struct args {
	size_t n;
	char *key[ARGS_MAX], *val[ARGS_MAX];
};

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoded in place; a '%' not followed by two hex digits stays as it is. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
			*o++ = (char)(hex(s[1]) * 16 + hex(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static const char *lookup(const void *ud, const char *key)
{
	const struct args *a = ud;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->key[i], key) == 0)
			return a->val[i];
	return NULL;
}

static void split(char *q, struct args *a)
{
	a->n = 0;
	for (char *save = NULL, *pair = strtok_r(q, "&", &save); pair && a->n < ARGS_MAX;
	     pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		if (eq)
			*eq = '\0';
		a->key[a->n] = pair;
		a->val[a->n] = eq ? eq + 1 : pair + strlen(pair); /* "a" alone: an empty value */
		unescape(a->key[a->n]);
		unescape(a->val[a->n]);
		a->n++;
	}
}

static bool is_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Absent or empty: 0; written in digits: that very number. */
static void check_time(const struct args *a, const char *key, uint64_t ns)
{
	const char *v = lookup(a, key);
	if (!v || !*v) {
		FUZZ_ASSERT(ns == 0);
		return;
	}
	if (is_digits(v) && strlen(v) < 19)
		FUZZ_ASSERT(strtoull(v, NULL, 10) == ns);
}

static void check_runs(const struct args *a)
{
	struct jst_run_query q = {.only_user = "keep", .now_ns = 7};
	char err[400] = "";
	if (jst__params_runs(lookup, a, &q, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(strncmp(err, "bad ", 4) == 0);
		return;
	}
	FUZZ_ASSERT(q.limit >= 1 && q.limit <= JST_RUNS_LIMIT_MAX &&
		    (unsigned)q.sort <= JST_SORT_WATER);
	FUZZ_ASSERT(strcmp(q.only_user, "keep") == 0 && q.now_ns == 7);
	FUZZ_ASSERT(q.user == lookup(a, "user") && q.host == lookup(a, "host") &&
		    q.model == lookup(a, "model") && q.zone == lookup(a, "zone"));
	FUZZ_ASSERT(!q.status || !strcmp(q.status, "running") || !strcmp(q.status, "finished") ||
		    !strcmp(q.status, "stalled"));
	if (q.cursor && *q.cursor) {
		double v;
		char run[JST_EVENT_ID_MAX + 1], again[128];
		FUZZ_ASSERT(jst__cursor_parse(q.cursor, &v, run, sizeof(run)) == 0);
		jst__cursor_format(v, run, again, sizeof(again));
		FUZZ_ASSERT(strcmp(again, q.cursor) == 0);
	}
	check_time(a, "from", q.from_ns);
	check_time(a, "to", q.to_ns);
}

static void check_aggregates(const struct args *a)
{
	struct jst_agg_params p;
	char err[400] = "";
	if (jst__params_aggregates(lookup, a, &p, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(strncmp(err, "bad ", 4) == 0 || strncmp(err, "missing by", 10) == 0);
		return;
	}
	FUZZ_ASSERT(p.by && p.by == lookup(a, "by"));
	check_time(a, "from", p.from_ns);
	check_time(a, "to", p.to_ns);
}

static void check_events(const struct args *a)
{
	struct jst_events_params e;
	char err[400] = "";
	if (jst__params_events(lookup, a, &e, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(strncmp(err, "bad ", 4) == 0);
		return;
	}
	FUZZ_ASSERT(e.limit >= 1 && e.limit <= JST_EVENTS_LIMIT_MAX &&
		    e.after <= (uint64_t)INT64_MAX);
	FUZZ_ASSERT(!e.type || !strcmp(e.type, "sample") || !strcmp(e.type, "phase") ||
		    !strcmp(e.type, "metric") || !strcmp(e.type, "run_start") ||
		    !strcmp(e.type, "run_end"));
}

/* GET /api/v1/audit (params_audit.c) */
static void check_audit(const struct args *a)
{
	struct jst_audit_query q;
	char err[400] = "";
	if (jst__params_audit(lookup, a, &q, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(strncmp(err, "bad ", 4) == 0);
		return;
	}
	FUZZ_ASSERT(q.limit >= 1 && q.limit <= JST_AUDIT_LIMIT_MAX && q.before_id >= 0);
	const char *c = lookup(a, "cursor");
	FUZZ_ASSERT(c && *c ? q.before_id > 0 : q.before_id == 0);
	FUZZ_ASSERT(!q.actor || (*q.actor && q.actor == lookup(a, "actor")));
	FUZZ_ASSERT(!q.action || (*q.action && q.action == lookup(a, "action")));
	check_time(a, "from", q.from_ns);
	check_time(a, "to", q.to_ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1); /* libmicrohttpd hands over NUL-terminated strings */
	if (!q)
		return 0;
	memcpy(q, data, size);
	q[size] = '\0';
	struct args a;
	split(q, &a);
	check_runs(&a);
	check_aggregates(&a);
	check_events(&a);
	check_audit(&a);
	free(q);
	return 0;
}
