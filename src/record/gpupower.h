/* The GPU power limit record as JSON (src/record/gpupower.c). */
#ifndef JST_RECORD_GPUPOWER_H
#define JST_RECORD_GPUPOWER_H

#include "core/jbuf.h"
#include "joulestream/gpupower.h"

/* Appends the record as one JSON object: mode, goal, state, why, gpus [{index, uuid, min_w,
 * max_w, prev_w, chosen_w}], profile [{limit_w, limits_w, time_s, energy_j, power_w, steps}],
 * best, ref, steps, steps_after, saved_energy_j, saved_co2e_g, saved_water_l, extra_time_s,
 * advice_from, restored. */
void jst__gpu_power_json(struct jst_jbuf *b, const struct jst_gpu_power *g);

#endif
