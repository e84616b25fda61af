/* Fuzz target: ISO 8601 instants (src/core/isotime.c), read from intensity files, API answers
 * and `--at`/`--now` options. Checks: an accepted time is inside the documented years and
 * formats back to a string that parses to the same second (or lies in 2201 UTC, see below). */
#include <errno.h>

#include "core/isotime.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	int64_t ns = 0, back = 0;
	const char *why = NULL;
	int r = jst__parse_iso8601(p, size, &ns, &why);
	if (r == 0) {
		FUZZ_ASSERT(ns >= -14LL * 3600 * 1000000000LL);
		FUZZ_ASSERT(ns < (int64_t)(2201 - 1970) * 366 * 86400 * 1000000000LL);
		char out[40];
		jst__format_iso8601(ns, out, sizeof(out));
		/* the range is checked on the local date: 2200-12-31T23:59-14:00 is in 2201 UTC */
		if (jst__parse_iso8601(out, strlen(out), &back, &why) == 0)
			FUZZ_ASSERT(back / 1000000000LL == ns / 1000000000LL);
		else
			FUZZ_ASSERT(strncmp(out, "2201-", 5) == 0);
	} else {
		FUZZ_ASSERT(r == -EINVAL);
	}
	free(p);
	return 0;
}
