/* Fuzz target: kafka:// URLs (src/sink/rdkafka.c), given to --sink and serve --source. Checks:
 * an accepted URL splits into a non-empty broker list and topic that fit their buffers and are
 * made only of the allowed characters, and parsing the rebuilt URL gives the same parts. */
#include <errno.h>

#include "fuzz.h"
#include "sink/rdkafka.h"

static int allowed(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr("._-", *s) || strchr(extra, *s)))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	char b[JST_KAFKA_BROKERS_MAX], t[JST_KAFKA_TOPIC_MAX + 1], err[256];
	int r = jst__kafka_url_parse(p, size, b, sizeof(b), t, sizeof(t), err, sizeof(err));
	if (r == 0) {
		FUZZ_ASSERT(b[0] && t[0] && strlen(t) <= JST_KAFKA_TOPIC_MAX);
		FUZZ_ASSERT(allowed(b, ":,") && allowed(t, ""));
		char again[sizeof(b) + sizeof(t) + 16], b2[sizeof(b)], t2[sizeof(t)];
		int n = snprintf(again, sizeof(again), "kafka://%s/%s", b, t);
		FUZZ_ASSERT(jst__kafka_url_parse(again, (size_t)n, b2, sizeof(b2), t2, sizeof(t2), err, sizeof(err)) == 0);
		FUZZ_ASSERT(strcmp(b, b2) == 0 && strcmp(t, t2) == 0);
	} else {
		FUZZ_ASSERT(r == -EINVAL && err[0]);
	}
	free(p);
	return 0;
}
