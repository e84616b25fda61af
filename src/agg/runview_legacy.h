/* What a run converted by the SQLite store's migration 12 (src/store/sqlite/sqlite_upgrade.c)
 * carries in its run_end as `legacy_train` (docs/schema.md): the part of its training record
 * that the releases before issue 11 stored as totals and that no mark event can rebuild, since
 * those releases kept no marks: the phase split (per phase: path, depth, entries, time, energy
 * per zone) and the mark counters. The view rebuilds epochs, steps and metrics from the mark
 * events the migration wrote, then puts these in. */
#ifndef JST_AGG_RUNVIEW_LEGACY_H
#define JST_AGG_RUNVIEW_LEGACY_H

#include <cjson/cJSON.h>

#include "joulestream/train.h"

struct jst__legacy_train;

/* The legacy_train object of a run_end, or NULL when absent (malloc'd; free with free()). */
struct jst__legacy_train *jst__legacy_train_read(const cJSON *o);
/* Replaces t's phases and mark counters with l's. */
void jst__legacy_train_apply(const struct jst__legacy_train *l, struct jst_train *t);

#endif
