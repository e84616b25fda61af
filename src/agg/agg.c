/* Real-time aggregation of a batch of events (agg.h). Each event changes the rows it touches:
 * the run, the run's zone, the (run, zone, minute) window and the per-dimension totals of that
 * minute. Rows are loaded once per batch through the store's loader, so the result depends only
 * on the stored rows and the batch: replaying the log batch by batch gives the same numbers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agg/agg.h"
#include "agg/runview.h"
#include "core/util.h"
#include "joulestream/carbon.h"

static const char *const dim_names[] = {"user", "model", "host", "zone", "phase", "project"};

const char *jst__agg_dim_name(enum jst_agg_dim d)
{
	return (unsigned)d < JST_DIM_N ? dim_names[d] : "?";
}

int jst__agg_dim_parse(const char *name)
{
	for (int i = 0; i < JST_DIM_N; i++)
		if (strcmp(name, dim_names[i]) == 0)
			return i;
	return -1;
}

bool jst__agg_counted(enum jst_zone_kind k)
{
	return k != JST_KIND_CORE && k != JST_KIND_UNCORE && k != JST_KIND_PSYS;
}

void jst__agg_init(struct jst_agg *a)
{
	memset(a, 0, sizeof(*a));
}

static void free_series(struct jst_agg *a)
{
	for (size_t i = 0; i < a->nruns; i++) {
		free(a->runs[i].ci);
		a->runs[i].ci = NULL;
	}
}

void jst__agg_reset(struct jst_agg *a)
{
	free_series(a);
	a->nruns = a->nzones = a->nwins = a->ntotals = a->nhosts = 0;
	a->err = 0;
}

void jst__agg_release(struct jst_agg *a)
{
	free_series(a);
	free(a->runs);
	free(a->zones);
	free(a->wins);
	free(a->totals);
	free(a->hosts);
	jst__agg_init(a);
}

/* Makes room for one more element of a growable array. */
static void *more(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	size_t c = *cap ? *cap * 2 : 16;
	void *p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}

static void set_zone(struct jst_agg_run *r, const char *code)
{
	const struct jst_grid_zone *z = code && *code ? jst_grid_zone_find(code) : NULL;
	if (!z)
		z = jst_grid_world();
	jst__strlcpy(r->zone, z->code, sizeof(r->zone));
	r->ci_g_per_kwh = z->ci_g_per_kwh;
	r->ewif = z->ewif_l_per_kwh > 0 ? z->ewif_l_per_kwh : 0;
}

static void sort_series(struct jst_agg_run *r);

/* Where values from a on change the series the run's samples were charged with: at a, or
 * earlier when the value before them was the last and stopped holding before a (the time
 * between was charged at the yearly average). */
static uint64_t changes_from(struct jst_agg_run *r, int64_t a)
{
	sort_series(r);
	size_t lo = 0, hi = r->nci; /* the points before a: [0, lo) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->ci[mid].t_ns < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	int64_t from = a;
	if (lo > 0 && lo == r->nci) {
		struct jst_series s = {.pts = r->ci, .n = r->nci, .last_ns = r->ci_last_ns};
		int64_t end = jst_series_end(&s, lo - 1);
		from = end < a ? end : a;
	}
	return from > 0 ? (uint64_t)from : 0;
}

/* An intensity event's values join the run's series: value k holds step_s from ts_ns + k ×
 * step_s. Bodies were validated at ingest; one that no longer reads is skipped. A batch's
 * event (fresh) notes from when its values change what the run's samples were charged with,
 * for jst__agg_settle. */
static int add_intensity(struct jst_agg_run *r, const char *body, size_t n, uint64_t ts, bool fresh)
{
	cJSON *e = cJSON_ParseWithLength(body, n);
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "ci_g_per_kwh"), *st, *it;
	st = cJSON_GetObjectItemCaseSensitive(e, "step_s");
	int rc = 0;
	if (!cJSON_IsNumber(st) || !(st->valuedouble > 0) || !cJSON_IsArray(vals)) {
		cJSON_Delete(e);
		return 0;
	}
	int64_t step = (int64_t)llround(st->valuedouble * 1e9), t = (int64_t)ts;
	if (fresh && cJSON_GetArraySize(vals) > 0) {
		uint64_t from = changes_from(r, t);
		if (!r->redo || from < r->redo_lo)
			r->redo_lo = from;
		r->redo = true;
	}
	bool first = r->nci == 0;
	cJSON_ArrayForEach(it, vals)
	{
		struct jst_ci_point *p = more(r->ci, r->nci, &r->cap_ci, sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		r->ci = p;
		if (r->nci && r->ci[r->nci - 1].t_ns >= t)
			r->ci_sorted = false;
		r->ci[r->nci++] =
			(struct jst_ci_point){t, cJSON_IsNumber(it) ? it->valuedouble : 0};
		t += step;
	}
	if (t != (int64_t)ts && (first || t - step >= r->ci_last_t)) { /* the latest value holds a step of its event */
		r->ci_last_t = t - step;
		r->ci_last_ns = step;
	}
	cJSON_Delete(e);
	return rc;
}

static int stored_intensity(int64_t seq, const char *body, size_t len, void *arg)
{
	(void)seq;
	struct jst_agg_run *r = arg;
	struct jst_event ev;
	char err[160];
	if (jst_event_parse(body, len, &ev, err, sizeof(err)) < 0 || ev.type != JST_EV_INTENSITY)
		return 0;
	return add_intensity(r, body, len, ev.ts_ns, false);
}

/* Sorted, each instant once: of values given for the same instant, the one later in the log
 * (runview.c's rule, so the server's figures are the view's). */
static void sort_series(struct jst_agg_run *r)
{
	if (r->ci_sorted)
		return;
	r->nci = jst__ci_sort_unique(r->ci, r->nci);
	r->ci_sorted = true;
	r->ci_hint = 0;
}

/* The CO2e of run_j over the sample's interval: with the run's series, as the run integrated
 * it (integrate.c); else at the yearly average. */
static double sample_co2e(struct jst_agg_run *r, const struct jst_event *ev, double run_j)
{
	double kwh = run_j / 3.6e6;
	if (!r->nci)
		return kwh * r->pue * r->ci_g_per_kwh;
	sort_series(r);
	struct jst_series s = {.pts = r->ci, .n = r->nci, .last_ns = r->ci_last_ns};
	struct jst_carbon_acc acc;
	jst_carbon_acc_init(&acc, &s, r->ci_g_per_kwh, r->pue, 0, 0);
	acc.hint = r->ci_hint;
	int64_t dur = (int64_t)llround(ev->dt_s * 1e9);
	uint64_t start = ev->ts_ns > (uint64_t)dur ? ev->ts_ns - (uint64_t)dur : 0;
	jst_carbon_acc_add(&acc, start, 0, ev->dt_s, run_j);
	r->ci_hint = acc.hint;
	return acc.co2e_g;
}

double jst__agg_sample_co2e(struct jst_agg_run *r, const struct jst_event *ev, double run_j)
{
	return sample_co2e(r, ev, run_j);
}

static long find_run(struct jst_agg *a, const struct jst_agg_loader *ld, const struct jst_event *ev)
{
	for (size_t i = a->nruns; i-- > 0;)
		if (strcmp(a->runs[i].run, ev->run) == 0)
			return (long)i;
	struct jst_agg_run *p = more(a->runs, a->nruns, &a->cruns, sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->runs = p;
	struct jst_agg_run *r = &a->runs[a->nruns];
	memset(r, 0, sizeof(*r));
	int found = ld->run(ld->ud, ev->run, r);
	if (found < 0)
		return found;
	if (!found) {
		memset(r, 0, sizeof(*r));
		jst__strlcpy(r->run, ev->run, sizeof(r->run));
		jst__strlcpy(r->host, ev->host, sizeof(r->host));
		set_zone(r, NULL);
		r->pue = JST_DEFAULT_PUE;
		r->wue = JST_DEFAULT_WUE_L_PER_KWH;
		r->start_ns = ev->ts_ns;
	}
	r->exists = found == 1;
	r->ci = NULL;
	r->nci = r->cap_ci = r->ci_hint = 0;
	r->ci_sorted = true;
	r->redo = r->phases_redo = false;
	a->nruns++;
	if (found == 1 && ld->events) { /* the values its earlier batches brought */
		int e = ld->events(ld->ud, r->run, "intensity", ld->batch - 1, 0, stored_intensity, r);
		if (e < 0)
			return e;
	}
	return (long)a->nruns - 1;
}

static long find_zone(struct jst_agg *a, const struct jst_agg_loader *ld, size_t run, const struct jst_event *ev)
{
	for (size_t i = a->nzones; i-- > 0;)
		if (a->zones[i].run == run && strcmp(a->zones[i].zone, ev->zone) == 0)
			return (long)i;
	struct jst_agg_zone *p = more(a->zones, a->nzones, &a->czones, sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->zones = p;
	struct jst_agg_zone *z = &a->zones[a->nzones];
	memset(z, 0, sizeof(*z));
	int found = ld->zone(ld->ud, a->runs[run].run, ev->zone, z);
	if (found < 0)
		return found;
	if (!found)
		memset(z, 0, sizeof(*z));
	z->run = run;
	z->exists = found == 1;
	jst__strlcpy(z->zone, ev->zone, sizeof(z->zone));
	jst__strlcpy(z->kind, jst_zone_kind_name(ev->kind), sizeof(z->kind));
	jst__strlcpy(z->source, ev->source, sizeof(z->source));
	return (long)a->nzones++;
}

static long find_window(struct jst_agg *a, const struct jst_agg_loader *ld, size_t run, const char *zone,
                        uint64_t win)
{
	for (size_t i = a->nwins; i-- > 0;)
		if (a->wins[i].run == run && a->wins[i].win == win && strcmp(a->wins[i].zone, zone) == 0)
			return (long)i;
	struct jst_agg_window *p = more(a->wins, a->nwins, &a->cwins, sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->wins = p;
	struct jst_agg_window *w = &a->wins[a->nwins];
	memset(w, 0, sizeof(*w));
	int found = ld->window(ld->ud, a->runs[run].run, zone, win, w);
	if (found < 0)
		return found;
	if (!found)
		memset(w, 0, sizeof(*w));
	w->run = run;
	w->win = win;
	w->exists = found == 1;
	jst__strlcpy(w->zone, zone, sizeof(w->zone));
	return (long)a->nwins++;
}

long jst__agg_window(struct jst_agg *a, const struct jst_agg_loader *ld, size_t run, const char *zone,
		     uint64_t win)
{
	return find_window(a, ld, run, zone, win);
}

int jst__agg_total(struct jst_agg *a, enum jst_agg_dim dim, const char *key, uint64_t win, int64_t samples,
		   double e, double co2e, double water)
{
	struct jst_agg_total *t = NULL;
	for (size_t i = a->ntotals; i-- > 0 && !t;)
		if (a->totals[i].dim == dim && a->totals[i].win == win && strcmp(a->totals[i].key, key) == 0)
			t = &a->totals[i];
	if (!t) {
		struct jst_agg_total *p = more(a->totals, a->ntotals, &a->ctotals, sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->totals = p;
		t = &a->totals[a->ntotals++];
		memset(t, 0, sizeof(*t));
		t->dim = dim;
		t->win = win;
		jst__strlcpy(t->key, key, sizeof(t->key));
	}
	t->samples += samples;
	t->energy_j += e;
	t->co2e_g += co2e;
	t->water_l += water;
	return 0;
}

static int add_sample(struct jst_agg *a, const struct jst_agg_loader *ld, size_t ri, const struct jst_event *ev)
{
	long zi = find_zone(a, ld, ri, ev);
	if (zi < 0)
		return (int)zi;
	uint64_t win = ev->ts_ns - ev->ts_ns % JST_AGG_WINDOW_NS;
	long wi = find_window(a, ld, ri, ev->zone, win);
	if (wi < 0)
		return (int)wi;
	struct jst_agg_run *r = &a->runs[ri];
	struct jst_agg_zone *z = &a->zones[zi];
	struct jst_agg_window *w = &a->wins[wi];
	bool counted = jst__agg_counted(ev->kind);
	double run_j = ev->energy_j * ev->share;
	double kwh = run_j / 3.6e6;
	double co2e = counted ? sample_co2e(r, ev, run_j) : 0;
	double water = counted ? kwh * (r->wue + r->pue * r->ewif) : 0;
	/* a sensor gap: this interval starts well after the previous one of the zone ended */
	double start_ns = (double)ev->ts_ns - ev->dt_s * 1e9;
	if (z->last_ts_ns && start_ns - (double)z->last_ts_ns > 0.5 * ev->dt_s * 1e9) {
		z->gaps++;
		r->gaps++;
	}
	if (ev->ts_ns > z->last_ts_ns)
		z->last_ts_ns = ev->ts_ns;
	z->samples++;
	z->energy_j += run_j;
	z->host_energy_j += ev->energy_j;
	r->samples++;
	if (ev->flags & (JST_EVF_FAILED | JST_EVF_BACKWARDS))
		r->failed++;
	if (counted) {
		r->energy_j += run_j;
		r->host_energy_j += ev->energy_j;
		r->co2e_g += co2e;
		r->water_l += water;
	}
	w->samples++;
	w->energy_j += run_j;
	w->host_energy_j += ev->energy_j;
	w->co2e_g += co2e;
	w->water_l += water;
	w->dt_s += ev->dt_s;
	double pw = ev->power_w * ev->share;
	if (pw > w->max_w)
		w->max_w = pw;
	jst__sketch_add(&w->sketch, pw);
	return counted ? jst__agg_run_totals(a, ri, win, 1, run_j, co2e, water) : 0;
}

int jst__agg_run_totals(struct jst_agg *a, size_t ri, uint64_t win, int64_t samples, double run_j, double co2e,
			double water)
{
	const struct jst_agg_run *r = &a->runs[ri];
	int e = 0;
	const char *keys[] = {r->user, r->model, r->host, r->zone};
	for (int d = JST_DIM_USER; d <= JST_DIM_ZONE && e == 0; d++)
		e = jst__agg_total(a, (enum jst_agg_dim)d, keys[d], win, samples, run_j, co2e, water);
	if (e == 0) { /* outside any phase: "(none)", so a run's phases add up to its energy */
		char key[336];
		snprintf(key, sizeof(key), "%s/%s", r->run, r->phase[0] ? r->phase : "(none)");
		e = jst__agg_total(a, JST_DIM_PHASE, key, win, samples, run_j, co2e, water);
	}
	return e;
}

static void run_start(struct jst_agg_run *r, const struct jst_event *ev)
{
	jst__strlcpy(r->host, ev->host, sizeof(r->host));
	jst__strlcpy(r->user, ev->user, sizeof(r->user));
	jst__strlcpy(r->model, ev->model, sizeof(r->model));
	jst__strlcpy(r->project, ev->project, sizeof(r->project));
	set_zone(r, ev->zone_code);
	r->pue = ev->pue >= 1 ? ev->pue : JST_DEFAULT_PUE;
	r->wue = ev->wue_l_per_kwh >= 0 ? ev->wue_l_per_kwh : JST_DEFAULT_WUE_L_PER_KWH;
	r->interval_s = ev->interval_s;
	r->scope_host = ev->scope_host;
	r->series_host = ev->series_host;
	r->start_ns = ev->ts_ns;
	r->has_start = true;
}

static void phase(struct jst_agg_run *r, const struct jst_event *ev)
{
	if (ev->begin) {
		jst__strlcpy(r->phase, ev->name, sizeof(r->phase));
		return;
	}
	/* the end of a phase returns to its parent path ("train/forward" -> "train") */
	char parent[256];
	jst__strlcpy(parent, ev->name, sizeof(parent));
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	jst__strlcpy(r->phase, parent, sizeof(r->phase));
}

/* The store keeps the newest heartbeat per host (an upsert that keeps the larger last_ns), so
 * no row needs loading: the batch only keeps its own newest per host. */
static int heartbeat(struct jst_agg *a, const struct jst_event *ev)
{
	struct jst_agg_host *h = NULL;
	for (size_t i = 0; i < a->nhosts && !h; i++)
		if (strcmp(a->hosts[i].host, ev->host) == 0)
			h = &a->hosts[i];
	if (!h) {
		struct jst_agg_host *p = more(a->hosts, a->nhosts, &a->chosts, sizeof(*p));
		if (!p)
			return -ENOMEM;
		a->hosts = p;
		h = &a->hosts[a->nhosts++];
		memset(h, 0, sizeof(*h));
		jst__strlcpy(h->host, ev->host, sizeof(h->host));
	} else if (ev->ts_ns < h->last_ns) {
		return 0;
	}
	h->last_ns = ev->ts_ns;
	h->interval_s = ev->interval_s > 0 ? ev->interval_s : 0;
	/* the agent: the heartbeat's run, else its id without "-h-SEQ" (encode.c's AGENT-h-SEQ) */
	jst__strlcpy(h->agent, ev->run[0] ? ev->run : ev->id, sizeof(h->agent));
	char *cut = ev->run[0] ? NULL : strstr(h->agent, "-h-");
	for (char *next = cut; next; next = strstr(next + 1, "-h-"))
		cut = next;
	if (cut)
		*cut = '\0';
	return 0;
}

int jst__agg_add(struct jst_agg *a, const struct jst_agg_loader *ld, const struct jst_event *ev)
{
	if (ev->type == JST_EV_HEARTBEAT)
		return heartbeat(a, ev);
	long ri = find_run(a, ld, ev);
	if (ri < 0)
		return (int)ri;
	struct jst_agg_run *r = &a->runs[ri];
	int e = 0;
	switch (ev->type) {
	case JST_EV_RUN_START: run_start(r, ev); break;
	case JST_EV_SAMPLE:
		if (!r->has_start && r->samples == 0 && ev->ts_ns >= (uint64_t)(ev->dt_s * 1e9))
			r->start_ns = ev->ts_ns - (uint64_t)(ev->dt_s * 1e9);
		e = add_sample(a, ld, (size_t)ri, ev);
		r = &a->runs[ri];
		break;
	case JST_EV_PHASE: phase(r, ev); break;
	case JST_EV_INTENSITY: /* values after samples they cover: jst__agg_settle */
		e = add_intensity(r, ev->line, ev->line_len, ev->ts_ns, true);
		break;
	case JST_EV_RUN_END:
		r->finished = true;
		r->end_ns = ev->ts_ns;
		r->exit_code = ev->exit_code;
		r->duration_s = ev->duration_s;
		break;
	default: break;
	}
	if (ev->ts_ns > r->last_ns)
		r->last_ns = ev->ts_ns;
	if (!r->finished)
		r->duration_s = r->last_ns > r->start_ns ? (double)(r->last_ns - r->start_ns) / 1e9 : 0;
	return e;
}
