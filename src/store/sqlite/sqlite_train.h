/* The SQLite tables of a run's training record (phases, epochs, step ranges, metrics, tags,
 * prediction) as releases before issue 11 wrote them, read for migration 12 (sqlite_upgrade.c). Every function reports a failure in err and returns a negative errno. */
#ifndef JST_STORE_SQLITE_TRAIN_H
#define JST_STORE_SQLITE_TRAIN_H

#include <sqlite3.h>

#include "joulestream/record.h"
#include "joulestream/train.h"

/* Fills t from the tables; -ENOENT when the run has no training record. */
int jst__sqlite_train_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err,
                           size_t errlen);

#endif
