/* Cloud regions (data/cloud_regions.csv): each provider region with the grid zone it draws on
 * and the provider's published PUE and WUE. Parsed once, lazily and thread-safely, after the
 * grid zones, so that every region's zone is checked to exist. An unknown WUE is -1; choosing
 * a default for it is the caller's decision, not this table's. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "carbon/carbon_data.h"
#include "core/csv.h"
#include "core/util.h"

#define MAX_REGIONS 2048

static struct {
	struct jst_cloud_region *rows;
	size_t n;
	char err[256];
	bool failed;
} C;

static pthread_once_t cloud_once = PTHREAD_ONCE_INIT;

/* The provider's canonical name, or NULL. */
static const char *provider_name(const char *p)
{
	static const struct {
		const char *alias, *name;
	} names[] = {{"aws", "aws"},     {"amazon", "aws"},   {"gcp", "gcp"},
	             {"google", "gcp"},  {"azure", "azure"},  {"microsoft", "azure"}};
	for (size_t i = 0; i < JST_ARRAY_LEN(names); i++)
		if (jst__strcasecmp(p, names[i].alias) == 0)
			return names[i].name;
	return NULL;
}

static int fail(const struct jst__csv *c)
{
	snprintf(C.err, sizeof(C.err), "data/cloud_regions.csv: %s", c->err);
	return -EINVAL;
}

static int region_row(struct jst__csv *c, const struct jst__csv_field *f, const size_t *col,
		      struct jst_cloud_region *r)
{
	char prov[16];
	jst__csv_copy(&f[col[0]], prov, sizeof(prov));
	r->provider = provider_name(prov);
	r->region = jst__carbon_strdup(&f[col[1]]);
	r->zone = jst__carbon_strdup(&f[col[2]]);
	r->location = jst__carbon_strdup(&f[col[3]]);
	r->source = jst__carbon_strdup(&f[col[6]]);
	if (!r->region || !r->zone || !r->location || !r->source)
		return -ENOMEM;
	if (!r->provider || strcmp(prov, r->provider) != 0 || !*r->region || !*r->source) {
		jst__csv_fail(c, "provider must be aws, gcp or azure, with a region and a source");
		return -EINVAL;
	}
	if (strlen(r->source) > JST_SOURCE_MAX) { /* a run record keeps it whole */
		jst__csv_fail(c, "source of %s:%s is %zu bytes, more than %d", r->provider, r->region,
		              strlen(r->source), JST_SOURCE_MAX);
		return -EINVAL;
	}
	if (jst__csv_double(&f[col[4]], &r->pue) < 0 || r->pue < 1 || r->pue > 3) {
		jst__csv_fail(c, "pue of %s:%s must be a number in [1, 3]", r->provider, r->region);
		return -EINVAL;
	}
	if (f[col[5]].n == 0) {
		r->wue_l_per_kwh = -1;
	} else if (jst__csv_double(&f[col[5]], &r->wue_l_per_kwh) < 0 || r->wue_l_per_kwh < 0 ||
	           r->wue_l_per_kwh > 20) {
		jst__csv_fail(c, "wue_l_per_kwh of %s:%s must be empty or in [0, 20]", r->provider,
		              r->region);
		return -EINVAL;
	}
	if (!jst_grid_zone_find(r->zone)) {
		jst__csv_fail(c, "zone %s of %s:%s is not in data/grid_intensity.csv", r->zone,
		              r->provider, r->region);
		return -EINVAL;
	}
	return 0;
}

static int load_regions(void)
{
	static const char *const cols[] = {"provider", "region",        "zone",  "location",
	                                   "pue",      "wue_l_per_kwh", "source"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[JST_ARRAY_LEN(cols)], ncols, nf;
	int r;

	jst__csv_init(&c, jst_data_cloud_regions, jst_data_cloud_regions_len);
	if (jst__csv_header(&c, cols, JST_ARRAY_LEN(cols), col, &ncols) < 0)
		return fail(&c);
	C.rows = calloc(MAX_REGIONS, sizeof(*C.rows));
	if (!C.rows)
		return -ENOMEM;
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		if (nf != ncols || C.n == MAX_REGIONS) {
			jst__csv_fail(&c, "%zu fields (the header has %zu) or too many rows", nf, ncols);
			return fail(&c);
		}
		struct jst_cloud_region *row = &C.rows[C.n];
		if ((r = region_row(&c, f, col, row)) < 0)
			return r == -EINVAL ? fail(&c) : r;
		for (size_t i = 0; i < C.n; i++) {
			if (strcmp(C.rows[i].provider, row->provider) == 0 &&
			    jst__strcasecmp(C.rows[i].region, row->region) == 0) {
				jst__csv_fail(&c, "second row for %s:%s", row->provider, row->region);
				return fail(&c);
			}
		}
		C.n++;
	}
	return r < 0 ? fail(&c) : 0;
}

static void load(void)
{
	const char *zerr = jst__carbon_data_error(); /* zones first: rows are checked against them */
	int r = zerr ? -EINVAL : load_regions();
	if (r < 0) {
		if (zerr)
			snprintf(C.err, sizeof(C.err), "%s", zerr);
		else if (!C.err[0])
			snprintf(C.err, sizeof(C.err), "loading data/cloud_regions.csv: %s",
			         jst_strerror(r));
		C.failed = true;
		C.n = 0;
	}
}

static bool loaded(void)
{
	pthread_once(&cloud_once, load);
	return !C.failed;
}

const char *jst__cloud_data_error(void)
{
	return loaded() ? NULL : C.err;
}

/* provider may be NULL with region written "aws:eu-central-1". */
const struct jst_cloud_region *jst_cloud_find(const char *provider, const char *region)
{
	char prov[16];
	if (!region || !loaded())
		return NULL;
	if (!provider) {
		const char *colon = strchr(region, ':');
		if (!colon || (size_t)(colon - region) >= sizeof(prov))
			return NULL;
		memcpy(prov, region, (size_t)(colon - region));
		prov[colon - region] = '\0';
		provider = prov;
		region = colon + 1;
	}
	const char *name = provider_name(provider);
	if (!name)
		return NULL;
	for (size_t i = 0; i < C.n; i++)
		if (strcmp(C.rows[i].provider, name) == 0 &&
		    jst__strcasecmp(C.rows[i].region, region) == 0)
			return &C.rows[i];
	return NULL;
}

/* Levenshtein distance, case-insensitive, of two short names (longer ones are cut at 63); a
 * name that starts with the query counts as distance 0. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];
	la = la > 63 ? 63 : la;
	lb = lb > 63 ? 63 : lb;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char x = a[i - 1], y = b[j - 1];
			x = (char)(x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x);
			y = (char)(y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
			size_t best = diag + (x != y);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = row[j];
			row[j] = best;
		}
	}
	return row[lb];
}

void jst_cloud_nearest(const char *spec, char *out, size_t n)
{
	char prov[16] = "";
	const char *region = spec ? spec : "", *colon = strchr(region, ':');
	const struct jst_cloud_region *best[3] = {NULL, NULL, NULL};
	size_t dist[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
	if (n)
		out[0] = '\0';
	if (colon && (size_t)(colon - region) < sizeof(prov)) {
		memcpy(prov, region, (size_t)(colon - region));
		prov[colon - region] = '\0';
		region = colon + 1;
	}
	const char *name = provider_name(prov);
	if (!loaded() || n == 0)
		return;
	for (size_t i = 0; i < C.n; i++) {
		if (name && strcmp(C.rows[i].provider, name) != 0)
			continue;
		size_t d = distance(region, C.rows[i].region), l = strlen(region);
		if (l && strncasecmp(C.rows[i].region, region, l) == 0)
			d = 0; /* the start of a name ("germanywest"): as near as can be */
		for (size_t k = 0; k < 3; k++) {
			if (d < dist[k]) { /* insert at k, shifting the rest down */
				for (size_t m = 2; m > k; m--) {
					dist[m] = dist[m - 1];
					best[m] = best[m - 1];
				}
				dist[k] = d;
				best[k] = &C.rows[i];
				break;
			}
		}
	}
	size_t off = 0;
	for (size_t k = 0; k < 3 && best[k] && off < n; k++) {
		int w = snprintf(out + off, n - off, "%s%s:%s", k ? ", " : "", best[k]->provider,
		                 best[k]->region);
		off += w > 0 ? (size_t)w : 0;
	}
}

size_t jst_cloud_count(void)
{
	return loaded() ? C.n : 0;
}

const struct jst_cloud_region *jst_cloud_at(size_t i)
{
	return loaded() && i < C.n ? &C.rows[i] : NULL;
}
