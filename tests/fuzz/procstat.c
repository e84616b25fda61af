/* Fuzz target: the /proc/PID/stat and /proc/stat parsers of attribution (src/attrib/procstat.c).
 * A process can name itself anything (comm holds spaces, parentheses, newlines), so these see
 * hostile text on every host. Checks: accepted /proc/stat idle time never exceeds the total. */
#include "attrib/procstat.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst__pid_stat ps;
	(void)jst__parse_pid_stat(p, size, &ps);
	struct jst__cpu_stat cs;
	if (jst__parse_cpu_stat(p, size, &cs) == 0)
		FUZZ_ASSERT(cs.idle <= cs.total);
	free(p);
	return 0;
}
