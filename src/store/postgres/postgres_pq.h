/* The PostgreSQL store handle and the libpq helpers (postgres_pq.c) every postgres_*.c file
 * uses. Internal to src/store/. */
#ifndef JST_STORE_POSTGRES_PQ_H
#define JST_STORE_POSTGRES_PQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dl_pq.h"
#include "store/store.h"

struct pg_store {
	struct jst_store base;
	PGconn *conn;
	bool staging; /* the session's temporary ev_in table exists */
	uint64_t reset_ns; /* the last reconnection tried (CLOCK_MONOTONIC) */
};

static inline PGconn *jst__pg_conn(struct jst_store *s)
{
	return ((struct pg_store *)s)->conn;
}

/* A connection lost since the last statement opened again (at most once a second; a new
 * session has no staging table). 0, or -ENOTCONN with the store's message set. jst__pg_exec
 * and jst__pg_query call it first; a caller that must know before its own first statement
 * (a batch's session setup) calls it itself. */
int jst__pg_ready(struct jst_store *s);
/* Sets the store's message from a failed result (or the connection when res is NULL), clears
 * res, and returns a negative errno: -EBUSY for a serialization failure or deadlock (retry),
 * -ENOTCONN when the connection is gone, else -EIO. */
int jst__pg_fail(struct jst_store *s, PGresult *res, const char *what);

/* Runs a statement whose rows, if any, are not wanted; 0 or jst__pg_fail(). */
int jst__pg_exec(struct jst_store *s, const char *sql, const char *what);

/* Runs sql with text parameters; returns the result when its status is want, else NULL after
 * jst__pg_fail() (the caller then returns its errno, kept in *rc). */
PGresult *jst__pg_query(struct jst_store *s, const char *sql, int n, const char *const *params, ExecStatusType want,
                        int *rc, const char *what);

/* Column helpers over text results: "" / 0 for NULL. */
void jst__pg_text(const PGresult *res, int row, int col, char *dst, size_t n);
int64_t jst__pg_i64(const PGresult *res, int row, int col);
double jst__pg_f64(const PGresult *res, int row, int col);

#endif
