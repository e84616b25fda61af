/* A run as a session: the monitor that fills a run record (record.h) tick by tick from the
 * sensors and the process tree, training marks fed to it (train.h has the marks and the
 * training record), and the collection of the run's metadata. The record types and the pure
 * functions over them moved to record.h, which this header includes, so code that includes
 * run.h sees everything it did before. */
#ifndef JOULESTREAM_RUN_H
#define JOULESTREAM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joulestream/attrib.h"
#include "joulestream/common.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"
#include "joulestream/sensor.h"
#include "joulestream/train.h"

/* The monitor: sensors + process tree + shares, advancing a run tick by tick. */
struct jst_monitor;

struct jst_monitor_opts {
	struct jst_roots roots;
	const char *sensors;  /* backends to use, NULL = automatic */
	bool no_estimate;
	enum jst_scope scope;
	uint64_t interval_ns;
	size_t pending_max;   /* samples buffered between drains (0: enough for 0.5 s) */
};

/* Opens the sensors and fills run->zones and run->meta.sensors. The run's id, meta and site
 * should be set by the caller. */
JST_API int jst_monitor_new(struct jst_monitor **out, const struct jst_monitor_opts *opts,
                            struct jst_run *run);
JST_API void jst_monitor_free(struct jst_monitor *m);
JST_API struct jst_sensors *jst_monitor_sensors(struct jst_monitor *m);

/* Starts the run's clock and every zone's baseline at now_ns (CLOCK_MONOTONIC). Call it just
 * before the command starts, so the run's duration covers all of the command. */
JST_API void jst_monitor_start(struct jst_monitor *m, uint64_t now_ns);

/* Attributes to the process tree rooted at root (reaper: see jst_proctree_new). Processes are
 * counted from their start, so attaching right after fork loses nothing. Not needed with scope
 * host. */
JST_API int jst_monitor_attach(struct jst_monitor *m, pid_t root, pid_t reaper);

/* One tick: reads the sensors, updates shares, adds to the totals, the timeline and the pending
 * samples. reaped_s: see jst_proctree_sample. No allocation. */
JST_API void jst_monitor_tick(struct jst_monitor *m, uint64_t now_ns, double reaped_s);

/* The samples buffered since the last drain; the caller stores them, then calls
 * jst_monitor_drained(). When the buffer fills before a drain, the oldest pending samples are
 * counted as dropped from the stored timeline (totals are never affected) and a note says so. */
JST_API const struct jst_sample *jst_monitor_pending(const struct jst_monitor *m, size_t *n);
JST_API void jst_monitor_drained(struct jst_monitor *m);

/* How many of the run's processes other than the attached one were alive at the last tick:
 * the descendants that outlive the command (daemons, setsid, double forks), for `run
 * --wait-descendants`. 0 without a process tree. */
JST_API size_t jst_monitor_descendants(const struct jst_monitor *m);

/* Ends the run: end time, duration, totals, footprint. Descendants still alive are named in a
 * note (pid and command name). */
JST_API void jst_monitor_finish(struct jst_monitor *m, uint64_t now_ns);
JST_API const struct jst_timeline *jst_monitor_timeline(const struct jst_monitor *m);

/* Makes the monitor integrate the run's carbon and water with series, tick by tick (call
 * before jst_monitor_start; series must outlive the monitor). */
JST_API void jst_monitor_set_series(struct jst_monitor *m, const struct jst_series *series);

/* ---- training marks to the monitor (train.h has the marks and the record) ---------------- */

/* Feeds one mark to the monitor (after jst_monitor_start). now_ns: CLOCK_MONOTONIC now, used
 * when the mark has no time. The first mark allocates the record (run->train); later ones
 * allocate nothing. Returns 0, or a negative errno when the mark was refused (counted as bad). */
JST_API int jst_monitor_mark(struct jst_monitor *m, const struct jst_mark *mark, uint64_t now_ns);

/* Same, from a message (see jst_mark_parse); a bad message is counted and kept as an example
 * for the report, never fatal. */
JST_API int jst_monitor_mark_text(struct jst_monitor *m, const char *p, size_t n, uint64_t now_ns);

/* Metrics logged since the last drain whose energy is known (the interval they fell in has
 * been sampled); jst_monitor_drained() drops them with the samples. */
JST_API const struct jst_metric *jst_monitor_pending_metrics(const struct jst_monitor *m, size_t *n);

/* The prediction lines ("prediction after 1 of 10 epochs: …") said after the first *seen ones:
 * copied into buf, oldest first, separated by newlines; *seen becomes the number of lines said
 * so far (start with 0). Returns how many were copied. The last 16 are kept for late readers. */
JST_API size_t jst_monitor_messages(const struct jst_monitor *m, unsigned *seen, char *buf, size_t n);

/* Fills meta from the system: host, user, cwd, kernel, CPU, RAM, container, git. procfs_root
 * for /proc reads. Slow parts (git) are only started here: jst_meta_collect_finish() completes
 * them, so that the job is not delayed. */
JST_API void jst_meta_collect(struct jst_meta *meta, const char *procfs_root, int argc, char **argv);
JST_API void jst_meta_collect_finish(struct jst_meta *meta);
/* A caller that reaps children with waitpid(-1) passes each one here, in case it was the
 * background git started by jst_meta_collect(). */
JST_API void jst_meta_child_exited(pid_t pid, int status);

#endif
