/* Migration 12 of the SQLite store (sqlite_upgrade.h): a run recorded before issue 11 (a runs
 * row and its zones, notes, flags, samples and training tables, no run_start in ev_log) becomes
 * the events a live run writes: run_start with its record, one sample event per samples row,
 * mark events for what the training tables can replay (plan, tags, epochs, steps, metrics) and
 * run_end with its totals, flags, notes and carbon result. They go through jst_store_ingest(),
 * the store sink's path, with the ids a live run uses. What the tables keep but no mark can
 * rebuild (the phase split: only totals were stored, never the phase edges; the mark counters)
 * rides in run_end as `legacy_train` (docs/schema.md). Each converted run is then read back as a
 * view and compared with its record: a difference fails the upgrade, naming the run. This file
 * is also the only reader of the legacy tables left (the runs column table below). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/jbuf.h"
#include "core/util.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"
#include "sensor/sensor.h"
#include "store/sqlite/sqlite_results.h"
#include "store/sqlite/sqlite_train.h"
#include "store/sqlite/sqlite_trust.h"
#include "store/sqlite/sqlite_upgrade.h"

enum col_type { C_TEXT, C_INT, C_U64, C_DOUBLE, C_BOOL, C_SCOPE, C_ORIGIN };

struct column {
	const char *name;
	enum col_type type;
	size_t off, size;
};

#define COL(name, type, field) {name, type, offsetof(struct jst_run, field), sizeof(((struct jst_run *)0)->field)}

/* The runs columns that the releases before issue 11 wrote, one per field of struct jst_run. */
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
	COL("zone_origin", C_ORIGIN, site.zone_origin),
	COL("zone_code", C_TEXT, site.zone_code),
	COL("zone_name", C_TEXT, site.zone_name),
	COL("cloud", C_TEXT, site.cloud),
	COL("ci_g_per_kwh", C_DOUBLE, site.ci_g_per_kwh),
	COL("ci_year", C_INT, site.ci_year),
	COL("ci_source", C_TEXT, site.ci_source),
	COL("ewif_l_per_kwh", C_DOUBLE, site.ewif_l_per_kwh),
	COL("ewif_source", C_TEXT, site.ewif_source),
	COL("pue", C_DOUBLE, site.pue),
	COL("pue_source", C_TEXT, site.pue_source),
	COL("wue_l_per_kwh", C_DOUBLE, site.wue_l_per_kwh),
	COL("wue_source", C_TEXT, site.wue_source),
	COL("host_j", C_DOUBLE, host_j),
	COL("run_j", C_DOUBLE, run_j),
	COL("idle_j", C_DOUBLE, idle_j),
	COL("cpu_s", C_DOUBLE, cpu_s),
	COL("estimated", C_BOOL, estimated),
	COL("it_kwh", C_DOUBLE, result.footprint.it_kwh),
	COL("facility_kwh", C_DOUBLE, result.footprint.facility_kwh),
	COL("co2e_g", C_DOUBLE, result.footprint.co2e_g),
	COL("water_site_l", C_DOUBLE, result.footprint.water_site_l),
	COL("water_grid_l", C_DOUBLE, result.footprint.water_grid_l),
	COL("water_l", C_DOUBLE, result.footprint.water_l),
	COL("data_version", C_TEXT, result.data_version),
	COL("ci_series", C_TEXT, result.ci_series),
	COL("ci_avg_g_per_kwh", C_DOUBLE, result.ci_avg_g_per_kwh),
	COL("ci_min_g_per_kwh", C_DOUBLE, result.ci_min_g_per_kwh),
	COL("ci_max_g_per_kwh", C_DOUBLE, result.ci_max_g_per_kwh),
	COL("series_outside_kwh", C_DOUBLE, result.outside_kwh),
	COL("ci_fallback", C_TEXT, result.ci_fallback),
	COL("tz_guess", C_TEXT, site.tz_guess),
	COL("site", C_TEXT, site.name),
	COL("embodied_g", C_DOUBLE, result.embodied_g),
	COL("embodied_source", C_TEXT, result.embodied_source),
	COL("embodied_kg_opt", C_DOUBLE, site.embodied_kg_opt),
	COL("lifetime_years_opt", C_DOUBLE, site.lifetime_years_opt),
	COL("functional_units", C_DOUBLE, result.functional_units),
	COL("functional_unit", C_TEXT, result.functional_unit),
	COL("sci_g", C_DOUBLE, result.sci_g),
};

/* The legacy tables that hold a run's rows (by the runs rowid in column `run`). */
static const char *const legacy_tables[] = {
	"run_zones",       "run_notes",  "run_flags", "samples",     "run_training", "run_phases",
	"run_phase_zones", "run_epochs", "run_steps", "run_metrics", "run_tags",
};

#define BATCH_EVENTS 4096u

/* One run being converted. */
struct conv {
	struct sqlite_store *s;
	struct jst_run *run;    /* the record as the legacy tables hold it */
	struct jst_train *train; /* its training record, or NULL */
	sqlite3_int64 rowid;
	/* the NDJSON batch being built */
	char *buf;
	size_t len, cap, nev;
	/* marks in time order, merged into the samples: what each is, built when encoded */
	struct cmark {
		uint64_t ts;
		size_t order;            /* the order they were made in: ties keep it */
		enum jst_mark_kind kind;
		int64_t n;               /* step or epoch number; tag or metric index */
	} *marks;
	size_t nmarks, next_mark, mark_seq;
	uint64_t zone_seq[JST_ZONES_MAX];
	double idle_j[JST_ZONES_MAX], idle_base[JST_ZONES_MAX]; /* zone idle energy and its spread */
	bool idle_by_host[JST_ZONES_MAX];
	char line[JST_EVENT_LINE_MAX];
};

static int failf(struct conv *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct conv *c, int r, const char *fmt, ...)
{
	char why[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->s->base.errmsg, sizeof(c->s->base.errmsg), "run %s: %s", c->run->id, why);
	return r;
}

static const char *text_at(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

static void load_column(sqlite3_stmt *st, int idx, const struct column *c, struct jst_run *run)
{
	char *p = (char *)run + c->off;
	switch (c->type) {
	case C_TEXT:
		jst__strlcpy(p, text_at(st, idx), c->size);
		break;
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
	case C_SCOPE:
		run->scope = strcmp(text_at(st, idx), "host") == 0 ? JST_SCOPE_HOST : JST_SCOPE_PROCESS;
		break;
	case C_ORIGIN:
		run->site.zone_origin = JST_ORIGIN_NONE;
		for (int o = JST_ORIGIN_NONE; o <= JST_ORIGIN_SERIES; o++)
			if (strcmp(text_at(st, idx), jst_zone_origin_name((enum jst_zone_origin)o)) == 0)
				run->site.zone_origin = (enum jst_zone_origin)o;
		break;
	}
}

static int load_zones(sqlite3 *db, sqlite3_int64 rowid, struct jst_run *run)
{
	sqlite3_stmt *st;
	run->nzones = 0;
	if (sqlite3_prepare_v2(db, "SELECT idx,name,label,uid,kind,source,flags,device,max_power_w,host_j,run_j,"
	                           "idle_j,peak_w,samples,failed,wraps,backwards,gone FROM run_zones WHERE run=?"
	                           " ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, rowid);
	int r = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (run->nzones == JST_ZONES_MAX || sqlite3_column_int(st, 0) != (int)run->nzones) {
			r = -EINVAL; /* zones are numbered 0, 1, 2… as samples name them */
			break;
		}
		struct jst_zone_total *z = &run->zones[run->nzones++];
		memset(z, 0, sizeof(*z));
		jst__strlcpy(z->zone.name, text_at(st, 1), sizeof(z->zone.name));
		jst__strlcpy(z->zone.label, text_at(st, 2), sizeof(z->zone.label));
		jst__strlcpy(z->zone.uid, text_at(st, 3), sizeof(z->zone.uid));
		z->zone.kind = (enum jst_zone_kind)sqlite3_column_int(st, 4);
		z->zone.source = jst__source_name(text_at(st, 5));
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
	return r;
}

/* The run's record as the legacy tables hold it: runs row, zones, notes, flags, results. */
static int load_record(struct conv *c, const char *id)
{
	sqlite3 *db = c->s->db;
	char sql[4096];
	size_t off = (size_t)snprintf(sql, sizeof(sql), "SELECT rowid,id");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",%s", columns[i].name);
	snprintf(sql + off, sizeof(sql) - off, " FROM runs WHERE id=?");
	sqlite3_stmt *st;
	struct jst_run *run = c->run;
	memset(run, 0, sizeof(*run));
	jst__strlcpy(run->id, id, sizeof(run->id));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return failf(c, -EIO, "reading its runs row: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return failf(c, -EIO, "its runs row cannot be read: %s", sqlite3_errmsg(db));
	}
	c->rowid = sqlite3_column_int64(st, 0);
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		load_column(st, (int)i + 2, &columns[i], run);
	sqlite3_finalize(st);
	if (load_zones(db, c->rowid, run) < 0)
		return failf(c, -EINVAL, "its zones (run_zones) are not numbered 0, 1, 2… or are more than %d",
		             JST_ZONES_MAX);
	if (sqlite3_prepare_v2(db, "SELECT note FROM run_notes WHERE run=? ORDER BY idx", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, c->rowid);
		while (sqlite3_step(st) == SQLITE_ROW && run->nnotes < JST_NOTES_MAX)
			jst__strlcpy(run->notes[run->nnotes++], text_at(st, 0), JST_NOTE_LEN);
		sqlite3_finalize(st);
	}
	jst__sqlite_results_load(db, c->rowid, run);
	jst__sqlite_flags_load(db, c->rowid, run);
	return 0;
}

/* ---- the batch: NDJSON lines ingested BATCH_EVENTS at a time ------------------------------ */

static int flush(struct conv *c)
{
	if (!c->nev)
		return 0;
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t bad = 0;
	char err[256];
	int r = jst_event_batch_parse(c->buf, c->len, 0, &b, &bad, err, sizeof(err));
	if (r < 0) {
		jst_event_batch_release(&b);
		return failf(c, -EINVAL, "its event %zu would not be valid: %s", bad, err);
	}
	r = jst_store_ingest(&c->s->base, &b, &res);
	jst_event_batch_release(&b);
	if (r < 0) {
		char keep[sizeof(c->s->base.errmsg)];
		memcpy(keep, c->s->base.errmsg, sizeof(keep));
		return failf(c, r, "ingesting its events: %.300s", keep);
	}
	c->len = c->nev = 0;
	return 0;
}

/* Appends the line an encoder wrote (its length n, or a negative errno). */
static int add_line(struct conv *c, int n, const char *what)
{
	if (n < 0)
		return failf(c, -EINVAL, "%s cannot be written as an event (%s)", what, strerror(-n));
	if (c->len + (size_t)n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : (size_t)1 << 20;
		while (cap < c->len + (size_t)n + 1)
			cap *= 2;
		char *p = realloc(c->buf, cap);
		if (!p)
			return failf(c, -ENOMEM, "out of memory");
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, c->line, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len++] = '\n';
	return ++c->nev >= BATCH_EVENTS ? flush(c) : 0;
}

/* ---- marks: what the training tables can replay ------------------------------------------- */

static int push_mark(struct conv *c, double t_s, enum jst_mark_kind kind, int64_t n)
{
	if (c->nmarks % 256 == 0) {
		void *p = realloc(c->marks, (c->nmarks + 256) * sizeof(*c->marks));
		if (!p)
			return -ENOMEM;
		c->marks = p;
	}
	struct cmark *m = &c->marks[c->nmarks];
	m->ts = c->run->start_ns + (uint64_t)(t_s > 0 ? llround(t_s * 1e9) : 0);
	m->order = c->nmarks++;
	m->kind = kind;
	m->n = n;
	return 0;
}

/* By time, then by the order they were made in: stable. */
static int cmp_mark(const void *a, const void *b)
{
	const struct cmark *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

/* Plan and tags at the start, each epoch's begin and end, the steps of each step range at its
 * start (a range's totals do not depend on where in it they fell), each metric kept: in time
 * order, ties in that order. */
static int plan_marks(struct conv *c)
{
	const struct jst_train *t = c->train;
	int r = push_mark(c, 0, JST_MARK_PLAN, 0);
	for (size_t i = 0; r == 0 && i < t->ntags; i++)
		r = push_mark(c, 0, JST_MARK_TAG, (int64_t)i);
	for (size_t i = 0; r == 0 && i < t->nepochs; i++) {
		const struct jst_epoch_total *e = &t->epochs[i];
		r = push_mark(c, e->start_s, JST_MARK_EPOCH_BEGIN, e->index);
		bool next_begins = i + 1 < t->nepochs && t->epochs[i + 1].start_s == e->end_s;
		if (r == 0 && e->complete && !next_begins)
			r = push_mark(c, e->end_s, JST_MARK_EPOCH_END, 0);
	}
	double at = t->outside_step_s;
	for (size_t i = 0; r == 0 && i < t->nsteps; i++) {
		const struct jst_step_range *g = &t->steps[i];
		for (unsigned long k = 0; r == 0 && k < g->steps; k++) {
			int64_t n = k + 1 == g->steps ? g->last : g->first + (int64_t)k < g->last ? g->first + (int64_t)k : g->last;
			r = push_mark(c, at, JST_MARK_STEP, n);
		}
		at += g->time_s;
	}
	for (size_t i = 0; r == 0 && i < t->nmetrics; i++)
		r = push_mark(c, t->metrics[i].t_s, JST_MARK_METRIC, (int64_t)i);
	if (r < 0)
		return failf(c, r, "out of memory");
	qsort(c->marks, c->nmarks, sizeof(*c->marks), cmp_mark);
	return 0;
}

/* The message of a planned mark; false when there is nothing to send (a metric whose names
 * are all unknown). */
static bool build_mark(const struct conv *c, const struct cmark *m, struct jst_mark *mk)
{
	const struct jst_train *t = c->train;
	memset(mk, 0, sizeof(*mk));
	mk->kind = m->kind;
	mk->n = mk->predict_after = mk->step = mk->epoch = -1;
	switch (m->kind) {
	case JST_MARK_PLAN:
		mk->n = t->epochs_planned > 0 ? t->epochs_planned : -1;
		mk->predict_after = t->predict_after;
		return true;
	case JST_MARK_TAG:
		jst__strlcpy(mk->name, t->tag_key[m->n], sizeof(mk->name));
		jst__strlcpy(mk->text, t->tag_value[m->n], sizeof(mk->text));
		return true;
	case JST_MARK_METRIC: {
		const struct jst_metric *x = &t->metrics[m->n];
		mk->step = x->step;
		mk->epoch = x->epoch;
		for (unsigned k = 0; k < x->nvalues && mk->nvalues < JST_MARK_VALUES_MAX; k++) {
			if (x->name[k] >= t->nmetric_names)
				continue;
			jst__strlcpy(mk->values[mk->nvalues].name, t->metric_names[x->name[k]], JST_MARK_NAME_MAX);
			mk->values[mk->nvalues++].value = x->value[k];
		}
		return mk->nvalues > 0;
	}
	case JST_MARK_EPOCH_END:
		return true;
	default: /* step, epoch begin: the number */
		mk->n = m->n;
		return true;
	}
}

/* The marks dated up to ts (before the samples that end at ts, as a live run logs them). */
static int marks_until(struct conv *c, uint64_t ts)
{
	int r = 0;
	struct jst_mark mk;
	while (r == 0 && c->next_mark < c->nmarks && c->marks[c->next_mark].ts <= ts) {
		const struct cmark *m = &c->marks[c->next_mark++];
		if (build_mark(c, m, &mk))
			r = add_line(c, jst_event_encode_mark(c->run, &mk, m->ts, false, c->mark_seq++, c->line,
			                                      sizeof(c->line)), "a training mark");
	}
	return r;
}

/* ---- samples ------------------------------------------------------------------------------ */

/* Legacy samples kept no idle part; the zone's idle total is spread over its samples in
 * proportion to what was not the run's (host - run), or to host energy when that is nil. */
static int idle_spread(struct conv *c)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->s->db, "SELECT zone, sum(max(host_j-run_j,0)), sum(host_j) FROM samples"
	                                 " WHERE run=? GROUP BY zone", -1, &st, NULL) != SQLITE_OK)
		return failf(c, -EIO, "reading its samples: %s", sqlite3_errmsg(c->s->db));
	sqlite3_bind_int64(st, 1, c->rowid);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int z = sqlite3_column_int(st, 0);
		if (z < 0 || (size_t)z >= c->run->nzones)
			continue; /* named in the error of the sample itself */
		double rest = sqlite3_column_double(st, 1), host = sqlite3_column_double(st, 2);
		c->idle_j[z] = c->run->zones[z].idle_j;
		c->idle_by_host[z] = !(rest > 0);
		c->idle_base[z] = rest > 0 ? rest : host;
	}
	sqlite3_finalize(st);
	return 0;
}

static int check_sample(struct conv *c, const struct jst_sample *v, long long row)
{
	if (v->zone >= c->run->nzones)
		return failf(c, -EINVAL, "sample row %lld (t=%.3f s) names zone %u, which the run's record does not"
		             " have (%zu zones)", row, v->t_s, v->zone, c->run->nzones);
	if (!isfinite(v->t_s) || v->t_s < 0 || !(v->dt_s > 0) || !isfinite(v->dt_s))
		return failf(c, -EINVAL, "sample row %lld has an impossible time (t=%g s, dt=%g s)", row, v->t_s,
		             v->dt_s);
	if (!isfinite(v->host_j) || v->host_j < 0 || !isfinite(v->run_j) || v->run_j < 0 ||
	    v->run_j > v->host_j * (1 + 1e-9) + 1e-12 || !isfinite(v->power_w) || v->power_w < 0)
		return failf(c, -EINVAL, "sample row %lld (t=%.3f s, zone %u) has an impossible energy (host %g J,"
		             " run %g J, %g W)", row, v->t_s, v->zone, v->host_j, v->run_j, v->power_w);
	return 0;
}

static int write_samples(struct conv *c)
{
	int r = idle_spread(c);
	sqlite3_stmt *st;
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(c->s->db, "SELECT t_s,dt_s,zone,flags,host_j,run_j,power_w,rowid FROM samples"
	                                 " WHERE run=? ORDER BY t_s, zone", -1, &st, NULL) != SQLITE_OK)
		return failf(c, -EIO, "reading its samples: %s", sqlite3_errmsg(c->s->db));
	sqlite3_bind_int64(st, 1, c->rowid);
	int rc;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int zone = sqlite3_column_int(st, 2);
		struct jst_sample v = {
			sqlite3_column_double(st, 0), sqlite3_column_double(st, 1), zone < 0 ? UINT32_MAX : (uint32_t)zone,
			(uint32_t)sqlite3_column_int(st, 3), sqlite3_column_double(st, 4), sqlite3_column_double(st, 5),
			sqlite3_column_double(st, 6), 0,
		};
		if ((r = check_sample(c, &v, (long long)sqlite3_column_int64(st, 7))) < 0)
			break;
		if (c->idle_j[v.zone] > 0 && c->idle_base[v.zone] > 0) {
			double part = c->idle_by_host[v.zone] ? v.host_j : fmax(v.host_j - v.run_j, 0);
			v.idle_j = c->idle_j[v.zone] * part / c->idle_base[v.zone];
		}
		uint64_t end = c->run->start_ns + (uint64_t)llround((v.t_s + v.dt_s) * 1e9);
		if ((r = marks_until(c, end)) < 0)
			break;
		r = add_line(c, jst_event_encode_sample(c->run, &v, c->zone_seq[v.zone]++, c->line, sizeof(c->line)),
		             "a sample");
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = failf(c, -EIO, "reading its samples: %s", sqlite3_errmsg(c->s->db));
	sqlite3_finalize(st);
	return r;
}

/* ---- run_end: the record's end, and what of the training record no mark rebuilds ---------- */

static void legacy_train(struct conv *c, struct jst_jbuf *b)
{
	const struct jst_train *t = c->train;
	jst__jbuf_printf(b, ",\"legacy_train\":{\"marks\":%lu,\"lost_marks\":%lu,\"late_marks\":%lu,"
	                 "\"metrics_logged\":%lu,\"metric_values_dropped\":%lu,\"phases\":[",
	                 t->marks, t->lost_marks, t->late_marks, t->metrics_logged, t->metric_values_dropped);
	for (size_t i = 0; i < t->nphases; i++) {
		const struct jst_phase_total *p = &t->phases[i];
		size_t nz = c->run->nzones;
		while (nz > 0 && p->zone_j[nz - 1] == 0)
			nz--;
		jst__jbuf_str(b, i ? ",{" : "{");
		jst__jbuf_key(b, "path");
		jst__jbuf_jstr(b, p->path);
		jst__jbuf_printf(b, ",\"depth\":%u,\"entries\":%lu", p->depth, p->entries);
		jst__jbuf_key(b, "time_s");
		jst__jbuf_jnum(b, p->time_s);
		jst__jbuf_key(b, "energy_j");
		jst__jbuf_jnum(b, p->energy_j);
		jst__jbuf_str(b, ",\"zone_j\":[");
		for (size_t z = 0; z < nz; z++) {
			if (z)
				jst__jbuf_put(b, ",", 1);
			jst__jbuf_jnum(b, p->zone_j[z]);
		}
		jst__jbuf_str(b, "]}");
	}
	jst__jbuf_str(b, "]}");
}

static int write_end(struct conv *c)
{
	int n = jst_event_encode_run_end(c->run, c->line, sizeof(c->line));
	if (n > 0 && c->train) { /* reopen the object for legacy_train */
		struct jst_jbuf b;
		char *tail = malloc(JST_EVENT_LINE_MAX);
		if (!tail)
			return failf(c, -ENOMEM, "out of memory");
		jst__jbuf_fixed(&b, tail, JST_EVENT_LINE_MAX);
		legacy_train(c, &b);
		size_t tl = b.len;
		bool ok = !b.full && (size_t)n + tl + 1 < sizeof(c->line);
		if (ok) {
			memcpy(c->line + n - 1, tail, tl);
			c->line[n - 1 + tl] = '}';
			n += (int)tl;
		}
		free(tail);
		if (!ok)
			n = -ENOSPC;
	}
	return add_line(c, n, "its run_end (with its training record)");
}

/* ---- the check: the view has the figures of the record ------------------------------------ */

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)) + 1e-12;
}

static int check_view(struct conv *c)
{
	struct jst_run *v = malloc(sizeof(*v));
	if (!v)
		return failf(c, -ENOMEM, "out of memory");
	const struct jst_run *o = c->run;
	int r = jst_store_load(&c->s->base, o->id, v);
	if (r < 0) {
		r = failf(c, r, "its events cannot be read back: %.300s", c->s->base.errmsg);
	} else if (v->nzones != o->nzones) {
		r = failf(c, -EPROTO, "read back from its events it has %zu zones, its record %zu", v->nzones, o->nzones);
	} else if (!near(v->run_j, o->run_j) || !near(v->host_j, o->host_j) || !near(v->idle_j, o->idle_j)) {
		r = failf(c, -EPROTO, "read back from its events its energy is %.17g J (host %.17g J, idle %.17g J),"
		          " its record says %.17g J (%.17g J, %.17g J)", v->run_j, v->host_j, v->idle_j, o->run_j,
		          o->host_j, o->idle_j);
	} else if (!near(v->result.footprint.co2e_g, o->result.footprint.co2e_g) ||
		   !near(v->result.footprint.water_l, o->result.footprint.water_l)) {
		r = failf(
			c, -EPROTO,
			"read back from its events it has %.17g gCO2e and %.17g L, its record %.17g"
			" gCO2e and %.17g L",
			v->result.footprint.co2e_g, v->result.footprint.water_l,
			o->result.footprint.co2e_g, o->result.footprint.water_l);
	}
	for (size_t z = 0; r == 0 && z < o->nzones; z++) {
		const struct jst_zone_total *a = &v->zones[z], *b = &o->zones[z];
		if (!near(a->host_j, b->host_j) || !near(a->run_j, b->run_j) || a->samples != b->samples)
			r = failf(c, -EPROTO, "zone %s read back from its events has %.17g J in %lu samples, its record"
			          " %.17g J in %lu", b->zone.name, a->host_j, a->samples, b->host_j, b->samples);
	}
	free(v);
	return r;
}

static int convert(struct conv *c, const char *id)
{
	int r = load_record(c, id);
	if (r < 0)
		return r;
	c->len = c->nev = c->nmarks = c->next_mark = c->mark_seq = 0;
	memset(c->zone_seq, 0, sizeof(c->zone_seq));
	memset(c->idle_j, 0, sizeof(c->idle_j));
	memset(c->idle_base, 0, sizeof(c->idle_base));
	char err[256];
	memset(c->train, 0, sizeof(*c->train));
	bool has_train = jst__sqlite_train_load(c->s->db, c->rowid, c->train, err, sizeof(err)) == 0;
	if (has_train && (r = plan_marks(c)) < 0)
		return r;
	c->run->train = NULL;
	struct jst_train *keep = c->train;
	if (!has_train)
		c->train = NULL;
	r = add_line(c, jst_event_encode_run_start(c->run, jst_train_tag(keep, "model"), 0, NULL, c->line,
	                                           sizeof(c->line)), "its run_start");
	if (r == 0)
		r = write_samples(c);
	if (r == 0)
		r = marks_until(c, UINT64_MAX);
	if (r == 0 && c->run->finished)
		r = write_end(c);
	c->train = keep;
	if (r == 0)
		r = flush(c);
	/* a run whose monitor died has a record as of its start: its samples say more */
	return r == 0 && c->run->finished ? check_view(c) : r;
}

/* ---- the whole store ---------------------------------------------------------------------- */

static int exec(struct sqlite_store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* The ids of the runs the log does not hold yet, oldest first. */
static int legacy_ids(struct sqlite_store *s, char (**ids)[JST_RUN_ID_LEN + 1], size_t *n)
{
	sqlite3_stmt *st;
	*ids = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id FROM runs r WHERE start_ns IS NOT NULL AND NOT EXISTS"
	                              " (SELECT 1 FROM ev_log WHERE run=r.id AND type='run_start')"
	                              " ORDER BY start_ns, rowid", -1, &st, NULL) != SQLITE_OK) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "listing the runs: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	int r = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n % 64 == 0) {
			void *p = realloc(*ids, (*n + 64) * sizeof(**ids));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			*ids = p;
		}
		jst__strlcpy((*ids)[(*n)++], text_at(st, 0), sizeof(**ids));
	}
	sqlite3_finalize(st);
	return r;
}

/* The old record chain's head and size, the runs converted, now; then the legacy rows go: their
 * figures are in the log, and nothing reads them any more. The runs rows stay as the key of
 * run_results, their other columns cleared. */
static int retire_rows(struct sqlite_store *s, size_t runs)
{
	char sql[4096];
	int r = exec(s, "BEGIN IMMEDIATE");
	snprintf(sql, sizeof(sql), "INSERT INTO legacy_chain(head, entries, runs, migrated_ns)"
	         " SELECT coalesce((SELECT hash FROM run_chain ORDER BY seq DESC LIMIT 1), ''),"
	         " (SELECT count(*) FROM run_chain), %zu, %llu", runs, (unsigned long long)jst__wall_ns());
	if (r == 0)
		r = exec(s, sql);
	for (size_t i = 0; r == 0 && i < JST_ARRAY_LEN(legacy_tables); i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s", legacy_tables[i]);
		r = exec(s, sql);
	}
	size_t off = (size_t)snprintf(sql, sizeof(sql), "UPDATE runs SET ");
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s%s=NULL", i ? "," : "", columns[i].name);
	if (r == 0 && off < sizeof(sql))
		r = exec(s, sql);
	if (r == 0)
		r = exec(s, "COMMIT");
	if (r < 0) {
		char keep[sizeof(s->base.errmsg)];
		memcpy(keep, s->base.errmsg, sizeof(keep));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "retiring the legacy rows: %.400s", keep);
	}
	return r;
}

/* Columns an old runs table may lack (a release that wrote fewer fields): added, so that the
 * column table reads every run the same way. */
static int ensure_columns(struct sqlite_store *s)
{
	for (size_t i = 0; i < JST_ARRAY_LEN(columns); i++) {
		char sql[160];
		snprintf(sql, sizeof(sql), "SELECT %s FROM runs LIMIT 0", columns[i].name);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_finalize(st);
			continue;
		}
		const char *t = columns[i].type == C_TEXT ? "TEXT" : columns[i].type == C_DOUBLE ? "REAL" : "INTEGER";
		snprintf(sql, sizeof(sql), "ALTER TABLE runs ADD COLUMN %s %s", columns[i].name, t);
		if (exec(s, sql) < 0)
			return -EIO;
	}
	return 0;
}

/* Whether the runs table has the record columns: a store that a release before issue 11 wrote
 * (they added them at every open); one created since has only the key. */
static bool has_record_columns(struct sqlite_store *s)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT start_ns FROM runs LIMIT 0", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_finalize(st);
	return true;
}

int jst__sq_upgrade_runs(struct sqlite_store *s)
{
	char (*ids)[JST_RUN_ID_LEN + 1] = NULL;
	size_t n = 0;
	if (!has_record_columns(s))
		return 0; /* nothing was ever recorded the old way */
	int r = ensure_columns(s);
	if (r == 0)
		r = legacy_ids(s, &ids, &n);
	struct conv *c = r == 0 ? calloc(1, sizeof(*c)) : NULL;
	if (r == 0 && c) {
		c->s = s;
		c->run = malloc(sizeof(*c->run));
		c->train = malloc(sizeof(*c->train));
	}
	if (r == 0 && (!c || !c->run || !c->train)) {
		snprintf(s->base.errmsg, sizeof(s->base.errmsg), "out of memory");
		r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = convert(c, ids[i]);
	if (r == 0)
		r = retire_rows(s, n);
	if (c) {
		free(c->run);
		free(c->train);
		free(c->buf);
		free(c->marks);
		free(c);
	}
	free(ids);
	return r;
}
