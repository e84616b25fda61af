/* The carbon side of `joulestream run`: before the command starts, the configuration, the
 * run's zone (options, site, time-zone guess), an --intensity file loaded and checked whole
 * (a bad line stops the run before the command starts), and SCI settings; after it ends, a
 * live source fetched for the run's time range (never while the command runs) and the run's
 * carbon and water integrated again from its stored samples with that series. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "core/util.h"
#include "joulestream/run.h"

/* The file names one zone and the run has none: take the file's zone. */
static int adopt_zone(struct run_carbon *rc, struct jst_run *run, const char *path)
{
	const struct jst_series *s = jst_ci_count(rc->file) == 1 ? jst_ci_at(rc->file, 0) : NULL;
	char msg[256], pue_src[sizeof(run->site.pue_source)], wue_src[sizeof(run->site.wue_source)];
	if (!s || !s->zone[0] || !jst_grid_zone_find(s->zone)) {
		fprintf(stderr,
			"joulestream run: %s has no values for zone %s; pass --zone with one of "
			"its zones\n",
			path, run->site.zone_code);
		return 2;
	}
	memcpy(pue_src, run->site.pue_source, sizeof(pue_src));
	memcpy(wue_src, run->site.wue_source, sizeof(wue_src));
	if (jst_run_set_site(run, s->zone, run->site.cloud[0] ? run->site.cloud : NULL,
			     run->site.pue, run->site.wue_l_per_kwh, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "joulestream run: %s\n", msg);
		return 2;
	}
	memcpy(run->site.pue_source, pue_src, sizeof(pue_src));
	memcpy(run->site.wue_source, wue_src, sizeof(wue_src));
	run->site.zone_origin = JST_ORIGIN_SERIES;
	run->site.tz_guess[0] = '\0';
	rc->series = s;
	return 0;
}

static int load_series(struct run_carbon *rc, const char *path, struct jst_run *run)
{
	char err[600];
	if (jst_ci_load(path, &rc->file, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream run: %s\n", err);
		return 2;
	}
	rc->series = jst_ci_select(rc->file, run->site.zone_code);
	if (rc->series)
		return 0;
	if (run->site.zone_origin == JST_ORIGIN_NONE || run->site.zone_origin == JST_ORIGIN_GUESSED)
		return adopt_zone(rc, run, path);
	char zones[200] = "";
	size_t off = 0;
	for (size_t i = 0; i < jst_ci_count(rc->file) && off < sizeof(zones); i++) {
		int w = snprintf(zones + off, sizeof(zones) - off, "%s%s", i ? ", " : "", jst_ci_at(rc->file, i)->zone);
		off += w > 0 ? (size_t)w : 0;
	}
	fprintf(stderr, "joulestream run: %s has no values for zone %s (its zones: %s)\n", path,
		run->site.zone_code, zones);
	return 2;
}

int run_carbon_prepare(struct run_carbon *rc, const struct run_carbon_opts *o, const char *zone,
                       const char *cloud, double pue, double wue, struct jst_run *run)
{
	char msg[512];
	memset(rc, 0, sizeof(*rc));
	int r = cli_load_config(o->config, &rc->cfg, "run");
	if (r)
		return r;
	struct jst_site_opts so = {zone, cloud, o->site, pue, wue, &rc->cfg, false, NULL};
	run->site.embodied_kg_opt = o->embodied_kg;
	run->site.lifetime_years_opt = o->lifetime_years;
	if (jst_run_resolve_site(run, &so, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "joulestream run: %s\n", msg);
		return 2;
	}
	run->result.functional_units = o->functional_units;
	jst__strlcpy(run->result.functional_unit, o->functional_unit,
		     sizeof(run->result.functional_unit));
	if (o->intensity && cli_live_spec(o->intensity, rc->provider, sizeof(rc->provider), rc->region,
	                                  sizeof(rc->region))) {
		rc->live = true;
	} else if (o->intensity) {
		if ((r = load_series(rc, o->intensity, run)) != 0)
			return r;
	} else if (o->live || (rc->cfg.live[0] && strcmp(rc->cfg.live, "off") != 0)) {
		rc->live = true;
	}
	if (rc->live && strcmp(rc->provider, "") != 0 && strcmp(rc->provider, "electricitymaps") != 0 &&
	    strcmp(rc->provider, "watttime") != 0) {
		fprintf(stderr, "joulestream run: unknown live source '%s' (live:electricitymaps or "
		        "live:watttime[:REGION])\n", rc->provider);
		return 2;
	}
	return 0;
}

void run_carbon_start(struct run_carbon *rc, struct jst_monitor *mon)
{
	if (rc->series && mon)
		jst_monitor_set_series(mon, rc->series);
}

void run_carbon_finish(struct run_carbon *rc, struct jst_run *run, struct jst_store *store,
                       const struct jst_timeline *tl)
{
	struct jst_ci_file *f = NULL;
	char why[400];
	if (!rc->live)
		return;
	if (cli_fetch_live(&rc->cfg, rc->provider, rc->region, run, &f, why, sizeof(why)) < 0) {
		jst__strlcpy(run->result.ci_fallback, why, sizeof(run->result.ci_fallback));
		return;
	}
	const struct jst_series *s = jst_ci_select(f, run->site.zone_code);
	if (!s) {
		snprintf(run->result.ci_fallback, sizeof(run->result.ci_fallback),
			 "%s: the answer has no values for "
			 "zone %s",
			 jst_ci_version(f), run->site.zone_code);
		jst_ci_free(f);
		return;
	}
	struct jst_carbon_acc acc;
	jst_carbon_acc_for_site(&acc, &run->site, s);
	if (!store || jst_store_replay(store, run, &acc) < 0) {
		jst_carbon_acc_for_site(&acc, &run->site, s); /* not stored: the bounded timeline */
		if (tl)
			jst_carbon_acc_timeline(&acc, run, tl);
		jst_run_note(run, "live intensity applied to the in-memory timeline (run not stored): "
		             "intervals merged when the run was long");
	}
	jst_carbon_acc_result(&acc, &run->result);
	jst_run_sci(run, &run->result);
	rc->file = f; /* kept: its values go into the run's log before run_end */
	rc->series = s;
}

void run_carbon_release(struct run_carbon *rc)
{
	jst_ci_free(rc->file);
	rc->file = NULL;
	rc->series = NULL;
}
