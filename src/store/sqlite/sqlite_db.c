/* The SQLite dialect's base: the connection behind a store handle, and the mapping of its last
 * error. A leaf of the dialect: it calls no other sqlite_*.c file, so they all depend on it
 * and on nothing in a circle. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite/sqlite_db.h"

sqlite3 *jst__sqlite_db(struct jst_store *base)
{
	return ((struct sqlite_store *)base)->db;
}

sqlite3 *jst__sqlite_handle(struct jst_store *s)
{
	return s && strcmp(s->ops->scheme, "sqlite") == 0 ? jst__sqlite_db(s) : NULL;
}

int jst__sqlite_stream_fail(struct jst_store *s, const char *what)
{
	sqlite3 *db = jst__sqlite_db(s);
	int code = sqlite3_errcode(db);
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", what, sqlite3_errmsg(db));
	return code == SQLITE_BUSY || code == SQLITE_LOCKED ? -EBUSY : code == SQLITE_FULL ? -ENOSPC : -EIO;
}
