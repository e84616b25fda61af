/* `joulestream verify` on a SQLite store: walks run_chain in order (each entry must name the
 * previous entry's hash, numbers must follow each other, hashes must match their content),
 * recomputes the record of every sealed run from the tables and compares it with what was
 * sealed, naming the column or table that differs, and lists runs the chain does not cover. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/trust.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/store.h"

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
	else
		w->rep->warnings++;
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

/* The value of line "KEY NAME ..." in parts (key "col" or "table"), or of "runs ..."; NULL. */
static const char *find_line(const char *parts, const char *key, const char *name, size_t *len)
{
	size_t kl = strlen(key), nl = name ? strlen(name) : 0;
	for (const char *p = parts; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l > kl && strncmp(p, key, kl) == 0 && p[kl] == ' ' &&
		    (!name || (l > kl + 1 + nl && strncmp(p + kl + 1, name, nl) == 0 &&
			       p[kl + 1 + nl] == ' '))) {
			*len = l;
			return p;
		}
		p += l + (e ? 1 : 0);
	}
	return NULL;
}

static void append(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *out, size_t n, const char *fmt, ...)
{
	size_t off = strlen(out);
	if (off + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + off, n - off, fmt, ap);
	va_end(ap);
}

/* Names what differs between the sealed parts and the stored record now. */
static void describe(const char *sealed, const char *now, char *out, size_t n)
{
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		const char *a = pass ? now : sealed, *b = pass ? sealed : now;
		for (const char *p = a; *p;) {
			const char *e = strchr(p, '\n');
			size_t l = e ? (size_t)(e - p) : strlen(p), bl;
			char key[8] = "", name[80] = "";
			const char *sp = memchr(p, ' ', l),
				   *sp2 = sp ? memchr(sp + 1, ' ', l - (size_t)(sp + 1 - p)) : NULL;
			if (sp && sp2 && (size_t)(sp - p) < sizeof(key) &&
			    (size_t)(sp2 - sp - 1) < sizeof(name)) {
				memcpy(key, p, (size_t)(sp - p));
				memcpy(name, sp + 1, (size_t)(sp2 - sp - 1));
			}
			bool col = strcmp(key, "col") == 0, tab = strcmp(key, "table") == 0;
			const char *q = (col || tab) ? find_line(b, key, name, &bl) : NULL;
			if ((col || tab) && !q)
				append(out, n, "%s%s %s %s", out[0] ? "; " : "",
				       col ? "column" : "table", name, pass ? "added" : "removed");
			else if (!pass && q && (bl != l || memcmp(q, p, l) != 0)) {
				if (col)
					append(out, n, "%scolumn %s edited", out[0] ? "; " : "",
					       name);
				else
					append(out, n, "%s%s: %.*s rows when sealed, %.*s now%s",
					       out[0] ? "; " : "", name,
					       (int)strcspn(sp2 + 1, " \n"), sp2 + 1,
					       (int)strcspn(q + (sp2 + 1 - p), " \n"),
					       q + (sp2 + 1 - p),
					       " (rows edited, added or deleted)");
			}
			p += l + (e ? 1 : 0);
		}
	}
	if (!out[0])
		snprintf(out, n, "the record differs from the one sealed");
}

/* Every sealed run's newest entry against its record now. */
static int check_runs(sqlite3 *db, struct walk *w)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT c.seq, c.run_id, c.parts FROM run_chain c JOIN"
			       " (SELECT run_id, max(seq) AS m FROM run_chain GROUP BY run_id) n"
			       " ON c.seq = n.m ORDER BY c.seq",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long seq = sqlite3_column_int64(st, 0);
		const char *run = col_text(st, 1);
		char *now = NULL, err[300], what[600];
		int r = jst__sqlite_record_parts(db, run, &now, err, sizeof(err));
		w->rep->runs++;
		if (r == -ENOENT) {
			say(w, true, run, seq, "run %s (sealed in entry %lld) was deleted", run,
			    seq);
		} else if (r < 0) {
			say(w, true, run, seq, "run %s cannot be read: %s", run, err);
		} else if (strcmp(now, col_text(st, 2)) != 0) {
			describe(col_text(st, 2), now, what, sizeof(what));
			say(w, true, run, seq,
			    "run %s was edited after it was sealed (entry %lld): %s", run, seq,
			    what);
		}
		free(now);
	}
	sqlite3_finalize(st);
	return 0;
}

/* Runs the chain does not cover. */
static int check_unsealed(sqlite3 *db, struct walk *w)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT id, status, start_ns <= coalesce((SELECT legacy_before_ns FROM"
		    " chain_origin), 0) FROM runs WHERE id NOT IN (SELECT run_id FROM"
		    " run_chain) ORDER BY start_ns",
		    -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = col_text(st, 0), *status = col_text(st, 1);
		if (sqlite3_column_int(st, 2))
			w->rep->legacy++;
		else if (strcmp(status, "running") == 0)
			say(w, false, id, 0,
			    "run %s is not sealed: it is still running, or its monitor "
			    "died before the end",
			    id);
		else
			say(w, true, id, 0,
			    "run %s is %s but not in the chain: it was added or rewritten "
			    "outside joulestream, or sealing it failed when it ended",
			    id, status);
	}
	sqlite3_finalize(st);
	return 0;
}

int jst_store_verify(struct jst_store *s, jst_verify_fn fn, void *ud, struct jst_chain_report *out)
{
	sqlite3 *db = jst__sqlite_handle(s);
	memset(out, 0, sizeof(*out));
	if (!db) {
		return jst_store_trust_check(s, "the record chain");
	}
	struct walk w = {fn, ud, out};
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK) { /* one consistent snapshot */
		snprintf(s->errmsg, sizeof(s->errmsg), "verify: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	int r = walk_entries(db, &w);
	if (r == 0)
		r = check_runs(db, &w);
	if (r == 0)
		r = check_unsealed(db, &w);
	if (r < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "verify: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return r;
}

int jst_store_content_hash(struct jst_store *s, const char *run_id, char out[65])
{
	sqlite3 *db = jst__sqlite_handle(s);
	sqlite3_stmt *st;
	out[0] = '\0';
	if (!db || sqlite3_prepare_v2(db,
				      "SELECT content_hash FROM run_chain WHERE run_id=? ORDER BY"
				      " seq DESC LIMIT 1",
				      -1, &st, NULL) != SQLITE_OK)
		return -ENOTSUP;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	int r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		jst__strlcpy(out, col_text(st, 0), 65);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int jst_store_record_hash(struct jst_store *s, const char *run_id, char out[65])
{
	sqlite3 *db = jst__sqlite_handle(s);
	char *parts = NULL;
	out[0] = '\0';
	if (!db) {
		return jst_store_trust_check(s, "the record chain");
	}
	int r = jst__sqlite_record_parts(db, run_id, &parts, s->errmsg, sizeof(s->errmsg));
	if (r == 0)
		jst__content_hash(parts, out);
	free(parts);
	return r;
}

int jst_store_chain_head(struct jst_store *s, char out[65])
{
	sqlite3 *db = jst__sqlite_handle(s);
	sqlite3_stmt *st;
	out[0] = '\0';
	if (!db || sqlite3_prepare_v2(db, "SELECT hash FROM run_chain ORDER BY seq DESC LIMIT 1",
				      -1, &st, NULL) != SQLITE_OK)
		return -ENOTSUP;
	if (sqlite3_step(st) == SQLITE_ROW)
		jst__strlcpy(out, col_text(st, 0), 65);
	sqlite3_finalize(st);
	return 0;
}
