/* The SQLite dialect's store handle and its base calls (sqlite_db.c), shared by every
 * sqlite_*.c file. Internal to src/store/. */
#ifndef JST_STORE_SQLITE_DB_H
#define JST_STORE_SQLITE_DB_H

#include <sqlite3.h>

#include "joulestream/record.h"
#include "store/store.h"

struct sqlite_store {
	struct jst_store base;
	sqlite3 *db;
	char cached_id[JST_RUN_ID_LEN + 1]; /* run whose rowid is cached */
	sqlite3_int64 cached_rowid;
	/* the reads of an open ingest transaction (sqlite_stream.c): prepared by its begin,
	 * finalized by its commit or rollback */
	sqlite3_stmt *get_run, *get_zone, *get_win, *deleted;
};

/* The connection of a SQLite store. */
sqlite3 *jst__sqlite_db(struct jst_store *s);
/* The connection when s is a SQLite store, NULL for any other (never a blind cast). */
sqlite3 *jst__sqlite_handle(struct jst_store *s);
/* Sets s's message from the connection's last error; -EBUSY (locked), -ENOSPC (full) or -EIO. */
int jst__sqlite_stream_fail(struct jst_store *s, const char *what);

#endif
