/* A run's training record in SQLite: run_training (counters and the prediction, one row,
 * mirrored from struct jst_train through the column table below), run_phases and
 * run_phase_zones, run_epochs, run_steps, run_tags, and run_metrics with one row per logged
 * value (seq, time, step, epoch, the run's energy at that instant, position, name, value), so that
 * "energy to reach loss X" is one SELECT. The tables come from a migration in sqlite.c. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/sqlite/sqlite_train.h"

enum ttype { T_UL, T_I64, T_INT, T_D, T_BOOL, T_TEXT };

struct tcol {
	const char *name;
	enum ttype type;
	size_t off, size;
};

#define TCOL(name, type, field) {name, type, offsetof(struct jst_train, field), sizeof(((struct jst_train *)0)->field)}

static const struct tcol tcols[] = {
	TCOL("marks", T_UL, marks),
	TCOL("bad_marks", T_UL, bad_marks),
	TCOL("lost_marks", T_UL, lost_marks),
	TCOL("late_marks", T_UL, late_marks),
	TCOL("bad_example", T_TEXT, bad_example),
	TCOL("epochs_planned", T_I64, epochs_planned),
	TCOL("predict_after", T_INT, predict_after),
	TCOL("outside_epoch_s", T_D, outside_epoch_s),
	TCOL("outside_epoch_j", T_D, outside_epoch_j),
	TCOL("beyond_epochs", T_UL, beyond_epochs),
	TCOL("beyond_s", T_D, beyond_s),
	TCOL("beyond_j", T_D, beyond_j),
	TCOL("step_base", T_I64, step_base),
	TCOL("step_width", T_I64, step_width),
	TCOL("steps_total", T_UL, steps_total),
	TCOL("outside_step_s", T_D, outside_step_s),
	TCOL("outside_step_j", T_D, outside_step_j),
	TCOL("metrics_logged", T_UL, metrics_logged),
	TCOL("metric_values_dropped", T_UL, metric_values_dropped),
	TCOL("pred_after", T_I64, prediction.after),
	TCOL("pred_planned", T_I64, prediction.planned),
	TCOL("pred_duration_s", T_D, prediction.duration_s),
	TCOL("pred_energy_j", T_D, prediction.energy_j),
	TCOL("pred_co2e_g", T_D, prediction.co2e_g),
	TCOL("pred_water_l", T_D, prediction.water_l),
	TCOL("pred_latest_after", T_I64, prediction.latest_after),
	TCOL("pred_latest_duration_s", T_D, prediction.latest_duration_s),
	TCOL("pred_latest_energy_j", T_D, prediction.latest_energy_j),
	TCOL("pred_reached", T_BOOL, prediction.reached),
	TCOL("pred_actual_duration_s", T_D, prediction.actual_duration_s),
	TCOL("pred_actual_energy_j", T_D, prediction.actual_energy_j),
};

static int err_db(sqlite3 *db, const char *what, char *err, size_t n)
{
	snprintf(err, n, "%s: %s", what, sqlite3_errmsg(db));
	int code = sqlite3_errcode(db);
	return code == SQLITE_FULL ? -ENOSPC : code == SQLITE_BUSY ? -EBUSY : -EIO;
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t n)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		return err_db(db, "preparing the training tables", err, n);
	return 0;
}

/* Steps a bound statement and resets it for the next row. */
static int row(sqlite3 *db, sqlite3_stmt *st, char *err, size_t n)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : err_db(db, "writing the training record", err, n);
}

static void bind_tcol(sqlite3_stmt *st, int idx, const struct tcol *c, const struct jst_train *t)
{
	const char *p = (const char *)t + c->off;
	switch (c->type) {
	case T_UL: sqlite3_bind_int64(st, idx, (sqlite3_int64) * (const unsigned long *)(const void *)p); break;
	case T_I64: sqlite3_bind_int64(st, idx, *(const int64_t *)(const void *)p); break;
	case T_INT: sqlite3_bind_int(st, idx, *(const int *)(const void *)p); break;
	case T_D: sqlite3_bind_double(st, idx, *(const double *)(const void *)p); break;
	case T_BOOL: sqlite3_bind_int(st, idx, *(const bool *)(const void *)p); break;
	case T_TEXT: sqlite3_bind_text(st, idx, p, -1, SQLITE_STATIC); break;
	}
}

static void load_tcol(sqlite3_stmt *st, int idx, const struct tcol *c, struct jst_train *t)
{
	char *p = (char *)t + c->off;
	switch (c->type) {
	case T_UL: *(unsigned long *)(void *)p = (unsigned long)sqlite3_column_int64(st, idx); break;
	case T_I64: *(int64_t *)(void *)p = sqlite3_column_int64(st, idx); break;
	case T_INT: *(int *)(void *)p = sqlite3_column_int(st, idx); break;
	case T_D: *(double *)(void *)p = sqlite3_column_double(st, idx); break;
	case T_BOOL: *(bool *)(void *)p = sqlite3_column_int(st, idx) != 0; break;
	case T_TEXT: {
		const unsigned char *s = sqlite3_column_text(st, idx);
		jst__strlcpy(p, s ? (const char *)s : "", c->size);
		break;
	}
	}
}

static int save_summary(sqlite3 *db, sqlite3_int64 rowid, const struct jst_train *t, char *err, size_t n)
{
	char sql[2048], vals[256];
	size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO run_training(run");
	size_t voff = (size_t)snprintf(vals, sizeof(vals), "?");
	for (size_t i = 0; i < JST_ARRAY_LEN(tcols) && off < sizeof(sql) && voff < sizeof(vals); i++) {
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",%s", tcols[i].name);
		voff += (size_t)snprintf(vals + voff, sizeof(vals) - voff, ",?");
	}
	if (off < sizeof(sql))
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") VALUES(%s)", vals);
	sqlite3_stmt *st;
	if (off >= sizeof(sql) || voff >= sizeof(vals)) {
		snprintf(err, n, "training summary: statement too long");
		return -EIO;
	}
	int r = prep(db, sql, &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	for (size_t i = 0; i < JST_ARRAY_LEN(tcols); i++)
		bind_tcol(st, (int)i + 2, &tcols[i], t);
	r = row(db, st, err, n);
	sqlite3_finalize(st);
	return r;
}

static int save_phases(sqlite3 *db, sqlite3_int64 rowid, const struct jst_run *run, char *err, size_t n)
{
	const struct jst_train *t = run->train;
	sqlite3_stmt *ph, *pz;
	int r = prep(db, "INSERT OR REPLACE INTO run_phases VALUES(?,?,?,?,?,?,?)", &ph, err, n);
	if (r < 0)
		return r;
	if ((r = prep(db, "INSERT OR REPLACE INTO run_phase_zones VALUES(?,?,?,?)", &pz, err, n)) < 0) {
		sqlite3_finalize(ph);
		return r;
	}
	for (size_t i = 0; i < t->nphases && r == 0; i++) {
		const struct jst_phase_total *p = &t->phases[i];
		sqlite3_bind_int64(ph, 1, rowid);
		sqlite3_bind_int(ph, 2, (int)i);
		sqlite3_bind_text(ph, 3, p->path, -1, SQLITE_STATIC);
		sqlite3_bind_int(ph, 4, (int)p->depth);
		sqlite3_bind_int64(ph, 5, (sqlite3_int64)p->entries);
		sqlite3_bind_double(ph, 6, p->time_s);
		sqlite3_bind_double(ph, 7, p->energy_j);
		r = row(db, ph, err, n);
		for (size_t z = 0; z < run->nzones && r == 0; z++) {
			if (p->zone_j[z] == 0)
				continue;
			sqlite3_bind_int64(pz, 1, rowid);
			sqlite3_bind_int(pz, 2, (int)i);
			sqlite3_bind_int(pz, 3, (int)z);
			sqlite3_bind_double(pz, 4, p->zone_j[z]);
			r = row(db, pz, err, n);
		}
	}
	sqlite3_finalize(ph);
	sqlite3_finalize(pz);
	return r;
}

/* "loss=0.31 accuracy=0.9": an epoch's last metric values. */
static void epoch_values(const struct jst_train *t, const struct jst_epoch_total *ep, char *out, size_t n)
{
	size_t off = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < ep->nvalues && ep->value_name[i] < t->nmetric_names; i++) {
		if (!isfinite(ep->value[i]))
			continue;
		int w = snprintf(out + off, n - off, "%s%s=%.17g", off ? " " : "",
		                 t->metric_names[ep->value_name[i]], ep->value[i]);
		if (w < 0 || (size_t)w >= n - off)
			break;
		off += (size_t)w;
	}
}

static int save_epochs(sqlite3 *db, sqlite3_int64 rowid, const struct jst_train *t, char *err, size_t n)
{
	sqlite3_stmt *st;
	int r = prep(db, "INSERT OR REPLACE INTO run_epochs VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", &st, err, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nepochs && r == 0; i++) {
		const struct jst_epoch_total *ep = &t->epochs[i];
		char vals[JST_EPOCH_VALUES * (JST_MARK_NAME_MAX + 26)];
		epoch_values(t, ep, vals, sizeof(vals));
		int k = 1;
		sqlite3_bind_int64(st, k++, rowid);
		sqlite3_bind_int(st, k++, (int)i);
		sqlite3_bind_int64(st, k++, ep->index);
		sqlite3_bind_double(st, k++, ep->start_s);
		sqlite3_bind_double(st, k++, ep->end_s);
		sqlite3_bind_double(st, k++, ep->time_s);
		sqlite3_bind_double(st, k++, ep->energy_j);
		sqlite3_bind_double(st, k++, ep->start_j);
		sqlite3_bind_double(st, k++, ep->end_j);
		sqlite3_bind_int64(st, k++, (sqlite3_int64)ep->steps);
		sqlite3_bind_int(st, k++, ep->complete);
		sqlite3_bind_text(st, k++, vals, -1, SQLITE_TRANSIENT);
		r = row(db, st, err, n);
	}
	sqlite3_finalize(st);
	return r;
}

static int save_steps_tags(sqlite3 *db, sqlite3_int64 rowid, const struct jst_train *t, char *err, size_t n)
{
	sqlite3_stmt *st;
	int r = prep(db, "INSERT OR REPLACE INTO run_steps VALUES(?,?,?,?,?,?,?)", &st, err, n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->nsteps && r == 0; i++) {
		const struct jst_step_range *s = &t->steps[i];
		sqlite3_bind_int64(st, 1, rowid);
		sqlite3_bind_int(st, 2, (int)i);
		sqlite3_bind_int64(st, 3, s->first);
		sqlite3_bind_int64(st, 4, s->last);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)s->steps);
		sqlite3_bind_double(st, 6, s->time_s);
		sqlite3_bind_double(st, 7, s->energy_j);
		r = row(db, st, err, n);
	}
	sqlite3_finalize(st);
	if (r < 0 || (r = prep(db, "INSERT OR REPLACE INTO run_tags VALUES(?,?,?)", &st, err, n)) < 0)
		return r;
	for (size_t i = 0; i < t->ntags && r == 0; i++) {
		sqlite3_bind_int64(st, 1, rowid);
		sqlite3_bind_text(st, 2, t->tag_key[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, t->tag_value[i], -1, SQLITE_STATIC);
		r = row(db, st, err, n);
	}
	sqlite3_finalize(st);
	return r;
}

int jst__sqlite_train_save(sqlite3 *db, sqlite3_int64 rowid, const struct jst_run *run, char *err,
                           size_t errlen)
{
	const struct jst_train *t = run->train;
	if (!t || !t->used)
		return 0;
	/* step ranges merge as a run goes on: the stored ones are replaced, not added to */
	sqlite3_stmt *st;
	int r = prep(db, "DELETE FROM run_steps WHERE run=?", &st, err, errlen);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	r = row(db, st, err, errlen);
	sqlite3_finalize(st);
	if (r == 0)
		r = save_summary(db, rowid, t, err, errlen);
	if (r == 0)
		r = save_phases(db, rowid, run, err, errlen);
	if (r == 0)
		r = save_epochs(db, rowid, t, err, errlen);
	if (r == 0)
		r = save_steps_tags(db, rowid, t, err, errlen);
	return r;
}

int jst__sqlite_metrics_add(sqlite3 *db, sqlite3_int64 rowid, const struct jst_metric *v, size_t n,
                            const char (*names)[JST_MARK_NAME_MAX], size_t nnames, char *err,
                            size_t errlen)
{
	sqlite3_stmt *st;
	int r = prep(db, "INSERT OR REPLACE INTO run_metrics VALUES(?,?,?,?,?,?,?,?,?)", &st, err, errlen);
	if (r < 0)
		return r;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return err_db(db, "starting a transaction", err, errlen);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		for (unsigned k = 0; k < v[i].nvalues && r == 0; k++) {
			if (v[i].name[k] >= nnames)
				continue;
			sqlite3_bind_int64(st, 1, rowid);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)v[i].seq);
			sqlite3_bind_double(st, 3, v[i].t_s);
			if (v[i].step >= 0)
				sqlite3_bind_int64(st, 4, v[i].step);
			else
				sqlite3_bind_null(st, 4);
			if (v[i].epoch >= 0)
				sqlite3_bind_int64(st, 5, v[i].epoch);
			else
				sqlite3_bind_null(st, 5);
			sqlite3_bind_double(st, 6, v[i].energy_j);
			sqlite3_bind_int(st, 7, (int)k);
			sqlite3_bind_text(st, 8, names[v[i].name[k]], -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 9, v[i].value[k]); /* NaN is stored as NULL */
			r = row(db, st, err, errlen);
		}
	}
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = err_db(db, "committing metrics", err, errlen);
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static int load_summary(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err, size_t n)
{
	char sql[2048];
	size_t off = (size_t)snprintf(sql, sizeof(sql), "SELECT run");
	for (size_t i = 0; i < JST_ARRAY_LEN(tcols) && off < sizeof(sql); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",%s", tcols[i].name);
	if (off < sizeof(sql))
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, " FROM run_training WHERE run=?");
	if (off >= sizeof(sql)) {
		snprintf(err, n, "training summary: statement too long");
		return -EIO;
	}
	sqlite3_stmt *st;
	int r = prep(db, sql, &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	r = -ENOENT;
	if (sqlite3_step(st) == SQLITE_ROW) {
		for (size_t i = 0; i < JST_ARRAY_LEN(tcols); i++)
			load_tcol(st, (int)i + 1, &tcols[i], t);
		t->used = true;
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static const char *text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	return s ? (const char *)s : "";
}

static int load_phases(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err, size_t n)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT path,depth,entries,time_s,energy_j FROM run_phases WHERE run=? ORDER BY idx",
	             &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW && t->nphases < JST_PHASES_MAX) {
		struct jst_phase_total *p = &t->phases[t->nphases++];
		jst__strlcpy(p->path, text(st, 0), sizeof(p->path));
		p->depth = (unsigned)sqlite3_column_int(st, 1);
		p->entries = (unsigned long)sqlite3_column_int64(st, 2);
		p->time_s = sqlite3_column_double(st, 3);
		p->energy_j = sqlite3_column_double(st, 4);
	}
	sqlite3_finalize(st);
	if ((r = prep(db, "SELECT phase,zone,energy_j FROM run_phase_zones WHERE run=?", &st, err, n)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int p = sqlite3_column_int(st, 0), z = sqlite3_column_int(st, 1);
		if (p >= 0 && (size_t)p < t->nphases && z >= 0 && z < JST_ZONES_MAX)
			t->phases[p].zone_j[z] = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	return 0;
}

/* Parses "loss=0.31 accuracy=0.9" back into an epoch's last values. */
static void parse_values(struct jst_train *t, struct jst_epoch_total *ep, const char *s)
{
	while (*s && ep->nvalues < JST_EPOCH_VALUES) {
		const char *sp = strchr(s, ' '), *end = sp ? sp : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s));
		double v;
		if (eq && (size_t)(eq - s) < JST_MARK_NAME_MAX &&
		    jst__parse_double(eq + 1, (size_t)(end - eq - 1), &v) == 0) {
			char name[JST_MARK_NAME_MAX];
			memcpy(name, s, (size_t)(eq - s));
			name[eq - s] = '\0';
			int id = jst_train_metric_name(t, name);
			if (id >= 0) {
				ep->value_name[ep->nvalues] = (uint8_t)id;
				ep->value[ep->nvalues++] = v;
			}
		}
		s = sp ? sp + 1 : end;
	}
}

static int load_epochs(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err, size_t n)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT epoch,start_s,end_s,time_s,energy_j,start_j,end_j,steps,complete,last_values"
	             " FROM run_epochs WHERE run=? ORDER BY idx", &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW && t->nepochs < JST_EPOCHS_MAX) {
		struct jst_epoch_total *ep = &t->epochs[t->nepochs++];
		ep->index = sqlite3_column_int64(st, 0);
		ep->start_s = sqlite3_column_double(st, 1);
		ep->end_s = sqlite3_column_double(st, 2);
		ep->time_s = sqlite3_column_double(st, 3);
		ep->energy_j = sqlite3_column_double(st, 4);
		ep->start_j = sqlite3_column_double(st, 5);
		ep->end_j = sqlite3_column_double(st, 6);
		ep->steps = (unsigned long)sqlite3_column_int64(st, 7);
		ep->complete = sqlite3_column_int(st, 8) != 0;
		parse_values(t, ep, text(st, 9));
	}
	sqlite3_finalize(st);
	return 0;
}

static int load_steps_tags(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err, size_t n)
{
	sqlite3_stmt *st;
	int r = prep(db, "SELECT first,last,steps,time_s,energy_j FROM run_steps WHERE run=? ORDER BY idx",
	             &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW && t->nsteps < JST_STEP_RANGES) {
		struct jst_step_range *s = &t->steps[t->nsteps++];
		s->first = sqlite3_column_int64(st, 0);
		s->last = sqlite3_column_int64(st, 1);
		s->steps = (unsigned long)sqlite3_column_int64(st, 2);
		s->time_s = sqlite3_column_double(st, 3);
		s->energy_j = sqlite3_column_double(st, 4);
	}
	sqlite3_finalize(st);
	if ((r = prep(db, "SELECT key,value FROM run_tags WHERE run=? ORDER BY key", &st, err, n)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	while (sqlite3_step(st) == SQLITE_ROW && t->ntags < JST_TAGS_MAX) {
		jst__strlcpy(t->tag_key[t->ntags], text(st, 0), JST_MARK_NAME_MAX);
		jst__strlcpy(t->tag_value[t->ntags++], text(st, 1), JST_MARK_TEXT_MAX);
	}
	sqlite3_finalize(st);
	return 0;
}

/* The metrics, thinned as the monitor thins them in memory: every stride-th by sequence. */
static int load_metrics(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err, size_t n)
{
	t->metric_stride = 1;
	while ((t->metrics_logged + t->metric_stride - 1) / t->metric_stride > JST_METRICS_KEPT)
		t->metric_stride *= 2;
	sqlite3_stmt *st;
	int r = prep(db, "SELECT seq,t_s,step,epoch,energy_j,name,value FROM run_metrics"
	             " WHERE run=? AND seq % ? = 0 ORDER BY seq, k", &st, err, n);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, t->metric_stride);
	struct jst_metric m = {0};
	bool open = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
		if (open && seq != m.seq) {
			jst_train_keep_metric(t, &m);
			open = false;
		}
		if (!open) {
			m = (struct jst_metric){.seq = seq, .t_s = sqlite3_column_double(st, 1),
			                        .energy_j = sqlite3_column_double(st, 4)};
			m.step = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
			m.epoch = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
			open = true;
		}
		int id = jst_train_metric_name(t, text(st, 5));
		if (id >= 0 && m.nvalues < JST_MARK_VALUES_MAX) {
			m.name[m.nvalues] = (uint8_t)id;
			m.value[m.nvalues++] = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
		}
	}
	if (open)
		jst_train_keep_metric(t, &m);
	sqlite3_finalize(st);
	return 0;
}

int jst__sqlite_train_load(sqlite3 *db, sqlite3_int64 rowid, struct jst_train *t, char *err,
                           size_t errlen)
{
	memset(t, 0, sizeof(*t));
	int r = load_summary(db, rowid, t, err, errlen);
	if (r == 0)
		r = load_phases(db, rowid, t, err, errlen);
	if (r == 0)
		r = load_epochs(db, rowid, t, err, errlen);
	if (r == 0)
		r = load_steps_tags(db, rowid, t, err, errlen);
	if (r == 0)
		r = load_metrics(db, rowid, t, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "the run has no training marks");
	return r;
}
