/* `joulestream show RUN --format html`: one self-contained HTML file of a run — totals with
 * their sources, the run's share of the host, zones, power per zone over time, phases, training
 * metrics against cumulative energy, metadata, flags and notes. Charts are SVG drawn here, with
 * inline CSS and no script: the file opens anywhere, offline, and prints as it shows. It holds
 * no link to the network (the browser test checks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joulestream/report.h"
#include "joulestream/sensor.h"
#include "joulestream/train.h"
#include "report/carbon_report.h"

struct series {
	char label[96];
	double *x, *y;
	size_t n;
};

enum axis { AX_TIME, AX_WATTS, AX_KWH, AX_PLAIN };

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void fmt_axis(enum axis a, double v, char *out, size_t n)
{
	if (a == AX_TIME)
		jst_format_duration(v, out, n);
	else if (a == AX_WATTS)
		snprintf(out, n, v >= 1000 ? "%.3g kW" : "%.3g W", v >= 1000 ? v / 1000 : v);
	else if (a == AX_KWH)
		jst_format_kwh(v / 3.6e6, out, n);
	else
		snprintf(out, n, "%.3g", v);
}

static const char *const dashes[] = {"", "8 4", "2 3", "12 4 2 4", "4 4"};
static const char *const marks[] = {"solid", "dashed", "dotted", "dash-dot", "short dashes"};

static void range(const struct series *s, size_t ns, double *x0, double *x1, double *y1)
{
	*x0 = INFINITY, *x1 = -INFINITY, *y1 = 0;
	for (size_t i = 0; i < ns; i++)
		for (size_t k = 0; k < s[i].n; k++) {
			*x0 = fmin(*x0, s[i].x[k]);
			*x1 = fmax(*x1, s[i].x[k]);
			*y1 = fmax(*y1, s[i].y[k]);
		}
	if (!(*x1 > *x0))
		*x1 = *x0 + 1;
	if (!(*y1 > 0))
		*y1 = 1;
}

/* A line chart: series told apart by dash pattern and a written legend, not by colour. */
static void svg_chart(FILE *f, const char *cls, const struct series *s, size_t ns, enum axis ax,
		      enum axis ay, const char *xlabel)
{
	const double W = 720, H = 280, L = 72, B = 40, T = 12, R = 12;
	double x0, x1, y1;
	size_t total = 0;
	for (size_t i = 0; i < ns; i++)
		total += s[i].n;
	if (!total) {
		fputs("<p class=muted>No samples to draw.</p>\n", f);
		return;
	}
	range(s, ns, &x0, &x1, &y1);
	fprintf(f, "<svg class=\"%s\" data-points=\"%zu\" viewBox=\"0 0 %.0f %.0f\" role=img>\n",
		cls, total, W, H);
	fprintf(f, "<path d=\"M%.0f %.0fV%.0fH%.0f\" fill=none stroke=#000 />\n", L, T, H - B,
		W - R);
	char lab[48];
	for (int k = 0; k <= 4; k++) {
		double yv = y1 * k / 4, xv = x0 + (x1 - x0) * k / 4;
		double py = H - B - (H - B - T) * k / 4, px = L + (W - L - R) * k / 4;
		fmt_axis(ay, yv, lab, sizeof(lab));
		fprintf(f, "<text x=%.0f y=%.0f text-anchor=end>%s</text>", L - 4, py + 4, lab);
		fmt_axis(ax, xv, lab, sizeof(lab));
		fprintf(f, "<text x=%.0f y=%.0f text-anchor=middle>%s</text>\n", px, H - B + 15,
			lab);
	}
	fprintf(f, "<text x=%.0f y=%.0f text-anchor=middle>", (W + L) / 2, H - 4);
	esc(f, xlabel);
	fputs("</text>\n", f);
	for (size_t i = 0; i < ns; i++) {
		fprintf(f,
			"<polyline fill=none stroke=#1b1f24 stroke-width=2 stroke-dasharray=\"%s\" points=\"",
			dashes[i % 5]);
		for (size_t k = 0; k < s[i].n; k++)
			fprintf(f, "%s%.1f,%.1f", k ? " " : "",
				L + (s[i].x[k] - x0) / (x1 - x0) * (W - L - R),
				H - B - s[i].y[k] / y1 * (H - B - T));
		fputs("\"><title>", f);
		esc(f, s[i].label);
		fprintf(f, "</title></polyline>\n<text x=%.0f y=%.0f>%s: ", L + 10,
			T + 14 + 15 * (double)i, marks[i % 5]);
		esc(f, s[i].label);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

static void head(FILE *f, const struct jst_run *run)
{
	fputs("<!doctype html>\n<html lang=en><head><meta charset=utf-8>\n"
	      "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n<title>joulestream run ",
	      f);
	esc(f, run->id);
	fputs("</title>\n<style>\n"
	      "body{font:15px/1.45 system-ui,sans-serif;color:#1b1f24;max-width:1000px;margin:0 auto;padding:1rem}\n"
	      "h1{font-size:1.35rem;overflow-wrap:anywhere}h2{font-size:1.1rem;border-bottom:1px solid #ccc;margin-top:1.5rem}\n"
	      ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.6rem}\n"
	      ".card{border:1px solid #ccc;border-radius:4px;padding:.6rem .8rem}.v{font-size:1.3rem;font-weight:700}\n"
	      ".src,.muted{color:#5b6470;font-size:.85rem}.scroll{overflow-x:auto}\n"
	      "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
	      "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd}.num{text-align:right;white-space:nowrap}\n"
	      "svg{width:100%;height:auto;font-size:11px}\n"
	      ".bar{height:1rem;border:1px solid #000;background:repeating-linear-gradient(45deg,#000 0 2px,transparent 2px 6px)}\n"
	      "dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.2rem .8rem}dt{color:#5b6470}\n"
	      "dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.9rem}\n"
	      "</style></head><body>\n",
	      f);
}

static void card(FILE *f, const char *title, const char *v, const char *src)
{
	fputs("<div class=card><div class=muted>", f);
	esc(f, title);
	fputs("</div><div class=v>", f);
	esc(f, v);
	fputs("</div><div class=src>", f);
	esc(f, src);
	fputs("</div></div>\n", f);
}

static void totals(FILE *f, const struct jst_run *run)
{
	const struct jst_footprint *fp = &run->result.footprint;
	char v[96], j[48], src[1100];
	jst_format_kwh(fp->it_kwh, v, sizeof(v));
	jst_format_joules(run->run_j, j, sizeof(j));
	snprintf(v + strlen(v), sizeof(v) - strlen(v), " (%s)", j);
	fputs("<div class=cards>\n", f);
	snprintf(src, sizeof(src), "sensors: %s%s", run->meta.sensors,
		 run->estimated ? " (estimate)" : "");
	card(f, "Energy (IT, the run's share)", v, src);
	jst_format_grams(fp->co2e_g, v, sizeof(v));
	snprintf(src, sizeof(src), "%.0f g/kWh, %s (%s %d) x PUE %.2f (%s)",
		 run->result.ci_avg_g_per_kwh > 0 ? run->result.ci_avg_g_per_kwh :
						    run->site.ci_g_per_kwh,
		 run->site.zone_code, run->site.ci_source, run->site.ci_year, run->site.pue,
		 run->site.pue_source);
	card(f, "CO2e", v, src);
	jst_format_litres(fp->water_l, v, sizeof(v));
	snprintf(src, sizeof(src), "on site %.3g L (%s), grid %.3g L (%s)", fp->water_site_l,
		 run->site.wue_source, fp->water_grid_l, run->site.ewif_source);
	card(f, "Water", v, src);
	snprintf(v, sizeof(v), "%.1f %%", run->host_j > 0 ? 100 * run->run_j / run->host_j : 0);
	jst_format_joules(run->host_j, j, sizeof(j));
	snprintf(src, sizeof(src), "of the host's %s", j);
	card(f, "Share of the host", v, src);
	jst_format_duration(run->duration_s, v, sizeof(v));
	snprintf(src, sizeof(src), "%lu samples every %.3g s", run->samples, run->interval_s);
	card(f, "Duration", v, src);
	fputs("</div>\n", f);
}

static void zones(FILE *f, const struct jst_run *run)
{
	fputs("<h2>Zones</h2><div class=scroll><table><tr><th>zone<th>kind<th>source<th class=num>samples"
	      "<th class=num>run energy<th class=num>host energy<th class=num>run share<th class=num>peak</tr>\n",
	      f);
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		char a[48], b[48];
		jst_format_joules(z->run_j, a, sizeof(a));
		jst_format_joules(z->host_j, b, sizeof(b));
		fputs("<tr><td>", f);
		esc(f, z->zone.name);
		fprintf(f, "<td>%s<td>", jst_zone_kind_name(z->zone.kind));
		esc(f, z->zone.source);
		fprintf(f,
			"%s<td class=num>%lu<td class=num>%s<td class=num>%s<td class=num>%.1f %%<td class=num>%.3g W</tr>\n",
			z->zone.flags & JST_ZONE_ESTIMATE ? " (estimate)" : "", z->samples, a, b,
			z->host_j > 0 ? 100 * z->run_j / z->host_j : 0, z->peak_w);
	}
	fputs("</table></div>\n", f);
}

static void power(FILE *f, const struct jst_run *run, const struct jst_timeline *tl)
{
	fputs("<h2>Power per zone (the run's share)</h2>\n", f);
	size_t nz = tl ? tl->nzones : 0, np = tl ? tl->npoints : 0;
	struct series *s = calloc(nz ? nz : 1, sizeof(*s));
	double *buf = malloc(sizeof(double) * 2 * (nz * np + 1));
	if (!s || !buf)
		goto out;
	for (size_t z = 0; z < nz; z++) {
		s[z].x = buf + 2 * z * np;
		s[z].y = s[z].x + np;
		snprintf(s[z].label, sizeof(s[z].label), "%s (%s)",
			 z < run->nzones ? run->zones[z].zone.name : "?",
			 z < run->nzones ? jst_zone_kind_name(run->zones[z].zone.kind) : "?");
		for (size_t p = 0; p < np; p++) {
			if (!(tl->dt_s[p] > 0))
				continue;
			s[z].x[s[z].n] = tl->t_s[p] + tl->dt_s[p];
			s[z].y[s[z].n++] = tl->run_j[p * nz + z] / tl->dt_s[p];
		}
	}
	svg_chart(f, "power", s, nz, AX_TIME, AX_WATTS, "time since start");
out:
	free(buf);
	free(s);
}

static void phases(FILE *f, const struct jst_train *t)
{
	double max = 0;
	for (size_t i = 0; i < t->nphases; i++)
		max = fmax(max, t->phases[i].energy_j);
	fputs("<h2>Phases</h2><div class=scroll><table><tr><th>phase<th class=num>energy<th class=num>time<th>share</tr>\n",
	      f);
	for (size_t i = 0; i < t->nphases; i++) {
		const struct jst_phase_total *p = &t->phases[i];
		char e[48], d[48];
		jst_format_joules(p->energy_j, e, sizeof(e));
		jst_format_duration(p->time_s, d, sizeof(d));
		fputs("<tr><td>", f);
		esc(f, p->path);
		fprintf(f,
			"<td class=num>%s<td class=num>%s<td><div class=bar style=\"width:%.1f%%\"></div></tr>\n",
			e, d, max > 0 ? fmax(1, 100 * p->energy_j / max) : 1);
	}
	fputs("</table></div>\n", f);
}

static void metrics(FILE *f, const struct jst_train *t)
{
	double *buf = malloc(sizeof(double) * 2 * (t->nmetrics + 1));
	if (!buf)
		return;
	fputs("<h2>Training metrics against cumulative energy</h2>\n", f);
	for (size_t m = 0; m < t->nmetric_names && m < 4; m++) {
		struct series s = {.x = buf, .y = buf + t->nmetrics};
		snprintf(s.label, sizeof(s.label), "%s", t->metric_names[m]);
		for (size_t i = 0; i < t->nmetrics; i++)
			for (unsigned k = 0; k < t->metrics[i].nvalues; k++)
				if (t->metrics[i].name[k] == m) {
					s.x[s.n] = t->metrics[i].energy_j;
					s.y[s.n++] = t->metrics[i].value[k];
				}
		fputs("<h3>", f);
		esc(f, s.label);
		fputs("</h3>\n", f);
		svg_chart(f, "metric", &s, 1, AX_KWH, AX_PLAIN, "cumulative energy");
	}
	free(buf);
}

static void kv(FILE *f, const char *k, const char *v)
{
	if (!v || !*v)
		return;
	fprintf(f, "<dt>%s<dd>", k);
	esc(f, v);
	fputc('\n', f);
}

static void metadata(FILE *f, const struct jst_run *run)
{
	const struct jst_meta *m = &run->meta;
	char t[48], n[32];
	fputs("<h2>Metadata</h2><dl>\n", f);
	kv(f, "command", m->command);
	kv(f, "cwd", m->cwd);
	kv(f, "user", m->user);
	kv(f, "host", m->host);
	kv(f, "project", m->project);
	jst_format_utc(run->start_ns, t, sizeof(t));
	kv(f, "start", t);
	kv(f, "zone", run->site.zone_name[0] ? run->site.zone_name : run->site.zone_code);
	kv(f, "zone chosen by", jst__origin_words(run));
	kv(f, "git commit", m->git_commit);
	kv(f, "kernel", m->kernel);
	kv(f, "cpu", m->cpu_model);
	snprintf(n, sizeof(n), "%u", m->cpu_count);
	kv(f, "cpu count", n);
	kv(f, "gpus", m->gpus);
	kv(f, "gpu driver", m->gpu_driver);
	kv(f, "sensors", m->sensors);
	kv(f, "estimate", run->estimated ? "yes: some counted zone is an estimate" : "no");
	kv(f, "joulestream", m->version);
	fputs("</dl>\n", f);
}

static void health(FILE *f, const struct jst_run *run)
{
	fputs("<h2>Health flags and notes</h2>\n", f);
	if (!run->nflags && !run->nnotes)
		fputs("<p>No flags, no notes.</p>\n", f);
	fputs("<ul>\n", f);
	for (size_t i = 0; i < run->nflags; i++) {
		fputs("<li>flag: ", f);
		esc(f, run->flags[i].reason);
		fputc('\n', f);
	}
	for (size_t i = 0; i < run->nnotes; i++) {
		fputs("<li>note: ", f);
		esc(f, run->notes[i]);
		fputc('\n', f);
	}
	fputs("</ul>\n", f);
}

int jst_report_html(FILE *f, const struct jst_run *run, const struct jst_timeline *tl)
{
	char when[48];
	jst_format_utc(run->start_ns, when, sizeof(when));
	head(f, run);
	fputs("<h1>Run ", f);
	esc(f, run->id);
	fprintf(f, " — %s</h1>\n<p class=muted>", run->finished ? "finished" : "running");
	esc(f, run->meta.user);
	fputs(" on ", f);
	esc(f, run->meta.host);
	fprintf(f, ", started %s; report by joulestream %s (carbon data %s)</p>\n", when,
		JST_VERSION, run->result.data_version);
	totals(f, run);
	power(f, run, tl);
	zones(f, run);
	if (run->train && run->train->nphases)
		phases(f, run->train);
	if (run->train && run->train->nmetrics)
		metrics(f, run->train);
	metadata(f, run);
	health(f, run);
	fputs("</body></html>\n", f);
	return ferror(f) ? -1 : 0;
}
