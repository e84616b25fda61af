/* The trust tables of the SQLite store (docs/integrity.md): run_flags (a run's integrity
 * flags), host_calibration and host_reference (idle power per zone and the reference workload's
 * result, per host and calibration), and run_chain (the hash chain of sealed records that the
 * releases before issue 11 built: an archive since migration 12, walked by `joulestream verify`). sqlite.c owns the connection and the migration that creates them
 * and calls these hooks; the public calls are in joulestream/trust.h. */
#ifndef JST_STORE_SQLITE_TRUST_H
#define JST_STORE_SQLITE_TRUST_H

#include <sqlite3.h>

#include "joulestream/record.h"
#include "joulestream/trust.h"

struct jst_store;

/* Migration 5 of sqlite.c: the trust tables. chain_origin keeps when chaining began: runs
 * that started before it are "legacy" for verify, not breaks (the runs table gets its
 * columns after the migrations, so this must not name any). */
#define JST_SQLITE_TRUST_SCHEMA                                                                         \
	"CREATE TABLE run_flags(run INTEGER NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL,"        \
	" zone TEXT, count INTEGER, seconds REAL, first_s REAL, value REAL, lim REAL, reason TEXT,"     \
	" PRIMARY KEY(run, idx)) WITHOUT ROWID;"                                                        \
	"CREATE TABLE host_reference(host TEXT NOT NULL, calibrated_ns INTEGER NOT NULL,"               \
	" duration_s REAL, interval_s REAL, load TEXT, threads INTEGER, load_s REAL, ok INTEGER,"       \
	" result TEXT, sensors TEXT, PRIMARY KEY(host, calibrated_ns));"                                \
	"CREATE TABLE host_calibration(host TEXT NOT NULL, calibrated_ns INTEGER NOT NULL,"             \
	" zone TEXT NOT NULL, source TEXT, uid TEXT, kind INTEGER, counted INTEGER, estimate INTEGER,"  \
	" idle_w REAL, load_w REAL, ratio REAL, samples INTEGER, UNIQUE(host, calibrated_ns, zone));"   \
	"CREATE TABLE run_chain(seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL,"           \
	" sealed_ns INTEGER, parts TEXT NOT NULL, content_hash TEXT NOT NULL, prev_hash TEXT NOT NULL," \
	" hash TEXT NOT NULL);"                                                                         \
	"CREATE INDEX run_chain_by_run ON run_chain(run_id, seq);"                                      \
	"CREATE TABLE chain_origin(legacy_before_ns INTEGER NOT NULL);"                                 \
	"INSERT INTO chain_origin VALUES(CAST(strftime('%s','now') AS INTEGER) * 1000000000);"

/* The store's SQLite handle, or NULL when it is another kind of store (sqlite.c). */
sqlite3 *jst__sqlite_handle(struct jst_store *s);

/* The flags a run recorded before issue 11 kept in run_flags (migration 12 reads them). */
void jst__sqlite_flags_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_run *run);
/* The calibration ops of the sqlite vtable (store.h). */
int jst__sqlite_calibration_add(struct jst_store *s, const struct jst_calibration *c);
int jst__sqlite_calibration_load(struct jst_store *s, const char *host, uint64_t before_ns,
                                 struct jst_calibration *out);

/* content = sha256(parts) and hash = sha256("joulestream.chain/1\n" prev "\n" content), hex. */
void jst__content_hash(const char *parts, char out[65]);
void jst__chain_hash(const char *prev, const char *content, char out[65]);

#endif
