/* The run_results table: a run's carbon and water as computed with each data version (the
 * run-time figure and every reprocessing), written and read for sqlite.c, which owns the
 * connection and the migration that creates the table. */
#ifndef JST_STORE_SQLITE_RESULTS_H
#define JST_STORE_SQLITE_RESULTS_H

#include <sqlite3.h>

#include "joulestream/record.h"

/* Inserts or replaces the row of (run, data version, zone). */
int jst__sqlite_result_put(sqlite3 *db, sqlite3_int64 rowid, const struct jst_run_result *r,
                           char *err, size_t errlen);

/* Fills run->results, newest first, at most JST_RESULTS_MAX. */
void jst__sqlite_results_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_run *run);

#endif
