/* The event log of `joulestream serve` in SQLite: its schema (migration 4 of sqlite.c), the
 * primitives the engine's ingest, rebuild and run deletion run on (sqlite_stream.c; the
 * orchestration is src/store/ingest.c), and the queries and tokens (sqlite_query.c). */
#ifndef JST_STORE_SQLITE_STREAM_H
#define JST_STORE_SQLITE_STREAM_H

#include <sqlite3.h>

#include "store/store.h"
#include "store/stream.h"

#define JST_SQLITE_STREAM_SCHEMA                                                                   \
	"CREATE TABLE ev_log(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, batch INTEGER NOT NULL,"  \
	" type TEXT NOT NULL, run TEXT, ts_ns INTEGER, body TEXT NOT NULL);"                             \
	"CREATE INDEX ev_log_batch ON ev_log(batch);"                                                    \
	"CREATE INDEX ev_log_run ON ev_log(run, ts_ns);"                                                 \
	"CREATE TABLE ev_runs(run TEXT PRIMARY KEY NOT NULL, host TEXT, user TEXT, model TEXT,"          \
	" project TEXT, zone TEXT, phase TEXT, ci_g_per_kwh REAL, pue REAL, wue REAL, ewif REAL,"        \
	" interval_s REAL, has_start INTEGER, scope_host INTEGER, finished INTEGER, start_ns INTEGER,"   \
	" end_ns INTEGER, last_ns INTEGER, exit_code INTEGER, duration_s REAL, samples INTEGER,"         \
	" energy_j REAL, host_energy_j REAL, co2e_g REAL, water_l REAL, gaps INTEGER, failed INTEGER);" \
	"CREATE INDEX ev_runs_start ON ev_runs(start_ns);"                                               \
	"CREATE INDEX ev_runs_user ON ev_runs(user, start_ns);"                                          \
	"CREATE TABLE ev_run_zones(run TEXT NOT NULL, zone TEXT NOT NULL, kind TEXT, source TEXT,"      \
	" last_ts_ns INTEGER, samples INTEGER, gaps INTEGER, energy_j REAL, host_energy_j REAL,"         \
	" PRIMARY KEY(run, zone)) WITHOUT ROWID;"                                                        \
	"CREATE TABLE ev_windows(run TEXT NOT NULL, zone TEXT NOT NULL, win INTEGER NOT NULL,"          \
	" samples INTEGER, energy_j REAL, host_energy_j REAL, co2e_g REAL, water_l REAL, dt_s REAL,"     \
	" max_w REAL, p50_w REAL, p90_w REAL, p99_w REAL, sketch BLOB,"                                  \
	" PRIMARY KEY(run, win, zone)) WITHOUT ROWID;"                                                   \
	"CREATE TABLE ev_totals(dim TEXT NOT NULL, key TEXT NOT NULL, win INTEGER NOT NULL,"            \
	" samples INTEGER, energy_j REAL, co2e_g REAL, water_l REAL, PRIMARY KEY(dim, win, key))"       \
	" WITHOUT ROWID;"                                                                                \
	"CREATE TABLE api_tokens(id INTEGER PRIMARY KEY, prefix TEXT, hash BLOB NOT NULL UNIQUE,"       \
	" role TEXT NOT NULL, user TEXT, all_users INTEGER, label TEXT, created_ns INTEGER,"             \
	" revoked_ns INTEGER);"

/* Per-run reads that do not grow with the store (migration 10 of sqlite.c): a run's events of
 * one type other than sample (its metrics for the timeline, its phases) through (run, type),
 * seq being the rowid, without indexing the samples again; a run's phase totals through their
 * keys "ID/PATH" (jst__sq_phases). Both partial, so only those rows pay for them at ingest. */
#define JST_SQLITE_RUN_READS_SCHEMA                                                                \
	"CREATE INDEX IF NOT EXISTS ev_log_run_type ON ev_log(run, type) WHERE type<>'sample';"         \
	"CREATE INDEX IF NOT EXISTS ev_totals_phase ON ev_totals(key) WHERE dim='phase';"

/* The accounting hierarchy (migration 14 of sqlite.c; sqlite_hier.c, agg/hier.h): whether a
 * run is an agent's host series, the runs of a host by recency (the claims of a host's window
 * are read through it), and the rows of each (host, window): the host once, each claim by user,
 * model, project and grid zone, the unattributed rest. */
#define JST_SQLITE_HIER_SCHEMA                                                                     \
	"CREATE INDEX IF NOT EXISTS ev_runs_host ON ev_runs(host, last_ns);"                             \
	"CREATE TABLE IF NOT EXISTS ev_hier(host TEXT NOT NULL, win INTEGER NOT NULL, dim TEXT NOT NULL,"              \
	" unattr INTEGER NOT NULL, key TEXT NOT NULL, samples INTEGER, energy_j REAL, co2e_g REAL,"      \
	" water_l REAL, PRIMARY KEY(host, win, dim, unattr, key)) WITHOUT ROWID;"                        \
	"CREATE INDEX IF NOT EXISTS ev_hier_dim ON ev_hier(dim, win);"

/* sqlite_hier.c: the hierarchy's primitives (ingest.h), its totals, and migration 14's replay
 * (sqlite_stream.c) */
struct jst_hier_claim;
struct jst_hier_rows;
int jst__sq_hier_claims(struct jst_store *s, const char *host, uint64_t win,
                        int (*fn)(const struct jst_hier_claim *, void *), void *ud);
int jst__sq_hier_put(struct jst_store *s, const char *host, uint64_t win, const struct jst_hier_rows *rows);
int jst__sq_run_wins(struct jst_store *s, const char *run, int (*fn)(uint64_t, void *), void *ud);
int jst__sq_hier_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to,
                            int (*fn)(const struct jst_aggregate *, void *), void *ud);
int jst__sq_reaggregate(struct jst_store *s);
/* ev_runs.series_host added when missing, then JST_SQLITE_HIER_SCHEMA: migration 14's tables,
 * which migration 12's ingest of old runs needs already (it ingests with this code). */
int jst__sq_hier_schema(struct jst_store *s);

/* each host's newest heartbeat (migration 9 of sqlite.c) */
#define JST_SQLITE_HOSTS_SCHEMA                                                                    \
	"CREATE TABLE ev_hosts(host TEXT PRIMARY KEY NOT NULL, agent TEXT, last_ns INTEGER NOT NULL,"   \
	" interval_s REAL) WITHOUT ROWID;"

/* serve --source (migration 7 of sqlite.c, sqlite_source.c): the next offset of each partition
 * of a log source, and the messages it refused, written in the transaction of their batch. */
#define JST_SQLITE_SOURCE_SCHEMA                                                                   \
	"CREATE TABLE ev_source_offsets(grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL," \
	" next_offset INTEGER NOT NULL, updated_ns INTEGER, PRIMARY KEY(grp, topic, part)) WITHOUT ROWID;" \
	"CREATE TABLE ev_source_rejects(seq INTEGER PRIMARY KEY, grp TEXT NOT NULL, topic TEXT NOT NULL,"  \
	" part INTEGER NOT NULL, msg_offset INTEGER NOT NULL, ts_ns INTEGER, error TEXT, body TEXT,"      \
	" UNIQUE(grp, topic, part, msg_offset));"

/* sqlite_source.c: writes a batch's offsets and rejects (inside the caller's transaction). */
int jst__sq_source_write(struct jst_store *s, const struct jst_source_batch *src);
int jst__sq_source_offsets(struct jst_store *s, const char *group, const char *topic,
                           int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud);
int jst__sq_sources(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
                    int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused);

/* The connection of a SQLite store (sqlite.c). */
sqlite3 *jst__sqlite_db(struct jst_store *s);

/* Sets the store's message from the connection's error and returns a negative errno. */
int jst__sqlite_stream_fail(struct jst_store *s, const char *what);

/* sqlite_query.c */
int jst__sq_runs(struct jst_store *s, const struct jst_run_query *q,
                 int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen);
int jst__sq_run(struct jst_store *s, const char *id, struct jst_run_summary *r);
int jst__sq_zones(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *),
                  void *ud);
int jst__sq_windows(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *),
                    void *ud);
int jst__sq_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
                       int (*fn)(const struct jst_aggregate *, void *), void *ud);
int jst__sq_phases(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *),
                   void *ud);
int jst__sq_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id);
int jst__sq_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud);
int jst__sq_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns);
int jst__sq_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud);
int jst__sq_events(struct jst_store *s, const char *run, const char *type, int64_t after, size_t limit,
                   int (*fn)(int64_t seq, const char *body, size_t len, void *ud), void *ud);

#endif
