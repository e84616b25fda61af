/* Shared by the intensity-series fuzz targets (series_csv.c, series_json.c): parse, then check
 * what a caller relies on: series sorted by time, finite non-negative values, a lookup that
 * stays inside the series, and an error that returns nothing and says why. */
#ifndef JST_TESTS_FUZZ_SERIES_H
#define JST_TESTS_FUZZ_SERIES_H

#include <math.h>

#include "fuzz.h"
#include "joulestream/intensity.h"

static inline void fuzz_series(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return;
	struct jst_ci_file *f = NULL;
	char err[512] = "";
	int r = jst_ci_parse(p, size, "fuzz", NULL, &f, err, sizeof(err));
	if (r == 0) {
		FUZZ_ASSERT(f && jst_ci_count(f) > 0 && jst_ci_version(f)[0]);
		for (size_t i = 0; i < jst_ci_count(f); i++) {
			const struct jst_series *s = jst_ci_at(f, i);
			FUZZ_ASSERT(s->n > 0 && s->n <= JST_SERIES_MAX_POINTS);
			for (size_t k = 0; k < s->n; k++) {
				FUZZ_ASSERT(isfinite(s->pts[k].ci_g_per_kwh) &&
					    s->pts[k].ci_g_per_kwh >= 0);
				FUZZ_ASSERT(k == 0 || s->pts[k - 1].t_ns < s->pts[k].t_ns);
			}
			size_t hint = 0;
			ssize_t at = jst_series_find(s, s->pts[s->n / 2].t_ns, &hint);
			FUZZ_ASSERT(at >= 0 && (size_t)at < s->n);
			(void)jst_ci_select(f, s->zone);
		}
	} else {
		FUZZ_ASSERT(r < 0 && !f && err[0]);
	}
	jst_ci_free(f);
	free(p);
}

#endif
