/* A run's record as a view of its events (DESIGN.md §1): run_start gives the metadata, the
 * zones and the carbon inputs, each sample adds to its zone's totals through the same
 * jst_zone_total_add() the live monitor uses, run_end gives the exit, the notes, the counts no
 * sample carries, the integrity flags and the carbon result the run computed with its data
 * version. Totals are derived from the samples, not copied. Every store's `show`, `runs` and
 * `reprocess` read runs through this view, whatever the database. Pure logic over event
 * bodies: samples go through the allocation-free event parser, run_start and run_end through
 * cJSON. */
#ifndef JST_AGG_RUNVIEW_H
#define JST_AGG_RUNVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/event.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"

struct jst__trainer;
struct jst__legacy_train;
struct jst_gpu_power;

/* A mark event waiting for the tick that covers it. */
struct jst__view_mark {
	uint64_t ts;
	bool late;
	char text[JST_MARK_MSG_MAX + 1];
};

struct jst__runview {
	struct jst_run *run;
	bool started, ended;
	bool light; /* only run_start and run_end are folded in: totals as run_end recorded them */
	/* the samples of the tick being read (they share ts_ns), added when the tick is complete */
	bool tick_open;
	uint64_t tick_ts, last_tick_ts;
	struct jst_sample tick[JST_ZONES_MAX];
	bool tick_has[JST_ZONES_MAX];
	unsigned tick_wraps[JST_ZONES_MAX];
	/* the training record, rebuilt from the mark events through the live trainer (train.c):
	 * marks are applied in time order before the tick that follows them, as the monitor did */
	struct jst__trainer *trainer;
	struct jst__view_mark *marks;
	size_t nmarks, cap_marks, next_mark;
	char notes[JST_NOTES_MAX][JST_NOTE_LEN]; /* run_end's, kept across the trainer's end */
	unsigned long bad_marks;                 /* refused marks, as run_end counted them */
	char bad_example[192];
	unsigned long events, bad; /* events folded in; bodies that could not be read */
	struct jst_footprint recorded; /* the footprint run_end recorded */
	struct jst__legacy_train *legacy; /* a converted run's phases and counters (runview_legacy.h) */
	struct jst_gpu_power *gpu_power;  /* run_end's gpu_power_limit (runview_gpu.h), or NULL */
	/* the intensity values the run's carbon used (intensity events), and the second pass over
	 * the samples that integrates them (jst__runview_carbon_*) */
	struct jst_ci_point *ci;
	size_t nci, cap_ci;
	int64_t ci_last_ns; /* how long the latest value holds */
	int64_t ci_last_t;  /* the latest value's time (INT64_MIN: none yet) */
	char ci_version[160], ci_source[128], ci_zone[32];
	struct jst_series series;
	struct jst_carbon_acc acc;
	bool carbon_pass;    /* the second pass began: finish integrates its samples */
	/* optional: called after each tick is added (serve's phases, settle.c) with the tick's
	 * time, its samples of counted zones and their run energy, and the training record so
	 * far (NULL before the first mark) */
	void (*tick_fn)(void *ud, uint64_t ts, unsigned samples, double run_j, const struct jst_train *rec);
	void *tick_ud;
	struct jst_event ev; /* the event being folded in */
};

/* Sorts a series' points by time, each instant once: of points given for the same instant, the
 * one later in p wins (the later event in the log). Returns how many are left. */
size_t jst__ci_sort_unique(struct jst_ci_point *p, size_t n);

/* Clears run and starts a view of it. */
void jst__runview_init(struct jst__runview *v, struct jst_run *run);
/* Frees the training state; run->train (when set) points into it until then. */
void jst__runview_release(struct jst__runview *v);
/* Folds one stored event body (a JSON object) into the record; events of other runs, and types
 * the record does not use, are skipped. Returns 0, or -EINVAL for a body that is not JSON. */
int jst__runview_event(struct jst__runview *v, const char *body, size_t n);
/* True when the run's carbon needs a second pass over its samples: its log holds the
 * intensity values it used (a series from a file or a live source). The caller then calls
 * jst__runview_carbon_begin(), feeds the run's sample events in log order to
 * jst__runview_carbon_sample(), and jst__runview_finish() integrates them as the run did. */
bool jst__runview_wants_samples(const struct jst__runview *v);
void jst__runview_carbon_begin(struct jst__runview *v);
int jst__runview_carbon_sample(struct jst__runview *v, const char *body, size_t n);
/* Derives the totals and the footprint (light: keeps run_end's totals, or run_j/host_j as
 * the caller set them while the run goes on). -ENOENT when no run_start was seen. */
int jst__runview_finish(struct jst__runview *v);

#endif
