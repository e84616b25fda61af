/* Fuzz target: the bounded CSV reader (src/core/csv.c) that reads the bundled data sets and
 * intensity files: records, the header lookup, field copies and numbers. Checks: fields lie
 * inside the input, lines only move forward, copies are NUL-terminated where the copy ends. */
#include <errno.h>

#include "core/csv.h"
#include "fuzz.h"

static void fields(const char *p, size_t n, const struct jst__csv_field *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		FUZZ_ASSERT(f[i].p >= p && f[i].p + f[i].n <= p + n);
		char out[32];
		size_t need = jst__csv_copy(&f[i], out, sizeof(out));
		/* a field may hold NUL bytes: check the terminator, not strlen */
		FUZZ_ASSERT(out[need < sizeof(out) ? need : sizeof(out) - 1] == '\0');
		double d;
		long long ll;
		(void)jst__csv_double(&f[i], &d);
		(void)jst__csv_int(&f[i], &ll);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t nf, last = 0;
	jst__csv_init(&c, p, size);
	for (int r; (r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1;) {
		FUZZ_ASSERT(nf <= JST_CSV_MAX_FIELDS && c.line >= last);
		last = c.line;
		fields(p, size, f, nf);
	}
	static const char *const names[] = {"datetime", "zone", "ci_g_per_kwh"};
	size_t col[3], ncols;
	jst__csv_init(&c, p, size);
	if (jst__csv_header(&c, names, 3, col, &ncols) == 0)
		for (size_t i = 0; i < 3; i++)
			FUZZ_ASSERT(col[i] < ncols);
	free(p);
	return 0;
}
