/* Grid zones: the bundled yearly carbon intensity of each country and sub-national grid
 * (data/grid_intensity.csv), and the water intensity of its electricity (EWIF), computed here
 * from the generation mix (data/generation_mix.csv) and per-fuel water factors
 * (data/water_factors.csv) so that every EWIF is traceable to those two tables. The tables are
 * parsed once, lazily and thread-safely; the world average is reachable only through
 * jst_grid_world(). Cloud regions are in cloud.c, the footprint arithmetic in footprint.c. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbon/carbon_data.h"
#include "core/csv.h"
#include "core/util.h"

#define MAX_ZONES 4096 /* ceilings on the bundled tables: a bigger one is a data bug */
#define MAX_MIXES 512

struct zone_row {
	struct jst_grid_zone z;
	char iso3[4]; /* "" for sub-national zones and the world */
};

struct mix {
	char code[16];
	int year;
	double ewif;             /* L/kWh */
	const char *src_country; /* ewif_source of the country itself */
	const char *src_sub;     /* ewif_source of its sub-national zones */
};

static struct {
	struct zone_row *rows; /* every zone but the world */
	size_t n;
	struct zone_row world;
	bool have_world;
	struct mix *mixes;
	size_t nmixes;
	double factor[JST_FUEL_COUNT]; /* L/kWh */
	char err[256];
	bool failed;
} G;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static const char *const fuel_names[JST_FUEL_COUNT] = {
	"coal", "gas", "oil", "nuclear", "hydro", "wind", "solar", "bioenergy", "other_renewables",
};

const char *jst__fuel_name(enum jst__fuel f)
{
	return (unsigned)f < JST_FUEL_COUNT ? fuel_names[f] : "?";
}

/* ---- strings that live as long as the process: a chunked arena, never freed ---- */

#define POOL_CHUNK 16384

static struct {
	pthread_mutex_t lock;
	char *chunk;
	size_t used;
} pool = {PTHREAD_MUTEX_INITIALIZER, NULL, POOL_CHUNK};

static char *pool_alloc(size_t n)
{
	char *p = NULL;
	pthread_mutex_lock(&pool.lock);
	if (n > POOL_CHUNK) {
		p = malloc(n); /* a single oversized string: its own block */
	} else {
		if (pool.used + n > POOL_CHUNK) {
			pool.chunk = malloc(POOL_CHUNK);
			pool.used = 0;
		}
		if (pool.chunk) {
			p = pool.chunk + pool.used;
			pool.used += n;
		}
	}
	pthread_mutex_unlock(&pool.lock);
	return p;
}

const char *jst__carbon_strdup(const struct jst__csv_field *f)
{
	size_t need = jst__csv_copy(f, NULL, 0) + 1;
	char *p = pool_alloc(need);
	if (p)
		jst__csv_copy(f, p, need);
	return p;
}

const char *jst__carbon_strfmt(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(buf)) /* never a cut text: the caller fails instead */
		return NULL;
	size_t n = strlen(buf) + 1;
	char *p = pool_alloc(n);
	if (p)
		memcpy(p, buf, n);
	return p;
}

/* ---- loading ---- */

static int fail(const char *file, const struct jst__csv *c)
{
	snprintf(G.err, sizeof(G.err), "data/%s.csv: %s", file, c->err);
	return -EINVAL;
}

static bool field_empty(const struct jst__csv_field *f)
{
	return f->n == 0;
}

static int load_factors(void)
{
	static const char *const cols[] = {"fuel", "gal_per_mwh", "source"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[3], ncols, nf;
	bool seen[JST_FUEL_COUNT] = {false};
	int r;

	jst__csv_init(&c, jst_data_water_factors, jst_data_water_factors_len);
	if (jst__csv_header(&c, cols, 3, col, &ncols) < 0)
		return fail("water_factors", &c);
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		char name[32];
		double gal;
		size_t i = 0;
		if (nf != ncols) {
			jst__csv_fail(&c, "%zu fields, the header has %zu", nf, ncols);
			return fail("water_factors", &c);
		}
		jst__csv_copy(&f[col[0]], name, sizeof(name));
		while (i < JST_FUEL_COUNT && strcmp(name, fuel_names[i]) != 0)
			i++;
		if (i == JST_FUEL_COUNT || seen[i]) {
			jst__csv_fail(&c, "unknown or repeated fuel '%s'", name);
			return fail("water_factors", &c);
		}
		if (jst__csv_double(&f[col[1]], &gal) < 0 || gal < 0 || gal > 100000 ||
		    field_empty(&f[col[2]])) {
			jst__csv_fail(&c, "gal_per_mwh must be a number >= 0 and source non-empty");
			return fail("water_factors", &c);
		}
		seen[i] = true;
		G.factor[i] = gal * JST_LITRES_PER_GALLON / 1000.0;
	}
	if (r < 0)
		return fail("water_factors", &c);
	for (size_t i = 0; i < JST_FUEL_COUNT; i++) {
		if (!seen[i]) {
			snprintf(G.err, sizeof(G.err), "data/water_factors.csv: no row for fuel '%s'",
			         fuel_names[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* One row of generation_mix.csv: validates the shares and computes the EWIF. */
static int mix_row(struct jst__csv *c, const struct jst__csv_field *f, const size_t *col,
		   struct mix *m)
{
	long long year;
	double sum = 0, water = 0;
	size_t need = jst__csv_copy(&f[col[0]], m->code, sizeof(m->code));
	if (need == 0 || need >= sizeof(m->code)) {
		jst__csv_fail(c, "bad code");
		return -EINVAL;
	}
	if (jst__csv_int(&f[col[1]], &year) < 0 || year < 1990 || year > 2100) {
		jst__csv_fail(c, "year must be between 1990 and 2100");
		return -EINVAL;
	}
	for (size_t i = 0; i < JST_FUEL_COUNT; i++) {
		double s;
		if (jst__csv_double(&f[col[2 + i]], &s) < 0 || s < 0 || s > 100) {
			jst__csv_fail(c, "%s must be a percentage", fuel_names[i]);
			return -EINVAL;
		}
		sum += s;
		water += s * G.factor[i];
	}
	if (sum < 95 || sum > 105 || field_empty(&f[col[2 + JST_FUEL_COUNT]])) {
		jst__csv_fail(c, "shares of %s add up to %.1f %% (want 95-105), or no source",
		              m->code, sum);
		return -EINVAL;
	}
	char src[128];
	if (jst__csv_copy(&f[col[2 + JST_FUEL_COUNT]], src, sizeof(src)) >= sizeof(src)) {
		jst__csv_fail(c, "source of %s longer than %zu bytes", m->code, sizeof(src) - 1);
		return -EINVAL;
	}
	m->year = (int)year;
	m->ewif = water / sum; /* normalised, so rounding of the shares does not bias it */
	m->src_country = jst__carbon_strfmt("%s, with Macknick et al. 2012 water factors", src);
	m->src_sub = jst__carbon_strfmt("country-level figure of %s: %s, with Macknick et al. 2012 "
	                                "water factors", m->code, src);
	if (!m->src_country || !m->src_sub)
		return -ENOMEM;
	if (strlen(m->src_sub) > JST_EWIF_SOURCE_MAX) {
		jst__csv_fail(c, "the EWIF source of %s would be longer than %d bytes", m->code,
		              JST_EWIF_SOURCE_MAX);
		return -EINVAL;
	}
	return 0;
}

static int load_mixes(void)
{
	static const char *const cols[2 + JST_FUEL_COUNT + 1] = {
		"code", "year", "coal", "gas", "oil", "nuclear", "hydro", "wind", "solar",
		"bioenergy", "other_renewables", "source"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[JST_ARRAY_LEN(cols)], ncols, nf;
	int r;

	jst__csv_init(&c, jst_data_generation_mix, jst_data_generation_mix_len);
	if (jst__csv_header(&c, cols, JST_ARRAY_LEN(cols), col, &ncols) < 0)
		return fail("generation_mix", &c);
	G.mixes = calloc(MAX_MIXES, sizeof(*G.mixes));
	if (!G.mixes)
		return -ENOMEM;
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		if (nf != ncols || G.nmixes == MAX_MIXES) {
			jst__csv_fail(&c, "%zu fields (the header has %zu) or too many rows", nf, ncols);
			return fail("generation_mix", &c);
		}
		struct mix *m = &G.mixes[G.nmixes];
		if (mix_row(&c, f, col, m) < 0)
			return fail("generation_mix", &c);
		for (size_t i = 0; i < G.nmixes; i++) {
			if (jst__strcasecmp(G.mixes[i].code, m->code) == 0) {
				jst__csv_fail(&c, "second row for %s", m->code);
				return fail("generation_mix", &c);
			}
		}
		G.nmixes++;
	}
	return r < 0 ? fail("generation_mix", &c) : 0;
}

static bool ascii_ncaseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];
		if (x >= 'a' && x <= 'z')
			x = (char)(x - 'a' + 'A');
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 'a' + 'A');
		if (x != y)
			return false;
	}
	return true;
}

static const struct mix *mix_find(const char *code, size_t len)
{
	for (size_t i = 0; i < G.nmixes; i++)
		if (strlen(G.mixes[i].code) == len && ascii_ncaseeq(G.mixes[i].code, code, len))
			return &G.mixes[i];
	return NULL;
}

/* EWIF of a zone: its own mix, else (sub-national) its country's, else unknown. */
static void assign_ewif(struct jst_grid_zone *z)
{
	const struct mix *m = mix_find(z->code, strlen(z->code));
	const char *dash = strchr(z->code, '-');
	if (m) {
		z->ewif_l_per_kwh = m->ewif;
		z->ewif_source = m->src_country;
	} else if (dash && (m = mix_find(z->code, (size_t)(dash - z->code))) != NULL) {
		z->ewif_l_per_kwh = m->ewif;
		z->ewif_source = m->src_sub;
	} else {
		z->ewif_l_per_kwh = -1;
		z->ewif_source = "unknown: no generation mix is published for this zone's country";
	}
}

static bool valid_code(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
			return false;
	}
	return true;
}

/* One row of grid_intensity.csv into r. */
static int zone_row(struct jst__csv *c, const struct jst__csv_field *f, const size_t *col,
		    struct zone_row *r)
{
	long long year;
	size_t n3 = jst__csv_copy(&f[col[1]], r->iso3, sizeof(r->iso3));
	r->z.code = jst__carbon_strdup(&f[col[0]]);
	r->z.name = jst__carbon_strdup(&f[col[2]]);
	r->z.ci_source = jst__carbon_strdup(&f[col[5]]);
	if (!r->z.code || !r->z.name || !r->z.ci_source)
		return -ENOMEM;
	if (!valid_code(r->z.code) || (n3 != 0 && (n3 != 3 || !valid_code(r->iso3)))) {
		jst__csv_fail(c, "code must be upper-case letters, digits and '-'; iso3 3 letters");
		return -EINVAL;
	}
	if (jst__csv_double(&f[col[3]], &r->z.ci_g_per_kwh) < 0 || r->z.ci_g_per_kwh < 0 ||
	    r->z.ci_g_per_kwh > 2000) {
		jst__csv_fail(c, "ci_g_per_kwh of %s must be a number in [0, 2000]", r->z.code);
		return -EINVAL;
	}
	if (jst__csv_int(&f[col[4]], &year) < 0 || year < 1990 || year > 2100 ||
	    !*r->z.name || !*r->z.ci_source) {
		jst__csv_fail(c, "%s needs a name, a source and a year in 1990-2100", r->z.code);
		return -EINVAL;
	}
	r->z.year = (int)year;
	if (strlen(r->z.name) > JST_ZONE_NAME_MAX || strlen(r->z.ci_source) > JST_CI_SOURCE_MAX) {
		jst__csv_fail(c, "name or source of %s longer than %d bytes (a run record keeps them "
		              "whole)", r->z.code, JST_CI_SOURCE_MAX);
		return -EINVAL;
	}
	assign_ewif(&r->z);
	return 0;
}

static bool duplicate(const struct zone_row *r)
{
	for (size_t i = 0; i < G.n; i++) {
		if (jst__strcasecmp(G.rows[i].z.code, r->z.code) == 0)
			return true;
		if (r->iso3[0] && jst__strcasecmp(G.rows[i].iso3, r->iso3) == 0)
			return true;
	}
	return false;
}

static int load_zones(void)
{
	static const char *const cols[] = {"code", "iso3", "name", "ci_g_per_kwh", "year", "source"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[JST_ARRAY_LEN(cols)], ncols, nf;
	int r;

	jst__csv_init(&c, jst_data_grid_intensity, jst_data_grid_intensity_len);
	if (jst__csv_header(&c, cols, JST_ARRAY_LEN(cols), col, &ncols) < 0)
		return fail("grid_intensity", &c);
	G.rows = calloc(MAX_ZONES, sizeof(*G.rows));
	if (!G.rows)
		return -ENOMEM;
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		struct zone_row row = {0};
		if (nf != ncols || G.n == MAX_ZONES) {
			jst__csv_fail(&c, "%zu fields (the header has %zu) or too many rows", nf, ncols);
			return fail("grid_intensity", &c);
		}
		if (zone_row(&c, f, col, &row) < 0)
			return fail("grid_intensity", &c);
		bool world = strcmp(row.z.code, "WORLD") == 0;
		if (world ? G.have_world : duplicate(&row)) {
			jst__csv_fail(&c, "second row for %s", row.z.code);
			return fail("grid_intensity", &c);
		}
		if (world) {
			G.world = row;
			G.have_world = true;
		} else {
			G.rows[G.n++] = row;
		}
	}
	return r < 0 ? fail("grid_intensity", &c) : 0;
}

/* US states (data/us_states.csv): each a zone with the figures of the balancing area that
 * serves most of its load, and a source that says so. */
static int state_row(struct jst__csv *c, const struct jst__csv_field *f, const size_t *col)
{
	char area[32];
	struct zone_row row = {0};
	const struct jst_grid_zone *base = NULL;
	jst__csv_copy(&f[col[2]], area, sizeof(area));
	for (size_t i = 0; i < G.n && !base; i++)
		if (strcmp(G.rows[i].z.code, area) == 0)
			base = &G.rows[i].z;
	row.z.code = jst__carbon_strdup(&f[col[0]]);
	row.z.name = jst__carbon_strdup(&f[col[1]]);
	if (!row.z.code || !row.z.name)
		return -ENOMEM;
	if (!base || !valid_code(row.z.code) || strncmp(row.z.code, "US-", 3) != 0 || duplicate(&row)) {
		jst__csv_fail(c, "%s: a new US-XX code and a zone of data/grid_intensity.csv", row.z.code);
		return -EINVAL;
	}
	row.z.ci_g_per_kwh = base->ci_g_per_kwh;
	row.z.year = base->year;
	row.z.area = base->code;
	row.z.ci_source = jst__carbon_strfmt("Electricity Maps %d yearly average of %s, the state's "
	                                     "main balancing area", base->year, base->code);
	if (!row.z.ci_source)
		return -ENOMEM;
	if (strlen(row.z.name) > JST_ZONE_NAME_MAX || strlen(row.z.ci_source) > JST_CI_SOURCE_MAX) {
		jst__csv_fail(c, "%s: name or source longer than %d bytes", row.z.code, JST_CI_SOURCE_MAX);
		return -EINVAL;
	}
	assign_ewif(&row.z);
	G.rows[G.n++] = row;
	return 0;
}

static int load_states(void)
{
	static const char *const cols[] = {"code", "name", "zone"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[3], ncols, nf;
	int r;
	jst__csv_init(&c, jst_data_us_states, jst_data_us_states_len);
	if (jst__csv_header(&c, cols, 3, col, &ncols) < 0)
		return fail("us_states", &c);
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		if (nf != ncols || G.n == MAX_ZONES) {
			jst__csv_fail(&c, "%zu fields (the header has %zu) or too many rows", nf, ncols);
			return fail("us_states", &c);
		}
		if ((r = state_row(&c, f, col)) < 0)
			return r == -EINVAL ? fail("us_states", &c) : r;
	}
	return r < 0 ? fail("us_states", &c) : 0;
}

/* Every mix must belong to a zone of the table (catches a mistyped code in the mix). */
static int check_mix_codes(void)
{
	for (size_t i = 0; i < G.nmixes; i++) {
		const char *code = G.mixes[i].code;
		bool found = strcmp(code, "WORLD") == 0 && G.have_world;
		for (size_t j = 0; j < G.n && !found; j++)
			found = strcmp(G.rows[j].z.code, code) == 0;
		if (!found) {
			snprintf(G.err, sizeof(G.err),
			         "data/generation_mix.csv: %s is not a zone of data/grid_intensity.csv", code);
			return -EINVAL;
		}
	}
	if (!G.have_world) {
		snprintf(G.err, sizeof(G.err), "data/grid_intensity.csv: no WORLD row");
		return -EINVAL;
	}
	return 0;
}

static void load(void)
{
	int r = load_factors();
	if (r == 0)
		r = load_mixes();
	if (r == 0)
		r = load_zones();
	if (r == 0)
		r = load_states();
	if (r == 0)
		r = check_mix_codes();
	if (r < 0) {
		if (!G.err[0])
			snprintf(G.err, sizeof(G.err), "loading the bundled grid data: %s",
			         jst_strerror(r));
		G.failed = true;
		G.n = 0;
		G.have_world = false;
	}
}

static bool loaded(void)
{
	pthread_once(&load_once, load);
	return !G.failed;
}

const char *jst__carbon_data_error(void)
{
	return loaded() ? NULL : G.err;
}

double jst__fuel_water_l_per_kwh(enum jst__fuel f)
{
	return loaded() && (unsigned)f < JST_FUEL_COUNT ? G.factor[f] : -1;
}

/* ---- public lookups ---- */

const struct jst_grid_zone *jst_grid_zone_find(const char *code)
{
	if (!code || !*code || !loaded())
		return NULL;
	for (size_t i = 0; i < G.n; i++)
		if (jst__strcasecmp(G.rows[i].z.code, code) == 0)
			return &G.rows[i].z;
	if (strlen(code) == 3) {
		for (size_t i = 0; i < G.n; i++)
			if (G.rows[i].iso3[0] && jst__strcasecmp(G.rows[i].iso3, code) == 0)
				return &G.rows[i].z;
	}
	return NULL;
}

const struct jst_grid_zone *jst_grid_world(void)
{
	return loaded() && G.have_world ? &G.world.z : NULL;
}

size_t jst_grid_zone_count(void)
{
	return loaded() ? G.n : 0;
}

const struct jst_grid_zone *jst_grid_zone_at(size_t i)
{
	return loaded() && i < G.n ? &G.rows[i].z : NULL;
}

const struct jst_grid_zone *jst_grid_zone_country(const char *code, const char **iso3)
{
	const char *dash = code ? strchr(code, '-') : NULL;
	size_t n = dash ? (size_t)(dash - code) : code ? strlen(code) : 0;
	if (iso3)
		*iso3 = "";
	if (n == 0 || !loaded())
		return NULL;
	for (size_t i = 0; i < G.n; i++) {
		const struct zone_row *r = &G.rows[i];
		bool hit = strlen(r->z.code) == n && ascii_ncaseeq(r->z.code, code, n);
		if (!hit && !dash && n == 3 && r->iso3[0])
			hit = ascii_ncaseeq(r->iso3, code, 3);
		if (hit && !strchr(r->z.code, '-')) {
			if (iso3)
				*iso3 = r->iso3;
			return &r->z;
		}
	}
	return NULL;
}
