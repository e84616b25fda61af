/* What a dialect gives the engine's ingest (ingest.c): a short table of primitives over its
 * tables, the way curl's vtls backends fill a struct of functions. The engine owns the
 * orchestration, the same for every database: one transaction per batch, the new events
 * (deduplicated by id), tombstoned runs skipped, src/agg/ fed, the aggregate rows, the audit
 * row and the event chain's entry written, commit or roll back; the rebuild and the run
 * deletion replay the log through the same code. A primitive holds SQL and nothing else. */
#ifndef JST_STORE_INGEST_H
#define JST_STORE_INGEST_H

#include "agg/agg.h"
#include "agg/hier.h"
#include "store/evchain.h"
#include "store/store.h"

/* Every call sets the store's message and returns a negative errno on failure (the engine
 * rolls back). Calls other than begin and rollback run inside the transaction. */
struct jst_log_ops {
	/* Opens the write transaction, exclusive of every other writer of the store (the
	 * aggregates are read, changed and written back); on failure nothing is left open. */
	int (*begin)(struct jst_store *s);
	int (*commit)(struct jst_store *s);
	/* Ends the transaction, if any, without its writes; keeps the store's message. */
	void (*rollback)(struct jst_store *s);
	/* Stores the batch's events in ev_log under one new batch number (*batch), an id once:
	 * seq[i] is the seq event i was stored with, 0 when it was a duplicate (stored before, or
	 * earlier in the batch). The whole batch in one call (PostgreSQL COPYs it). */
	int (*insert)(struct jst_store *s, const struct jst_event_batch *b, int64_t *batch, int64_t *seq);
	/* 1 when run (not "") has a tombstone in ev_deleted, 0 when not. */
	int (*deleted)(struct jst_store *s, const char *run);
	/* The aggregator's loaders (agg.h), ud being the store: 1 found, 0 not, < 0 error. */
	int (*load_run)(void *s, const char *run, struct jst_agg_run *out);
	int (*load_zone)(void *s, const char *run, const char *zone, struct jst_agg_zone *out);
	int (*load_window)(void *s, const char *run, const char *zone, uint64_t win, struct jst_agg_window *out);
	/* optional (NULL: none): the run's stored events of type (NULL: every type) of batches up
	 * to max_batch, dated from from_ns on, in seq order, each body to fn until fn returns
	 * non-zero (a negative value is returned, a positive one stops with 0) (agg.h) */
	int (*load_events)(void *s, const char *run, const char *type, int64_t max_batch, uint64_t from_ns,
	                   int (*fn)(int64_t seq, const char *body, size_t len, void *arg), void *arg);
	/* optional (NULL: none): the newest last_ts_ns of the run's stored zones (0: none) */
	int (*load_last_sample)(void *s, const char *run, uint64_t *ts_ns);
	/* Each writes every row of one kind of a: runs, zones and windows replace theirs, totals
	 * add to theirs, a host's heartbeat replaces an older one only. */
	int (*put_runs)(struct jst_store *s, const struct jst_agg *a);
	int (*put_zones)(struct jst_store *s, const struct jst_agg *a);
	int (*put_windows)(struct jst_store *s, const struct jst_agg *a);
	int (*put_totals)(struct jst_store *s, const struct jst_agg *a);
	/* Deletes the stored "phase" totals of run (keys "RUN/…"), before put_totals writes the
	 * ones its record gave (jst__agg_settle); optional only with load_events NULL. */
	int (*drop_phases)(struct jst_store *s, const char *run);
	int (*put_hosts)(struct jst_store *s, const struct jst_agg *a);
	/* Appends the ev_chain entry of b (b->events > 0) after the newest entry. */
	int (*chain_append)(struct jst_store *s, int64_t batch, const char *origin,
	                    const struct jst_evchain_build *b);
	/* Appends e to audit_log after the newest row (sets e's id, prev_hash and hash). */
	int (*audit_append)(struct jst_store *s, struct jst_audit_entry *e);
	/* Optional (NULL: no serve --source): a log source's offsets and refused messages. */
	int (*source_write)(struct jst_store *s, const struct jst_source_batch *src);
	/* The rebuild: every aggregate row deleted; each event of ev_log whose run has no
	 * tombstone given to fn in batch order (and seq order within one), until fn fails. */
	int (*clear)(struct jst_store *s);
	int (*replay)(struct jst_store *s, int (*fn)(void *ud, int64_t batch, const char *body, size_t len),
	              void *ud);
	/* The run deletion: 1 when ev_runs has run, 0 when not; its tombstone written. */
	int (*run_exists)(struct jst_store *s, const char *run);
	int (*tombstone)(struct jst_store *s, const char *run, uint64_t now_ns);
	/* Optional (NULL: no host hierarchy; ingest_hier.c): hier_claims gives fn each series'
	 * counted figures in (host, win) (agg/hier.h), from the run windows written so far in the
	 * transaction; hier_put replaces the rows of (host, win) with rows (none: deleted);
	 * run_wins gives fn each window the run has rows in. */
	int (*hier_claims)(struct jst_store *s, const char *host, uint64_t win,
	                   int (*fn)(const struct jst_hier_claim *c, void *ud), void *ud);
	int (*hier_put)(struct jst_store *s, const char *host, uint64_t win, const struct jst_hier_rows *rows);
	int (*run_wins)(struct jst_store *s, const char *run, int (*fn)(uint64_t win, void *ud), void *ud);
};

/* ingest_hier.c: the (host, window)s a batch touched, whose hierarchy rows are computed again
 * once the batch's aggregate rows are written (a run_start names a run whose every window may
 * change owner: user, scope or series). */
struct jst__hier_batch {
	struct jst__hier_key *keys;
	size_t n, cap;
	char (*runs)[JST_EVENT_ID_MAX + 1];
	size_t nruns, capruns;
};
/* Notes a run_start's run (other events: nothing). 0 or -ENOMEM. */
int jst__hier_note(struct jst__hier_batch *b, const struct jst_event *ev);
/* After the rows of a were written: the hierarchy rows of every (host, window) of a's windows
 * and of the noted runs' windows, written through o; b is emptied. No-op without o->hier_put. */
int jst__hier_write(struct jst_store *s, const struct jst_log_ops *o, const struct jst_agg *a,
                    struct jst__hier_batch *b);
void jst__hier_batch_release(struct jst__hier_batch *b);

/* ingest.c: the stream calls built on a dialect's primitives (stream.c forwards to them). */
int jst__ingest(struct jst_store *s, const struct jst_log_ops *o, const struct jst_event_batch *b,
                const struct jst_source_batch *src, struct jst_ingest_result *res);
int jst__ingest_rebuild(struct jst_store *s, const struct jst_log_ops *o, uint64_t *events);
/* The rebuild inside a transaction the caller opened (and the dialect prepared for ingest): a
 * schema migration that must recompute the aggregates. */
int jst__ingest_reaggregate(struct jst_store *s, const struct jst_log_ops *o, uint64_t *events);
int jst__ingest_run_delete(struct jst_store *s, const struct jst_log_ops *o, const char *run, uint64_t now_ns,
                           uint64_t *events);

#endif
