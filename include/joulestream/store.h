/* The store: where runs, their samples and their reports are kept. SQLite by default (a file,
 * WAL mode); other databases plug in behind the same calls (src/store/store.h). A run is begun
 * when its command starts (status "running"), samples are appended in batches while it runs,
 * and it is ended with its totals; a monitor that dies leaves a run marked running. */
#ifndef JOULESTREAM_STORE_H
#define JOULESTREAM_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/common.h"
#include "joulestream/record.h"
#include "joulestream/train.h"

struct jst_store;

/* The default database: $XDG_DATA_HOME/joulestream/joulestream.db, or
 * ~/.local/share/joulestream/joulestream.db. Creates the directory when mkdir is true. */
JST_API int jst_store_default_path(char *out, size_t n, bool mkdir);

/* Opens (creating and migrating when needed) the store at target: a file path, or
 * "sqlite:PATH". On error returns a negative errno and writes a message into err. */
JST_API int jst_store_open(struct jst_store **out, const char *target, char *err, size_t errlen);
JST_API void jst_store_close(struct jst_store *s);
/* The last error's message. */
JST_API const char *jst_store_errmsg(const struct jst_store *s);

/* A run's record is its events, written by a store sink (joulestream/sink.h) and read back as
 * their view; the store keeps beside them only its results by data version. So run_end adds
 * the run-time result (data version "run") of a finished run, and nothing else is written. */
JST_API int jst_store_run_end(struct jst_store *s, const struct jst_run *run);

/* Loads a run by its id or a unique prefix of it (at least 4 characters), or "last" for the
 * newest. -ENOENT when none, -EEXIST when the prefix is ambiguous. */
JST_API int jst_store_load(struct jst_store *s, const char *id, struct jst_run *run);

/* Calls fn for each stored run, newest first, at most limit (0 = all); fn returns non-zero to
 * stop. The run passed is valid only during the call. */
JST_API int jst_store_list(struct jst_store *s, size_t limit,
                           int (*fn)(const struct jst_run *run, void *ud), void *ud);

/* Calls fn for each sample of a run in time order. */
JST_API int jst_store_samples(struct jst_store *s, const char *run_id,
                              int (*fn)(const struct jst_sample *sample, void *ud), void *ud);

/* Fills t with a stored run's training record (phases, epochs, steps, tags, prediction, and its
 * metrics thinned to JST_METRICS_KEPT), rebuilt from its mark events; -ENOENT when the run had
 * no training marks. Set
 * run->train = t to have the reports show it. */
JST_API int jst_store_load_train(struct jst_store *s, const struct jst_run *run, struct jst_train *t);

/* Fills g with a stored run's GPU power limit record (issue 18: the profile, the choice, the
 * saving; run_end's gpu_power_limit); -ENOENT when the run did not manage GPU limits. Set
 * run->gpu_power = g to have the reports show it. */
struct jst_gpu_power;
JST_API int jst_store_load_gpu_power(struct jst_store *s, const struct jst_run *run,
                                     struct jst_gpu_power *g);

/* Keeps a run's carbon and water as computed with one data version (run_results), replacing
 * an earlier row of the same version and zone. jst_store_run_end() adds the run-time one. */
JST_API int jst_store_add_result(struct jst_store *s, const char *run_id,
                                 const struct jst_run_result *res);

struct jst_carbon_acc;
/* The Kappa replay: feeds the stored samples of the run's counted zones to a, in time order
 * (jst_carbon_acc_add). Returns the number of samples used, or a negative errno. */
JST_API int jst_store_replay(struct jst_store *s, const struct jst_run *run,
                             struct jst_carbon_acc *a);

/* Rebuilds the bounded timeline of a stored run from its samples. tl must be initialised
 * with the run's zone count. */
JST_API int jst_store_timeline(struct jst_store *s, const struct jst_run *run, struct jst_timeline *tl);

#endif
