/* What a batch settles once all its events are in (agg.h, jst__agg_settle), for the figures
 * that events arriving after others change:
 * - intensity values that came after samples they cover (a live source's, sent late, or any
 *   out of order): the minutes of those samples get their CO2e again, each sample integrated
 *   with the run's whole series as it stands, the run's and the totals' CO2e moved by the
 *   difference;
 * - a finished run with training marks: its phases are those of its record, derived by the
 *   run's view (runview.c, the code `show` uses) from its events, each tick's energy in the
 *   minute of the tick and CO2e and water as the record's share of the run's footprint.
 * Both read the run's stored events up to the batch being aggregated only, so a replay of the
 * log batch by batch settles the same way at the same batches. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "agg/runview.h"
#include "core/util.h"
#include "joulestream/record.h"
#include "joulestream/train.h"

/* ---- CO2e of minutes whose samples came before their values ------------------------------ */

struct minute {
	char zone[64];
	uint64_t win;
	double co2e_g;
	bool changed; /* holds a sample that ends after the values changed */
};

struct redo {
	struct jst_agg_run *r;
	uint64_t from;
	struct minute *m;
	size_t n, cap;
	struct jst_event ev;
	int err;
};

static struct minute *minute_of(struct redo *x, const char *zone, uint64_t win)
{
	for (size_t i = x->n; i-- > 0;) /* the samples come about in time order: newest first */
		if (x->m[i].win == win && strcmp(x->m[i].zone, zone) == 0)
			return &x->m[i];
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 256;
		void *p = realloc(x->m, cap * sizeof(*x->m));
		if (!p)
			return NULL;
		x->m = p;
		x->cap = cap;
	}
	struct minute *m = &x->m[x->n++];
	memset(m, 0, sizeof(*m));
	jst__strlcpy(m->zone, zone, sizeof(m->zone));
	m->win = win;
	return m;
}

/* A stored sample of a minute at or after the change: added to its minute, as add_sample
 * adds it (counted zones only carry CO2e). */
static int redo_sample(int64_t seq, const char *body, size_t len, void *arg)
{
	(void)seq;
	struct redo *x = arg;
	char err[160];
	if (jst_event_parse(body, len, &x->ev, err, sizeof(err)) < 0 || x->ev.type != JST_EV_SAMPLE ||
	    strcmp(x->ev.run, x->r->run) != 0 || !jst__agg_counted(x->ev.kind))
		return 0;
	struct minute *m = minute_of(x, x->ev.zone, x->ev.ts_ns - x->ev.ts_ns % JST_AGG_WINDOW_NS);
	if (!m) {
		x->err = -ENOMEM;
		return -ENOMEM;
	}
	m->co2e_g += jst__agg_sample_co2e(x->r, &x->ev, x->ev.energy_j * x->ev.share);
	if (x->ev.ts_ns > x->from)
		m->changed = true;
	return 0;
}

/* A minute's CO2e as its samples give it now: the window, the run and the totals of that
 * minute move by the difference. The phase of the difference is the run's current one (a
 * finished run with marks gets its phases again below). */
static int minute_apply(struct jst_agg *a, const struct jst_agg_loader *ld, size_t ri, const struct minute *m)
{
	long wi = jst__agg_window(a, ld, ri, m->zone, m->win);
	if (wi < 0)
		return (int)wi;
	struct jst_agg_window *w = &a->wins[wi];
	if (w->samples == 0) { /* no such window: nothing was counted there */
		if ((size_t)wi == a->nwins - 1 && !w->exists)
			a->nwins--;
		return 0;
	}
	double d = m->co2e_g - w->co2e_g;
	if (d == 0)
		return 0;
	w->co2e_g = m->co2e_g;
	a->runs[ri].co2e_g += d;
	return jst__agg_run_totals(a, ri, m->win, 0, 0, d, 0); /* where its samples went */
}

/* The newest end of a sample the run has counted, stored or in this batch. */
static int newest_sample(const struct jst_agg *a, const struct jst_agg_loader *ld, size_t ri, uint64_t *out)
{
	*out = 0;
	int r = ld->last_sample ? ld->last_sample(ld->ud, a->runs[ri].run, out) : 0;
	for (size_t i = 0; r >= 0 && i < a->nzones; i++)
		if (a->zones[i].run == ri && a->zones[i].last_ts_ns > *out)
			*out = a->zones[i].last_ts_ns;
	return r < 0 ? r : 0;
}

static int recharge(struct jst_agg *a, const struct jst_agg_loader *ld, size_t ri)
{
	struct jst_agg_run *r = &a->runs[ri];
	uint64_t newest;
	int e = newest_sample(a, ld, ri, &newest);
	if (e < 0 || newest <= r->redo_lo || !ld->events)
		return e; /* no sample ends after the change: each was charged with its values */
	struct redo x = {.r = r, .from = r->redo_lo};
	uint64_t first = r->redo_lo - r->redo_lo % JST_AGG_WINDOW_NS;
	e = ld->events(ld->ud, r->run, "sample", ld->batch, first, redo_sample, &x);
	if (e == 0)
		e = x.err;
	for (size_t i = 0; e == 0 && i < x.n; i++)
		if (x.m[i].changed)
			e = minute_apply(a, ld, ri, &x.m[i]);
	free(x.m);
	return e;
}

/* ---- a finished run's phases from its record ------------------------------------------- */

struct cell {
	uint64_t win;
	char path[JST_PHASE_PATH_MAX];
	int64_t samples;
	double energy_j;
};

struct phases {
	struct cell *c;
	size_t n, cap;
	double given[JST_PHASES_MAX]; /* each phase's energy put in cells so far */
	double before;                /* energy of the ticks before the first mark */
	bool seen_rec;
	uint64_t last_win;
	int err;
};

static int cell_add(struct phases *ph, uint64_t win, const char *path, int64_t samples, double j)
{
	struct cell *c = NULL;
	for (size_t i = ph->n; i-- > 0 && !c;)
		if (ph->c[i].win == win && strcmp(ph->c[i].path, path) == 0)
			c = &ph->c[i];
	if (!c) {
		if (ph->n == ph->cap) {
			size_t cap = ph->cap ? ph->cap * 2 : 64;
			void *p = realloc(ph->c, cap * sizeof(*ph->c));
			if (!p)
				return ph->err = -ENOMEM;
			ph->c = p;
			ph->cap = cap;
		}
		c = &ph->c[ph->n++];
		memset(c, 0, sizeof(*c));
		c->win = win;
		jst__strlcpy(c->path, path, sizeof(c->path));
	}
	c->samples += samples;
	c->energy_j += j;
	return 0;
}

static int find_path(const struct jst_train *rec, const char *path)
{
	for (size_t p = 0; p < rec->nphases; p++)
		if (strcmp(rec->phases[p].path, path) == 0)
			return (int)p;
	return -1;
}

/* After each tick of the view: what each phase gained goes to the tick's minute; the tick's
 * samples to the phase that gained most. Before the first mark all of it is "(none)". */
static void on_tick(void *ud, uint64_t ts, unsigned samples, double run_j, const struct jst_train *rec)
{
	struct phases *ph = ud;
	uint64_t win = ts - ts % JST_AGG_WINDOW_NS;
	ph->last_win = win;
	if (ph->err)
		return;
	if (!rec) {
		ph->before += run_j;
		cell_add(ph, win, "(none)", samples, run_j);
		return;
	}
	if (!ph->seen_rec) { /* the record starts with "(none)" holding what came before */
		int none = find_path(rec, "(none)");
		if (none >= 0)
			ph->given[none] = ph->before;
		ph->seen_rec = true;
	}
	int most = -1;
	double most_j = 0;
	for (size_t p = 0; p < rec->nphases && !ph->err; p++) {
		double d = rec->phases[p].energy_j - ph->given[p];
		if (d == 0)
			continue;
		cell_add(ph, win, rec->phases[p].path, 0, d);
		ph->given[p] = rec->phases[p].energy_j;
		if (most < 0 || d > most_j) {
			most = (int)p;
			most_j = d;
		}
	}
	if (samples && !ph->err)
		cell_add(ph, win, most >= 0 ? rec->phases[most].path : "(none)", samples, 0);
}

struct fold {
	struct jst__runview *v;
	int64_t last;
};

static int fold_event(int64_t seq, const char *body, size_t len, void *arg)
{
	struct fold *f = arg;
	f->last = seq;
	jst__runview_event(f->v, body, len); /* a body that does not read is counted by the view */
	return 0;
}

static int fold_carbon(int64_t seq, const char *body, size_t len, void *arg)
{
	struct fold *f = arg;
	f->last = seq;
	return jst__runview_carbon_sample(f->v, body, len);
}

static int has_marks(int64_t seq, const char *body, size_t len, void *arg)
{
	(void)seq;
	(void)body;
	(void)len;
	*(bool *)arg = true;
	return 1;
}

/* The view of the run's stored events, its ticks observed into ph. */
static int view(const struct jst_agg_loader *ld, const char *id, struct jst__runview *v, struct phases *ph)
{
	struct fold f = {v, 0};
	v->tick_fn = on_tick;
	v->tick_ud = ph;
	int e = ld->events(ld->ud, id, NULL, ld->batch, 0, fold_event, &f);
	if (e == 0 && jst__runview_wants_samples(v)) {
		jst__runview_carbon_begin(v);
		e = ld->events(ld->ud, id, "sample", ld->batch, 0, fold_carbon, &f);
	}
	if (e == 0)
		e = jst__runview_finish(v);
	if (e == 0 && ph->err)
		e = ph->err;
	const struct jst_train *rec = v->run->train;
	for (size_t p = 0; e == 0 && rec && p < rec->nphases; p++) { /* what the end added */
		double d = rec->phases[p].energy_j - ph->given[p];
		if (d != 0)
			e = cell_add(ph, ph->last_win, rec->phases[p].path, 0, d);
	}
	return e;
}

/* The run's phase totals, in this batch and stored, replaced by the record's. */
static int rephase(struct jst_agg *a, const struct jst_agg_loader *ld, size_t ri)
{
	struct jst_agg_run *r = &a->runs[ri];
	bool marks = false;
	int e = ld->events(ld->ud, r->run, "mark", ld->batch, 0, has_marks, &marks);
	if (e < 0 || !marks)
		return e < 0 ? e : 0;
	struct jst_run *run = calloc(1, sizeof(*run));
	struct jst__runview *v = calloc(1, sizeof(*v));
	struct phases ph = {0};
	e = run && v ? 0 : -ENOMEM;
	if (e == 0) {
		jst__runview_init(v, run);
		e = view(ld, r->run, v, &ph);
	}
	bool record = e == 0;
	if (e == -ENOENT) /* no run_start stored: no record, the phases stay as they came */
		e = 0;
	if (record) {
		char prefix[JST_EVENT_ID_MAX + 2];
		snprintf(prefix, sizeof(prefix), "%s/", r->run);
		size_t k = 0, pl = strlen(prefix);
		for (size_t i = 0; i < a->ntotals; i++) /* the batch's own, split by arrival */
			if (a->totals[i].dim != JST_DIM_PHASE || strncmp(a->totals[i].key, prefix, pl) != 0)
				a->totals[k++] = a->totals[i];
		a->ntotals = k;
		r->phases_redo = true;
		for (size_t i = 0; e == 0 && i < ph.n; i++) {
			const struct cell *c = &ph.c[i];
			struct jst_footprint fp;
			jst_train_footprint(run, c->energy_j, &fp);
			char key[336];
			snprintf(key, sizeof(key), "%s%s", prefix, c->path);
			e = jst__agg_total(a, JST_DIM_PHASE, key, c->win, c->samples, c->energy_j, fp.co2e_g,
					   fp.water_l);
		}
	}
	if (v)
		jst__runview_release(v);
	free(v);
	free(run);
	free(ph.c);
	return e;
}

int jst__agg_settle(struct jst_agg *a, const struct jst_agg_loader *ld)
{
	int e = 0;
	for (size_t i = 0; e == 0 && i < a->nruns; i++) {
		if (a->runs[i].redo)
			e = recharge(a, ld, i);
		a->runs[i].redo = false;
		if (e == 0 && a->runs[i].finished && ld->events)
			e = rephase(a, ld, i);
	}
	return e;
}
