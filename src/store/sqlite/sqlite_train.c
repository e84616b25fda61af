/* The training record that releases before issue 11 kept in SQLite, read by migration 12
 * (sqlite_upgrade.c) only: a run's training record is the view of its mark events since.
 * run_training (counters and the prediction, one row,
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
