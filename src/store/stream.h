/* The event-log part of the store vtable (include/joulestream/ingest.h): a backend that serves
 * `joulestream serve` points jst_store_ops.stream at one of these; NULL means it cannot. */
#ifndef JST_STORE_STREAM_H
#define JST_STORE_STREAM_H

#include "joulestream/ingest.h"

struct jst_stream_ops {
	int (*durable)(struct jst_store *s);
	int (*ingest)(struct jst_store *s, const struct jst_event_batch *b, struct jst_ingest_result *res);
	int (*rebuild)(struct jst_store *s, uint64_t *events);
	int (*runs)(struct jst_store *s, const struct jst_run_query *q,
	            int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen);
	int (*run)(struct jst_store *s, const char *id, struct jst_run_summary *r);
	int (*zones)(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *),
	             void *ud);
	int (*windows)(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *),
	               void *ud);
	int (*aggregates)(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
	                  int (*fn)(const struct jst_aggregate *, void *), void *ud);
	int (*token_add)(struct jst_store *s, const struct jst_token_info *t, int64_t *id);
	int (*tokens)(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud);
	int (*token_revoke)(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns);
	/* optional (NULL: -ENOTSUP): a run's raw events, for the dashboard */
	int (*events)(struct jst_store *s, const char *run, const char *type, int64_t after, size_t limit,
	              int (*fn)(int64_t seq, const char *body, size_t len, void *ud), void *ud);
};

extern const struct jst_stream_ops jst__stream_sqlite;

#endif
