/* `joulestream verify` on the record chain that SQLite stores kept before issue 11 (run_chain,
 * one entry per sealed run record): since migration 12 turned those records into events (the
 * event chain covers them now, evchain.c), the chain is an archive. Its entries are walked in
 * order (each must name the previous entry's hash, numbers must follow each other, hashes must
 * match their content), and its head is compared with the one the migration recorded in
 * legacy_chain, so an archive edited or cut since shows. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "core/util.h"
#include "joulestream/trust.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/store.h"

void jst__chain_hash(const char *prev, const char *content, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[32];
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)"joulestream.chain/1\n", 20);
	crypto_hash_sha256_update(&h, (const unsigned char *)prev, strlen(prev));
	crypto_hash_sha256_update(&h, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)content, strlen(content));
	crypto_hash_sha256_final(&h, d);
	jst__hex(d, 32, out);
}

void jst__content_hash(const char *parts, char out[65])
{
	unsigned char d[32];
	crypto_hash_sha256((unsigned char *)d, (const unsigned char *)parts, strlen(parts));
	jst__hex(d, 32, out);
}

struct walk {
	jst_verify_fn fn;
	void *ud;
	struct jst_chain_report *rep;
};

static void say(struct walk *w, bool problem, const char *run, long long seq, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void say(struct walk *w, bool problem, const char *run, long long seq, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (problem)
		w->rep->problems++;
	if (w->fn)
		w->fn(w->ud, problem, run ? run : "", seq, msg);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* The entries in order: numbering, links and hashes. */
static int walk_entries(sqlite3 *db, struct walk *w)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT seq,run_id,parts,content_hash,prev_hash,hash FROM run_chain"
			       " ORDER BY seq",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	char expect[65], h[65];
	memset(expect, '0', 64);
	expect[64] = '\0';
	long long last = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *run = col_text(st, 1), *prev = col_text(st, 4), *hash = col_text(st, 5);
		w->rep->entries++;
		if (seq != last + 1)
			say(w, true, "", seq,
			    "chain entries %lld to %lld are missing: deleted from the chain",
			    last + 1, seq - 1);
		else if (strcmp(prev, expect) != 0)
			say(w, true, run, seq,
			    "entry %lld does not link to entry %lld (previous hash differs):"
			    " an entry was edited or replaced",
			    seq, last);
		jst__content_hash(col_text(st, 2), h);
		if (strcmp(h, col_text(st, 3)) != 0)
			say(w, true, run, seq,
			    "entry %lld: the sealed record description was edited", seq);
		jst__chain_hash(prev, col_text(st, 3), h);
		if (strcmp(h, hash) != 0)
			say(w, true, run, seq, "entry %lld: its hash does not match its content",
			    seq);
		jst__strlcpy(expect, hash, sizeof(expect));
		last = seq;
	}
	sqlite3_finalize(st);
	jst__strlcpy(w->rep->head, last ? expect : "", sizeof(w->rep->head));
	/* AUTOINCREMENT remembers the highest number ever given: entries cut from the end show */
	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name='run_chain'", -1,
			       &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > last)
			say(w, true, "", last + 1,
			    "chain entries %lld to %lld are missing: the newest "
			    "entries were deleted",
			    last + 1, (long long)sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
	return 0;
}

/* The head, size and time the migration recorded (none: a store never migrated, or created by
 * this release); what it says against the archive walked. */
static int check_recorded(sqlite3 *db, struct walk *w)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT head, entries, runs, migrated_ns FROM legacy_chain ORDER BY rowid DESC"
	                           " LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return 0; /* a table this store does not have yet */
	if (sqlite3_step(st) == SQLITE_ROW) {
		long long entries = sqlite3_column_int64(st, 1);
		jst__strlcpy(w->rep->recorded, col_text(st, 0), sizeof(w->rep->recorded));
		w->rep->migrated = (size_t)sqlite3_column_int64(st, 2);
		w->rep->migrated_ns = (uint64_t)sqlite3_column_int64(st, 3);
		if (strcmp(w->rep->recorded, w->rep->head) != 0)
			say(w, true, "", 0, "the record chain's head is %s, the upgrade recorded %s (%lld entries):"
			    " the archived chain was changed since", w->rep->head[0] ? w->rep->head : "(none)",
			    w->rep->recorded[0] ? w->rep->recorded : "(none)", entries);
	}
	sqlite3_finalize(st);
	return 0;
}

int jst_store_verify(struct jst_store *s, jst_verify_fn fn, void *ud, struct jst_chain_report *out)
{
	sqlite3 *db = jst__sqlite_handle(s);
	memset(out, 0, sizeof(*out));
	if (!db) {
		snprintf(s->errmsg, sizeof(s->errmsg), "a %s store never kept a record chain: its runs are events,"
		         " checked by the event chain", s->ops->scheme);
		return -ENOTSUP;
	}
	struct walk w = {fn, ud, out};
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) { /* one consistent snapshot */
		snprintf(s->errmsg, sizeof(s->errmsg), "verify: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	int r = walk_entries(db, &w);
	if (r == 0)
		r = check_recorded(db, &w);
	if (r < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "verify: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}
