/* Green scheduling: where and when to run a job. Where: candidate sites of the configuration
 * ranked by carbon (CI × PUE) or water (WUE + PUE × EWIF) per IT kWh, or a weighted score of
 * both, with the scheduler hints that follow from the ranking (Nomad affinities weighted as
 * AI4EOSC's GreenDirector does, Kubernetes preferred node affinities, a SLURM partition
 * order). When: the start time with the lowest average intensity over the job's length in a
 * forecast, sliding one data point at a time as the Carbon Aware SDK does, or the cleanest
 * chunks of an interruptible job. Formulas and examples: docs/scheduling.md. */
#ifndef JOULESTREAM_SCHED_H
#define JOULESTREAM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "joulestream/common.h"
#include "joulestream/config.h"
#include "joulestream/intensity.h"

/* ---- series over a window ---------------------------------------------------------------- */

/* The time-weighted mean of s over [from_ns, to_ns): each value holds from its time until the
 * next one (the last for last_ns). Only the covered part counts: *covered_ns says how much of
 * the window that was. 0, or -ENOENT when the series covers none of it. */
JST_API int jst_series_mean(const struct jst_series *s, int64_t from_ns, int64_t to_ns,
                            double *mean, int64_t *covered_ns);

/* ---- where: ranking sites ---------------------------------------------------------------- */

enum jst_rank_by { JST_RANK_CARBON, JST_RANK_WATER, JST_RANK_BOTH };

struct jst_sched_site {
	char name[64];
	char zone[32];             /* grid zone (a cloud site: its region's) */
	char zone_name[64];
	char cloud[64];            /* "aws:eu-central-1" or "" */
	char label[64];            /* Kubernetes label value: the site's label, else its cloud
	                            * region, else its name */
	char partition[64];        /* SLURM partition, "" none */
	char accelerators[128];    /* "h100,a100", "" unknown */
	double capacity;           /* < 0 unknown */
	double pue, wue;
	char pue_source[JST_SOURCE_MAX + 1], wue_source[JST_SOURCE_MAX + 1];
	double ci;                 /* gCO2e/kWh used: the yearly average or the window's mean */
	char ci_source[192];       /* "Ember 2024 yearly average", "file ci.csv", ... */
	char data_version[192];
	bool ci_series;            /* ci is the mean of a series over the window */
	double coverage;           /* share of the window the series covered (1 when yearly) */
	char note[256];            /* why a series was not used, "" otherwise */
	double ewif;               /* L/kWh generated, < 0 unknown */
	double carbon;             /* ci × pue: gCO2e per IT kWh */
	double water;              /* wue + pue × ewif: L per IT kWh, < 0 unknown */
	double score;              /* what the ranking sorts, lower is better */
	bool known;                /* score is known (water needs EWIF) */
	int rank;                  /* 1 = best */
	int order;                 /* position in the configuration (ties keep it) */
	int nomad_weight;          /* best 100 ... worst nomad_min, linear in the score */
	int k8s_weight;            /* best 100 ... worst 1, linear in the score */
};

/* Fills s from a configured site: its zone (or its cloud region's), PUE and WUE (the site's,
 * else its cloud provider's, else the defaults of docs/methodology.md, each with its source),
 * the yearly CI and EWIF of the zone. cfg_path names the file in the sources. 0, or a negative
 * errno with err set (a site with neither zone nor cloud, an unknown zone or region). */
JST_API int jst_sched_site_init(struct jst_sched_site *s, const struct jst_site_cfg *site,
                                const char *cfg_path, int order, char *err, size_t errlen);

/* Uses the mean of series over [from_ns, to_ns) as the site's CI. A series that does not
 * cover any of the window leaves the yearly average, with the reason in s->note. */
JST_API void jst_sched_site_use_series(struct jst_sched_site *s, const struct jst_series *series,
                                       int64_t from_ns, int64_t to_ns);

struct jst_rank_opts {
	enum jst_rank_by by;
	double w_carbon, w_water; /* BOTH: weights (>= 0, normalised to a sum of 1; 0,0 = 0.5,0.5) */
	int nomad_min;            /* the worst site's Nomad weight, -100..99 (GreenDirector: 0) */
};

/* Computes carbon, water and the score of every site; sorts them best first (equal scores keep
 * the configuration's order, unknown scores come last); sets rank and the hint weights.
 * BOTH: score = w_c × (carbon − min)/(max − min) + w_w × (water − min)/(max − min) over the
 * sites (a term is 0 when all are equal; an unknown water counts as the worst, 1). */
JST_API void jst_sched_rank(struct jst_sched_site *sites, size_t n, const struct jst_rank_opts *o);

/* Scheduler hints, sites in rank order. Nomad: one `affinity` stanza per site on attribute
 * (e.g. "${node.datacenter}" or "${meta.site}") = the site's name; a weight of 0, which Nomad
 * refuses, is written as a comment instead. Kubernetes: an `affinity:` block of
 * preferredDuringSchedulingIgnoredDuringExecution terms on label_key In [the site's label]
 * (a label shared by several sites gets one term, the best site's weight). comment (may be
 * NULL) is written first as '#' lines. */
JST_API void jst_hints_nomad(FILE *f, const struct jst_sched_site *sites, size_t n,
                             const char *attribute, const char *comment);
JST_API void jst_hints_k8s(FILE *f, const struct jst_sched_site *sites, size_t n,
                           const char *label_key, const char *comment);
/* "--partition=a,b,c": the sites' partitions in rank order, each once. 0, or -ENOENT when no
 * site has one (nothing written). *skipped (may be NULL) counts sites without a partition. */
JST_API int jst_hints_slurm(FILE *f, const struct jst_sched_site *sites, size_t n, size_t *skipped);

/* ---- when: the cleanest start in a forecast ----------------------------------------------- */

struct jst_when_in {
	const struct jst_series *series; /* the forecast */
	int64_t now_ns;
	int64_t duration_ns;             /* the job's length, > 0 */
	int64_t deadline_ns;             /* the job must end by then; 0: the forecast's end */
	int64_t chunk_ns;                /* > 0: interruptible, in chunks of this length */
};

struct jst_window {
	int64_t start_ns, end_ns;
	double ci; /* average intensity over it, gCO2e/kWh */
};

struct jst_gap {
	int64_t from_ns, to_ns;
};

#define JST_WHEN_GAPS_MAX 16
#define JST_WHEN_CHUNKS_MAX 10000

struct jst_when {
	int64_t step_ns;           /* the forecast's step: its most common interval */
	int64_t first_ns, end_ns;  /* what the forecast covers (the last value holds one step) */
	int64_t earliest_ns;       /* the first start considered: now, or the forecast's start */
	int64_t latest_end_ns;     /* the deadline, or the forecast's end if that comes first */
	bool has_best;             /* a contiguous window fits (not with every window in a gap) */
	struct jst_window best;    /* the lowest average; the earliest of equal ones */
	size_t ties;               /* windows with best's average (to 1e-6 g/kWh), best included */
	size_t candidates;         /* windows compared */
	size_t in_gaps;            /* windows left out because they overlap a gap */
	bool has_now;              /* the window that starts now is one of the candidates */
	struct jst_window now;
	size_t ngaps;              /* gaps found; the first JST_WHEN_GAPS_MAX are listed */
	struct jst_gap gaps[JST_WHEN_GAPS_MAX];
	int64_t gap_ns;            /* their total length */
	struct jst_window *chunks; /* interruptible: the chosen chunks in time order, else NULL */
	size_t nchunks;
	double chunks_ci;          /* their average intensity */
	bool chunks_aligned;       /* greedy on the step grid left no room: redone on a grid of
	                            * whole chunks from the earliest start */
};

/* Plans the job (docs/scheduling.md): start times earliest + k × step; a window counts when
 * the forecast covers all of it and it ends by latest_end. Errors (-EINVAL / -ERANGE, err set,
 * nothing to release): a deadline shorter than the job, a forecast that ends too soon or
 * covers no whole window outside its gaps, a duration that is not whole chunks. */
JST_API int jst_when_plan(const struct jst_when_in *in, struct jst_when *out, char *err,
                          size_t errlen);
JST_API void jst_when_release(struct jst_when *w);

#endif
