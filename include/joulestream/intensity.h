/* Carbon intensity over time, and everything that turns a run's energy into carbon and water
 * with traceable data: intensity series (CSV, Electricity Maps and WattTime JSON), the one
 * integration routine used live and when reprocessing, live sources over HTTP with a cache,
 * the choice of a run's zone (options, cloud region, configured site, time-zone guess), the
 * embodied emissions and SCI of a run, and replaying stored samples. The formulas are in
 * docs/methodology.md; src/carbon/ holds the code. */
#ifndef JOULESTREAM_INTENSITY_H
#define JOULESTREAM_INTENSITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joulestream/carbon.h"
#include "joulestream/common.h"
#include "joulestream/config.h"

/* The version of the bundled data (the CSV files in data/): every figure computed with it
 * names it. */
#define JST_DATA_VERSION "bundled-2024.2"

/* ---- intensity series ------------------------------------------------------------------ */

/* One value of a series: the intensity in force from t_ns until the next point. */
struct jst_ci_point {
	int64_t t_ns;        /* UTC ns since the epoch */
	double ci_g_per_kwh;
};

/* One zone's step function, sorted by time (borrowed from its jst_ci_file). */
struct jst_series {
	char zone[32];               /* zone as the source names it; "" when it names none (WattTime) */
	const struct jst_ci_point *pts;
	size_t n;
	int64_t last_ns;             /* how long the last value holds (the interval before it) */
	const char *source;          /* "Electricity Maps history", "WattTime v3 MOER CAISO_NORTH" */
	const char *version;         /* the file's or response's data version */
};

/* A parsed file or response: one series per zone it holds. */
struct jst_ci_file;

#define JST_SERIES_MAX_POINTS 2000000 /* a ceiling: 57 years of 15-minute values */

/* Parses p[0..n): CSV `datetime,zone,ci_g_per_kwh` (ISO 8601 with Z or an offset; rows of
 * several zones allowed), Electricity Maps v3 JSON (history, forecast, past-range, latest) or
 * WattTime v3 JSON (data[].point_time, value in meta.units, lbs/MWh converted to g/kWh).
 * name names the input in errors ("ci.csv: line 7: ...", "em.json: $.history[3].datetime:
 * ..."); version is the data version to record ("file:ci.csv@sha256:..."), NULL for one made
 * from name and the content's hash. The whole input is validated first: on any error nothing
 * is returned (-EINVAL, err set). */
JST_API int jst_ci_parse(const char *p, size_t n, const char *name, const char *version,
                         struct jst_ci_file **out, char *err, size_t errlen);
/* Reads and parses a file; its version is "file:BASENAME@sha256:<12 hex of the content>". */
JST_API int jst_ci_load(const char *path, struct jst_ci_file **out, char *err, size_t errlen);
JST_API void jst_ci_free(struct jst_ci_file *f);
JST_API size_t jst_ci_count(const struct jst_ci_file *f);
JST_API const struct jst_series *jst_ci_at(const struct jst_ci_file *f, size_t i);
JST_API const char *jst_ci_version(const struct jst_ci_file *f);
/* The series of zone (case-insensitive); a file with one series that names no zone matches
 * every zone. NULL if none. */
JST_API const struct jst_series *jst_ci_select(const struct jst_ci_file *f, const char *zone);

/* The zone a series or a live service knows the run's zone by: a US state's balancing area
 * (US-TX: US-TEX-ERCO), else zone itself. */
JST_API const char *jst_zone_series_code(const char *zone);

/* Index of the point in force at t_ns, or -1 before the first point or after the last one
 * has expired. hint (may be NULL) speeds up calls with increasing t. */
JST_API ssize_t jst_series_find(const struct jst_series *s, int64_t t_ns, size_t *hint);
/* When the value of point i stops holding. */
JST_API int64_t jst_series_end(const struct jst_series *s, size_t i);

/* ---- integration ------------------------------------------------------------------------ */

/* Carbon and water of energy spread over time: C = Σ E × PUE × CI(t), W = Σ E × (WUE +
 * PUE × EWIF). An interval that straddles a change of the series is split in proportion to
 * time (power is taken as constant within a sample); energy outside the series is charged at
 * the yearly average and counted in outside_kwh. No allocation: the monitor calls it per tick. */
struct jst_carbon_acc {
	const struct jst_series *series; /* NULL: the yearly average only */
	double ci_year, pue, wue, ewif;  /* ewif < 0 (unknown) counts as 0 */
	size_t hint;
	double it_kwh, facility_kwh, co2e_g, water_site_l, water_grid_l;
	double outside_kwh;
	double ci_min, ci_max;           /* of the series values used; min > max when none */
};

JST_API void jst_carbon_acc_init(struct jst_carbon_acc *a, const struct jst_series *series,
                                 double ci_year, double pue, double wue, double ewif);
/* Adds energy_j spread evenly over [start_ns + t_s, start_ns + t_s + dt_s]. */
JST_API void jst_carbon_acc_add(struct jst_carbon_acc *a, uint64_t start_ns, double t_s,
                                double dt_s, double energy_j);

/* ---- live sources ----------------------------------------------------------------------- */

struct jst_live_opts {
	const char *provider;  /* "electricitymaps" or "watttime" */
	const char *token;     /* Electricity Maps auth-token */
	const char *user, *password; /* WattTime */
	const char *region;    /* WattTime region (CAISO_NORTH); WattTime has no zone codes */
	const char *url;       /* base URL; NULL for the service's */
	double connect_timeout_s, timeout_s; /* <= 0: 3 s and 10 s */
	double cache_ttl_s;    /* < 0: 600 s; 0 disables the cache */
	const char *cache_dir; /* NULL: $XDG_CACHE_HOME/joulestream or ~/.cache/joulestream */
};

/* Fills o from cfg and the environment (ELECTRICITYMAPS_TOKEN, WATTTIME_USER,
 * WATTTIME_PASSWORD, JOULESTREAM_ELECTRICITYMAPS_URL, JOULESTREAM_WATTTIME_URL override the
 * file). region may be NULL. The strings point into cfg or the environment. */
JST_API void jst_live_opts_init(struct jst_live_opts *o, const char *provider, const char *region,
                                const struct jst_config *cfg);

/* Fetches the intensity of zone over [from_ns, to_ns] (to_ns 0: the latest value; to_ns in
 * the future: a forecast), through the cache. Returns 0 with *out set, or a negative errno
 * with why set to a one-line reason ("electricitymaps: timed out after 2 s"). Bounded by the
 * timeouts; never retries. */
JST_API int jst_live_fetch(const struct jst_live_opts *o, const char *zone, int64_t from_ns,
                           int64_t to_ns, struct jst_ci_file **out, char *why, size_t whylen);

/* ---- where the run is ------------------------------------------------------------------- */

/* Guesses a country from the system time zone: TZ, else /etc/timezone, else the target of
 * /etc/localtime (under root, "/" when NULL), looked up in zone.tab and zone1970.tab of
 * $TZDIR or /usr/share/zoneinfo. tz gets the time zone name, cc the ISO 3166 code. 0, or
 * -ENOENT when there is no guess (UTC, an unknown or POSIX-style TZ). */
JST_API int jst_tz_guess(const char *root, char *tz, size_t tzlen, char *cc, size_t cclen);

/* The country of time zone tz in a zone.tab or zone1970.tab text (the first one listed).
 * Pure; 0 or -ENOENT. */
JST_API int jst_zonetab_country(const char *p, size_t n, const char *tz, char *cc, size_t cclen);

struct jst_site_opts {
	const char *zone, *cloud, *site; /* options; NULL when not given */
	double pue, wue;                 /* < 0 when not given */
	const struct jst_config *cfg;    /* may be NULL */
	bool no_guess;                   /* do not guess from the time zone */
	const char *root;                /* for the time zone guess, NULL = "/" */
};

/* ---- embodied emissions and SCI ---------------------------------------------------------- */

struct jst_embodied {
	const char *name;      /* "nvidia-h100" */
	const char *pattern;   /* matched against the device model, case-insensitive */
	const char *kind;      /* "gpu" or "server" */
	double kg_co2e;
	double lifetime_years;
	const char *basis;     /* "pcf", "study", "method" or "analogy" (data/SOURCES.md) */
	const char *source;
};

JST_API size_t jst_embodied_count(void);
JST_API const struct jst_embodied *jst_embodied_at(size_t i);
/* The row of kind whose pattern is the longest match in model; the kind's generic row (empty
 * pattern) when none matches. */
JST_API const struct jst_embodied *jst_embodied_match(const char *kind, const char *model);

/* ---- results and replay ----------------------------------------------------------------- */

#endif
