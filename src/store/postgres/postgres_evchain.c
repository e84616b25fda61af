/* The event chain's PostgreSQL dialect (evchain.h, docs/integrity.md): the ev_chain entry of an
 * ingested batch, appended in the batch's transaction under the ingest lock (so entries are
 * numbered and linked in commit order across every server sharing the database), the one-time
 * chaining of the events a store held before schema 2, and verify's two cursors over ev_chain
 * and ev_log in one repeatable-read snapshot. The hashing is in evchain.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/evchain.h"
#include "store/postgres/postgres.h"

int jst__pg_evchain_append(struct jst_store *s, int64_t batch, const char *origin,
			   const struct jst_evchain_build *b)
{
	if (!b->events)
		return 0;
	int r;
	struct jst_evchain_entry e = {.n = 1,
				      .batch = batch,
				      .events = b->events,
				      .origin = origin,
				      .digests = b->p,
				      .digests_len = b->len};
	memset(e.prev_hash, '0', 64);
	e.prev_hash[64] = '\0';
	PGresult *res = jst__pg_query(s, "SELECT n, hash FROM ev_chain ORDER BY n DESC LIMIT 1", 0,
				      NULL, PGRES_TUPLES_OK, &r, "reading the event chain");
	if (!res)
		return r;
	if (jst__pq.PQntuples(res) > 0) {
		e.n = jst__pg_i64(res, 0, 0) + 1;
		jst__pg_text(res, 0, 1, e.prev_hash, sizeof(e.prev_hash));
	}
	jst__pq.PQclear(res);
	jst__evchain_entry_hash(&e, e.hash);
	char num[4][24];
	snprintf(num[0], sizeof(num[0]), "%" PRId64, e.n);
	snprintf(num[1], sizeof(num[1]), "%" PRId64, e.batch);
	snprintf(num[2], sizeof(num[2]), "%" PRId64, e.events);
	snprintf(num[3], sizeof(num[3]), "%" PRIu64, jst__wall_ns());
	const char *v[] = {num[0],      num[1], num[2], origin, num[3], (const char *)b->p,
			   e.prev_hash, e.hash};
	int len[] = {0, 0, 0, 0, 0, (int)b->len, 0, 0};
	int fmt[] = {0, 0, 0, 0, 0, 1, 0, 0};
	res = jst__pq.PQexecParams(jst__pg_conn(s),
				   "INSERT INTO ev_chain(n,batch,events,origin,chained_ns,digests,"
				   "prev_hash,hash) VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
				   8, NULL, v, len, fmt, 0);
	if (jst__pq.PQresultStatus(res) != PGRES_COMMAND_OK)
		return jst__pg_fail(s, res, "chaining the events");
	jst__pq.PQclear(res);
	return 0;
}

static int build_fail(struct jst_store *s, int r)
{
	if (r < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "chaining the events: %s",
			 r == -EINVAL ? "an event id is too long" : "out of memory");
	return r;
}

#define LOG_ROWS "SELECT seq, batch, id, type, run, ts_ns, body FROM ev_log ORDER BY seq"

/* A server-side cursor read a page at a time. */
struct cursor {
	struct jst_store *s;
	const char *fetch;
	PGresult *res;
	int i, n;
	bool done;
};

/* 1 with c->res row c->i current, 0 at the end, < 0 on error. */
static int advance(struct cursor *c)
{
	if (c->res && ++c->i < c->n)
		return 1;
	jst__pq.PQclear(c->res);
	c->res = NULL;
	if (c->done)
		return 0;
	int r;
	c->res = jst__pg_query(c->s, c->fetch, 0, NULL, PGRES_TUPLES_OK, &r,
			       "reading the event chain");
	if (!c->res)
		return r;
	c->n = jst__pq.PQntuples(c->res);
	c->i = 0;
	c->done = c->n == 0;
	return c->n > 0;
}

static void row_of(const PGresult *res, int i, struct jst_evrow *r)
{
	r->seq = jst__pg_i64(res, i, 0);
	r->batch = jst__pg_i64(res, i, 1);
	r->id = jst__pq.PQgetvalue(res, i, 2);
	r->type = jst__pq.PQgetvalue(res, i, 3);
	r->run = jst__pq.PQgetisnull(res, i, 4) ? NULL : jst__pq.PQgetvalue(res, i, 4);
	r->ts_ns = jst__pg_i64(res, i, 5);
	r->body = jst__pq.PQgetvalue(res, i, 6);
	r->body_len = (size_t)jst__pq.PQgetlength(res, i, 6);
}

int jst__pg_evchain_adopt(struct jst_store *s)
{
	int r = jst__pg_exec(s, "SELECT pg_advisory_xact_lock(7418153)",
			     "waiting for the ingest lock");
	if (r == 0)
		r = jst__pg_exec(s, "DECLARE jst_adopt NO SCROLL CURSOR FOR " LOG_ROWS,
				 "reading the event log to chain it");
	struct cursor c = {s, "FETCH 2000 FROM jst_adopt", NULL, 0, 0, false};
	struct jst_evchain_build b = {0};
	struct jst_evrow row;
	int64_t batch = 0;
	while (r == 0 && (r = advance(&c)) > 0) {
		row_of(c.res, c.i, &row);
		r = 0;
		if (b.events && row.batch != batch) {
			r = jst__pg_evchain_append(s, batch, "migration", &b);
			jst__evchain_reset(&b);
		}
		batch = row.batch;
		if (r == 0)
			r = build_fail(s, jst__evchain_add(&b, &row));
	}
	jst__pq.PQclear(c.res);
	if (r == 0)
		r = jst__pg_evchain_append(s, batch, "migration", &b);
	if (r == 0)
		r = jst__pg_exec(s, "CLOSE jst_adopt", "reading the event log to chain it");
	jst__evchain_release(&b);
	return r;
}

struct scan {
	struct cursor entries, log;
	unsigned char *digests; /* the current entry's, unescaped */
};

static int next_entry(void *ud, struct jst_evchain_entry *e)
{
	struct scan *sc = ud;
	int r = advance(&sc->entries);
	if (r <= 0)
		return r;
	const PGresult *res = sc->entries.res;
	int i = sc->entries.i;
	e->n = jst__pg_i64(res, i, 0);
	e->batch = jst__pg_i64(res, i, 1);
	e->events = jst__pg_i64(res, i, 2);
	e->origin = jst__pq.PQgetvalue(res, i, 3);
	jst__pq.PQfreemem(sc->digests);
	size_t n = 0;
	sc->digests =
		jst__pq.PQunescapeBytea((const unsigned char *)jst__pq.PQgetvalue(res, i, 4), &n);
	if (!sc->digests) {
		snprintf(sc->entries.s->errmsg, sizeof(sc->entries.s->errmsg),
			 "reading the event chain: out of memory");
		return -ENOMEM;
	}
	e->digests = sc->digests;
	e->digests_len = n;
	jst__pg_text(res, i, 5, e->prev_hash, sizeof(e->prev_hash));
	jst__pg_text(res, i, 6, e->hash, sizeof(e->hash));
	return 1;
}

static int next_event(void *ud, struct jst_evrow *row)
{
	struct scan *sc = ud;
	int r = advance(&sc->log);
	if (r > 0)
		row_of(sc->log.res, sc->log.i, row);
	return r;
}

int jst__pg_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			  struct jst_events_report *out)
{
	struct scan sc = {{s, "FETCH 200 FROM jst_evc", NULL, 0, 0, false},
			  {s, "FETCH 2000 FROM jst_evl", NULL, 0, 0, false},
			  NULL};
	struct jst_evchain_scan walk = {next_entry, next_event, &sc, 0};
	int r = jst__pg_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "verify");
	if (r == 0)
		r = jst__pg_exec(
			s,
			"DECLARE jst_evc NO SCROLL CURSOR FOR SELECT n, batch, events, origin, digests,"
			" prev_hash, hash FROM ev_chain ORDER BY n",
			"reading the event chain");
	if (r == 0)
		r = jst__pg_exec(s, "DECLARE jst_evl NO SCROLL CURSOR FOR " LOG_ROWS,
				 "reading the event log");
	if (r == 0)
		r = jst__evchain_walk(&walk, fn, ud, out);
	jst__pq.PQclear(sc.entries.res);
	jst__pq.PQclear(sc.log.res);
	jst__pq.PQfreemem(sc.digests);
	jst__pq.PQclear(jst__pq.PQexec(jst__pg_conn(s), r == 0 ? "COMMIT" : "ROLLBACK"));
	return r;
}

int jst__pg_chain_head(struct jst_store *s, char out[65])
{
	int rc;
	out[0] = '\0';
	PGresult *res = jst__pg_query(s, "SELECT hash FROM ev_chain ORDER BY n DESC LIMIT 1", 0, NULL, PGRES_TUPLES_OK,
	                              &rc, "reading the event chain");
	if (!res)
		return rc;
	if (jst__pq.PQntuples(res) > 0)
		jst__pg_text(res, 0, 0, out, 65);
	jst__pq.PQclear(res);
	return 0;
}
