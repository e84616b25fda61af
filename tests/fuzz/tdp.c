/* Fuzz target: the CPU TDP table parser and lookup (src/sensor/tdp.c) and the model-name
 * cleaner it uses on /proc/cpuinfo text. The input is split at its first NUL byte: before it
 * the table, after it a model name (none: the table's own first pattern). Checks: rows obey
 * the documented bounds; the cleaned name is NUL-terminated within its buffer. */
#include "sensor/tdp.h"
#include "fuzz.h"

static int row_ok(const struct jst_tdp_row *row, void *arg)
{
	(void)arg;
	FUZZ_ASSERT(row->pattern[0] && row->tdp_w > 0 && row->tdp_w <= 2000);
	FUZZ_ASSERT(row->threads == 0 || row->threads >= row->cores);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	const char *nul = memchr(p, '\0', size);
	size_t tn = nul ? (size_t)(nul - p) : size;
	const char *model = nul ? nul + 1 : p;
	size_t mn = nul ? size - tn - 1 : size;
	char err[256];
	(void)jst__tdp_parse(p, tn, row_ok, NULL, err, sizeof(err));
	struct jst_tdp_row row;
	if (jst__tdp_lookup(p, tn, model, mn, &row, err, sizeof(err)) == 1)
		row_ok(&row, NULL);
	char clean[128];
	size_t cl = jst__cpu_model_clean(model, mn, clean, sizeof(clean));
	FUZZ_ASSERT(cl < sizeof(clean) && clean[cl] == '\0');
	char tiny[4];
	cl = jst__cpu_model_clean(model, mn, tiny, sizeof(tiny));
	FUZZ_ASSERT(cl < sizeof(tiny));
	free(p);
	return 0;
}
