/* The audit log and run tombstones in SQLite (migration 6 of sqlite.c): audit_log is
 * append-only (triggers refuse UPDATE and DELETE; the hash chain catches whoever drops them),
 * ev_deleted names the runs DELETE /api/v1/runs/{id} removed from the views. */
#ifndef JST_STORE_SQLITE_AUDIT_H
#define JST_STORE_SQLITE_AUDIT_H

#include "store/store.h"
#include "store/stream.h"

#define JST_SQLITE_AUDIT_SCHEMA                                                                         \
	"CREATE TABLE audit_log(id INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, actor TEXT NOT NULL,"   \
	" role TEXT, user TEXT, action TEXT NOT NULL, object TEXT, detail TEXT, outcome TEXT NOT NULL," \
	" client TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"                                   \
	"CREATE INDEX audit_log_ts ON audit_log(ts_ns);"                                                \
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"                                 \
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"                              \
	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"                                 \
	" BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"                              \
	"CREATE TABLE ev_deleted(run TEXT PRIMARY KEY NOT NULL, deleted_ns INTEGER NOT NULL);"

/* Inside an IMMEDIATE transaction (an ingest's: the engine's audit row): e linked to the
 * newest row and appended. */
int jst__sq_audit_append(struct jst_store *s, struct jst_audit_entry *e);
int jst__sq_audit_list(struct jst_store *s, const struct jst_audit_query *q, bool ascending,
		       int64_t after_id, int (*fn)(const struct jst_audit_entry *, void *),
		       void *ud);

#endif
