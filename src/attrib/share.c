/* The sharing model: what fraction of a zone's interval energy is the run's, the rest of the
 * host's, or idle. CPU zones follow Kepler: idle = 1 - busy/total, and the busy part is split by
 * CPU time, the run never getting more than the busy part. GPU zones are split between the
 * processes on the device. Pure arithmetic: shares always sum to 1, each in [0, 1]. */
#include "joulestream/attrib.h"

#include <math.h>

/* x limited to [lo, hi]; NaN gives lo. */
static double clamp(double x, double lo, double hi)
{
	if (!(x > lo))
		return lo;
	return x < hi ? x : hi;
}

void jst_share_cpu(const struct jst_cpu_times *d, const struct jst_share *prev,
		   struct jst_share *out)
{
	if (!out)
		return;
	if (!d || !(d->host_total_s > 0) || !isfinite(d->host_total_s)) {
		/* no CPU time in the interval (shorter than a tick): keep the last split */
		*out = prev ? *prev : (struct jst_share){0, 0, 1};
		return;
	}
	double busy = clamp(d->host_busy_s / d->host_total_s, 0, 1);
	/* tick skew between per-process and host counters can give run > busy: cap it */
	double run = clamp(d->run_s / d->host_total_s, 0, busy);
	out->run = run;
	out->other = busy - run;
	out->idle = 1 - busy;
}

void jst_share_gpu(const struct jst_gpu_proc *procs, size_t n, const struct jst_proctree *t,
		   struct jst_share *out)
{
	if (!out)
		return;
	if (!procs || n == 0) {
		*out = (struct jst_share){0, 0, 1};
		return;
	}
	bool by_util = true;
	double util_all = 0, util_run = 0;
	size_t nrun = 0;
	for (size_t i = 0; i < n; i++) {
		bool mine = jst_proctree_has(t, procs[i].pid);
		double u = procs[i].sm_util > 100 ? 100 : procs[i].sm_util;
		if (!procs[i].util_known)
			by_util = false;
		util_all += u;
		if (mine) {
			util_run += u;
			nrun++;
		}
	}
	double run = by_util && util_all > 0 ? util_run / util_all : (double)nrun / (double)n;
	run = clamp(run, 0, 1);
	out->run = run;
	out->other = 1 - run;
	out->idle = 0;
}
