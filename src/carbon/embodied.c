/* Embodied emissions (data/embodied.csv) and the Software Carbon Intensity of a run,
 * SCI = (E·I + M) / R (Green Software Foundation, ISO/IEC 21031): E·I is the run's
 * operational carbon, M = Σ device embodied × (duration / lifetime) × the run's share of the
 * device, R the functional unit (one run unless the user names one). Which row each device
 * got, and why, is written into the run's embodied_source. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbon/carbon_data.h"
#include "core/csv.h"
#include "core/util.h"
#include "joulestream/intensity.h"

#define MAX_ROWS 256
#define SECONDS_PER_YEAR (365.25 * 86400)

static struct {
	struct jst_embodied *rows;
	size_t n;
	char err[256];
	bool failed;
} E;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static int row(struct jst__csv *c, const struct jst__csv_field *f, const size_t *col,
               struct jst_embodied *r)
{
	r->name = jst__carbon_strdup(&f[col[0]]);
	r->kind = jst__carbon_strdup(&f[col[1]]);
	r->pattern = jst__carbon_strdup(&f[col[2]]);
	r->basis = jst__carbon_strdup(&f[col[5]]);
	r->source = jst__carbon_strdup(&f[col[6]]);
	if (!r->name || !r->kind || !r->pattern || !r->basis || !r->source)
		return -ENOMEM;
	if (!*r->name || !*r->source ||
	    (strcmp(r->kind, "gpu") && strcmp(r->kind, "server") && strcmp(r->kind, "gpu-server"))) {
		jst__csv_fail(c, "needs a name, a source and a kind gpu, server or gpu-server");
		return -EINVAL;
	}
	if (strcmp(r->basis, "pcf") && strcmp(r->basis, "study") && strcmp(r->basis, "method") &&
	    strcmp(r->basis, "analogy")) {
		jst__csv_fail(c, "basis of %s must be pcf, study, method or analogy", r->name);
		return -EINVAL;
	}
	if (jst__csv_double(&f[col[3]], &r->kg_co2e) < 0 || r->kg_co2e < 0 || r->kg_co2e > 1e6 ||
	    jst__csv_double(&f[col[4]], &r->lifetime_years) < 0 || r->lifetime_years < 0.5 ||
	    r->lifetime_years > 30) {
		jst__csv_fail(c, "%s: kg_co2e must be in [0, 1e6] and lifetime_years in [0.5, 30]", r->name);
		return -EINVAL;
	}
	return 0;
}

static void load(void)
{
	static const char *const cols[] = {"name", "kind", "pattern", "kg_co2e", "lifetime_years",
	                                   "basis", "source"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[JST_ARRAY_LEN(cols)], ncols, nf;
	int r = -ENOMEM;
	jst__csv_init(&c, jst_data_embodied, jst_data_embodied_len);
	E.rows = calloc(MAX_ROWS, sizeof(*E.rows));
	if (E.rows && (r = jst__csv_header(&c, cols, JST_ARRAY_LEN(cols), col, &ncols)) == 0) {
		while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
			if (nf != ncols || E.n == MAX_ROWS) {
				jst__csv_fail(&c, "%zu fields (the header has %zu) or too many rows", nf, ncols);
				r = -EINVAL;
				break;
			}
			if ((r = row(&c, f, col, &E.rows[E.n])) < 0)
				break;
			E.n++;
		}
	}
	if (r < 0) {
		snprintf(E.err, sizeof(E.err), "data/embodied.csv: %s", c.err[0] ? c.err : jst_strerror(r));
		E.failed = true;
		E.n = 0;
	}
}

static bool loaded(void)
{
	pthread_once(&once, load);
	return !E.failed;
}

const char *jst__embodied_data_error(void)
{
	return loaded() ? NULL : E.err;
}

size_t jst_embodied_count(void)
{
	return loaded() ? E.n : 0;
}

const struct jst_embodied *jst_embodied_at(size_t i)
{
	return loaded() && i < E.n ? &E.rows[i] : NULL;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* pattern occurs in s as a whole word (not inside a longer model name), any case */
static bool word_in(const char *s, const char *pattern)
{
	size_t n = strlen(pattern);
	for (const char *p = s; n && *p; p++) {
		size_t i = 0;
		while (i < n && p[i] && (p[i] | 0x20) == (pattern[i] | 0x20))
			i++;
		if (i == n && (p == s || !alnum(p[-1])) && !alnum(p[n]))
			return true;
	}
	return false;
}

const struct jst_embodied *jst_embodied_match(const char *kind, const char *model)
{
	const struct jst_embodied *best = NULL, *generic = NULL;
	for (size_t i = 0; i < jst_embodied_count(); i++) {
		const struct jst_embodied *r = &E.rows[i];
		if (strcmp(r->kind, kind) != 0)
			continue;
		if (!*r->pattern)
			generic = generic ? generic : r;
		else if (model && word_in(model, r->pattern) && (!best || strlen(r->pattern) > strlen(best->pattern)))
			best = r;
	}
	return best ? best : generic;
}
