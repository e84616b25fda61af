/* Migration 12 of the SQLite store (sqlite_upgrade.c): the runs that a release before issue 11
 * recorded in the legacy tables (runs, run_zones, run_notes, run_flags, samples, the training
 * tables) become schema-v1 events in ev_log, ingested as the store sink ingests a live run's,
 * and the legacy rows are emptied. Internal to src/store/sqlite/. */
#ifndef JST_STORE_SQLITE_UPGRADE_H
#define JST_STORE_SQLITE_UPGRADE_H

#include "store/sqlite/sqlite_db.h"

/* The tables migration 12 adds: legacy_chain keeps the head of the record chain (run_chain)
 * that the earlier release built over its record rows, the number of runs converted and when;
 * `verify` reports it, and run_chain itself stays as it was, an archive that still verifies.
 * The runs table stays as the key of run_results (reprocessed figures by data version): its
 * columns other than id and status are emptied with the rows of the other legacy tables.
 * A run's events are read in log order (seq, the rowid) page by page, now for every run: an
 * index on run alone holds (run, rowid), so each page is a range of it, where (run, ts_ns)
 * made every page sort all of the run's rows (a view of a 1 M-event run took minutes). */
#define JST_SQLITE_UPGRADE_SCHEMA                                                                   \
	"CREATE TABLE IF NOT EXISTS legacy_chain(head TEXT NOT NULL, entries INTEGER NOT NULL, runs INTEGER NOT NULL," \
	" migrated_ns INTEGER NOT NULL);"                                                           \
	"DROP INDEX IF EXISTS ev_log_run; CREATE INDEX ev_log_run ON ev_log(run);"

/* Converts every legacy run of s (a store whose schema is at migration 11) into events through
 * jst_store_ingest(), checks that each run's view has the figures of its record, then records
 * the old chain's head and empties the legacy rows. Not inside a transaction: ingest commits
 * batch by batch, so the caller runs it on a copy of the store. 0, or a negative errno with
 * s->errmsg naming the run and the reason. */
int jst__sq_upgrade_runs(struct sqlite_store *s);

#endif
