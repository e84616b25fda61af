/* The monitor's internals shared by the files of src/run/ (monitor.c defines them; marks.c feeds
 * training marks through them). Not public: the API is run.h. */
#ifndef JST_RUN_MONITOR_H
#define JST_RUN_MONITOR_H

#include <stdint.h>

#include "joulestream/run.h"
#include "record/trainer.h"

/* The monitor's run, its clock and its training state (NULL until the first
 * mark). Defined in monitor.c. */
struct jst__trainer **jst__monitor_training(struct jst_monitor *m, struct jst_run **run,
                                            uint64_t *start_ns, uint64_t *last_ns);
struct jst__trainer *jst__monitor_trainer(const struct jst_monitor *m);

#endif
