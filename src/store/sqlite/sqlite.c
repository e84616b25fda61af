/* The SQLite store: one file, WAL mode, schema versioned with PRAGMA user_version. A run is
 * its events in ev_log (the stream half, sqlite_stream.c), read back as a view by the engine
 * (store.c); this file keeps the migrations, the connection, and the one table a run has beside
 * the log: runs, the key of run_results (figures by data version, sqlite_results.c). The
 * record tables of the releases before issue 11 (runs' columns, run_zones, run_notes, samples,
 * the training tables) are read only by migration 12 (sqlite_upgrade.c), which turns them into
 * events. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/util.h"
#include "store/sqlite/sqlite_audit.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_evchain.h"
#include "store/sqlite/sqlite_results.h"
#include "store/sqlite/sqlite_stream.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/sqlite/sqlite_upgrade.h"
#include "store/store.h"


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
	/* 12: runs recorded before issue 11 become events (sqlite_upgrade.c), on a copy */
	JST_SQLITE_UPGRADE_SCHEMA,
	/* 13: the hosts an agent token may speak for (issue 12: bound identities) */
	"ALTER TABLE api_tokens ADD COLUMN hosts TEXT NOT NULL DEFAULT '';",
	/* 14: the accounting hierarchy (issue 12: a host counted once); migrate_step replays the
	 * log into it (every aggregate recomputed), in the step's transaction */
	JST_SQLITE_HIER_SCHEMA,
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

/* The index of migration 12, the one step that is not one transaction: a store past it
 * upgrades in place (each later step commits whole or not at all), one before it on a copy. */
static int runs_step(void)
{
	int i = 0;
	while (i < (int)JST_ARRAY_LEN(migrations) && strcmp(migrations[i], JST_SQLITE_UPGRADE_SCHEMA) != 0)
		i++;
	return i;
}

/* One schema step in its own transaction. Migration 12 ingests through the store's ingest,
 * which commits batch by batch, so it runs between two transactions of its own; a store that
 * had anything to lose gets its steps on a copy (upgrade_on_copy). */
static int migrate_step(struct sqlite_store *s, int v)
{
	char pragma[64];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d;", v + 1);
	bool runs = strcmp(migrations[v], JST_SQLITE_UPGRADE_SCHEMA) == 0;
	if (exec(s, "BEGIN IMMEDIATE") < 0 || exec(s, migrations[v]) < 0 ||
	    (strcmp(migrations[v], JST_SQLITE_EVCHAIN_SCHEMA) == 0 && jst__sq_evchain_adopt(&s->base) < 0) ||
	    (strcmp(migrations[v], JST_SQLITE_HIER_SCHEMA) == 0 &&
	     (jst__sq_hier_schema(&s->base) < 0 || jst__sq_reaggregate(&s->base) < 0)) ||
	    (!runs && exec(s, pragma) < 0) || exec(s, "COMMIT") < 0) {
		exec(s, "ROLLBACK");
		return -EIO;
	}
	if (!runs)
		return 0;
	int r = jst__sq_hier_schema(&s->base);
	if (r == 0)
		r = jst__sq_upgrade_runs(s);
	if (r == 0 && exec(s, pragma) < 0)
		r = -EIO;
	return r;
}

static int migrate_steps(struct sqlite_store *s, int version)
{
	int r = 0;
	for (int v = version; r == 0 && v < (int)JST_ARRAY_LEN(migrations); v++)
		r = migrate_step(s, v);
	return r;
}

static void unlink_copy(const char *tmp)
{
	static const char *const side[] = {"-wal", "-shm", "-journal"};
	char p[4200];
	unlink(tmp);
	for (size_t i = 0; i < JST_ARRAY_LEN(side); i++)
		if ((size_t)snprintf(p, sizeof(p), "%s%s", tmp, side[i]) < sizeof(p))
			unlink(p); /* a name too long for p was never made either */
}

/* The whole of src into dst in one step (one write transaction on dst). */
static int copy_db(sqlite3 *dst, sqlite3 *src)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b)
		return -EIO;
	int rc = sqlite3_backup_step(b, -1);
	int fin = sqlite3_backup_finish(b);
	return rc == SQLITE_DONE && fin == SQLITE_OK ? 0 : rc == SQLITE_FULL || fin == SQLITE_FULL ? -ENOSPC : -EIO;
}

/* The pending steps run on PATH.upgrade, a copy of the store; the copy replaces the store's
 * content (sqlite3_backup: one write transaction) only once every step succeeded. So a store
 * whose upgrade fails is left as it was, and one interrupted (kill, power) is either the old
 * store or the new one; a stale copy is removed by the next try. The copy needs as much free
 * disk as the store. */
static int upgrade_on_copy(struct sqlite_store *s, const char *path, int version)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.upgrade", path) >= (int)sizeof(tmp)) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "the database path is too long");
		return -ENAMETOOLONG;
	}
	unlink_copy(tmp);
	struct sqlite_store *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base.ops = &jst__store_sqlite;
	int r = sqlite3_open_v2(tmp, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == SQLITE_OK ? 0 : -EIO;
	if (r < 0)
		snprintf(c->base.errmsg, sizeof(c->base.errmsg), "cannot create the copy %.300s beside it: %s", tmp,
		         c->db ? sqlite3_errmsg(c->db) : "out of memory");
	if (r == 0) {
		sqlite3_busy_timeout(c->db, 5000);
		r = exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
	}
	if (r == 0 && (r = copy_db(c->db, s->db)) < 0)
		snprintf(c->base.errmsg, sizeof(c->base.errmsg), "copying the store beside it (%.200s): %s", tmp, sqlite3_errmsg(c->db));
	if (r == 0)
		r = migrate_steps(c, version);
	if (r == 0 && (r = copy_db(s->db, c->db)) < 0)
		snprintf(c->base.errmsg, sizeof(c->base.errmsg), "writing the upgraded store back: %s", sqlite3_errmsg(s->db));
	if (r < 0)
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "upgrading it from schema %d to %zu failed, and the store"
		         " was left as it was: %.400s", version, JST_ARRAY_LEN(migrations),
		         c->base.errmsg);
	sqlite3_close(c->db);
	free(c);
	unlink_copy(tmp);
	return r;
}

static int schema_version(struct sqlite_store *s, int *version)
{
	sqlite3_stmt *st;
	*version = 0;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* One upgrade at a time per store, across processes: the copy has one name, and a step must
 * not run twice. The lock file stays (empty); the version is read again once the lock is held,
 * since whoever held it may have upgraded the store meanwhile. A store still before migration
 * 12 is upgraded on a copy; one past it in place (a 100 GB store is not copied for a column). */
static int upgrade_locked(struct sqlite_store *s, const char *path, int version)
{
	char lk[4200];
	snprintf(lk, sizeof(lk), "%s.upgrade-lock", path);
	int fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "cannot lock %.300s for the upgrade: %s", lk, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	int r = schema_version(s, &version);
	if (r == 0 && version < (int)JST_ARRAY_LEN(migrations))
		r = version > runs_step() ? migrate_steps(s, version) : upgrade_on_copy(s, path, version);
	close(fd); /* releases the lock */
	return r;
}

static int migrate(struct sqlite_store *s, const char *path)
{
	int version;
	int r = schema_version(s, &version);
	if (r < 0)
		return r;
	if (version > (int)JST_ARRAY_LEN(migrations)) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg),
		         "database schema %d is newer than this joulestream knows (%zu): upgrade joulestream",
		         version, JST_ARRAY_LEN(migrations));
		return -EPROTO;
	}
	if (version == (int)JST_ARRAY_LEN(migrations))
		return 0;
	/* a new store has nothing to lose: its steps run in place */
	return version == 0 ? migrate_steps(s, 0) : upgrade_locked(s, path, version);
}

static void sq_close(struct jst_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_close(s->db);
	free(s);
}

static int sq_open(struct jst_store **out, const char *path, char *err, size_t errlen)
{
	struct sqlite_store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &jst__store_sqlite;
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	int r = -EIO;
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the database %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;") < 0 ||
	    (r = migrate(s, path)) < 0) {
		snprintf(err, errlen, "database %s: %s", path, s->base.errmsg);
		r = r < 0 ? r : -EIO;
		goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}

/* The run's key row, the one thing of a run outside the log: run_results refer to its rowid. */
static int run_rowid(struct sqlite_store *s, const char *id, bool make, sqlite3_int64 *rowid)
{
	if (strcmp(s->cached_id, id) == 0) {
		*rowid = s->cached_rowid;
		return 0;
	}
	sqlite3_stmt *st;
	if (make) {
		if (sqlite3_prepare_v2(s->db, "INSERT INTO runs(id,status) VALUES(?,'finished') ON CONFLICT(id) DO NOTHING",
		                       -1, &st, NULL) != SQLITE_OK)
			return fail(s, "recording a run");
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return fail(s, "recording a run");
	}
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

static int sq_resolve(struct jst_store *base, const char *pattern, char *out, size_t n)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	const char *sql = pattern ? "SELECT run FROM ev_runs WHERE run LIKE ? || '%' ESCAPE '\\' AND has_start=1"
	                            " AND run NOT IN (SELECT run FROM ev_deleted) ORDER BY run=? DESC, start_ns DESC LIMIT 2"
	                          : "SELECT run FROM ev_runs WHERE has_start=1 AND series_host=0 AND run NOT IN (SELECT run FROM ev_deleted)"
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
	if (run_rowid(s, run->id, false, &rowid) == 0)
		jst__sqlite_results_load(s->db, rowid, run);
}

static int sq_add_result(struct jst_store *base, const char *run_id, const struct jst_run_result *res)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	sqlite3_int64 rowid;
	int r = run_rowid(s, run_id, true, &rowid);
	if (r < 0)
		return r;
	if (jst__sqlite_result_put(s->db, rowid, res, s->base.errmsg, sizeof(s->base.errmsg)) < 0)
		return -EIO;
	return 0;
}

const struct jst_store_ops jst__store_sqlite = {
	.scheme = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.add_result = sq_add_result,
	.resolve = sq_resolve,
	.load_extras = sq_load_extras,
	.calibration_add = jst__sqlite_calibration_add,
	.calibration_load = jst__sqlite_calibration_load,
	.chain_head = jst__sq_chain_head,
	.stream = &jst__stream_sqlite,
};
