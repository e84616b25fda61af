/* Carbon and water: grid zones with their yearly carbon intensity and water intensity, cloud
 * regions with their provider's PUE and WUE, and the footprint of an amount of energy. The data
 * is bundled (the CSV files in data/, compiled in) and every figure carries its source and year. */
#ifndef JOULESTREAM_CARBON_H
#define JOULESTREAM_CARBON_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/common.h"

/* Defaults when the user gives none (docs/methodology.md says where they come from). */
#define JST_DEFAULT_PUE 1.56        /* Uptime Institute Global Data Center Survey 2024 */
#define JST_DEFAULT_WUE_L_PER_KWH 1.8 /* industry average, on-site water per IT kWh */

/* The longest texts of the bundled tables: each is copied whole into every run record (struct
 * jst_run) and every stored, hashed and attested copy of it, so the loaders refuse a longer one
 * (a data bug) rather than let a copy cut it. */
#define JST_ZONE_NAME_MAX 95    /* a zone's name */
#define JST_CI_SOURCE_MAX 95    /* a zone's ci_source */
#define JST_EWIF_SOURCE_MAX 159 /* a zone's ewif_source */
#define JST_SOURCE_MAX 255      /* a cloud region's PUE/WUE source; any pue_source, wue_source */

struct jst_grid_zone {
	const char *code;        /* "DE", "US-CAL-CISO", "WORLD" */
	const char *name;        /* "Germany" */
	double ci_g_per_kwh;     /* yearly average carbon intensity */
	int year;                /* year of that figure */
	const char *ci_source;   /* "Ember 2024 yearly average" */
	double ewif_l_per_kwh;   /* water consumed per kWh of electricity generated, <0 unknown */
	const char *ewif_source; /* "derived from Ember 2024 generation mix, Macknick et al. 2012" */
	const char *area;        /* a US state's balancing-area zone (US-TX: US-TEX-ERCO), else NULL */
};

struct jst_cloud_region {
	const char *provider; /* "aws", "gcp", "azure" */
	const char *region;   /* "eu-central-1" */
	const char *zone;     /* grid zone code */
	const char *location; /* "Frankfurt" */
	double pue;
	double wue_l_per_kwh; /* <0 unknown */
	const char *source;   /* where PUE and WUE come from, with year */
};

/* Looks a grid zone up by code: ISO 3166-1 alpha-2 or alpha-3 ("DE", "DEU"), or a
 * sub-national code of the bundled data ("US-CAL-CISO"); case-insensitive. NULL if unknown. */
JST_API const struct jst_grid_zone *jst_grid_zone_find(const char *code);
/* The SHA-256 (64 hex digits) of a bundled data table as compiled in, by the name of its file in
 * data/ without ".csv" (grid_intensity, generation_mix, water_factors, cloud_regions,
 * us_states, embodied, cpu_tdp); NULL for another name. Static storage; thread-safe. */
JST_API const char *jst_data_sha256(const char *table);
/* The country of a zone code: its own row for a country ("DE", "DEU"), the row of the code
 * before the first '-' for a sub-national zone or US state ("US-TX", "US-CAL-CISO": the US);
 * NULL for the world or an unknown code. *iso3 (when iso3 is not NULL) is its ISO 3166-1
 * alpha-3 code, "" when it has none. */
JST_API const struct jst_grid_zone *jst_grid_zone_country(const char *code, const char **iso3);
/* The world average; only for runs whose zone is unknown, and reports say so. */
JST_API const struct jst_grid_zone *jst_grid_world(void);
JST_API size_t jst_grid_zone_count(void);
JST_API const struct jst_grid_zone *jst_grid_zone_at(size_t i);

/* "aws:eu-central-1" style lookup (provider aws|gcp|azure, case-insensitive). NULL if unknown. */
JST_API const struct jst_cloud_region *jst_cloud_find(const char *provider, const char *region);
/* For an unknown "provider:region" (or region alone): the up to 3 names of the bundled table
 * nearest to it by edit distance, "aws:us-east-1, aws:us-east-2, ..." (of that provider when
 * it is one, else of all), into out (size n). Never fails; "" when the table is empty. */
JST_API void jst_cloud_nearest(const char *spec, char *out, size_t n);
JST_API size_t jst_cloud_count(void);
JST_API const struct jst_cloud_region *jst_cloud_at(size_t i);

struct jst_footprint_in {
	double it_energy_j;                /* measured (or estimated) IT energy */
	double pue;                        /* >= 1 */
	double wue_l_per_kwh;              /* on-site water per IT kWh, >= 0 */
	const struct jst_grid_zone *zone;  /* never NULL: the world average when unknown */
};

struct jst_footprint {
	double it_kwh;
	double facility_kwh; /* it_kwh × PUE */
	double co2e_g;       /* facility_kwh × CI */
	double water_site_l; /* it_kwh × WUE */
	double water_grid_l; /* facility_kwh × EWIF (0 when EWIF unknown) */
	double water_l;      /* site + grid */
};

JST_API void jst_footprint(const struct jst_footprint_in *in, struct jst_footprint *out);

#endif
