/* The text summary `joulestream run` prints on stderr at exit and `joulestream show` prints
 * again: one line per zone with its energy, power and the run's share, then IT and facility
 * energy, carbon and water with their sources, where the run is stored, and every problem met.
 * Estimated figures say `estimate`; a run without a zone says loudly that the world average
 * was used. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "joulestream/report.h"
#include "report/carbon_report.h"
#include "report/gpu_report.h"
#include "report/train_report.h"
#include "report/trust_report.h"

static const char *zone_part(const struct jst_zone_total *z)
{
	if (z->zone.flags & JST_ZONE_COUNTED)
		return "";
	switch (z->zone.kind) {
	case JST_KIND_CORE:
	case JST_KIND_UNCORE:
		return "  (inside the package, not added)";
	case JST_KIND_PSYS:
		return "  (whole platform, not added)";
	default:
		return "  (not added)";
	}
}

static void zone_lines(FILE *f, const struct jst_run *run)
{
	fprintf(f, "  %-16s %-9s %10s %9s %9s  %s\n", "zone", "source", "energy", "avg W", "peak W",
	        "run share");
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		char name[JST_NAME_MAX * 2 + 2], e[32], share[16];
		if (z->zone.kind == JST_KIND_GPU && z->zone.label[0])
			snprintf(name, sizeof(name), "%s %s", z->zone.name, z->zone.label);
		else
			snprintf(name, sizeof(name), "%s", z->zone.name);
		if (strlen(name) > 24)
			name[24] = '\0';
		jst_format_joules(z->host_j, e, sizeof(e));
		double avg = run->duration_s > 0 ? z->host_j / run->duration_s : 0;
		if (z->host_j > 0)
			snprintf(share, sizeof(share), "%3.0f %%", 100.0 * z->run_j / z->host_j);
		else
			snprintf(share, sizeof(share), "  - ");
		fprintf(f, "  %-16s %-9s %10s %9.1f %9.1f  %s%s%s\n", name,
		        z->zone.source ? z->zone.source : "?", e, avg, z->peak_w, share, zone_part(z),
		        z->gone ? "  (vanished)" : z->samples == 0 ? "  (no valid reading)" : "");
	}
}

static void footprint_lines(FILE *f, const struct jst_run *run)
{
	const struct jst_footprint *fp = &run->result.footprint;
	const char *est = run->estimated ? "  [estimate]" : "";
	bool dflt = strcmp(run->site.pue_source, "default") == 0;
	char v[32], b[32], c[32];
	jst_format_kwh(fp->it_kwh, v, sizeof(v));
	jst_format_kwh(run->host_j / 3.6e6, b, sizeof(b));
	jst_format_joules(run->idle_j, c, sizeof(c));
	fprintf(f, "  %-18s %14s   host %s; idle %s not charged%s\n", "IT energy (run)", v, b, c, est);
	jst_format_kwh(fp->facility_kwh, v, sizeof(v));
	fprintf(f, "  %-18s %14s   PUE %.2f (%s)%s\n", "facility energy", v, run->site.pue,
		dflt ? "default: industry average, Uptime Institute 2024; pass --pue" :
		       run->site.pue_source,
		est);
	jst_format_grams(fp->co2e_g, v, sizeof(v));
	jst__report_carbon_text(f, run, v, est); /* the intensity used, guessed zones, fallbacks */
	jst_format_litres(fp->water_l, v, sizeof(v));
	const char *wsrc = strcmp(run->site.wue_source, "default") == 0 ?
				   " (default: industry average; pass --wue)" :
				   "";
	if (run->site.ewif_l_per_kwh >= 0)
		fprintf(f, "  %-18s %14s   WUE %.2g L/kWh on site%s + grid %.2g L/kWh%s\n", "water",
			v, run->site.wue_l_per_kwh, wsrc, run->site.ewif_l_per_kwh, est);
	else
		fprintf(f, "  %-18s %14s   WUE %.2g L/kWh on site%s; grid water unknown for %s%s\n",
			"water", v, run->site.wue_l_per_kwh, wsrc, run->site.zone_code, est);
	jst__report_sci_text(f, run);
}

int jst_report_text(FILE *f, const struct jst_run *run, const char *stored)
{
	char dur[32], interval[32];
	jst_format_duration(run->duration_s, dur, sizeof(dur));
	if (run->interval_s >= 1)
		snprintf(interval, sizeof(interval), "%g s", run->interval_s);
	else
		snprintf(interval, sizeof(interval), "%g ms", run->interval_s * 1000);
	fprintf(f, "joulestream: run %s \"%s\" ", run->id, run->meta.command);
	if (!run->finished)
		fprintf(f, "still running or interrupted");
	else if (run->exit_signal)
		fprintf(f, "killed by signal %d (exit %d)", run->exit_signal, run->exit_code);
	else
		fprintf(f, "exit %d", run->exit_code);
	fprintf(f, " after %s (interval %s, %lu samples%s)\n", dur, interval, run->samples,
	        run->scope == JST_SCOPE_HOST ? ", whole host charged" : "");
	zone_lines(f, run);
	footprint_lines(f, run);
	if (run->estimated)
		fprintf(f, "  estimate: no sensor measures some counted zones on this machine (sensors: %s); "
		           "figures marked estimate are modelled, see 'joulestream sensors'\n",
		        run->meta.sensors[0] ? run->meta.sensors : "none");
	jst__report_train_text(f, run);
	jst__report_gpu_text(f, run);
	jst__report_trust_text(f, run); /* idle floor, integrity flags, record hash */
	for (size_t i = 0; i < run->nnotes; i++)
		fprintf(f, "  note: %s\n", run->notes[i]);
	if (stored && *stored)
		fprintf(f, "  stored as run %s in %s\n", run->id, stored);
	return ferror(f) ? -1 : 0;
}
