/* The run record's small parts: run ids (ULIDs), notes, choosing the site (grid zone, PUE,
 * WUE), totals and footprint, and the bounded timeline that merges neighbouring points when it
 * is full. The sampling loop that fills a record is src/run/monitor.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/record.h"

void jst_run_id_new(char *out)
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint64_t ms = jst__wall_ns() / 1000000u;
	unsigned char rnd[10];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t x = jst__mono_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(rnd); i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			rnd[i] = (unsigned char)(x >> 56);
		}
	}
	/* 10 characters of time (50 bits, top 2 zero), 16 of randomness (80 bits). */
	for (int i = 9; i >= 0; i--) {
		out[i] = b32[ms & 31];
		ms >>= 5;
	}
	for (int i = 0; i < 16; i++) {
		int bit = i * 5;
		unsigned v = 0;
		for (int k = 0; k < 5; k++, bit++)
			v = (v << 1) | ((rnd[bit / 8] >> (7 - bit % 8)) & 1u);
		out[10 + i] = b32[v];
	}
	out[JST_RUN_ID_LEN] = '\0';
}

void jst_run_note(struct jst_run *run, const char *fmt, ...)
{
	if (run->nnotes == JST_NOTES_MAX) {
		/* keep the first ones (usually the cause) and the newest: overwrite the last */
		run->nnotes--;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(run->notes[run->nnotes], JST_NOTE_LEN, fmt, ap);
	va_end(ap);
	run->nnotes++;
}

static void use_grid_zone(struct jst_run *run, const struct jst_grid_zone *z)
{
	jst__strlcpy(run->site.zone_code, z->code, sizeof(run->site.zone_code));
	jst__strlcpy(run->site.zone_name, z->name, sizeof(run->site.zone_name));
	run->site.ci_g_per_kwh = z->ci_g_per_kwh;
	run->site.ci_year = z->year;
	jst__strlcpy(run->site.ci_source, z->ci_source ? z->ci_source : "",
		     sizeof(run->site.ci_source));
	run->site.ewif_l_per_kwh = z->ewif_l_per_kwh;
	jst__strlcpy(run->site.ewif_source, z->ewif_source ? z->ewif_source : "",
		     sizeof(run->site.ewif_source));
}

int jst_run_set_site(struct jst_run *run, const char *zone, const char *cloud, double pue,
                     double wue, char *msg, size_t msglen)
{
	const struct jst_grid_zone *z = NULL;
	const struct jst_cloud_region *cr = NULL;
	if (cloud && *cloud) {
		char prov[16];
		const char *colon = strchr(cloud, ':');
		size_t pl = colon ? (size_t)(colon - cloud) : 0;
		if (!colon || pl == 0 || pl >= sizeof(prov) || !colon[1]) {
			snprintf(msg, msglen, "bad --cloud '%s': expected PROVIDER:REGION, e.g. aws:eu-central-1", cloud);
			return -EINVAL;
		}
		memcpy(prov, cloud, pl);
		prov[pl] = '\0';
		cr = jst_cloud_find(prov, colon + 1);
		if (!cr) {
			char near[200];
			jst_cloud_nearest(cloud, near, sizeof(near));
			snprintf(msg, msglen, "unknown cloud region '%s' (nearest: %s; all: 'joulestream zones "
			         "--cloud')", cloud, near);
			return -ENOENT;
		}
		jst__strlcpy(run->site.cloud, cloud, sizeof(run->site.cloud));
		if (!zone || !*zone) {
			z = jst_grid_zone_find(cr->zone);
			run->site.zone_origin = JST_ORIGIN_CLOUD;
		}
	}
	if (zone && *zone) {
		z = jst_grid_zone_find(zone);
		if (!z) {
			snprintf(msg, msglen, "unknown zone '%s' (see 'joulestream zones %s')", zone, zone);
			return -ENOENT;
		}
		run->site.zone_origin = JST_ORIGIN_OPTION;
	}
	if (!z) {
		z = jst_grid_world();
		run->site.zone_origin = cr ? JST_ORIGIN_CLOUD : JST_ORIGIN_NONE;
	}
	use_grid_zone(run, z);
	if (pue > 0) {
		run->site.pue = pue;
		snprintf(run->site.pue_source, sizeof(run->site.pue_source), "given");
	} else if (cr && cr->pue > 0) {
		run->site.pue = cr->pue;
		snprintf(run->site.pue_source, sizeof(run->site.pue_source), "%s", cr->source);
	} else {
		run->site.pue = JST_DEFAULT_PUE;
		snprintf(run->site.pue_source, sizeof(run->site.pue_source), "default");
	}
	if (wue >= 0) {
		run->site.wue_l_per_kwh = wue;
		snprintf(run->site.wue_source, sizeof(run->site.wue_source), "given");
	} else if (cr && cr->wue_l_per_kwh >= 0) {
		run->site.wue_l_per_kwh = cr->wue_l_per_kwh;
		snprintf(run->site.wue_source, sizeof(run->site.wue_source), "%s", cr->source);
	} else {
		run->site.wue_l_per_kwh = JST_DEFAULT_WUE_L_PER_KWH;
		snprintf(run->site.wue_source, sizeof(run->site.wue_source), "default");
	}
	return 0;
}

void jst_run_finish_totals(struct jst_run *run)
{
	run->host_j = run->run_j = run->idle_j = 0;
	run->estimated = false;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *zt = &run->zones[i];
		if (!(zt->zone.flags & JST_ZONE_COUNTED))
			continue;
		run->host_j += zt->host_j;
		run->run_j += zt->run_j;
		run->idle_j += zt->idle_j;
		if (zt->zone.flags & JST_ZONE_ESTIMATE)
			run->estimated = true;
	}
}

int jst_timeline_init(struct jst_timeline *tl, size_t nzones)
{
	memset(tl, 0, sizeof(*tl));
	size_t nz = nzones ? nzones : 1;
	tl->nzones = nzones;
	tl->stride = 1;
	tl->t_s = calloc(JST_TIMELINE_POINTS, sizeof(double));
	tl->dt_s = calloc(JST_TIMELINE_POINTS, sizeof(double));
	tl->host_j = calloc(JST_TIMELINE_POINTS * nz, sizeof(double));
	tl->run_j = calloc(JST_TIMELINE_POINTS * nz, sizeof(double));
	if (!tl->t_s || !tl->dt_s || !tl->host_j || !tl->run_j) {
		jst_timeline_release(tl);
		return -ENOMEM;
	}
	return 0;
}

void jst_timeline_release(struct jst_timeline *tl)
{
	free(tl->t_s);
	free(tl->dt_s);
	free(tl->host_j);
	free(tl->run_j);
	memset(tl, 0, sizeof(*tl));
}

/* Merges points 2k and 2k+1 into k: half the points, twice the stride. */
static void timeline_halve(struct jst_timeline *tl)
{
	size_t nz = tl->nzones;
	size_t half = tl->npoints / 2;
	for (size_t k = 0; k < half; k++) {
		size_t a = 2 * k, b = 2 * k + 1;
		tl->t_s[k] = tl->t_s[a];
		tl->dt_s[k] = tl->dt_s[a] + tl->dt_s[b];
		for (size_t z = 0; z < nz; z++) {
			tl->host_j[k * nz + z] = tl->host_j[a * nz + z] + tl->host_j[b * nz + z];
			tl->run_j[k * nz + z] = tl->run_j[a * nz + z] + tl->run_j[b * nz + z];
		}
	}
	if (tl->npoints % 2) { /* an odd last point moves down as it is */
		size_t a = tl->npoints - 1;
		tl->t_s[half] = tl->t_s[a];
		tl->dt_s[half] = tl->dt_s[a];
		memmove(tl->host_j + half * nz, tl->host_j + a * nz, nz * sizeof(double));
		memmove(tl->run_j + half * nz, tl->run_j + a * nz, nz * sizeof(double));
		half++;
	}
	tl->npoints = half;
	tl->stride *= 2;
}

void jst_timeline_add(struct jst_timeline *tl, double t_s, double dt_s, const double *host_j,
                      const double *run_j)
{
	if (!tl->t_s)
		return;
	size_t nz = tl->nzones;
	if (tl->pending == 0) {
		if (tl->npoints == JST_TIMELINE_POINTS)
			timeline_halve(tl);
		size_t p = tl->npoints++;
		tl->t_s[p] = t_s;
		tl->dt_s[p] = 0;
		memset(tl->host_j + p * nz, 0, nz * sizeof(double));
		memset(tl->run_j + p * nz, 0, nz * sizeof(double));
	}
	size_t p = tl->npoints - 1;
	tl->dt_s[p] += dt_s;
	for (size_t z = 0; z < nz; z++) {
		tl->host_j[p * nz + z] += host_j[z];
		tl->run_j[p * nz + z] += run_j[z];
	}
	if (++tl->pending >= tl->stride)
		tl->pending = 0;
}

void jst_zone_total_add(struct jst_zone_total *zt, const struct jst_sample *s)
{
	zt->samples++;
	zt->host_j += s->host_j;
	zt->run_j += s->run_j;
	zt->idle_j += s->idle_j;
	if (s->power_w > zt->peak_w)
		zt->peak_w = s->power_w;
}
