/* The event chain: the hash chain over the raw event log (ev_log) that both dialects keep in
 * a table ev_chain, one entry per ingested batch (docs/integrity.md). This header is the
 * engine's part, shared by sqlite_evchain.c and postgres_evchain.c: the canonical digest of a
 * stored event, the entry being built during an ingest, the entry hash, and the walk that
 * verify runs over the entries and the log side by side. It does not read or write a database. */
#ifndef JST_STORE_EVCHAIN_H
#define JST_STORE_EVCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/ingest.h"

/* One ev_log row as stored (run is NULL for an SQL NULL); borrowed strings. */
struct jst_evrow {
	int64_t seq, batch, ts_ns;
	const char *id, *type, *run, *body;
	size_t body_len;
};

/* The first JST_EVCHAIN_DIGEST bytes of sha256("joulestream.event/1" NUL, seq, batch, body),
 * integers as 8 big-endian bytes, the body length-prefixed. The other columns (id, type, run,
 * ts_ns) repeat fields of the body: verify parses the body again and compares them. */
#define JST_EVCHAIN_DIGEST 16
void jst__evchain_digest(const struct jst_evrow *r, unsigned char out[JST_EVCHAIN_DIGEST]);

/* The events of one entry as they are chained: per event its seq minus the previous one's (the
 * first: its seq) as a LEB128 varint, its digest, 1 byte id length and the id (so that verify
 * can name a deleted event): 18 bytes and the id, in seq order. */
#define JST_EVCHAIN_MAX ((size_t)1 << 30)
struct jst_evchain_build {
	unsigned char *p;
	size_t len, cap;
	int64_t events, last_seq;
};

/* Appends r (its seq must be above the previous one's, else -EINVAL); -ENOMEM past
 * JST_EVCHAIN_MAX. */
int jst__evchain_add(struct jst_evchain_build *b, const struct jst_evrow *r);
void jst__evchain_reset(struct jst_evchain_build *b);
void jst__evchain_release(struct jst_evchain_build *b);

/* An ev_chain row. */
struct jst_evchain_entry {
	int64_t n, batch, events;
	const char
		*origin; /* "ingest", or "migration" for events stored before the chain existed */
	const unsigned char *digests;
	size_t digests_len;
	char prev_hash[65], hash[65];
};

/* hex sha256("joulestream.evchain/1\n" prev_hash "\n", n, batch, events, origin, digests). */
void jst__evchain_entry_hash(const struct jst_evchain_entry *e, char out[65]);

/* What a dialect gives the walk: the entries in n order and the log rows in seq order, one
 * at a time (1: a row, 0: the end, < 0: an error with the store's message set). What they
 * point at stays valid until the next call of the same function. */
struct jst_evchain_scan {
	int (*next_entry)(void *ud, struct jst_evchain_entry *e);
	int (*next_event)(void *ud, struct jst_evrow *r);
	void *ud;
	int64_t highest_n; /* the highest entry number ever given when the dialect knows it, else 0 */
};

/* Walks both: entry numbers, links and hashes; every chained event against its row now
 * (edited, deleted) and every row the chain does not cover (inserted). */
int jst__evchain_walk(const struct jst_evchain_scan *sc, jst_events_verify_fn fn, void *ud,
		      struct jst_events_report *rep);

#endif
