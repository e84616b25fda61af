/* The query parameters of the API (params.h): every value checked before a store is asked,
 * with the messages the API answers 400 with. No HTTP here: serve passes libmicrohttpd's
 * argument lookup, the tests and the fuzz target a table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agg/agg.h"
#include "core/isotime.h"
#include "core/util.h"
#include "server/params.h"
#include "store/cursor.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The index of v in names[0..n), or -1. */
static int one_of(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

int jst__param_time(const char *key, const char *v, uint64_t *ns, char *err, size_t errlen)
{
	*ns = 0;
	if (!v || !*v)
		return 0;
	int64_t t;
	const char *why = NULL;
	size_t n = strlen(v);
	if (jst__parse_u64(v, n, ns) == 0)
		return 0;
	if (jst__parse_iso8601(v, n, &t, &why) == 0 && t >= 0) {
		*ns = (uint64_t)t;
		return 0;
	}
	*ns = 0;
	return bad(err, errlen,
		   "bad %s '%.64s': give ISO 8601 with a zone (2024-03-01T12:00:00Z) or "
		   "nanoseconds since the epoch%s%s",
		   key, v, why ? ": " : "", why ? why : "");
}

/* An integer argument in [0, max]; *v unchanged when absent or empty. */
static int param_uint(const char *key, const char *a, uint64_t max, uint64_t *v, char *err,
		      size_t errlen)
{
	uint64_t x;
	if (!a || !*a)
		return 0;
	if (jst__parse_u64(a, strlen(a), &x) < 0 || x > max)
		return bad(err, errlen, "bad %s '%.32s': an integer from 0 to %llu", key, a,
			   (unsigned long long)max);
	*v = x;
	return 0;
}

int jst__params_runs(jst__arg_fn get, const void *ud, struct jst_run_query *q, char *err,
		     size_t errlen)
{
	static const char *const sorts[] = {"start", "energy", "co2e", "duration", "water"};
	static const char *const states[] = {"running", "finished", "stalled"};
	q->user = get(ud, "user");
	q->model = get(ud, "model");
	q->host = get(ud, "host");
	q->zone = get(ud, "zone");
	q->status = get(ud, "status");
	q->cursor = get(ud, "cursor");
	const char *series = get(ud, "series");
	if (series && strcmp(series, "run") != 0 && strcmp(series, "host") != 0)
		return bad(err, errlen, "bad series '%.32s': run (jobs, the default) or host (agents' host series)",
			   series);
	q->host_series = series && strcmp(series, "host") == 0;
	q->sort = JST_SORT_START;
	q->limit = 100;
	const char *sort = get(ud, "sort"), *limit = get(ud, "limit");
	if (sort) {
		int i = one_of(sort, sorts, (int)JST_ARRAY_LEN(sorts));
		if (i < 0)
			return bad(err, errlen,
				   "bad sort '%.32s': start, energy, co2e, duration or water",
				   sort);
		q->sort = (enum jst_run_sort)i;
	}
	uint64_t lim;
	if (limit &&
	    (jst__parse_u64(limit, strlen(limit), &lim) < 0 || lim < 1 || lim > JST_RUNS_LIMIT_MAX))
		return bad(err, errlen, "bad limit '%.32s': 1 to %d", limit, JST_RUNS_LIMIT_MAX);
	if (limit)
		q->limit = (size_t)lim;
	if (q->status && one_of(q->status, states, (int)JST_ARRAY_LEN(states)) < 0)
		return bad(err, errlen, "bad status '%.32s': running, finished or stalled",
			   q->status);
	double cv;
	char crun[JST_EVENT_ID_MAX + 1];
	if (q->cursor && *q->cursor && jst__cursor_parse(q->cursor, &cv, crun, sizeof(crun)) < 0)
		return bad(err, errlen, "bad cursor: pass the \"next\" of the previous page");
	int r = jst__param_time("from", get(ud, "from"), &q->from_ns, err, errlen);
	return r < 0 ? r : jst__param_time("to", get(ud, "to"), &q->to_ns, err, errlen);
}

int jst__params_aggregates(jst__arg_fn get, const void *ud, struct jst_agg_params *a, char *err,
			   size_t errlen)
{
	*a = (struct jst_agg_params){.by = get(ud, "by")};
	if (!a->by)
		return bad(err, errlen, "missing by: user, model, project, host, zone or phase");
	if (jst__agg_dim_parse(a->by) < 0)
		return bad(err, errlen, "bad by '%.32s': user, model, project, host, zone or phase", a->by);
	int r = jst__param_time("from", get(ud, "from"), &a->from_ns, err, errlen);
	return r < 0 ? r : jst__param_time("to", get(ud, "to"), &a->to_ns, err, errlen);
}

int jst__params_events(jst__arg_fn get, const void *ud, struct jst_events_params *e, char *err,
		       size_t errlen)
{
	static const char *const types[] = {"sample",  "phase", "metric",   "run_start",
					    "run_end", "mark",  "intensity"};
	uint64_t limit = 5000;
	*e = (struct jst_events_params){.type = get(ud, "type")};
	if (e->type && one_of(e->type, types, (int)JST_ARRAY_LEN(types)) < 0)
		return bad(
			err, errlen,
			"bad type '%.32s': sample, phase, metric, run_start, run_end, mark or intensity",
			e->type);
	int r = param_uint("after", get(ud, "after"), (uint64_t)INT64_MAX, &e->after, err, errlen);
	if (r == 0)
		r = param_uint("limit", get(ud, "limit"), JST_EVENTS_LIMIT_MAX, &limit, err,
			       errlen);
	e->limit = limit ? (size_t)limit : 1;
	return r;
}
