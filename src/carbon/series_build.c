/* The builder of intensity series (series_int.h): raw points from any format (the CSV parser in
 * series.c, the JSON formats in series_json.c) are collected here, then sorted, split by zone
 * and checked in one place, so every format is held to the same rules and errors read alike;
 * also the free of the object it makes. Both parsers call into this file; it calls neither. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbon/series_int.h"
#include "core/isotime.h"
#include "core/util.h"

int jst__ci_fail(struct jst__ci_builder *b, const char *fmt, ...)
{
	int w = snprintf(b->err, b->errlen, "%s: ", b->name);
	if (w >= 0 && (size_t)w < b->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->err + w, b->errlen - (size_t)w, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int jst__ci_push(struct jst__ci_builder *b, const char *zone, int64_t t_ns, double ci, size_t line)
{
	if (!isfinite(ci) || ci < 0 || ci > 5000)
		return -ERANGE;
	if (b->n >= JST_SERIES_MAX_POINTS) /* every push: capacities grow past the ceiling */
		return -E2BIG;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct jst__ci_raw *v = realloc(b->raw, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->raw = v;
		b->cap = cap;
	}
	struct jst__ci_raw *r = &b->raw[b->n++];
	jst__strlcpy(r->zone, zone ? zone : "", sizeof(r->zone));
	r->t_ns = t_ns;
	r->ci = ci;
	r->line = line;
	return 0;
}

static int raw_cmp(const void *a, const void *b)
{
	const struct jst__ci_raw *x = a, *y = b;
	int z = strcmp(x->zone, y->zone);
	if (z)
		return z;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns ? 1 : (x->line > y->line) - (x->line < y->line);
}

/* Where a duplicate instant was found: "line N" for CSV, the JSON index otherwise. */
static void where(const struct jst__ci_builder *b, size_t line, char *out, size_t n)
{
	if (b->json)
		snprintf(out, n, "%s[%zu]", b->json, line);
	else
		snprintf(out, n, "line %zu", line);
}

/* Sorts, splits by zone, checks for two values at one instant, and builds the file. */
int jst__ci_finish(struct jst__ci_builder *b, struct jst_ci_file **out)
{
	if (b->n == 0)
		return jst__ci_fail(b, "no intensity values in it");
	qsort(b->raw, b->n, sizeof(*b->raw), raw_cmp);
	size_t nseries = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (i == 0 || strcmp(b->raw[i].zone, b->raw[i - 1].zone) != 0) {
			nseries++;
			continue;
		}
		if (b->raw[i].t_ns == b->raw[i - 1].t_ns) {
			char t[40], w1[32], w2[32];
			jst__format_iso8601(b->raw[i].t_ns, t, sizeof(t));
			where(b, b->raw[i - 1].line, w1, sizeof(w1));
			where(b, b->raw[i].line, w2, sizeof(w2));
			return jst__ci_fail(b, "%s: two values for %s%s%s (%s and %s)", w2, t,
			                    b->raw[i].zone[0] ? " in zone " : "", b->raw[i].zone, w1, w2);
		}
	}
	struct jst_ci_file *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pts = malloc(b->n * sizeof(*f->pts));
	f->series = calloc(nseries, sizeof(*f->series));
	f->version = strdup(b->version);
	f->source = strdup(b->source);
	if (!f->pts || !f->series || !f->version || !f->source) {
		jst_ci_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++) {
		f->pts[i].t_ns = b->raw[i].t_ns;
		f->pts[i].ci_g_per_kwh = b->raw[i].ci;
		if (i == 0 || strcmp(b->raw[i].zone, b->raw[i - 1].zone) != 0) {
			struct jst_series *s = &f->series[f->nseries++];
			jst__strlcpy(s->zone, b->raw[i].zone, sizeof(s->zone));
			s->pts = &f->pts[i];
			s->source = f->source;
			s->version = f->version;
		}
		f->series[f->nseries - 1].n++;
	}
	for (size_t k = 0; k < f->nseries; k++) {
		struct jst_series *s = &f->series[k];
		s->last_ns = b->period_ns > 0 ? b->period_ns
		             : s->n > 1 ? s->pts[s->n - 1].t_ns - s->pts[s->n - 2].t_ns
		                        : 3600 * (int64_t)1000000000;
	}
	*out = f;
	return 0;
}

void jst__ci_builder_release(struct jst__ci_builder *b)
{
	free(b->raw);
	b->raw = NULL;
	b->n = b->cap = 0;
}

void jst_ci_free(struct jst_ci_file *f)
{
	if (!f)
		return;
	free(f->pts);
	free(f->series);
	free(f->version);
	free(f->source);
	free(f);
}
