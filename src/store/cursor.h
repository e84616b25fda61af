/* The keyset cursor of GET /api/v1/runs pages, shared by the SQLite and PostgreSQL stores and
 * checked by the API before a query (server/params.c): "BITS~RUN", the previous page's last
 * sort value as the 16 lower-case hex digits of its double (exact, and safe in a URL), then
 * that row's run id. */
#ifndef JST_STORE_CURSOR_H
#define JST_STORE_CURSOR_H

#include <stddef.h>

/* 0 with the sort value and the run id (NUL-terminated, at most n - 1 bytes), or -EINVAL. */
int jst__cursor_parse(const char *c, double *v, char *run, size_t n);
/* The cursor of a row into out (size n); the length, as snprintf. */
int jst__cursor_format(double v, const char *run, char *out, size_t n);

#endif
