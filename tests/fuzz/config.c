/* Fuzz target: the configuration file parser (jst_config_parse, src/core/config.c). Checks:
 * an error leaves the configuration empty with a message; a success keeps its bounds. */
#include <errno.h>

#include "fuzz.h"
#include "joulestream/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst_config c;
	char err[512] = "";
	int r = jst_config_parse(p, size, "fuzz", &c, err, sizeof(err));
	if (r == 0) {
		FUZZ_ASSERT(c.nsites <= JST_CONFIG_SITES_MAX);
		for (size_t i = 0; i < c.nsites; i++)
			FUZZ_ASSERT(memchr(c.sites[i].name, '\0', sizeof(c.sites[i].name)) != NULL);
		if (c.nsites)
			FUZZ_ASSERT(jst_config_site(&c, c.sites[0].name) != NULL);
	} else {
		FUZZ_ASSERT(r < 0 && err[0] && c.nsites == 0);
	}
	free(p);
	return 0;
}
