/* A run: one measured job from start to exit. struct jst_run is the whole record (metadata,
 * per-zone totals and shares, carbon and water, problems met) that reports print and the store
 * keeps; the monitor fills it tick by tick. The timeline kept in memory is bounded: when full,
 * neighbouring points are merged pairwise, so totals stay exact and only resolution is lost;
 * the store keeps every sample. */
#ifndef JOULESTREAM_RUN_H
#define JOULESTREAM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joulestream/attrib.h"
#include "joulestream/carbon.h"
#include "joulestream/common.h"
#include "joulestream/flags.h"
#include "joulestream/sensor.h"

#define JST_RUN_ID_LEN 26 /* a ULID: 48-bit ms time + 80 random bits, Crockford base32 */
#define JST_TIMELINE_POINTS 2048
#define JST_NOTES_MAX 16
#define JST_NOTE_LEN 320

enum jst_scope {
	JST_SCOPE_PROCESS, /* the run's processes get their share of each zone */
	JST_SCOPE_HOST,    /* the whole machine is charged (dedicated training nodes) */
};

/* How the grid zone was chosen; reports say it. */
enum jst_zone_origin {
	JST_ORIGIN_NONE,   /* unknown: the world average is used, loudly */
	JST_ORIGIN_OPTION, /* --zone */
	JST_ORIGIN_CLOUD,  /* --cloud PROVIDER:REGION */
	JST_ORIGIN_SITE,   /* a site of the configuration file (--site, or its default site) */
	JST_ORIGIN_GUESSED, /* guessed offline from the system's time zone; reports say so */
	JST_ORIGIN_SERIES, /* the zone named by the --intensity series */
};

/* A run's carbon and water as computed with one version of the data: the run-time figure and
 * every `joulestream reprocess` (run_results in the store; src/carbon/ and docs/methodology.md). */
#define JST_RESULTS_MAX 8
struct jst_run_result {
	char data_version[160];  /* "bundled-2024.1", "file:ci.csv@sha256:0123456789ab" */
	uint64_t computed_ns;    /* when, UTC */
	char kind[16];           /* "run" (at run time) or "reprocess" */
	char zone_code[32];
	char ci_source[192];     /* the series or the yearly average used */
	double ci_avg_g_per_kwh; /* co2e / facility kWh */
	double ci_min_g_per_kwh, ci_max_g_per_kwh; /* range of the intensities used */
	double outside_kwh;      /* IT energy outside the series, at the yearly average */
	double it_kwh, facility_kwh, co2e_g, water_site_l, water_grid_l, water_l;
	double embodied_g, sci_g, functional_units;
	char functional_unit[48];
};

struct jst_zone_total {
	struct jst_zone zone;
	double host_j;  /* the zone's whole energy */
	double run_j;   /* the run's share of it */
	double idle_j;  /* idle part, reported apart (CPU zones) */
	double peak_w;  /* highest interval power seen */
	unsigned long samples; /* intervals with a valid value */
	unsigned long failed;  /* intervals with no valid value */
	unsigned long wraps;   /* counter wraps handled */
	unsigned long backwards; /* counter went back with no known range */
	bool gone;             /* the device vanished during the run */
};

struct jst_meta {
	char host[256];
	char user[64];
	char cwd[1024];
	char command[2048];  /* the command line, shell-quoted where needed */
	char kernel[224];
	char cpu_model[128];
	unsigned cpu_count;
	double ram_gb;
	char gpus[256];      /* "2 x NVIDIA H100 80GB HBM3" or "" */
	char gpu_driver[64];
	char git_commit[64]; /* "" outside a repository */
	int git_dirty;       /* 1 dirty, 0 clean, -1 unknown */
	char container[80];  /* container id when the monitor runs inside one */
	char version[32];    /* joulestream version */
	char sensors[256];   /* "rapl,nvml" or "estimate" */
	char project[128];   /* user label, CodeCarbon's project_name */
};

struct jst_run {
	char id[JST_RUN_ID_LEN + 1];
	struct jst_meta meta;
	uint64_t start_ns, end_ns; /* UTC, ns since the epoch */
	double duration_s;         /* monotonic */
	double interval_s;
	unsigned long samples;     /* ticks taken */
	bool finished;
	int exit_code;   /* the status passed through: code, or 128+signal */
	int exit_signal; /* signal that ended the command, 0 if none */
	enum jst_scope scope;

	/* carbon and water inputs and results */
	enum jst_zone_origin zone_origin;
	char zone_code[32];
	char zone_name[96];
	char cloud[64];   /* "aws:eu-central-1" when given */
	double ci_g_per_kwh;
	int ci_year;
	char ci_source[96];
	double ewif_l_per_kwh; /* <0 unknown */
	char ewif_source[160];
	double pue, wue_l_per_kwh;
	char pue_source[96]; /* "given", "default", or the cloud provider's source */
	char wue_source[96];
	struct jst_footprint footprint; /* of the run's IT energy */
	double host_j;                  /* IT energy of the host (counted zones) */
	double run_j;                   /* IT energy of the run (counted zones) */
	double idle_j;
	double cpu_s;                   /* CPU time of the run's processes (process scope) */
	bool estimated;                 /* some counted zone is an estimate */

	/* provenance of the carbon and water figures, time-varying intensity, SCI */
	char data_version[160];   /* the data that produced footprint: JST_DATA_VERSION or a series' */
	char ci_series[192];      /* the intensity series used, "" for the yearly average */
	double ci_avg_g_per_kwh;  /* effective intensity: co2e_g / facility kWh */
	double ci_min_g_per_kwh, ci_max_g_per_kwh; /* range of the series values used */
	double series_outside_kwh; /* IT energy the series did not cover: yearly average used */
	char ci_fallback[256];    /* why a requested series or live source was not used, or "" */
	char tz_guess[64];        /* the time zone a guessed zone came from */
	char site[64];            /* the configuration site used, or "" */
	double embodied_g;        /* M of SCI: the embodied emissions charged to the run */
	char embodied_source[256];
	double embodied_kg_opt;   /* --embodied KG for the machine, 0 = from data/embodied.csv */
	double lifetime_years_opt; /* --lifetime YEARS, 0 = from the data */
	double functional_units;  /* R of SCI: 0 means one run */
	char functional_unit[48]; /* "samples" */
	double sci_g;             /* (co2e_g + embodied_g) / R, gCO2e per unit */
	struct jst_run_result results[JST_RESULTS_MAX]; /* loaded by the store, newest first */
	size_t nresults;

	struct jst_zone_total zones[JST_ZONES_MAX];
	size_t nzones;

	char notes[JST_NOTES_MAX][JST_NOTE_LEN]; /* problems met, for the report */
	size_t nnotes;

	/* Phases, epochs, steps, metrics and tags (train.h), NULL when the run had no training
	 * marks. Borrowed: the monitor's record (valid until jst_monitor_free), or one the caller
	 * filled with jst_store_load_train(). The store and the reports read it when set. */
	struct jst_train *train;

	/* Trust (docs/integrity.md): flags computed while the run is recorded (stored in
	 * run_flags), the idle floor of the host's calibration (derived when loaded), and the
	 * record's content hash once the store has sealed it into its chain ("" before). */
	struct jst_run_flag flags[JST_FLAGS_MAX];
	size_t nflags;
	struct jst_floor floor;
	char content_hash[65];
};

/* A point of the bounded timeline: time since start, length, and per-zone energies. */
struct jst_timeline {
	size_t nzones;
	size_t npoints;
	unsigned stride;      /* ticks merged into one new point */
	unsigned pending;     /* ticks accumulated into the point being built */
	double *t_s;          /* [JST_TIMELINE_POINTS] start of each point, s since run start */
	double *dt_s;         /* [JST_TIMELINE_POINTS] */
	double *host_j;       /* [JST_TIMELINE_POINTS][nzones] */
	double *run_j;        /* [JST_TIMELINE_POINTS][nzones] */
};

/* One stored sample: a zone's interval. */
struct jst_sample {
	double t_s;      /* interval start, s since run start */
	double dt_s;
	uint32_t zone;   /* index into jst_run.zones */
	uint32_t flags;  /* enum jst_read_flag */
	double host_j;
	double run_j;
	double power_w;
	double idle_j;   /* the idle part of host_j (CPU zones), charged to nobody */
};

/* Makes a new ULID from the wall clock and getrandom(); out has JST_RUN_ID_LEN + 1 bytes. */
JST_API void jst_run_id_new(char *out);

/* Appends a note (printf-style) to the run; the oldest are kept when there are too many. */
JST_API void jst_run_note(struct jst_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the grid zone, PUE and WUE. zone or cloud may be NULL; with neither, the world average
 * is used and the origin says so. Returns 0, or -ENOENT with msg set when a code is unknown. */
JST_API int jst_run_set_site(struct jst_run *run, const char *zone, const char *cloud, double pue,
                             double wue, char *msg, size_t msglen);

/* "none", "option", "cloud", "site", "guessed", "series": the store's and reports' names. */
JST_API const char *jst_zone_origin_name(enum jst_zone_origin o);

/* Adds one valid sample to its zone's totals (energy, run and idle parts, peak power, count):
 * the one accumulation the live monitor and the view rebuilt from the log share. */
JST_API void jst_zone_total_add(struct jst_zone_total *zt, const struct jst_sample *s);

/* Totals the zones into host_j / run_j / idle_j and computes the footprint. */
JST_API void jst_run_finish_totals(struct jst_run *run);

/* Formats a duration as "12m04s", "3.2s", "1h02m". */
JST_API void jst_format_duration(double s, char *out, size_t n);

JST_API int jst_timeline_init(struct jst_timeline *tl, size_t nzones);
JST_API void jst_timeline_release(struct jst_timeline *tl);
/* Adds one tick: per-zone host and run energy (arrays of nzones). No allocation. */
JST_API void jst_timeline_add(struct jst_timeline *tl, double t_s, double dt_s, const double *host_j,
                              const double *run_j);

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

/* Ends the run: end time, duration, totals, footprint. */
JST_API void jst_monitor_finish(struct jst_monitor *m, uint64_t now_ns);
JST_API const struct jst_timeline *jst_monitor_timeline(const struct jst_monitor *m);

/* Fills meta from the system: host, user, cwd, kernel, CPU, RAM, container, git. procfs_root
 * for /proc reads. Slow parts (git) are only started here: jst_meta_collect_finish() completes
 * them, so that the job is not delayed. */
JST_API void jst_meta_collect(struct jst_meta *meta, const char *procfs_root, int argc, char **argv);
JST_API void jst_meta_collect_finish(struct jst_meta *meta);
/* A caller that reaps children with waitpid(-1) passes each one here, in case it was the
 * background git started by jst_meta_collect(). */
JST_API void jst_meta_child_exited(pid_t pid, int status);

#endif
