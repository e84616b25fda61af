/* Fuzz target: what `joulestream verify FILE` reads from an untrusted attestation file: the
 * DSSE envelope (jst_dsse_parse, src/trust/dsse.c), then the in-toto statement in its payload
 * (jst_attest_parse, src/trust/attest.c), whatever the signature says. Checks: a parsed
 * envelope's payload is NUL-terminated at its length, a fixed key never verifies garbage, and
 * the statement's fields stay in their buffers. */
#include <errno.h>

#include <sodium.h>

#include "fuzz.h"
#include "joulestream/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jst_key key;
	static bool have_key;
	if (!have_key && sodium_init() >= 0) {
		unsigned char seed[32] = {1};
		crypto_sign_seed_keypair(key.pk, key.sk, seed);
		have_key = true;
	}
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst_dsse e;
	char err[600];
	struct jst_attest_info info;
	if (jst_dsse_parse(p, size, &e, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(e.payload && e.payload[e.payload_n] == '\0' && e.nsigs >= 1 &&
			    e.nsigs <= JST_DSSE_SIGS_MAX);
		(void)jst_dsse_verify(&e, &key, NULL);
		if (jst_attest_parse((const char *)e.payload, e.payload_n, &info, err,
				     sizeof(err)) == 0)
			FUZZ_ASSERT(info.nsubjects >= 1 && strlen(info.content_hash) == 64);
		jst_dsse_release(&e);
	} else {
		FUZZ_ASSERT(err[0] && e.payload == NULL);
	}
	/* the input as a bare statement too */
	if (jst_attest_parse(p, size, &info, err, sizeof(err)) == 0)
		FUZZ_ASSERT(memchr(info.run_id, '\0', sizeof(info.run_id)) != NULL);
	free(p);
	return 0;
}
