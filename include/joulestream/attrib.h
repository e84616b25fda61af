/* Attribution: which processes belong to a run, how much CPU they used, and how a zone's energy
 * is split between the run, the rest of the host and idle. The run is a root process and all
 * its descendants, including those that double-fork or leave the process group (the monitor
 * makes itself their subreaper, so they stay in the tree). Everything is read from procfs under
 * a configurable root. Sampling allocates nothing once the tree has reached its size. */
#ifndef JOULESTREAM_ATTRIB_H
#define JOULESTREAM_ATTRIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "joulestream/common.h"
#include "joulestream/sensor.h"

/* CPU time over one interval, in seconds. host_total_s counts every CPU (busy + idle), so a
 * fully busy 8-CPU host gives host_total_s = 8 × interval. */
struct jst_cpu_times {
	double run_s;       /* CPU time of the run's processes */
	double host_busy_s; /* CPU time of everything (not idle, not iowait) */
	double host_total_s;
	unsigned nprocs;    /* live processes in the run now */
};

struct jst_proctree;

/* root: the run's first process. reaper: a pid whose children other than root are orphans of
 * the run adopted by it (PR_SET_CHILD_SUBREAPER), or 0. */
JST_API int jst_proctree_new(struct jst_proctree **out, const char *procfs_root, pid_t root,
                             pid_t reaper);
JST_API void jst_proctree_free(struct jst_proctree *t);

/* Refreshes the tree and its CPU times, and writes the deltas since the previous call (the first
 * call counts from the processes' start). reaped_s is the cumulative CPU time of run processes
 * the caller has already reaped (getrusage(RUSAGE_CHILDREN) of the reaper), so that time does
 * not vanish when a process exits between two samples. Returns 0 or a negative errno. */
JST_API int jst_proctree_sample(struct jst_proctree *t, double reaped_s, struct jst_cpu_times *d);

/* Whether pid is in the run: tracked now, or exited during the interval the last sample closed
 * (a GPU it used until it exited was the run's for that interval). */
JST_API bool jst_proctree_has(const struct jst_proctree *t, pid_t pid);
JST_API size_t jst_proctree_count(const struct jst_proctree *t);
/* The run's processes still alive at the last sample (not exited, not zombies): up to max pids
 * in out (may be NULL with max 0); returns how many there are. */
JST_API size_t jst_proctree_alive(const struct jst_proctree *t, pid_t *out, size_t max);

/* Shares of a zone's interval energy. run + other + idle = 1, each in [0, 1]. */
struct jst_share {
	double run;
	double other;
	double idle;
};

/* CPU zones (package, dram, CPU estimate): the busy part of the energy is split by CPU time,
 * the idle part (1 - busy/total) is reported apart (Kepler's model). With no CPU time in the
 * interval (shorter than a clock tick) prev is returned unchanged. */
JST_API void jst_share_cpu(const struct jst_cpu_times *d, const struct jst_share *prev,
                           struct jst_share *out);

/* GPU zones: by per-process SM utilisation when the driver gives it, else by the number of
 * processes; a GPU with only run processes is all the run's; one with no process is idle. */
JST_API void jst_share_gpu(const struct jst_gpu_proc *procs, size_t n, const struct jst_proctree *t,
                           struct jst_share *out);

#endif
