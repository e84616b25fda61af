/* The accounting hierarchy in SQLite (agg/hier.h; migration 14, sqlite_stream.h): the claims of
 * a host's window read from the run windows written so far (through ev_runs_host: the host's
 * runs whose last event is not older than the window), its rows replaced, and the totals by
 * host, user, model, project and grid zone summed from them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agg/hier.h"
#include "core/util.h"
#include "store/sqlite/sqlite_stream.h"

static int prepare(struct jst_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
	if (sqlite3_prepare_v2(jst__sqlite_db(s), sql, -1, st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, what);
	return 0;
}

static void text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

int jst__sq_hier_claims(struct jst_store *s, const char *host, uint64_t win,
                        int (*fn)(const struct jst_hier_claim *, void *), void *ud)
{
	sqlite3_stmt *st;
	int r = prepare(s, "SELECT r.run, r.user, r.model, r.project, r.zone, r.series_host, r.scope_host,"
	                   " sum(w.samples), sum(w.energy_j), sum(w.co2e_g), sum(w.water_l), max(w.dt_s),"
	                   " r.start_ns, r.last_ns, r.interval_s FROM ev_runs r INDEXED BY ev_runs_host JOIN ev_windows w ON w.run=r.run AND w.win=?2"
	                   " JOIN ev_run_zones z ON z.run=w.run AND z.zone=w.zone"
	                   " WHERE r.host=?1 AND r.last_ns>=?2 AND z.kind NOT IN ('core','uncore','psys')"
	                   " GROUP BY r.run, r.user, r.model, r.project, r.zone, r.series_host, r.scope_host, r.start_ns,"
	                   " r.last_ns, r.interval_s ORDER BY r.run", &st, "reading a host's window");
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)win);
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jst_hier_claim c;
		memset(&c, 0, sizeof(c));
		text(st, 0, c.run, sizeof(c.run));
		text(st, 1, c.user, sizeof(c.user));
		text(st, 2, c.model, sizeof(c.model));
		text(st, 3, c.project, sizeof(c.project));
		text(st, 4, c.zone, sizeof(c.zone));
		c.series_host = sqlite3_column_int(st, 5) != 0;
		c.scope_host = sqlite3_column_int(st, 6) != 0;
		c.samples = sqlite3_column_int64(st, 7);
		c.energy_j = sqlite3_column_double(st, 8);
		c.co2e_g = sqlite3_column_double(st, 9);
		c.water_l = sqlite3_column_double(st, 10);
		c.secs = sqlite3_column_double(st, 11);
		c.start_ns = (uint64_t)sqlite3_column_int64(st, 12);
		c.last_ns = (uint64_t)sqlite3_column_int64(st, 13);
		c.interval_s = sqlite3_column_double(st, 14);
		r = fn(&c, ud);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading a host's window");
	sqlite3_finalize(st);
	return r;
}

int jst__sq_hier_put(struct jst_store *s, const char *host, uint64_t win, const struct jst_hier_rows *rows)
{
	sqlite3_stmt *del, *ins = NULL;
	int r = prepare(s, "DELETE FROM ev_hier WHERE host=?1 AND win=?2", &del, "replacing a host's window");
	if (r < 0)
		return r;
	sqlite3_bind_text(del, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(del, 2, (sqlite3_int64)win);
	if (sqlite3_step(del) != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "replacing a host's window");
	sqlite3_finalize(del);
	if (r == 0 && rows->n)
		r = prepare(s, "INSERT INTO ev_hier(host,win,dim,unattr,key,samples,energy_j,co2e_g,water_l)"
		               " VALUES(?,?,?,?,?,?,?,?,?)", &ins, "writing a host's window");
	for (size_t i = 0; r == 0 && i < rows->n; i++) {
		const struct jst_hier_row *x = &rows->row[i];
		sqlite3_bind_text(ins, 1, host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)win);
		sqlite3_bind_text(ins, 3, jst__agg_dim_name(x->dim), -1, SQLITE_STATIC);
		sqlite3_bind_int(ins, 4, x->unattributed);
		sqlite3_bind_text(ins, 5, x->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 6, x->samples);
		sqlite3_bind_double(ins, 7, x->energy_j);
		sqlite3_bind_double(ins, 8, x->co2e_g);
		sqlite3_bind_double(ins, 9, x->water_l);
		if (sqlite3_step(ins) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a host's window");
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	return r;
}

int jst__sq_run_wins(struct jst_store *s, const char *run, int (*fn)(uint64_t, void *), void *ud)
{
	sqlite3_stmt *st;
	int r = prepare(s, "SELECT DISTINCT win FROM ev_windows WHERE run=? ORDER BY win", &st, "reading a run's windows");
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn((uint64_t)sqlite3_column_int64(st, 0), ud);
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading a run's windows");
	sqlite3_finalize(st);
	return r;
}

/* Summed in (key, window) order whatever the plan, so every store adds the same rows alike. */
int jst__sq_hier_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to,
                            int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	sqlite3_stmt *st;
	int r = prepare(s, "SELECT unattr, key, sum(samples), sum(energy_j), sum(co2e_g), sum(water_l) FROM"
	                   " (SELECT * FROM ev_hier INDEXED BY ev_hier_dim WHERE dim=?3 AND win>=?1 AND win<?2"
	                   " ORDER BY unattr, key, win, host) GROUP BY unattr, key ORDER BY 4 DESC, 1, 2",
	                &st, "reading totals");
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, to ? (sqlite3_int64)to : INT64_MAX);
	sqlite3_bind_text(st, 3, by, -1, SQLITE_STATIC);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jst_aggregate a;
		memset(&a, 0, sizeof(a));
		a.unattributed = sqlite3_column_int(st, 0) != 0;
		if (a.unattributed)
			jst__strlcpy(a.key, JST_HIER_UNATTRIBUTED, sizeof(a.key));
		else
			text(st, 1, a.key, sizeof(a.key));
		a.samples = sqlite3_column_int64(st, 2);
		a.energy_j = sqlite3_column_double(st, 3);
		a.co2e_g = sqlite3_column_double(st, 4);
		a.water_l = sqlite3_column_double(st, 5);
		n++;
		if (fn(&a, ud))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		n = jst__sqlite_stream_fail(s, "reading totals");
	sqlite3_finalize(st);
	return n;
}

static int has_column(sqlite3 *db, const char *table, const char *col)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	int found = 0;
	while (!found && sqlite3_step(st) == SQLITE_ROW)
		found = strcmp((const char *)sqlite3_column_text(st, 1), col) == 0;
	sqlite3_finalize(st);
	return found;
}

int jst__sq_hier_schema(struct jst_store *s)
{
	sqlite3 *db = jst__sqlite_db(s);
	int has = has_column(db, "ev_runs", "series_host");
	if (has < 0 ||
	    (!has && sqlite3_exec(db, "ALTER TABLE ev_runs ADD COLUMN series_host INTEGER NOT NULL DEFAULT 0", NULL,
	                          NULL, NULL) != SQLITE_OK) ||
	    sqlite3_exec(db, JST_SQLITE_HIER_SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "adding the host hierarchy's tables");
	return 0;
}
