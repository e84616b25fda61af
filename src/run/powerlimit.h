/* GPU power limits while a job trains (issue 18): profile the job's steps under candidate
 * limits, choose by a goal, set the choice for the rest of the run, and restore the limits in
 * force before on every way out (docs/methodology.md, "GPU power limits"). The record is
 * struct jst_gpu_power (joulestream/gpupower.h). A crash or kill -9 leaves a note in the state
 * directory ($XDG_STATE_HOME/joulestream/gpu-limits, else ~/.local/state/joulestream/): the
 * next run, `joulestream gpu profile` or `joulestream gpu restore` puts those limits back.
 * Not thread-safe: the caller serialises (the run's loop is single-threaded). */
#ifndef JST_RUN_POWERLIMIT_H
#define JST_RUN_POWERLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "joulestream/gpupower.h"
#include "joulestream/record.h"

enum jst__plim_goal { JST_PLIM_ENERGY, JST_PLIM_TIME, JST_PLIM_COST, JST_PLIM_SLOWDOWN };

struct jst__plim_opts {
	enum jst__plim_goal goal;
	double eta;      /* cost:η, 0..1 */
	double slowdown; /* slowdown:F, >= 1 */
	unsigned warmup; /* steps before the first window (default 10) */
	unsigned window; /* steps measured per candidate (default 20) */
	unsigned settle; /* steps skipped after a limit changes (default 1) */
	double step_w;   /* candidate spacing (default 25 W) */
	bool profile;    /* `joulestream gpu profile`: profile, then restore; no choice is set */
};

/* Parses auto, auto:energy, auto:time, auto:cost:η, auto:slowdown:F into o (defaults set).
 * Returns 0 or -EINVAL. */
int jst__plim_parse(const char *spec, struct jst__plim_opts *o);
/* The goal as text ("cost:0.5"). */
void jst__plim_goal_text(const struct jst__plim_opts *o, char *buf, size_t n);

struct jst__plim;

/* Restores the limits a dead process left behind (its note). Returns how many were restored
 * (0 when none), or a negative errno with msg saying why (e.g. no privileges). */
int jst__plim_restore_left(char *msg, size_t n);

/* Opens NVML, reads every GPU's limits, writes the note, and sets the maximum limit (or finds
 * it cannot: advice only, rec->why says why). command: the job's command line, the key of the
 * saved profile. rec is filled and must outlive p. Returns 0, or a negative errno when there
 * is nothing to manage (no GPU with a settable limit; rec->why says why). */
int jst__plim_new(struct jst__plim **out, const struct jst__plim_opts *o, const char *command,
                  struct jst_gpu_power *rec);
/* A training step began at t_ns (CLOCK_MONOTONIC: the mark's own time, or when it arrived).
 * Returns true once profiling is over (a choice made, or nothing more to measure). */
bool jst__plim_step(struct jst__plim *p, uint64_t t_ns);
bool jst__plim_done(const struct jst__plim *p);
/* Puts back every limit set and removes the note. Safe to call more than once. */
void jst__plim_restore(struct jst__plim *p);
/* The saving against the maximum limit in energy, CO2e and water (from the run's footprint,
 * per joule) into the record; advice runs read the saved profile. Call after the footprint. */
void jst__plim_account(struct jst__plim *p, const struct jst_run *run);
void jst__plim_free(struct jst__plim *p);

/* Prints the profile as a table (gpu profile, the run's report uses report/). */
void jst__plim_table(FILE *f, const struct jst_gpu_power *rec);

#endif
