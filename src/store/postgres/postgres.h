/* The PostgreSQL store (libpq): the same event log, aggregates and token tables as SQLite's
 * (sqlite_stream.h), created by postgres.c; the primitives of the engine's ingest and rebuild
 * (src/store/ingest.c) in postgres_stream.c, the query API's reads and the tokens in
 * postgres_query.c, runs' results and calibrations in postgres_results.c and postgres_trust.c,
 * the event chain in postgres_evchain.c; the handle and the libpq helpers in postgres_pq.h. A
 * run is its events here as in SQLite. */
#ifndef JST_STORE_POSTGRES_H
#define JST_STORE_POSTGRES_H

#include "core/dl_pq.h"

#include "store/evchain.h"
#include "store/store.h"
#include "store/stream.h"

#include "store/postgres/postgres_pq.h"

/* postgres_query.c */
int jst__pg_runs(struct jst_store *s, const struct jst_run_query *q,
                 int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen);
int jst__pg_run(struct jst_store *s, const char *id, struct jst_run_summary *r);
/* host calibrations (postgres_trust.c) */
int jst__pg_calibration_add(struct jst_store *s, const struct jst_calibration *c);
int jst__pg_calibration_load(struct jst_store *s, const char *host, uint64_t before_ns, struct jst_calibration *c);
/* run_results (postgres_results.c) */
int jst__pg_add_result(struct jst_store *s, const char *run_id, const struct jst_run_result *r);
void jst__pg_load_extras(struct jst_store *s, struct jst_run *run);
int jst__pg_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud);
int jst__pg_events(struct jst_store *s, const char *run, const char *type, int64_t after,
                   size_t limit, int (*fn)(int64_t seq, const char *body, size_t len, void *ud),
                   void *ud);
int jst__pg_zones(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *),
                  void *ud);
int jst__pg_windows(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *),
                    void *ud);
/* postgres_hier.c: the accounting hierarchy's primitives (ingest.h) and totals; schema 4's
 * replay (postgres_stream.c) */
struct jst_hier_claim;
struct jst_hier_rows;
int jst__pg_hier_claims(struct jst_store *s, const char *host, uint64_t win,
                        int (*fn)(const struct jst_hier_claim *, void *), void *ud);
int jst__pg_hier_put(struct jst_store *s, const char *host, uint64_t win, const struct jst_hier_rows *rows);
int jst__pg_run_wins(struct jst_store *s, const char *run, int (*fn)(uint64_t, void *), void *ud);
int jst__pg_hier_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to,
                            int (*fn)(const struct jst_aggregate *, void *), void *ud);
int jst__pg_reaggregate(struct jst_store *s);
int jst__pg_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
                       int (*fn)(const struct jst_aggregate *, void *), void *ud);
int jst__pg_phases(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *),
                   void *ud);
int jst__pg_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id);
int jst__pg_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud);
int jst__pg_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns);
/* postgres_audit.c */
/* Inside a transaction (an ingest's: the engine's audit row): e linked to the newest row, under
 * the audit lock, and appended. */
int jst__pg_audit_append(struct jst_store *s, struct jst_audit_entry *e);
int jst__pg_audit_list(struct jst_store *s, const struct jst_audit_query *q, bool ascending, int64_t after_id,
                       int (*fn)(const struct jst_audit_entry *, void *), void *ud);

/* postgres_source.c: serve --source's offsets and refused messages, inside the caller's
 * transaction; the stored offsets of (group, topic). */
int jst__pg_source_write(struct jst_store *s, const struct jst_source_batch *src);
int jst__pg_source_offsets(struct jst_store *s, const char *group, const char *topic,
                           int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud);
int jst__pg_sources(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
                    int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused);

/* postgres_evchain.c: the event chain (evchain.h). Inside an ingest's transaction, under the
 * ingest lock: the entry of a batch's new events after the newest entry; inside the schema
 * transaction: every stored event chained once, in seq order. */
int jst__pg_evchain_append(struct jst_store *s, int64_t batch, const char *origin,
			   const struct jst_evchain_build *b);
int jst__pg_evchain_adopt(struct jst_store *s);
/* The newest entry's hash of ev_chain (the store vtable's chain_head). */
int jst__pg_chain_head(struct jst_store *s, char out[65]);
int jst__pg_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			  struct jst_events_report *out);

extern const struct jst_stream_ops jst__stream_postgres;

#endif
