/* The PostgreSQL store (postgres.h): the connection, the schema (created once under an
 * advisory lock, so several servers opening at once do not race), the libpq helpers the other
 * postgres_*.c files share, and the vtable. A run is its events here: `run --db postgresql://`
 * writes them through its store sink, and `show`, `runs` and `reprocess` read the view of them
 * (store.c); run_results keeps the figures by data version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/postgres/postgres.h"

/* 1: the tables below; 2: the event chain (ev_chain: an older store's events are chained when
 * it is first opened) and the per-run read indexes ev_log_run_type and ev_totals_phase (created
 * with IF NOT EXISTS on every open); 3: api_tokens.hosts (an agent token's hosts); 4: the
 * accounting hierarchy (ev_runs.series_host, ev_hier; the log replayed into it once) */
#define PG_SCHEMA_VERSION 4
#define PG_STR(x) #x
#define PG_XSTR(x) PG_STR(x)
/* the same tables and columns as JST_SQLITE_STREAM_SCHEMA; "user" is a reserved word here */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS jst_schema(version INTEGER NOT NULL);"
	"CREATE SEQUENCE IF NOT EXISTS ev_batch_seq;"
	"CREATE TABLE IF NOT EXISTS ev_log(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" batch BIGINT NOT NULL, type TEXT NOT NULL, run TEXT, ts_ns BIGINT, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS ev_log_batch ON ev_log(batch);"
	"CREATE INDEX IF NOT EXISTS ev_log_run ON ev_log(run, ts_ns);"
	/* a run's raw events in log order after a cursor (jst__pg_events) */
	"CREATE INDEX IF NOT EXISTS ev_log_run_seq ON ev_log(run, seq);"
	/* a run's events of one type other than sample (its metrics, its phases) without walking its
	 * samples; as SQLite's migration 10 (sqlite_stream.h) */
	"CREATE INDEX IF NOT EXISTS ev_log_run_type ON ev_log(run, type, seq) WHERE type<>'sample';"
	"CREATE TABLE IF NOT EXISTS ev_runs(run TEXT PRIMARY KEY NOT NULL, host TEXT, \"user\" TEXT, model TEXT,"
	" project TEXT, zone TEXT, phase TEXT, ci_g_per_kwh DOUBLE PRECISION, pue DOUBLE PRECISION,"
	" wue DOUBLE PRECISION, ewif DOUBLE PRECISION, interval_s DOUBLE PRECISION, has_start INTEGER,"
	" scope_host INTEGER, finished INTEGER, start_ns BIGINT, end_ns BIGINT, last_ns BIGINT,"
	" exit_code INTEGER, duration_s DOUBLE PRECISION, samples BIGINT, energy_j DOUBLE PRECISION,"
	" host_energy_j DOUBLE PRECISION, co2e_g DOUBLE PRECISION, water_l DOUBLE PRECISION, gaps BIGINT,"
	" failed BIGINT);"
	"CREATE INDEX IF NOT EXISTS ev_runs_start ON ev_runs(start_ns);"
	"CREATE INDEX IF NOT EXISTS ev_runs_user ON ev_runs(\"user\", start_ns);"
	"CREATE TABLE IF NOT EXISTS ev_run_zones(run TEXT NOT NULL, zone TEXT NOT NULL, kind TEXT,"
	" source TEXT, last_ts_ns BIGINT, samples BIGINT, gaps BIGINT, energy_j DOUBLE PRECISION,"
	" host_energy_j DOUBLE PRECISION, PRIMARY KEY(run, zone));"
	"CREATE TABLE IF NOT EXISTS ev_windows(run TEXT NOT NULL, zone TEXT NOT NULL, win BIGINT NOT NULL,"
	" samples BIGINT, energy_j DOUBLE PRECISION, host_energy_j DOUBLE PRECISION, co2e_g DOUBLE PRECISION,"
	" water_l DOUBLE PRECISION, dt_s DOUBLE PRECISION, max_w DOUBLE PRECISION, p50_w DOUBLE PRECISION,"
	" p90_w DOUBLE PRECISION, p99_w DOUBLE PRECISION, sketch BYTEA, PRIMARY KEY(run, win, zone));"
	"CREATE TABLE IF NOT EXISTS ev_totals(dim TEXT NOT NULL, key TEXT NOT NULL, win BIGINT NOT NULL,"
	" samples BIGINT, energy_j DOUBLE PRECISION, co2e_g DOUBLE PRECISION, water_l DOUBLE PRECISION,"
	" PRIMARY KEY(dim, win, key));"
	/* a run's phase totals, keys "ID/PATH", as the byte range ["ID/", "ID0") (jst__pg_phases) */
	"CREATE INDEX IF NOT EXISTS ev_totals_phase ON ev_totals(key COLLATE \"C\", win) WHERE dim='phase';"
	"CREATE TABLE IF NOT EXISTS ev_hosts(host TEXT PRIMARY KEY NOT NULL, agent TEXT,"
	" last_ns BIGINT NOT NULL, interval_s DOUBLE PRECISION);"
	"CREATE TABLE IF NOT EXISTS api_tokens(id BIGSERIAL PRIMARY KEY, prefix TEXT, hash BYTEA NOT NULL UNIQUE,"
	" role TEXT NOT NULL, \"user\" TEXT, all_users INTEGER, label TEXT, created_ns BIGINT,"
	" revoked_ns BIGINT);"
	/* 3: the hosts an agent token may speak for (issue 12: bound identities) */
	"ALTER TABLE api_tokens ADD COLUMN IF NOT EXISTS hosts TEXT NOT NULL DEFAULT '';"
	/* 4: the accounting hierarchy (postgres_hier.c), as JST_SQLITE_HIER_SCHEMA */
	"ALTER TABLE ev_runs ADD COLUMN IF NOT EXISTS series_host INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX IF NOT EXISTS ev_runs_host ON ev_runs(host, last_ns);"
	"CREATE TABLE IF NOT EXISTS ev_hier(host TEXT NOT NULL, win BIGINT NOT NULL, dim TEXT NOT NULL,"
	" unattr INTEGER NOT NULL, key TEXT NOT NULL, samples BIGINT, energy_j DOUBLE PRECISION,"
	" co2e_g DOUBLE PRECISION, water_l DOUBLE PRECISION, PRIMARY KEY(host, win, dim, unattr, key));"
	"CREATE INDEX IF NOT EXISTS ev_hier_dim ON ev_hier(dim, win);"
	/* the audit log and run tombstones (postgres_audit.c), as JST_SQLITE_AUDIT_SCHEMA */
	"CREATE TABLE IF NOT EXISTS audit_log(id BIGINT PRIMARY KEY, ts_ns BIGINT NOT NULL, actor TEXT NOT NULL,"
	" role TEXT, \"user\" TEXT, action TEXT NOT NULL, object TEXT, detail TEXT, outcome TEXT NOT NULL,"
	" client TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log(ts_ns);"
	"CREATE OR REPLACE FUNCTION jst_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;"
	"DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;"
	"CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
	" FOR EACH ROW EXECUTE FUNCTION jst_audit_append_only();"
	"DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;"
	"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
	" FOR EACH STATEMENT EXECUTE FUNCTION jst_audit_append_only();"
	"CREATE TABLE IF NOT EXISTS ev_deleted(run TEXT PRIMARY KEY NOT NULL, deleted_ns BIGINT NOT NULL);"
	/* host calibrations (postgres_trust.c), as sqlite's */
	"CREATE TABLE IF NOT EXISTS host_reference(host TEXT NOT NULL, calibrated_ns BIGINT NOT NULL,"
	" duration_s DOUBLE PRECISION, interval_s DOUBLE PRECISION, load TEXT, threads INTEGER,"
	" load_s DOUBLE PRECISION, ok INTEGER, result TEXT, sensors TEXT, PRIMARY KEY(host, calibrated_ns));"
	"CREATE TABLE IF NOT EXISTS host_calibration(ord BIGSERIAL PRIMARY KEY, host TEXT NOT NULL,"
	" calibrated_ns BIGINT NOT NULL, zone TEXT, source TEXT, uid TEXT, kind INTEGER, counted INTEGER,"
	" estimate INTEGER, idle_w DOUBLE PRECISION, load_w DOUBLE PRECISION, ratio DOUBLE PRECISION,"
	" samples BIGINT);"
	"CREATE INDEX IF NOT EXISTS host_calibration_host ON host_calibration(host, calibrated_ns);"
	/* a run's figures by data version (postgres_results.c), as sqlite's run_results */
	"CREATE TABLE IF NOT EXISTS run_results(run TEXT NOT NULL, data_version TEXT NOT NULL, zone_code TEXT NOT NULL,"
	" computed_ns BIGINT, kind TEXT, ci_source TEXT, ci_avg_g_per_kwh DOUBLE PRECISION,"
	" ci_min_g_per_kwh DOUBLE PRECISION, ci_max_g_per_kwh DOUBLE PRECISION, outside_kwh DOUBLE PRECISION,"
	" it_kwh DOUBLE PRECISION, facility_kwh DOUBLE PRECISION, co2e_g DOUBLE PRECISION,"
	" water_site_l DOUBLE PRECISION, water_grid_l DOUBLE PRECISION, water_l DOUBLE PRECISION,"
	" embodied_g DOUBLE PRECISION, sci_g DOUBLE PRECISION, functional_units DOUBLE PRECISION,"
	" functional_unit TEXT, PRIMARY KEY(run, data_version, zone_code));"
	/* serve --source kafka:// (postgres_source.c); as JST_SQLITE_SOURCE_SCHEMA */
	"CREATE TABLE IF NOT EXISTS ev_source_offsets(grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL,"
	" next_offset BIGINT NOT NULL, updated_ns BIGINT, PRIMARY KEY(grp, topic, part));"
	"CREATE TABLE IF NOT EXISTS ev_source_rejects(seq BIGSERIAL PRIMARY KEY, grp TEXT NOT NULL, topic TEXT NOT NULL,"
	" part INTEGER NOT NULL, msg_offset BIGINT NOT NULL, ts_ns BIGINT, error TEXT, body BYTEA,"
	" UNIQUE(grp, topic, part, msg_offset));"
	/* the event chain (postgres_evchain.c), as JST_SQLITE_EVCHAIN_SCHEMA: entries append-only */
	"CREATE TABLE IF NOT EXISTS ev_chain(n BIGINT PRIMARY KEY, batch BIGINT NOT NULL, events BIGINT NOT NULL,"
	" origin TEXT NOT NULL, chained_ns BIGINT, digests BYTEA NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE OR REPLACE FUNCTION jst_evchain_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION 'the event chain is append-only'; END$$;"
	"DROP TRIGGER IF EXISTS ev_chain_append_only ON ev_chain;"
	"CREATE TRIGGER ev_chain_append_only BEFORE UPDATE OR DELETE ON ev_chain"
	" FOR EACH ROW EXECUTE FUNCTION jst_evchain_append_only();"
	"DROP TRIGGER IF EXISTS ev_chain_no_truncate ON ev_chain;"
	"CREATE TRIGGER ev_chain_no_truncate BEFORE TRUNCATE ON ev_chain"
	" FOR EACH STATEMENT EXECUTE FUNCTION jst_evchain_append_only();";

static int migrate(struct jst_store *s)
{
	int r = jst__pg_exec(s, "BEGIN", "starting the schema transaction");
	if (r == 0) /* one opener at a time creates the tables */
		r = jst__pg_exec(s, "SELECT pg_advisory_xact_lock(7418152)", "locking the schema");
	if (r == 0)
		r = jst__pg_exec(s, schema, "creating the schema");
	PGresult *res = NULL;
	if (r == 0)
		res = jst__pg_query(s, "SELECT coalesce(max(version),0) FROM jst_schema", 0, NULL, PGRES_TUPLES_OK, &r,
		                    "reading the schema version");
	if (res) {
		int64_t v = jst__pg_i64(res, 0, 0);
		jst__pq.PQclear(res);
		if (v > PG_SCHEMA_VERSION) {
			snprintf(s->errmsg, sizeof(s->errmsg), "database schema %lld is newer than this joulestream knows (%d):"
			         " upgrade joulestream", (long long)v, PG_SCHEMA_VERSION);
			r = -EPROTO;
		} else if (v < PG_SCHEMA_VERSION) {
			if (v < 2) /* the events stored before the chain, chained once in seq order */
				r = jst__pg_evchain_adopt(s);
			if (r == 0 && v < 4) /* the hierarchy of the events stored before it */
				r = jst__pg_reaggregate(s);
			if (r == 0)
				r = jst__pg_exec(s, "DELETE FROM jst_schema; INSERT INTO jst_schema VALUES("
				                 PG_XSTR(PG_SCHEMA_VERSION) ")", "recording the schema");
		}
	}
	if (r == 0)
		return jst__pg_exec(s, "COMMIT", "creating the schema");
	jst__pq.PQclear(jst__pq.PQexec(jst__pg_conn(s), "ROLLBACK"));
	return r;
}

static void pg_close(struct jst_store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	jst__pq.PQfinish(s->conn);
	free(s);
}

static void ignore_notice(void *ud, const char *msg)
{
	(void)ud; /* "relation already exists, skipping" and the like */
	(void)msg;
}

/* target is what follows "postgresql://" (store.c strips the scheme): a libpq URI's rest. */
static int pg_open(struct jst_store **out, const char *target, char *err, size_t errlen)
{
	int lr = jst__pq_load(err, errlen); /* libpq is mapped only by those who use it */
	if (lr < 0)
		return lr;
	size_t n = strlen(target) + sizeof("postgresql://");
	char *uri = malloc(n);
	struct pg_store *s = calloc(1, sizeof(*s));
	if (!uri || !s) {
		free(uri);
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(uri, n, "postgresql://%s", target);
	s->conn = jst__pq.PQconnectdb(uri);
	free(uri);
	if (jst__pq.PQstatus(s->conn) != CONNECTION_OK) {
		const char *m = jst__pq.PQerrorMessage(s->conn);
		snprintf(err, errlen, "cannot connect to postgresql (%.*s): check the URI, that the server runs and that"
		         " the user may log in", (int)strcspn(m, "\n"), m);
		jst__pq.PQfinish(s->conn);
		free(s);
		return -ECONNREFUSED;
	}
	jst__pq.PQsetNoticeProcessor(s->conn, ignore_notice, NULL);
	int r = migrate(&s->base);
	if (r < 0) {
		snprintf(err, errlen, "%s", s->base.errmsg);
		pg_close(&s->base);
		return r;
	}
	*out = &s->base;
	return 0;
}

static int pg_resolve(struct jst_store *s, const char *pattern, char *out, size_t n)
{
	const char *sql = pattern ? "SELECT run FROM ev_runs WHERE run LIKE $1 || '%' AND has_start=1"
	                            " AND run NOT IN (SELECT run FROM ev_deleted) ORDER BY run=$1 DESC, start_ns DESC LIMIT 2"
	                          : "SELECT run FROM ev_runs WHERE has_start=1 AND series_host=0 AND run NOT IN (SELECT run FROM ev_deleted)"
	                            " ORDER BY start_ns DESC LIMIT 1";
	int rc;
	PGresult *res = jst__pg_query(s, sql, pattern ? 1 : 0, &pattern, PGRES_TUPLES_OK, &rc, "looking up a run");
	if (!res)
		return rc;
	int rows = jst__pq.PQntuples(res), r = -ENOENT;
	if (rows > 0) {
		jst__pg_text(res, 0, 0, out, n);
		r = pattern && rows > 1 && strcmp(out, pattern) != 0 ? -EEXIST : 0;
	}
	jst__pq.PQclear(res);
	return r;
}

const struct jst_store_ops jst__store_postgres = {
	.scheme = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.add_result = jst__pg_add_result,
	.resolve = pg_resolve,
	.load_extras = jst__pg_load_extras,
	.calibration_add = jst__pg_calibration_add,
	.calibration_load = jst__pg_calibration_load,
	.chain_head = jst__pg_chain_head,
	.stream = &jst__stream_postgres,
};
