/* The GPU power limit part of a run's reports (issue 18): the profile, the choice and the
 * saving against the maximum limit, or the advice of a run that could not set limits. */
#include <stdio.h>
#include <string.h>

#include "core/jbuf.h"
#include "joulestream/gpupower.h"
#include "record/gpupower.h"
#include "report/gpu_report.h"

void jst__report_gpu_json(FILE *f, const struct jst_run *run)
{
	if (!run->gpu_power)
		return;
	struct jst_jbuf b;
	jst__jbuf_init(&b, 1u << 20);
	jst__gpu_power_json(&b, run->gpu_power);
	fputs(",\"gpu_power_limit\":", f);
	if (b.full)
		fputs("null", f);
	else
		fwrite(b.p, 1, b.len, f);
	jst__jbuf_release(&b);
}

static void limits(char *buf, size_t n, const struct jst_gpu_power *g, const double *w)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < g->ngpus && off < n; i++) {
		int k = snprintf(buf + off, n - off, "%s%.0f", i ? "," : "", w[i]);
		if (k < 0)
			break;
		off += (size_t)k;
	}
}

void jst__report_gpu_text(FILE *f, const struct jst_run *run)
{
	const struct jst_gpu_power *g = run->gpu_power;
	if (!g)
		return;
	char lim[128], best[128];
	bool advice = strcmp(g->mode, "advice") == 0;
	fprintf(f, "  GPU power limit    %s, goal %s%s%s\n", advice ? "advice only" : g->mode, g->goal,
	        g->why[0] ? ": " : "", g->why);
	if (g->npoints && (!advice || g->advice_from[0])) {
		if (advice)
			fprintf(f, "    profile of %s (joulestream gpu profile):\n", g->advice_from);
		fprintf(f, "    %-20s %12s %14s %10s\n", "limit W", "time/step s", "energy/step J", "power W");
		for (size_t i = 0; i < g->npoints; i++) {
			const struct jst_gpu_point *pt = &g->points[i];
			limits(lim, sizeof(lim), g, pt->limits_w);
			fprintf(f, "    %-20s %12.4f %14.3f %10.1f%s%s\n", lim, pt->time_s, pt->energy_j,
			        pt->power_w, (int)i == g->ref ? "  max" : "", (int)i == g->best ? "  chosen" : "");
		}
	}
	if (g->best < 0 || g->ref < 0) {
		if (advice && !g->advice_from[0])
			fprintf(f, "    no saved profile for this command and GPU: run `sudo joulestream gpu "
			           "profile -- CMD` once for advice\n");
		return;
	}
	limits(best, sizeof(best), g, g->points[g->best].limits_w);
	const struct jst_gpu_point *b = &g->points[g->best], *r = &g->points[g->ref];
	double pct = r->energy_j > 0 ? 100 * (r->energy_j - b->energy_j) / r->energy_j : 0;
	double slow = r->time_s > 0 ? b->time_s / r->time_s : 1;
	if (advice)
		fprintf(f, "    best limit %s W: %.1f %% less energy per step at %.2fx the time; over this "
		           "run's %lu steps it would have saved %.0f J, %.3g gCO2e, %.3g L of water\n",
		        best, pct, slow, g->steps, g->saved_j, g->saved_co2e_g, g->saved_water_l);
	else
		fprintf(f, "    set %s W for %lu of %lu steps: %.1f %% less energy per step at %.2fx the "
		           "time; saved %.0f J, %.3g gCO2e, %.3g L of water against the maximum limit "
		           "(%+.1f s)%s\n",
		        best, g->steps_after, g->steps, pct, slow, g->saved_j, g->saved_co2e_g,
		        g->saved_water_l, g->extra_time_s, g->restored ? "; previous limit restored" : "");
}
