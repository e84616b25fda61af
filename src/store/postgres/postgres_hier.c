/* The accounting hierarchy in PostgreSQL (agg/hier.h; schema 4, postgres.c), as SQLite's
 * (sqlite_hier.c): a host's window's claims read from the run windows written so far, its rows
 * replaced, the totals summed from them in the same order as SQLite's, so both stores give the
 * same figures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/hier.h"
#include "core/jbuf.h"
#include "core/util.h"
#include "store/postgres/postgres.h"

int jst__pg_hier_claims(struct jst_store *s, const char *host, uint64_t win,
                        int (*fn)(const struct jst_hier_claim *, void *), void *ud)
{
	char w[24];
	snprintf(w, sizeof(w), "%" PRId64, (int64_t)win);
	const char *p[] = {host, w};
	int r;
	PGresult *res = jst__pg_query(
		s,
		"SELECT r.run, r.\"user\", r.model, r.project, r.zone, r.series_host, r.scope_host,"
		" sum(w.samples), sum(w.energy_j ORDER BY w.zone), sum(w.co2e_g ORDER BY w.zone),"
		" sum(w.water_l ORDER BY w.zone), max(w.dt_s), r.start_ns, r.last_ns, r.interval_s"
		" FROM ev_runs r JOIN ev_windows w ON w.run=r.run AND w.win=$2::bigint"
		" JOIN ev_run_zones z ON z.run=w.run AND z.zone=w.zone"
		" WHERE r.host=$1 AND r.last_ns>=$2::bigint AND z.kind NOT IN ('core','uncore','psys')"
		" GROUP BY r.run ORDER BY r.run COLLATE \"C\"",
		2, p, PGRES_TUPLES_OK, &r, "reading a host's window");
	if (!res)
		return r;
	for (int i = 0; r == 0 && i < jst__pq.PQntuples(res); i++) {
		struct jst_hier_claim c;
		memset(&c, 0, sizeof(c));
		jst__pg_text(res, i, 0, c.run, sizeof(c.run));
		jst__pg_text(res, i, 1, c.user, sizeof(c.user));
		jst__pg_text(res, i, 2, c.model, sizeof(c.model));
		jst__pg_text(res, i, 3, c.project, sizeof(c.project));
		jst__pg_text(res, i, 4, c.zone, sizeof(c.zone));
		c.series_host = jst__pg_i64(res, i, 5) != 0;
		c.scope_host = jst__pg_i64(res, i, 6) != 0;
		c.samples = jst__pg_i64(res, i, 7);
		c.energy_j = jst__pg_f64(res, i, 8);
		c.co2e_g = jst__pg_f64(res, i, 9);
		c.water_l = jst__pg_f64(res, i, 10);
		c.secs = jst__pg_f64(res, i, 11);
		c.start_ns = (uint64_t)jst__pg_i64(res, i, 12);
		c.last_ns = (uint64_t)jst__pg_i64(res, i, 13);
		c.interval_s = jst__pg_f64(res, i, 14);
		r = fn(&c, ud);
	}
	jst__pq.PQclear(res);
	return r;
}

/* The old rows deleted, the new ones in one INSERT of many rows (2 round trips a window). */
int jst__pg_hier_put(struct jst_store *s, const char *host, uint64_t win, const struct jst_hier_rows *rows)
{
	char w[24];
	snprintf(w, sizeof(w), "%" PRId64, (int64_t)win);
	const char *hw[] = {host, w};
	int r;
	jst__pq.PQclear(jst__pg_query(s, "DELETE FROM ev_hier WHERE host=$1 AND win=$2::bigint", 2, hw,
	                              PGRES_COMMAND_OK, &r, "replacing a host's window"));
	if (r < 0 || rows->n == 0)
		return r;
	size_t np = 2 + 7 * rows->n;
	const char **p = calloc(np, sizeof(*p));
	char (*num)[32] = calloc(5 * rows->n, sizeof(*num));
	struct jst_jbuf sql;
	jst__jbuf_init(&sql, 256 + 192 * rows->n); /* a ceiling: a row takes < 150 */
	if (!p || !num) {
		free(p);
		free(num);
		jst__jbuf_release(&sql);
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		return -ENOMEM;
	}
	p[0] = host;
	p[1] = w;
	jst__jbuf_str(&sql, "INSERT INTO ev_hier(host,win,dim,unattr,key,samples,energy_j,co2e_g,water_l) VALUES");
	for (size_t i = 0; i < rows->n; i++) {
		const struct jst_hier_row *x = &rows->row[i];
		char(*n)[32] = &num[5 * i];
		snprintf(n[0], sizeof(n[0]), "%d", x->unattributed);
		snprintf(n[1], sizeof(n[1]), "%" PRId64, x->samples);
		snprintf(n[2], sizeof(n[2]), "%.17g", x->energy_j);
		snprintf(n[3], sizeof(n[3]), "%.17g", x->co2e_g);
		snprintf(n[4], sizeof(n[4]), "%.17g", x->water_l);
		size_t k = 2 + 7 * i;
		p[k] = jst__agg_dim_name(x->dim);
		p[k + 1] = n[0];
		p[k + 2] = x->key;
		for (int j = 0; j < 4; j++)
			p[k + 3 + j] = n[1 + j];
		jst__jbuf_printf(&sql, "%s($1,$2::bigint,$%zu,$%zu::integer,$%zu,$%zu::bigint,$%zu::float8,$%zu::float8,"
		                 "$%zu::float8)", i ? "," : "", k + 1, k + 2, k + 3, k + 4, k + 5, k + 6, k + 7);
	}
	if (sql.full) {
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		r = -ENOMEM;
	} else {
		jst__pq.PQclear(jst__pg_query(s, sql.p, (int)np, p, PGRES_COMMAND_OK, &r, "writing a host's window"));
	}
	jst__jbuf_release(&sql);
	free(p);
	free(num);
	return r;
}

int jst__pg_run_wins(struct jst_store *s, const char *run, int (*fn)(uint64_t, void *), void *ud)
{
	int r;
	const char *p[] = {run};
	PGresult *res = jst__pg_query(s, "SELECT DISTINCT win FROM ev_windows WHERE run=$1 ORDER BY win", 1, p,
	                              PGRES_TUPLES_OK, &r, "reading a run's windows");
	if (!res)
		return r;
	for (int i = 0; r == 0 && i < jst__pq.PQntuples(res); i++)
		r = fn((uint64_t)jst__pg_i64(res, i, 0), ud);
	jst__pq.PQclear(res);
	return r;
}

/* Summed in (window, host) order, as sqlite_hier.c's; sorted as there (bytes, "C"). */
int jst__pg_hier_aggregates(struct jst_store *s, const char *by, uint64_t from, uint64_t to,
                            int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	char f[24], t[24];
	snprintf(f, sizeof(f), "%" PRId64, (int64_t)from);
	snprintf(t, sizeof(t), "%" PRId64, to ? (int64_t)to : INT64_MAX);
	const char *p[] = {f, t, by};
	int r;
	PGresult *res = jst__pg_query(
		s,
		"SELECT unattr, key, sum(samples), sum(energy_j ORDER BY win, host COLLATE \"C\"),"
		" sum(co2e_g ORDER BY win, host COLLATE \"C\"), sum(water_l ORDER BY win, host COLLATE \"C\")"
		" FROM ev_hier WHERE dim=$3 AND win>=$1::bigint AND win<$2::bigint"
		" GROUP BY unattr, key ORDER BY 4 DESC, 1, key COLLATE \"C\"",
		3, p, PGRES_TUPLES_OK, &r, "reading totals");
	if (!res)
		return r;
	int n = 0;
	for (int i = 0; i < jst__pq.PQntuples(res); i++) {
		struct jst_aggregate a;
		memset(&a, 0, sizeof(a));
		a.unattributed = jst__pg_i64(res, i, 0) != 0;
		if (a.unattributed)
			jst__strlcpy(a.key, JST_HIER_UNATTRIBUTED, sizeof(a.key));
		else
			jst__pg_text(res, i, 1, a.key, sizeof(a.key));
		a.samples = jst__pg_i64(res, i, 2);
		a.energy_j = jst__pg_f64(res, i, 3);
		a.co2e_g = jst__pg_f64(res, i, 4);
		a.water_l = jst__pg_f64(res, i, 5);
		n++;
		if (fn(&a, ud))
			break;
	}
	jst__pq.PQclear(res);
	return n;
}
