/* A run's record rebuilt from its events (runview.h). The record fields that run_start and
 * run_end carry are read through the same table that wrote them (src/event/record.c). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agg/runview.h"
#include "agg/runview_gpu.h"
#include "agg/runview_legacy.h"
#include "core/util.h"
#include "joulestream/record.h"
#include "event/record.h"
#include "joulestream/event.h"
#include "joulestream/intensity.h"
#include "record/trainer.h"
#include "sensor/sensor.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void copy(char *dst, size_t n, const cJSON *o, const char *key)
{
	const char *s = str(o, key);
	if (s)
		jst__strlcpy(dst, s, n);
}

static bool num(const cJSON *o, const char *key, double *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(it))
		return false;
	*out = it->valuedouble;
	return true;
}

static enum jst_zone_origin origin(const char *name)
{
	for (int o = JST_ORIGIN_NONE; o <= JST_ORIGIN_SERIES; o++)
		if (name && strcmp(name, jst_zone_origin_name((enum jst_zone_origin)o)) == 0)
			return (enum jst_zone_origin)o;
	return JST_ORIGIN_NONE;
}

static void read_fields(struct jst_run *run, const cJSON *rec, const struct jst__rec_field *f, size_t n)
{
	if (!cJSON_IsObject(rec))
		return;
	for (size_t i = 0; i < n; i++) {
		char *p = (char *)run + f[i].off;
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(rec, f[i].name);
		if (!it)
			continue;
		switch (f[i].type) {
		case JST_REC_TEXT:
			if (cJSON_IsString(it) && !jst__strlcpy(p, it->valuestring, f[i].size))
				jst_run_note(run, "the record's %s is %zu bytes, more than this joulestream "
				             "keeps (%zu): it was cut", f[i].name, strlen(it->valuestring),
				             f[i].size - 1);
			break;
		case JST_REC_DOUBLE:
			if (cJSON_IsNumber(it))
				*(double *)(void *)p = it->valuedouble;
			break;
		case JST_REC_INT:
			if (cJSON_IsNumber(it))
				*(int *)(void *)p = (int)it->valuedouble;
			break;
		case JST_REC_BOOL:
			*(bool *)(void *)p = cJSON_IsTrue(it);
			break;
		case JST_REC_ORIGIN:
			if (cJSON_IsString(it))
				*(enum jst_zone_origin *)(void *)p = origin(it->valuestring);
			break;
		}
	}
}

static enum jst_zone_kind kind_of(const char *name)
{
	for (int k = JST_KIND_PACKAGE; k <= JST_KIND_OTHER; k++)
		if (name && strcmp(name, jst_zone_kind_name((enum jst_zone_kind)k)) == 0)
			return (enum jst_zone_kind)k;
	return JST_KIND_OTHER;
}

static void read_zones(struct jst_run *run, const cJSON *zones)
{
	const cJSON *z;
	run->nzones = 0;
	cJSON_ArrayForEach(z, zones)
	{
		if (run->nzones == JST_ZONES_MAX || !cJSON_IsObject(z))
			break;
		struct jst_zone *zn = &run->zones[run->nzones++].zone;
		copy(zn->name, sizeof(zn->name), z, "name");
		copy(zn->label, sizeof(zn->label), z, "label");
		copy(zn->uid, sizeof(zn->uid), z, "uid");
		zn->kind = kind_of(str(z, "kind"));
		zn->source = jst__source_name(str(z, "source"));
		zn->flags = (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(z, "estimate")) ? JST_ZONE_ESTIMATE : 0) |
		            (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(z, "counted")) ? JST_ZONE_COUNTED : 0);
		zn->device = -1;
	}
}

static void read_meta(struct jst_run *run, const cJSON *m)
{
	struct jst_meta *mt = &run->meta;
	if (!cJSON_IsObject(m))
		return;
	copy(mt->kernel, sizeof(mt->kernel), m, "kernel");
	copy(mt->cpu_model, sizeof(mt->cpu_model), m, "cpu_model");
	copy(mt->gpus, sizeof(mt->gpus), m, "gpus");
	copy(mt->gpu_driver, sizeof(mt->gpu_driver), m, "gpu_driver");
	copy(mt->git_commit, sizeof(mt->git_commit), m, "git_commit");
	copy(mt->container, sizeof(mt->container), m, "container");
	copy(mt->version, sizeof(mt->version), m, "joulestream_version");
	copy(mt->sensors, sizeof(mt->sensors), m, "sensors");
	double d;
	if (num(m, "cpu_count", &d))
		mt->cpu_count = (unsigned)d;
	if (num(m, "ram_gb", &d))
		mt->ram_gb = d;
	const cJSON *gd = cJSON_GetObjectItemCaseSensitive(m, "git_dirty");
	mt->git_dirty = cJSON_IsBool(gd) ? cJSON_IsTrue(gd) : -1;
	read_zones(run, cJSON_GetObjectItemCaseSensitive(m, "zones"));
}

static void run_start(struct jst__runview *v, const cJSON *e, uint64_t ts)
{
	struct jst_run *run = v->run;
	v->started = true;
	run->start_ns = ts;
	copy(run->meta.host, sizeof(run->meta.host), e, "host");
	copy(run->meta.user, sizeof(run->meta.user), e, "user");
	copy(run->meta.project, sizeof(run->meta.project), e, "project");
	copy(run->meta.cwd, sizeof(run->meta.cwd), e, "cwd");
	copy(run->site.zone_code, sizeof(run->site.zone_code), e, "zone");
	run->site.zone_origin = origin(str(e, "zone_origin"));
	const char *scope = str(e, "scope");
	run->scope = scope && strcmp(scope, "host") == 0 ? JST_SCOPE_HOST : JST_SCOPE_PROCESS;
	num(e, "interval_s", &run->interval_s);
	num(e, "pue", &run->site.pue);
	num(e, "wue_l_per_kwh", &run->site.wue_l_per_kwh);
	read_meta(run, cJSON_GetObjectItemCaseSensitive(e, "meta"));
	read_fields(run, cJSON_GetObjectItemCaseSensitive(e, "record"), jst__rec_start, jst__rec_nstart);
}

/* A zone that run_start did not list (a producer that sends no meta.zones): from the sample;
 * parts of a package and the platform total are not added to the host's energy. */
static void zone_from_sample(struct jst_run *run, const struct jst_event *e)
{
	while (run->nzones <= e->zone_index) {
		struct jst_zone *z = &run->zones[run->nzones++].zone;
		memset(z, 0, sizeof(*z));
		z->device = -1;
		z->source = "unknown";
	}
	struct jst_zone *z = &run->zones[e->zone_index].zone;
	jst__strlcpy(z->name, e->zone, sizeof(z->name));
	z->kind = e->kind;
	z->source = jst__source_name(e->source);
	bool part = e->kind == JST_KIND_CORE || e->kind == JST_KIND_UNCORE || e->kind == JST_KIND_PSYS;
	z->flags = (e->estimate ? JST_ZONE_ESTIMATE : 0) | (part ? 0 : JST_ZONE_COUNTED);
}

/* Applies the marks dated up to t, in log order (the order the monitor took them in). */
static void apply_marks(struct jst__runview *v, uint64_t t)
{
	struct jst_run *run = v->run;
	while (v->next_mark < v->nmarks && v->marks[v->next_mark].ts <= t) {
		const struct jst__view_mark *m = &v->marks[v->next_mark++];
		struct jst_mark mk;
		const char *why = NULL;
		if (jst_mark_parse(m->text, strlen(m->text), &mk, &why) < 0)
			continue; /* validated at ingest */
		if (!v->trainer) {
			uint64_t last = v->last_tick_ts ? v->last_tick_ts : run->start_ns;
			if (jst__trainer_new(&v->trainer, run, run->start_ns, last) < 0)
				return;
			run->train = jst__trainer_record(v->trainer);
		}
		mk.t_ns = 0;
		if (jst__trainer_mark(v->trainer, run, &mk, m->ts, &why) < 0)
			jst__trainer_record(v->trainer)->bad_marks++;
		if (m->late)
			jst__trainer_record(v->trainer)->late_marks++;
	}
}

/* The tick's samples are all in: marks before it, then its energy, as jst_monitor_tick(). */
static void close_tick(struct jst__runview *v)
{
	struct jst_run *run = v->run;
	if (!v->tick_open)
		return;
	apply_marks(v, v->tick_ts);
	double tick_run[JST_ZONES_MAX] = {0}, counted_j = 0;
	unsigned counted = 0;
	for (size_t z = 0; z < run->nzones; z++) {
		if (!v->tick_has[z])
			continue;
		if (run->zones[z].zone.flags & JST_ZONE_COUNTED) {
			counted++;
			counted_j += v->tick[z].run_j;
		}
		jst_zone_total_add(&run->zones[z], &v->tick[z]);
		run->zones[z].wraps += v->tick_wraps[z];
		tick_run[z] = v->tick[z].run_j;
		v->tick_has[z] = false;
		v->tick_wraps[z] = 0;
	}
	if (v->trainer) {
		jst__trainer_tick(v->trainer, run, v->tick_ts, tick_run);
		jst__trainer_drained(v->trainer);
	}
	if (v->tick_fn) /* the tick's counted samples and energy, and the record after it */
		v->tick_fn(v->tick_ud, v->tick_ts, counted, counted_j,
			   v->trainer ? jst__trainer_record(v->trainer) : NULL);
	v->last_tick_ts = v->tick_ts;
	v->tick_open = false;
}

static void sample(struct jst__runview *v, const struct jst_event *e)
{
	if (e->zone_index >= JST_ZONES_MAX)
		return;
	if (e->zone_index >= v->run->nzones || !v->run->zones[e->zone_index].zone.name[0])
		zone_from_sample(v->run, e);
	if (v->tick_open && (e->ts_ns != v->tick_ts || v->tick_has[e->zone_index]))
		close_tick(v);
	v->tick_open = true;
	v->tick_ts = e->ts_ns;
	struct jst_sample *s = &v->tick[e->zone_index];
	*s = (struct jst_sample){0, e->dt_s, e->zone_index, 0, e->energy_j, e->energy_j * e->share, e->power_w,
	                         e->energy_j * e->idle_share};
	v->tick_has[e->zone_index] = true;
	v->tick_wraps[e->zone_index] = (e->flags & JST_EVF_WRAP) ? 1 : 0;
}

static int mark(struct jst__runview *v, const struct jst_event *e)
{
	if (v->light)
		return 0;
	if (v->nmarks == v->cap_marks) {
		size_t cap = v->cap_marks ? v->cap_marks * 2 : 64;
		void *p = realloc(v->marks, cap * sizeof(*v->marks));
		if (!p)
			return -ENOMEM;
		v->marks = p;
		v->cap_marks = cap;
	}
	struct jst__view_mark *m = &v->marks[v->nmarks++];
	m->ts = e->ts_ns;
	m->late = e->late;
	jst__strlcpy(m->text, e->mark, sizeof(m->text));
	return 0;
}

/* zone_failed, zone_backwards, zone_gone: one number per zone. */
static void zone_counts(struct jst_run *run, const cJSON *e)
{
	const char *keys[] = {"zone_failed", "zone_backwards", "zone_gone"};
	for (size_t k = 0; k < 3; k++) {
		size_t i = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(e, keys[k]))
		{
			if (i >= run->nzones || !cJSON_IsNumber(it))
				break;
			struct jst_zone_total *z = &run->zones[i++];
			unsigned long n = it->valuedouble > 0 ? (unsigned long)it->valuedouble : 0;
			if (k == 0)
				z->failed = n;
			else if (k == 1)
				z->backwards = n;
			else
				z->gone = n != 0;
		}
	}
}

static void flags(struct jst_run *run, const cJSON *arr)
{
	const cJSON *f;
	run->nflags = 0;
	cJSON_ArrayForEach(f, arr)
	{
		enum jst_flag_kind kind;
		if (run->nflags == JST_FLAGS_MAX || jst_flag_kind(str(f, "kind"), &kind) < 0)
			continue;
		struct jst_run_flag *fl = &run->flags[run->nflags++];
		memset(fl, 0, sizeof(*fl));
		fl->kind = kind;
		copy(fl->zone, sizeof(fl->zone), f, "zone");
		copy(fl->reason, sizeof(fl->reason), f, "reason");
		double d;
		if (num(f, "count", &d))
			fl->count = d > 0 ? (unsigned long)d : 0;
		num(f, "seconds", &fl->seconds);
		num(f, "first_s", &fl->first_s);
		num(f, "value", &fl->value);
		num(f, "limit", &fl->limit);
	}
}

static void run_end(struct jst__runview *v, const cJSON *e, uint64_t ts)
{
	struct jst_run *run = v->run;
	double d;
	v->ended = true;
	run->finished = true;
	run->end_ns = ts;
	if (num(e, "exit", &d))
		run->exit_code = (int)d;
	if (num(e, "signal", &d))
		run->exit_signal = (int)d;
	num(e, "duration_s", &run->duration_s);
	if (num(e, "samples", &d))
		run->samples = d > 0 ? (unsigned long)d : 0;
	const cJSON *n;
	run->nnotes = 0;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(e, "notes"))
	{
		if (cJSON_IsString(n))
			jst_run_note(run, "%s", n->valuestring);
	}
	read_fields(run, cJSON_GetObjectItemCaseSensitive(e, "record"), jst__rec_end, jst__rec_nend);
	v->recorded = run->result.footprint;
	double bad = 0;
	if (num(e, "bad_marks", &bad) && bad > 0) {
		v->bad_marks = (unsigned long)bad;
		copy(v->bad_example, sizeof(v->bad_example), e, "bad_mark_example");
	}
	zone_counts(run, e);
	flags(run, cJSON_GetObjectItemCaseSensitive(e, "flags"));
	free(v->legacy);
	v->legacy = jst__legacy_train_read(cJSON_GetObjectItemCaseSensitive(e, "legacy_train"));
	free(v->gpu_power);
	v->gpu_power = jst__gpu_power_read(cJSON_GetObjectItemCaseSensitive(e, "gpu_power_limit"));
	run->gpu_power = v->gpu_power;
}

/* An intensity event: its values, each holding step_s from ts_ns on, join the run's series. */
static int intensity(struct jst__runview *v, const char *body, size_t n, uint64_t ts)
{
	if (v->light)
		return 0;
	cJSON *e = cJSON_ParseWithLength(body, n);
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "ci_g_per_kwh"), *it;
	double step_s = 0;
	int r = 0;
	if (!num(e, "step_s", &step_s) || !(step_s > 0) || !cJSON_IsArray(vals)) {
		v->bad++; /* validated at ingest */
		cJSON_Delete(e);
		return -EINVAL;
	}
	int64_t step = (int64_t)llround(step_s * 1e9), t = (int64_t)ts;
	copy(v->ci_version, sizeof(v->ci_version), e, "data_version");
	copy(v->ci_source, sizeof(v->ci_source), e, "source");
	copy(v->ci_zone, sizeof(v->ci_zone), e, "zone");
	cJSON_ArrayForEach(it, vals)
	{
		if (v->nci == v->cap_ci) {
			size_t cap = v->cap_ci ? v->cap_ci * 2 : 64;
			void *p = realloc(v->ci, cap * sizeof(*v->ci));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			v->ci = p;
			v->cap_ci = cap;
		}
		v->ci[v->nci++] = (struct jst_ci_point){t, it->valuedouble};
		t += step;
	}
	if (t != (int64_t)ts && (v->ci_last_t == INT64_MIN || t - step >= v->ci_last_t)) {
		v->ci_last_t = t - step; /* the latest value holds a step of its event, as in agg.c */
		v->ci_last_ns = step;
	}
	cJSON_Delete(e);
	return r;
}

/* A stable merge sort by time (bottom-up), then the last point of each instant kept. */
size_t jst__ci_sort_unique(struct jst_ci_point *p, size_t n)
{
	struct jst_ci_point *tmp = n > 1 ? malloc(n * sizeof(*tmp)) : NULL;
	if (n > 1 && !tmp) { /* no memory: insertion sort, stable too */
		for (size_t i = 1; i < n; i++)
			for (size_t k = i; k > 0 && p[k - 1].t_ns > p[k].t_ns; k--) {
				struct jst_ci_point x = p[k];
				p[k] = p[k - 1];
				p[k - 1] = x;
			}
	}
	for (size_t w = 1; tmp && w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, k = mid, o = lo;
			while (i < mid && k < hi)
				tmp[o++] = p[k].t_ns < p[i].t_ns ? p[k++] : p[i++];
			while (i < mid)
				tmp[o++] = p[i++];
			while (k < hi)
				tmp[o++] = p[k++];
		}
		memcpy(p, tmp, n * sizeof(*p));
	}
	free(tmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && p[k - 1].t_ns == p[i].t_ns)
			k--;
		p[k++] = p[i];
	}
	return k;
}

bool jst__runview_wants_samples(const struct jst__runview *v)
{
	return v->started && !v->light && v->nci > 0;
}

void jst__runview_carbon_begin(struct jst__runview *v)
{
	struct jst_run *run = v->run;
	/* a value sent twice (a resent event has another id only if re-encoded) counts once */
	v->nci = jst__ci_sort_unique(v->ci, v->nci);
	memset(&v->series, 0, sizeof(v->series));
	jst__strlcpy(v->series.zone, v->ci_zone, sizeof(v->series.zone));
	v->series.pts = v->ci;
	v->series.n = v->nci;
	v->series.last_ns = v->ci_last_ns;
	v->series.source = v->ci_source;
	v->series.version = v->ci_version;
	jst_carbon_acc_for_site(&v->acc, &run->site, &v->series);
	v->carbon_pass = true;
}

/* A sample of the second pass: its run energy over its interval, for the zones that add up. */
int jst__runview_carbon_sample(struct jst__runview *v, const char *body, size_t n)
{
	struct jst_event *e = &v->ev;
	char err[160];
	if (!v->carbon_pass || jst_event_parse(body, n, e, err, sizeof(err)) < 0 ||
	    e->type != JST_EV_SAMPLE || strcmp(e->run, v->run->id) != 0)
		return 0;
	const struct jst_run *run = v->run;
	if (e->zone_index >= run->nzones ||
	    !(run->zones[e->zone_index].zone.flags & JST_ZONE_COUNTED))
		return 0;
	int64_t dur = (int64_t)llround(e->dt_s * 1e9);
	uint64_t start = e->ts_ns > (uint64_t)dur ? e->ts_ns - (uint64_t)dur : 0;
	jst_carbon_acc_add(&v->acc, start, 0, e->dt_s, e->energy_j * e->share);
	return 0;
}

void jst__runview_release(struct jst__runview *v)
{
	free(v->ci);
	v->ci = NULL;
	v->nci = v->cap_ci = 0;
	jst__trainer_free(v->trainer);
	v->trainer = NULL;
	free(v->marks);
	v->marks = NULL;
	free(v->legacy);
	v->legacy = NULL;
	free(v->gpu_power);
	v->gpu_power = NULL;
	v->nmarks = v->cap_marks = v->next_mark = 0;
}

/* The end of the log: the last tick, the marks after it, and the trainer's end at the last
 * tick (as jst_monitor_finish); the notes stay those run_end recorded, which already hold what
 * the trainer says at its end. */
static void finish_training(struct jst__runview *v)
{
	struct jst_run *run = v->run;
	close_tick(v);
	apply_marks(v, UINT64_MAX);
	if (!v->trainer || !v->ended)
		return;
	size_t nnotes = run->nnotes;
	memcpy(v->notes, run->notes, sizeof(v->notes));
	jst__trainer_finish(v->trainer, run, v->last_tick_ts ? v->last_tick_ts : run->start_ns);
	memcpy(run->notes, v->notes, sizeof(v->notes));
	run->nnotes = nnotes;
	struct jst_train *rec = jst__trainer_record(v->trainer);
	if (v->bad_marks) { /* the marks the record refused are counted in run_end, not logged */
		rec->bad_marks += v->bad_marks;
		jst__strlcpy(rec->bad_example, v->bad_example, sizeof(rec->bad_example));
	}
	jst__legacy_train_apply(v->legacy, rec);
}

void jst__runview_init(struct jst__runview *v, struct jst_run *run)
{
	memset(v, 0, sizeof(*v));
	memset(run, 0, sizeof(*run));
	run->site.pue = run->site.wue_l_per_kwh = -1;
	run->site.ewif_l_per_kwh = -1;
	run->meta.git_dirty = -1;
	v->run = run;
	v->ci_last_t = INT64_MIN;
}

/* run_start and run_end carry nested objects: read with cJSON. */
static int nested(struct jst__runview *v, const char *body, size_t n, bool start, uint64_t ts)
{
	cJSON *e = cJSON_ParseWithLength(body, n);
	if (!cJSON_IsObject(e)) {
		cJSON_Delete(e);
		v->bad++;
		return -EINVAL;
	}
	if (start)
		run_start(v, e, ts);
	else
		run_end(v, e, ts);
	cJSON_Delete(e);
	return 0;
}

int jst__runview_event(struct jst__runview *v, const char *body, size_t n)
{
	struct jst_event *e = &v->ev;
	char err[160];
	if (jst_event_parse(body, n, e, err, sizeof(err)) < 0) {
		v->bad++;
		return -EINVAL;
	}
	if (v->started && strcmp(e->run, v->run->id) != 0)
		return 0;
	v->events++;
	switch (e->type) {
	case JST_EV_RUN_START:
		if (v->started)
			return 0;
		jst__strlcpy(v->run->id, e->run, sizeof(v->run->id));
		return nested(v, body, n, true, e->ts_ns);
	case JST_EV_SAMPLE:
		if (v->started)
			sample(v, e);
		return 0;
	case JST_EV_RUN_END:
		return v->started ? nested(v, body, n, false, e->ts_ns) : 0;
	case JST_EV_MARK:
		return v->started ? mark(v, e) : 0;
	case JST_EV_INTENSITY: return v->started ? intensity(v, body, n, e->ts_ns) : 0;
	default:
		return 0; /* phase and metric events repeat marks for serve's aggregates */
	}
}

/* Only run_start and run_end were read: run_end's totals and footprint, or while the run goes
 * on the yearly footprint of the run_j the caller set. */
static void light_finish(struct jst__runview *v)
{
	struct jst_run *run = v->run;
	run->estimated = false;
	for (size_t i = 0; i < run->nzones; i++)
		if ((run->zones[i].zone.flags & (JST_ZONE_COUNTED | JST_ZONE_ESTIMATE)) ==
		    (JST_ZONE_COUNTED | JST_ZONE_ESTIMATE))
			run->estimated = true;
	if (v->ended) {
		run->result.footprint = v->recorded;
		return;
	}
	jst_train_footprint(run, run->run_j,
			    &run->result.footprint); /* not finished: the yearly figures */
	snprintf(run->result.data_version, sizeof(run->result.data_version), "%s",
		 JST_DATA_VERSION);
}

int jst__runview_finish(struct jst__runview *v)
{
	struct jst_run *run = v->run;
	if (!v->started)
		return -ENOENT;
	finish_training(v);
	if (v->light) {
		light_finish(v);
		return 0;
	}
	bool series = v->ended && run->result.data_version[0] &&
		      strcmp(run->result.data_version, JST_DATA_VERSION) != 0;
	if (v->carbon_pass) {
		/* the run's values from its log, integrated as the run did (integrate.c); the text
		 * that describes the series is the run's, which saw the whole file */
		char described[sizeof(run->result.ci_series)];
		jst__strlcpy(described, run->result.ci_series, sizeof(described));
		jst_run_finish_totals(run);
		jst_carbon_acc_result(&v->acc, &run->result);
		if (described[0])
			jst__strlcpy(run->result.ci_series, described,
				     sizeof(run->result.ci_series));
	} else if (series) {
		/* the run's own result with its series (its data version names it): a log written
		 * before intensity events holds no values, so the figure is the recorded one */
		jst_run_finish_totals(run);
		run->result.footprint = v->recorded;
	} else {
		jst_run_finish_totals(run);
		jst_run_yearly_result(run, &run->result);
	}
	jst_run_sci(run, &run->result);
	return 0;
}
