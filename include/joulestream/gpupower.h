/* The GPU power limit part of a run record (issue 18), types only: the profile measured under
 * each candidate limit (time and energy per training step), the goal, the limit chosen and what
 * it saved against the maximum limit, or, for a run that could not set limits, the advice. The
 * run layer fills it (src/run/powerlimit.c); reports print it; run_end carries it. */
#ifndef JOULESTREAM_GPUPOWER_H
#define JOULESTREAM_GPUPOWER_H

#include <stdbool.h>
#include <stddef.h>

#define JST_GPUP_GPUS 8    /* GPUs of one run whose limits are managed */
#define JST_GPUP_POINTS 64 /* candidate limits measured */

/* One candidate: every GPU's limit and what one step cost under them (all GPUs together). */
struct jst_gpu_point {
	double limits_w[JST_GPUP_GPUS];
	double time_s;   /* per step */
	double energy_j; /* per step, the GPUs' sum */
	double power_w;  /* energy_j / time_s */
	unsigned steps;  /* steps measured */
};

struct jst_gpu_power {
	char mode[16];  /* "auto" (set limits), "advice" (could not: advice only), "profile" */
	char goal[32];  /* "energy", "time", "cost:0.5", "slowdown:1.1" */
	char state[16]; /* "chosen", "profiling" (ended before a choice), "refused", "failed" */
	char why[320];  /* why limits could not be set or profiling failed; "" */
	size_t ngpus;
	unsigned gpu_index[JST_GPUP_GPUS];
	char gpu_uuid[JST_GPUP_GPUS][96];
	double prev_w[JST_GPUP_GPUS];   /* the limit in force before: restored at the end */
	double min_w[JST_GPUP_GPUS], max_w[JST_GPUP_GPUS];
	double chosen_w[JST_GPUP_GPUS]; /* 0 until chosen */
	bool restored;                  /* every limit set was put back */
	struct jst_gpu_point points[JST_GPUP_POINTS]; /* in the order measured: max first */
	size_t npoints;
	int best; /* index of the chosen point, -1 */
	int ref;  /* index of the maximum limit's point, -1 */
	unsigned long steps;       /* steps seen in the run */
	unsigned long steps_after; /* steps run under the chosen limit */
	/* Against the maximum limit, over steps_after (advice: over every step of the run). */
	double saved_j, saved_co2e_g, saved_water_l, extra_time_s;
	char advice_from[64];      /* advice: the profile file's date, "" */
};

#endif
