/* Fuzz target: intensity files in CSV (`datetime,zone,ci_g_per_kwh`) through jst_ci_parse; the
 * corpus holds CSV seeds, the checks are in series.h. */
#include "series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_series(data, size);
	return 0;
}
