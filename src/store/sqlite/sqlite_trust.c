/* The trust tables in SQLite: host calibrations (host_calibration per zone, host_reference per
 * calibration, never replaced) behind the store's calibration ops, and the integrity flags that
 * releases before issue 11 kept in run_flags (read by migration 12 only: a run's flags are in
 * its run_end since). The archived record chain is sqlite_verify.c's; sqlite.c creates the
 * tables (its migrations array). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/trust.h"
#include "store/sqlite/sqlite_stream.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/store.h"


static void text(sqlite3_stmt *st, int i, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

void jst__sqlite_flags_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_run *run)
{
	sqlite3_stmt *st;
	run->nflags = 0;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT kind,zone,count,seconds,first_s,value,lim,reason FROM run_flags"
		    " WHERE run=? ORDER BY idx",
		    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, rowid);
	while (run->nflags < JST_FLAGS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		struct jst_run_flag *f = &run->flags[run->nflags];
		char kind[32];
		memset(f, 0, sizeof(*f));
		text(st, 0, kind, sizeof(kind));
		if (jst_flag_kind(kind, &f->kind) < 0)
			continue; /* a kind a newer joulestream wrote */
		text(st, 1, f->zone, sizeof(f->zone));
		f->count = (unsigned long)sqlite3_column_int64(st, 2);
		f->seconds = sqlite3_column_double(st, 3);
		f->first_s = sqlite3_column_double(st, 4);
		f->value = sqlite3_column_double(st, 5);
		f->limit = sqlite3_column_double(st, 6);
		text(st, 7, f->reason, sizeof(f->reason));
		run->nflags++;
	}
	sqlite3_finalize(st);
}

/* The reference row of host: the newest at or before before_ns, else (before_ns 0) the newest. */
static int reference_load(sqlite3 *db, const char *host, uint64_t before_ns,
			  struct jst_calibration *c)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT calibrated_ns,duration_s,interval_s,load,threads,load_s,ok,"
			       "result,sensors FROM host_reference WHERE host=? AND (?=0 OR"
			       " calibrated_ns<=?) ORDER BY calibrated_ns DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)before_ns);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)before_ns);
	int r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		memset(c, 0, sizeof(*c));
		jst__strlcpy(c->host, host, sizeof(c->host));
		c->calibrated_ns = (uint64_t)sqlite3_column_int64(st, 0);
		c->duration_s = sqlite3_column_double(st, 1);
		c->interval_s = sqlite3_column_double(st, 2);
		text(st, 3, c->load, sizeof(c->load));
		c->threads = (unsigned)sqlite3_column_int(st, 4);
		c->load_s = sqlite3_column_double(st, 5);
		c->ref_ok = sqlite3_column_int(st, 6) != 0;
		text(st, 7, c->result, sizeof(c->result));
		text(st, 8, c->sensors, sizeof(c->sensors));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int calibration_load(sqlite3 *db, const char *host, uint64_t before_ns,
			    struct jst_calibration *c)
{
	int r = reference_load(db, host, before_ns, c);
	sqlite3_stmt *st;
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db,
			       "SELECT zone,source,uid,kind,counted,estimate,idle_w,load_w,ratio,"
			       "samples FROM host_calibration WHERE host=? AND calibrated_ns=?"
			       " ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)c->calibrated_ns);
	while (c->nzones < JST_ZONES_MAX && sqlite3_step(st) == SQLITE_ROW) {
		struct jst_calib_zone *z = &c->zones[c->nzones++];
		text(st, 0, z->zone, sizeof(z->zone));
		text(st, 1, z->source, sizeof(z->source));
		text(st, 2, z->uid, sizeof(z->uid));
		z->kind = (enum jst_zone_kind)sqlite3_column_int(st, 3);
		z->counted = sqlite3_column_int(st, 4) != 0;
		z->estimate = sqlite3_column_int(st, 5) != 0;
		z->idle_w = sqlite3_column_double(st, 6);
		z->load_w = sqlite3_column_double(st, 7);
		z->ratio = sqlite3_column_double(st, 8);
		z->samples = (unsigned long)sqlite3_column_int64(st, 9);
	}
	sqlite3_finalize(st);
	return 0;
}

int jst__sqlite_calibration_add(struct jst_store *s, const struct jst_calibration *c)
{
	sqlite3 *db = jst__sqlite_handle(s);
	sqlite3_stmt *ref = NULL, *st = NULL;
	int r = -EIO;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    db,
		    "INSERT INTO host_reference(host,calibrated_ns,duration_s,interval_s,"
		    "load,threads,load_s,ok,result,sensors) VALUES(?,?,?,?,?,?,?,?,?,?)",
		    -1, &ref, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    db,
		    "INSERT INTO host_calibration(host,calibrated_ns,zone,source,uid,kind,"
		    "counted,estimate,idle_w,load_w,ratio,samples) VALUES"
		    "(?,?,?,?,?,?,?,?,?,?,?,?)",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(ref, 1, c->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ref, 2, (sqlite3_int64)c->calibrated_ns);
	sqlite3_bind_double(ref, 3, c->duration_s);
	sqlite3_bind_double(ref, 4, c->interval_s);
	sqlite3_bind_text(ref, 5, c->load, -1, SQLITE_STATIC);
	sqlite3_bind_int(ref, 6, (int)c->threads);
	sqlite3_bind_double(ref, 7, c->load_s);
	sqlite3_bind_int(ref, 8, c->ref_ok);
	sqlite3_bind_text(ref, 9, c->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(ref, 10, c->sensors, -1, SQLITE_STATIC);
	if (sqlite3_step(ref) != SQLITE_DONE)
		goto out;
	for (size_t i = 0; i < c->nzones; i++) {
		const struct jst_calib_zone *z = &c->zones[i];
		int k = 1;
		sqlite3_bind_text(st, k++, c->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)c->calibrated_ns);
		sqlite3_bind_text(st, k++, z->zone, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, z->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, z->uid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, k++, (int)z->kind);
		sqlite3_bind_int(st, k++, z->counted);
		sqlite3_bind_int(st, k++, z->estimate);
		sqlite3_bind_double(st, k++, z->idle_w);
		sqlite3_bind_double(st, k++, z->load_w);
		sqlite3_bind_double(st, k++, z->ratio);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)z->samples);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto out;
	}
	r = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
out:
	if (r < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "storing the calibration: %s",
			 sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_finalize(ref);
	sqlite3_finalize(st);
	return r;
}

int jst__sqlite_calibration_load(struct jst_store *s, const char *host, uint64_t before_ns,
                                 struct jst_calibration *out)
{
	sqlite3 *db = jst__sqlite_handle(s);
	int r = calibration_load(db, host, before_ns, out);
	if (r < 0 && r != -ENOENT)
		snprintf(s->errmsg, sizeof(s->errmsg), "reading calibrations: %s", sqlite3_errmsg(db));
	return r;
}
