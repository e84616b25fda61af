/* The event chain's SQLite dialect (sqlite_evchain.h): reads the newest entry and appends the
 * next one inside the caller's IMMEDIATE transaction (so entries are numbered and linked in
 * commit order), chains an older store's events once at migration, and gives verify the
 * entries and the log rows from one read transaction. The hashing is in evchain.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_evchain.h"
#include "store/sqlite/sqlite_stream.h"

int jst__sq_evchain_append(struct jst_store *s, int64_t batch, const char *origin,
			   const struct jst_evchain_build *b)
{
	if (!b->events)
		return 0;
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st = NULL;
	struct jst_evchain_entry e = {.n = 1,
				      .batch = batch,
				      .events = b->events,
				      .origin = origin,
				      .digests = b->p,
				      .digests_len = b->len};
	memset(e.prev_hash, '0', 64);
	e.prev_hash[64] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT n, hash FROM ev_chain ORDER BY n DESC LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the event chain");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		e.n = sqlite3_column_int64(st, 0) + 1;
		const unsigned char *h = sqlite3_column_text(st, 1);
		jst__strlcpy(e.prev_hash, h ? (const char *)h : "", sizeof(e.prev_hash));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jst__sqlite_stream_fail(s, "reading the event chain");
	jst__evchain_entry_hash(&e, e.hash);
	if (sqlite3_prepare_v2(
		    db,
		    "INSERT INTO ev_chain(n,batch,events,origin,chained_ns,digests,prev_hash,hash)"
		    " VALUES(?,?,?,?,?,?,?,?)",
		    -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "chaining the events");
	sqlite3_bind_int64(st, 1, e.n);
	sqlite3_bind_int64(st, 2, e.batch);
	sqlite3_bind_int64(st, 3, e.events);
	sqlite3_bind_text(st, 4, origin, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)jst__wall_ns());
	sqlite3_bind_blob(st, 6, b->p, (int)b->len, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e.prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e.hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : jst__sqlite_stream_fail(s, "chaining the events");
}

static const char *text_or_null(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void row_of(sqlite3_stmt *st, struct jst_evrow *r)
{
	const char *id = text_or_null(st, 2), *type = text_or_null(st, 3),
		   *body = text_or_null(st, 6);
	r->seq = sqlite3_column_int64(st, 0);
	r->batch = sqlite3_column_int64(st, 1);
	r->id = id ? id : "";
	r->type = type ? type : "";
	r->run = text_or_null(st, 4);
	r->ts_ns = sqlite3_column_int64(st, 5);
	r->body = body ? body : "";
	r->body_len = body ? (size_t)sqlite3_column_bytes(st, 6) : 0;
}

#define LOG_ROWS "SELECT seq, batch, id, type, run, ts_ns, body FROM ev_log ORDER BY seq"

static int chain_fail(struct jst_store *s, int r)
{
	if (r == -ENOMEM)
		snprintf(s->errmsg, sizeof(s->errmsg), "chaining the events: out of memory");
	else if (r == -EINVAL)
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "chaining the events: an event id is too long");
	return r;
}

int jst__sq_evchain_adopt(struct jst_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), LOG_ROWS, -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the event log to chain it");
	struct jst_evchain_build b = {0};
	struct jst_evrow row;
	int64_t batch = 0;
	int r = 0, rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_of(st, &row);
		if (b.events && row.batch != batch) {
			r = jst__sq_evchain_append(s, batch, "migration", &b);
			jst__evchain_reset(&b);
		}
		batch = row.batch;
		if (r == 0)
			r = chain_fail(s, jst__evchain_add(&b, &row));
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading the event log to chain it");
	sqlite3_finalize(st);
	if (r == 0)
		r = jst__sq_evchain_append(s, batch, "migration", &b);
	jst__evchain_release(&b);
	return r;
}

struct cursors {
	struct jst_store *s;
	sqlite3_stmt *entries, *log;
};

static int next_entry(void *ud, struct jst_evchain_entry *e)
{
	struct cursors *c = ud;
	int rc = sqlite3_step(c->entries);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(c->s, "reading the event chain");
	sqlite3_stmt *st = c->entries;
	const char *origin = text_or_null(st, 3), *prev = text_or_null(st, 5),
		   *hash = text_or_null(st, 6);
	e->n = sqlite3_column_int64(st, 0);
	e->batch = sqlite3_column_int64(st, 1);
	e->events = sqlite3_column_int64(st, 2);
	e->origin = origin ? origin : "";
	e->digests = sqlite3_column_blob(st, 4);
	e->digests_len = (size_t)sqlite3_column_bytes(st, 4);
	jst__strlcpy(e->prev_hash, prev ? prev : "", sizeof(e->prev_hash));
	jst__strlcpy(e->hash, hash ? hash : "", sizeof(e->hash));
	return 1;
}

static int next_event(void *ud, struct jst_evrow *r)
{
	struct cursors *c = ud;
	int rc = sqlite3_step(c->log);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(c->s, "reading the event log");
	row_of(c->log, r);
	return 1;
}

int jst__sq_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			  struct jst_events_report *out)
{
	sqlite3 *db = jst__sqlite_db(s);
	struct cursors c = {s, NULL, NULL};
	struct jst_evchain_scan sc = {next_entry, next_event, &c, 0};
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK) /* one snapshot of both tables */
		return jst__sqlite_stream_fail(s, "verify");
	int r = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name='ev_chain'", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			sc.highest_n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT n, batch, events, origin, digests, prev_hash, hash FROM ev_chain ORDER BY n",
		    -1, &c.entries, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, LOG_ROWS, -1, &c.log, NULL) != SQLITE_OK)
		r = jst__sqlite_stream_fail(s, "reading the event chain");
	if (r == 0)
		r = jst__evchain_walk(&sc, fn, ud, out);
	sqlite3_finalize(c.entries);
	sqlite3_finalize(c.log);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}

int jst__sq_chain_head(struct jst_store *s, char out[65])
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT hash FROM ev_chain ORDER BY n DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the event chain");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		jst__strlcpy(out, (const char *)sqlite3_column_text(st, 0), 65);
	sqlite3_finalize(st);
	return 0;
}
