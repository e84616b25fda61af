/* The event chain in SQLite (evchain.h, docs/integrity.md): the table ev_chain (migration 10 of
 * sqlite.c, which also chains the events an older store already holds), the entry an ingest
 * appends in its own transaction, and verify's two cursors over ev_chain and ev_log. */
#ifndef JST_STORE_SQLITE_EVCHAIN_H
#define JST_STORE_SQLITE_EVCHAIN_H

#include "store/evchain.h"
#include "store/store.h"

/* Entries are append-only (triggers; the chain catches whoever drops them); AUTOINCREMENT keeps
 * the highest entry number ever given, so entries cut from the end show. */
#define JST_SQLITE_EVCHAIN_SCHEMA                                                                    \
	"CREATE TABLE ev_chain(n INTEGER PRIMARY KEY AUTOINCREMENT, batch INTEGER NOT NULL,"         \
	" events INTEGER NOT NULL, origin TEXT NOT NULL, chained_ns INTEGER, digests BLOB NOT NULL," \
	" prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"                                             \
	"CREATE TRIGGER ev_chain_no_update BEFORE UPDATE ON ev_chain"                                \
	" BEGIN SELECT RAISE(ABORT, 'the event chain is append-only'); END;"                         \
	"CREATE TRIGGER ev_chain_no_delete BEFORE DELETE ON ev_chain"                                \
	" BEGIN SELECT RAISE(ABORT, 'the event chain is append-only'); END;"

/* Inside the ingest's transaction: one entry for the batch's new events (none: no entry). */
int jst__sq_evchain_append(struct jst_store *s, int64_t batch, const char *origin,
			   const struct jst_evchain_build *b);
/* Inside migration 10's transaction: every event already in ev_log chained in seq order, one
 * entry per batch, origin "migration". */
int jst__sq_evchain_adopt(struct jst_store *s);
int jst__sq_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			  struct jst_events_report *out);

/* The newest entry's hash of ev_chain (the store vtable's chain_head). */
int jst__sq_chain_head(struct jst_store *s, char out[65]);

#endif
