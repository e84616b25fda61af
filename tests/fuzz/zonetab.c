/* Fuzz target: tzdata's zone.tab / zone1970.tab reader behind the offline zone guess
 * (jst_zonetab_country, src/carbon/tzguess.c). The input's first line is the time zone asked
 * for, the rest the table. Checks: a found country is a NUL-terminated code in its buffer. */
#include "fuzz.h"
#include "joulestream/intensity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	const char *nl = memchr(p, '\n', size);
	size_t tl = nl ? (size_t)(nl - p) : 0;
	char tz[128];
	if (tl >= sizeof(tz))
		tl = sizeof(tz) - 1;
	memcpy(tz, p, tl);
	tz[tl] = '\0';
	const char *tab = nl ? nl + 1 : p;
	size_t tn = nl ? size - (size_t)(tab - p) : size;
	char cc[8];
	if (jst_zonetab_country(tab, tn, tz, cc, sizeof(cc)) == 0)
		FUZZ_ASSERT(memchr(cc, '\0', sizeof(cc)) != NULL);
	free(p);
	return 0;
}
