/* Integrity flags, idle floor and content hash in the text and JSON reports. A run with flags
 * says so before its notes, one line per flag with the reason; the floor separates the job's
 * dynamic energy from the machine's idle power when the host was calibrated. */
#include <stdio.h>

#include "core/jsonw.h"
#include "joulestream/report.h"
#include "joulestream/trust.h"
#include "report/trust_report.h"

void jst__report_trust_text(FILE *f, const struct jst_run *run)
{
	const struct jst_floor *fl = &run->floor;
	if (fl->known) {
		char d[32], y[32], t[40];
		jst_format_joules(fl->dynamic_j, d, sizeof(d));
		jst_format_joules(fl->floor_j, y, sizeof(y));
		jst_format_utc(fl->calibrated_ns, t, sizeof(t));
		fprintf(f,
			"  %-18s %14s   dynamic energy %s, idle floor %s (%.1f W, calibrated %s%s)%s\n",
			"host energy split", "", d, y, fl->idle_w, t,
			fl->after ? ", after the run" : "",
			fl->missing ? "; some counted zones not calibrated" : "");
		if (fl->below)
			fprintf(f, "  warning: the host used less than its calibrated idle floor: "
				   "recalibrate (joulestream calibrate)\n");
	}
	if (run->nflags)
		fprintf(f, "  integrity: %zu flag%s: these figures need care (docs/integrity.md)\n",
			run->nflags, run->nflags == 1 ? "" : "s");
	for (size_t i = 0; i < run->nflags; i++)
		fprintf(f, "  flag %s%s%s: %s\n", jst_flag_name(run->flags[i].kind),
			run->flags[i].zone[0] ? " " : "", run->flags[i].zone, run->flags[i].reason);
	if (run->prov.content_hash[0])
		fprintf(f, "  events sha256:%s (joulestream verify)\n", run->prov.content_hash);
}

static void num(FILE *f, const char *k, double v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_number(f, v);
}

void jst__report_trust_json(FILE *f, const struct jst_run *run)
{
	fprintf(f, ",\"integrity\":{\"flagged\":%s,\"flags\":[", run->nflags ? "true" : "false");
	for (size_t i = 0; i < run->nflags; i++) {
		const struct jst_run_flag *fl = &run->flags[i];
		fputs(i ? ",{\"kind\":" : "{\"kind\":", f);
		jst__json_string(f, jst_flag_name(fl->kind));
		fputs(",\"zone\":", f);
		jst__json_string(f, fl->zone);
		num(f, "count", (double)fl->count);
		num(f, "seconds", fl->seconds);
		num(f, "first_s", fl->first_s);
		num(f, "value", fl->value);
		num(f, "limit", fl->limit);
		fputs(",\"reason\":", f);
		jst__json_string(f, fl->reason);
		fputc('}', f);
	}
	fputs("],\"content_hash\":", f);
	if (run->prov.content_hash[0]) {
		fputs("\"sha256:", f);
		fputs(run->prov.content_hash, f);
		fputc('"', f);
	} else {
		fputs("null", f);
	}
	fputc('}', f);
	const struct jst_floor *fl = &run->floor;
	if (!fl->known) {
		fputs(",\"floor\":null", f);
		return;
	}
	char t[40];
	jst_format_utc(fl->calibrated_ns, t, sizeof(t));
	fputs(",\"floor\":{\"calibrated\":", f);
	jst__json_string(f, t);
	fprintf(f, ",\"calibrated_after_run\":%s", fl->after ? "true" : "false");
	num(f, "idle_power_w", fl->idle_w);
	num(f, "idle_floor_j", fl->floor_j);
	num(f, "dynamic_energy_j", fl->dynamic_j);
	num(f, "covered_energy_j", fl->covered_j);
	num(f, "zones", (double)fl->zones);
	num(f, "zones_not_calibrated", (double)fl->missing);
	fprintf(f, ",\"below_floor\":%s}", fl->below ? "true" : "false");
}
