/* Internals of the carbon module shared by its files: the bundled CSV data compiled in by
 * scripts/embed-data.cmake, the fuels of the water model, and the load status of the tables.
 * Public lookups are in include/joulestream/carbon.h; nothing here is exported. */
#ifndef JST_CARBON_DATA_H
#define JST_CARBON_DATA_H

#include <stddef.h>

#include "joulestream/carbon.h"

extern const char jst_data_grid_intensity[];
extern const size_t jst_data_grid_intensity_len;
extern const char jst_data_generation_mix[];
extern const size_t jst_data_generation_mix_len;
extern const char jst_data_water_factors[];
extern const size_t jst_data_water_factors_len;
extern const char jst_data_cloud_regions[];
extern const size_t jst_data_cloud_regions_len;
extern const char jst_data_us_states[];
extern const size_t jst_data_us_states_len;
extern const char jst_data_embodied[];
extern const size_t jst_data_embodied_len;

/* The fuels of data/generation_mix.csv and data/water_factors.csv, in column order. */
enum jst__fuel {
	JST_FUEL_COAL,
	JST_FUEL_GAS,
	JST_FUEL_OIL,
	JST_FUEL_NUCLEAR,
	JST_FUEL_HYDRO,
	JST_FUEL_WIND,
	JST_FUEL_SOLAR,
	JST_FUEL_BIOENERGY,
	JST_FUEL_OTHER_RENEWABLES,
	JST_FUEL_COUNT
};

/* Litres per US gallon; water factors are published in gal/MWh (= 3.785411784e-3 L/kWh). */
#define JST_LITRES_PER_GALLON 3.785411784

/* The column name of a fuel ("coal", "other_renewables"). */
const char *jst__fuel_name(enum jst__fuel f);

/* Water consumption factor of a fuel in L/kWh, from data/water_factors.csv; -1 if the data
 * did not load. */
double jst__fuel_water_l_per_kwh(enum jst__fuel f);

/* Why the bundled grid data (zones, mixes, factors) or cloud table did not load, as
 * "data/FILE.csv: line N: ..."; NULL when they loaded. A failure is a bug in the shipped data
 * and leaves the tables empty: lookups return NULL and counts 0. */
const char *jst__carbon_data_error(void);
const char *jst__cloud_data_error(void);
const char *jst__embodied_data_error(void);

/* Copies a field of a record into storage that lives as long as the process. */
struct jst__csv_field;
const char *jst__carbon_strdup(const struct jst__csv_field *f);
const char *jst__carbon_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
