/* The store backend interface: one const vtable per database, picked by the target's scheme in
 * store.c. Each backend keeps its connection in its own struct that starts with struct
 * jst_store (so store.c can reach ops and the error message). */
#ifndef JST_STORE_STORE_H
#define JST_STORE_STORE_H

#include "joulestream/audit.h"
#include "joulestream/store.h"
#include "joulestream/train.h"
#include "joulestream/trust.h"

struct jst_stream_ops;

struct jst_store_ops {
	const char *scheme; /* "sqlite" */
	int (*open)(struct jst_store **out, const char *target, char *err, size_t errlen);
	void (*close)(struct jst_store *s);
	/* a run's carbon and water with one data version (run_results) */
	int (*add_result)(struct jst_store *s, const char *run_id, const struct jst_run_result *r);
	/* The run id of the event log that pattern names: NULL for the newest run, else an upper-case
	 * prefix with LIKE's %, _ and \ escaped by \ (store.c). 0 with out set, -ENOENT, or
	 * -EEXIST when several runs match and none exactly. */
	int (*resolve)(struct jst_store *s, const char *pattern, char *out, size_t n);
	/* What the dialect keeps beside the log for a run rebuilt from it: its results by data
	 * version (optional: NULL). */
	void (*load_extras)(struct jst_store *s, struct jst_run *run);
	/* A host's calibration (joulestream calibrate, docs/integrity.md): stored, and the newest at
	 * or before before_ns read back (0: the newest; -ENOENT when none). Optional: NULL. */
	int (*calibration_add)(struct jst_store *s, const struct jst_calibration *c);
	int (*calibration_load)(struct jst_store *s, const char *host, uint64_t before_ns, struct jst_calibration *c);
	/* The newest entry hash of the event chain (evchain.h), hex into out[65]; "" when empty. */
	int (*chain_head)(struct jst_store *s, char out[65]);
	/* the event log, aggregates and tokens of `serve` (stream.h); NULL when not supported */
	const struct jst_stream_ops *stream;
};

struct jst_store {
	const struct jst_store_ops *ops;
	char errmsg[512];
	/* the audit row of the next ingests, written in their transaction (joulestream/audit.h) */
	jst_ingest_audit_fn ingest_audit;
	void *ingest_audit_ud;
};

extern const struct jst_store_ops jst__store_sqlite;
extern const struct jst_store_ops jst__store_postgres; /* postgres.c */

#endif
