/* The training figures of a converted run that marks cannot rebuild (runview_legacy.h). */
#include <stdlib.h>
#include <string.h>

#include "agg/runview_legacy.h"
#include "core/util.h"

struct jst__legacy_train {
	unsigned long marks, lost_marks, late_marks, metrics_logged, metric_values_dropped;
	size_t nphases;
	struct jst_phase_total phases[JST_PHASES_MAX];
};

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

static void phase(const cJSON *o, struct jst_phase_total *p)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(o, "path"), *z;
	memset(p, 0, sizeof(*p));
	jst__strlcpy(p->path, cJSON_IsString(path) ? path->valuestring : "(other)", sizeof(p->path));
	p->depth = (unsigned)num(o, "depth");
	p->entries = (unsigned long)num(o, "entries");
	p->time_s = num(o, "time_s");
	p->energy_j = num(o, "energy_j");
	size_t i = 0;
	cJSON_ArrayForEach(z, cJSON_GetObjectItemCaseSensitive(o, "zone_j"))
	{
		if (i == JST_ZONES_MAX)
			break;
		p->zone_j[i++] = cJSON_IsNumber(z) ? z->valuedouble : 0;
	}
}

struct jst__legacy_train *jst__legacy_train_read(const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return NULL;
	struct jst__legacy_train *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->marks = (unsigned long)num(o, "marks");
	l->lost_marks = (unsigned long)num(o, "lost_marks");
	l->late_marks = (unsigned long)num(o, "late_marks");
	l->metrics_logged = (unsigned long)num(o, "metrics_logged");
	l->metric_values_dropped = (unsigned long)num(o, "metric_values_dropped");
	const cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(o, "phases"))
	{
		if (l->nphases == JST_PHASES_MAX)
			break;
		phase(p, &l->phases[l->nphases++]);
	}
	return l;
}

void jst__legacy_train_apply(const struct jst__legacy_train *l, struct jst_train *t)
{
	if (!l || !t)
		return;
	t->marks = l->marks;
	t->lost_marks = l->lost_marks;
	t->late_marks = l->late_marks;
	t->metrics_logged = l->metrics_logged;
	t->metric_values_dropped = l->metric_values_dropped;
	memcpy(t->phases, l->phases, l->nphases * sizeof(l->phases[0]));
	t->nphases = l->nphases;
}
