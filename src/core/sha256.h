/* SHA-256 (FIPS 180-4), for naming the version of a data file or of a fetched response by its
 * content (the same bytes always give the same version) and for the audit log's row hashes.
 * One-shot over (p, n); no allocation; libsodium computes it (sha256.c). Thread-safe. */
#ifndef JST_CORE_SHA256_H
#define JST_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The digest of p[0..n) into out[32]. */
void jst__sha256(const void *p, size_t n, uint8_t out[32]);

/* n bytes of a digest as 2n lower-case hex digits into out (size > 2n). */
void jst__hex(const uint8_t *d, size_t n, char *out);

/* The first nhex hex digits of the digest into out (size > nhex), e.g. 12 for a short id. */
void jst__sha256_hex(const void *p, size_t n, char *out, size_t nhex);

#endif
