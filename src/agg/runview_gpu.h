/* run_end's gpu_power_limit object read back (src/agg/runview_gpu.c). */
#ifndef JST_AGG_RUNVIEW_GPU_H
#define JST_AGG_RUNVIEW_GPU_H

#include <cjson/cJSON.h>

#include "joulestream/gpupower.h"

/* A malloc'd record, or NULL when o is not an object (or out of memory). */
struct jst_gpu_power *jst__gpu_power_read(const cJSON *o);

#endif
