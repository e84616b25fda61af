/* The libpq helpers every postgres_*.c file uses: a failed statement to an errno and a message
 * (SQLSTATE → -EBUSY, -ENOSPC; a lost connection → -ENOTCONN), statements with and without
 * rows, and column readers. A leaf of the dialect: it calls no other file of it, so the
 * dialect's files depend on it and never on each other in a circle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

int jst__pg_fail(struct jst_store *s, PGresult *res, const char *what)
{
	PGconn *c = jst__pg_conn(s);
	const char *msg = res ? jst__pq.PQresultErrorMessage(res) : jst__pq.PQerrorMessage(c);
	const char *field = res ? jst__pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char code[8] = ""; /* the SQLSTATE, read after res is cleared */
	if (field)
		jst__strlcpy(code, field, sizeof(code));
	const char *state = field ? code : NULL;
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %.*s", what, (int)(n > 400 ? 400 : n), msg);
	jst__pq.PQclear(res);
	if (jst__pq.PQstatus(c) != CONNECTION_OK)
		return -ENOTCONN;
	if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0))
		return -EBUSY;
	if (state && strcmp(state, "53100") == 0) /* disk_full */
		return -ENOSPC;
	return -EIO;
}

/* A connection lost since the last statement (a server restart) is opened again before the
 * next one, at most once a second (a database down for minutes is not hammered); a new session
 * has no temporary tables. Every connection of a store heals this way: serve's reader and
 * token connections as well as its writer (whose batches also re-apply their session settings). */
int jst__pg_ready(struct jst_store *s)
{
	struct pg_store *p = (struct pg_store *)s;
	if (jst__pq.PQstatus(p->conn) == CONNECTION_OK)
		return 0;
	uint64_t now = jst__mono_ns();
	if (p->reset_ns && now - p->reset_ns < 1000000000u) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the connection to postgresql is lost (reconnecting)");
		return -ENOTCONN;
	}
	p->reset_ns = now;
	jst__pq.PQreset(p->conn);
	p->staging = false;
	if (jst__pq.PQstatus(p->conn) != CONNECTION_OK)
		return jst__pg_fail(s, NULL, "reconnecting to postgresql");
	return 0;
}

int jst__pg_exec(struct jst_store *s, const char *sql, const char *what)
{
	int r = jst__pg_ready(s);
	if (r < 0)
		return r;
	PGresult *res = jst__pq.PQexec(jst__pg_conn(s), sql);
	ExecStatusType st = jst__pq.PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) /* a SELECT of a lock function returns a row */
		return jst__pg_fail(s, res, what);
	jst__pq.PQclear(res);
	return 0;
}

PGresult *jst__pg_query(struct jst_store *s, const char *sql, int n, const char *const *params, ExecStatusType want,
                        int *rc, const char *what)
{
	if ((*rc = jst__pg_ready(s)) < 0)
		return NULL;
	PGresult *res = jst__pq.PQexecParams(jst__pg_conn(s), sql, n, NULL, params, NULL, NULL, 0);
	if (jst__pq.PQresultStatus(res) != want) {
		*rc = jst__pg_fail(s, res, what);
		return NULL;
	}
	*rc = 0;
	return res;
}

void jst__pg_text(const PGresult *res, int row, int col, char *dst, size_t n)
{
	jst__strlcpy(dst, jst__pq.PQgetisnull(res, row, col) ? "" : jst__pq.PQgetvalue(res, row, col), n);
}

int64_t jst__pg_i64(const PGresult *res, int row, int col)
{
	return jst__pq.PQgetisnull(res, row, col) ? 0 : strtoll(jst__pq.PQgetvalue(res, row, col), NULL, 10);
}

double jst__pg_f64(const PGresult *res, int row, int col)
{
	return jst__pq.PQgetisnull(res, row, col) ? 0 : strtod(jst__pq.PQgetvalue(res, row, col), NULL);
}

