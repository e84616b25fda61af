/* The audit log in SQLite (sqlite_audit.h): a row is appended inside the engine's IMMEDIATE
 * transaction (its own, audit.c, or an ingest's, ingest.c), reading the newest row's id and
 * hash and linking the new one to it, so rows from every writer of the file form one chain.
 * Pages are read newest first by id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_stream.h"

#define COLS "id,ts_ns,actor,role,user,action,object,detail,outcome,client,prev_hash,hash"

/* Links e to the newest row and inserts it; the caller's transaction is IMMEDIATE (the
 * database is locked for writing), so no other writer can take the same id. */
int jst__sq_audit_append(struct jst_store *s, struct jst_audit_entry *e)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *last = NULL, *ins = NULL;
	if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", -1,
			       &last, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the audit log");
	e->id = 1;
	e->prev_hash[0] = '\0';
	int rc = sqlite3_step(last);
	if (rc == SQLITE_ROW) {
		e->id = sqlite3_column_int64(last, 0) + 1;
		const unsigned char *h = sqlite3_column_text(last, 1);
		jst__strlcpy(e->prev_hash, h ? (const char *)h : "", sizeof(e->prev_hash));
	}
	sqlite3_finalize(last);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jst__sqlite_stream_fail(s, "reading the audit log");
	jst_audit_hash(e, e->hash);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO audit_log(" COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "writing the audit log");
	sqlite3_bind_int64(ins, 1, e->id);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)e->ts_ns);
	const char *t[] = {e->actor,  e->role,    e->user,   e->action,    e->object,
			   e->detail, e->outcome, e->client, e->prev_hash, e->hash};
	for (int i = 0; i < 10; i++)
		sqlite3_bind_text(ins, 3 + i, t[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_finalize(ins);
	return rc == SQLITE_DONE ? 0 : jst__sqlite_stream_fail(s, "writing the audit log");
}

static void text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

static void row(sqlite3_stmt *st, struct jst_audit_entry *e)
{
	e->id = sqlite3_column_int64(st, 0);
	e->ts_ns = (uint64_t)sqlite3_column_int64(st, 1);
	text(st, 2, e->actor, sizeof(e->actor));
	text(st, 3, e->role, sizeof(e->role));
	text(st, 4, e->user, sizeof(e->user));
	text(st, 5, e->action, sizeof(e->action));
	text(st, 6, e->object, sizeof(e->object));
	text(st, 7, e->detail, sizeof(e->detail));
	text(st, 8, e->outcome, sizeof(e->outcome));
	text(st, 9, e->client, sizeof(e->client));
	text(st, 10, e->prev_hash, sizeof(e->prev_hash));
	text(st, 11, e->hash, sizeof(e->hash));
}

int jst__sq_audit_list(struct jst_store *s, const struct jst_audit_query *q, bool ascending,
		       int64_t after_id, int (*fn)(const struct jst_audit_entry *, void *),
		       void *ud)
{
	/* numbered parameters, each condition only when asked, so the rowid range is used */
	char sql[600] = "SELECT " COLS " FROM audit_log WHERE 1";
	size_t prefix = q->action ? strlen(q->action) : 0;
	bool is_prefix = prefix && q->action[prefix - 1] == '.';
	if (after_id)
		strcat(sql, " AND id > ?1");
	if (q->before_id)
		strcat(sql, " AND id < ?2");
	if (q->from_ns)
		strcat(sql, " AND ts_ns >= ?3");
	if (q->to_ns)
		strcat(sql, " AND ts_ns < ?4");
	if (q->actor)
		strcat(sql, " AND actor = ?5");
	if (q->action)
		strcat(sql, is_prefix ? " AND substr(action, 1, ?7) = ?6" : " AND action = ?6");
	strcat(sql, ascending ? " ORDER BY id ASC" : " ORDER BY id DESC");
	if (q->limit)
		strcat(sql, " LIMIT ?8");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading the audit log");
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int64(st, 2, q->before_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->from_ns);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)q->to_ns);
	sqlite3_bind_text(st, 5, q->actor ? q->actor : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, q->action ? q->action : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)prefix);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)q->limit);
	struct jst_audit_entry e;
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row(st, &e);
		n++;
		if (fn(&e, ud))
			break;
	}
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ?
			n :
			jst__sqlite_stream_fail(s, "reading the audit log");
	sqlite3_finalize(st);
	return r;
}
