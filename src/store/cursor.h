/* The pages of GET /api/v1/runs, shared by every store: the keyset cursor, checked by the API
 * before a query (server/params.c) — "BITS~RUN", the previous page's last sort value as the 16
 * lower-case hex digits of its double (exact, and safe in a URL), then that row's run id — the
 * ev_runs column each sort orders by, and the page a dialect's rows are cut into. */
#ifndef JST_STORE_CURSOR_H
#define JST_STORE_CURSOR_H

#include <stddef.h>

#include "joulestream/ingest.h"

/* 0 with the sort value and the run id (NUL-terminated, at most n - 1 bytes), or -EINVAL. */
int jst__cursor_parse(const char *c, double *v, char *run, size_t n);
/* The cursor of a row into out (size n); the length, as snprintf. */
int jst__cursor_format(double v, const char *run, char *out, size_t n);

/* The ev_runs column a sort orders by (descending, then by run descending), and its value. */
const char *jst__run_sort_col(enum jst_run_sort s);
double jst__run_sort_value(const struct jst_run_summary *r, enum jst_run_sort s);

/* q's cursor, if any: 1 with its value and run, 0 when q has none, -EINVAL with the store's
 * message. */
int jst__run_cursor(struct jst_store *s, const struct jst_run_query *q, double *v, char *run, size_t n);

/* A page of runs: the dialect reads up to q->limit + 1 rows in the sort's order and gives each
 * to jst__run_page_add, which passes q->limit of them to fn and turns the one beyond into the
 * next page's cursor. */
struct jst_run_page {
	const struct jst_run_query *q;
	int (*fn)(const struct jst_run_summary *, void *);
	void *ud;
	char *next;
	size_t nextlen, n;
	struct jst_run_summary last;
};

void jst__run_page_init(struct jst_run_page *p, const struct jst_run_query *q,
                        int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen);
/* 1 when no more rows are wanted (the page is full, or fn said stop), else 0. */
int jst__run_page_add(struct jst_run_page *p, const struct jst_run_summary *r);

#endif
