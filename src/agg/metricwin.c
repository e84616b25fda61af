/* Metric values per 1-minute window (metricwin.h). The bodies come from the event log, already
 * checked at ingest (finite numbers, bounded names), but they are parsed again with the same
 * care: a wrong type is skipped, never trusted. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "agg/agg.h"
#include "agg/metricwin.h"
#include "core/util.h"

static struct jst_metric_cell *cell(struct jst_metric_wins *m, uint64_t win, const char *name)
{
	for (size_t i = m->n; i-- > 0;)
		if (m->cell[i].win == win && strcmp(m->cell[i].name, name) == 0)
			return &m->cell[i];
	if (m->n >= JST_METRIC_WINS_MAX) {
		m->truncated = true;
		return NULL;
	}
	if (m->n == m->cap) {
		size_t c = m->cap ? m->cap * 2 : 32;
		void *p = realloc(m->cell, c * sizeof(*m->cell));
		if (!p)
			return NULL;
		m->cell = p;
		m->cap = c;
	}
	struct jst_metric_cell *c = &m->cell[m->n++];
	memset(c, 0, sizeof(*c));
	c->win = win;
	jst__strlcpy(c->name, name, sizeof(c->name));
	return c;
}

static const char *skip_blanks(const char *k, const char *end)
{
	while (k < end && (*k == ' ' || *k == '\t' || *k == '\n' || *k == '\r'))
		k++;
	return k;
}

/* ts_ns is read from the text: a double keeps only 53 bits of epoch nanoseconds. JSON allows
 * blanks around the colon, and ingest keeps a body as it came, so they are skipped; a "ts_ns"
 * not followed by a colon and digits (a string value) is passed over. */
static int ts_of(const char *p, size_t n, uint64_t *ts)
{
	const char *end = p + n;
	for (size_t i = 0; i + 7 <= n; i++) {
		if (memcmp(p + i, "\"ts_ns\"", 7) != 0)
			continue;
		const char *k = skip_blanks(p + i + 7, end);
		if (k == end || *k++ != ':')
			continue;
		k = skip_blanks(k, end);
		uint64_t v = 0;
		int digits = 0;
		while (k < end && *k >= '0' && *k <= '9' && digits < 20) {
			v = v * 10 + (uint64_t)(*k++ - '0');
			digits++;
		}
		if (digits) {
			*ts = v;
			return 0;
		}
	}
	return -EINVAL;
}

int jst__metric_wins_add(struct jst_metric_wins *m, const char *p, size_t n)
{
	uint64_t ts;
	if (ts_of(p, n, &ts) < 0)
		return -EINVAL;
	cJSON *root = cJSON_ParseWithLength(p, n);
	const cJSON *vals = root ? cJSON_GetObjectItemCaseSensitive(root, "values") : NULL;
	const cJSON *type = root ? cJSON_GetObjectItemCaseSensitive(root, "type") : NULL;
	if (!cJSON_IsObject(vals) || !cJSON_IsString(type) ||
	    strcmp(type->valuestring, "metric") != 0) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	uint64_t win = ts - ts % JST_AGG_WINDOW_NS;
	int r = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, vals)
	{
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || !it->string)
			continue;
		struct jst_metric_cell *c = cell(m, win, it->string);
		if (!c) {
			r = m->truncated ? 0 : -ENOMEM;
			break;
		}
		double v = it->valuedouble;
		if (c->count == 0 || v < c->min)
			c->min = v;
		if (c->count == 0 || v > c->max)
			c->max = v;
		if (c->count == 0 || ts >= c->last_ts) {
			c->last = v;
			c->last_ts = ts;
		}
		c->count++;
		c->sum += v;
	}
	cJSON_Delete(root);
	return r;
}

static int by_win_name(const void *a, const void *b)
{
	const struct jst_metric_cell *x = a, *y = b;
	if (x->win != y->win)
		return x->win < y->win ? -1 : 1;
	return strcmp(x->name, y->name);
}

void jst__metric_wins_sort(struct jst_metric_wins *m)
{
	if (m->n > 1)
		qsort(m->cell, m->n, sizeof(*m->cell), by_win_name);
}

void jst__metric_wins_release(struct jst_metric_wins *m)
{
	free(m->cell);
	memset(m, 0, sizeof(*m));
}
