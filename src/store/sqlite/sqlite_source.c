/* A log source's bookkeeping in SQLite (sqlite_stream.h): the next offset of each partition and
 * the refused messages, written inside the ingest transaction of their batch so that after a
 * crash the stored offsets match the stored events exactly. A refused message replayed after a
 * crash is recorded once (UNIQUE on its position). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/sqlite/sqlite_stream.h"

#define REJECT_BODY_MAX 1024 /* bytes of a refused message kept for the admin */

/* A partition's stored offset only moves forward: a member that lost the partition in a
 * rebalance but still finishes its batch (a stale member) must not move it back over what the
 * new owner stored. Its events are harmless (ids are stored once); its offset would make the
 * new owner read again. An admin who wants a partition read again deletes its row. */
static int write_offsets(struct jst_store *s, sqlite3 *db, const struct jst_source_batch *src, int64_t now)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO ev_source_offsets(grp,topic,part,next_offset,updated_ns)"
	                           " VALUES(?,?,?,?,?) ON CONFLICT(grp,topic,part) DO UPDATE SET"
	                           " next_offset=excluded.next_offset, updated_ns=excluded.updated_ns"
	                           " WHERE excluded.next_offset > next_offset", /* only forward: see below */
	                       -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "preparing the offsets");
	int r = 0;
	for (size_t i = 0; r == 0 && i < src->noff; i++) {
		const struct jst_source_offset *o = &src->off[i];
		sqlite3_bind_text(st, 1, o->group, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, o->topic, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, o->partition);
		sqlite3_bind_int64(st, 4, o->next_offset);
		sqlite3_bind_int64(st, 5, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "storing a source offset");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_rejects(struct jst_store *s, sqlite3 *db, const struct jst_source_batch *src, int64_t now)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO ev_source_rejects(grp,topic,part,msg_offset,ts_ns,error,body)"
	                           " VALUES(?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "preparing the rejects");
	int r = 0;
	for (size_t i = 0; r == 0 && i < src->nrej; i++) {
		const struct jst_source_reject *j = &src->rej[i];
		size_t n = j->body_len < REJECT_BODY_MAX ? j->body_len : REJECT_BODY_MAX;
		sqlite3_bind_text(st, 1, j->group, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->topic, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, j->partition);
		sqlite3_bind_int64(st, 4, j->offset);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_text(st, 6, j->error, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 7, j->body ? j->body : "", (int)n, SQLITE_STATIC); /* bytes as they came */
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "storing a refused message");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

int jst__sq_source_write(struct jst_store *s, const struct jst_source_batch *src)
{
	sqlite3 *db = jst__sqlite_db(s);
	int64_t now = (int64_t)jst__wall_ns();
	int r = write_offsets(s, db, src, now);
	return r < 0 ? r : write_rejects(s, db, src, now);
}

int jst__sq_source_offsets(struct jst_store *s, const char *group, const char *topic,
                           int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT part, next_offset FROM ev_source_offsets WHERE grp=? AND topic=?"
	                           " ORDER BY part", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the source offsets");
	sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
	int rc, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1), ud);
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading the source offsets");
	sqlite3_finalize(st);
	return r;
}

static void col_text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

static int each_offset(sqlite3_stmt *st, int (*fn)(const struct jst_source_state *, void *), void *ud)
{
	struct jst_source_state o;
	col_text(st, 0, o.group, sizeof(o.group));
	col_text(st, 1, o.topic, sizeof(o.topic));
	o.partition = sqlite3_column_int(st, 2);
	o.next_offset = sqlite3_column_int64(st, 3);
	o.updated_ns = (uint64_t)sqlite3_column_int64(st, 4);
	return fn(&o, ud);
}

static int each_refusal(sqlite3_stmt *st, int (*fn)(const struct jst_source_refusal *, void *), void *ud)
{
	struct jst_source_refusal j;
	col_text(st, 0, j.group, sizeof(j.group));
	col_text(st, 1, j.topic, sizeof(j.topic));
	j.partition = sqlite3_column_int(st, 2);
	j.offset = sqlite3_column_int64(st, 3);
	j.ts_ns = (uint64_t)sqlite3_column_int64(st, 4);
	col_text(st, 5, j.error, sizeof(j.error));
	return fn(&j, ud);
}

int jst__sq_sources(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
                    int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
	int rc = SQLITE_OK, r = 0;
	if (sqlite3_prepare_v2(db, "SELECT grp,topic,part,next_offset,updated_ns FROM ev_source_offsets"
	                           " ORDER BY grp,topic,part", -1, &a, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM ev_source_rejects", -1, &b, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT grp,topic,part,msg_offset,ts_ns,error FROM ev_source_rejects"
	                           " ORDER BY seq DESC LIMIT ?", -1, &c, NULL) != SQLITE_OK)
		r = jst__sqlite_stream_fail(s, "reading the sources");
	while (r == 0 && (rc = sqlite3_step(a)) == SQLITE_ROW)
		r = each_offset(a, on_offset, ud);
	*refused = r == 0 && sqlite3_step(b) == SQLITE_ROW ? sqlite3_column_int64(b, 0) : 0;
	if (c)
		sqlite3_bind_int64(c, 1, (sqlite3_int64)limit);
	while (r == 0 && (rc = sqlite3_step(c)) == SQLITE_ROW)
		r = each_refusal(c, on_refusal, ud);
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading the sources");
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_finalize(c);
	return r;
}
