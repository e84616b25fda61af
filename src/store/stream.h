/* The event-log part of the store vtable (include/joulestream/ingest.h): a backend that serves
 * `joulestream serve` points jst_store_ops.stream at one of these; NULL means it cannot. */
#ifndef JST_STORE_STREAM_H
#define JST_STORE_STREAM_H

#include "joulestream/audit.h"
#include "joulestream/ingest.h"

struct jst_log_ops;

struct jst_stream_ops {
	/* the primitives of ingest, rebuild and run deletion, which the engine orchestrates
	 * (ingest.h, ingest.c) */
	const struct jst_log_ops *log;
	int (*durable)(struct jst_store *s);
	int (*runs)(struct jst_store *s, const struct jst_run_query *q,
	            int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen);
	int (*run)(struct jst_store *s, const char *id, struct jst_run_summary *r);
	int (*zones)(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *),
	             void *ud);
	int (*windows)(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *),
	               void *ud);
	/* by: one of jst__agg_dim_name()'s (stream.c checks it; not phase with only_user) */
	int (*aggregates)(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
	                  int (*fn)(const struct jst_aggregate *, void *), void *ud);
	/* one run's "phase" totals (keys "ID/PATH"), in the order of aggregates("phase") */
	int (*phases)(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *),
	              void *ud);
	int (*token_add)(struct jst_store *s, const struct jst_token_info *t, int64_t *id);
	int (*tokens)(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud);
	int (*token_revoke)(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns);
	/* optional (NULL: -ENOTSUP, with log->source_write): the stored offsets of a log source
	 * (serve --source, src/server/kafka_source.c) */
	int (*source_offsets)(struct jst_store *s, const char *group, const char *topic,
	                      int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud);
	int (*sources)(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
	               int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused);
	/* optional (NULL: -ENOTSUP): a run's raw events, for the dashboard */
	int (*events)(struct jst_store *s, const char *run, const char *type, int64_t after, size_t limit,
	              int (*fn)(int64_t seq, const char *body, size_t len, void *ud), void *ud);
	/* the audit log (joulestream/audit.h, sqlite_audit.c, postgres_audit.c; a row is added
	 * through log->audit_append, audit.c); NULL: -ENOTSUP */
	int (*audit_list)(struct jst_store *s, const struct jst_audit_query *q, bool ascending, int64_t after_id,
	                  int (*fn)(const struct jst_audit_entry *, void *), void *ud);
	/* optional (NULL: -ENOTSUP): each host's newest heartbeat (the silent-host flag) */
	int (*hosts)(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud);
	/* optional (NULL: -ENOTSUP): verifies the event chain (evchain.h) */
	int (*events_verify)(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			     struct jst_events_report *out);
};

extern const struct jst_stream_ops jst__stream_sqlite;

/* The row the store's ingest hook fills for a batch (audit.c): 1 with *out malloc'd (id and
 * hashes still to set, the caller frees it), 0 when no row is wanted, -ENOMEM. */
int jst__audit_ingest_row(struct jst_store *s, const struct jst_event_batch *b, const struct jst_ingest_result *res,
                          struct jst_audit_entry **out);

#endif
