/* The query parameters of GET /api/v1/audit (params.h): from, to, actor, action, limit and
 * cursor read into a jst_audit_query, checked, with what was wrong in err. Pure; fuzzed with
 * the other API parameters (tests/fuzz/query.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "server/params.h"

int jst__params_audit(jst__arg_fn get, const void *ud, struct jst_audit_query *q, char *err,
		      size_t errlen)
{
	const char *limit = get(ud, "limit"), *cursor = get(ud, "cursor");
	uint64_t lim = 100;
	memset(q, 0, sizeof(*q));
	if (limit && *limit &&
	    (jst__parse_u64(limit, strlen(limit), &lim) < 0 || lim < 1 ||
	     lim > JST_AUDIT_LIMIT_MAX)) {
		snprintf(err, errlen, "bad limit '%.32s': 1 to %d", limit, JST_AUDIT_LIMIT_MAX);
		return -EINVAL;
	}
	if (cursor && *cursor &&
	    jst_audit_cursor_parse(cursor, strlen(cursor), &q->before_id) < 0) {
		snprintf(err, errlen, "bad cursor '%.32s': pass the \"next\" of the previous page",
			 cursor);
		return -EINVAL;
	}
	q->limit = (size_t)lim;
	q->actor = get(ud, "actor");
	q->action = get(ud, "action");
	if (q->actor && !*q->actor)
		q->actor = NULL;
	if (q->action && !*q->action)
		q->action = NULL;
	int r = jst__param_time("from", get(ud, "from"), &q->from_ns, err, errlen);
	if (r == 0)
		r = jst__param_time("to", get(ud, "to"), &q->to_ns, err, errlen);
	return r;
}
