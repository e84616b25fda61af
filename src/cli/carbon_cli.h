/* What `run`, `reprocess`, `intensity` and `show` share about carbon: the configuration file,
 * --intensity FILE or live:PROVIDER[:REGION], --functional-unit N UNIT, and the carbon side of
 * a measured run (run_carbon.c): choosing the site, loading the series before the command
 * starts, and the live fetch and re-integration after it ends. */
#ifndef JST_CLI_CARBON_CLI_H
#define JST_CLI_CARBON_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "joulestream/config.h"
#include "joulestream/intensity.h"
#include "joulestream/store.h"

/* Loads --config FILE or the default file; prints the error (prefixed with prog) and returns
 * 2 on failure, 0 on success. */
int cli_load_config(const char *path, struct jst_config *cfg, const char *prog);

/* True when spec names a live source: "live", "live:electricitymaps", "live:watttime[:REGION]".
 * provider gets "electricitymaps" or "watttime" ("" for plain "live": the configured one). */
bool cli_live_spec(const char *spec, char *provider, size_t pn, char *region, size_t rn);

/* --functional-unit "N UNIT", or N followed by UNIT as the next argument (argv[*next], which
 * is then consumed). 0, or -EINVAL with a message printed. */
int cli_functional_unit(const char *arg, int argc, char **argv, int *next, double *n, char *unit,
                        size_t un, const char *prog);

/* The series for a run's time range from a live source; 0, or a negative errno with why. */
int cli_fetch_live(const struct jst_config *cfg, const char *provider, const char *region,
                   const struct jst_run *run, struct jst_ci_file **out, char *why, size_t whylen);

struct run_carbon_opts {
	const char *config, *site, *intensity;
	bool live;
	double functional_units;
	char functional_unit[48];
	double embodied_kg, lifetime_years; /* 0 when not given */
};

/* Puts the newest result kept for the run into it, or the newest one whose data version is
 * version (or starts with it) and whose zone is zone (either may be NULL). With a version the
 * match must name one (data version, zone) pair; a zone alone takes that zone's newest result.
 * 0, or 1 with the results listed on stderr. */
int cli_pick_result(struct jst_run *run, const char *version, const char *zone);
/* `joulestream show` usage. */
void cli_show_usage(FILE *f);

/* The carbon options of `joulestream run`, for its getopt_long table, and their parser:
 * returns 1 when c was one of them, 0 when not, 2 (the exit status) after printing a bad value. */
enum { CLI_O_INTENSITY = 512, CLI_O_LIVE, CLI_O_SITE, CLI_O_CONFIG, CLI_O_FUNIT, CLI_O_EMBODIED,
       CLI_O_LIFETIME };
#define CLI_RUN_CARBON_OPTIONS                                                                   \
	{"intensity", required_argument, 0, CLI_O_INTENSITY}, {"live", no_argument, 0, CLI_O_LIVE}, \
	{"site", required_argument, 0, CLI_O_SITE}, {"config", required_argument, 0, CLI_O_CONFIG}, \
	{"functional-unit", required_argument, 0, CLI_O_FUNIT},                                 \
	{"embodied", required_argument, 0, CLI_O_EMBODIED},                                     \
	{"lifetime", required_argument, 0, CLI_O_LIFETIME}
int cli_run_carbon_option(int c, const char *arg, int argc, char **argv, int *next,
                          struct run_carbon_opts *o);
/* Their lines of `joulestream run --help`. */
void cli_run_carbon_usage(FILE *f);

struct run_carbon {
	struct jst_config cfg;
	struct jst_ci_file *file;          /* --intensity FILE */
	const struct jst_series *series;   /* its series for the run's zone */
	bool live;
	char provider[32], region[64];
};

struct jst_monitor;
struct jst_timeline;

/* Before the command starts: configuration, zone/PUE/WUE (from zone, cloud, pue, wue and the
 * site), the series file, SCI settings. Prints the problem and returns 2 when the run must
 * not start (a bad option, an unreadable or invalid series file); 0 otherwise. */
int run_carbon_prepare(struct run_carbon *rc, const struct run_carbon_opts *o, const char *zone,
                       const char *cloud, double pue, double wue, struct jst_run *run);
/* Hands the series to the monitor (live integration per tick). */
void run_carbon_start(struct run_carbon *rc, struct jst_monitor *mon);
/* After the command ended and the samples are stored: the live source, if asked for, and the
 * re-integration from the stored samples (store may be NULL: then the timeline). */
void run_carbon_finish(struct run_carbon *rc, struct jst_run *run, struct jst_store *store,
                       const struct jst_timeline *tl);
void run_carbon_release(struct run_carbon *rc);

#endif
