/* Ingest into SQLite (sqlite_stream.h): a batch's new events go into ev_log (an id is stored
 * once: INSERT … ON CONFLICT DO NOTHING) and the aggregates they change are computed by
 * src/agg/ and written back, all in one IMMEDIATE transaction, so a batch is stored whole or
 * not at all and an acknowledged batch is on disk. The rebuild replays ev_log batch by batch
 * through the same code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agg/agg.h"
#include "core/util.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_evchain.h"
#include "store/sqlite/sqlite_stream.h"

struct ingest_ctx {
	struct jst_store *s;
	sqlite3 *db;
	sqlite3_stmt *get_run, *get_zone, *get_win, *deleted;
	struct jst_agg agg;
	char last_run[JST_EVENT_ID_MAX + 1]; /* the run whose tombstone was looked up last */
	bool last_deleted;
};


static void text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	jst__strlcpy(dst, t ? (const char *)t : "", n);
}

static int load_run(void *ud, const char *run, struct jst_agg_run *r)
{
	struct ingest_ctx *c = ud;
	sqlite3_stmt *st = c->get_run;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(c->s, "reading a run");
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
	return 1;
}

static int load_zone(void *ud, const char *run, const char *zone, struct jst_agg_zone *z)
{
	struct ingest_ctx *c = ud;
	sqlite3_stmt *st = c->get_zone;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(c->s, "reading a run's zone");
	z->last_ts_ns = (uint64_t)sqlite3_column_int64(st, 0);
	z->samples = sqlite3_column_int64(st, 1);
	z->gaps = sqlite3_column_int64(st, 2);
	z->energy_j = sqlite3_column_double(st, 3);
	z->host_energy_j = sqlite3_column_double(st, 4);
	return 1;
}

/* The run's intensity events (agg.h), through the (run, type) index. */
static int load_intensity(void *ud, const char *run,
			  int (*fn)(int64_t, const char *, size_t, void *), void *arg)
{
	int r = jst__sq_events(((struct ingest_ctx *)ud)->s, run, "intensity", 0, 100000, fn, arg);
	return r < 0 ? r : 0;
}

static int load_window(void *ud, const char *run, const char *zone, uint64_t win, struct jst_agg_window *w)
{
	struct ingest_ctx *c = ud;
	sqlite3_stmt *st = c->get_win;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)win);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return jst__sqlite_stream_fail(c->s, "reading a window");
	w->samples = sqlite3_column_int64(st, 0);
	w->energy_j = sqlite3_column_double(st, 1);
	w->host_energy_j = sqlite3_column_double(st, 2);
	w->co2e_g = sqlite3_column_double(st, 3);
	w->water_l = sqlite3_column_double(st, 4);
	w->dt_s = sqlite3_column_double(st, 5);
	w->max_w = sqlite3_column_double(st, 6);
	if (jst__sketch_decode(&w->sketch, sqlite3_column_blob(st, 7), (size_t)sqlite3_column_bytes(st, 7)) < 0) {
		snprintf(c->s->errmsg, sizeof(c->s->errmsg), "a stored window sketch is corrupt: run joulestream replay");
		return -EIO;
	}
	return 1;
}

static int prepare(struct ingest_ctx *c, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(c->s, "preparing a statement");
	return 0;
}

static int ctx_open(struct ingest_ctx *c, struct jst_store *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	c->db = jst__sqlite_db(s);
	jst__agg_init(&c->agg);
	int r;
	if ((r = prepare(c, "SELECT host,user,model,project,zone,phase,ci_g_per_kwh,pue,wue,ewif,interval_s,"
	                    "has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,duration_s,samples,"
	                    "energy_j,host_energy_j,co2e_g,water_l,gaps,failed FROM ev_runs WHERE run=?",
	                 &c->get_run)) < 0 ||
	    (r = prepare(c, "SELECT last_ts_ns,samples,gaps,energy_j,host_energy_j FROM ev_run_zones"
	                    " WHERE run=? AND zone=?", &c->get_zone)) < 0 ||
	    (r = prepare(c, "SELECT samples,energy_j,host_energy_j,co2e_g,water_l,dt_s,max_w,sketch FROM ev_windows"
	                    " WHERE run=? AND zone=? AND win=?", &c->get_win)) < 0 ||
	    (r = prepare(c, "SELECT 1 FROM ev_deleted WHERE run=?", &c->deleted)) < 0)
		return r;
	return 0;
}

static void ctx_close(struct ingest_ctx *c)
{
	sqlite3_finalize(c->get_run);
	sqlite3_finalize(c->get_zone);
	sqlite3_finalize(c->get_win);
	sqlite3_finalize(c->deleted);
	jst__agg_release(&c->agg);
}

static int write_runs(struct ingest_ctx *c)
{
	sqlite3_stmt *st;
	int r = prepare(c, "INSERT OR REPLACE INTO ev_runs(run,host,user,model,project,zone,phase,ci_g_per_kwh,"
	                   "pue,wue,ewif,interval_s,has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,"
	                   "duration_s,samples,energy_j,host_energy_j,co2e_g,water_l,gaps,failed)"
	                   " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	for (size_t i = 0; r == 0 && i < c->agg.nruns; i++) {
		const struct jst_agg_run *x = &c->agg.runs[i];
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
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(c->s, "writing a run's totals");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_zones(struct ingest_ctx *c)
{
	sqlite3_stmt *st;
	int r = prepare(c, "INSERT OR REPLACE INTO ev_run_zones(run,zone,kind,source,last_ts_ns,samples,gaps,"
	                   "energy_j,host_energy_j) VALUES(?,?,?,?,?,?,?,?,?)", &st);
	for (size_t i = 0; r == 0 && i < c->agg.nzones; i++) {
		const struct jst_agg_zone *z = &c->agg.zones[i];
		sqlite3_bind_text(st, 1, c->agg.runs[z->run].run, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, z->zone, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, z->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, z->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)z->last_ts_ns);
		sqlite3_bind_int64(st, 6, z->samples);
		sqlite3_bind_int64(st, 7, z->gaps);
		sqlite3_bind_double(st, 8, z->energy_j);
		sqlite3_bind_double(st, 9, z->host_energy_j);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(c->s, "writing a run's zone");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_windows(struct ingest_ctx *c)
{
	sqlite3_stmt *st;
	int r = prepare(c, "INSERT OR REPLACE INTO ev_windows(run,zone,win,samples,energy_j,host_energy_j,co2e_g,"
	                   "water_l,dt_s,max_w,p50_w,p90_w,p99_w,sketch) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &st);
	unsigned char blob[JST_SKETCH_MAX * 8];
	for (size_t i = 0; r == 0 && i < c->agg.nwins; i++) {
		const struct jst_agg_window *w = &c->agg.wins[i];
		sqlite3_bind_text(st, 1, c->agg.runs[w->run].run, -1, SQLITE_STATIC);
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
			r = jst__sqlite_stream_fail(c->s, "writing a window");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_totals(struct ingest_ctx *c)
{
	sqlite3_stmt *st;
	int r = prepare(c, "INSERT INTO ev_totals(dim,key,win,samples,energy_j,co2e_g,water_l) VALUES(?,?,?,?,?,?,?)"
	                   " ON CONFLICT(dim,win,key) DO UPDATE SET samples=samples+excluded.samples,"
	                   " energy_j=energy_j+excluded.energy_j, co2e_g=co2e_g+excluded.co2e_g,"
	                   " water_l=water_l+excluded.water_l", &st);
	for (size_t i = 0; r == 0 && i < c->agg.ntotals; i++) {
		const struct jst_agg_total *t = &c->agg.totals[i];
		sqlite3_bind_text(st, 1, jst__agg_dim_name(t->dim), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, t->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)t->win);
		sqlite3_bind_int64(st, 4, t->samples);
		sqlite3_bind_double(st, 5, t->energy_j);
		sqlite3_bind_double(st, 6, t->co2e_g);
		sqlite3_bind_double(st, 7, t->water_l);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(c->s, "writing a total");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

/* The newest heartbeat wins, whichever batch it came in. */
static int write_hosts(struct ingest_ctx *c)
{
	if (!c->agg.nhosts)
		return 0;
	sqlite3_stmt *st;
	int r = prepare(c, "INSERT INTO ev_hosts(host,agent,last_ns,interval_s) VALUES(?,?,?,?)"
	                   " ON CONFLICT(host) DO UPDATE SET agent=excluded.agent, last_ns=excluded.last_ns,"
	                   " interval_s=excluded.interval_s WHERE excluded.last_ns>=ev_hosts.last_ns", &st);
	for (size_t i = 0; r == 0 && i < c->agg.nhosts; i++) {
		const struct jst_agg_host *h = &c->agg.hosts[i];
		sqlite3_bind_text(st, 1, h->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->agent, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)h->last_ns);
		sqlite3_bind_double(st, 4, h->interval_s);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(c->s, "writing a host's heartbeat");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_agg(struct ingest_ctx *c)
{
	int r;
	if ((r = write_runs(c)) < 0 || (r = write_zones(c)) < 0 || (r = write_windows(c)) < 0 ||
	    (r = write_totals(c)) < 0 || (r = write_hosts(c)) < 0)
		return r;
	jst__agg_reset(&c->agg);
	return 0;
}

static int exec(struct jst_store *s, const char *sql)
{
	if (sqlite3_exec(jst__sqlite_db(s), sql, NULL, NULL, NULL) != SQLITE_OK)
		return jst__sqlite_stream_fail(s, sql);
	return 0;
}

/* A deleted run's later events are kept in the log but change no view (DELETE /api/v1/runs). */
static int is_deleted(struct ingest_ctx *c, const char *run, bool *out)
{
	if (!run[0]) {
		*out = false;
		return 0;
	}
	if (strcmp(run, c->last_run) != 0) {
		sqlite3_reset(c->deleted);
		sqlite3_bind_text(c->deleted, 1, run, -1, SQLITE_STATIC);
		int rc = sqlite3_step(c->deleted);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return jst__sqlite_stream_fail(c->s, "reading run tombstones");
		c->last_deleted = rc == SQLITE_ROW;
		jst__strlcpy(c->last_run, run, sizeof(c->last_run));
	}
	*out = c->last_deleted;
	return 0;
}

static int add_events(struct ingest_ctx *c, const struct jst_event_batch *b, struct jst_ingest_result *res)
{
	sqlite3_stmt *st = NULL, *mx = NULL;
	/* seq only grows and every batch comes after the last: the last row has the highest batch */
	int r = prepare(c, "SELECT coalesce((SELECT batch FROM ev_log ORDER BY seq DESC LIMIT 1),0)+1", &mx);
	sqlite3_int64 batch = 1;
	if (r == 0 && sqlite3_step(mx) == SQLITE_ROW)
		batch = sqlite3_column_int64(mx, 0);
	sqlite3_finalize(mx);
	if (r == 0)
		r = prepare(c, "INSERT INTO ev_log(id,batch,type,run,ts_ns,body) VALUES(?,?,?,?,?,?)"
		               " ON CONFLICT(id) DO NOTHING", &st);
	struct jst_agg_loader ld = {c, load_run, load_zone, load_window, load_intensity};
	struct jst_evchain_build chain = {0}; /* the new events' digests: one ev_chain entry */
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		const struct jst_event *ev = &b->ev[i];
		sqlite3_bind_text(st, 1, ev->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, batch);
		sqlite3_bind_text(st, 3, jst_event_type_name(ev->type), -1, SQLITE_STATIC);
		if (ev->run[0])
			sqlite3_bind_text(st, 4, ev->run, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)ev->ts_ns);
		sqlite3_bind_text(st, 6, ev->line, (int)ev->line_len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			r = jst__sqlite_stream_fail(c->s, "storing an event");
			break;
		}
		sqlite3_reset(st);
		if (sqlite3_changes(c->db) == 0) {
			res->duplicates++;
			continue;
		}
		res->accepted++;
		struct jst_evrow row = {sqlite3_last_insert_rowid(c->db),
					batch,
					(int64_t)ev->ts_ns,
					ev->id,
					jst_event_type_name(ev->type),
					ev->run[0] ? ev->run : NULL,
					ev->line,
					ev->line_len};
		if ((r = jst__evchain_add(&chain, &row)) < 0) {
			snprintf(c->s->errmsg, sizeof(c->s->errmsg), "chaining event %s: %s",
				 ev->id, strerror(-r));
			break;
		}
		bool gone = false;
		r = is_deleted(c, ev->run, &gone);
		if (r == 0 && !gone)
			r = jst__agg_add(&c->agg, &ld, ev);
	}
	sqlite3_finalize(st);
	if (r == 0)
		r = jst__sq_evchain_append(c->s, batch, "ingest", &chain);
	jst__evchain_release(&chain);
	return r < 0 ? r : write_agg(c);
}

/* src: a log source's offsets and rejects, stored in the same transaction (NULL: none). */
static int sq_ingest_from(struct jst_store *s, const struct jst_event_batch *b, const struct jst_source_batch *src,
                          struct jst_ingest_result *res)
{
	struct ingest_ctx c;
	memset(res, 0, sizeof(*res));
	int r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = ctx_open(&c, s);
	if (r == 0)
		r = add_events(&c, b, res);
	ctx_close(&c);
	if (r == 0 && src)
		r = jst__sq_source_write(s, src);
	if (r == 0)
		r = jst__sq_audit_ingest(s, b, res); /* the batch and its audit row commit together */
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0) {
		char keep[sizeof(s->errmsg)];
		memcpy(keep, s->errmsg, sizeof(keep));
		sqlite3_exec(jst__sqlite_db(s), "ROLLBACK", NULL, NULL, NULL);
		memcpy(s->errmsg, keep, sizeof(keep));
		memset(res, 0, sizeof(*res));
	}
	return r;
}

static int sq_ingest(struct jst_store *s, const struct jst_event_batch *b, struct jst_ingest_result *res)
{
	return sq_ingest_from(s, b, NULL, res);
}

/* Feeds ev_log batch by batch through the aggregation, as ingest did. */
static int replay_log(struct ingest_ctx *c, uint64_t *events)
{
	sqlite3_stmt *st;
	int r = prepare(c, "SELECT batch, body FROM ev_log WHERE run IS NULL OR run NOT IN (SELECT run FROM ev_deleted)"
	                   " ORDER BY seq", &st); /* the batches' order too */
	sqlite3_int64 cur = -1;
	struct jst_agg_loader ld = {c, load_run, load_zone, load_window, load_intensity};
	struct jst_event ev;
	char err[256];
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_int64 batch = sqlite3_column_int64(st, 0);
		if (batch != cur && cur >= 0)
			r = write_agg(c);
		cur = batch;
		const char *body = (const char *)sqlite3_column_text(st, 1);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (r == 0 && jst_event_parse(body ? body : "", body ? n : 0, &ev, err, sizeof(err)) < 0) {
			snprintf(c->s->errmsg, sizeof(c->s->errmsg), "a stored event no longer parses (%.200s)", err);
			r = -EIO;
		}
		if (r == 0)
			r = jst__agg_add(&c->agg, &ld, &ev);
		(*events)++;
	}
	sqlite3_finalize(st);
	return r < 0 ? r : write_agg(c);
}

/* Inside a transaction: every aggregate deleted and replayed from the log. */
static int rebuild_in_tx(struct jst_store *s, uint64_t *events)
{
	int r = exec(s, "DELETE FROM ev_runs; DELETE FROM ev_run_zones; DELETE FROM ev_windows;"
	                " DELETE FROM ev_totals; DELETE FROM ev_hosts;");
	struct ingest_ctx c;
	int r2 = ctx_open(&c, s);
	if (r == 0)
		r = r2;
	if (r == 0)
		r = replay_log(&c, events);
	ctx_close(&c);
	return r;
}

static int sq_rebuild(struct jst_store *s, uint64_t *events)
{
	*events = 0;
	int r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = rebuild_in_tx(s, events);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0)
		sqlite3_exec(jst__sqlite_db(s), "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* The tombstone and the rebuild without the run commit together: no view ever shows half. */
static int sq_run_delete(struct jst_store *s, const char *run, uint64_t now_ns, uint64_t *events)
{
	sqlite3 *db = jst__sqlite_db(s);
	sqlite3_stmt *st = NULL;
	*events = 0;
	int r = exec(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM ev_runs WHERE run=?", -1, &st, NULL) != SQLITE_OK) {
		r = jst__sqlite_stream_fail(s, "reading a run");
	} else {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			snprintf(s->errmsg, sizeof(s->errmsg), "no run '%.200s' (or it was deleted already)", run);
			r = -ENOENT;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (r == 0 && sqlite3_prepare_v2(db, "INSERT INTO ev_deleted(run, deleted_ns) VALUES(?,?)", -1, &st, NULL) !=
	                      SQLITE_OK)
		r = jst__sqlite_stream_fail(s, "recording the deletion");
	if (r == 0) {
		sqlite3_bind_text(st, 1, run, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)now_ns);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = jst__sqlite_stream_fail(s, "recording the deletion");
	}
	sqlite3_finalize(st);
	if (r == 0)
		r = rebuild_in_tx(s, events);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0) {
		char keep[sizeof(s->errmsg)];
		memcpy(keep, s->errmsg, sizeof(keep));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		memcpy(s->errmsg, keep, sizeof(keep));
	}
	return r;
}

static int sq_durable(struct jst_store *s)
{
	return exec(s, "PRAGMA synchronous=FULL");
}

const struct jst_stream_ops jst__stream_sqlite = {
	.durable = sq_durable,
	.ingest = sq_ingest,
	.rebuild = sq_rebuild,
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
	.audit_add = jst__sq_audit_add,
	.audit_list = jst__sq_audit_list,
	.run_delete = sq_run_delete,
	.ingest_from = sq_ingest_from,
	.source_offsets = jst__sq_source_offsets,
	.sources = jst__sq_sources,
	.events_verify = jst__sq_events_verify,
};
