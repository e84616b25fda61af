/* The run record: what one measured job was (metadata, per-zone totals and shares, carbon and
 * water, provenance, problems met, trust flags) as reports print it, the store keeps it and
 * events carry it, with the bounded timeline and the stored sample. These are views of the
 * event log, below every layer that reads or writes them (docs/architecture.md, "Layer
 * order"); the session that fills a record live (the monitor, the tracker) is run.h, which
 * includes this header. Functions here compute on records: no sensor, no store, no clock of
 * their own (ids read the wall clock and getrandom(); choosing a site may read the system's
 * time zone through carbon). The training record (phases, epochs, metrics) is train.h. */
#ifndef JOULESTREAM_RECORD_H
#define JOULESTREAM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/carbon.h"
#include "joulestream/common.h"
#include "joulestream/config.h"
#include "joulestream/flags.h"
#include "joulestream/intensity.h"
#include "joulestream/sensor.h"
#include "joulestream/units.h"

struct jst_train;
struct jst_gpu_power;

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

/* Where a run's energy becomes carbon and water: the grid zone with its yearly intensity and
 * grid water factor, PUE and WUE, each with its source, and how the zone was chosen
 * (jst_run_resolve_site), plus the machine's embodied-emission options of SCI. The inputs of
 * the footprint; carbon reads them and never writes them. */
struct jst_run_site {
	enum jst_zone_origin zone_origin;
	char zone_code[32];
	char zone_name[JST_ZONE_NAME_MAX + 1];
	char cloud[64]; /* "aws:eu-central-1" when given */
	double ci_g_per_kwh;
	int ci_year;
	char ci_source[JST_CI_SOURCE_MAX + 1];
	double ewif_l_per_kwh; /* <0 unknown */
	char ewif_source[JST_EWIF_SOURCE_MAX + 1];
	double pue, wue_l_per_kwh;
	char pue_source[JST_SOURCE_MAX + 1]; /* "given", "default", a site, or the cloud's source */
	char wue_source[JST_SOURCE_MAX + 1];
	char tz_guess[64];         /* the time zone a guessed zone came from */
	char name[64];             /* the configuration site used, or "" */
	double embodied_kg_opt;    /* --embodied KG for the machine, 0 = from data/embodied.csv */
	double lifetime_years_opt; /* --lifetime YEARS, 0 = from the data */
};

/* The footprint result: a run's carbon and water as computed with one version of the data,
 * what carbon returns (jst_carbon_acc_result, jst_run_yearly_result) and SCI completes
 * (jst_run_sci). A run holds its current one; the store keeps one per data version: the
 * run-time figure and every `joulestream reprocess` (run_results; src/carbon/ and
 * docs/methodology.md). */
#define JST_RESULTS_MAX 8
struct jst_run_result {
	char data_version[160];  /* "bundled-2024.2", "file:ci.csv@sha256:0123456789ab" */
	uint64_t computed_ns;    /* when, UTC (stored rows) */
	char kind[16];           /* "run" (at run time) or "reprocess" (stored rows) */
	char zone_code[32];
	char ci_source[192];     /* the series or the yearly average used (stored rows) */
	char ci_series[192];     /* the intensity series used, "" for the yearly average */
	char ci_fallback[256];   /* why a requested series or live source was not used, or "" */
	double ci_avg_g_per_kwh; /* effective intensity: co2e / facility kWh */
	double ci_min_g_per_kwh, ci_max_g_per_kwh; /* range of the intensities used */
	double outside_kwh;      /* IT energy outside the series, at the yearly average */
	struct jst_footprint footprint; /* of the run's IT energy */
	double embodied_g;              /* M of SCI: the embodied emissions charged to the run */
	char embodied_source[256];
	double functional_units;  /* R of SCI: 0 means one run */
	char functional_unit[48]; /* "samples" */
	double sci_g;             /* (co2e_g + embodied_g) / R, gCO2e per unit */
};

/* What else produced a run's figures and seals them: SHA-256 of the run's configuration and
 * of the bundled data tables it used (jst_run_digests), each also part by part ("sites=
 * 0123456789ab site=… sensors=…", "grid_intensity=0123456789ab …") for `joulestream diff`,
 * and the record's content hash once the store has sealed it ("" before). */
struct jst_run_prov {
	char config_sha256[65];
	char config_parts[96];
	char data_sha256[65];
	char data_tables[224];
	char content_hash[65];
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

/* A run record: the measurement (who ran what, when, the zones' energy, problems, training
 * marks, trust flags) at the top, then the site its footprint was computed for, the
 * footprint result and its provenance. */
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
	bool host_series; /* the agent's whole-host series, not a job (run_start "series":"host") */

	double host_j;                  /* IT energy of the host (counted zones) */
	double run_j;                   /* IT energy of the run (counted zones) */
	double idle_j;
	double cpu_s;                   /* CPU time of the run's processes (process scope) */
	bool estimated;                 /* some counted zone is an estimate */

	struct jst_zone_total zones[JST_ZONES_MAX];
	size_t nzones;

	char notes[JST_NOTES_MAX][JST_NOTE_LEN]; /* problems met, for the report */
	size_t nnotes;

	/* Phases, epochs, steps, metrics and tags (train.h), NULL when the run had no training
	 * marks. Borrowed: the monitor's record (valid until jst_monitor_free), or one the caller
	 * filled with jst_store_load_train(). The store and the reports read it when set. */
	struct jst_train *train;

	/* The GPU power limits of --gpu-power-limit (gpupower.h), NULL without. Borrowed. */
	struct jst_gpu_power *gpu_power;

	/* Trust (docs/integrity.md): flags computed while the run is recorded (stored in
	 * run_flags) and the idle floor of the host's calibration (derived when loaded). */
	struct jst_run_flag flags[JST_FLAGS_MAX];
	size_t nflags;
	struct jst_floor floor;

	struct jst_run_site site;     /* the footprint's inputs */
	struct jst_run_result result; /* the current footprint: the run's, or a stored result's */
	struct jst_run_prov prov;
	struct jst_run_result results[JST_RESULTS_MAX]; /* loaded by the store, newest first */
	size_t nresults;
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

/* Totals the counted zones into host_j / run_j / idle_j and sets estimated. */
JST_API void jst_run_finish_totals(struct jst_run *run);

JST_API int jst_timeline_init(struct jst_timeline *tl, size_t nzones);
JST_API void jst_timeline_release(struct jst_timeline *tl);
/* Adds one tick: per-zone host and run energy (arrays of nzones). No allocation. */
JST_API void jst_timeline_add(struct jst_timeline *tl, double t_s, double dt_s, const double *host_j,
                              const double *run_j);

/* ---- carbon and water of a record (src/record/site.c, footprint.c, sci.c) ---------------- */

/* Initialises a from a site (yearly CI, PUE, WUE, EWIF) and series (may be NULL). */
JST_API void jst_carbon_acc_for_site(struct jst_carbon_acc *a, const struct jst_run_site *site,
				     const struct jst_series *series);

/* The footprint part of a result from the accumulated figures: footprint, ci_series, ci_avg,
 * min, max, outside energy and data_version. The other fields of res are left as they are
 * (SCI's are jst_run_sci's). */
JST_API void jst_carbon_acc_result(const struct jst_carbon_acc *a, struct jst_run_result *res);

/* Feeds a run's bounded timeline (counted zones) to a: for runs that were not stored. */
JST_API void jst_carbon_acc_timeline(struct jst_carbon_acc *a, const struct jst_run *run,
                                     const struct jst_timeline *tl);

/* The footprint part of res at the yearly average of the run's zone (what a run without a
 * series gets) for its IT energy run_j (jst_run_finish_totals), with data_version
 * JST_DATA_VERSION and the series fields cleared; the other fields are left as they are. */
JST_API void jst_run_yearly_result(const struct jst_run *run, struct jst_run_result *res);

/* Chooses the run's zone, PUE and WUE: --zone, --cloud, --site (or the configuration's
 * default site), a guess from the time zone, else the world average, each said in
 * zone_origin. Options override single fields of a site. 0, or a negative errno with msg set
 * (an unknown zone, region or site). */
JST_API int jst_run_resolve_site(struct jst_run *run, const struct jst_site_opts *o, char *msg,
                                 size_t msglen);

/* Fills res's embodied_g, embodied_source and sci_g from the run's devices, duration, shares
 * and embodied options, and res's footprint and functional unit (docs/methodology.md, "SCI");
 * a missing functional unit becomes one "run". */
JST_API void jst_run_sci(const struct jst_run *run, struct jst_run_result *res);

/* The configuration that shapes a run's figures, beside what the run record already holds
 * (its resolved zone, PUE, WUE and sensor zones). Strings may be NULL (not given). */
struct jst_config_in {
	const struct jst_config *cfg;    /* the configuration file read, NULL: none */
	const char *zone, *cloud, *site; /* the options as given */
	double pue, wue;                 /* < 0: not given */
	const char *sensors;             /* --sensors: the backends chosen, NULL: all */
	bool no_estimate;
	const char *intensity; /* "file", "live:PROVIDER", NULL: the yearly average */
};

/* Fills the run's prov.config_sha256/config_parts and data_sha256/data_tables: the configuration in
 * a canonical text of three parts (sites: the file's sites, default site and live source, not
 * its credentials; site: the options and the zone, cloud, site, PUE and WUE they resolved to;
 * sensors: the backends chosen, the scope, the interval and every sensor zone with its kind,
 * source and whether it adds to the run's energy), and the bundled tables the run's figures
 * come from (the grid zones, the generation mix and water factors of EWIF, the embodied
 * table; cloud regions with a cloud, the US states for a US zone, the CPU TDP table when a
 * zone is an estimate). Call it when the run's zones are known, before run_start. */
JST_API void jst_run_digests(struct jst_run *run, const struct jst_config_in *in);

/* The run's current result as a result row (kind "run" or "reprocess"): its zone, and its
 * series or the yearly average as ci_source. */
JST_API void jst_run_result_from_run(const struct jst_run *run, const char *kind,
                                     struct jst_run_result *res);

/* Makes a stored result the run's current one (its zone too), so reports print it; the
 * run's ci_fallback and embodied_source, which rows do not keep, stay. */
JST_API void jst_run_apply_result(struct jst_run *run, const struct jst_run_result *res);

#endif
