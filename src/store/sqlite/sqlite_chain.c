/* The record chain of the SQLite store: when a run ends, its stored record (the runs row, every
 * table that holds its measurements and its events in the log) is hashed into a content hash, and an entry is
 * appended to run_chain with that hash and the previous entry's, so that editing or deleting
 * a sealed run, or an entry, shows in `joulestream verify` (chain_verify.c). Values are hashed
 * by column name, type and exact bits (doubles as their IEEE bytes), rows in a fixed order;
 * NULL columns are skipped, so a column added to a table later leaves old records intact. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "core/util.h"
#include "store/sqlite/sqlite_trust.h"

/* Tables that hold a run's measurements, keyed by its rowid in column `run`. Results
 * (run_results) are not part of the record: reprocessing adds them by design. */
static const char *const record_tables[] = {
	"run_zones",       "run_notes",  "run_flags", "samples",     "run_training", "run_phases",
	"run_phase_zones", "run_epochs", "run_steps", "run_metrics", "run_tags",
};

#define PARTS_MAX (64u << 10)

struct parts {
	char *p;
	size_t n, cap;
	int err;
};

static void put(struct parts *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct parts *b, const char *fmt, ...)
{
	va_list ap;
	if (b->err)
		return;
	va_start(ap, fmt);
	int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= b->cap - b->n) {
		b->err = -E2BIG;
		return;
	}
	b->n += (size_t)w;
}

static void be64(crypto_hash_sha256_state *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	crypto_hash_sha256_update(h, b, sizeof(b));
}

/* One column value: name, type, exact bytes. */
static void hash_value(crypto_hash_sha256_state *h, sqlite3_stmt *st, int i)
{
	const char *name = sqlite3_column_name(st, i);
	int t = sqlite3_column_type(st, i);
	unsigned char tb = (unsigned char)t;
	crypto_hash_sha256_update(h, (const unsigned char *)name, strlen(name) + 1);
	crypto_hash_sha256_update(h, &tb, 1);
	if (t == SQLITE_INTEGER) {
		be64(h, (uint64_t)sqlite3_column_int64(st, i));
	} else if (t == SQLITE_FLOAT) {
		double d = sqlite3_column_double(st, i);
		uint64_t bits;
		memcpy(&bits, &d, sizeof(bits));
		be64(h, bits);
	} else {
		const unsigned char *v = t == SQLITE_TEXT ?
						 sqlite3_column_text(st, i) :
						 (const unsigned char *)sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);
		be64(h, (uint64_t)n);
		if (v && n > 0)
			crypto_hash_sha256_update(h, v, (unsigned long long)n);
	}
}

/* The runs row: its whole hash and one short hash per column, so verify can name the column. */
static int runs_row(sqlite3 *db, const char *run_id, sqlite3_int64 *rowid, struct parts *b)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT rowid AS jst_rowid, * FROM runs WHERE id=?", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -ENOENT;
	}
	*rowid = sqlite3_column_int64(st, 0);
	crypto_hash_sha256_state all;
	crypto_hash_sha256_init(&all);
	int ncols = 0;
	for (int i = 1; i < sqlite3_column_count(st); i++) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			continue;
		crypto_hash_sha256_state one;
		unsigned char d[32];
		char h[65];
		crypto_hash_sha256_init(&one);
		hash_value(&one, st, i);
		crypto_hash_sha256_final(&one, d);
		jst__hex(d, 4, h);
		hash_value(&all, st, i);
		ncols++;
		put(b, "col %s %s\n", sqlite3_column_name(st, i), h);
	}
	sqlite3_finalize(st);
	unsigned char d[32];
	char h[65];
	crypto_hash_sha256_final(&all, d);
	jst__hex(d, 32, h);
	put(b, "runs %d %s\n", ncols, h);
	return 0;
}

/* Hashes the rows st yields (NULL columns skipped) into "table NAME ROWS HASH"; finalizes st.
 * With skip_empty, no part at all when there is no row. */
static int rows_part(sqlite3_stmt *st, const char *name, bool skip_empty, struct parts *b)
{
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	unsigned long rows = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++)
			if (sqlite3_column_type(st, i) != SQLITE_NULL)
				hash_value(&h, st, i);
		crypto_hash_sha256_update(&h, (const unsigned char *)"\x1e", 1);
		rows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	unsigned char d[32];
	char hx[65];
	crypto_hash_sha256_final(&h, d);
	jst__hex(d, 32, hx);
	if (rows || !skip_empty)
		put(b, "table %s %lu %s\n", name, rows, hx);
	return 0;
}

/* Every row of table whose run is rowid, in the order of all its columns but `run`. */
static int table_part(sqlite3 *db, const char *table, sqlite3_int64 rowid, struct parts *b)
{
	char sql[4608];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 0", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0; /* a table this database does not have: nothing of the run in it */
	char order[2048] = "";
	size_t off = 0;
	for (int i = 0; i < sqlite3_column_count(st); i++) {
		const char *c = sqlite3_column_name(st, i);
		if (strcmp(c, "run") == 0)
			continue;
		int w = snprintf(order + off, sizeof(order) - off, "%s\"%s\"", off ? "," : "", c);
		if (w < 0 || (size_t)w >= sizeof(order) - off) {
			sqlite3_finalize(st);
			return -E2BIG;
		}
		off += (size_t)w;
	}
	sqlite3_finalize(st);
	int w = snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE run=? ORDER BY %s", order,
			 table, order);
	if (w < 0 || (size_t)w >= sizeof(sql))
		return -E2BIG;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, rowid);
	return rows_part(st, table, false, b);
}

/* The run's events in the log (ids, types, times and bodies, in log order): the measurements
 * themselves, so an edited, inserted or deleted sample shows. "table events N HASH". */
static int events_part(sqlite3 *db, const char *run_id, struct parts *b)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT id,type,ts_ns,body FROM ev_log WHERE run=? ORDER BY seq", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0; /* a database without the log */
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	/* records sealed before the log held runs have no such part */
	return rows_part(st, "events", true, b);
}

int jst__sqlite_record_parts(sqlite3 *db, const char *run_id, char **out, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium could not be initialised");
		return -EIO;
	}
	struct parts b = {malloc(PARTS_MAX), 0, PARTS_MAX, 0};
	if (!b.p)
		return -ENOMEM;
	sqlite3_int64 rowid = 0;
	put(&b, "joulestream.record/1\nrun %s\n", run_id);
	int r = runs_row(db, run_id, &rowid, &b);
	for (size_t i = 0; r == 0 && i < JST_ARRAY_LEN(record_tables); i++)
		r = table_part(db, record_tables[i], rowid, &b);
	if (r == 0)
		r = events_part(db, run_id, &b);
	if (r == 0)
		r = b.err;
	if (r < 0) {
		if (r == -ENOENT)
			snprintf(err, errlen, "no run %s", run_id);
		else
			snprintf(err, errlen, "hashing run %s: %s", run_id,
				 r == -E2BIG ? "record description too long" : sqlite3_errmsg(db));
		free(b.p);
		return r;
	}
	*out = b.p;
	return 0;
}

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

static int last_hash(sqlite3 *db, char out[65])
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT hash FROM run_chain ORDER BY seq DESC LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	memset(out, '0', 64);
	out[64] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		jst__strlcpy(out, (const char *)sqlite3_column_text(st, 0), 65);
	sqlite3_finalize(st);
	return 0;
}

int jst__sqlite_seal(sqlite3 *db, const char *run_id, char *err, size_t errlen)
{
	char *parts = NULL, prev[65], content[65], hash[65];
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sealing run %s: %s", run_id, sqlite3_errmsg(db));
		return -1;
	}
	int r = jst__sqlite_record_parts(db, run_id, &parts, err, errlen);
	if (r == 0 && last_hash(db, prev) < 0)
		r = -EIO;
	sqlite3_stmt *st = NULL;
	if (r == 0) {
		jst__content_hash(parts, content);
		jst__chain_hash(prev, content, hash);
		if (sqlite3_prepare_v2(
			    db,
			    "INSERT INTO run_chain(run_id,sealed_ns,parts,content_hash,prev_hash,hash)"
			    " VALUES(?,?,?,?,?,?)",
			    -1, &st, NULL) != SQLITE_OK)
			r = -EIO;
	}
	if (r == 0) {
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)jst__wall_ns());
		sqlite3_bind_text(st, 3, parts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, content, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, prev, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, hash, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = -EIO;
	}
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = -EIO;
	if (r < 0) {
		if (r == -EIO)
			snprintf(err, errlen, "sealing run %s: %s", run_id, sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	free(parts);
	return r < 0 ? -1 : 0;
}
