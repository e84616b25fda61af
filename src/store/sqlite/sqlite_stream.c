/* The SQLite dialect's ingest primitives (ingest.h): the orchestration is the engine's
 * (src/store/ingest.c); here are the statements. The transaction is IMMEDIATE (the database is
 * locked for writing from its start, so an acknowledged batch is on disk and no other writer
 * interleaves); a batch's events go into ev_log with INSERT … ON CONFLICT DO NOTHING (an id is
 * stored once); the aggregate rows are read by primary key and written back with INSERT OR
 * REPLACE (totals: added ON CONFLICT). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "agg/agg.h"
#include "core/util.h"
#include "store/ingest.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_evchain.h"
#include "store/sqlite/sqlite_stream.h"

static void text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

static int prepare(struct jst_store *s, const char *sql, sqlite3_stmt **st);

/* The store a loader is given (ingest.h: its ud is the store), which holds the statements
 * begin prepared for the transaction. */
static struct sqlite_store *tx(void *s)
{
	return s;
}

static int load_run(void *s, const char *run, struct jst_agg_run *r)
{
	sqlite3_stmt *st = tx(s)->get_run;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(s, "reading a run");
	jst__strlcpy(r->run, run, sizeof(r->run));
	text(st, 0, r->host, sizeof(r->host));
	text(st, 1, r->user, sizeof(r->user));
	text(st, 2, r->model, sizeof(r->model));
	text(st, 3, r->project, sizeof(r->project));
	text(st, 4, r->zone, sizeof(r->zone));
	text(st, 5, r->phase, sizeof(r->phase));
	r->ci_g_per_kwh = sqlite3_column_double(st, 6);
	r->pue = sqlite3_column_double(st, 7);
	r->wue = sqlite3_column_double(st, 8);
	r->ewif = sqlite3_column_double(st, 9);
	r->interval_s = sqlite3_column_double(st, 10);
	r->has_start = sqlite3_column_int(st, 11) != 0;
	r->scope_host = sqlite3_column_int(st, 12) != 0;
	r->finished = sqlite3_column_int(st, 13) != 0;
	r->start_ns = (uint64_t)sqlite3_column_int64(st, 14);
	r->end_ns = (uint64_t)sqlite3_column_int64(st, 15);
	r->last_ns = (uint64_t)sqlite3_column_int64(st, 16);
	r->exit_code = sqlite3_column_int(st, 17);
	r->duration_s = sqlite3_column_double(st, 18);
	r->samples = sqlite3_column_int64(st, 19);
	r->energy_j = sqlite3_column_double(st, 20);
	r->host_energy_j = sqlite3_column_double(st, 21);
	r->co2e_g = sqlite3_column_double(st, 22);
	r->water_l = sqlite3_column_double(st, 23);
	r->gaps = sqlite3_column_int64(st, 24);
	r->failed = sqlite3_column_int64(st, 25);
	r->series_host = sqlite3_column_int(st, 26) != 0;
	return 1;
}

static int load_zone(void *s, const char *run, const char *zone, struct jst_agg_zone *z)
{
	sqlite3_stmt *st = tx(s)->get_zone;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(s, "reading a run's zone");
	z->last_ts_ns = (uint64_t)sqlite3_column_int64(st, 0);
	z->samples = sqlite3_column_int64(st, 1);
	z->gaps = sqlite3_column_int64(st, 2);
	z->energy_j = sqlite3_column_double(st, 3);
	z->host_energy_j = sqlite3_column_double(st, 4);
	return 1;
}

/* The run's events up to a batch (ingest.h): a type other than sample through the partial
 * (run, type) index, else through the run index, whose rows are in seq order. */
static int load_events(void *s, const char *run, const char *type, int64_t max_batch, uint64_t from_ns,
		       int (*fn)(int64_t, const char *, size_t, void *), void *arg)
{
	const char *sql =
		type && strcmp(type, "sample") != 0 ?
		       "SELECT seq,body FROM ev_log INDEXED BY ev_log_run_type WHERE run=?1 AND type=?2"
		       " AND type<>'sample' AND batch<=?3 AND ts_ns>=?4 ORDER BY seq" :
		type ? "SELECT seq,body FROM ev_log WHERE run=?1 AND type=?2 AND batch<=?3 AND ts_ns>=?4 ORDER BY seq" :
		       "SELECT seq,body FROM ev_log WHERE run=?1 AND batch<=?3 AND ts_ns>=?4 ORDER BY seq";
	sqlite3_stmt *st = NULL;
	int r = prepare(s, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	if (type)
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, max_batch);
	sqlite3_bind_int64(st, 4, from_ns > INT64_MAX ? INT64_MAX : (sqlite3_int64)from_ns);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 1);
		if ((r = fn(sqlite3_column_int64(st, 0), body ? body : "{}",
			    body ? (size_t)sqlite3_column_bytes(st, 1) : 2, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading a run's events");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

static int load_last_sample(void *s, const char *run, uint64_t *ts_ns)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT coalesce(max(last_ts_ns),0) FROM ev_run_zones WHERE run=?", &st);
	*ts_ns = 0;
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*ts_ns = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = jst__sqlite_stream_fail(s, "reading a run's zones");
	sqlite3_finalize(st);
	return r;
}

static int load_window(void *s, const char *run, const char *zone, uint64_t win, struct jst_agg_window *w)
{
	sqlite3_stmt *st = tx(s)->get_win;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)win);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(s, "reading a window");
	w->samples = sqlite3_column_int64(st, 0);
	w->energy_j = sqlite3_column_double(st, 1);
	w->host_energy_j = sqlite3_column_double(st, 2);
	w->co2e_g = sqlite3_column_double(st, 3);
	w->water_l = sqlite3_column_double(st, 4);
	w->dt_s = sqlite3_column_double(st, 5);
	w->max_w = sqlite3_column_double(st, 6);
	if (jst__sketch_decode(&w->sketch, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7)) < 0) {
		snprintf(tx(s)->base.errmsg, sizeof(tx(s)->base.errmsg),
		         "a stored window sketch is corrupt: run joulestream replay");
		return -EIO;
	}
	return 1;
}

static int prepare(struct jst_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(jst__sqlite_db(s), sql, -1, st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, "preparing a statement");
	return 0;
}

static int exec(struct jst_store *s, const char *sql)
{
	if (sqlite3_exec(jst__sqlite_db(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, sql);
	return 0;
}

static void tx_end(struct sqlite_store *q)
{
	sqlite3_stmt **st[] = {&q->get_run, &q->get_zone, &q->get_win, &q->deleted};
	for (size_t i = 0; i < JST_ARRAY_LEN(st); i++) {
		sqlite3_finalize(*st[i]);
		*st[i] = NULL;
	}
}

static void sq_rollback(struct jst_store *s)
{
	char keep[sizeof(s->errmsg)];
	tx_end(tx(s));
	memcpy(keep, s->errmsg, sizeof(keep));
	sqlite3_exec(jst__sqlite_db(s), "ROLLBACK", NULL, NULL, NULL);
	memcpy(s->errmsg, keep, sizeof(keep));
}

/* The reads of the aggregator, prepared once per transaction. */
static int prepare_tx(struct jst_store *s)
{
	struct sqlite_store *q = tx(s);
	int r;
	if ((r = prepare(s, "SELECT host,user,model,project,zone,phase,ci_g_per_kwh,pue,wue,ewif,interval_s,"
	                    "has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,duration_s,samples,"
	                    "energy_j,host_energy_j,co2e_g,water_l,gaps,failed,series_host FROM ev_runs WHERE run=?",
	                 &q->get_run)) < 0 ||
	    (r = prepare(s, "SELECT last_ts_ns,samples,gaps,energy_j,host_energy_j FROM ev_run_zones"
	                    " WHERE run=? AND zone=?", &q->get_zone)) < 0 ||
	    (r = prepare(s, "SELECT samples,energy_j,host_energy_j,co2e_g,water_l,dt_s,max_w,sketch FROM ev_windows"
	                    " WHERE run=? AND zone=? AND win=?", &q->get_win)) < 0 ||
	    (r = prepare(s, "SELECT 1 FROM ev_deleted WHERE run=?", &q->deleted)) < 0)
		tx_end(q);
	return r;
}

/* IMMEDIATE: the write lock from the start. */
static int sq_begin(struct jst_store *s)
{
	int r = exec(s, "BEGIN IMMEDIATE");
	if (r == 0 && (r = prepare_tx(s)) < 0)
		sq_rollback(s);
	return r;
}

static int sq_commit(struct jst_store *s)
{
	tx_end(tx(s));
	return exec(s, "COMMIT");
}

static int put_runs(struct jst_store *s, const struct jst_agg *a)
{
	sqlite3_stmt *st;
	int r = prepare(s, "INSERT OR REPLACE INTO ev_runs(run,host,user,model,project,zone,phase,ci_g_per_kwh,"
	                   "pue,wue,ewif,interval_s,has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,"
	                   "duration_s,samples,energy_j,host_energy_j,co2e_g,water_l,gaps,failed,series_host)"
	                   " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	for (size_t i = 0; r == 0 && i < a->nruns; i++) {
		const struct jst_agg_run *x = &a->runs[i];
		const char *t[] = {x->run, x->host, x->user, x->model, x->project, x->zone, x->phase};
		for (int k = 0; k < 7; k++)
			sqlite3_bind_text(st, k + 1, t[k], -1, SQLITE_STATIC);
		double d[] = {x->ci_g_per_kwh, x->pue, x->wue, x->ewif, x->interval_s};
		for (int k = 0; k < 5; k++)
			sqlite3_bind_double(st, 8 + k, d[k]);
		sqlite3_int64 n[] = {x->has_start, x->scope_host, x->finished, (sqlite3_int64)x->start_ns,
		                     (sqlite3_int64)x->end_ns, (sqlite3_int64)x->last_ns, x->exit_code};
		for (int k = 0; k < 7; k++)
			sqlite3_bind_int64(st, 13 + k, n[k]);
		sqlite3_bind_double(st, 20, x->duration_s);
		sqlite3_bind_int64(st, 21, x->samples);
		double e[] = {x->energy_j, x->host_energy_j, x->co2e_g, x->water_l};
		for (int k = 0; k < 4; k++)
			sqlite3_bind_double(st, 22 + k, e[k]);
		sqlite3_bind_int64(st, 26, x->gaps);
		sqlite3_bind_int64(st, 27, x->failed);
		sqlite3_bind_int(st, 28, x->series_host);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a run's totals");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int put_zones(struct jst_store *s, const struct jst_agg *a)
{
	sqlite3_stmt *st;
	int r = prepare(s, "INSERT OR REPLACE INTO ev_run_zones(run,zone,kind,source,last_ts_ns,samples,gaps,"
	                   "energy_j,host_energy_j) VALUES(?,?,?,?,?,?,?,?,?)", &st);
	for (size_t i = 0; r == 0 && i < a->nzones; i++) {
		const struct jst_agg_zone *z = &a->zones[i];
		sqlite3_bind_text(st, 1, a->runs[z->run].run, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, z->zone, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, z->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, z->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)z->last_ts_ns);
		sqlite3_bind_int64(st, 6, z->samples);
		sqlite3_bind_int64(st, 7, z->gaps);
		sqlite3_bind_double(st, 8, z->energy_j);
		sqlite3_bind_double(st, 9, z->host_energy_j);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a run's zone");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int put_windows(struct jst_store *s, const struct jst_agg *a)
{
	sqlite3_stmt *st;
	int r = prepare(s, "INSERT OR REPLACE INTO ev_windows(run,zone,win,samples,energy_j,host_energy_j,co2e_g,"
	                   "water_l,dt_s,max_w,p50_w,p90_w,p99_w,sketch) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	unsigned char blob[JST_SKETCH_MAX * 8];
	for (size_t i = 0; r == 0 && i < a->nwins; i++) {
		const struct jst_agg_window *w = &a->wins[i];
		sqlite3_bind_text(st, 1, a->runs[w->run].run, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, w->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)w->win);
		sqlite3_bind_int64(st, 4, w->samples);
		double d[] = {w->energy_j, w->host_energy_j, w->co2e_g, w->water_l, w->dt_s, w->max_w,
		              jst__sketch_quantile(&w->sketch, 0.5), jst__sketch_quantile(&w->sketch, 0.9),
		              jst__sketch_quantile(&w->sketch, 0.99)};
		for (int k = 0; k < 9; k++)
			sqlite3_bind_double(st, 5 + k, d[k]);
		size_t n = jst__sketch_encode(&w->sketch, blob, sizeof(blob));
		sqlite3_bind_blob(st, 14, blob, (int)n, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a window");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int put_totals(struct jst_store *s, const struct jst_agg *a)
{
	sqlite3_stmt *st;
	int r = prepare(s, "INSERT INTO ev_totals(dim,key,win,samples,energy_j,co2e_g,water_l) VALUES(?,?,?,?,?,?,?)"
	                   " ON CONFLICT(dim,win,key) DO UPDATE SET samples=samples+excluded.samples,"
	                   " energy_j=energy_j+excluded.energy_j, co2e_g=co2e_g+excluded.co2e_g,"
	                   " water_l=water_l+excluded.water_l", &st);
	for (size_t i = 0; r == 0 && i < a->ntotals; i++) {
		const struct jst_agg_total *t = &a->totals[i];
		sqlite3_bind_text(st, 1, jst__agg_dim_name(t->dim), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, t->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)t->win);
		sqlite3_bind_int64(st, 4, t->samples);
		sqlite3_bind_double(st, 5, t->energy_j);
		sqlite3_bind_double(st, 6, t->co2e_g);
		sqlite3_bind_double(st, 7, t->water_l);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a total");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

/* A run's phase totals, keys "RUN/…": the byte range ["RUN/", "RUN0"). */
static int drop_phases(struct jst_store *s, const char *run)
{
	char lo[JST_EVENT_ID_MAX + 2], hi[JST_EVENT_ID_MAX + 2];
	snprintf(lo, sizeof(lo), "%s/", run);
	snprintf(hi, sizeof(hi), "%s0", run);
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "DELETE FROM ev_totals WHERE dim='phase' AND key>=?1 AND key<?2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "replacing a run's phase totals");
	sqlite3_finalize(st);
	return r;
}

/* The newest heartbeat wins, whichever batch it came in. */
static int put_hosts(struct jst_store *s, const struct jst_agg *a)
{
	sqlite3_stmt *st;
	int r = prepare(s, "INSERT INTO ev_hosts(host,agent,last_ns,interval_s) VALUES(?,?,?,?)"
	                   " ON CONFLICT(host) DO UPDATE SET agent=excluded.agent, last_ns=excluded.last_ns,"
	                   " interval_s=excluded.interval_s WHERE excluded.last_ns>=ev_hosts.last_ns", &st);
	for (size_t i = 0; r == 0 && i < a->nhosts; i++) {
		const struct jst_agg_host *h = &a->hosts[i];
		sqlite3_bind_text(st, 1, h->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->agent, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)h->last_ns);
		sqlite3_bind_double(st, 4, h->interval_s);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "writing a host's heartbeat");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

/* Run by run a batch's events come, so the last answer is kept by the engine, not here. */
static int sq_deleted(struct jst_store *s, const char *run)
{
	sqlite3_stmt *st = tx(s)->deleted;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return jst__sqlite_stream_fail(s, "reading run tombstones");
	return rc == SQLITE_ROW;
}

/* The rowid of a new event is its seq; sqlite3_changes() is 0 for a duplicate id. */
static int sq_insert(struct jst_store *s, const struct jst_event_batch *b, int64_t *batch, int64_t *seq)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st = NULL, *mx = NULL;
	/* seq only grows and every batch comes after the last: the last row has the highest batch */
	int r = prepare(s, "SELECT coalesce((SELECT batch FROM ev_log ORDER BY seq DESC LIMIT 1),0)+1", &mx);
	*batch = 1;
	if (r == 0 && sqlite3_step(mx) == SQLITE_ROW)
		*batch = sqlite3_column_int64(mx, 0);
	sqlite3_finalize(mx);
	if (r == 0)
		r = prepare(s, "INSERT INTO ev_log(id,batch,type,run,ts_ns,body) VALUES(?,?,?,?,?,?)"
		               " ON CONFLICT(id) DO NOTHING", &st);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		const struct jst_event *ev = &b->ev[i];
		sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, *batch);
		sqlite3_bind_text(st, 3, jst_event_type_name(ev->type), -1, SQLITE_STATIC);
		if (ev->run[0])
			sqlite3_bind_text(st, 4, ev->run, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->ts_ns);
		sqlite3_bind_text(st, 6, ev->line, (int)ev->line_len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "storing an event");
		sqlite3_reset(st);
		seq[i] = r == 0 && sqlite3_changes(db) ? sqlite3_last_insert_rowid(db) : 0;
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_clear(struct jst_store *s)
{
	return exec(s, "DELETE FROM ev_runs; DELETE FROM ev_run_zones; DELETE FROM ev_windows;"
	               " DELETE FROM ev_totals; DELETE FROM ev_hosts; DELETE FROM ev_hier;");
}

/* In seq order, which is the batches' order too. */
static int sq_replay(struct jst_store *s, int (*fn)(void *ud, int64_t batch, const char *body, size_t len),
                     void *ud)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT batch, body FROM ev_log WHERE run IS NULL OR run NOT IN (SELECT run FROM ev_deleted)"
	                   " ORDER BY seq", &st);
	int rc = SQLITE_DONE;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 1);
		r = fn(ud, sqlite3_column_int64(st, 0), body ? body : "", body ? (size_t)sqlite3_column_bytes(st, 1) : 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = jst__sqlite_stream_fail(s, "reading the event log");
	sqlite3_finalize(st);
	return r;
}

static int sq_run_exists(struct jst_store *s, const char *run)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "SELECT 1 FROM ev_runs WHERE run=?", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : jst__sqlite_stream_fail(s, "reading a run");
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_tombstone(struct jst_store *s, const char *run, uint64_t now_ns)
{
	sqlite3_stmt *st = NULL;
	int r = prepare(s, "INSERT INTO ev_deleted(run, deleted_ns) VALUES(?,?)", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ns);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "recording the deletion");
	}
	sqlite3_finalize(st);
	return r;
}

static int sq_durable(struct jst_store *s)
{
	return exec(s, "PRAGMA synchronous=FULL");
}

static const struct jst_log_ops sqlite_log = {
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.insert = sq_insert,
	.deleted = sq_deleted,
	.load_run = load_run,
	.load_zone = load_zone,
	.load_window = load_window,
	.load_events = load_events,
	.load_last_sample = load_last_sample,
	.put_runs = put_runs,
	.put_zones = put_zones,
	.put_windows = put_windows,
	.put_totals = put_totals,
	.drop_phases = drop_phases,
	.put_hosts = put_hosts,
	.chain_append = jst__sq_evchain_append,
	.audit_append = jst__sq_audit_append,
	.source_write = jst__sq_source_write,
	.clear = sq_clear,
	.replay = sq_replay,
	.run_exists = sq_run_exists,
	.tombstone = sq_tombstone,
	.hier_claims = jst__sq_hier_claims,
	.hier_put = jst__sq_hier_put,
	.run_wins = jst__sq_run_wins,
};

/* Migration 14 (sqlite.c), inside its transaction: every aggregate replayed from the log, so
 * the host hierarchy's rows exist for the events stored before it. */
int jst__sq_reaggregate(struct jst_store *s)
{
	uint64_t events = 0;
	int r = prepare_tx(s);
	if (r == 0)
		r = jst__ingest_reaggregate(s, &sqlite_log, &events);
	tx_end(tx(s));
	return r;
}

const struct jst_stream_ops jst__stream_sqlite = {
	.log = &sqlite_log,
	.durable = sq_durable,
	.runs = jst__sq_runs,
	.run = jst__sq_run,
	.zones = jst__sq_zones,
	.windows = jst__sq_windows,
	.aggregates = jst__sq_aggregates,
	.phases = jst__sq_phases,
	.token_add = jst__sq_token_add,
	.tokens = jst__sq_tokens,
	.token_revoke = jst__sq_token_revoke,
	.events = jst__sq_events,
	.hosts = jst__sq_hosts,
	.audit_list = jst__sq_audit_list,
	.source_offsets = jst__sq_source_offsets,
	.sources = jst__sq_sources,
	.events_verify = jst__sq_events_verify,
};
