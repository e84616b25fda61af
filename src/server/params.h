/* The query parameters of the API (docs/api.md) read into plain structs, apart from the HTTP
 * server so that they are pure functions (a fuzz target in tests/fuzz/query.c, unit tests in
 * tests/unit/test_params.c): each takes a lookup that gives an argument's decoded value by
 * name (libmicrohttpd's in serve, a table in the tests), checks every value, and says in err
 * what was wrong and what would be right. The values it keeps point into the lookup's strings. */
#ifndef JST_SERVER_PARAMS_H
#define JST_SERVER_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "joulestream/audit.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"

/* An argument's value, or NULL when it is absent. */
typedef const char *(*jst__arg_fn)(const void *ud, const char *key);

#define JST_RUNS_LIMIT_MAX 1000
#define JST_EVENTS_LIMIT_MAX 20000

/* A time argument: integer nanoseconds since the epoch, or ISO 8601 with a zone. Absent or
 * empty: 0. 0 or -EINVAL. */
int jst__param_time(const char *key, const char *v, uint64_t *ns, char *err, size_t errlen);

/* GET /api/v1/runs: user, model, host, zone, status, from, to, sort, limit (default 100),
 * cursor. Sets the query's filter, paging and sort fields, leaving the others (only_user,
 * now_ns, stall_intervals) as they were. 0 or -EINVAL. */
int jst__params_runs(jst__arg_fn get, const void *ud, struct jst_run_query *q, char *err,
		     size_t errlen);

struct jst_agg_params {
	const char *by; /* user, model, project, host, zone or phase */
	uint64_t from_ns, to_ns;
};
/* GET /api/v1/aggregates: by (required), from, to. 0 or -EINVAL. */
int jst__params_aggregates(jst__arg_fn get, const void *ud, struct jst_agg_params *a, char *err,
			   size_t errlen);

struct jst_events_params {
	const char *type; /* one event type, or NULL for all */
	uint64_t after;   /* log sequence number; 0: from the start */
	size_t limit;     /* 1..JST_EVENTS_LIMIT_MAX, default 5000 */
};
/* GET /api/v1/runs/{id}/events: type, after, limit. 0 or -EINVAL. */
int jst__params_events(jst__arg_fn get, const void *ud, struct jst_events_params *e, char *err,
		       size_t errlen);

#define JST_AUDIT_LIMIT_MAX 1000
/* GET /api/v1/audit: from, to, actor, action (empty: any), limit (default 100), cursor
 * (params_audit.c). 0 or -EINVAL. */
int jst__params_audit(jst__arg_fn get, const void *ud, struct jst_audit_query *q, char *err,
		      size_t errlen);

#endif
