/* SHA-256 (sha256.h) through libsodium's crypto_hash_sha256, which the library links already
 * (tokens, signatures, the record chain): no hash of our own to maintain. sodium_init() runs
 * once, under pthread_once, before the first hash; it is idempotent and thread-safe, and does
 * not load anything lazily (libsodium is linked, so `run`'s startup maps nothing new). */
#include <pthread.h>
#include <sodium.h>

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

void jst__sha256_hex(const void *p, size_t n, char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t d[crypto_hash_sha256_BYTES];
	jst__sha256(p, n, d);
	if (nhex > 2 * sizeof(d))
		nhex = 2 * sizeof(d);
	for (size_t i = 0; i < nhex; i++)
		out[i] = hex[(d[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	out[nhex] = '\0';
}
