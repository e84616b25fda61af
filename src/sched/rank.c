/* Where to run: the candidate sites of the configuration with their zone, PUE, WUE and
 * intensity (the yearly average, or the mean of a series over a window), ranked by carbon per
 * IT kWh (CI × PUE), water per IT kWh (WUE + PUE × EWIF) or a weighted sum of both normalised
 * across the sites; and the weights of the scheduler hints, linear in the score as AI4EOSC's
 * GreenDirector maps footprints to Nomad affinities. Printing is hints.c's and the CLI's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/carbon.h"
#include "joulestream/sched.h"

/* The cloud region of "provider:region", or NULL with err set. */
static const struct jst_cloud_region *cloud_of(const char *cloud, char *err, size_t errlen)
{
	char prov[16];
	const char *colon = strchr(cloud, ':');
	size_t pl = colon ? (size_t)(colon - cloud) : 0;
	if (!colon || pl == 0 || pl >= sizeof(prov) || !colon[1]) {
		snprintf(err, errlen, "bad cloud '%s': expected PROVIDER:REGION, e.g. aws:eu-central-1", cloud);
		return NULL;
	}
	memcpy(prov, cloud, pl);
	prov[pl] = '\0';
	const struct jst_cloud_region *cr = jst_cloud_find(prov, colon + 1);
	if (!cr) {
		char near[200];
		jst_cloud_nearest(cloud, near, sizeof(near));
		snprintf(err, errlen, "unknown cloud region '%s' (nearest: %s; all: 'joulestream zones "
		         "--cloud')", cloud, near);
	}
	return cr;
}

static void set_factors(struct jst_sched_site *s, const struct jst_site_cfg *site,
                        const struct jst_cloud_region *cr, const char *path)
{
	char head[96];
	snprintf(head, sizeof(head), "site %s (", site->name); /* names are < 64 bytes */
	if (site->pue >= 1) {
		s->pue = site->pue;
		jst__fit_text(s->pue_source, sizeof(s->pue_source), head, path, ")");
	} else if (cr && cr->pue > 0) {
		s->pue = cr->pue;
		jst__strlcpy(s->pue_source, cr->source, sizeof(s->pue_source)); /* fits: JST_SOURCE_MAX */
	} else {
		s->pue = JST_DEFAULT_PUE;
		snprintf(s->pue_source, sizeof(s->pue_source), "default");
	}
	if (site->wue >= 0) {
		s->wue = site->wue;
		jst__fit_text(s->wue_source, sizeof(s->wue_source), head, path, ")");
	} else if (cr && cr->wue_l_per_kwh >= 0) {
		s->wue = cr->wue_l_per_kwh;
		jst__strlcpy(s->wue_source, cr->source, sizeof(s->wue_source));
	} else {
		s->wue = JST_DEFAULT_WUE_L_PER_KWH;
		snprintf(s->wue_source, sizeof(s->wue_source), "default");
	}
}

int jst_sched_site_init(struct jst_sched_site *s, const struct jst_site_cfg *site,
                        const char *cfg_path, int order, char *err, size_t errlen)
{
	const struct jst_cloud_region *cr = NULL;
	const char *path = cfg_path && *cfg_path ? cfg_path : "configuration";
	memset(s, 0, sizeof(*s));
	jst__strlcpy(s->name, site->name, sizeof(s->name));
	s->order = order;
	if (site->cloud[0] && !(cr = cloud_of(site->cloud, err, errlen)))
		return -ENOENT;
	const char *code = site->zone[0] ? site->zone : cr ? cr->zone : NULL;
	if (!code) {
		snprintf(err, errlen, "site %s has neither zone nor cloud: add 'zone = CODE' to [site %s] "
		         "in %s", site->name, site->name, path);
		return -EINVAL;
	}
	const struct jst_grid_zone *z = jst_grid_zone_find(code);
	if (!z) {
		snprintf(err, errlen, "site %s: unknown zone '%s' (see 'joulestream zones %s')", site->name,
		         code, code);
		return -ENOENT;
	}
	jst__strlcpy(s->zone, z->code, sizeof(s->zone));
	jst__strlcpy(s->zone_name, z->name, sizeof(s->zone_name));
	jst__strlcpy(s->cloud, site->cloud, sizeof(s->cloud));
	const char *label = site->label[0] ? site->label : cr ? strchr(site->cloud, ':') + 1 : site->name;
	jst__strlcpy(s->label, label, sizeof(s->label));
	jst__strlcpy(s->partition, site->partition, sizeof(s->partition));
	jst__strlcpy(s->accelerators, site->accelerators, sizeof(s->accelerators));
	s->capacity = site->capacity;
	set_factors(s, site, cr, path);
	s->ci = z->ci_g_per_kwh;
	snprintf(s->ci_source, sizeof(s->ci_source), "%.180s", z->ci_source);
	snprintf(s->data_version, sizeof(s->data_version), "%s", JST_DATA_VERSION);
	s->coverage = 1;
	s->ewif = z->ewif_l_per_kwh;
	return 0;
}

void jst_sched_site_use_series(struct jst_sched_site *s, const struct jst_series *series,
                               int64_t from_ns, int64_t to_ns)
{
	double mean;
	int64_t covered;
	if (jst_series_mean(series, from_ns, to_ns, &mean, &covered) < 0) {
		char a[32], b[32];
		jst__format_iso8601(series->pts[0].t_ns, a, sizeof(a));
		jst__format_iso8601(jst_series_end(series, series->n - 1), b, sizeof(b));
		snprintf(s->note, sizeof(s->note), "%.100s covers %s to %s, none of the window: yearly "
		         "average used", series->source, a, b);
		return;
	}
	s->ci = mean;
	s->ci_series = true;
	s->coverage = (double)covered / (double)(to_ns - from_ns);
	snprintf(s->ci_source, sizeof(s->ci_source), "%.180s", series->source);
	snprintf(s->data_version, sizeof(s->data_version), "%.190s", series->version);
	s->note[0] = '\0';
}

/* Equal scores keep the configuration's order; unknown scores come last. */
static int by_score(const void *a, const void *b)
{
	const struct jst_sched_site *x = a, *y = b;
	if (x->known != y->known)
		return x->known ? -1 : 1;
	if (x->known && x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static void range_of(const struct jst_sched_site *v, size_t n, bool water, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		double x = water ? v[i].water : v[i].carbon;
		if (water && x < 0)
			continue;
		*lo = x < *lo ? x : *lo;
		*hi = x > *hi ? x : *hi;
	}
}

static double norm(double x, double lo, double hi)
{
	return hi > lo ? (x - lo) / (hi - lo) : 0;
}

static void scores(struct jst_sched_site *v, size_t n, const struct jst_rank_opts *o)
{
	double wc = o->w_carbon > 0 ? o->w_carbon : 0, ww = o->w_water > 0 ? o->w_water : 0;
	if (wc + ww <= 0)
		wc = ww = 0.5;
	double sum = wc + ww, clo, chi, wlo, whi;
	wc /= sum;
	ww /= sum;
	for (size_t i = 0; i < n; i++) {
		v[i].carbon = v[i].ci * v[i].pue;
		v[i].water = v[i].ewif >= 0 ? v[i].wue + v[i].pue * v[i].ewif : -1;
	}
	range_of(v, n, false, &clo, &chi);
	range_of(v, n, true, &wlo, &whi);
	for (size_t i = 0; i < n; i++) {
		struct jst_sched_site *s = &v[i];
		s->known = o->by != JST_RANK_WATER || s->water >= 0;
		if (o->by == JST_RANK_CARBON)
			s->score = s->carbon;
		else if (o->by == JST_RANK_WATER)
			s->score = s->water;
		else
			s->score = wc * norm(s->carbon, clo, chi) + ww * (s->water >= 0 ? norm(s->water, wlo, whi) : 1);
	}
}

/* hi for the best score, lo for the worst, linear between; rounded half away from zero. */
static int scale(double x, double best, double worst, int hi, int lo)
{
	if (!(worst > best))
		return hi;
	return (int)lround(hi + (double)(lo - hi) * (x - best) / (worst - best));
}

void jst_sched_rank(struct jst_sched_site *v, size_t n, const struct jst_rank_opts *o)
{
	int lo = o->nomad_min < -100 ? -100 : o->nomad_min > 99 ? 99 : o->nomad_min;
	scores(v, n, o);
	if (n > 1)
		qsort(v, n, sizeof(*v), by_score);
	double best = INFINITY, worst = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].known)
			continue;
		best = v[i].score < best ? v[i].score : best;
		worst = v[i].score > worst ? v[i].score : worst;
	}
	for (size_t i = 0; i < n; i++) {
		struct jst_sched_site *s = &v[i];
		s->rank = (int)i + 1;
		/* GreenDirector gives every site 0 when all footprints are equal: no preference */
		s->nomad_weight = !s->known ? lo : worst > best ? scale(s->score, best, worst, 100, lo) : 0;
		s->k8s_weight = !s->known ? 1 : scale(s->score, best, worst, 100, 1);
	}
}
