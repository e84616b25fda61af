/* The training members of the JSON record: "phases" (every path, with its per-zone energy),
 * "epochs", "steps" (ranges), "metrics" (the kept points with the run's energy at each),
 * "tags", "prediction" and "training" (counters and what was counted together). A run without
 * marks gets the same keys, empty, so readers need no special case. */
#include <math.h>
#include <stdio.h>

#include "core/jsonw.h"
#include "joulestream/train.h"
#include "report/train_report.h"

static void num(FILE *f, const char *k, double v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_number(f, v);
}

static void first_num(FILE *f, const char *k, double v)
{
	fprintf(f, "\"%s\":", k);
	jst__json_number(f, v);
}

static void foot(FILE *f, const struct jst_run *run, double energy_j)
{
	struct jst_footprint fp;
	jst_train_footprint(run, energy_j, &fp);
	num(f, "share", run->run_j > 0 ? energy_j / run->run_j : 0);
	num(f, "co2e_g", fp.co2e_g);
	num(f, "water_l", fp.water_l);
}

static void phases_json(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	fputs(",\"phases\":[", f);
	for (size_t i = 0; t && i < t->nphases; i++) {
		const struct jst_phase_total *p = &t->phases[i];
		fputs(i ? ",{\"path\":" : "{\"path\":", f);
		jst__json_string(f, p->path);
		num(f, "depth", p->depth);
		num(f, "entries", (double)p->entries);
		num(f, "time_s", p->time_s);
		num(f, "energy_j", p->energy_j);
		foot(f, run, p->energy_j);
		fputs(",\"zones_energy_j\":[", f);
		for (size_t z = 0; z < run->nzones; z++) {
			if (z)
				fputc(',', f);
			jst__json_number(f, p->zone_j[z]);
		}
		fputs("]}", f);
	}
	fputc(']', f);
}

/* Metric values exactly as logged (17 digits), where energies use the writer's 10. */
static void precise(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static void values_json(FILE *f, const struct jst_train *t, unsigned n, const uint8_t *names,
                        const double *values)
{
	fputs(",\"values\":{", f);
	for (unsigned i = 0, k = 0; i < n; i++) {
		if (names[i] >= t->nmetric_names)
			continue;
		if (k++)
			fputc(',', f);
		jst__json_string(f, t->metric_names[names[i]]);
		fputc(':', f);
		precise(f, values[i]);
	}
	fputc('}', f);
}

static void epochs_json(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	fputs(",\"epochs\":[", f);
	for (size_t i = 0; t && i < t->nepochs; i++) {
		const struct jst_epoch_total *ep = &t->epochs[i];
		fputs(i ? ",{" : "{", f);
		first_num(f, "epoch", (double)ep->index);
		num(f, "start_s", ep->start_s);
		num(f, "end_s", ep->complete ? ep->end_s : ep->start_s + ep->time_s);
		num(f, "time_s", ep->time_s);
		num(f, "energy_j", ep->energy_j);
		foot(f, run, ep->energy_j);
		num(f, "run_energy_at_start_j", ep->start_j);
		num(f, "run_energy_at_end_j", ep->end_j);
		num(f, "steps", (double)ep->steps);
		fprintf(f, ",\"complete\":%s", ep->complete ? "true" : "false");
		values_json(f, t, ep->nvalues, ep->value_name, ep->value);
		fputc('}', f);
	}
	fputc(']', f);
}

static void steps_json(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	if (!t || !t->steps_total) {
		fputs(",\"steps\":null", f);
		return;
	}
	fputs(",\"steps\":{", f);
	first_num(f, "count", (double)t->steps_total);
	num(f, "range_width", (double)t->step_width);
	fputs(",\"before_first_step\":{", f);
	first_num(f, "time_s", t->outside_step_s);
	num(f, "energy_j", t->outside_step_j);
	fputs("},\"ranges\":[", f);
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct jst_step_range *r = &t->steps[i];
		fputs(i ? ",{" : "{", f);
		if (r->steps) {
			first_num(f, "first", (double)r->first);
			num(f, "last", (double)r->last);
		} else {
			fputs("\"first\":null,\"last\":null", f);
		}
		num(f, "steps", (double)r->steps);
		num(f, "time_s", r->time_s);
		num(f, "energy_j", r->energy_j);
		foot(f, run, r->energy_j);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void metrics_json(FILE *f, const struct jst_train *t)
{
	if (!t || !t->metrics_logged) {
		fputs(",\"metrics\":null", f);
		return;
	}
	fputs(",\"metrics\":{", f);
	first_num(f, "logged", (double)t->metrics_logged);
	num(f, "kept", (double)t->nmetrics);
	num(f, "every", t->metric_stride);
	fputs(",\"names\":[", f);
	for (size_t i = 0; i < t->nmetric_names; i++) {
		if (i)
			fputc(',', f);
		jst__json_string(f, t->metric_names[i]);
	}
	fputs("],\"points\":[", f);
	for (size_t i = 0; i < t->nmetrics; i++) {
		const struct jst_metric *m = &t->metrics[i];
		fputs(i ? ",{" : "{", f);
		first_num(f, "seq", (double)m->seq);
		num(f, "t_s", m->t_s);
		if (m->step >= 0)
			num(f, "step", (double)m->step);
		else
			fputs(",\"step\":null", f);
		if (m->epoch >= 0)
			num(f, "epoch", (double)m->epoch);
		else
			fputs(",\"epoch\":null", f);
		num(f, "energy_j", m->energy_j);
		values_json(f, t, m->nvalues, m->name, m->value);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void prediction_json(FILE *f, const struct jst_train *t)
{
	const struct jst_prediction *p = t ? &t->prediction : NULL;
	if (!p || !p->after) {
		fputs(",\"prediction\":null", f);
		return;
	}
	fputs(",\"prediction\":{", f);
	first_num(f, "after_epochs", (double)p->after);
	num(f, "planned_epochs", (double)p->planned);
	num(f, "duration_s", p->duration_s);
	num(f, "energy_j", p->energy_j);
	num(f, "co2e_g", p->co2e_g);
	num(f, "water_l", p->water_l);
	num(f, "latest_after_epochs", (double)p->latest_after);
	num(f, "latest_duration_s", p->latest_duration_s);
	num(f, "latest_energy_j", p->latest_energy_j);
	fprintf(f, ",\"reached\":%s", p->reached ? "true" : "false");
	if (p->reached) {
		num(f, "actual_duration_s", p->actual_duration_s);
		num(f, "actual_energy_j", p->actual_energy_j);
		num(f, "duration_error_pct", p->duration_s > 0 ? 100 * (p->actual_duration_s - p->duration_s) / p->duration_s : 0);
		num(f, "energy_error_pct", p->energy_j > 0 ? 100 * (p->actual_energy_j - p->energy_j) / p->energy_j : 0);
	}
	fputc('}', f);
}

static void training_json(FILE *f, const struct jst_train *t)
{
	fputs(",\"tags\":{", f);
	for (size_t i = 0; t && i < t->ntags; i++) {
		if (i)
			fputc(',', f);
		jst__json_string(f, t->tag_key[i]);
		fputc(':', f);
		jst__json_string(f, t->tag_value[i]);
	}
	fputc('}', f);
	prediction_json(f, t);
	if (!t || !t->used) {
		fputs(",\"training\":null", f);
		return;
	}
	fputs(",\"training\":{", f);
	first_num(f, "marks", (double)t->marks);
	num(f, "bad_marks", (double)t->bad_marks);
	fputs(",\"bad_example\":", f);
	jst__json_string(f, t->bad_example);
	num(f, "lost_marks", (double)t->lost_marks);
	num(f, "late_marks", (double)t->late_marks);
	num(f, "epochs_planned", (double)t->epochs_planned);
	num(f, "predict_after", t->predict_after);
	fputs(",\"outside_epochs\":{", f);
	first_num(f, "time_s", t->outside_epoch_s);
	num(f, "energy_j", t->outside_epoch_j);
	fputs("},\"beyond_epochs\":{", f);
	first_num(f, "count", (double)t->beyond_epochs);
	num(f, "time_s", t->beyond_s);
	num(f, "energy_j", t->beyond_j);
	fputs("}}", f);
}

void jst__report_train_json(FILE *f, const struct jst_run *run)
{
	const struct jst_train *t = run->train && run->train->used ? run->train : NULL;
	phases_json(f, run, t);
	epochs_json(f, run, t);
	steps_json(f, run, t);
	metrics_json(f, t);
	training_json(f, t);
}
