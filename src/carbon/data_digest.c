/* The SHA-256 of each bundled data table (data/NAME.csv, compiled in by
 * scripts/embed-data.cmake): what a run records of the data that produced its figures, so a
 * changed table shows in its record and in `joulestream diff`. Computed once per table, on
 * first use. Not the data version (JST_DATA_VERSION), which names a release of all of them. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "carbon/carbon_data.h"
#include "core/sha256.h"

extern const char jst_data_cpu_tdp[]; /* the estimate backend's table (src/sensor/estimate.c) */
extern const size_t jst_data_cpu_tdp_len;

struct table {
	const char *name;
	const char *p;
	const size_t *n;
	char hex[65];
};

static struct table tables[] = {
	{"cloud_regions", jst_data_cloud_regions, &jst_data_cloud_regions_len, ""},
	{"cpu_tdp", jst_data_cpu_tdp, &jst_data_cpu_tdp_len, ""},
	{"embodied", jst_data_embodied, &jst_data_embodied_len, ""},
	{"generation_mix", jst_data_generation_mix, &jst_data_generation_mix_len, ""},
	{"grid_intensity", jst_data_grid_intensity, &jst_data_grid_intensity_len, ""},
	{"us_states", jst_data_us_states, &jst_data_us_states_len, ""},
	{"water_factors", jst_data_water_factors, &jst_data_water_factors_len, ""},
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void digest_all(void)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint8_t d[32];
		jst__sha256(tables[i].p, *tables[i].n, d);
		jst__hex(d, sizeof(d), tables[i].hex);
	}
}

const char *jst_data_sha256(const char *table)
{
	pthread_once(&once, digest_all);
	for (size_t i = 0; table && i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].name, table) == 0)
			return tables[i].hex;
	return NULL;
}
