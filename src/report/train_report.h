/* The training parts of a run's reports (phases, epochs, steps, metrics, tags, prediction),
 * printed by text.c and json.c when the run has a training record (run->train). */
#ifndef JST_REPORT_TRAIN_REPORT_H
#define JST_REPORT_TRAIN_REPORT_H

#include <stdio.h>

#include "joulestream/record.h"

/* Lines of the text summary; nothing when run->train is NULL. */
void jst__report_train_text(FILE *f, const struct jst_run *run);

/* JSON members, each starting with a comma: "phases", "epochs", "steps", "metrics", "tags",
 * "prediction" and "training" (empty or null without a training record). */
void jst__report_train_json(FILE *f, const struct jst_run *run);

#endif
