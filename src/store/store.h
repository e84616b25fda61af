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
	int (*run_begin)(struct jst_store *s, const struct jst_run *run);
	int (*add_samples)(struct jst_store *s, const char *run_id, const struct jst_sample *v, size_t n);
	int (*run_end)(struct jst_store *s, const struct jst_run *run);
	int (*load)(struct jst_store *s, const char *id, struct jst_run *run);
	int (*list)(struct jst_store *s, size_t limit, int (*fn)(const struct jst_run *, void *), void *ud);
	int (*samples)(struct jst_store *s, const char *run_id,
	               int (*fn)(const struct jst_sample *, void *), void *ud);
	int (*add_metrics)(struct jst_store *s, const char *run_id, const struct jst_metric *v, size_t n,
	                   const char (*names)[JST_MARK_NAME_MAX], size_t nnames);
	int (*load_train)(struct jst_store *s, const struct jst_run *run, struct jst_train *t);
	/* a run's carbon and water with one data version (run_results) */
	int (*add_result)(struct jst_store *s, const char *run_id, const struct jst_run_result *r);
	/* The run id of the event log that pattern names: NULL for the newest run, else an upper-case
	 * prefix with LIKE's %, _ and \ escaped by \ (store.c). 0 with out set, -ENOENT, or
	 * -EEXIST when several runs match and none exactly. */
	int (*resolve)(struct jst_store *s, const char *pattern, char *out, size_t n);
	/* What the dialect keeps beside the log for a run rebuilt from it: results by data
	 * version, the record hash, the idle floor (optional: NULL). */
	void (*load_extras)(struct jst_store *s, struct jst_run *run);
	/* A host's calibration (joulestream calibrate, docs/integrity.md): stored, and the newest at
	 * or before before_ns read back (0: the newest; -ENOENT when none). Optional: NULL. */
	int (*calibration_add)(struct jst_store *s, const struct jst_calibration *c);
	int (*calibration_load)(struct jst_store *s, const char *host, uint64_t before_ns, struct jst_calibration *c);
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
