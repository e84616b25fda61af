/* Training marks and what they add to a run. A training job marks phases (nested: "train",
 * then "forward" inside it, named by their path "train/forward"), steps, epochs, metrics and
 * tags, each with a CLOCK_MONOTONIC timestamp. The monitor splits every sampling interval's
 * energy among the phases, the epochs and the step ranges active in it, in proportion to their
 * time in it, so each of those adds up to the run's total; metrics are kept with the run's
 * energy at the instant they were logged. Marks arrive as small text messages (the socket of
 * `joulestream run`, the Python package) parsed by jst_mark_parse(), or through the tracker
 * (tracker.h). Everything is bounded: the limits below say what is counted together beyond
 * them, and the report says when that happened. */
#ifndef JOULESTREAM_TRAIN_H
#define JOULESTREAM_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/carbon.h"
#include "joulestream/common.h"
#include "joulestream/sensor.h"

#define JST_MARK_MSG_MAX 1024     /* bytes of one message */
#define JST_MARK_NAME_MAX 48      /* phase name, metric name or tag key, with its NUL */
#define JST_MARK_TEXT_MAX 256     /* a tag's value, with its NUL */
#define JST_MARK_VALUES_MAX 16    /* name=value pairs in one metric message */
#define JST_PHASE_DEPTH 8         /* nesting depth */
#define JST_PHASE_PATH_MAX 200    /* "train/forward", with its NUL */
#define JST_PHASES_MAX 64         /* distinct paths, "(none)" and "(other)" included */
#define JST_EPOCHS_MAX 1024       /* epochs kept one by one; later ones are counted together */
#define JST_EPOCH_VALUES 8        /* last metric values kept per epoch */
#define JST_STEP_RANGES 64        /* step ranges; when full, neighbours merge (width doubles) */
#define JST_METRIC_NAMES_MAX 32   /* distinct metric names in a run */
#define JST_METRICS_KEPT 1024     /* metric records kept in memory; the store has them all */
#define JST_TAGS_MAX 32

struct jst_run;

/* ---- marks ---------------------------------------------------------------------------------- */

enum jst_mark_kind {
	JST_MARK_PHASE_BEGIN, /* phase T begin NAME */
	JST_MARK_PHASE_END,   /* phase T end NAME */
	JST_MARK_STEP,        /* step T [N]: step N begins (N absent: the next one) */
	JST_MARK_EPOCH_BEGIN, /* epoch T begin [N] [total=M]: epoch N begins, M planned */
	JST_MARK_EPOCH_END,   /* epoch T end: the current epoch ends */
	JST_MARK_METRIC,      /* metric T [step=N] [epoch=N] NAME=VALUE... */
	JST_MARK_TAG,         /* tag T KEY=TEXT (TEXT is the rest of the message) */
	JST_MARK_PLAN,        /* plan T [epochs=M] [predict_after=K] */
	JST_MARK_LOST,        /* lost T N: the sender dropped N marks (its socket was full) */
};

struct jst_mark_value {
	char name[JST_MARK_NAME_MAX];
	double value; /* may be NaN or an infinity ("nan", "inf" on the wire) */
};

/* One mark. T on the wire is CLOCK_MONOTONIC nanoseconds, or "-" for "when it is received"
 * (t_ns 0). */
struct jst_mark {
	enum jst_mark_kind kind;
	uint64_t t_ns;
	char name[JST_MARK_NAME_MAX]; /* phase name, tag key */
	char text[JST_MARK_TEXT_MAX]; /* tag value */
	int64_t n;      /* step or epoch number (-1: the next one), lost count, plan: epochs (-1: unchanged) */
	int64_t total;  /* epoch begin: planned epochs (0: not given) */
	int64_t predict_after; /* plan: completed epochs before predicting (-1: unchanged, 0: never) */
	int64_t step, epoch;   /* metric: -1 for the current ones */
	size_t nvalues;
	struct jst_mark_value values[JST_MARK_VALUES_MAX];
};

/* Parses one message of p[0..n) (a trailing newline is allowed). Pure: no allocation, no
 * global state, never reads past n. Returns 0, or -EINVAL with *why (may be NULL) set to a
 * static lower-case reason. The grammar is in docs/python.md. */
JST_API int jst_mark_parse(const char *p, size_t n, struct jst_mark *out, const char **why);

/* Writes a mark as the message jst_mark_parse() reads (no newline). Returns the length, or
 * -ENOSPC when n is too small, -EINVAL for a name the grammar cannot carry. */
JST_API int jst_mark_format(const struct jst_mark *mk, char *out, size_t n);

/* ---- what the marks add to a run ------------------------------------------------------------ */

/* Time and the run's energy (counted zones) while a phase path was the innermost one. */
struct jst_phase_total {
	char path[JST_PHASE_PATH_MAX]; /* "train/forward"; "(none)" outside any phase; "(other)"
	                                  for paths beyond JST_PHASES_MAX */
	unsigned depth;                /* 1 for "train", 2 for "train/forward", 0 for the others */
	unsigned long entries;         /* times it began */
	double time_s;
	double energy_j;
	double zone_j[JST_ZONES_MAX];  /* per zone of the run, the run's share (counted or not) */
};

struct jst_epoch_total {
	int64_t index;          /* as marked (the Python package counts from 1) */
	double start_s, end_s;  /* since the run's start; end_s is set once it completed */
	double time_s;
	double energy_j;        /* the run's energy while it was the current epoch */
	double start_j, end_j;  /* the run's cumulative energy at its start and end */
	unsigned long steps;    /* step marks inside it */
	bool complete;          /* the next epoch began, "epoch end" came, or the run ended */
	unsigned nvalues;       /* last value of each metric logged during it */
	uint8_t value_name[JST_EPOCH_VALUES]; /* index into jst_train.metric_names */
	double value[JST_EPOCH_VALUES];
};

/* A range of steps [first, last] (step numbers as marked). */
struct jst_step_range {
	int64_t first, last;
	unsigned long steps;
	double time_s;
	double energy_j;
};

/* One metric mark, with the run's state at its instant. */
struct jst_metric {
	uint64_t seq;      /* 0, 1, 2… in the order logged */
	double t_s;        /* since the run's start */
	double energy_j;   /* the run's cumulative energy (counted zones) at that instant */
	int64_t step, epoch; /* -1 when none */
	unsigned nvalues;
	uint8_t name[JST_MARK_VALUES_MAX]; /* index into jst_train.metric_names */
	double value[JST_MARK_VALUES_MAX];
};

/* Prediction of the planned epochs' duration and energy, made once predict_after epochs have
 * completed: the time and energy from the run's start to the end of the last planned epoch,
 * extrapolated from the mean of the completed epochs (gaps between them included). */
struct jst_prediction {
	int64_t after;          /* completed epochs it was made from; 0: none made */
	int64_t planned;
	double duration_s, energy_j, co2e_g, water_l;
	int64_t latest_after;   /* the newest projection, updated after every epoch */
	double latest_duration_s, latest_energy_j;
	bool reached;           /* the planned epochs completed: actual_* are set */
	double actual_duration_s, actual_energy_j;
};

struct jst_train {
	bool used;                   /* at least one mark arrived */
	unsigned long marks;         /* marks taken */
	unsigned long bad_marks;     /* messages that did not parse, or did not fit */
	unsigned long lost_marks;    /* dropped by senders (reported with "lost") */
	unsigned long late_marks;    /* arrived after the interval they belong to was sampled */
	char bad_example[160];       /* the first bad message and why */

	struct jst_phase_total phases[JST_PHASES_MAX];
	size_t nphases;

	struct jst_epoch_total epochs[JST_EPOCHS_MAX];
	size_t nepochs;
	double outside_epoch_s, outside_epoch_j;  /* time before the first epoch, between "epoch end"
	                                             and the next one, after the last */
	unsigned long beyond_epochs;              /* epochs past JST_EPOCHS_MAX, counted together */
	double beyond_s, beyond_j;
	int64_t epochs_planned;                   /* 0: not given */
	int predict_after;                        /* default 1; 0: no prediction */

	struct jst_step_range steps[JST_STEP_RANGES];
	size_t nsteps;                /* ranges used */
	int64_t step_base, step_width;
	unsigned long steps_total;
	double outside_step_s, outside_step_j;    /* before the first step */

	char metric_names[JST_METRIC_NAMES_MAX][JST_MARK_NAME_MAX];
	size_t nmetric_names;
	struct jst_metric metrics[JST_METRICS_KEPT]; /* every stride-th metric, oldest first */
	size_t nmetrics;
	unsigned metric_stride;
	unsigned long metrics_logged;
	unsigned long metric_values_dropped; /* names beyond JST_METRIC_NAMES_MAX */

	char tag_key[JST_TAGS_MAX][JST_MARK_NAME_MAX];
	char tag_value[JST_TAGS_MAX][JST_MARK_TEXT_MAX];
	size_t ntags;

	struct jst_prediction prediction;
};

/* A zeroed record (for loading a stored run's: jst_store_load_train); free with free(). */
JST_API struct jst_train *jst_train_new(void);

/* The index of a metric name in t->metric_names, adding it when new; -1 when the table is
 * full. */
JST_API int jst_train_metric_name(struct jst_train *t, const char *name);

/* Adds a metric to the bounded list in t->metrics: every metric_stride-th by its seq is kept;
 * when the list is full, every other one is dropped and the stride doubles. Metrics must come
 * in seq order. */
JST_API void jst_train_keep_metric(struct jst_train *t, const struct jst_metric *m);

/* Looks up a tag's value; NULL when absent. */
JST_API const char *jst_train_tag(const struct jst_train *t, const char *key);

/* The footprint of an amount of a run's energy (a phase's, an epoch's): its share of the run's
 * footprint once the run is finished, else computed with the run's site (PUE, intensity, WUE,
 * grid water). */
JST_API void jst_train_footprint(const struct jst_run *run, double energy_j, struct jst_footprint *out);

#endif
