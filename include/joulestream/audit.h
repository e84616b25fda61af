/* The audit log (docs/audit.md): who did what to a store — ingest batches, run deletions,
 * reprocessing, aggregate rebuilds, token changes, reads of the log itself — and denied attempts.
 * Rows are append-only and hash-chained (each row's hash covers the previous one), in the same
 * table and columns in SQLite and PostgreSQL. The actor names a token by its id, role and user,
 * never its secret or hash, or a local Unix user ("local:NAME") for commands run on the store. */
#ifndef JOULESTREAM_AUDIT_H
#define JOULESTREAM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"

struct jst_store;

#define JST_AUDIT_DETAIL_MAX 2048

struct jst_audit_entry {
	int64_t id;       /* assigned by jst_store_audit_add: 1, 2, 3 … */
	uint64_t ts_ns;   /* UTC; 0 at add: now */
	char actor[96];   /* "token:12", "local:ann", "anonymous" (no or unknown token) */
	char role[8];     /* the token's role, "" for local and anonymous */
	char user[64];    /* the token's user, or the local user */
	char action[32];  /* "events.ingest", "run.delete", "run.reprocess", "token.create", … */
	char object[256]; /* run id, "token:ID", batch summary */
	char detail[JST_AUDIT_DETAIL_MAX]; /* a JSON object ("{}" when empty at add) */
	char outcome[8];                   /* "ok", "denied", "error" */
	char client[64];                   /* the HTTP client's address, "" for local actions */
	char prev_hash[65];                /* hex SHA-256 of the previous row ("" for the first) */
	char hash[65];                     /* hex SHA-256 of this row and prev_hash */
};

struct jst_event_batch;
struct jst_ingest_result;

/* Fills e (actor, action, object, detail, outcome, client) for an ingested batch; false: no row. */
typedef bool (*jst_ingest_audit_fn)(void *ud, const struct jst_event_batch *b,
				    const struct jst_ingest_result *res, struct jst_audit_entry *e);

/* Until set again (fn NULL: never), each successful jst_store_ingest/ingest_from on s appends
 * the row fn fills in the batch's own transaction: the batch and its audit row commit together
 * (one fsync, no window between them). `serve` sets it around each HTTP batch. */
JST_API void jst_store_set_ingest_audit(struct jst_store *s, jst_ingest_audit_fn fn, void *ud);

/* Appends e (id, ts_ns when 0, prev_hash and hash are filled in) in a transaction of its own,
 * serialised with every other writer of the store. 0 or a negative errno (store message set;
 * -ENOTSUP when the store keeps no audit log). */
JST_API int jst_store_audit_add(struct jst_store *s, struct jst_audit_entry *e);

struct jst_audit_query {
	uint64_t from_ns, to_ns; /* rows with from <= ts_ns < to; 0: open */
	const char *actor,
		*action;   /* exact match, NULL: any; an action ending in '.' matches its prefix */
	int64_t before_id; /* newest first from below this id (a page's cursor); 0: the newest */
	size_t limit;      /* 1..1000 */
};

/* Rows newest first (id descending); fn's non-zero return stops. Returns the number of rows
 * given, or a negative errno. */
JST_API int jst_store_audit_list(struct jst_store *s, const struct jst_audit_query *q,
				 int (*fn)(const struct jst_audit_entry *e, void *ud), void *ud);

/* Every row in id order from after_id (0: all), for verifying the chain. */
JST_API int jst_store_audit_scan(struct jst_store *s, int64_t after_id,
				 int (*fn)(const struct jst_audit_entry *e, void *ud), void *ud);

struct jst_audit_report {
	size_t rows;      /* rows read */
	size_t problems;  /* rows whose hash or link does not match: edited, deleted or inserted */
	size_t deletions; /* run.delete rows with outcome ok: recorded deletions, not tampering */
	char head[65];    /* the newest row's hash: publish it to anchor the log */
};

/* Walks the whole log and recomputes every hash; fn (may be NULL) gets each problem in words
 * with its row id. 0 (see out->problems) or a negative errno. */
JST_API int jst_store_audit_verify(struct jst_store *s,
				   void (*fn)(void *ud, int64_t id, const char *what), void *ud,
				   struct jst_audit_report *out);

/* The row's hash as it should be: sha256 over "joulestream.audit/1", prev_hash and every field
 * (length-prefixed), hex into out[65]. Pure. */
JST_API void jst_audit_hash(const struct jst_audit_entry *e, char out[65]);

/* Fills actor ("local:NAME"), user and empty role/client for a command run on this machine by
 * the effective user. */
JST_API void jst_audit_local(struct jst_audit_entry *e, const char *action, const char *object,
			     const char *outcome);

/* Parses an audit page cursor ("a" followed by a row id); 0 or -EINVAL. Pure. */
JST_API int jst_audit_cursor_parse(const char *p, size_t n, int64_t *before_id);

#endif
