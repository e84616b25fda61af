/* Reading the event log's views in PostgreSQL for the query API (postgres.h): runs with
 * filters, sorting and keyset pages (the cursor of store/cursor.h), a run's zones, windows and
 * raw events, a run's phases (through its own keys), totals by user, model, host, zone or phase
 * (summed in window order, as SQLite's scan of its primary key does, so both stores give the
 * same figures), and the API tokens table. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/jbuf.h"
#include "store/cursor.h"
#include "store/postgres/postgres.h"

#define RUN_COLS "run,host,\"user\",model,project,zone,finished,start_ns,end_ns,last_ns,duration_s,interval_s," \
                 "pue,ci_g_per_kwh,exit_code,samples,gaps,failed,energy_j,host_energy_j,co2e_g,water_l,has_start," \
                 "series_host"

static void read_run(const PGresult *res, int i, struct jst_run_summary *r)
{
	memset(r, 0, sizeof(*r));
	jst__pg_text(res, i, 0, r->run, sizeof(r->run));
	jst__pg_text(res, i, 1, r->host, sizeof(r->host));
	jst__pg_text(res, i, 2, r->user, sizeof(r->user));
	jst__pg_text(res, i, 3, r->model, sizeof(r->model));
	jst__pg_text(res, i, 4, r->project, sizeof(r->project));
	jst__pg_text(res, i, 5, r->zone, sizeof(r->zone));
	jst__strlcpy(r->status, jst__pg_i64(res, i, 6) ? "finished" : "running", sizeof(r->status));
	r->start_ns = (uint64_t)jst__pg_i64(res, i, 7);
	r->end_ns = (uint64_t)jst__pg_i64(res, i, 8);
	r->last_ns = (uint64_t)jst__pg_i64(res, i, 9);
	r->duration_s = jst__pg_f64(res, i, 10);
	r->interval_s = jst__pg_f64(res, i, 11);
	r->pue = jst__pg_f64(res, i, 12);
	r->ci_g_per_kwh = jst__pg_f64(res, i, 13);
	r->exit_code = (int)jst__pg_i64(res, i, 14);
	r->samples = jst__pg_i64(res, i, 15);
	r->gaps = jst__pg_i64(res, i, 16);
	r->failed = jst__pg_i64(res, i, 17);
	r->energy_j = jst__pg_f64(res, i, 18);
	r->host_energy_j = jst__pg_f64(res, i, 19);
	r->co2e_g = jst__pg_f64(res, i, 20);
	r->water_l = jst__pg_f64(res, i, 21);
	r->has_start = jst__pg_i64(res, i, 22) != 0;
	r->host_series = jst__pg_i64(res, i, 23) != 0;
}

static void runs_where(struct jst_jbuf *sql, const struct jst_run_query *q, const char **vals, int *np)
{
	const char *cols[] = {"\"user\"", "model", "host", "zone", "\"user\""};
	const char *in[] = {q->user, q->model, q->host, q->zone, q->only_user};
	for (int i = 0; i < 5; i++)
		if (in[i]) {
			vals[*np] = in[i];
			jst__jbuf_printf(sql, " AND %s=$%d", cols[i], ++*np);
		}
	if (q->from_ns)
		jst__jbuf_printf(sql, " AND start_ns>=%" PRIu64, q->from_ns);
	if (q->to_ns)
		jst__jbuf_printf(sql, " AND start_ns<%" PRIu64, q->to_ns);
	if (q->status && strcmp(q->status, "finished") == 0)
		jst__jbuf_str(sql, " AND finished=1");
	else if (q->status && strcmp(q->status, "running") == 0)
		jst__jbuf_str(sql, " AND finished=0");
	else if (q->status && strcmp(q->status, "stalled") == 0)
		jst__jbuf_printf(sql, " AND finished=0 AND last_ns < %" PRIu64 " - greatest(interval_s,1.0)*%.17g",
		                 q->now_ns, q->stall_intervals * 1e9);
}

int jst__pg_runs(struct jst_store *s, const struct jst_run_query *q,
                 int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen)
{
	struct jst_jbuf sql;
	jst__jbuf_init(&sql, 4096);
	jst__jbuf_printf(&sql, "SELECT " RUN_COLS " FROM ev_runs WHERE series_host=%d", q->host_series);
	const char *vals[8];
	int np = 0;
	runs_where(&sql, q, vals, &np);
	/* the cursor's double as %.17g: sorting and comparing on col::float8 keeps pages exact */
	char cv[40], crun[JST_EVENT_ID_MAX + 1] = "";
	double d = 0;
	const char *col = jst__run_sort_col(q->sort);
	int paged = jst__run_cursor(s, q, &d, crun, sizeof(crun));
	if (paged < 0) {
		jst__jbuf_release(&sql);
		return paged;
	}
	if (paged) {
		snprintf(cv, sizeof(cv), "%.17g", d);
		vals[np++] = cv;
		vals[np++] = crun;
		jst__jbuf_printf(&sql, " AND (%s::float8 < $%d::float8 OR (%s::float8 = $%d::float8 AND run < $%d))", col,
		                 np - 1, col, np - 1, np);
	}
	jst__jbuf_printf(&sql, " ORDER BY %s::float8 DESC, run DESC LIMIT %zu", col, q->limit + 1);
	int rc;
	PGresult *res = sql.full ? NULL : jst__pg_query(s, sql.p, np, vals, PGRES_TUPLES_OK, &rc, "listing runs");
	jst__jbuf_release(&sql);
	if (!res)
		return sql.full ? -ENOMEM : rc;
	struct jst_run_page page;
	struct jst_run_summary r;
	jst__run_page_init(&page, q, fn, ud, next, nextlen);
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		read_run(res, i, &r);
		if (jst__run_page_add(&page, &r))
			break;
	}
	jst__pq.PQclear(res);
	return (int)page.n;
}

int jst__pg_run(struct jst_store *s, const char *id, struct jst_run_summary *r)
{
	int rc;
	PGresult *res = jst__pg_query(s, "SELECT " RUN_COLS " FROM ev_runs WHERE run=$1", 1, &id, PGRES_TUPLES_OK, &rc,
	                              "reading a run");
	if (!res)
		return rc;
	rc = jst__pq.PQntuples(res) ? 0 : -ENOENT;
	if (rc == 0)
		read_run(res, 0, r);
	jst__pq.PQclear(res);
	return rc;
}

int jst__pg_zones(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *), void *ud)
{
	int rc, n = 0;
	PGresult *res = jst__pg_query(s, "SELECT zone,kind,source,samples,gaps,energy_j,host_energy_j FROM ev_run_zones"
	                              " WHERE run=$1 ORDER BY zone COLLATE \"C\"", 1, &id, PGRES_TUPLES_OK, &rc,
	                              "reading a run's zones");
	if (!res)
		return rc;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_zone_summary z;
		jst__pg_text(res, i, 0, z.zone, sizeof(z.zone));
		jst__pg_text(res, i, 1, z.kind, sizeof(z.kind));
		jst__pg_text(res, i, 2, z.source, sizeof(z.source));
		z.samples = jst__pg_i64(res, i, 3);
		z.gaps = jst__pg_i64(res, i, 4);
		z.energy_j = jst__pg_f64(res, i, 5);
		z.host_energy_j = jst__pg_f64(res, i, 6);
		n++;
		if (fn(&z, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}

int jst__pg_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud)
{
	int rc, n = 0;
	PGresult *res = jst__pg_query(s, "SELECT host,agent,last_ns,interval_s FROM ev_hosts"
	                              " ORDER BY host COLLATE \"C\"", 0, NULL, PGRES_TUPLES_OK, &rc,
	                              "reading the hosts' heartbeats");
	if (!res)
		return rc;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_host_summary h;
		jst__pg_text(res, i, 0, h.host, sizeof(h.host));
		jst__pg_text(res, i, 1, h.agent, sizeof(h.agent));
		h.last_ns = (uint64_t)jst__pg_i64(res, i, 2);
		h.interval_s = jst__pg_f64(res, i, 3);
		n++;
		if (fn(&h, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}

/* As SQLite's (sqlite_events.c): the stored bodies of the run's events, of one type or all, with
 * a log sequence number above after, in log order, at most limit; deleted runs are the caller's
 * to refuse (their events stay in the log). Walked with ev_log_run_seq. */
int jst__pg_events(struct jst_store *s, const char *run, const char *type, int64_t after,
                   size_t limit, int (*fn)(int64_t seq, const char *body, size_t len, void *ud),
                   void *ud)
{
	char a[24], l[24];
	snprintf(a, sizeof(a), "%lld", (long long)after);
	snprintf(l, sizeof(l), "%lld", (long long)(limit > INT64_MAX ? INT64_MAX : limit));
	const char *params[] = {run, a, l, type};
	/* a type other than sample: the partial index ev_log_run_type, not the run's samples */
	const char *sql = type && strcmp(type, "sample") != 0 ?
	                  "SELECT seq,body FROM ev_log WHERE run=$1 AND seq>$2::bigint AND type=$4 AND type<>'sample'"
	                  " ORDER BY seq LIMIT $3::bigint" :
	                  type ? "SELECT seq,body FROM ev_log WHERE run=$1 AND seq>$2::bigint AND type=$4"
	                         " ORDER BY seq LIMIT $3::bigint" :
	                         "SELECT seq,body FROM ev_log WHERE run=$1 AND seq>$2::bigint ORDER BY seq"
	                         " LIMIT $3::bigint";
	int rc;
	PGresult *res = jst__pg_query(s, sql, type ? 4 : 3, params, PGRES_TUPLES_OK, &rc,
	                              "reading a run's events");
	if (!res)
		return rc;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		const char *body = jst__pq.PQgetvalue(res, i, 1);
		rc = fn(jst__pg_i64(res, i, 0), body, (size_t)jst__pq.PQgetlength(res, i, 1), ud);
		if (rc != 0)
			break;
	}
	jst__pq.PQclear(res);
	return rc < 0 ? rc : 0;
}

int jst__pg_windows(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *), void *ud)
{
	int rc, n = 0;
	PGresult *res = jst__pg_query(s, "SELECT zone,win,samples,energy_j,host_energy_j,co2e_g,water_l,dt_s,max_w,"
	                              "p50_w,p90_w,p99_w FROM ev_windows WHERE run=$1 ORDER BY win, zone COLLATE \"C\"",
	                              1, &id, PGRES_TUPLES_OK, &rc, "reading a run's windows");
	if (!res)
		return rc;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_window w;
		jst__pg_text(res, i, 0, w.zone, sizeof(w.zone));
		w.win_ns = (uint64_t)jst__pg_i64(res, i, 1);
		w.samples = jst__pg_i64(res, i, 2);
		w.energy_j = jst__pg_f64(res, i, 3);
		w.host_energy_j = jst__pg_f64(res, i, 4);
		w.co2e_g = jst__pg_f64(res, i, 5);
		w.water_l = jst__pg_f64(res, i, 6);
		double dt = jst__pg_f64(res, i, 7);
		w.avg_w = dt > 0 ? w.energy_j / dt : 0;
		w.max_w = jst__pg_f64(res, i, 8);
		w.p50_w = jst__pg_f64(res, i, 9);
		w.p90_w = jst__pg_f64(res, i, 10);
		w.p99_w = jst__pg_f64(res, i, 11);
		n++;
		if (fn(&w, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}

static int each_total(PGresult *res, int (*fn)(const struct jst_aggregate *, void *), void *ud);

int jst__pg_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to, const char *only_user,
                       int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	char sql[640], f[24], t[24];
	int w;
	if (!only_user && strcmp(by, "phase") != 0) /* the host hierarchy: a host counted once */
		return jst__pg_hier_aggregates(s, by, from, to, fn, ud);
	if (only_user) /* a reader: from the windows of its own runs */
		w = snprintf(sql, sizeof(sql), "SELECT r.\"%s\", sum(w.samples), sum(w.energy_j), sum(w.co2e_g),"
		             " sum(w.water_l) FROM ev_windows w JOIN ev_runs r ON r.run=w.run WHERE r.\"user\"=$3"
		             " AND r.series_host=0"
		             " AND w.win>=$1 AND w.win<$2 AND w.zone IN (SELECT zone FROM ev_run_zones z WHERE"
		             " z.run=w.run AND z.kind NOT IN ('core','uncore','psys')) GROUP BY 1 ORDER BY 3 DESC, 1",
		             by);
	else
		w = snprintf(sql, sizeof(sql), "SELECT key, sum(samples), sum(energy_j ORDER BY win),"
		             " sum(co2e_g ORDER BY win), sum(water_l ORDER BY win) FROM ev_totals WHERE dim=$3"
		             " AND win>=$1 AND win<$2 GROUP BY key ORDER BY 3 DESC, 1");
	if (w < 0 || (size_t)w >= sizeof(sql))
		return -ENAMETOOLONG;
	snprintf(f, sizeof(f), "%" PRId64, (int64_t)from);
	snprintf(t, sizeof(t), "%" PRId64, to ? (int64_t)to : INT64_MAX);
	const char *p[] = {f, t, only_user ? only_user : by};
	int rc;
	PGresult *res = jst__pg_query(s, sql, 3, p, PGRES_TUPLES_OK, &rc, "reading totals");
	return res ? each_total(res, fn, ud) : rc;
}

/* As jst__pg_aggregates("phase") restricted to keys "ID/PATH", which are the range ["ID/", "ID0")
 * in byte order: read through ev_totals_phase (run's rows only), summed in window order and
 * sorted as there. */
int jst__pg_phases(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	char lo[JST_EVENT_ID_MAX + 2], hi[JST_EVENT_ID_MAX + 2];
	if (strlen(id) > JST_EVENT_ID_MAX)
		return 0; /* no run has such an id */
	snprintf(lo, sizeof(lo), "%s/", id);
	snprintf(hi, sizeof(hi), "%s0", id);
	const char *p[] = {lo, hi};
	int rc;
	PGresult *res = jst__pg_query(s, "SELECT key, sum(samples), sum(energy_j ORDER BY win), sum(co2e_g ORDER BY win),"
	                              " sum(water_l ORDER BY win) FROM ev_totals WHERE dim='phase'"
	                              " AND key COLLATE \"C\">=$1 AND key COLLATE \"C\"<$2 GROUP BY key ORDER BY 3 DESC, 1",
	                              2, p, PGRES_TUPLES_OK, &rc, "reading a run's phases");
	return res ? each_total(res, fn, ud) : rc;
}

/* Hands each row (key, samples, energy, CO2e, water) of res to fn and clears res. */
static int each_total(PGresult *res, int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	int n = 0;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_aggregate a;
		memset(&a, 0, sizeof(a));
		jst__pg_text(res, i, 0, a.key, sizeof(a.key));
		a.samples = jst__pg_i64(res, i, 1);
		a.energy_j = jst__pg_f64(res, i, 2);
		a.co2e_g = jst__pg_f64(res, i, 3);
		a.water_l = jst__pg_f64(res, i, 4);
		n++;
		if (fn(&a, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}

int jst__pg_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id)
{
	char all[4], created[24];
	snprintf(all, sizeof(all), "%d", t->all_users ? 1 : 0);
	snprintf(created, sizeof(created), "%" PRId64, (int64_t)t->created_ns);
	const char *v[] = {t->prefix, (const char *)t->hash, jst_role_name(t->role), t->user, all, t->label, created,
	                   t->hosts};
	int len[] = {0, (int)sizeof(t->hash), 0, 0, 0, 0, 0, 0}, fmt[] = {0, 1, 0, 0, 0, 0, 0, 0};
	PGresult *res = jst__pq.PQexecParams(jst__pg_conn(s), "INSERT INTO api_tokens(prefix,hash,role,\"user\",all_users,label,"
	                             "created_ns,hosts) VALUES($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id", 8, NULL, v, len,
	                             fmt, 0);
	if (jst__pq.PQresultStatus(res) != PGRES_TUPLES_OK)
		return jst__pg_fail(s, res, "adding a token");
	if (id)
		*id = jst__pg_i64(res, 0, 0);
	jst__pq.PQclear(res);
	return 0;
}

int jst__pg_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud)
{
	int rc, n = 0;
	PGresult *res = jst__pg_query(s, "SELECT id,prefix,hash,role,\"user\",all_users,label,created_ns,"
	                              "coalesce(revoked_ns,0),hosts FROM api_tokens ORDER BY id", 0, NULL, PGRES_TUPLES_OK,
	                              &rc, "reading tokens");
	if (!res)
		return rc;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_token_info t;
		memset(&t, 0, sizeof(t));
		t.id = jst__pg_i64(res, i, 0);
		jst__pg_text(res, i, 1, t.prefix, sizeof(t.prefix));
		size_t hn = 0;
		unsigned char *h = jst__pq.PQunescapeBytea((const unsigned char *)jst__pq.PQgetvalue(res, i, 2), &hn);
		if (h && hn == sizeof(t.hash))
			memcpy(t.hash, h, sizeof(t.hash));
		jst__pq.PQfreemem(h);
		int ro = jst_role_parse(jst__pq.PQgetvalue(res, i, 3));
		t.role = ro < 0 ? JST_ROLE_READER : (enum jst_role)ro;
		jst__pg_text(res, i, 4, t.user, sizeof(t.user));
		t.all_users = jst__pg_i64(res, i, 5) != 0;
		jst__pg_text(res, i, 6, t.label, sizeof(t.label));
		t.created_ns = (uint64_t)jst__pg_i64(res, i, 7);
		t.revoked_ns = (uint64_t)jst__pg_i64(res, i, 8);
		jst__pg_text(res, i, 9, t.hosts, sizeof(t.hosts));
		n++;
		if (fn(&t, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}

int jst__pg_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns)
{
	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)now_ns);
	const char *p[] = {now, id_or_prefix};
	int rc;
	PGresult *res = jst__pg_query(s, "UPDATE api_tokens SET revoked_ns=$1 WHERE revoked_ns IS NULL AND"
	                              " (id::text=$2 OR prefix=$2)", 2, p, PGRES_COMMAND_OK, &rc, "revoking a token");
	if (!res)
		return rc;
	bool none = strcmp(jst__pq.PQcmdTuples(res), "0") == 0;
	jst__pq.PQclear(res);
	if (none) {
		snprintf(s->errmsg, sizeof(s->errmsg), "no active token with id or prefix '%.100s' (see token list)",
		         id_or_prefix);
		return -ENOENT;
	}
	return 0;
}
