/* The accounting hierarchy of one (host, window) (hier.h): how the host's energy is counted
 * once and split between the runs that claim it and the unattributed rest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agg/hier.h"
#include "core/util.h"

void jst__hier_rows_release(struct jst_hier_rows *r)
{
	free(r->row);
	memset(r, 0, sizeof(*r));
}

static int add(struct jst_hier_rows *out, enum jst_agg_dim dim, bool unattr, const char *key, int64_t samples,
               double e, double co2e, double water)
{
	struct jst_hier_row *x = NULL;
	for (size_t i = 0; i < out->n && !x; i++)
		if (out->row[i].dim == dim && out->row[i].unattributed == unattr && strcmp(out->row[i].key, key) == 0)
			x = &out->row[i];
	if (!x) {
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 16;
			void *p = realloc(out->row, cap * sizeof(*out->row));
			if (!p)
				return -ENOMEM;
			out->row = p;
			out->cap = cap;
		}
		x = &out->row[out->n++];
		memset(x, 0, sizeof(*x));
		x->dim = dim;
		x->unattributed = unattr;
		jst__strlcpy(x->key, key, sizeof(x->key));
	}
	x->samples += samples;
	x->energy_j += e;
	x->co2e_g += co2e;
	x->water_l += water;
	return 0;
}

static int by_run(const void *a, const void *b)
{
	return strcmp(((const struct jst_hier_claim *)a)->run, ((const struct jst_hier_claim *)b)->run);
}

/* What each kind of series brought to the window. */
struct parts {
	bool agent;
	int64_t agent_samples, run_samples;
	double agent_j, agent_co2e, agent_water;
	double proc_j;         /* P: process-scope claims */
	double scoped_j, secs; /* S and T: host-scope claims and their sampled seconds */
	double longest;        /* the longest host-scope run's sampled seconds */
	double covered;        /* U: the seconds the host-scope runs' spans cover together */
	char agent_zone[32];
};

struct span {
	double a, b;
};

static int by_start(const void *x, const void *y)
{
	const struct span *p = x, *q = y;
	return p->a < q->a ? -1 : p->a > q->a;
}

/* U of hier.h: the union of the host-scope runs' spans within the window, in seconds from the
 * window's start; a span runs from one interval after the run's start (its first sample's
 * end) to one interval after its newest event. */
static double covered(const struct jst_hier_claim *c, size_t n, uint64_t win)
{
	struct span v[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 64; i++) {
		if (c[i].series_host || !c[i].scope_host)
			continue;
		double step = c[i].interval_s > 0 ? c[i].interval_s : 0;
		double a = ((double)c[i].start_ns - (double)win) / 1e9 + step;
		double b = ((double)c[i].last_ns - (double)win) / 1e9 + step;
		a = a < 0 ? 0 : a;
		b = b > JST_HIER_WINDOW_S ? JST_HIER_WINDOW_S : b;
		if (b > a)
			v[k++] = (struct span){a, b};
	}
	qsort(v, k, sizeof(*v), by_start);
	double u = 0, end = 0;
	for (size_t i = 0; i < k; i++) {
		double a = v[i].a > end ? v[i].a : end;
		if (v[i].b > a)
			u += v[i].b - a;
		if (v[i].b > end)
			end = v[i].b;
	}
	return u;
}

static void sum_parts(const struct jst_hier_claim *c, size_t n, struct parts *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		if (c[i].series_host) {
			if (!p->agent)
				jst__strlcpy(p->agent_zone, c[i].zone, sizeof(p->agent_zone));
			p->agent = p->agent || c[i].samples > 0;
			p->agent_samples += c[i].samples;
			p->agent_j += c[i].energy_j;
			p->agent_co2e += c[i].co2e_g;
			p->agent_water += c[i].water_l;
			continue;
		}
		p->run_samples += c[i].samples;
		if (!c[i].scope_host) {
			p->proc_j += c[i].energy_j;
			continue;
		}
		p->scoped_j += c[i].energy_j;
		p->secs += c[i].secs;
		if (c[i].secs > p->longest)
			p->longest = c[i].secs;
	}
}

int jst__hier_split(const char *host, uint64_t win, struct jst_hier_claim *c, size_t n, struct jst_hier_rows *out)
{
	out->n = 0;
	if (n > 1)
		qsort(c, n, sizeof(*c), by_run);
	struct parts p;
	sum_parts(c, n, &p);
	/* the host-scope runs' reading of the host: each second of it once (a run's own sampled
	 * time is never cut, whatever its span says) */
	double u = covered(c, n, win);
	if (u < p.longest)
		u = p.longest;
	double scoped = p.secs > u && p.secs > 0 ? p.scoped_j * (u / p.secs) : p.scoped_j;
	double h = p.agent ? p.agent_j : scoped > p.proc_j ? scoped : p.proc_j;
	double fp = p.proc_j > h && p.proc_j > 0 ? h / p.proc_j : 1;
	double left = h - p.proc_j * fp;
	double hs = scoped < left ? scoped : left;
	double fs = p.scoped_j > 0 && hs > 0 ? hs / p.scoped_j : 0;
	double co2e = 0, water = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (c[i].series_host)
			continue;
		double f = c[i].scope_host ? fs : fp;
		double e = c[i].energy_j * f, g = c[i].co2e_g * f, l = c[i].water_l * f;
		co2e += g;
		water += l;
		const char *keys[] = {c[i].user, c[i].model, c[i].project, c[i].zone};
		const enum jst_agg_dim dims[] = {JST_DIM_USER, JST_DIM_MODEL, JST_DIM_PROJECT, JST_DIM_ZONE};
		for (int d = 0; r == 0 && d < 4; d++)
			r = add(out, dims[d], false, keys[d], c[i].samples, e, g, l);
	}
	/* without an agent nothing is left over: h is the claims' own */
	double rest = p.agent ? h - p.proc_j * fp - hs : 0;
	if (rest < 0)
		rest = 0;
	double ug = p.agent_j > 0 ? rest * (p.agent_co2e / p.agent_j) : 0;
	double ul = p.agent_j > 0 ? rest * (p.agent_water / p.agent_j) : 0;
	if (r == 0 && rest > 0) {
		const enum jst_agg_dim dims[] = {JST_DIM_USER, JST_DIM_MODEL, JST_DIM_PROJECT};
		for (int d = 0; r == 0 && d < 3; d++)
			r = add(out, dims[d], true, "", 0, rest, ug, ul);
		if (r == 0) /* a grid zone is a place, not a claimant: the agent's zone gets it */
			r = add(out, JST_DIM_ZONE, false, p.agent_zone, 0, rest, ug, ul);
	}
	if (r == 0 && (n > 0))
		r = add(out, JST_DIM_HOST, false, host, p.agent ? p.agent_samples : p.run_samples, h, co2e + ug,
		        water + ul);
	return r;
}
