/* Phases, epochs, steps and metrics of a training run. Marks move a cursor through the current
 * sampling interval and add the time since the previous mark to whatever was active: the
 * innermost phase, the current epoch, the current step range. At each tick the interval's energy
 * (per zone, the run's share) is split by those times, the last part taking the rounding
 * remainder, so phases, epochs and step ranges each add up to the run's total. Instants (metric
 * marks, epoch boundaries) get the run's cumulative energy interpolated within their interval.
 * Allocation happens once, when the first mark arrives; ticks and marks allocate nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/units.h"
#include "record/trainer.h"

#define OUTSIDE (-1)
#define BEYOND (-2)
#define PENDING_MAX 2048 /* metrics between two drains (250 ms) */
#define MSG_LINES 16     /* prediction lines kept for readers that come late */
#define MSG_LINE_LEN 320

struct jst__trainer {
	struct jst_train *rec;
	size_t nzones;
	bool counted[JST_ZONES_MAX];
	uint64_t start_ns, last_ns, cursor_ns;
	double cum_j; /* the run's energy (counted zones) up to last_ns */

	int stack[JST_PHASE_DEPTH]; /* phase index of each open level */
	char names[JST_PHASE_DEPTH][JST_MARK_NAME_MAX];
	size_t depth;
	unsigned long too_deep, deep_open, unbalanced;
	int cur_phase, cur_epoch, cur_step;
	int64_t last_step, last_epoch;

	uint64_t phase_acc[JST_PHASES_MAX]; /* ns in this interval */
	uint64_t epoch_acc[JST_EPOCHS_MAX];
	size_t epoch_lo; /* first epoch that can have time in this interval */
	uint64_t outside_epoch_acc, beyond_acc;
	uint64_t step_acc[JST_STEP_RANGES];
	uint64_t outside_step_acc;

	uint64_t epoch_start_ns[JST_EPOCHS_MAX], epoch_end_ns[JST_EPOCHS_MAX];
	bool start_known[JST_EPOCHS_MAX];
	size_t resolved_epochs; /* epochs [0, n) complete, with their energies known */

	struct jst_metric *pending;
	uint64_t *pending_t;
	size_t npending, nresolved;
	unsigned long unstored, tags_dropped, other_paths;

	int64_t checked_k, next_update;
	char lines[MSG_LINES][MSG_LINE_LEN]; /* the newest prediction lines, a ring */
	unsigned nlines;                     /* lines said so far */
};

static int find_phase(struct jst__trainer *tr, const char *path, unsigned depth)
{
	struct jst_train *rec = tr->rec;
	for (size_t i = 0; i < rec->nphases; i++)
		if (strcmp(rec->phases[i].path, path) == 0)
			return (int)i;
	if (rec->nphases >= JST_PHASES_MAX - 1 && strcmp(path, "(other)") != 0) {
		tr->other_paths++; /* the last slot is "(other)", for every path beyond */
		return find_phase(tr, "(other)", 0);
	}
	if (rec->nphases == JST_PHASES_MAX)
		return JST_PHASES_MAX - 1;
	struct jst_phase_total *ph = &rec->phases[rec->nphases];
	jst__strlcpy(ph->path, path, sizeof(ph->path));
	ph->depth = depth;
	return (int)rec->nphases++;
}

int jst__trainer_new(struct jst__trainer **out, const struct jst_run *run, uint64_t start_ns,
                     uint64_t last_ns)
{
	struct jst__trainer *tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	tr->rec = jst_train_new();
	tr->pending = calloc(PENDING_MAX, sizeof(*tr->pending));
	tr->pending_t = calloc(PENDING_MAX, sizeof(*tr->pending_t));
	if (!tr->rec || !tr->pending || !tr->pending_t) {
		jst__trainer_free(tr);
		return -ENOMEM;
	}
	struct jst_train *rec = tr->rec;
	rec->used = true;
	rec->predict_after = 1;
	rec->step_width = 1;
	rec->metric_stride = 1;
	tr->nzones = run->nzones;
	tr->start_ns = start_ns;
	tr->last_ns = tr->cursor_ns = last_ns;
	tr->cur_epoch = OUTSIDE;
	tr->cur_step = OUTSIDE;
	/* what was measured before the first mark belongs to no phase, epoch or step */
	struct jst_phase_total *none = &rec->phases[find_phase(tr, "(none)", 0)];
	none->time_s = rec->outside_epoch_s = rec->outside_step_s = (double)(last_ns - start_ns) / 1e9;
	for (size_t z = 0; z < run->nzones; z++) {
		tr->counted[z] = (run->zones[z].zone.flags & JST_ZONE_COUNTED) != 0;
		none->zone_j[z] = run->zones[z].run_j;
		if (tr->counted[z])
			tr->cum_j += run->zones[z].run_j;
	}
	none->energy_j = rec->outside_epoch_j = rec->outside_step_j = tr->cum_j;
	*out = tr;
	return 0;
}

void jst__trainer_free(struct jst__trainer *tr)
{
	if (!tr)
		return;
	free(tr->rec);
	free(tr->pending);
	free(tr->pending_t);
	free(tr);
}

struct jst_train *jst__trainer_record(struct jst__trainer *tr)
{
	return tr->rec;
}

struct jst_train *jst_train_new(void)
{
	return calloc(1, sizeof(struct jst_train));
}

const char *jst_train_tag(const struct jst_train *t, const char *key)
{
	for (size_t i = 0; t && i < t->ntags; i++)
		if (strcmp(t->tag_key[i], key) == 0)
			return t->tag_value[i];
	return NULL;
}

/* Adds the time since the cursor to what is active, up to t. */
static void advance(struct jst__trainer *tr, uint64_t t)
{
	if (t <= tr->cursor_ns)
		return;
	uint64_t dt = t - tr->cursor_ns;
	tr->phase_acc[tr->cur_phase] += dt;
	if (tr->cur_epoch >= 0)
		tr->epoch_acc[tr->cur_epoch] += dt;
	else if (tr->cur_epoch == BEYOND)
		tr->beyond_acc += dt;
	else
		tr->outside_epoch_acc += dt;
	if (tr->cur_step >= 0)
		tr->step_acc[tr->cur_step] += dt;
	else
		tr->outside_step_acc += dt;
	tr->cursor_ns = t;
}

static int phase_begin(struct jst__trainer *tr, const char *name)
{
	if (tr->depth == JST_PHASE_DEPTH) {
		tr->too_deep++; /* counted in its parent; its end is ignored */
		tr->deep_open++;
		return 0;
	}
	char path[JST_PHASE_PATH_MAX];
	const char *parent = tr->depth ? tr->rec->phases[tr->stack[tr->depth - 1]].path : "";
	int w = snprintf(path, sizeof(path), "%s%s%s", parent, tr->depth ? "/" : "", name);
	int idx = w > 0 && (size_t)w < sizeof(path) ? find_phase(tr, path, (unsigned)tr->depth + 1)
	                                             : find_phase(tr, "(other)", 0);
	tr->rec->phases[idx].entries++;
	jst__strlcpy(tr->names[tr->depth], name, JST_MARK_NAME_MAX);
	tr->stack[tr->depth++] = idx;
	tr->cur_phase = idx;
	return 0;
}

static int phase_end(struct jst__trainer *tr, const char *name, const char **why)
{
	size_t d = tr->depth;
	while (d > 0 && strcmp(tr->names[d - 1], name) != 0)
		d--;
	if (d == 0) {
		if (tr->deep_open) {
			tr->deep_open--; /* the end of a phase nested too deep */
			return 0;
		}
		*why = "phase end without a matching begin";
		return -EINVAL;
	}
	if (d != tr->depth)
		tr->unbalanced++; /* inner phases left open are closed with it */
	tr->depth = d - 1;
	tr->cur_phase = tr->depth ? tr->stack[tr->depth - 1] : 0;
	return 0;
}

/* Merges step ranges pairwise: half as many, twice as wide. */
static void steps_halve(struct jst__trainer *tr)
{
	struct jst_train *rec = tr->rec;
	size_t half = (rec->nsteps + 1) / 2;
	for (size_t k = 0; k < half; k++) {
		struct jst_step_range a = rec->steps[2 * k];
		uint64_t acc = tr->step_acc[2 * k];
		if (2 * k + 1 < rec->nsteps) {
			const struct jst_step_range *b = &rec->steps[2 * k + 1];
			if (b->steps && (!a.steps || b->first < a.first))
				a.first = b->first;
			if (b->steps && (!a.steps || b->last > a.last))
				a.last = b->last;
			a.steps += b->steps;
			a.time_s += b->time_s;
			a.energy_j += b->energy_j;
			acc += tr->step_acc[2 * k + 1];
		}
		rec->steps[k] = a;
		tr->step_acc[k] = acc;
	}
	for (size_t k = half; k < JST_STEP_RANGES; k++) {
		memset(&rec->steps[k], 0, sizeof(rec->steps[k]));
		tr->step_acc[k] = 0;
	}
	rec->nsteps = half;
	rec->step_width *= 2;
	if (tr->cur_step >= 0)
		tr->cur_step /= 2;
}

static void step(struct jst__trainer *tr, int64_t n)
{
	struct jst_train *rec = tr->rec;
	if (n < 0)
		n = tr->last_step + 1;
	tr->last_step = n;
	if (rec->steps_total++ == 0)
		rec->step_base = n;
	int64_t rel = n > rec->step_base ? n - rec->step_base : 0;
	while (rel / rec->step_width >= JST_STEP_RANGES)
		steps_halve(tr);
	size_t idx = (size_t)(rel / rec->step_width);
	if (idx >= rec->nsteps)
		rec->nsteps = idx + 1;
	struct jst_step_range *r = &rec->steps[idx];
	if (!r->steps || n < r->first)
		r->first = n;
	if (!r->steps || n > r->last)
		r->last = n;
	r->steps++;
	tr->cur_step = (int)idx;
	if (tr->cur_epoch >= 0)
		rec->epochs[tr->cur_epoch].steps++;
}

static void epoch_close(struct jst__trainer *tr, uint64_t t)
{
	if (tr->cur_epoch >= 0) {
		struct jst_epoch_total *ep = &tr->rec->epochs[tr->cur_epoch];
		ep->complete = true;
		ep->end_s = (double)(t - tr->start_ns) / 1e9;
		tr->epoch_end_ns[tr->cur_epoch] = t;
	}
	tr->cur_epoch = OUTSIDE;
}

static void epoch_begin(struct jst__trainer *tr, int64_t n, int64_t total, uint64_t t)
{
	struct jst_train *rec = tr->rec;
	epoch_close(tr, t);
	if (n < 0)
		n = tr->last_epoch + 1;
	tr->last_epoch = n;
	if (total > 0)
		rec->epochs_planned = total;
	if (rec->nepochs == JST_EPOCHS_MAX) {
		rec->beyond_epochs++;
		tr->cur_epoch = BEYOND;
		return;
	}
	struct jst_epoch_total *ep = &rec->epochs[rec->nepochs];
	memset(ep, 0, sizeof(*ep));
	ep->index = n;
	ep->start_s = (double)(t - tr->start_ns) / 1e9;
	tr->epoch_start_ns[rec->nepochs] = t;
	tr->start_known[rec->nepochs] = false;
	tr->cur_epoch = (int)rec->nepochs++;
}

int jst_train_metric_name(struct jst_train *rec, const char *name)
{
	for (size_t i = 0; i < rec->nmetric_names; i++)
		if (strcmp(rec->metric_names[i], name) == 0)
			return (int)i;
	if (rec->nmetric_names == JST_METRIC_NAMES_MAX)
		return -1;
	jst__strlcpy(rec->metric_names[rec->nmetric_names], name, JST_MARK_NAME_MAX);
	return (int)rec->nmetric_names++;
}

void jst_train_keep_metric(struct jst_train *rec, const struct jst_metric *m)
{
	if (rec->metric_stride == 0)
		rec->metric_stride = 1;
	if (m->seq % rec->metric_stride)
		return;
	if (rec->nmetrics == JST_METRICS_KEPT) {
		for (size_t k = 0; k < JST_METRICS_KEPT / 2; k++)
			rec->metrics[k] = rec->metrics[2 * k];
		rec->nmetrics = JST_METRICS_KEPT / 2;
		rec->metric_stride *= 2;
		if (m->seq % rec->metric_stride)
			return;
	}
	rec->metrics[rec->nmetrics++] = *m;
}

/* The epoch a metric belongs to: the current one, or a recent one with the index it names. */
static struct jst_epoch_total *metric_epoch(struct jst__trainer *tr, int64_t index)
{
	struct jst_train *rec = tr->rec;
	if (index < 0 || (tr->cur_epoch >= 0 && rec->epochs[tr->cur_epoch].index == index))
		return tr->cur_epoch >= 0 ? &rec->epochs[tr->cur_epoch] : NULL;
	for (size_t k = 0; k < 8 && k < rec->nepochs; k++)
		if (rec->epochs[rec->nepochs - 1 - k].index == index)
			return &rec->epochs[rec->nepochs - 1 - k];
	return NULL;
}

static void epoch_value(struct jst_epoch_total *ep, uint8_t name, double v)
{
	for (unsigned i = 0; i < ep->nvalues; i++)
		if (ep->value_name[i] == name) {
			ep->value[i] = v;
			return;
		}
	if (ep->nvalues < JST_EPOCH_VALUES) {
		ep->value_name[ep->nvalues] = name;
		ep->value[ep->nvalues++] = v;
	}
}

static void metric(struct jst__trainer *tr, const struct jst_mark *mk, uint64_t t)
{
	struct jst_train *rec = tr->rec;
	struct jst_metric m = {
		.seq = rec->metrics_logged++,
		.t_s = (double)(t - tr->start_ns) / 1e9,
		.step = mk->step >= 0 ? mk->step : rec->steps_total ? tr->last_step : -1,
		.epoch = mk->epoch >= 0 ? mk->epoch : tr->cur_epoch >= 0 ? rec->epochs[tr->cur_epoch].index : -1,
	};
	struct jst_epoch_total *ep = metric_epoch(tr, m.epoch);
	for (size_t i = 0; i < mk->nvalues; i++) {
		int id = jst_train_metric_name(rec, mk->values[i].name);
		if (id < 0) {
			rec->metric_values_dropped++;
			continue;
		}
		m.name[m.nvalues] = (uint8_t)id;
		m.value[m.nvalues++] = mk->values[i].value;
		if (ep)
			epoch_value(ep, (uint8_t)id, mk->values[i].value);
	}
	if (tr->npending == PENDING_MAX) {
		tr->unstored++; /* not stored, and not kept: its energy would never be known */
		return;
	}
	tr->pending_t[tr->npending] = t;
	tr->pending[tr->npending++] = m;
}

static int tag(struct jst__trainer *tr, const struct jst_mark *mk, const char **why)
{
	struct jst_train *rec = tr->rec;
	size_t i = 0;
	while (i < rec->ntags && strcmp(rec->tag_key[i], mk->name) != 0)
		i++;
	if (i == JST_TAGS_MAX) {
		tr->tags_dropped++;
		*why = "more than 32 tags";
		return -EINVAL;
	}
	jst__strlcpy(rec->tag_key[i], mk->name, JST_MARK_NAME_MAX);
	jst__strlcpy(rec->tag_value[i], mk->text, JST_MARK_TEXT_MAX);
	if (i == rec->ntags)
		rec->ntags++;
	return 0;
}

int jst__trainer_mark(struct jst__trainer *tr, struct jst_run *run, const struct jst_mark *mk,
                      uint64_t now_ns, const char **why)
{
	struct jst_train *rec = tr->rec;
	uint64_t t = mk->t_ns ? mk->t_ns : now_ns;
	if (t < tr->last_ns) { /* its interval was already split: it counts from the current one */
		rec->late_marks++;
		t = tr->last_ns;
	}
	advance(tr, t);
	if (t < tr->cursor_ns)
		t = tr->cursor_ns; /* out of order with an earlier mark: keep time moving forward */
	rec->marks++;
	switch (mk->kind) {
	case JST_MARK_PHASE_BEGIN: return phase_begin(tr, mk->name);
	case JST_MARK_PHASE_END: return phase_end(tr, mk->name, why);
	case JST_MARK_STEP: step(tr, mk->n); break;
	case JST_MARK_EPOCH_BEGIN: epoch_begin(tr, mk->n, mk->total, t); break;
	case JST_MARK_EPOCH_END: epoch_close(tr, t); break;
	case JST_MARK_METRIC: metric(tr, mk, t); break;
	case JST_MARK_TAG:
		if (strcmp(mk->name, "project") == 0 && !run->meta.project[0])
			jst__strlcpy(run->meta.project, mk->text, sizeof(run->meta.project));
		return tag(tr, mk, why);
	case JST_MARK_PLAN:
		if (mk->n >= 0)
			rec->epochs_planned = mk->n;
		if (mk->predict_after >= 0)
			rec->predict_after = mk->predict_after > 1000000 ? 1000000 : (int)mk->predict_after;
		break;
	case JST_MARK_LOST:
		rec->lost_marks += (unsigned long)mk->n;
		break;
	}
	return 0;
}

/* Splits the interval's per-zone energy among the phases by their time in it. */
static void split_phases(struct jst__trainer *tr, const double *tick_run)
{
	struct jst_train *rec = tr->rec;
	uint64_t w = 0;
	int last = tr->cur_phase; /* with no time at all, the innermost phase takes it */
	for (size_t p = 0; p < rec->nphases; p++)
		if (tr->phase_acc[p]) {
			w += tr->phase_acc[p];
			last = (int)p;
		}
	double given[JST_ZONES_MAX] = {0};
	for (size_t p = 0; p < rec->nphases; p++) {
		if (!tr->phase_acc[p] && (int)p != last)
			continue;
		struct jst_phase_total *ph = &rec->phases[p];
		double f = w ? (double)tr->phase_acc[p] / (double)w : 1;
		for (size_t z = 0; z < tr->nzones; z++) {
			double part = (int)p == last ? tick_run[z] - given[z] : tick_run[z] * f;
			given[z] += part;
			ph->zone_j[z] += part;
			if (tr->counted[z])
				ph->energy_j += part;
		}
		ph->time_s += (double)tr->phase_acc[p] / 1e9;
		tr->phase_acc[p] = 0;
	}
}

/* A slot of a one-dimensional split: its time this interval, its energy and time totals. */
struct slot {
	uint64_t *acc;
	double *energy, *time;
};

/* Epoch slots: 0 outside epochs, 1 beyond the cap, 2+k the epoch epoch_lo + k. */
static struct slot epoch_slot(struct jst__trainer *tr, size_t i)
{
	struct jst_train *rec = tr->rec;
	if (i == 0)
		return (struct slot){&tr->outside_epoch_acc, &rec->outside_epoch_j, &rec->outside_epoch_s};
	if (i == 1)
		return (struct slot){&tr->beyond_acc, &rec->beyond_j, &rec->beyond_s};
	struct jst_epoch_total *ep = &rec->epochs[tr->epoch_lo + i - 2];
	return (struct slot){&tr->epoch_acc[tr->epoch_lo + i - 2], &ep->energy_j, &ep->time_s};
}

/* Step slots: 0 before the first step, 1+k the range k. */
static struct slot step_slot(struct jst__trainer *tr, size_t i)
{
	struct jst_train *rec = tr->rec;
	if (i == 0)
		return (struct slot){&tr->outside_step_acc, &rec->outside_step_j, &rec->outside_step_s};
	return (struct slot){&tr->step_acc[i - 1], &rec->steps[i - 1].energy_j, &rec->steps[i - 1].time_s};
}

static void split_scalar(struct jst__trainer *tr, double tot, size_t n, size_t cur,
                         struct slot (*slot)(struct jst__trainer *, size_t))
{
	uint64_t w = 0;
	size_t last = cur;
	for (size_t i = 0; i < n; i++) {
		struct slot s = slot(tr, i);
		if (*s.acc) {
			w += *s.acc;
			last = i;
		}
	}
	double given = 0;
	for (size_t i = 0; i < n; i++) {
		struct slot s = slot(tr, i);
		if (!*s.acc && i != last)
			continue;
		double part = i == last ? tot - given : tot * ((double)*s.acc / (double)w);
		given += part;
		*s.energy += part;
		*s.time += (double)*s.acc / 1e9;
		*s.acc = 0;
	}
}

/* The run's cumulative energy at t within the interval [last_ns, now] of energy tot. */
static double energy_at(const struct jst__trainer *tr, uint64_t t, uint64_t now, double tot)
{
	if (t <= tr->last_ns)
		return tr->cum_j;
	if (t >= now)
		return tr->cum_j + tot;
	return tr->cum_j + tot * ((double)(t - tr->last_ns) / (double)(now - tr->last_ns));
}

static void resolve_instants(struct jst__trainer *tr, uint64_t now, double tot)
{
	struct jst_train *rec = tr->rec;
	for (size_t i = tr->nresolved; i < tr->npending; i++)
		tr->pending[i].energy_j = energy_at(tr, tr->pending_t[i], now, tot);
	for (size_t i = tr->nresolved; i < tr->npending; i++)
		jst_train_keep_metric(rec, &tr->pending[i]); /* the bounded copy in memory */
	tr->nresolved = tr->npending;
	for (size_t e = tr->resolved_epochs; e < rec->nepochs; e++) {
		struct jst_epoch_total *ep = &rec->epochs[e];
		if (!tr->start_known[e]) {
			ep->start_j = energy_at(tr, tr->epoch_start_ns[e], now, tot);
			tr->start_known[e] = true;
		}
		if (!ep->complete)
			break;
		ep->end_j = energy_at(tr, tr->epoch_end_ns[e], now, tot);
		tr->resolved_epochs = e + 1;
	}
}

void jst_train_footprint(const struct jst_run *run, double energy_j, struct jst_footprint *out)
{
	if (run->finished && run->run_j > 0) {
		/* a share of the run's own footprint, so the parts add up to it whatever intensity
		 * the run's total used */
		double f = energy_j / run->run_j;
		const struct jst_footprint *fp = &run->result.footprint;
		*out = (struct jst_footprint){fp->it_kwh * f, fp->facility_kwh * f, fp->co2e_g * f,
		                              fp->water_site_l * f, fp->water_grid_l * f, fp->water_l * f};
		return;
	}
	struct jst_grid_zone gz = {
		.code = run->site.zone_code,
		.name = run->site.zone_name,
		.ci_g_per_kwh = run->site.ci_g_per_kwh,
		.year = run->site.ci_year,
		.ewif_l_per_kwh = run->site.ewif_l_per_kwh,
	};
	struct jst_footprint_in in = {energy_j, run->site.pue, run->site.wue_l_per_kwh, &gz};
	jst_footprint(&in, out);
}

void jst__format_span(double s, char *out, size_t n)
{
	if (s < 1)
		snprintf(out, n, s < 0.01 ? "%.1f ms" : "%.0f ms", s * 1000);
	else
		jst_format_duration(s, out, n);
}

void jst__format_energy(double j, char *out, size_t n)
{
	if (j != 0 && j < 0.1 && j > -0.1)
		snprintf(out, n, "%.3g mJ", j * 1000);
	else
		jst_format_joules(j, out, n);
}

static double pct(double actual, double predicted)
{
	return predicted > 0 ? 100.0 * (actual - predicted) / predicted : 0;
}

/* Adds a prediction line to the ring that readers take lines from (jst__trainer_messages). */
static void say(struct jst__trainer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct jst__trainer *tr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tr->lines[tr->nlines % MSG_LINES], MSG_LINE_LEN, fmt, ap);
	va_end(ap);
	tr->nlines++;
}

/* Duration and energy from the run's start to the end of `planned` epochs, from the first k. */
static void project(const struct jst_train *rec, int64_t k, int64_t planned, double *j, double *s)
{
	const struct jst_epoch_total *e1 = &rec->epochs[0], *ek = &rec->epochs[k - 1];
	*j = e1->start_j + (ek->end_j - e1->start_j) / (double)k * (double)planned;
	*s = e1->start_s + (ek->end_s - e1->start_s) / (double)k * (double)planned;
}

static void first_prediction(struct jst__trainer *tr, const struct jst_run *run, int64_t a,
                             int64_t planned)
{
	struct jst_prediction *pr = &tr->rec->prediction;
	const struct jst_epoch_total *ep = &tr->rec->epochs[a - 1];
	pr->after = a;
	pr->planned = planned;
	project(tr->rec, a, planned, &pr->energy_j, &pr->duration_s);
	struct jst_footprint fp;
	jst_train_footprint(run, pr->energy_j, &fp);
	pr->co2e_g = fp.co2e_g;
	pr->water_l = fp.water_l;
	char d[32], e[32], g[32], l[32], d0[32], e0[32];
	jst__format_span(pr->duration_s, d, sizeof(d));
	jst__format_energy(pr->energy_j, e, sizeof(e));
	jst_format_grams(pr->co2e_g, g, sizeof(g));
	jst_format_litres(pr->water_l, l, sizeof(l));
	jst__format_span(ep->end_s, d0, sizeof(d0));
	jst__format_energy(ep->end_j, e0, sizeof(e0));
	say(tr, "prediction after %lld of %lld epochs: all %lld take %s and %s, %s, %s of water "
	    "(so far %s, %s)", (long long)a, (long long)planned, (long long)planned, d, e, g, l, d0, e0);
	tr->next_update = 2 * a;
}

static void compare(struct jst__trainer *tr, int64_t k)
{
	struct jst_train *rec = tr->rec;
	struct jst_prediction *pr = &rec->prediction;
	char d[32], e[32], dp[32], ep[32];
	jst__format_span(pr->duration_s, dp, sizeof(dp));
	jst__format_energy(pr->energy_j, ep, sizeof(ep));
	if (k >= pr->planned) {
		const struct jst_epoch_total *last = &rec->epochs[pr->planned - 1];
		pr->reached = true;
		pr->actual_energy_j = last->end_j;
		pr->actual_duration_s = last->end_s;
		jst__format_span(last->end_s, d, sizeof(d));
		jst__format_energy(last->end_j, e, sizeof(e));
		say(tr, "%lld of %lld epochs done in %s and %s: the prediction after epoch %lld (%s, %s) "
		    "was off by %+.1f %% in time and %+.1f %% in energy", (long long)pr->planned,
		    (long long)pr->planned, d, e, (long long)pr->after, dp, ep,
		    pct(last->end_s, pr->duration_s), pct(last->end_j, pr->energy_j));
	} else if (k > pr->after && k >= tr->next_update) {
		tr->next_update = 2 * k;
		jst__format_span(pr->latest_duration_s, d, sizeof(d));
		jst__format_energy(pr->latest_energy_j, e, sizeof(e));
		say(tr, "after %lld of %lld epochs: projecting %s and %s, %+.1f %% in time and %+.1f %% in "
		    "energy against the prediction after epoch %lld", (long long)k, (long long)pr->planned,
		    d, e, pct(pr->latest_duration_s, pr->duration_s), pct(pr->latest_energy_j, pr->energy_j),
		    (long long)pr->after);
	}
}

/* After each completed epoch: the first prediction (from the first predict_after epochs, even
 * when more completed within one interval), then the newest projection, said again at 2, 4,
 * 8… times those epochs, and the comparison when the planned epochs are done. */
static void predict(struct jst__trainer *tr, const struct jst_run *run)
{
	struct jst_train *rec = tr->rec;
	struct jst_prediction *pr = &rec->prediction;
	int64_t k = (int64_t)tr->resolved_epochs;
	if (k == 0 || k == tr->checked_k)
		return;
	tr->checked_k = k;
	int64_t planned = pr->after ? pr->planned : rec->epochs_planned;
	if (planned <= 0 || rec->predict_after <= 0 || pr->reached)
		return;
	if (!pr->after) {
		if (k < rec->predict_after || rec->predict_after >= planned)
			return;
		first_prediction(tr, run, rec->predict_after, planned);
	}
	pr->latest_after = k < pr->planned ? k : pr->planned;
	project(rec, pr->latest_after, pr->planned, &pr->latest_energy_j, &pr->latest_duration_s);
	compare(tr, k);
}

void jst__trainer_tick(struct jst__trainer *tr, const struct jst_run *run, uint64_t now_ns,
                       const double *tick_run)
{
	struct jst_train *rec = tr->rec;
	advance(tr, now_ns);
	double tot = 0;
	for (size_t z = 0; z < tr->nzones; z++)
		if (tr->counted[z])
			tot += tick_run[z];
	split_phases(tr, tick_run);
	size_t cur = tr->cur_epoch >= 0 ? 2 + (size_t)tr->cur_epoch - tr->epoch_lo : tr->cur_epoch == BEYOND;
	split_scalar(tr, tot, 2 + rec->nepochs - tr->epoch_lo, cur, epoch_slot);
	split_scalar(tr, tot, 1 + rec->nsteps, tr->cur_step >= 0 ? 1 + (size_t)tr->cur_step : 0, step_slot);
	resolve_instants(tr, now_ns, tot);
	tr->cum_j += tot;
	if (now_ns > tr->last_ns)
		tr->last_ns = now_ns;
	tr->epoch_lo = tr->cur_epoch >= 0 ? (size_t)tr->cur_epoch : rec->nepochs;
	predict(tr, run);
}

static void finish_notes(struct jst__trainer *tr, struct jst_run *run)
{
	struct jst_train *rec = tr->rec;
	if (tr->depth)
		jst_run_note(run, "phase %s was still open when the run ended; it counts until the end",
		             rec->phases[tr->stack[tr->depth - 1]].path);
	if (rec->bad_marks)
		jst_run_note(run, "%lu training mark%s ignored, e.g. %s", rec->bad_marks,
		             rec->bad_marks == 1 ? "" : "s", rec->bad_example);
	if (rec->lost_marks)
		jst_run_note(run, "%lu training marks were lost by the sender (the socket's queue was full)",
		             rec->lost_marks);
	if (tr->other_paths)
		jst_run_note(run, "more than %d phase paths: the others are counted as (other)", JST_PHASES_MAX - 2);
	if (tr->too_deep)
		jst_run_note(run, "phases nested deeper than %d levels are counted in their parent", JST_PHASE_DEPTH);
	if (tr->unbalanced)
		jst_run_note(run, "%lu phase ends closed inner phases that were still open", tr->unbalanced);
	if (rec->beyond_epochs)
		jst_run_note(run, "more than %d epochs: the %lu after them are counted together",
		             JST_EPOCHS_MAX, rec->beyond_epochs);
	if (rec->metric_values_dropped)
		jst_run_note(run, "more than %d metric names: %lu values were not kept",
		             JST_METRIC_NAMES_MAX, rec->metric_values_dropped);
	if (tr->unstored)
		jst_run_note(run, "%lu metrics came faster than they could be stored and were dropped",
		             tr->unstored);
}

void jst__trainer_finish(struct jst__trainer *tr, struct jst_run *run, uint64_t now_ns)
{
	if (now_ns > tr->last_ns || tr->cursor_ns > tr->last_ns) {
		static const double zero[JST_ZONES_MAX];
		jst__trainer_tick(tr, run, now_ns, zero); /* time since the last tick, no energy */
	}
	if (tr->cur_epoch != OUTSIDE)
		epoch_close(tr, tr->cursor_ns > now_ns ? tr->cursor_ns : now_ns);
	resolve_instants(tr, tr->last_ns, 0);
	predict(tr, run);
	finish_notes(tr, run);
}

const struct jst_metric *jst__trainer_pending(const struct jst__trainer *tr, size_t *n)
{
	*n = tr->nresolved;
	return tr->pending;
}

void jst__trainer_drained(struct jst__trainer *tr)
{
	size_t left = tr->npending - tr->nresolved;
	memmove(tr->pending, tr->pending + tr->nresolved, left * sizeof(*tr->pending));
	memmove(tr->pending_t, tr->pending_t + tr->nresolved, left * sizeof(*tr->pending_t));
	tr->npending = left;
	tr->nresolved = 0;
}

size_t jst__trainer_messages(const struct jst__trainer *tr, unsigned *seen, char *buf, size_t n)
{
	size_t off = 0, count = 0;
	unsigned from = *seen;
	if (tr->nlines - from > MSG_LINES || from > tr->nlines)
		from = tr->nlines > MSG_LINES ? tr->nlines - MSG_LINES : 0;
	if (n)
		buf[0] = '\0';
	for (unsigned i = from; i < tr->nlines && n; i++) {
		int w = snprintf(buf + off, n - off, "%s%s", count ? "\n" : "", tr->lines[i % MSG_LINES]);
		if (w < 0 || (size_t)w >= n - off)
			break; /* the rest next time */
		off += (size_t)w;
		count++;
		*seen = i + 1;
	}
	return count;
}
