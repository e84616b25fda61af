/* Fuzz target: key files (jst_key_parse, src/trust/keys.c), read by `verify --pub` and
 * `show --key`. Checks: an accepted key has a 64-hex key id computed from its public half, and
 * a private key's secret half ends with that public key. */
#include "fuzz.h"
#include "joulestream/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst_key k;
	char err[300];
	if (jst_key_parse(p, size, &k, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(strlen(k.keyid) == 64);
		FUZZ_ASSERT(!k.has_secret || memcmp(k.sk + 32, k.pk, 32) == 0);
	} else {
		FUZZ_ASSERT(err[0]);
	}
	free(p);
	return 0;
}
