/* The GPU power limit part of a run (joulestream/gpupower.h) as one JSON object, the same in
 * the JSON report and in run_end's `gpu_power_limit` (docs/schema.md). */
#include <string.h>

#include "core/jbuf.h"
#include "joulestream/gpupower.h"
#include "record/gpupower.h"

static void nums(struct jst_jbuf *b, const char *key, const double *v, size_t n)
{
	jst__jbuf_key(b, key);
	jst__jbuf_put(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			jst__jbuf_put(b, ",", 1);
		jst__jbuf_jnum(b, v[i]);
	}
	jst__jbuf_put(b, "]", 1);
}

static void num(struct jst_jbuf *b, const char *key, double v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jnum(b, v);
}

static void str(struct jst_jbuf *b, const char *key, const char *v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jstr(b, v);
}

void jst__gpu_power_json(struct jst_jbuf *b, const struct jst_gpu_power *g)
{
	jst__jbuf_put(b, "{", 1);
	jst__jbuf_str(b, "\"mode\":");
	jst__jbuf_jstr(b, g->mode);
	str(b, "goal", g->goal);
	str(b, "state", g->state);
	str(b, "why", g->why);
	jst__jbuf_key(b, "gpus");
	jst__jbuf_put(b, "[", 1);
	for (size_t i = 0; i < g->ngpus; i++) {
		jst__jbuf_printf(b, "%s{\"index\":%u", i ? "," : "", g->gpu_index[i]);
		str(b, "uuid", g->gpu_uuid[i]);
		num(b, "min_w", g->min_w[i]);
		num(b, "max_w", g->max_w[i]);
		num(b, "prev_w", g->prev_w[i]);
		num(b, "chosen_w", g->chosen_w[i]);
		jst__jbuf_put(b, "}", 1);
	}
	jst__jbuf_put(b, "]", 1);
	jst__jbuf_key(b, "profile");
	jst__jbuf_put(b, "[", 1);
	for (size_t i = 0; i < g->npoints; i++) {
		const struct jst_gpu_point *pt = &g->points[i];
		jst__jbuf_put(b, i ? ",{" : "{", i ? 2 : 1);
		jst__jbuf_str(b, "\"limit_w\":");
		jst__jbuf_jnum(b, pt->limits_w[0]);
		nums(b, "limits_w", pt->limits_w, g->ngpus);
		num(b, "time_s", pt->time_s);
		num(b, "energy_j", pt->energy_j);
		num(b, "power_w", pt->power_w);
		jst__jbuf_printf(b, ",\"steps\":%u}", pt->steps);
	}
	jst__jbuf_put(b, "]", 1);
	jst__jbuf_printf(b, ",\"best\":%d,\"ref\":%d,\"steps\":%lu,\"steps_after\":%lu", g->best,
	                 g->ref, g->steps, g->steps_after);
	num(b, "saved_energy_j", g->saved_j);
	num(b, "saved_co2e_g", g->saved_co2e_g);
	num(b, "saved_water_l", g->saved_water_l);
	num(b, "extra_time_s", g->extra_time_s);
	str(b, "advice_from", g->advice_from);
	jst__jbuf_printf(b, ",\"restored\":%s}", g->restored ? "true" : "false");
}
