/* The SQLite tables of a run's training record (phases, epochs, step ranges, metrics, tags,
 * prediction), written and read for sqlite.c, which owns the connection and the migrations
 * that create them. Every function reports a failure in err and returns a negative errno. */
#ifndef JST_STORE_SQLITE_TRAIN_H
#define JST_STORE_SQLITE_TRAIN_H

#include <sqlite3.h>

#include "joulestream/record.h"
#include "joulestream/train.h"

/* Writes run->train (inside the caller's transaction). */
int jst__sqlite_train_save(sqlite3 *db, sqlite3_int64 rowid, const struct jst_run *run, char *err,
                           size_t errlen);

/* Appends metric rows (one per value) in one transaction. */
int jst__sqlite_metrics_add(sqlite3 *db, sqlite3_int64 rowid, const struct jst_metric *v, size_t n,
                            const char (*names)[JST_MARK_NAME_MAX], size_t nnames, char *err,
                            size_t errlen);

/* Fills t from the tables; -ENOENT when the run has no training record. */
int jst__sqlite_train_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err,
                           size_t errlen);

#endif
