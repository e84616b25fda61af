/* The keyset cursor of run pages (cursor.h): one parser and one formatter for every store. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "store/cursor.h"

int jst__cursor_parse(const char *c, double *v, char *run, size_t n)
{
	uint64_t bits = 0;
	for (int i = 0; i < 16; i++) {
		char h = c[i];
		int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
		if (d < 0)
			return -EINVAL;
		bits = bits << 4 | (uint64_t)d;
	}
	if (c[16] != '~' || !c[17] || !jst__strlcpy(run, c + 17, n))
		return -EINVAL;
	memcpy(v, &bits, sizeof(*v));
	return 0;
}

int jst__cursor_format(double v, const char *run, char *out, size_t n)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return snprintf(out, n, "%016llx~%s", (unsigned long long)bits, run);
}
