/* Internals of the intensity series shared by series.c (CSV, lookup, the file object) and
 * series_json.c (Electricity Maps and WattTime JSON): a builder that collects raw points from
 * any format, then sorts, splits by zone and checks them in one place (series_build.c). Not
 * exported. */
#ifndef JST_CARBON_SERIES_INT_H
#define JST_CARBON_SERIES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "joulestream/intensity.h"

struct jst_ci_file {
	struct jst_ci_point *pts; /* all points, grouped by series */
	struct jst_series *series;
	size_t nseries;
	char *version;
	char *source;
};

struct jst__ci_raw {
	char zone[32];
	int64_t t_ns;
	double ci;
	size_t line; /* CSV line, or index in the JSON array */
};

struct jst__ci_builder {
	const char *name;      /* file name for errors */
	const char *version;
	const char *source;    /* description of the series, may be rewritten by the JSON parser */
	const char *json;      /* path of the JSON array the points came from ("$.history"), or NULL */
	int64_t period_ns;     /* how long the last value holds when the format says (WattTime) */
	struct jst__ci_raw *raw;
	size_t n, cap;
	char *err;
	size_t errlen;
};

/* Sets err to "NAME: " + the message; returns -EINVAL. */
int jst__ci_fail(struct jst__ci_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a point; -ERANGE for an intensity outside [0, 5000], -E2BIG past the ceiling. */
int jst__ci_push(struct jst__ci_builder *b, const char *zone, int64_t t_ns, double ci, size_t line);
int jst__ci_finish(struct jst__ci_builder *b, struct jst_ci_file **out);
void jst__ci_builder_release(struct jst__ci_builder *b);

/* The JSON formats (series_json.c). src (size srcn) receives the description of the series. */
int jst__ci_parse_json(struct jst__ci_builder *b, const char *p, size_t n, char *src, size_t srcn);

#endif
