/* The configured sites in GET /api/v1/zones (api_dash.c), apart because sched.h and ingest.h
 * both define struct jst_window: each site with the figures of `joulestream sites rank`. */
#include <stdio.h>

#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/carbon.h"
#include "joulestream/config.h"
#include "joulestream/sched.h"
#include "server/sites_json.h"

/* ,"key":v for a figure that may be unknown (negative: no WUE or EWIF for it). */
static void key_num_or_null(struct jst_jbuf *b, const char *key, double v)
{
	jst__jbuf_key(b, key);
	if (v >= 0)
		jst__jbuf_jnum(b, v);
	else
		jst__jbuf_str(b, "null");
}

static void key_str(struct jst_jbuf *b, const char *key, const char *v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jstr(b, v);
}

/* One configured site with the figures `joulestream sites rank` uses (the zone's yearly
 * intensity, the site's PUE and WUE or its cloud region's, the zone's EWIF), or its error: a
 * site with an unknown zone is still listed, so the page says what to fix. */
static void site_json(struct jst_jbuf *b, const struct jst_site_cfg *cfg, const char *path)
{
	struct jst_sched_site st;
	char err[256] = "";
	int r = jst_sched_site_init(&st, cfg, path, 0, err, sizeof(err));
	const struct jst_grid_zone *z = r == 0 ? jst_grid_zone_find(st.zone) : NULL;
	jst__jbuf_put(b, "{", 1);
	key_str(b, "name", cfg->name);
	if (!z) {
		key_str(b, "zone", cfg->zone);
		key_str(b, "cloud", cfg->cloud);
		key_str(b, "error", err);
		jst__jbuf_put(b, "}", 1);
		return;
	}
	key_str(b, "zone", st.zone);
	key_str(b, "zone_name", st.zone_name);
	key_str(b, "cloud", st.cloud);
	jst__jbuf_key(b, "ci_g_per_kwh");
	jst__jbuf_jnum(b, st.ci);
	jst__jbuf_key(b, "year");
	jst__jbuf_jnum(b, z->year);
	key_str(b, "ci_source", st.ci_source);
	jst__jbuf_key(b, "pue");
	jst__jbuf_jnum(b, st.pue);
	key_str(b, "pue_source", st.pue_source);
	key_num_or_null(b, "wue_l_per_kwh", st.wue);
	key_str(b, "wue_source", st.wue_source);
	key_num_or_null(b, "ewif_l_per_kwh", st.ewif);
	jst__jbuf_put(b, "}", 1);
}

/* ,"config":PATH,"sites":[…]: the configuration serve was started with ("" and [] without). */
void jst__sites_json(struct jst_jbuf *b, const struct jst_config *c)
{
	const char *path = c ? c->path : "";
	jst__jbuf_str(b, ",\"config\":");
	jst__jbuf_jstr(b, path);
	jst__jbuf_str(b, ",\"sites\":[");
	for (size_t i = 0; c && i < c->nsites; i++) {
		if (i)
			jst__jbuf_put(b, ",", 1);
		site_json(b, &c->sites[i], path);
	}
	jst__jbuf_put(b, "]", 1);
}
