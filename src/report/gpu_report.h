/* The GPU power limit part of a run's reports (run->gpu_power), printed by text.c and
 * json.c; nothing when the run did not manage GPU limits. */
#ifndef JST_REPORT_GPU_REPORT_H
#define JST_REPORT_GPU_REPORT_H

#include <stdio.h>

#include "joulestream/record.h"

void jst__report_gpu_text(FILE *f, const struct jst_run *run);
/* ,"gpu_power_limit":{…} */
void jst__report_gpu_json(FILE *f, const struct jst_run *run);

#endif
