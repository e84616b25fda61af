/* Choosing where a run draws its electricity from, in this order: --zone, --cloud, a site of
 * the configuration file (--site NAME, or [default] site when no option places the run), a
 * guess from the system time zone, and only then the world average. Every step is recorded in
 * the run's zone_origin, so reports can say "guessed from time zone Europe/Berlin" or "world
 * average used"; there is never a silent default to some country (CodeCarbon issue #854). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/record.h"

const char *jst_zone_origin_name(enum jst_zone_origin o)
{
	static const char *const names[] = {"none", "option", "cloud", "site", "guessed", "series"};
	return (unsigned)o < JST_ARRAY_LEN(names) ? names[o] : "none";
}

static int unknown_site(const struct jst_site_opts *o, const char *name, char *msg, size_t msglen)
{
	const struct jst_config *c = o->cfg;
	if (!c || !c->path[0]) {
		snprintf(msg, msglen, "--site %s: no configuration file (write [site %s] into "
		         "~/.config/joulestream/config or pass --config FILE)", name, name);
		return -ENOENT;
	}
	char list[256] = "";
	size_t off = 0;
	for (size_t i = 0; i < c->nsites && off < sizeof(list); i++) {
		int w = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", c->sites[i].name);
		off += w > 0 ? (size_t)w : 0;
	}
	snprintf(msg, msglen, "unknown site '%s' in %s (its sites: %s)", name, c->path,
	         c->nsites ? list : "none");
	return -ENOENT;
}

static void site_sources(struct jst_run *run, const struct jst_site_cfg *s, const struct jst_site_opts *o,
                         const char *path)
{
	char head[96];
	snprintf(head, sizeof(head), "site %s (", s->name); /* a site's name is < 64 bytes */
	if (o->pue < 0 && s->pue >= 0) /* a path too long is kept by its end, marked "..." */
		jst__fit_text(run->site.pue_source, sizeof(run->site.pue_source), head, path, ")");
	if (o->wue < 0 && s->wue >= 0)
		jst__fit_text(run->site.wue_source, sizeof(run->site.wue_source), head, path, ")");
	if (s->embodied_kg >= 0 && run->site.embodied_kg_opt <= 0)
		run->site.embodied_kg_opt = s->embodied_kg;
	if (s->lifetime_years > 0 && run->site.lifetime_years_opt <= 0)
		run->site.lifetime_years_opt = s->lifetime_years;
}

/* The zone from the time zone, when nothing else placed the run. */
static void guess(struct jst_run *run, const struct jst_site_opts *o, double pue, double wue)
{
	char tz[64], cc[8], msg[160];
	char pue_src[sizeof(run->site.pue_source)], wue_src[sizeof(run->site.wue_source)];
	if (o->no_guess || jst_tz_guess(o->root, tz, sizeof(tz), cc, sizeof(cc)) < 0 ||
	    !jst_grid_zone_find(cc))
		return;
	memcpy(pue_src, run->site.pue_source, sizeof(pue_src));
	memcpy(wue_src, run->site.wue_source, sizeof(wue_src));
	if (jst_run_set_site(run, cc, NULL, pue, wue, msg, sizeof(msg)) < 0)
		return;
	memcpy(run->site.pue_source, pue_src, sizeof(pue_src));
	memcpy(run->site.wue_source, wue_src, sizeof(wue_src));
	run->site.zone_origin = JST_ORIGIN_GUESSED;
	jst__strlcpy(run->site.tz_guess, tz, sizeof(run->site.tz_guess));
}

int jst_run_resolve_site(struct jst_run *run, const struct jst_site_opts *o, char *msg, size_t msglen)
{
	const struct jst_site_cfg *s = NULL;
	const char *name = o->site;
	bool placed = (o->zone && *o->zone) || (o->cloud && *o->cloud);
	if (!name && !placed && o->cfg && o->cfg->default_site[0])
		name = o->cfg->default_site;
	if (name && !(s = o->cfg ? jst_config_site(o->cfg, name) : NULL))
		return unknown_site(o, name, msg, msglen);
	const char *cloud = o->cloud && *o->cloud ? o->cloud : s && s->cloud[0] ? s->cloud : NULL;
	const char *zone = o->zone && *o->zone ? o->zone
	                   : !(o->cloud && *o->cloud) && s && s->zone[0] ? s->zone : NULL;
	double pue = o->pue >= 0 ? o->pue : s && s->pue >= 0 ? s->pue : -1;
	double wue = o->wue >= 0 ? o->wue : s && s->wue >= 0 ? s->wue : -1;
	char inner[256];
	int r = jst_run_set_site(run, zone, cloud, pue, wue, inner, sizeof(inner));
	if (r < 0) {
		snprintf(msg, msglen, "%s%s%s", s ? "site " : "", s ? s->name : "", s ? ": " : "");
		size_t l = strlen(msg);
		snprintf(msg + l, msglen > l ? msglen - l : 0, "%s", inner);
		return r;
	}
	if (s) {
		jst__strlcpy(run->site.name, s->name, sizeof(run->site.name));
		site_sources(run, s, o, o->cfg->path);
		bool from_site = (zone && zone == s->zone) || (cloud && cloud == s->cloud && !zone);
		if (from_site)
			run->site.zone_origin = JST_ORIGIN_SITE;
	}
	if (run->site.zone_origin == JST_ORIGIN_NONE)
		guess(run, o, pue, wue);
	return 0;
}
