/* Host calibrations in PostgreSQL (host_reference, host_calibration: the columns of the SQLite
 * tables of sqlite_trust.c), so that `joulestream calibrate --db postgresql://…` stores a host's
 * idle and load figures and every run on that host shows its idle floor, whatever the store. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

static int rollback(struct jst_store *s, int r)
{
	jst__pq.PQclear(jst__pq.PQexec(jst__pg_conn(s), "ROLLBACK"));
	return r;
}

static int insert_zone(struct jst_store *s, const struct jst_calibration *c, const struct jst_calib_zone *z)
{
	char ns[24], kind[8], counted[4], est[4], idle[32], load[32], ratio[32], samples[24];
	snprintf(ns, sizeof(ns), "%" PRIu64, c->calibrated_ns);
	snprintf(kind, sizeof(kind), "%d", (int)z->kind);
	snprintf(counted, sizeof(counted), "%d", z->counted);
	snprintf(est, sizeof(est), "%d", z->estimate);
	snprintf(idle, sizeof(idle), "%.17g", z->idle_w);
	snprintf(load, sizeof(load), "%.17g", z->load_w);
	snprintf(ratio, sizeof(ratio), "%.17g", z->ratio);
	snprintf(samples, sizeof(samples), "%lu", z->samples);
	const char *p[] = {c->host, ns, z->zone, z->source, z->uid, kind, counted, est, idle, load, ratio, samples};
	int rc;
	PGresult *res = jst__pg_query(s, "INSERT INTO host_calibration(host,calibrated_ns,zone,source,uid,kind,counted,"
	                              "estimate,idle_w,load_w,ratio,samples) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
	                              12, p, PGRES_COMMAND_OK, &rc, "storing the calibration");
	jst__pq.PQclear(res);
	return rc;
}

int jst__pg_calibration_add(struct jst_store *s, const struct jst_calibration *c)
{
	char ns[24], dur[32], iv[32], threads[16], load_s[32], ok[4];
	snprintf(ns, sizeof(ns), "%" PRIu64, c->calibrated_ns);
	snprintf(dur, sizeof(dur), "%.17g", c->duration_s);
	snprintf(iv, sizeof(iv), "%.17g", c->interval_s);
	snprintf(threads, sizeof(threads), "%u", c->threads);
	snprintf(load_s, sizeof(load_s), "%.17g", c->load_s);
	snprintf(ok, sizeof(ok), "%d", c->ref_ok);
	const char *p[] = {c->host, ns, dur, iv, c->load, threads, load_s, ok, c->result, c->sensors};
	int rc = jst__pg_exec(s, "BEGIN", "storing the calibration");
	if (rc < 0)
		return rc;
	PGresult *res = jst__pg_query(s, "INSERT INTO host_reference(host,calibrated_ns,duration_s,interval_s,load,"
	                              "threads,load_s,ok,result,sensors) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
	                              10, p, PGRES_COMMAND_OK, &rc, "storing the calibration");
	jst__pq.PQclear(res);
	for (size_t i = 0; rc == 0 && i < c->nzones; i++)
		rc = insert_zone(s, c, &c->zones[i]);
	if (rc == 0)
		rc = jst__pg_exec(s, "COMMIT", "storing the calibration");
	return rc < 0 ? rollback(s, rc) : 0;
}

static int zones_load(struct jst_store *s, struct jst_calibration *c)
{
	char ns[24];
	snprintf(ns, sizeof(ns), "%" PRIu64, c->calibrated_ns);
	const char *p[] = {c->host, ns};
	int rc;
	PGresult *res = jst__pg_query(s, "SELECT zone,source,uid,kind,counted,estimate,idle_w,load_w,ratio,samples"
	                              " FROM host_calibration WHERE host=$1 AND calibrated_ns=$2 ORDER BY ord",
	                              2, p, PGRES_TUPLES_OK, &rc, "reading calibrations");
	if (!res)
		return rc;
	int rows = jst__pq.PQntuples(res);
	for (int i = 0; i < rows && c->nzones < JST_ZONES_MAX; i++) {
		struct jst_calib_zone *z = &c->zones[c->nzones++];
		jst__pg_text(res, i, 0, z->zone, sizeof(z->zone));
		jst__pg_text(res, i, 1, z->source, sizeof(z->source));
		jst__pg_text(res, i, 2, z->uid, sizeof(z->uid));
		z->kind = (enum jst_zone_kind)jst__pg_i64(res, i, 3);
		z->counted = jst__pg_i64(res, i, 4) != 0;
		z->estimate = jst__pg_i64(res, i, 5) != 0;
		z->idle_w = jst__pg_f64(res, i, 6);
		z->load_w = jst__pg_f64(res, i, 7);
		z->ratio = jst__pg_f64(res, i, 8);
		z->samples = (unsigned long)jst__pg_i64(res, i, 9);
	}
	jst__pq.PQclear(res);
	return 0;
}

int jst__pg_calibration_load(struct jst_store *s, const char *host, uint64_t before_ns, struct jst_calibration *c)
{
	char before[24];
	snprintf(before, sizeof(before), "%" PRIu64, before_ns);
	const char *p[] = {host, before};
	int rc;
	PGresult *res = jst__pg_query(s, "SELECT calibrated_ns,duration_s,interval_s,load,threads,load_s,ok,result,sensors"
	                              " FROM host_reference WHERE host=$1 AND ($2::bigint=0 OR calibrated_ns<=$2::bigint)"
	                              " ORDER BY calibrated_ns DESC LIMIT 1",
	                              2, p, PGRES_TUPLES_OK, &rc, "reading calibrations");
	if (!res)
		return rc;
	if (jst__pq.PQntuples(res) == 0) {
		jst__pq.PQclear(res);
		return -ENOENT;
	}
	memset(c, 0, sizeof(*c));
	jst__strlcpy(c->host, host, sizeof(c->host));
	c->calibrated_ns = (uint64_t)jst__pg_i64(res, 0, 0);
	c->duration_s = jst__pg_f64(res, 0, 1);
	c->interval_s = jst__pg_f64(res, 0, 2);
	jst__pg_text(res, 0, 3, c->load, sizeof(c->load));
	c->threads = (unsigned)jst__pg_i64(res, 0, 4);
	c->load_s = jst__pg_f64(res, 0, 5);
	c->ref_ok = jst__pg_i64(res, 0, 6) != 0;
	jst__pg_text(res, 0, 7, c->result, sizeof(c->result));
	jst__pg_text(res, 0, 8, c->sensors, sizeof(c->sensors));
	jst__pq.PQclear(res);
	return zones_load(s, c);
}
