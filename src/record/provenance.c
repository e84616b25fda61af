/* The digests of what shaped a run's figures besides its samples (record.h jst_run_digests):
 * its configuration written as one canonical text of three parts, and the bundled data tables
 * it used. The text is built here, line by line in a fixed order with numbers at full
 * precision, so the same configuration always gives the same digest and a changed site, sensor
 * selection or zone mapping gives another. Pure: no I/O. */
#include <stdio.h>
#include <string.h>

#include "core/jbuf.h"
#include "core/sha256.h"
#include "core/util.h"
#include "joulestream/record.h"

#define PART_MAX 16384 /* 32 sites or 32 sensor zones of a few hundred bytes each */

static void line(struct jst_jbuf *b, const char *key, const char *v)
{
	jst__jbuf_printf(b, "%s=%s\n", key, v ? v : "");
}

static void number(struct jst_jbuf *b, const char *key, double v)
{
	if (v < 0)
		jst__jbuf_printf(b, "%s=\n", key); /* unset */
	else
		jst__jbuf_printf(b, "%s=%.17g\n", key, v);
}

/* The file's sites and defaults; not its credentials, URLs or timeouts (they do not change a
 * figure). */
static void sites_part(struct jst_jbuf *b, const struct jst_config *cfg)
{
	if (!cfg || !cfg->path[0]) {
		line(b, "file", "none");
		return;
	}
	line(b, "default_site", cfg->default_site);
	line(b, "live", cfg->live);
	for (size_t i = 0; i < cfg->nsites; i++) {
		const struct jst_site_cfg *s = &cfg->sites[i];
		line(b, "site", s->name);
		line(b, " zone", s->zone);
		line(b, " cloud", s->cloud);
		number(b, " pue", s->pue);
		number(b, " wue", s->wue);
		number(b, " embodied_kg", s->embodied_kg);
		number(b, " lifetime_years", s->lifetime_years);
	}
}

static void site_part(struct jst_jbuf *b, const struct jst_run *run, const struct jst_config_in *in)
{
	line(b, "opt_zone", in->zone);
	line(b, "opt_cloud", in->cloud);
	line(b, "opt_site", in->site);
	number(b, "opt_pue", in->pue);
	number(b, "opt_wue", in->wue);
	line(b, "intensity", in->intensity ? in->intensity : "yearly");
	line(b, "zone", run->site.zone_code);
	line(b, "zone_origin", jst_zone_origin_name(run->site.zone_origin));
	line(b, "cloud", run->site.cloud);
	line(b, "site", run->site.name);
	number(b, "pue", run->site.pue);
	number(b, "wue", run->site.wue_l_per_kwh);
	number(b, "embodied_kg", run->site.embodied_kg_opt);
	number(b, "lifetime_years", run->site.lifetime_years_opt);
}

/* The sensor selection and the zone mapping: which zones the run has and which of them add up
 * to its energy. */
static void sensors_part(struct jst_jbuf *b, const struct jst_run *run,
			 const struct jst_config_in *in)
{
	line(b, "sensors", in->sensors ? in->sensors : "all");
	line(b, "estimate", in->no_estimate ? "off" : "on");
	line(b, "scope", run->scope == JST_SCOPE_HOST ? "host" : "process");
	number(b, "interval_s", run->interval_s);
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone *z = &run->zones[i].zone;
		jst__jbuf_printf(b, "zone=%s|%s|%s|%s|%s|%s|%s\n", z->name, z->label, z->uid,
				 jst_zone_kind_name(z->kind), z->source ? z->source : "",
				 (z->flags & JST_ZONE_ESTIMATE) ? "estimate" : "measured",
				 (z->flags & JST_ZONE_COUNTED) ? "counted" : "part");
	}
}

/* The digest of one part into hex (65 bytes); the part's text is appended to all. */
static void part(struct jst_jbuf *all, const char *name, char *hex,
		 void (*fill)(struct jst_jbuf *, const void *), const void *arg)
{
	char buf[PART_MAX];
	struct jst_jbuf b;
	uint8_t d[32];
	jst__jbuf_fixed(&b, buf, sizeof(buf));
	fill(&b, arg);
	jst__sha256(buf, b.len, d);
	jst__hex(d, sizeof(d), hex);
	jst__jbuf_printf(all, "[%s %s]\n", name, hex);
}

struct args {
	const struct jst_run *run;
	const struct jst_config_in *in;
};

static void fill_sites(struct jst_jbuf *b, const void *a)
{
	sites_part(b, ((const struct args *)a)->in->cfg);
}

static void fill_site(struct jst_jbuf *b, const void *a)
{
	const struct args *x = a;
	site_part(b, x->run, x->in);
}

static void fill_sensors(struct jst_jbuf *b, const void *a)
{
	const struct args *x = a;
	sensors_part(b, x->run, x->in);
}

static bool uses_estimate(const struct jst_run *run)
{
	for (size_t i = 0; i < run->nzones; i++)
		if (run->zones[i].zone.flags & JST_ZONE_ESTIMATE)
			return true;
	return false;
}

/* The tables, by name in a fixed order, and their digests: "name hex\n" each. */
static void data_digests(struct jst_run *run)
{
	const char *names[7];
	size_t n = 0;
	if (run->site.cloud[0])
		names[n++] = "cloud_regions";
	if (uses_estimate(run))
		names[n++] = "cpu_tdp";
	names[n++] = "embodied";
	names[n++] = "generation_mix";
	names[n++] = "grid_intensity";
	if (strncmp(run->site.zone_code, "US-", 3) == 0)
		names[n++] = "us_states";
	names[n++] = "water_factors";
	char text[7 * 96];
	struct jst_jbuf b, parts;
	uint8_t d[32];
	jst__jbuf_fixed(&b, text, sizeof(text));
	jst__jbuf_fixed(&parts, run->prov.data_tables, sizeof(run->prov.data_tables));
	for (size_t i = 0; i < n; i++) {
		const char *hex = jst_data_sha256(names[i]);
		jst__jbuf_printf(&b, "%s %s\n", names[i], hex ? hex : "");
		jst__jbuf_printf(&parts, "%s%s=%.12s", i ? " " : "", names[i], hex ? hex : "");
	}
	jst__sha256(text, b.len, d);
	jst__hex(d, sizeof(d), run->prov.data_sha256);
}

void jst_run_digests(struct jst_run *run, const struct jst_config_in *in)
{
	static const struct jst_config_in none = {NULL, NULL, NULL,  NULL, -1,
						  -1,   NULL, false, NULL};
	struct args a = {run, in ? in : &none};
	char all_text[256], hex[3][65];
	struct jst_jbuf all;
	uint8_t d[32];
	jst__jbuf_fixed(&all, all_text, sizeof(all_text));
	part(&all, "sites", hex[0], fill_sites, &a);
	part(&all, "site", hex[1], fill_site, &a);
	part(&all, "sensors", hex[2], fill_sensors, &a);
	jst__sha256(all_text, all.len, d);
	jst__hex(d, sizeof(d), run->prov.config_sha256);
	snprintf(run->prov.config_parts, sizeof(run->prov.config_parts),
		 "sites=%.12s site=%.12s sensors=%.12s", hex[0], hex[1], hex[2]);
	data_digests(run);
}
