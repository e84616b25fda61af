/* The PostgreSQL dialect's ingest primitives (ingest.h): the orchestration is the engine's
 * (src/store/ingest.c); here are the statements. A batch is COPYed into a session-temporary
 * table, then INSERT … SELECT … ON CONFLICT (id) DO NOTHING RETURNING id moves the new events
 * into ev_log (an id is stored once); the aggregate rows are read and upserted through
 * statements prepared once per session. A transaction-scoped advisory lock serialises the
 * ingests of every server sharing the database (the aggregates are read, changed and written
 * back). The replay reads ev_log through a cursor. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "core/util.h"
#include "core/jbuf.h"
#include "store/ingest.h"
#include "store/postgres/postgres.h"

#define PG_INGEST_LOCK "SELECT pg_advisory_xact_lock(7418153)"
#define MAXP 28

/* Parameters of one statement: text, except those marked binary (the sketch). */
struct params {
	char buf[MAXP][32];
	const char *v[MAXP];
	int len[MAXP], fmt[MAXP];
	int n;
};

static void p_text(struct params *p, const char *t)
{
	p->v[p->n] = t;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void p_i64(struct params *p, int64_t v)
{
	snprintf(p->buf[p->n], sizeof(p->buf[0]), "%" PRId64, v);
	p_text(p, p->buf[p->n]);
}

static void p_f64(struct params *p, double v)
{
	snprintf(p->buf[p->n], sizeof(p->buf[0]), "%.17g", v);
	p_text(p, p->buf[p->n]);
}

static void p_bin(struct params *p, const void *b, size_t n)
{
	p->v[p->n] = b;
	p->len[p->n] = (int)n;
	p->fmt[p->n++] = 1;
}

static PGresult *run_prepared(struct jst_store *s, const char *name, const struct params *p, ExecStatusType want,
                              int *rc, const char *what)
{
	PGresult *res = jst__pq.PQexecPrepared(jst__pg_conn(s), name, p->n, p->v, p->len, p->fmt, 0);
	if (jst__pq.PQresultStatus(res) != want) {
		*rc = jst__pg_fail(s, res, what);
		return NULL;
	}
	*rc = 0;
	return res;
}

static const char *const prepared[][2] = {
	{"jst_get_run", "SELECT host,\"user\",model,project,zone,phase,ci_g_per_kwh,pue,wue,ewif,interval_s,"
	 "has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,duration_s,samples,energy_j,"
	 "host_energy_j,co2e_g,water_l,gaps,failed,series_host FROM ev_runs WHERE run=$1"},
	{"jst_get_zone", "SELECT last_ts_ns,samples,gaps,energy_j,host_energy_j FROM ev_run_zones"
	 " WHERE run=$1 AND zone=$2"},
	{"jst_get_win", "SELECT samples,energy_j,host_energy_j,co2e_g,water_l,dt_s,max_w,sketch FROM ev_windows"
	 " WHERE run=$1 AND zone=$2 AND win=$3"},
	{"jst_put_run", "INSERT INTO ev_runs(run,host,\"user\",model,project,zone,phase,ci_g_per_kwh,pue,wue,ewif,"
	 "interval_s,has_start,scope_host,finished,start_ns,end_ns,last_ns,exit_code,duration_s,samples,energy_j,"
	 "host_energy_j,co2e_g,water_l,gaps,failed,series_host) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
	 "$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28) ON CONFLICT(run) DO UPDATE SET host=excluded.host,"
	 "\"user\"=excluded.\"user\",model=excluded.model,project=excluded.project,zone=excluded.zone,"
	 "phase=excluded.phase,ci_g_per_kwh=excluded.ci_g_per_kwh,pue=excluded.pue,wue=excluded.wue,"
	 "ewif=excluded.ewif,interval_s=excluded.interval_s,has_start=excluded.has_start,"
	 "scope_host=excluded.scope_host,finished=excluded.finished,start_ns=excluded.start_ns,"
	 "end_ns=excluded.end_ns,last_ns=excluded.last_ns,exit_code=excluded.exit_code,"
	 "duration_s=excluded.duration_s,samples=excluded.samples,energy_j=excluded.energy_j,"
	 "host_energy_j=excluded.host_energy_j,co2e_g=excluded.co2e_g,water_l=excluded.water_l,"
	 "gaps=excluded.gaps,failed=excluded.failed,series_host=excluded.series_host"},
	{"jst_put_zone", "INSERT INTO ev_run_zones(run,zone,kind,source,last_ts_ns,samples,gaps,energy_j,"
	 "host_energy_j) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT(run,zone) DO UPDATE SET kind=excluded.kind,"
	 "source=excluded.source,last_ts_ns=excluded.last_ts_ns,samples=excluded.samples,gaps=excluded.gaps,"
	 "energy_j=excluded.energy_j,host_energy_j=excluded.host_energy_j"},
	{"jst_put_win", "INSERT INTO ev_windows(run,zone,win,samples,energy_j,host_energy_j,co2e_g,water_l,dt_s,"
	 "max_w,p50_w,p90_w,p99_w,sketch) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
	 " ON CONFLICT(run,win,zone) DO UPDATE SET samples=excluded.samples,energy_j=excluded.energy_j,"
	 "host_energy_j=excluded.host_energy_j,co2e_g=excluded.co2e_g,water_l=excluded.water_l,dt_s=excluded.dt_s,"
	 "max_w=excluded.max_w,p50_w=excluded.p50_w,p90_w=excluded.p90_w,p99_w=excluded.p99_w,"
	 "sketch=excluded.sketch"},
	{"jst_put_total", "INSERT INTO ev_totals(dim,key,win,samples,energy_j,co2e_g,water_l)"
	 " VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(dim,win,key) DO UPDATE SET"
	 " samples=ev_totals.samples+excluded.samples, energy_j=ev_totals.energy_j+excluded.energy_j,"
	 " co2e_g=ev_totals.co2e_g+excluded.co2e_g, water_l=ev_totals.water_l+excluded.water_l"},
	{"jst_put_host", "INSERT INTO ev_hosts(host,agent,last_ns,interval_s) VALUES($1,$2,$3,$4)"
	 " ON CONFLICT(host) DO UPDATE SET agent=excluded.agent, last_ns=excluded.last_ns,"
	 " interval_s=excluded.interval_s WHERE excluded.last_ns>=ev_hosts.last_ns"},
};

/* Once per session: the statements above and the staging table of COPY. */
static int session_setup(struct jst_store *s)
{
	struct pg_store *ps = (struct pg_store *)s;
	if (ps->staging)
		return 0;
	int r = jst__pg_exec(s, "CREATE TEMP TABLE IF NOT EXISTS ev_in(ord INTEGER, id TEXT, type TEXT, run TEXT,"
	                     " ts_ns BIGINT, body TEXT) ON COMMIT DELETE ROWS", "creating the staging table");
	for (size_t i = 0; r == 0 && i < JST_ARRAY_LEN(prepared); i++) {
		PGresult *res = jst__pq.PQprepare(ps->conn, prepared[i][0], prepared[i][1], 0, NULL);
		if (jst__pq.PQresultStatus(res) != PGRES_COMMAND_OK)
			r = jst__pg_fail(s, res, "preparing a statement");
		else
			jst__pq.PQclear(res);
	}
	ps->staging = r == 0;
	return r;
}

static int load_run(void *ud, const char *run, struct jst_agg_run *r)
{
	struct jst_store *s = ud;
	struct params p = {.n = 0};
	p_text(&p, run);
	int rc;
	PGresult *res = run_prepared(s, "jst_get_run", &p, PGRES_TUPLES_OK, &rc, "reading a run");
	if (!res || jst__pq.PQntuples(res) == 0) {
		jst__pq.PQclear(res);
		return rc;
	}
	jst__strlcpy(r->run, run, sizeof(r->run));
	jst__pg_text(res, 0, 0, r->host, sizeof(r->host));
	jst__pg_text(res, 0, 1, r->user, sizeof(r->user));
	jst__pg_text(res, 0, 2, r->model, sizeof(r->model));
	jst__pg_text(res, 0, 3, r->project, sizeof(r->project));
	jst__pg_text(res, 0, 4, r->zone, sizeof(r->zone));
	jst__pg_text(res, 0, 5, r->phase, sizeof(r->phase));
	double *d[] = {&r->ci_g_per_kwh, &r->pue, &r->wue, &r->ewif, &r->interval_s};
	for (int k = 0; k < 5; k++)
		*d[k] = jst__pg_f64(res, 0, 6 + k);
	r->has_start = jst__pg_i64(res, 0, 11) != 0;
	r->scope_host = jst__pg_i64(res, 0, 12) != 0;
	r->finished = jst__pg_i64(res, 0, 13) != 0;
	r->start_ns = (uint64_t)jst__pg_i64(res, 0, 14);
	r->end_ns = (uint64_t)jst__pg_i64(res, 0, 15);
	r->last_ns = (uint64_t)jst__pg_i64(res, 0, 16);
	r->exit_code = (int)jst__pg_i64(res, 0, 17);
	r->duration_s = jst__pg_f64(res, 0, 18);
	r->samples = jst__pg_i64(res, 0, 19);
	r->energy_j = jst__pg_f64(res, 0, 20);
	r->host_energy_j = jst__pg_f64(res, 0, 21);
	r->co2e_g = jst__pg_f64(res, 0, 22);
	r->water_l = jst__pg_f64(res, 0, 23);
	r->gaps = jst__pg_i64(res, 0, 24);
	r->failed = jst__pg_i64(res, 0, 25);
	r->series_host = jst__pg_i64(res, 0, 26) != 0;
	jst__pq.PQclear(res);
	return 1;
}

static int load_zone(void *ud, const char *run, const char *zone, struct jst_agg_zone *z)
{
	struct jst_store *s = ud;
	struct params p = {.n = 0};
	p_text(&p, run);
	p_text(&p, zone);
	int rc;
	PGresult *res = run_prepared(s, "jst_get_zone", &p, PGRES_TUPLES_OK, &rc, "reading a run's zone");
	if (!res || jst__pq.PQntuples(res) == 0) {
		jst__pq.PQclear(res);
		return rc;
	}
	z->last_ts_ns = (uint64_t)jst__pg_i64(res, 0, 0);
	z->samples = jst__pg_i64(res, 0, 1);
	z->gaps = jst__pg_i64(res, 0, 2);
	z->energy_j = jst__pg_f64(res, 0, 3);
	z->host_energy_j = jst__pg_f64(res, 0, 4);
	jst__pq.PQclear(res);
	return 1;
}

/* The run's events up to a batch (ingest.h), 4096 rows a round trip in seq order: a type
 * other than sample through the partial index ev_log_run_type, else through ev_log_run_seq. */
static int load_events(void *ud, const char *run, const char *type, int64_t max_batch, uint64_t from_ns,
		       int (*fn)(int64_t, const char *, size_t, void *), void *arg)
{
	struct jst_store *s = ud;
	const char *sql = type && strcmp(type, "sample") != 0 ?
	                  "SELECT seq,body FROM ev_log WHERE run=$1 AND batch<=$2::bigint AND ts_ns>=$3::bigint"
	                  " AND seq>$4::bigint AND type=$5 AND type<>'sample' ORDER BY seq LIMIT 4096" :
	                  type ? "SELECT seq,body FROM ev_log WHERE run=$1 AND batch<=$2::bigint AND ts_ns>=$3::bigint"
	                         " AND seq>$4::bigint AND type=$5 ORDER BY seq LIMIT 4096" :
	                         "SELECT seq,body FROM ev_log WHERE run=$1 AND batch<=$2::bigint AND ts_ns>=$3::bigint"
	                         " AND seq>$4::bigint ORDER BY seq LIMIT 4096";
	char b[24], f[24], a[24];
	snprintf(b, sizeof(b), "%" PRId64, max_batch);
	snprintf(f, sizeof(f), "%" PRId64, from_ns > INT64_MAX ? INT64_MAX : (int64_t)from_ns);
	int64_t after = 0;
	int rc = 0;
	for (int rows = 4096; rc == 0 && rows == 4096;) {
		snprintf(a, sizeof(a), "%" PRId64, after);
		const char *params[] = {run, b, f, a, type};
		PGresult *res = jst__pg_query(s, sql, type ? 5 : 4, params, PGRES_TUPLES_OK, &rc,
		                              "reading a run's events");
		if (!res)
			return rc;
		rows = jst__pq.PQntuples(res);
		for (int i = 0; rc == 0 && i < rows; i++) {
			after = jst__pg_i64(res, i, 0);
			rc = fn(after, jst__pq.PQgetvalue(res, i, 1), (size_t)jst__pq.PQgetlength(res, i, 1), arg);
		}
		jst__pq.PQclear(res);
	}
	return rc < 0 ? rc : 0;
}

static int load_last_sample(void *ud, const char *run, uint64_t *ts_ns)
{
	int rc;
	*ts_ns = 0;
	PGresult *res = jst__pg_query(ud, "SELECT coalesce(max(last_ts_ns),0) FROM ev_run_zones WHERE run=$1", 1,
	                              &run, PGRES_TUPLES_OK, &rc, "reading a run's zones");
	if (!res)
		return rc;
	if (jst__pq.PQntuples(res) > 0)
		*ts_ns = (uint64_t)jst__pg_i64(res, 0, 0);
	jst__pq.PQclear(res);
	return 0;
}

static int load_window(void *ud, const char *run, const char *zone, uint64_t win, struct jst_agg_window *w)
{
	struct jst_store *s = ud;
	struct params p = {.n = 0};
	p_text(&p, run);
	p_text(&p, zone);
	p_i64(&p, (int64_t)win);
	int rc;
	PGresult *res = run_prepared(s, "jst_get_win", &p, PGRES_TUPLES_OK, &rc, "reading a window");
	if (!res || jst__pq.PQntuples(res) == 0) {
		jst__pq.PQclear(res);
		return rc;
	}
	w->samples = jst__pg_i64(res, 0, 0);
	double *d[] = {&w->energy_j, &w->host_energy_j, &w->co2e_g, &w->water_l, &w->dt_s, &w->max_w};
	for (int k = 0; k < 6; k++)
		*d[k] = jst__pg_f64(res, 0, 1 + k);
	size_t n = 0;
	unsigned char *blob = jst__pq.PQunescapeBytea((const unsigned char *)jst__pq.PQgetvalue(res, 0, 7), &n);
	rc = blob && jst__sketch_decode(&w->sketch, blob, n) == 0 ? 1 : -EIO;
	jst__pq.PQfreemem(blob);
	jst__pq.PQclear(res);
	if (rc < 0)
		snprintf(s->errmsg, sizeof(s->errmsg), "a stored window sketch is corrupt: run joulestream replay");
	return rc;
}

static int put_runs(struct jst_store *s, const struct jst_agg *a)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->nruns; i++) {
		const struct jst_agg_run *x = &a->runs[i];
		struct params p = {.n = 0};
		const char *t[] = {x->run, x->host, x->user, x->model, x->project, x->zone, x->phase};
		for (int k = 0; k < 7; k++)
			p_text(&p, t[k]);
		double d[] = {x->ci_g_per_kwh, x->pue, x->wue, x->ewif, x->interval_s};
		for (int k = 0; k < 5; k++)
			p_f64(&p, d[k]);
		int64_t n[] = {x->has_start, x->scope_host, x->finished, (int64_t)x->start_ns, (int64_t)x->end_ns,
		               (int64_t)x->last_ns, x->exit_code};
		for (int k = 0; k < 7; k++)
			p_i64(&p, n[k]);
		p_f64(&p, x->duration_s);
		p_i64(&p, x->samples);
		double e[] = {x->energy_j, x->host_energy_j, x->co2e_g, x->water_l};
		for (int k = 0; k < 4; k++)
			p_f64(&p, e[k]);
		p_i64(&p, x->gaps);
		p_i64(&p, x->failed);
		p_i64(&p, x->series_host);
		jst__pq.PQclear(run_prepared(s, "jst_put_run", &p, PGRES_COMMAND_OK, &r, "writing a run's totals"));
	}
	return r;
}

static int put_zones(struct jst_store *s, const struct jst_agg *a)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->nzones; i++) {
		const struct jst_agg_zone *z = &a->zones[i];
		struct params p = {.n = 0};
		p_text(&p, a->runs[z->run].run);
		p_text(&p, z->zone);
		p_text(&p, z->kind);
		p_text(&p, z->source);
		p_i64(&p, (int64_t)z->last_ts_ns);
		p_i64(&p, z->samples);
		p_i64(&p, z->gaps);
		p_f64(&p, z->energy_j);
		p_f64(&p, z->host_energy_j);
		jst__pq.PQclear(run_prepared(s, "jst_put_zone", &p, PGRES_COMMAND_OK, &r, "writing a run's zone"));
	}
	return r;
}

static int put_windows(struct jst_store *s, const struct jst_agg *a)
{
	int r = 0;
	unsigned char blob[JST_SKETCH_MAX * 8];
	for (size_t i = 0; r == 0 && i < a->nwins; i++) {
		const struct jst_agg_window *w = &a->wins[i];
		struct params p = {.n = 0};
		p_text(&p, a->runs[w->run].run);
		p_text(&p, w->zone);
		p_i64(&p, (int64_t)w->win);
		p_i64(&p, w->samples);
		double d[] = {w->energy_j, w->host_energy_j, w->co2e_g, w->water_l, w->dt_s, w->max_w,
		              jst__sketch_quantile(&w->sketch, 0.5), jst__sketch_quantile(&w->sketch, 0.9),
		              jst__sketch_quantile(&w->sketch, 0.99)};
		for (int k = 0; k < 9; k++)
			p_f64(&p, d[k]);
		p_bin(&p, blob, jst__sketch_encode(&w->sketch, blob, sizeof(blob)));
		jst__pq.PQclear(run_prepared(s, "jst_put_win", &p, PGRES_COMMAND_OK, &r, "writing a window"));
	}
	return r;
}

static int put_totals(struct jst_store *s, const struct jst_agg *a)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->ntotals; i++) {
		const struct jst_agg_total *t = &a->totals[i];
		struct params p = {.n = 0};
		p_text(&p, jst__agg_dim_name(t->dim));
		p_text(&p, t->key);
		p_i64(&p, (int64_t)t->win);
		p_i64(&p, t->samples);
		p_f64(&p, t->energy_j);
		p_f64(&p, t->co2e_g);
		p_f64(&p, t->water_l);
		jst__pq.PQclear(run_prepared(s, "jst_put_total", &p, PGRES_COMMAND_OK, &r, "writing a total"));
	}
	return r;
}

/* The newest heartbeat per host wins, whichever batch it came in. */
static int put_hosts(struct jst_store *s, const struct jst_agg *a)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < a->nhosts; i++) {
		const struct jst_agg_host *h = &a->hosts[i];
		struct params p = {.n = 0};
		p_text(&p, h->host);
		p_text(&p, h->agent);
		p_i64(&p, (int64_t)h->last_ns);
		p_f64(&p, h->interval_s);
		jst__pq.PQclear(run_prepared(s, "jst_put_host", &p, PGRES_COMMAND_OK, &r,
		                             "writing a host's heartbeat"));
	}
	return r;
}

/* One COPY text-format field: backslash, tab, newline and carriage return escaped. */
static void copy_field(struct jst_jbuf *b, const char *p, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i], e = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : 0;
		if (!e)
			continue;
		jst__jbuf_put(b, p + from, i - from);
		char esc[2] = {'\\', e};
		jst__jbuf_put(b, esc, 2);
		from = i + 1;
	}
	jst__jbuf_put(b, p + from, n - from);
}

/* COPY the batch into ev_in (ord = its position in the batch). */
static int copy_batch(struct jst_store *s, const struct jst_event_batch *b)
{
	PGconn *c = jst__pg_conn(s);
	PGresult *res = jst__pq.PQexec(c, "COPY ev_in(ord,id,type,run,ts_ns,body) FROM STDIN");
	if (jst__pq.PQresultStatus(res) != PGRES_COPY_IN)
		return jst__pg_fail(s, res, "starting COPY");
	jst__pq.PQclear(res);
	struct jst_jbuf buf;
	jst__jbuf_init(&buf, (size_t)1 << 30);
	int r = 0;
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		const struct jst_event *ev = &b->ev[i];
		jst__jbuf_printf(&buf, "%zu\t", i);
		copy_field(&buf, ev->id, strlen(ev->id));
		jst__jbuf_printf(&buf, "\t%s\t", jst_event_type_name(ev->type));
		if (ev->run[0])
			copy_field(&buf, ev->run, strlen(ev->run));
		else
			jst__jbuf_str(&buf, "\\N");
		jst__jbuf_printf(&buf, "\t%" PRId64 "\t", (int64_t)ev->ts_ns);
		copy_field(&buf, ev->line, ev->line_len);
		jst__jbuf_put(&buf, "\n", 1);
		if (buf.full)
			r = -ENOMEM;
		else if (buf.len >= 65536 || i + 1 == b->n) {
			if (jst__pq.PQputCopyData(c, buf.p, (int)buf.len) != 1)
				r = jst__pg_fail(s, NULL, "sending COPY data");
			jst__jbuf_reset(&buf);
		}
	}
	jst__jbuf_release(&buf);
	if (r == -ENOMEM)
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory building the COPY data");
	if (jst__pq.PQputCopyEnd(c, r == 0 ? NULL : "batch abandoned") != 1 && r == 0)
		r = jst__pg_fail(s, NULL, "ending COPY");
	while ((res = jst__pq.PQgetResult(c)) != NULL) {
		if (jst__pq.PQresultStatus(res) != PGRES_COMMAND_OK && r == 0)
			r = jst__pg_fail(s, res, "copying the batch");
		else
			jst__pq.PQclear(res);
	}
	return r;
}

/* A new event as RETURNING gives it. */
struct stored {
	const char *id;
	int64_t seq;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* COPYs the batch into ev_in and moves its new events into ev_log: an id that RETURNING names
 * is new once, at its first place in the batch (seq[i] its seq; 0 for a duplicate). */
static int pg_insert(struct jst_store *s, const struct jst_event_batch *b, int64_t *batch_no, int64_t *seq)
{
	int r = copy_batch(s, b);
	if (r < 0)
		return r;
	PGresult *q = jst__pg_query(s, "SELECT nextval('ev_batch_seq')", 0, NULL, PGRES_TUPLES_OK, &r, "numbering the batch");
	if (!q)
		return r;
	const char *batch[1] = {jst__pq.PQgetvalue(q, 0, 0)};
	PGresult *ins = jst__pg_query(
		s,
		"INSERT INTO ev_log(id,batch,type,run,ts_ns,body) SELECT id,$1::bigint,type,run,"
		"ts_ns,body FROM ev_in ORDER BY ord ON CONFLICT (id) DO NOTHING RETURNING id, seq",
		1, batch, PGRES_TUPLES_OK, &r, "storing the events");
	*batch_no = strtoll(batch[0], NULL, 10);
	jst__pq.PQclear(q);
	if (!ins)
		return r;
	int n = jst__pq.PQntuples(ins);
	struct stored *ids =
		calloc((size_t)n + 1, sizeof(*ids)); /* id first: cmp_str compares them */
	bool *used = calloc((size_t)n + 1, sizeof(*used));
	if (!ids || !used) {
		free(ids);
		free(used);
		jst__pq.PQclear(ins);
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		ids[i] = (struct stored){jst__pq.PQgetvalue(ins, i, 0), jst__pg_i64(ins, i, 1)};
	qsort(ids, (size_t)n, sizeof(*ids), cmp_str);
	for (size_t i = 0; i < b->n; i++) {
		const char *key = b->ev[i].id;
		const struct stored *hit = bsearch(&key, ids, (size_t)n, sizeof(*ids), cmp_str);
		seq[i] = 0;
		if (hit && !used[hit - ids]) {
			used[hit - ids] = true; /* a later copy in the batch is a duplicate */
			seq[i] = hit->seq;
		}
	}
	free(ids);
	free(used);
	jst__pq.PQclear(ins);
	return 0;
}

static void pg_rollback(struct jst_store *s)
{
	char keep[sizeof(s->errmsg)];
	memcpy(keep, s->errmsg, sizeof(keep));
	jst__pq.PQclear(jst__pq.PQexec(jst__pg_conn(s), "ROLLBACK"));
	memcpy(s->errmsg, keep, sizeof(keep));
}

/* A connection lost since the last call (server restart) is re-opened once before a batch. */
static int pg_begin(struct jst_store *s)
{
	/* before the session setup, which skips its statements when staging looks done */
	int r = jst__pg_ready(s);
	if (r == 0)
		r = session_setup(s);
	if (r == 0)
		r = jst__pg_exec(s, "BEGIN", "starting a transaction");
	if (r == 0 && (r = jst__pg_exec(s, PG_INGEST_LOCK, "waiting for the ingest lock")) < 0)
		pg_rollback(s);
	return r;
}

static int pg_commit(struct jst_store *s)
{
	return jst__pg_exec(s, "COMMIT", "committing the transaction");
}

static int pg_deleted(struct jst_store *s, const char *run)
{
	int r;
	const char *p[] = {run};
	PGresult *res = jst__pg_query(s, "SELECT 1 FROM ev_deleted WHERE run=$1", 1, p, PGRES_TUPLES_OK, &r,
	                              "reading run tombstones");
	if (!res)
		return r;
	r = jst__pq.PQntuples(res) > 0;
	jst__pq.PQclear(res);
	return r;
}

/* A run's phase totals, keys "RUN/…": the byte range ["RUN/", "RUN0") of ev_totals_phase. */
static int drop_phases(struct jst_store *s, const char *run)
{
	char lo[JST_EVENT_ID_MAX + 2], hi[JST_EVENT_ID_MAX + 2];
	snprintf(lo, sizeof(lo), "%s/", run);
	snprintf(hi, sizeof(hi), "%s0", run);
	const char *params[] = {lo, hi};
	int rc;
	PGresult *res = jst__pg_query(s, "DELETE FROM ev_totals WHERE dim='phase' AND key COLLATE \"C\">=$1"
	                              " AND key COLLATE \"C\"<$2", 2, params, PGRES_COMMAND_OK, &rc,
	                              "replacing a run's phase totals");
	jst__pq.PQclear(res);
	return rc;
}

static int pg_clear(struct jst_store *s)
{
	return jst__pg_exec(s, "DELETE FROM ev_runs; DELETE FROM ev_run_zones; DELETE FROM ev_windows;"
	                    " DELETE FROM ev_totals; DELETE FROM ev_hosts; DELETE FROM ev_hier", "deleting the aggregates");
}

/* Through a cursor, 2000 rows a round trip; it closes with the transaction. */
static int pg_replay(struct jst_store *s, int (*fn)(void *ud, int64_t batch, const char *body, size_t len),
                     void *ud)
{
	int r = jst__pg_exec(s, "DECLARE jst_replay NO SCROLL CURSOR FOR SELECT batch, body FROM ev_log"
	                     " WHERE run IS NULL OR run NOT IN (SELECT run FROM ev_deleted)"
	                     " ORDER BY batch, seq", "reading the event log");
	for (int rows = 1; r == 0 && rows > 0;) {
		PGresult *res = jst__pg_query(s, "FETCH 2000 FROM jst_replay", 0, NULL, PGRES_TUPLES_OK, &r,
		                              "reading the event log");
		rows = res ? jst__pq.PQntuples(res) : 0;
		for (int i = 0; r == 0 && i < rows; i++)
			r = fn(ud, jst__pg_i64(res, i, 0), jst__pq.PQgetvalue(res, i, 1),
			       (size_t)jst__pq.PQgetlength(res, i, 1));
		jst__pq.PQclear(res);
	}
	return r;
}

static int pg_run_exists(struct jst_store *s, const char *run)
{
	int r;
	const char *p[] = {run};
	PGresult *res = jst__pg_query(s, "SELECT 1 FROM ev_runs WHERE run=$1", 1, p, PGRES_TUPLES_OK, &r,
	                              "reading a run");
	if (!res)
		return r;
	r = jst__pq.PQntuples(res) > 0;
	jst__pq.PQclear(res);
	return r;
}

static int pg_tombstone(struct jst_store *s, const char *run, uint64_t now_ns)
{
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)now_ns);
	const char *p[] = {run, now};
	int r;
	jst__pq.PQclear(jst__pg_query(s, "INSERT INTO ev_deleted(run, deleted_ns) VALUES($1,$2)", 2, p,
	                              PGRES_COMMAND_OK, &r, "recording the deletion"));
	return r;
}

/* A commit returns once the server has flushed its WAL (the default; asked for explicitly). */
static int pg_durable(struct jst_store *s)
{
	return jst__pg_exec(s, "SET synchronous_commit TO on", "asking for durable commits");
}

static const struct jst_log_ops postgres_log = {
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.insert = pg_insert,
	.deleted = pg_deleted,
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
	.chain_append = jst__pg_evchain_append,
	.audit_append = jst__pg_audit_append,
	.source_write = jst__pg_source_write,
	.clear = pg_clear,
	.replay = pg_replay,
	.run_exists = pg_run_exists,
	.tombstone = pg_tombstone,
	.hier_claims = jst__pg_hier_claims,
	.hier_put = jst__pg_hier_put,
	.run_wins = jst__pg_run_wins,
};

/* Schema 4 (postgres.c), inside its transaction: every aggregate replayed from the log, so
 * the host hierarchy's rows exist for the events stored before it. */
int jst__pg_reaggregate(struct jst_store *s)
{
	uint64_t events = 0;
	int r = session_setup(s);
	if (r == 0)
		r = jst__pg_exec(s, PG_INGEST_LOCK, "waiting for the ingest lock");
	return r < 0 ? r : jst__ingest_reaggregate(s, &postgres_log, &events);
}

const struct jst_stream_ops jst__stream_postgres = {
	.log = &postgres_log,
	.durable = pg_durable,
	.runs = jst__pg_runs,
	.run = jst__pg_run,
	.zones = jst__pg_zones,
	.hosts = jst__pg_hosts,
	.events = jst__pg_events,
	.windows = jst__pg_windows,
	.aggregates = jst__pg_aggregates,
	.phases = jst__pg_phases,
	.token_add = jst__pg_token_add,
	.tokens = jst__pg_tokens,
	.token_revoke = jst__pg_token_revoke,
	.audit_list = jst__pg_audit_list,
	.source_offsets = jst__pg_source_offsets,
	.sources = jst__pg_sources,
	.events_verify = jst__pg_events_verify,
};
