/* Fuzz target: intensity in JSON, Electricity Maps v3 (latest, history, forecast, past-range)
 * and WattTime v3 (data[] + meta) answers and files, through jst_ci_parse; the corpus holds
 * JSON seeds of both services, the checks are in series.h. */
#include "series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_series(data, size);
	return 0;
}
