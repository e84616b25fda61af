/* Reading the event log's views in SQLite for the query API (sqlite_stream.h): runs with
 * filters, sorting and keyset pages, a run's zones, 1-minute windows and phases (through its
 * own keys), totals by user, model, host, zone or phase, and the API tokens table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/jbuf.h"
#include "store/cursor.h"
#include "store/sqlite/sqlite_stream.h"

#define RUN_COLS "run,host,user,model,project,zone,finished,start_ns,end_ns,last_ns,duration_s,interval_s," \
                 "pue,ci_g_per_kwh,exit_code,samples,gaps,failed,energy_j,host_energy_j,co2e_g,water_l,has_start," \
                 "series_host"

static void text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

static void read_run(sqlite3_stmt *st, struct jst_run_summary *r)
{
	memset(r, 0, sizeof(*r));
	text(st, 0, r->run, sizeof(r->run));
	text(st, 1, r->host, sizeof(r->host));
	text(st, 2, r->user, sizeof(r->user));
	text(st, 3, r->model, sizeof(r->model));
	text(st, 4, r->project, sizeof(r->project));
	text(st, 5, r->zone, sizeof(r->zone));
	jst__strlcpy(r->status, sqlite3_column_int(st, 6) ? "finished" : "running", sizeof(r->status));
	r->start_ns = (uint64_t)sqlite3_column_int64(st, 7);
	r->end_ns = (uint64_t)sqlite3_column_int64(st, 8);
	r->last_ns = (uint64_t)sqlite3_column_int64(st, 9);
	r->duration_s = sqlite3_column_double(st, 10);
	r->interval_s = sqlite3_column_double(st, 11);
	r->pue = sqlite3_column_double(st, 12);
	r->ci_g_per_kwh = sqlite3_column_double(st, 13);
	r->exit_code = sqlite3_column_int(st, 14);
	r->samples = sqlite3_column_int64(st, 15);
	r->gaps = sqlite3_column_int64(st, 16);
	r->failed = sqlite3_column_int64(st, 17);
	r->energy_j = sqlite3_column_double(st, 18);
	r->host_energy_j = sqlite3_column_double(st, 19);
	r->co2e_g = sqlite3_column_double(st, 20);
	r->water_l = sqlite3_column_double(st, 21);
	r->has_start = sqlite3_column_int(st, 22) != 0;
	r->host_series = sqlite3_column_int(st, 23) != 0;
}

int jst__sq_runs(struct jst_store *s, const struct jst_run_query *q,
                 int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen)
{
	sqlite3 *db = jst__sqlite_db(s);
	struct jst_jbuf sql;
	jst__jbuf_init(&sql, 4096);
	jst__jbuf_printf(&sql, "SELECT " RUN_COLS " FROM ev_runs WHERE series_host=%d", q->host_series);
	const char *cols[] = {"user", "model", "host", "zone", "user"};
	const char *vals[] = {q->user, q->model, q->host, q->zone, q->only_user};
	for (int i = 0; i < 5; i++)
		if (vals[i])
			jst__jbuf_printf(&sql, " AND %s=?", cols[i]);
	if (q->from_ns)
		jst__jbuf_printf(&sql, " AND start_ns>=%" PRIu64, q->from_ns);
	if (q->to_ns)
		jst__jbuf_printf(&sql, " AND start_ns<%" PRIu64, q->to_ns);
	double stall_ns = q->stall_intervals * 1e9;
	if (q->status && strcmp(q->status, "finished") == 0)
		jst__jbuf_str(&sql, " AND finished=1");
	else if (q->status && strcmp(q->status, "running") == 0)
		jst__jbuf_str(&sql, " AND finished=0");
	else if (q->status && strcmp(q->status, "stalled") == 0)
		jst__jbuf_printf(&sql, " AND finished=0 AND last_ns < %" PRIu64 " - max(interval_s,1.0)*%.17g",
		                 q->now_ns, stall_ns);
	double cv = 0;
	char crun[JST_EVENT_ID_MAX + 1] = "";
	const char *col = jst__run_sort_col(q->sort);
	int paged = jst__run_cursor(s, q, &cv, crun, sizeof(crun));
	if (paged < 0) {
		jst__jbuf_release(&sql);
		return paged;
	}
	if (paged)
		jst__jbuf_printf(&sql, " AND (%s < ?1000 OR (%s = ?1000 AND run < ?1001))", col, col);
	jst__jbuf_printf(&sql, " ORDER BY %s DESC, run DESC LIMIT %zu", col, q->limit + 1);
	sqlite3_stmt *st;
	if (sql.full || sqlite3_prepare_v2(db, sql.p, -1, &st, NULL) != SQLITE_OK) {
		jst__jbuf_release(&sql);
		return jst__sqlite_stream_fail(s, "listing runs");
	}
	jst__jbuf_release(&sql);
	int k = 1;
	for (int i = 0; i < 5; i++)
		if (vals[i])
			sqlite3_bind_text(st, k++, vals[i], -1, SQLITE_STATIC);
	if (paged) {
		sqlite3_bind_double(st, 1000, cv);
		sqlite3_bind_text(st, 1001, crun, -1, SQLITE_STATIC);
	}
	struct jst_run_page page;
	struct jst_run_summary r;
	jst__run_page_init(&page, q, fn, ud, next, nextlen);
	while (sqlite3_step(st) == SQLITE_ROW) {
		read_run(st, &r);
		if (jst__run_page_add(&page, &r))
			break;
	}
	sqlite3_finalize(st);
	return (int)page.n;
}

int jst__sq_run(struct jst_store *s, const char *id, struct jst_run_summary *r)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT " RUN_COLS " FROM ev_runs WHERE run=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading a run");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r2 = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		read_run(st, r);
		r2 = 0;
	}
	sqlite3_finalize(st);
	return r2;
}

int jst__sq_zones(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *), void *ud)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT zone,kind,source,samples,gaps,energy_j,host_energy_j"
	                       " FROM ev_run_zones WHERE run=? ORDER BY zone", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading a run's zones");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jst_zone_summary z;
		text(st, 0, z.zone, sizeof(z.zone));
		text(st, 1, z.kind, sizeof(z.kind));
		text(st, 2, z.source, sizeof(z.source));
		z.samples = sqlite3_column_int64(st, 3);
		z.gaps = sqlite3_column_int64(st, 4);
		z.energy_j = sqlite3_column_double(st, 5);
		z.host_energy_j = sqlite3_column_double(st, 6);
		n++;
		if (fn(&z, ud))
			break;
	}
	sqlite3_finalize(st);
	return n;
}

int jst__sq_windows(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *), void *ud)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT zone,win,samples,energy_j,host_energy_j,co2e_g,water_l,"
	                       "dt_s,max_w,p50_w,p90_w,p99_w FROM ev_windows WHERE run=? ORDER BY win, zone",
	                       -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading a run's windows");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jst_window w;
		text(st, 0, w.zone, sizeof(w.zone));
		w.win_ns = (uint64_t)sqlite3_column_int64(st, 1);
		w.samples = sqlite3_column_int64(st, 2);
		w.energy_j = sqlite3_column_double(st, 3);
		w.host_energy_j = sqlite3_column_double(st, 4);
		w.co2e_g = sqlite3_column_double(st, 5);
		w.water_l = sqlite3_column_double(st, 6);
		double dt = sqlite3_column_double(st, 7);
		w.avg_w = dt > 0 ? w.energy_j / dt : 0;
		w.max_w = sqlite3_column_double(st, 8);
		w.p50_w = sqlite3_column_double(st, 9);
		w.p90_w = sqlite3_column_double(st, 10);
		w.p99_w = sqlite3_column_double(st, 11);
		n++;
		if (fn(&w, ud))
			break;
	}
	sqlite3_finalize(st);
	return n;
}

int jst__sq_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
                       int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	char sql[560];
	int w;
	if (!only_user && strcmp(by, "phase") != 0) /* the host hierarchy: a host counted once */
		return jst__sq_hier_aggregates(s, by, from, to, fn, ud);
	if (only_user) /* a reader: from the windows of its own runs */
		w = snprintf(sql, sizeof(sql), "SELECT r.%s, sum(w.samples), sum(w.energy_j), sum(w.co2e_g), sum(w.water_l)"
		             " FROM ev_windows w JOIN ev_runs r ON r.run=w.run WHERE r.user=?3 AND r.series_host=0"
		             " AND w.win>=?1 AND w.win<?2"
		             " AND w.zone IN (SELECT zone FROM ev_run_zones z WHERE z.run=w.run AND z.kind NOT IN"
		             " ('core','uncore','psys')) GROUP BY r.%s ORDER BY 3 DESC", by, by);
	else
		w = snprintf(sql, sizeof(sql), "SELECT key, sum(samples), sum(energy_j), sum(co2e_g), sum(water_l)"
		             " FROM ev_totals WHERE dim=?4 AND win>=?1 AND win<?2 GROUP BY key ORDER BY 3 DESC");
	sqlite3_stmt *st;
	if (w < 0 || (size_t)w >= sizeof(sql) || sqlite3_prepare_v2(jst__sqlite_db(s), sql, -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading totals");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(st, 2, to ? (sqlite3_int64)to : INT64_MAX);
	if (only_user)
		sqlite3_bind_text(st, 3, only_user, -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 4, by, -1, SQLITE_STATIC);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jst_aggregate a;
		memset(&a, 0, sizeof(a));
		text(st, 0, a.key, sizeof(a.key));
		a.samples = sqlite3_column_int64(st, 1);
		a.energy_j = sqlite3_column_double(st, 2);
		a.co2e_g = sqlite3_column_double(st, 3);
		a.water_l = sqlite3_column_double(st, 4);
		n++;
		if (fn(&a, ud))
			break;
	}
	sqlite3_finalize(st);
	return n;
}

/* The keys "ID/PATH" are the range ["ID/", "ID0") in byte order ('0' follows '/'): the partial
 * index ev_totals_phase (migration 11) reads that run's rows only, in key then window order,
 * so each sum adds the same rows in the same order as jst__sq_aggregates does. */
int jst__sq_phases(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	char lo[JST_EVENT_ID_MAX + 2], hi[JST_EVENT_ID_MAX + 2];
	size_t n = strlen(id);
	if (n > JST_EVENT_ID_MAX)
		return 0; /* no run has such an id */
	memcpy(lo, id, n);
	memcpy(hi, id, n);
	lo[n] = '/';
	hi[n] = '0';
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT key, sum(samples), sum(energy_j), sum(co2e_g), sum(water_l)"
	                       " FROM ev_totals INDEXED BY ev_totals_phase WHERE dim='phase' AND key>=?1 AND key<?2"
	                       " GROUP BY key ORDER BY 3 DESC, key", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading a run's phases");
	sqlite3_bind_text(st, 1, lo, (int)n + 1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, (int)n + 1, SQLITE_STATIC);
	int rc, r = 0, k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct jst_aggregate a;
		memset(&a, 0, sizeof(a));
		text(st, 0, a.key, sizeof(a.key));
		a.samples = sqlite3_column_int64(st, 1);
		a.energy_j = sqlite3_column_double(st, 2);
		a.co2e_g = sqlite3_column_double(st, 3);
		a.water_l = sqlite3_column_double(st, 4);
		k++;
		if ((r = fn(&a, ud)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading a run's phases");
	sqlite3_finalize(st);
	return r < 0 ? r : k;
}

int jst__sq_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO api_tokens(prefix,hash,role,user,all_users,label,created_ns,hosts)"
	                       " VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "adding a token");
	sqlite3_bind_text(st, 1, t->prefix, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, t->hash, sizeof(t->hash), SQLITE_STATIC);
	sqlite3_bind_text(st, 3, jst_role_name(t->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, t->all_users);
	sqlite3_bind_text(st, 6, t->label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)t->created_ns);
	sqlite3_bind_text(st, 8, t->hosts, -1, SQLITE_STATIC);
	int r = sqlite3_step(st) == SQLITE_DONE ? 0 : jst__sqlite_stream_fail(s, "adding a token");
	sqlite3_finalize(st);
	if (r == 0 && id)
		*id = sqlite3_last_insert_rowid(db);
	return r;
}

int jst__sq_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(jst__sqlite_db(s), "SELECT id,prefix,hash,role,user,all_users,label,created_ns,"
	                       "coalesce(revoked_ns,0),hosts FROM api_tokens ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "reading tokens");
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jst_token_info t;
		memset(&t, 0, sizeof(t));
		t.id = sqlite3_column_int64(st, 0);
		text(st, 1, t.prefix, sizeof(t.prefix));
		if (sqlite3_column_bytes(st, 2) == (int)sizeof(t.hash))
			memcpy(t.hash, sqlite3_column_blob(st, 2), sizeof(t.hash));
		const char *role = (const char *)sqlite3_column_text(st, 3);
		int ro = role ? jst_role_parse(role) : -1;
		t.role = ro < 0 ? JST_ROLE_READER : (enum jst_role)ro;
		text(st, 4, t.user, sizeof(t.user));
		t.all_users = sqlite3_column_int(st, 5) != 0;
		text(st, 6, t.label, sizeof(t.label));
		t.created_ns = (uint64_t)sqlite3_column_int64(st, 7);
		t.revoked_ns = (uint64_t)sqlite3_column_int64(st, 8);
		text(st, 9, t.hosts, sizeof(t.hosts));
		n++;
		if (fn(&t, ud))
			break;
	}
	sqlite3_finalize(st);
	return n;
}

int jst__sq_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE api_tokens SET revoked_ns=?1 WHERE revoked_ns IS NULL AND"
	                       " (CAST(id AS TEXT)=?2 OR prefix=?2)", -1, &st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "revoking a token");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_ns);
	sqlite3_bind_text(st, 2, id_or_prefix, -1, SQLITE_STATIC);
	int r = sqlite3_step(st) == SQLITE_DONE ? 0 : jst__sqlite_stream_fail(s, "revoking a token");
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_changes(db) == 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "no active token with id or prefix '%.100s' (see token list)",
		         id_or_prefix);
		return -ENOENT;
	}
	return r;
}
