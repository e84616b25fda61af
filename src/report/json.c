/* The whole run record as one JSON object: metadata, the site and its sources, per-zone totals
 * and shares, the footprint, notes, and the timeline (per-point energies per zone). Keys use
 * the units of the event schema: energy_j, power_w, ci_g_per_kwh, water_l. */
#include <stdio.h>

#include "core/jsonw.h"
#include "joulestream/report.h"
#include "report/carbon_report.h"
#include "report/gpu_report.h"
#include "report/train_report.h"
#include "report/trust_report.h"

static void kv_str(FILE *f, const char *k, const char *v, int comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", k);
	jst__json_string(f, v);
}

static void kv_num(FILE *f, const char *k, double v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_number(f, v);
}

static void meta_json(FILE *f, const struct jst_run *run)
{
	const struct jst_meta *m = &run->meta;
	char t[40];
	fputs(",\"meta\":{", f);
	kv_str(f, "command", m->command, 0);
	kv_str(f, "cwd", m->cwd, 1);
	kv_str(f, "user", m->user, 1);
	kv_str(f, "host", m->host, 1);
	jst_format_utc(run->start_ns, t, sizeof(t));
	kv_str(f, "start", t, 1);
	jst_format_utc(run->end_ns, t, sizeof(t));
	kv_str(f, "end", run->finished ? t : "", 1);
	kv_str(f, "kernel", m->kernel, 1);
	kv_str(f, "cpu_model", m->cpu_model, 1);
	kv_num(f, "cpu_count", m->cpu_count);
	kv_num(f, "ram_gb", m->ram_gb);
	kv_str(f, "gpus", m->gpus, 1);
	kv_str(f, "gpu_driver", m->gpu_driver, 1);
	kv_str(f, "git_commit", m->git_commit, 1);
	fprintf(f, ",\"git_dirty\":%s", m->git_dirty < 0 ? "null" : m->git_dirty ? "true" : "false");
	kv_str(f, "container", m->container, 1);
	kv_str(f, "joulestream_version", m->version, 1);
	kv_str(f, "sensors", m->sensors, 1);
	kv_str(f, "project", m->project, 1);
	fputc('}', f);
}

static void site_json(FILE *f, const struct jst_run *run)
{
	fputs(",\"site\":{", f);
	kv_str(f, "zone", run->site.zone_code, 0);
	kv_str(f, "zone_name", run->site.zone_name, 1);
	kv_str(f, "zone_origin", jst__origin_words(run), 1);
	kv_str(f, "cloud", run->site.cloud, 1);
	kv_num(f, "ci_g_per_kwh", run->site.ci_g_per_kwh);
	kv_num(f, "ci_year", run->site.ci_year);
	kv_str(f, "ci_source", run->site.ci_source, 1);
	if (run->site.ewif_l_per_kwh >= 0)
		kv_num(f, "ewif_l_per_kwh", run->site.ewif_l_per_kwh);
	else
		fputs(",\"ewif_l_per_kwh\":null", f);
	kv_str(f, "ewif_source", run->site.ewif_source, 1);
	kv_num(f, "pue", run->site.pue);
	kv_str(f, "pue_source", run->site.pue_source, 1);
	kv_num(f, "wue_l_per_kwh", run->site.wue_l_per_kwh);
	kv_str(f, "wue_source", run->site.wue_source, 1);
	fputc('}', f);
}

static void zones_json(FILE *f, const struct jst_run *run)
{
	fputs(",\"zones\":[", f);
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		fputs(i ? ",{" : "{", f);
		kv_str(f, "name", z->zone.name, 0);
		kv_str(f, "label", z->zone.label, 1);
		kv_str(f, "uid", z->zone.uid, 1);
		kv_str(f, "kind", jst_zone_kind_name(z->zone.kind), 1);
		kv_str(f, "source", z->zone.source, 1);
		fprintf(f, ",\"estimate\":%s,\"counted\":%s", z->zone.flags & JST_ZONE_ESTIMATE ? "true" : "false",
		        z->zone.flags & JST_ZONE_COUNTED ? "true" : "false");
		kv_num(f, "energy_j", z->host_j);
		kv_num(f, "run_energy_j", z->run_j);
		kv_num(f, "idle_energy_j", z->idle_j);
		kv_num(f, "run_share", z->host_j > 0 ? z->run_j / z->host_j : 0);
		kv_num(f, "avg_power_w", run->duration_s > 0 ? z->host_j / run->duration_s : 0);
		kv_num(f, "peak_power_w", z->peak_w);
		kv_num(f, "samples", (double)z->samples);
		kv_num(f, "failed_samples", (double)z->failed);
		kv_num(f, "wraps", (double)z->wraps);
		kv_num(f, "backwards", (double)z->backwards);
		fprintf(f, ",\"vanished\":%s}", z->gone ? "true" : "false");
	}
	fputc(']', f);
}

static void totals_json(FILE *f, const struct jst_run *run)
{
	const struct jst_footprint *fp = &run->result.footprint;
	fprintf(f, ",\"totals\":{\"estimate\":%s", run->estimated ? "true" : "false");
	kv_num(f, "host_energy_j", run->host_j);
	kv_num(f, "energy_j", run->run_j);
	kv_num(f, "idle_energy_j", run->idle_j);
	kv_num(f, "cpu_time_s", run->cpu_s);
	kv_num(f, "it_kwh", fp->it_kwh);
	kv_num(f, "facility_kwh", fp->facility_kwh);
	kv_num(f, "co2e_g", fp->co2e_g);
	kv_num(f, "water_site_l", fp->water_site_l);
	kv_num(f, "water_grid_l", fp->water_grid_l);
	kv_num(f, "water_l", fp->water_l);
	fputc('}', f);
}

static void timeline_json(FILE *f, const struct jst_timeline *tl)
{
	fputs(",\"timeline\":{\"zones_order\":\"as in zones\",\"points\":[", f);
	size_t nz = tl->nzones;
	for (size_t p = 0; tl && p < tl->npoints; p++) {
		fputs(p ? ",{\"t_s\":" : "{\"t_s\":", f);
		jst__json_number(f, tl->t_s[p]);
		kv_num(f, "dt_s", tl->dt_s[p]);
		fputs(",\"energy_j\":[", f);
		for (size_t z = 0; z < nz; z++) {
			if (z)
				fputc(',', f);
			jst__json_number(f, tl->host_j[p * nz + z]);
		}
		fputs("],\"run_energy_j\":[", f);
		for (size_t z = 0; z < nz; z++) {
			if (z)
				fputc(',', f);
			jst__json_number(f, tl->run_j[p * nz + z]);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
}

int jst_report_json(FILE *f, const struct jst_run *run, const struct jst_timeline *tl)
{
	fputs("{\"schema\":\"joulestream.run/1\"", f);
	kv_str(f, "id", run->id, 1);
	kv_str(f, "status", run->finished ? "finished" : "running", 1);
	kv_num(f, "exit_code", run->exit_code);
	kv_num(f, "exit_signal", run->exit_signal);
	kv_num(f, "duration_s", run->duration_s);
	kv_num(f, "interval_s", run->interval_s);
	kv_num(f, "samples", (double)run->samples);
	kv_str(f, "scope", run->scope == JST_SCOPE_HOST ? "host" : "process", 1);
	meta_json(f, run);
	site_json(f, run);
	zones_json(f, run);
	totals_json(f, run);
	jst__report_carbon_json(f, run);
	jst__report_trust_json(f, run);
	fputs(",\"notes\":[", f);
	for (size_t i = 0; i < run->nnotes; i++) {
		if (i)
			fputc(',', f);
		jst__json_string(f, run->notes[i]);
	}
	fputc(']', f);
	jst__report_train_json(f, run);
	jst__report_gpu_json(f, run);
	if (tl)
		timeline_json(f, tl);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
