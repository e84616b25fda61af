/* The training lines of the text summary: a table of phases (innermost phase by path, with
 * time, energy, share, CO2e and water; capped with "… N more"), one line per epoch (the first
 * and last ones when there are many), steps, the prediction against what happened, metrics
 * and tags. Each part is printed only when the run marked it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "joulestream/report.h"
#include "joulestream/train.h"
#include "report/train_report.h"
#include "record/trainer.h"

#define PHASE_LINES 16
#define EPOCH_HEAD 5 /* epochs shown at each end when there are more than 2 × this + 2 */

/* Paths in tree order (a parent before its children); "(none)" and "(other)" last. */
static int by_path(const char *pa, const char *pb)
{
	if ((pa[0] == '(') != (pb[0] == '('))
		return pa[0] == '(' ? 1 : -1;
	for (; *pa && *pa == *pb; pa++, pb++)
		;
	/* '/' sorts before every other character, so "a/b" comes right after "a" */
	int ca = *pa == '/' ? 1 : (unsigned char)*pa ? (unsigned char)*pa + 1 : 0;
	int cb = *pb == '/' ? 1 : (unsigned char)*pb ? (unsigned char)*pb + 1 : 0;
	return ca - cb;
}

static void phase_line(FILE *f, const struct jst_run *run, const struct jst_phase_total *p)
{
	struct jst_footprint fp;
	char d[32], e[32], g[32], l[32];
	jst_train_footprint(run, p->energy_j, &fp);
	jst__format_span(p->time_s, d, sizeof(d));
	jst__format_energy(p->energy_j, e, sizeof(e));
	jst_format_grams(fp.co2e_g, g, sizeof(g));
	jst_format_litres(fp.water_l, l, sizeof(l));
	double share = run->run_j > 0 ? 100.0 * p->energy_j / run->run_j : 0;
	fprintf(f, "  %-28.28s %9s %10s %6.1f %% %14s %12s\n", p->path, d, e, share, g, l);
}

static void phases_text(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	size_t order[JST_PHASES_MAX], n = t->nphases;
	if (n < 2) /* only "(none)": no phase was marked */
		return;
	for (size_t i = 0; i < n; i++) { /* insertion sort: at most 64 */
		size_t k = i;
		for (; k > 0 && by_path(t->phases[order[k - 1]].path, t->phases[i].path) > 0; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	fprintf(f, "  %-28s %9s %10s %8s %14s %12s\n", "phase (innermost)", "time", "energy", "share",
	        "CO2e", "water");
	bool shown[JST_PHASES_MAX] = {false}; /* when there are too many: those with most energy */
	for (size_t k = 0; k < n && k < PHASE_LINES; k++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++)
			if (!shown[i] && (best == n || t->phases[i].energy_j > t->phases[best].energy_j))
				best = i;
		shown[best] = true;
	}
	double rest_j = 0;
	for (size_t i = 0; i < n; i++) {
		if (shown[order[i]])
			phase_line(f, run, &t->phases[order[i]]);
		else
			rest_j += t->phases[order[i]].energy_j;
	}
	if (n > PHASE_LINES) {
		char e[32];
		jst__format_energy(rest_j, e, sizeof(e));
		fprintf(f, "  … %zu more phases with less energy, %s together (in the JSON record)\n",
		        n - PHASE_LINES, e);
	}
}

static void epoch_line(FILE *f, const struct jst_run *run, const struct jst_train *t,
                       const struct jst_epoch_total *ep)
{
	struct jst_footprint fp;
	char d[32], e[32], g[32], l[32];
	jst_train_footprint(run, ep->energy_j, &fp);
	jst__format_span(ep->time_s, d, sizeof(d));
	jst__format_energy(ep->energy_j, e, sizeof(e));
	jst_format_grams(fp.co2e_g, g, sizeof(g));
	jst_format_litres(fp.water_l, l, sizeof(l));
	fprintf(f, "    epoch %-5lld %9s %10s %14s %12s", (long long)ep->index, d, e, g, l);
	if (t->steps_total)
		fprintf(f, " %6lu steps", ep->steps);
	for (unsigned i = 0; i < ep->nvalues && i < 4; i++)
		if (ep->value_name[i] < t->nmetric_names)
			fprintf(f, "  %s %.4g", t->metric_names[ep->value_name[i]], ep->value[i]);
	fprintf(f, "%s\n", ep->complete ? "" : "  (incomplete)");
}

static void epochs_text(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	size_t n = t->nepochs;
	if (n == 0)
		return;
	double sum_j = 0, sum_s = 0;
	size_t done = 0;
	for (size_t i = 0; i < n; i++)
		if (t->epochs[i].complete) {
			sum_j += t->epochs[i].energy_j;
			sum_s += t->epochs[i].time_s;
			done++;
		}
	char e[32], d[32], planned[48] = "";
	jst__format_energy(done ? sum_j / (double)done : 0, e, sizeof(e));
	jst__format_span(done ? sum_s / (double)done : 0, d, sizeof(d));
	if (t->epochs_planned > 0)
		snprintf(planned, sizeof(planned), " of %lld planned", (long long)t->epochs_planned);
	fprintf(f, "  epochs: %zu%s%s; %s and %s per complete epoch on average\n",
	        n + t->beyond_epochs, planned, t->beyond_epochs ? " (the last counted together)" : "", e, d);
	for (size_t i = 0; i < n; i++) {
		if (n > 2 * EPOCH_HEAD + 2 && i == EPOCH_HEAD) {
			fprintf(f, "    … %zu more epochs (in the JSON record)\n", n - 2 * EPOCH_HEAD);
			i = n - EPOCH_HEAD - 1;
			continue;
		}
		epoch_line(f, run, t, &t->epochs[i]);
	}
	jst__format_energy(t->outside_epoch_j, e, sizeof(e));
	jst__format_span(t->outside_epoch_s, d, sizeof(d));
	fprintf(f, "    outside epochs  %9s %10s\n", d, e);
}

static void prediction_text(FILE *f, const struct jst_train *t)
{
	const struct jst_prediction *p = &t->prediction;
	if (!p->after)
		return;
	char d[32], e[32], g[32], l[32], d2[32], e2[32];
	jst__format_span(p->duration_s, d, sizeof(d));
	jst__format_energy(p->energy_j, e, sizeof(e));
	jst_format_grams(p->co2e_g, g, sizeof(g));
	jst_format_litres(p->water_l, l, sizeof(l));
	fprintf(f, "  prediction after %lld of %lld epochs: %s, %s, %s, %s; ", (long long)p->after,
	        (long long)p->planned, d, e, g, l);
	if (p->reached) {
		jst__format_span(p->actual_duration_s, d2, sizeof(d2));
		jst__format_energy(p->actual_energy_j, e2, sizeof(e2));
		fprintf(f, "actual %s, %s: off by %+.1f %% in time, %+.1f %% in energy\n", d2, e2,
		        p->duration_s > 0 ? 100 * (p->actual_duration_s - p->duration_s) / p->duration_s : 0,
		        p->energy_j > 0 ? 100 * (p->actual_energy_j - p->energy_j) / p->energy_j : 0);
	} else {
		jst__format_span(p->latest_duration_s, d2, sizeof(d2));
		jst__format_energy(p->latest_energy_j, e2, sizeof(e2));
		fprintf(f, "stopped after %lld epochs, projecting %s, %s then\n", (long long)p->latest_after,
		        d2, e2);
	}
}

static void steps_metrics_tags(FILE *f, const struct jst_run *run, const struct jst_train *t)
{
	char e[32];
	if (t->steps_total) {
		jst__format_energy((run->run_j - t->outside_step_j) / (double)t->steps_total, e, sizeof(e));
		fprintf(f, "  steps: %lu, %s per step on average (%zu ranges of %lld in the JSON record)\n",
		        t->steps_total, e, t->nsteps, (long long)t->step_width);
	}
	if (t->metrics_logged && t->nmetrics) {
		const struct jst_metric *m = &t->metrics[t->nmetrics - 1];
		jst__format_energy(m->energy_j, e, sizeof(e));
		fprintf(f, "  metrics: %lu logged; the last, at %s:", t->metrics_logged, e);
		for (unsigned i = 0; i < m->nvalues && i < 6; i++)
			fprintf(f, " %s %.4g", t->metric_names[m->name[i]], m->value[i]);
		fputc('\n', f);
	}
	if (t->ntags) {
		fprintf(f, "  tags:");
		size_t w = 8;
		for (size_t i = 0; i < t->ntags; i++) {
			size_t len = strlen(t->tag_key[i]) + strlen(t->tag_value[i]) + 2;
			if (w + len > 100) {
				fprintf(f, "\n       ");
				w = 8;
			}
			fprintf(f, " %s=%.60s", t->tag_key[i], t->tag_value[i]);
			w += len;
		}
		fputc('\n', f);
	}
}

void jst__report_train_text(FILE *f, const struct jst_run *run)
{
	const struct jst_train *t = run->train;
	if (!t || !t->used)
		return;
	phases_text(f, run, t);
	epochs_text(f, run, t);
	prediction_text(f, t);
	steps_metrics_tags(f, run, t);
}
