/* run_end's `gpu_power_limit` (issue 18, docs/schema.md) read back into the record type
 * (joulestream/gpupower.h), for the run's view: what src/record/gpupower.c wrote. */
#include <stdlib.h>
#include <string.h>

#include "agg/runview_gpu.h"
#include "core/util.h"

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void text(const cJSON *o, const char *k, char *dst, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	jst__strlcpy(dst, cJSON_IsString(v) ? v->valuestring : "", n);
}

static int idx(const cJSON *o, const char *k, size_t n)
{
	double d = num(o, k);
	return d >= 0 && d < (double)n ? (int)d : -1;
}

struct jst_gpu_power *jst__gpu_power_read(const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return NULL;
	struct jst_gpu_power *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	text(o, "mode", g->mode, sizeof(g->mode));
	text(o, "goal", g->goal, sizeof(g->goal));
	text(o, "state", g->state, sizeof(g->state));
	text(o, "why", g->why, sizeof(g->why));
	text(o, "advice_from", g->advice_from, sizeof(g->advice_from));
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "gpus"))
	{
		if (g->ngpus == JST_GPUP_GPUS)
			break;
		size_t i = g->ngpus++;
		g->gpu_index[i] = (unsigned)num(e, "index");
		text(e, "uuid", g->gpu_uuid[i], sizeof(g->gpu_uuid[i]));
		g->min_w[i] = num(e, "min_w");
		g->max_w[i] = num(e, "max_w");
		g->prev_w[i] = num(e, "prev_w");
		g->chosen_w[i] = num(e, "chosen_w");
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "profile"))
	{
		if (g->npoints == JST_GPUP_POINTS)
			break;
		struct jst_gpu_point *pt = &g->points[g->npoints++];
		size_t i = 0;
		const cJSON *w;
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(e, "limits_w"))
		{
			if (i < JST_GPUP_GPUS)
				pt->limits_w[i++] = cJSON_IsNumber(w) ? w->valuedouble : 0;
		}
		pt->time_s = num(e, "time_s");
		pt->energy_j = num(e, "energy_j");
		pt->power_w = num(e, "power_w");
		pt->steps = (unsigned)num(e, "steps");
	}
	g->best = idx(o, "best", g->npoints);
	g->ref = idx(o, "ref", g->npoints);
	g->steps = (unsigned long)num(o, "steps");
	g->steps_after = (unsigned long)num(o, "steps_after");
	g->saved_j = num(o, "saved_energy_j");
	g->saved_co2e_g = num(o, "saved_co2e_g");
	g->saved_water_l = num(o, "saved_water_l");
	g->extra_time_s = num(o, "extra_time_s");
	g->restored = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "restored"));
	return g;
}
