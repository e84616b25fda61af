/* SHA-256 (sha256.h) through libsodium's crypto_hash_sha256, which the library links already
 * (tokens, signatures, the record chain): no hash of our own to maintain. sodium_init() runs
 * once, under pthread_once, before the first hash; it is idempotent and thread-safe, and does
 * not load anything lazily (libsodium is linked, so `run`'s startup maps nothing new). */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "core/sha256.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
	/* Its only failure is when no random source can be opened; SHA-256 has no state and no
	 * CPU-specific code path in libsodium, so the digest is the same either way. */
	if (sodium_init() < 0)
		return;
}

void jst__sha256(const void *p, size_t n, uint8_t out[32])
{
	pthread_once(&once, init);
	crypto_hash_sha256(out, p, (unsigned long long)n);
}

void jst__hex(const uint8_t *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void jst__sha256_hex(const void *p, size_t n, char *out, size_t nhex)
{
	uint8_t d[crypto_hash_sha256_BYTES];
	char all[2 * sizeof(d) + 1];
	jst__sha256(p, n, d);
	jst__hex(d, sizeof(d), all);
	if (nhex > 2 * sizeof(d))
		nhex = 2 * sizeof(d);
	memcpy(out, all, nhex);
	out[nhex] = '\0';
}
