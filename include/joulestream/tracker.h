/* In-process measurement, for a program that is not started under `joulestream run` (a training
 * script or a notebook using the Python package): the tracker opens the sensors and a monitor
 * on the calling process (the run is this process and its children), samples in a thread of its
 * own at the interval, takes training marks from any thread, and when stopped stores the run and
 * gives its JSON record and text summary. Options are string keys and values, so the interface
 * is easy to reach from ctypes and stays stable as options are added.
 *
 *   jst_tracker_new(&t);
 *   jst_tracker_set(t, "zone", "DE"); jst_tracker_set(t, "interval", "0.1");
 *   jst_tracker_start(t);
 *   jst_tracker_mark(t, "phase - begin forward", 21); …
 *   jst_tracker_stop(t, 0); char *json = jst_tracker_json(t); … jst_tracker_free_string(json);
 *   jst_tracker_free(t);
 *
 * Every function but jst_tracker_new returns 0 or a negative errno and leaves a lower-case
 * message in jst_tracker_error(). Marks never block on the store: the sampling thread writes it
 * outside the lock that marks take. */
#ifndef JOULESTREAM_TRACKER_H
#define JOULESTREAM_TRACKER_H

#include <stddef.h>

#include "joulestream/common.h"

struct jst_tracker;

JST_API int jst_tracker_new(struct jst_tracker **out);

/* Before jst_tracker_start. Keys: zone, cloud, site (of the configuration file), config (its
 * path; default as for `joulestream run`), pue, wue, interval (seconds, 0.001 to 3600),
 * scope (process|host), sensors (rapl,nvml,hwmon,estimate), no_estimate (0|1), db (a store
 * path; default the user's store), store (0: do not store), project, model (a tag), command
 * (shown in reports; default this process's command line), epochs (planned), predict_after,
 * sysfs_root, procfs_root. -EINVAL for an unknown key or a bad value. */
JST_API int jst_tracker_set(struct jst_tracker *t, const char *key, const char *value);

/* Opens the sensors and the store, starts the clock and the sampling thread. */
JST_API int jst_tracker_start(struct jst_tracker *t);

/* One or more marks, one per line, in the text form of jst_mark_parse() ("-" for now as the
 * time). A bad message is counted and named in the report; -EINVAL says so. An epoch mark
 * samples at once (unless the last sample is less than half an interval old), so the epoch's
 * energy and the prediction are known when this returns. */
JST_API int jst_tracker_mark(struct jst_tracker *t, const char *msg, size_t n);

/* The prediction lines said after the first *seen (see jst_monitor_messages): copied into
 * buf, newline-separated; *seen is updated; returns how many. */
JST_API int jst_tracker_messages(struct jst_tracker *t, unsigned *seen, char *buf, size_t n);

/* Ends the run (exit_code as the command's status), stores it and keeps its reports. */
JST_API int jst_tracker_stop(struct jst_tracker *t, int exit_code);

/* The run's JSON record and text summary, malloc'd (free with jst_tracker_free_string); while
 * the tracker runs, a snapshot so far ("status":"running"). NULL on failure. */
JST_API char *jst_tracker_json(struct jst_tracker *t);
JST_API char *jst_tracker_text(struct jst_tracker *t);
JST_API void jst_tracker_free_string(char *s);

JST_API const char *jst_tracker_run_id(const struct jst_tracker *t);
/* Where the run was stored, "" when it is not. */
JST_API const char *jst_tracker_store_path(const struct jst_tracker *t);
JST_API const char *jst_tracker_error(const struct jst_tracker *t);

/* Stops (exit code 0) when still running, then frees. */
JST_API void jst_tracker_free(struct jst_tracker *t);

#endif
