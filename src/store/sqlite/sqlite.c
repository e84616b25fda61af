/* The SQLite store: one file, WAL mode, schema versioned with PRAGMA user_version. The runs
 * table mirrors struct jst_run through the column table below (one line per field, used both
 * to write and to read), run_zones holds per-zone totals, run_notes the problems met, and
 * samples every interval of every zone: the raw log that reports and reprocessing derive from. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/util.h"
#include "sensor/sensor.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_evchain.h"
#include "store/sqlite/sqlite_results.h"
#include "store/sqlite/sqlite_stream.h"
#include "store/sqlite/sqlite_train.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/store.h"


enum col_type { C_TEXT, C_INT, C_U64, C_DOUBLE, C_BOOL, C_SCOPE, C_ORIGIN };

struct column {
	const char *name;
	enum col_type type;
	size_t off, size;
};

#define COL(name, type, field) {name, type, offsetof(struct jst_run, field), sizeof(((struct jst_run *)0)->field)}

/* Every field of struct jst_run that the runs table keeps, in column order. */
static const struct column columns[] = {
	COL("start_ns", C_U64, start_ns),
	COL("end_ns", C_U64, end_ns),
	COL("duration_s", C_DOUBLE, duration_s),
	COL("interval_s", C_DOUBLE, interval_s),
	COL("samples", C_U64, samples),
	COL("finished", C_BOOL, finished),
	COL("exit_code", C_INT, exit_code),
	COL("exit_signal", C_INT, exit_signal),
	COL("scope", C_SCOPE, scope),
	COL("host", C_TEXT, meta.host),
	COL("user", C_TEXT, meta.user),
	COL("cwd", C_TEXT, meta.cwd),
	COL("command", C_TEXT, meta.command),
	COL("kernel", C_TEXT, meta.kernel),
	COL("cpu_model", C_TEXT, meta.cpu_model),
	COL("cpu_count", C_INT, meta.cpu_count),
	COL("ram_gb", C_DOUBLE, meta.ram_gb),
	COL("gpus", C_TEXT, meta.gpus),
	COL("gpu_driver", C_TEXT, meta.gpu_driver),
	COL("git_commit", C_TEXT, meta.git_commit),
	COL("git_dirty", C_INT, meta.git_dirty),
	COL("container", C_TEXT, meta.container),
	COL("version", C_TEXT, meta.version),
	COL("sensors", C_TEXT, meta.sensors),
	COL("project", C_TEXT, meta.project),
	COL("zone_origin", C_ORIGIN, zone_origin),
	COL("zone_code", C_TEXT, zone_code),
	COL("zone_name", C_TEXT, zone_name),
	COL("cloud", C_TEXT, cloud),
	COL("ci_g_per_kwh", C_DOUBLE, ci_g_per_kwh),
	COL("ci_year", C_INT, ci_year),
	COL("ci_source", C_TEXT, ci_source),
	COL("ewif_l_per_kwh", C_DOUBLE, ewif_l_per_kwh),
	COL("ewif_source", C_TEXT, ewif_source),
	COL("pue", C_DOUBLE, pue),
	COL("pue_source", C_TEXT, pue_source),
	COL("wue_l_per_kwh", C_DOUBLE, wue_l_per_kwh),
	COL("wue_source", C_TEXT, wue_source),
	COL("host_j", C_DOUBLE, host_j),
	COL("run_j", C_DOUBLE, run_j),
	COL("idle_j", C_DOUBLE, idle_j),
	COL("cpu_s", C_DOUBLE, cpu_s),
	COL("estimated", C_BOOL, estimated),
	COL("it_kwh", C_DOUBLE, footprint.it_kwh),
	COL("facility_kwh", C_DOUBLE, footprint.facility_kwh),
	COL("co2e_g", C_DOUBLE, footprint.co2e_g),
	COL("water_site_l", C_DOUBLE, footprint.water_site_l),
	COL("water_grid_l", C_DOUBLE, footprint.water_grid_l),
	COL("water_l", C_DOUBLE, footprint.water_l),
	/* provenance, time-varying intensity, SCI (issue 3) */
	COL("data_version", C_TEXT, data_version),
	COL("ci_series", C_TEXT, ci_series),
	COL("ci_avg_g_per_kwh", C_DOUBLE, ci_avg_g_per_kwh),
	COL("ci_min_g_per_kwh", C_DOUBLE, ci_min_g_per_kwh),
	COL("ci_max_g_per_kwh", C_DOUBLE, ci_max_g_per_kwh),
	COL("series_outside_kwh", C_DOUBLE, series_outside_kwh),
	COL("ci_fallback", C_TEXT, ci_fallback),
	COL("tz_guess", C_TEXT, tz_guess),
	COL("site", C_TEXT, site),
	COL("embodied_g", C_DOUBLE, embodied_g),
	COL("embodied_source", C_TEXT, embodied_source),
	COL("embodied_kg_opt", C_DOUBLE, embodied_kg_opt),
	COL("lifetime_years_opt", C_DOUBLE, lifetime_years_opt),
	COL("functional_units", C_DOUBLE, functional_units),
	COL("functional_unit", C_TEXT, functional_unit),
	COL("sci_g", C_DOUBLE, sci_g),
};

static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE runs(id TEXT PRIMARY KEY NOT NULL, status TEXT NOT NULL DEFAULT 'running');"
	"CREATE TABLE run_zones(run INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT, label TEXT,"
	" uid TEXT, kind INTEGER, source TEXT, flags INTEGER, device INTEGER, max_power_w REAL,"
	" host_j REAL, run_j REAL, idle_j REAL, peak_w REAL, samples INTEGER, failed INTEGER,"
	" wraps INTEGER, backwards INTEGER, gone INTEGER, PRIMARY KEY(run, idx)) WITHOUT ROWID;"
	"CREATE TABLE run_notes(run INTEGER NOT NULL, idx INTEGER NOT NULL, note TEXT,"
	" PRIMARY KEY(run, idx)) WITHOUT ROWID;"
	"CREATE TABLE samples(run INTEGER NOT NULL, t_s REAL NOT NULL, dt_s REAL, zone INTEGER,"
	" flags INTEGER, host_j REAL, run_j REAL, power_w REAL);"
	"CREATE INDEX samples_by_run ON samples(run, t_s);",
	/* 2: training marks (sqlite_train.c) */
	"CREATE TABLE run_training(run INTEGER PRIMARY KEY, marks INTEGER, bad_marks INTEGER,"
	" lost_marks INTEGER, late_marks INTEGER, bad_example TEXT, epochs_planned INTEGER,"
	" predict_after INTEGER, outside_epoch_s REAL, outside_epoch_j REAL, beyond_epochs INTEGER,"
	" beyond_s REAL, beyond_j REAL, step_base INTEGER, step_width INTEGER, steps_total INTEGER,"
	" outside_step_s REAL, outside_step_j REAL, metrics_logged INTEGER,"
	" metric_values_dropped INTEGER, pred_after INTEGER, pred_planned INTEGER,"
	" pred_duration_s REAL, pred_energy_j REAL, pred_co2e_g REAL, pred_water_l REAL,"
	" pred_latest_after INTEGER, pred_latest_duration_s REAL, pred_latest_energy_j REAL,"
	" pred_reached INTEGER, pred_actual_duration_s REAL, pred_actual_energy_j REAL);"
	"CREATE TABLE run_phases(run INTEGER NOT NULL, idx INTEGER NOT NULL, path TEXT, depth INTEGER,"
	" entries INTEGER, time_s REAL, energy_j REAL, PRIMARY KEY(run, idx)) WITHOUT ROWID;"
	"CREATE TABLE run_phase_zones(run INTEGER NOT NULL, phase INTEGER NOT NULL, zone INTEGER NOT NULL,"
	" energy_j REAL, PRIMARY KEY(run, phase, zone)) WITHOUT ROWID;"
	"CREATE TABLE run_epochs(run INTEGER NOT NULL, idx INTEGER NOT NULL, epoch INTEGER, start_s REAL,"
	" end_s REAL, time_s REAL, energy_j REAL, start_j REAL, end_j REAL, steps INTEGER,"
	" complete INTEGER, last_values TEXT, PRIMARY KEY(run, idx)) WITHOUT ROWID;"
	"CREATE TABLE run_steps(run INTEGER NOT NULL, idx INTEGER NOT NULL, first INTEGER, last INTEGER,"
	" steps INTEGER, time_s REAL, energy_j REAL, PRIMARY KEY(run, idx)) WITHOUT ROWID;"
	"CREATE TABLE run_metrics(run INTEGER NOT NULL, seq INTEGER NOT NULL, t_s REAL, step INTEGER,"
	" epoch INTEGER, energy_j REAL, k INTEGER, name TEXT NOT NULL, value REAL,"
	" PRIMARY KEY(run, seq, name)) WITHOUT ROWID;"
	"CREATE TABLE run_tags(run INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"
	" PRIMARY KEY(run, key)) WITHOUT ROWID;",
	/* 3: carbon and water per data version (sqlite_results.c) */
	"CREATE TABLE run_results(run INTEGER NOT NULL, data_version TEXT NOT NULL,"
	" zone_code TEXT NOT NULL, computed_ns INTEGER, kind TEXT, ci_source TEXT,"
	" ci_avg_g_per_kwh REAL, ci_min_g_per_kwh REAL, ci_max_g_per_kwh REAL, outside_kwh REAL,"
	" it_kwh REAL, facility_kwh REAL, co2e_g REAL,"
	" water_site_l REAL, water_grid_l REAL, water_l REAL, embodied_g REAL, sci_g REAL,"
	" functional_units REAL, functional_unit TEXT,"
	" PRIMARY KEY(run, data_version, zone_code)) WITHOUT ROWID;",
	/* 4: the event log of `serve`, its aggregates and API tokens (sqlite_stream.c) */
	JST_SQLITE_STREAM_SCHEMA,
	/* 5: trust (sqlite_trust.c, sqlite_chain.c): flags, calibrations, the record chain */
	JST_SQLITE_TRUST_SCHEMA,
	/* 6: the audit log and run tombstones (sqlite_audit.c) */
	JST_SQLITE_AUDIT_SCHEMA,
	/* 7: serve --source kafka://: offsets and refused messages (sqlite_source.c) */
	JST_SQLITE_SOURCE_SCHEMA,
	/* 8: ingest reads the next batch number from the log's last row and the rebuild replays in
	 * seq order (sqlite_stream.c), so the batch index was only a cost to every insert */
	"DROP INDEX IF EXISTS ev_log_batch;",
	/* 9: each host's newest heartbeat, for the silent-host flag (sqlite_stream.c); a store
	 * migrated with heartbeats already in its log fills it with `serve --rebuild` */
	JST_SQLITE_HOSTS_SCHEMA,
	/* 10: the event chain (sqlite_evchain.c); migrate() chains the events already stored */
	JST_SQLITE_EVCHAIN_SCHEMA,
	/* 11: a run's metrics, phases and phase totals read through its own rows (sqlite_stream.h);
	 * indexes only, built from the rows already there, so an existing store needs no replay */
	JST_SQLITE_RUN_READS_SCHEMA,
};

static int fail(struct sqlite_store *s, const char *what)
{
	int code = sqlite3_errcode(s->db);
	snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s: %s", what, sqlite3_errmsg(s->db));
	return code == SQLITE_FULL ? -ENOSPC : code == SQLITE_BUSY ? -EBUSY :
	       code == SQLITE_READONLY || code == SQLITE_PERM ? -EACCES : -EIO;
}

static int exec(struct sqlite_store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s", msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* Adds the runs columns that the table lacks, so a new field needs no migration step. */
static int ensure_columns(struct sqlite_store *s)
{
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++) {
		char sql[160];
		const char *t = columns[i].type == C_TEXT ? "TEXT" : columns[i].type == C_DOUBLE ? "REAL" : "INTEGER";
		snprintf(sql, sizeof(sql), "SELECT %s FROM runs LIMIT 0", columns[i].name);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_finalize(st);
			continue;
		}
		snprintf(sql, sizeof(sql), "ALTER TABLE runs ADD COLUMN %s %s", columns[i].name, t);
		if (exec(s, sql) < 0)
			return -EIO;
	}
	return 0;
}

static int migrate(struct sqlite_store *s)
{
	sqlite3_stmt *st;
	int version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > (int)JST_ARRAY_LEN(migrations)) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg),
		         "database schema %d is newer than this joulestream knows (%zu): upgrade joulestream",
		         version, JST_ARRAY_LEN(migrations));
		return -EPROTO;
	}
	for (int v = version; v < (int)JST_ARRAY_LEN(migrations); v++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;", v + 1);
		if (exec(s, "BEGIN IMMEDIATE") < 0 || exec(s, migrations[v]) < 0 ||
		    (strcmp(migrations[v], JST_SQLITE_EVCHAIN_SCHEMA) == 0 &&
		     jst__sq_evchain_adopt(&s->base) < 0) ||
		    exec(s, pragma) < 0 || exec(s, "COMMIT") < 0) {
			exec(s, "ROLLBACK");
			return -EIO;
		}
	}
	return ensure_columns(s);
}

static void sq_close(struct jst_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_finalize(s->ins_sample);
	sqlite3_close(s->db);
	free(s);
}

static int sq_open(struct jst_store **out, const char *path, char *err, size_t errlen)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	int r = -EIO;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the database %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;") < 0 ||
	    (r = migrate(s)) < 0) {
		snprintf(err, errlen, "database %s: %s", path, s->base.errmsg);
		r = r < 0 ? r : -EIO;
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db, "INSERT INTO samples(run,t_s,dt_s,zone,flags,host_j,run_j,power_w)"
	                              " VALUES(?,?,?,?,?,?,?,?)", -1, &s->ins_sample, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "database %s: %s", path, sqlite3_errmsg(s->db));
		r = -EIO;
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}

static void bind_column(sqlite3_stmt *st, int idx, const struct column *c, const struct jst_run *run)
{
	const char *p = (const char *)run + c->off;
	switch (c->type) {
	case C_TEXT:
		sqlite3_bind_text(st, idx, p, -1, SQLITE_TRANSIENT);
		break;
	case C_INT:
		sqlite3_bind_int(st, idx, *(const int *)(const void *)p);
		break;
	case C_U64:
		if (c->size == sizeof(uint64_t))
			sqlite3_bind_int64(st, idx, (sqlite3_int64) * (const uint64_t *)(const void *)p);
		else
			sqlite3_bind_int64(st, idx, (sqlite3_int64) * (const unsigned long *)(const void *)p);
		break;
	case C_DOUBLE:
		sqlite3_bind_double(st, idx, *(const double *)(const void *)p);
		break;
	case C_BOOL:
		sqlite3_bind_int(st, idx, *(const bool *)(const void *)p);
		break;
	case C_SCOPE:
		sqlite3_bind_text(st, idx, run->scope == JST_SCOPE_HOST ? "host" : "process", -1, SQLITE_STATIC);
		break;
	case C_ORIGIN:
		sqlite3_bind_text(st, idx, jst_zone_origin_name(run->zone_origin), -1, SQLITE_STATIC);
		break;
	}
}

static void load_column(sqlite3_stmt *st, int idx, const struct column *c, struct jst_run *run)
{
	char *p = (char *)run + c->off;
	switch (c->type) {
	case C_TEXT: {
		const unsigned char *t = sqlite3_column_text(st, idx);
		jst__strlcpy(p, t ? (const char *)t : "", c->size);
		break;
	}
	case C_INT:
		*(int *)(void *)p = sqlite3_column_int(st, idx);
		break;
	case C_U64:
		if (c->size == sizeof(uint64_t))
			*(uint64_t *)(void *)p = (uint64_t)sqlite3_column_int64(st, idx);
		else
			*(unsigned long *)(void *)p = (unsigned long)sqlite3_column_int64(st, idx);
		break;
	case C_DOUBLE:
		*(double *)(void *)p = sqlite3_column_double(st, idx);
		break;
	case C_BOOL:
		*(bool *)(void *)p = sqlite3_column_int(st, idx) != 0;
		break;
	case C_SCOPE: {
		const unsigned char *t = sqlite3_column_text(st, idx);
		run->scope = t && strcmp((const char *)t, "host") == 0 ? JST_SCOPE_HOST : JST_SCOPE_PROCESS;
		break;
	}
	case C_ORIGIN: {
		const char *t = (const char *)sqlite3_column_text(st, idx);
		run->zone_origin = JST_ORIGIN_NONE;
		for (int o = JST_ORIGIN_NONE; t && o <= JST_ORIGIN_SERIES; o++)
			if (strcmp(t, jst_zone_origin_name((enum jst_zone_origin)o)) == 0)
				run->zone_origin = (enum jst_zone_origin)o;
		break;
	}
	}
}

static int run_rowid(struct sqlite_store *s, const char *id, sqlite3_int64 *rowid)
{
	if (strcmp(s->cached_id, id) == 0) {
		*rowid = s->cached_rowid;
		return 0;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT rowid FROM runs WHERE id=?", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "looking up a run");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*rowid = sqlite3_column_int64(st, 0);
		jst__strlcpy(s->cached_id, id, sizeof(s->cached_id));
		s->cached_rowid = *rowid;
		r = 0;
	} else {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "no run %s", id);
	}
	sqlite3_finalize(st);
	return r;
}

/* INSERT OR REPLACE of the runs row from the column table. */
static int write_run_row(struct sqlite_store *s, const struct jst_run *run)
{
	char sql[16384]; /* three mentions of every column */
	size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO runs(id,status");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",%s", columns[i].name);
	off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") VALUES(?,?");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",?");
	off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") ON CONFLICT(id) DO UPDATE SET status=excluded.status");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",%s=excluded.%s", columns[i].name, columns[i].name);
	sqlite3_stmt *st;
	if (off >= sizeof(sql) || sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "preparing the run row");
	sqlite3_bind_text(st, 1, run->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, run->finished ? "finished" : "running", -1, SQLITE_STATIC);
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		bind_column(st, (int)i + 3, &columns[i], run);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "writing the run");
}

static int write_zones(struct sqlite_store *s, sqlite3_int64 rowid, const struct jst_run *run)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO run_zones VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return fail(s, "preparing zones");
	int r = 0;
	for (size_t i = 0; i < run->nzones && r == 0; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		int k = 1;
		sqlite3_bind_int64(st, k++, rowid);
		sqlite3_bind_int(st, k++, (int)i);
		sqlite3_bind_text(st, k++, z->zone.name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, z->zone.label, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, k++, z->zone.uid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, k++, (int)z->zone.kind);
		sqlite3_bind_text(st, k++, z->zone.source ? z->zone.source : "", -1, SQLITE_STATIC);
		sqlite3_bind_int(st, k++, (int)z->zone.flags);
		sqlite3_bind_int(st, k++, z->zone.device);
		sqlite3_bind_double(st, k++, z->zone.max_power_w);
		sqlite3_bind_double(st, k++, z->host_j);
		sqlite3_bind_double(st, k++, z->run_j);
		sqlite3_bind_double(st, k++, z->idle_j);
		sqlite3_bind_double(st, k++, z->peak_w);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)z->samples);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)z->failed);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)z->wraps);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)z->backwards);
		sqlite3_bind_int(st, k++, z->gone);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = fail(s, "writing zones");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int write_notes(struct sqlite_store *s, sqlite3_int64 rowid, const struct jst_run *run)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO run_notes VALUES(?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "preparing notes");
	int r = 0;
	for (size_t i = 0; i < run->nnotes && r == 0; i++) {
		sqlite3_bind_int64(st, 1, rowid);
		sqlite3_bind_int(st, 2, (int)i);
		sqlite3_bind_text(st, 3, run->notes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = fail(s, "writing notes");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

static int save_run(struct sqlite_store *s, const struct jst_run *run)
{
	if (exec(s, "BEGIN IMMEDIATE") < 0)
		return fail(s, "starting a transaction");
	sqlite3_int64 rowid;
	int r = write_run_row(s, run);
	if (r == 0)
		r = run_rowid(s, run->id, &rowid);
	if (r == 0)
		r = write_zones(s, rowid, run);
	if (r == 0)
		r = write_notes(s, rowid, run);
	if (r == 0 && jst__sqlite_flags_save(s->db, rowid, run, s->base.errmsg, sizeof(s->base.errmsg)) < 0)
		r = -EIO;
	if (r == 0 && run->train && jst__sqlite_train_save(s->db, rowid, run, s->base.errmsg,
	                                                   sizeof(s->base.errmsg)) < 0)
		r = -EIO;
	if (r == 0 && exec(s, "COMMIT") < 0)
		r = fail(s, "committing the run");
	if (r < 0)
		exec(s, "ROLLBACK");
	return r;
}

static int sq_run_begin(struct jst_store *base, const struct jst_run *run)
{
	return save_run((struct sqlite_store *)base, run);
}

static int sq_run_end(struct jst_store *base, const struct jst_run *run)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	int r = save_run(s, run);
	if (r == 0 && run->finished && /* sealed into the record chain (sqlite_chain.c) */
	    jst__sqlite_seal(s->db, run->id, s->base.errmsg, sizeof(s->base.errmsg)) < 0)
		r = -EIO;
	return r;
}

static int sq_add_samples(struct jst_store *base, const char *run_id, const struct jst_sample *v, size_t n)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run_id, &rowid);
	if (r < 0)
		return r;
	if (exec(s, "BEGIN") < 0)
		return fail(s, "starting a transaction");
	sqlite3_stmt *st = s->ins_sample;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, rowid);
		sqlite3_bind_double(st, 2, v[i].t_s);
		sqlite3_bind_double(st, 3, v[i].dt_s);
		sqlite3_bind_int(st, 4, (int)v[i].zone);
		sqlite3_bind_int(st, 5, (int)v[i].flags);
		sqlite3_bind_double(st, 6, v[i].host_j);
		sqlite3_bind_double(st, 7, v[i].run_j);
		sqlite3_bind_double(st, 8, v[i].power_w);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			r = fail(s, "writing samples");
			exec(s, "ROLLBACK");
			return r;
		}
	}
	if (exec(s, "COMMIT") < 0) {
		r = fail(s, "committing samples");
		exec(s, "ROLLBACK");
		return r;
	}
	return 0;
}

static const char *select_runs(char *sql, size_t n)
{
	size_t off = (size_t)snprintf(sql, n, "SELECT rowid,id,status");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, n - off, ",%s", columns[i].name);
	snprintf(sql + off, n - off, " FROM runs ");
	return sql;
}

static void load_children(struct sqlite_store *s, sqlite3_int64 rowid, struct jst_run *run)
{
	sqlite3_stmt *st;
	run->nzones = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT idx,name,label,uid,kind,source,flags,device,max_power_w,"
	                              "host_j,run_j,idle_j,peak_w,samples,failed,wraps,backwards,gone"
	                              " FROM run_zones WHERE run=? ORDER BY idx", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, rowid);
		while (sqlite3_step(st) == SQLITE_ROW && run->nzones < JST_ZONES_MAX) {
			struct jst_zone_total *z = &run->zones[run->nzones++];
			memset(z, 0, sizeof(*z));
			jst__strlcpy(z->zone.name, (const char *)sqlite3_column_text(st, 1), sizeof(z->zone.name));
			jst__strlcpy(z->zone.label, (const char *)sqlite3_column_text(st, 2), sizeof(z->zone.label));
			jst__strlcpy(z->zone.uid, (const char *)sqlite3_column_text(st, 3), sizeof(z->zone.uid));
			z->zone.kind = (enum jst_zone_kind)sqlite3_column_int(st, 4);
			z->zone.source = jst__source_name((const char *)sqlite3_column_text(st, 5));
			z->zone.flags = (unsigned)sqlite3_column_int(st, 6);
			z->zone.device = sqlite3_column_int(st, 7);
			z->zone.max_power_w = sqlite3_column_double(st, 8);
			z->host_j = sqlite3_column_double(st, 9);
			z->run_j = sqlite3_column_double(st, 10);
			z->idle_j = sqlite3_column_double(st, 11);
			z->peak_w = sqlite3_column_double(st, 12);
			z->samples = (unsigned long)sqlite3_column_int64(st, 13);
			z->failed = (unsigned long)sqlite3_column_int64(st, 14);
			z->wraps = (unsigned long)sqlite3_column_int64(st, 15);
			z->backwards = (unsigned long)sqlite3_column_int64(st, 16);
			z->gone = sqlite3_column_int(st, 17) != 0;
		}
		sqlite3_finalize(st);
	}
	run->nnotes = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT note FROM run_notes WHERE run=? ORDER BY idx", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, rowid);
		while (sqlite3_step(st) == SQLITE_ROW && run->nnotes < JST_NOTES_MAX)
			jst__strlcpy(run->notes[run->nnotes++], (const char *)sqlite3_column_text(st, 0), JST_NOTE_LEN);
		sqlite3_finalize(st);
	}
	jst__sqlite_results_load(s->db, rowid, run);
	jst__sqlite_trust_load(s->db, rowid, run);
}

static void load_row(struct sqlite_store *s, sqlite3_stmt *st, struct jst_run *run)
{
	memset(run, 0, sizeof(*run));
	sqlite3_int64 rowid = sqlite3_column_int64(st, 0);
	jst__strlcpy(run->id, (const char *)sqlite3_column_text(st, 1), sizeof(run->id));
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		load_column(st, (int)i + 3, &columns[i], run);
	load_children(s, rowid, run);
}

static int sq_load(struct jst_store *base, const char *id, struct jst_run *run)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	char sql[16384];
	select_runs(sql, sizeof(sql));
	bool last = strcmp(id, "last") == 0;
	if (!last && strlen(id) < 4) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "run id '%s' is too short: give at least 4 characters", id);
		return -EINVAL;
	}
	strcat(sql, last ? "ORDER BY start_ns DESC, rowid DESC LIMIT 2"
	                 : "WHERE id LIKE ? || '%' ESCAPE '\\' ORDER BY start_ns DESC LIMIT 2");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading runs");
	char pat[64];
	size_t k = 0;
	for (const char *p = id; *p && k + 2 < sizeof(pat); p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p; /* ids are upper case */
		if (c == '%' || c == '_' || c == '\\')
			pat[k++] = '\\';
		pat[k++] = c;
	}
	pat[k] = '\0';
	if (!last)
		sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	int r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		load_row(s, st, run);
		r = 0;
		if (!last && sqlite3_step(st) == SQLITE_ROW && strcmp(run->id, pat) != 0)
			r = -EEXIST;
	}
	sqlite3_finalize(st);
	if (r == -ENOENT)
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "no run matches '%s'", id);
	else if (r == -EEXIST)
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "'%s' matches several runs: give more of the id", id);
	return r;
}

static int sq_resolve(struct jst_store *base, const char *pattern, char *out, size_t n)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	const char *sql = pattern ? "SELECT run FROM ev_runs WHERE run LIKE ? || '%' ESCAPE '\\' AND has_start=1"
	                            " AND run NOT IN (SELECT run FROM ev_deleted) ORDER BY run=? DESC, start_ns DESC LIMIT 2"
	                          : "SELECT run FROM ev_runs WHERE has_start=1 AND run NOT IN (SELECT run FROM ev_deleted)"
	                            " ORDER BY start_ns DESC LIMIT 1";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "looking up a run");
	if (pattern) {
		sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, pattern, -1, SQLITE_STATIC);
	}
	int r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		jst__strlcpy(out, (const char *)sqlite3_column_text(st, 0), n);
		r = 0;
		if (pattern && strcmp(out, pattern) != 0 && sqlite3_step(st) == SQLITE_ROW)
			r = -EEXIST;
	}
	sqlite3_finalize(st);
	return r;
}

static void sq_load_extras(struct jst_store *base, struct jst_run *run)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	if (run_rowid(s, run->id, &rowid) == 0)
		jst__sqlite_results_load(s->db, rowid, run);
	jst__sqlite_trust_extras(s->db, run);
}

static int sq_list(struct jst_store *base, size_t limit, int (*fn)(const struct jst_run *, void *), void *ud)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	char sql[16384];
	select_runs(sql, sizeof(sql));
	strcat(sql, "ORDER BY start_ns DESC, rowid DESC");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, "listing runs");
	struct jst_run *run = malloc(sizeof(*run));
	if (!run) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	size_t n = 0;
	while ((limit == 0 || n < limit) && sqlite3_step(st) == SQLITE_ROW) {
		load_row(s, st, run);
		n++;
		if (fn(run, ud))
			break;
	}
	free(run);
	sqlite3_finalize(st);
	return (int)n;
}

static int sq_add_metrics(struct jst_store *base, const char *run_id, const struct jst_metric *v,
                          size_t n, const char (*names)[JST_MARK_NAME_MAX], size_t nnames)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run_id, &rowid);
	if (r < 0)
		return r;
	return jst__sqlite_metrics_add(s->db, rowid, v, n, names, nnames, s->base.errmsg,
	                               sizeof(s->base.errmsg));
}

static int sq_load_train(struct jst_store *base, const struct jst_run *run, struct jst_train *t)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run->id, &rowid);
	if (r < 0)
		return r;
	return jst__sqlite_train_load(s->db, rowid, t, s->base.errmsg, sizeof(s->base.errmsg));
}

static int sq_add_result(struct jst_store *base, const char *run_id, const struct jst_run_result *res)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run_id, &rowid);
	if (r < 0)
		return r;
	if (jst__sqlite_result_put(s->db, rowid, res, s->base.errmsg, sizeof(s->base.errmsg)) < 0)
		return -EIO;
	return 0;
}

static int sq_samples(struct jst_store *base, const char *run_id, int (*fn)(const struct jst_sample *, void *), void *ud)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run_id, &rowid);
	if (r < 0)
		return r;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT t_s,dt_s,zone,flags,host_j,run_j,power_w FROM samples"
	                              " WHERE run=? ORDER BY t_s, zone", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading samples");
	sqlite3_bind_int64(st, 1, rowid);
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct jst_sample v = {
			sqlite3_column_double(st, 0), sqlite3_column_double(st, 1),
			(uint32_t)sqlite3_column_int(st, 2), (uint32_t)sqlite3_column_int(st, 3),
			sqlite3_column_double(st, 4), sqlite3_column_double(st, 5), sqlite3_column_double(st, 6), 0,
		};
		n++;
		if (fn(&v, ud))
			break;
	}
	sqlite3_finalize(st);
	return n;
}

const struct jst_store_ops jst__store_sqlite = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.run_begin = sq_run_begin,
	.add_samples = sq_add_samples,
	.run_end = sq_run_end,
	.load = sq_load,
	.list = sq_list,
	.samples = sq_samples,
	.add_metrics = sq_add_metrics,
	.load_train = sq_load_train,
	.add_result = sq_add_result,
	.resolve = sq_resolve,
	.load_extras = sq_load_extras,
	.calibration_add = jst__sqlite_calibration_add,
	.calibration_load = jst__sqlite_calibration_load,
	.stream = &jst__stream_sqlite,
};

