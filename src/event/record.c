/* The record fields of run_start and run_end (record.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/record.h"
#include "event/record.h"
#include "joulestream/train.h"

#define F(name, type, field) {name, type, offsetof(struct jst_run, field), sizeof(((struct jst_run *)0)->field)}

const struct jst__rec_field jst__rec_start[] = {
	F("command_line", JST_REC_TEXT, meta.command),
	F("zone_name", JST_REC_TEXT, site.zone_name),
	F("cloud", JST_REC_TEXT, site.cloud),
	F("site", JST_REC_TEXT, site.name),
	F("tz_guess", JST_REC_TEXT, site.tz_guess),
	F("ci_g_per_kwh", JST_REC_DOUBLE, site.ci_g_per_kwh),
	F("ci_year", JST_REC_INT, site.ci_year),
	F("ci_source", JST_REC_TEXT, site.ci_source),
	F("ewif_l_per_kwh", JST_REC_DOUBLE, site.ewif_l_per_kwh),
	F("ewif_source", JST_REC_TEXT, site.ewif_source),
	F("pue_source", JST_REC_TEXT, site.pue_source),
	F("wue_source", JST_REC_TEXT, site.wue_source),
	F("embodied_kg_opt", JST_REC_DOUBLE, site.embodied_kg_opt),
	F("lifetime_years_opt", JST_REC_DOUBLE, site.lifetime_years_opt),
	F("functional_units", JST_REC_DOUBLE, result.functional_units),
	F("functional_unit", JST_REC_TEXT, result.functional_unit),
	F("config_sha256", JST_REC_TEXT, prov.config_sha256),
	F("config_parts", JST_REC_TEXT, prov.config_parts),
	F("data_sha256", JST_REC_TEXT, prov.data_sha256),
	F("data_tables", JST_REC_TEXT, prov.data_tables),
};
const size_t jst__rec_nstart = JST_ARRAY_LEN(jst__rec_start);

const struct jst__rec_field jst__rec_end[] = {
	F("cpu_s", JST_REC_DOUBLE, cpu_s),
	F("git_commit", JST_REC_TEXT, meta.git_commit),
	F("git_dirty", JST_REC_INT, meta.git_dirty),
	F("gpus", JST_REC_TEXT, meta.gpus),
	F("project", JST_REC_TEXT, meta.project), /* a mark may set it while the run goes on */
	F("zone_origin", JST_REC_ORIGIN,
	  site.zone_origin), /* "series" once a series named the zone */
	F("zone_code", JST_REC_TEXT, site.zone_code),
	F("ci_g_per_kwh", JST_REC_DOUBLE, site.ci_g_per_kwh),
	F("ci_year", JST_REC_INT, site.ci_year),
	F("ci_source", JST_REC_TEXT, site.ci_source),
	F("ewif_l_per_kwh", JST_REC_DOUBLE, site.ewif_l_per_kwh),
	F("ewif_source", JST_REC_TEXT, site.ewif_source),
	F("data_version", JST_REC_TEXT, result.data_version),
	F("ci_series", JST_REC_TEXT, result.ci_series),
	F("ci_avg_g_per_kwh", JST_REC_DOUBLE, result.ci_avg_g_per_kwh),
	F("ci_min_g_per_kwh", JST_REC_DOUBLE, result.ci_min_g_per_kwh),
	F("ci_max_g_per_kwh", JST_REC_DOUBLE, result.ci_max_g_per_kwh),
	F("series_outside_kwh", JST_REC_DOUBLE, result.outside_kwh),
	F("ci_fallback", JST_REC_TEXT, result.ci_fallback),
	F("host_j", JST_REC_DOUBLE, host_j),
	F("run_j", JST_REC_DOUBLE, run_j),
	F("idle_j", JST_REC_DOUBLE, idle_j),
	F("it_kwh", JST_REC_DOUBLE, result.footprint.it_kwh),
	F("facility_kwh", JST_REC_DOUBLE, result.footprint.facility_kwh),
	F("co2e_g", JST_REC_DOUBLE, result.footprint.co2e_g),
	F("water_site_l", JST_REC_DOUBLE, result.footprint.water_site_l),
	F("water_grid_l", JST_REC_DOUBLE, result.footprint.water_grid_l),
	F("water_l", JST_REC_DOUBLE, result.footprint.water_l),
	F("embodied_g", JST_REC_DOUBLE, result.embodied_g),
	F("embodied_source", JST_REC_TEXT, result.embodied_source),
	F("functional_units", JST_REC_DOUBLE, result.functional_units),
	F("functional_unit", JST_REC_TEXT, result.functional_unit),
	F("sci_g", JST_REC_DOUBLE, result.sci_g),
};
const size_t jst__rec_nend = JST_ARRAY_LEN(jst__rec_end);

void jst__rec_write(struct jst_jbuf *b, const struct jst_run *run, const struct jst__rec_field *f, size_t n)
{
	jst__jbuf_key(b, "record");
	jst__jbuf_put(b, "{", 1);
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)run + f[i].off;
		jst__jbuf_key(b, f[i].name);
		switch (f[i].type) {
		case JST_REC_TEXT: jst__jbuf_jstr(b, p); break;
		case JST_REC_DOUBLE: jst__jbuf_jnum(b, *(const double *)(const void *)p); break;
		case JST_REC_INT: jst__jbuf_i64(b, *(const int *)(const void *)p); break;
		case JST_REC_BOOL: jst__jbuf_str(b, *(const bool *)(const void *)p ? "true" : "false"); break;
		case JST_REC_ORIGIN:
			jst__jbuf_jstr(b, jst_zone_origin_name(*(const enum jst_zone_origin *)(const void *)p));
			break;
		}
	}
	jst__jbuf_put(b, "}", 1);
}

void jst__rec_write_end_extra(struct jst_jbuf *b, const struct jst_run *run)
{
	/* per zone: reads that gave nothing, counter steps back with no known range, vanished */
	const char *keys[] = {"zone_failed", "zone_backwards", "zone_gone"};
	for (size_t k = 0; k < 3; k++) {
		jst__jbuf_key(b, keys[k]);
		jst__jbuf_put(b, "[", 1);
		for (size_t i = 0; i < run->nzones; i++) {
			const struct jst_zone_total *z = &run->zones[i];
			unsigned long v = k == 0 ? z->failed : k == 1 ? z->backwards : (unsigned long)z->gone;
			jst__jbuf_printf(b, "%s%lu", i ? "," : "", v);
		}
		jst__jbuf_put(b, "]", 1);
	}
	if (run->train && run->train->bad_marks) { /* refused marks are not in the log */
		jst__jbuf_printf(b, ",\"bad_marks\":%lu", run->train->bad_marks);
		jst__jbuf_key(b, "bad_mark_example");
		jst__jbuf_jstr(b, run->train->bad_example);
	}
	jst__jbuf_key(b, "flags");
	jst__jbuf_put(b, "[", 1);
	for (size_t i = 0; i < run->nflags; i++) {
		const struct jst_run_flag *fl = &run->flags[i];
		jst__jbuf_put(b, "{", 1);
		jst__jbuf_key(b, "kind");
		jst__jbuf_jstr(b, jst_flag_name(fl->kind));
		jst__jbuf_key(b, "zone");
		jst__jbuf_jstr(b, fl->zone);
		jst__jbuf_printf(b, ",\"count\":%lu", fl->count);
		const char *k[] = {"seconds", "first_s", "value", "limit"};
		const double v[] = {fl->seconds, fl->first_s, fl->value, fl->limit};
		for (size_t j = 0; j < 4; j++) {
			jst__jbuf_key(b, k[j]);
			jst__jbuf_jnum(b, v[j]);
		}
		jst__jbuf_key(b, "reason");
		jst__jbuf_jstr(b, fl->reason);
		jst__jbuf_put(b, i + 1 < run->nflags ? "}," : "}", i + 1 < run->nflags ? 2 : 1);
	}
	jst__jbuf_put(b, "]", 1);
}
