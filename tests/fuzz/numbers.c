/* Fuzz target: the bounded number parsers that read every sysfs and procfs value
 * (jst__parse_u64, jst__parse_i64, jst__parse_double) and jst__next_u64, which walks /proc
 * lines. Checks, besides memory safety: a value accepted by the strict parsers is consistent
 * (a u64 that fits in i64 parses the same as i64). */
#include <errno.h>

#include "core/util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	uint64_t u = 0;
	int64_t i = 0;
	double d = 0;
	int ru = jst__parse_u64(p, size, &u);
	int ri = jst__parse_i64(p, size, &i);
	(void)jst__parse_double(p, size, &d);
	FUZZ_ASSERT(ru == 0 || ru == -EINVAL || ru == -ERANGE);
	FUZZ_ASSERT(ri == 0 || ri == -EINVAL || ri == -ERANGE);
	if (ru == 0 && ri == 0 && u <= (uint64_t)INT64_MAX)
		FUZZ_ASSERT((uint64_t)i == u);
	const char *c = p, *end = p + size;
	for (int k = 0; k < 64 && c < end; k++) {
		const char *before = c;
		if (jst__next_u64(&c, end, &u) < 0)
			break;
		FUZZ_ASSERT(c > before && c <= end);
	}
	free(p);
	return 0;
}
