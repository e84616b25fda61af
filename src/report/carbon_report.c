/* Provenance in the reports: each carbon figure says which intensity it used (the zone's
 * yearly average, or a series with its range), how the zone was chosen (and loudly when it was
 * guessed or unknown), why a requested live source was not used, which data version produced
 * it, and what every other data version kept for the run gave. */
#include <stdio.h>
#include <string.h>

#include "core/jsonw.h"
#include "joulestream/intensity.h"
#include "joulestream/report.h"
#include "report/carbon_report.h"

const char *jst__origin_words(const struct jst_run *run)
{
	switch (run->site.zone_origin) {
	case JST_ORIGIN_OPTION: return "option";
	case JST_ORIGIN_CLOUD: return "cloud region";
	case JST_ORIGIN_SITE: return "config site";
	case JST_ORIGIN_GUESSED: return "guessed from time zone";
	case JST_ORIGIN_SERIES: return "intensity series";
	default: return "unknown: world average used";
	}
}

void jst__report_location(const struct jst_run *run, char *out, size_t n)
{
	if (run->site.zone_origin == JST_ORIGIN_NONE)
		snprintf(out, n, "unknown (world average used)");
	else
		snprintf(out, n, "%s%s%s (%s)%s%s", run->site.cloud, run->site.cloud[0] ? ", " : "",
			 run->site.zone_name, run->site.zone_code,
			 run->site.zone_origin == JST_ORIGIN_GUESSED ? ", guessed from time zone " :
								       "",
			 run->site.zone_origin == JST_ORIGIN_GUESSED ? run->site.tz_guess : "");
}

void jst__report_carbon_text(FILE *f, const struct jst_run *run, const char *co2, const char *est)
{
	double it = run->result.footprint.it_kwh;
	if (run->result.ci_series[0] && !(it > 0)) { /* no energy: no value of the series was weighed */
		fprintf(f, "  %-18s %14s   %s %.0f gCO2e/kWh, %s (no energy measured, so no value of %s "
		        "was used)%s\n", "carbon", co2, run->site.zone_code, run->site.ci_g_per_kwh, run->site.ci_source,
		        run->result.ci_series, est);
	} else if (!run->result.ci_series[0]) {
		fprintf(f, "  %-18s %14s   %s %.0f gCO2e/kWh, %s%s\n", "carbon", co2, run->site.zone_code,
		        run->site.ci_g_per_kwh, run->site.ci_source, est);
	} else if (run->result.ci_min_g_per_kwh == run->result.ci_max_g_per_kwh) {
		fprintf(f, "  %-18s %14s   %s %.0f gCO2e/kWh: %s%s\n", "carbon", co2, run->site.zone_code,
		        run->result.ci_avg_g_per_kwh, run->result.ci_series, est);
	} else {
		fprintf(f, "  %-18s %14s   %s %.0f-%.0f gCO2e/kWh (average %.0f): %s%s\n", "carbon",
			co2, run->site.zone_code, run->result.ci_min_g_per_kwh,
			run->result.ci_max_g_per_kwh, run->result.ci_avg_g_per_kwh,
			run->result.ci_series, est);
	}
	if (run->result.ci_series[0] && run->result.outside_kwh > 0)
		fprintf(f,
			"  %-18s %14s   %.1f %% of the energy fell outside the series: yearly "
			"average %.0f gCO2e/kWh (%s) used for it\n",
			"", "", it > 0 ? 100 * run->result.outside_kwh / it : 100.0,
			run->site.ci_g_per_kwh, run->site.ci_source);
	if (run->site.zone_origin == JST_ORIGIN_NONE)
		fprintf(f, "  !! no zone given: the WORLD AVERAGE was used; pass --zone CODE or --cloud "
		           "PROVIDER:REGION for real figures\n");
	else if (run->site.zone_origin == JST_ORIGIN_GUESSED)
		fprintf(f,
			"  !! zone %s guessed from time zone %s; pass --zone CODE, --cloud or --site "
			"to make it a fact\n",
			run->site.zone_code, run->site.tz_guess);
	if (run->result.ci_fallback[0])
		fprintf(f, "  !! intensity series not used (%s): yearly average used\n",
			run->result.ci_fallback);
}

static void result_line(FILE *f, const struct jst_run *run, const struct jst_run_result *r)
{
	char t[40], g[32], l[32];
	jst_format_utc(r->computed_ns, t, sizeof(t));
	jst_format_grams(r->footprint.co2e_g, g, sizeof(g));
	jst_format_litres(r->footprint.water_l, l, sizeof(l));
	bool shown = strcmp(r->data_version, run->result.data_version) == 0 &&
		     strcmp(r->zone_code, run->site.zone_code) == 0;
	fprintf(f, "  %-18s %c %-9s %s  %s %10s  %9s  %s\n", "", shown ? '*' : ' ', r->kind, t,
	        r->zone_code, g, l, r->data_version);
}

void jst__report_sci_text(FILE *f, const struct jst_run *run)
{
	char v[32], op[32], emb[32];
	jst_format_grams(run->result.sci_g, v, sizeof(v));
	jst_format_grams(run->result.footprint.co2e_g, op, sizeof(op));
	jst_format_grams(run->result.embodied_g, emb, sizeof(emb));
	if (run->result.functional_units > 0) /* sci_g is per one unit: say so, and what it divides */
		fprintf(f, "  %-18s %14s   per 1 of %g %s: (operational %s + embodied %s) / %g\n", "SCI",
		        v, run->result.functional_units, run->result.functional_unit, op, emb, run->result.functional_units);
	else
		fprintf(f, "  %-18s %14s   per run: operational %s + embodied %s\n", "SCI", v, op, emb);
	fprintf(f, "  %-18s %14s   %s\n", "", "", run->result.embodied_source);
	fprintf(f, "  %-18s %14s   %s\n", "data version", "",
		run->result.data_version[0] ? run->result.data_version :
					      "bundled (stored before data versions)");
	if (run->prov.config_sha256[0]) { /* runs recorded before the digests have none */
		fprintf(f, "  %-18s %14.14s   %s\n", "configuration", run->prov.config_sha256,
			run->prov.config_parts);
		fprintf(f, "  %-18s %14.14s   %s\n", "data tables", run->prov.data_sha256,
			run->prov.data_tables);
	}
	if (run->nresults > 1) {
		fprintf(f, "  %-18s %s\n", "results kept", "(* = the figures above; show --data VERSION "
		        "for another)");
		for (size_t i = 0; i < run->nresults; i++)
			result_line(f, run, &run->results[i]);
	}
}

static void kv_str(FILE *f, const char *k, const char *v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_string(f, v);
}

static void kv_num(FILE *f, const char *k, double v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_number(f, v);
}

static void result_json(FILE *f, const struct jst_run_result *r, bool first)
{
	char t[40];
	jst_format_utc(r->computed_ns, t, sizeof(t));
	fputs(first ? "{\"data_version\":" : ",{\"data_version\":", f);
	jst__json_string(f, r->data_version);
	kv_str(f, "kind", r->kind);
	kv_str(f, "computed_at", t);
	kv_str(f, "zone", r->zone_code);
	kv_str(f, "ci_source", r->ci_source);
	kv_num(f, "ci_avg_g_per_kwh", r->ci_avg_g_per_kwh);
	kv_num(f, "outside_series_kwh", r->outside_kwh);
	kv_num(f, "it_kwh", r->footprint.it_kwh);
	kv_num(f, "facility_kwh", r->footprint.facility_kwh);
	kv_num(f, "co2e_g", r->footprint.co2e_g);
	kv_num(f, "water_l", r->footprint.water_l);
	kv_num(f, "embodied_g", r->embodied_g);
	kv_num(f, "sci_g", r->sci_g);
	fputc('}', f);
}

void jst__report_carbon_json(FILE *f, const struct jst_run *run)
{
	fputs(",\"carbon\":{\"data_version\":", f);
	jst__json_string(f, run->result.data_version);
	kv_str(f, "intensity", run->result.ci_series[0] ? "series" : "yearly average");
	kv_str(f, "series", run->result.ci_series);
	kv_num(f, "ci_avg_g_per_kwh", run->result.ci_avg_g_per_kwh);
	kv_num(f, "ci_min_g_per_kwh", run->result.ci_min_g_per_kwh);
	kv_num(f, "ci_max_g_per_kwh", run->result.ci_max_g_per_kwh);
	kv_num(f, "outside_series_kwh", run->result.outside_kwh);
	kv_str(f, "fallback", run->result.ci_fallback);
	kv_str(f, "tz_guess", run->site.tz_guess);
	kv_str(f, "site", run->site.name);
	fputs("},\"provenance\":{\"config_sha256\":", f);
	jst__json_string(f, run->prov.config_sha256);
	kv_str(f, "config_parts", run->prov.config_parts);
	kv_str(f, "data_sha256", run->prov.data_sha256);
	kv_str(f, "data_tables", run->prov.data_tables);
	fputs("},\"sci\":{\"sci_g_per_unit\":", f);
	jst__json_number(f, run->result.sci_g);
	kv_num(f, "functional_units",
	       run->result.functional_units > 0 ? run->result.functional_units : 1);
	kv_str(f, "functional_unit",
	       run->result.functional_unit[0] ? run->result.functional_unit : "run");
	kv_num(f, "operational_g", run->result.footprint.co2e_g);
	kv_num(f, "embodied_g", run->result.embodied_g);
	kv_str(f, "embodied_source", run->result.embodied_source);
	fputs("},\"results\":[", f);
	for (size_t i = 0; i < run->nresults; i++)
		result_json(f, &run->results[i], i == 0);
	fputc(']', f);
}
