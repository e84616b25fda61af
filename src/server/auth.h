/* API tokens. A token is "jst_" + 43 characters of base64url: 32 random bytes from libsodium.
 * The store keeps only its BLAKE2b-256 hash (crypto_generichash): a token has 256 bits of
 * entropy, so a fast hash is as safe as a slow password hash (crypto_pwhash exists to stretch
 * low-entropy passwords and would cost ~100 ms per request). A presented token is hashed and
 * compared with every active hash with sodium_memcmp (constant time, no early exit). The server
 * reloads the token table at most once a second, so a revocation takes effect within 1 s, and
 * again (at most every 100 ms) for a token it does not know: a new token works at once, and a
 * store gone since the last read answers 503, not 401. */
#ifndef JST_SERVER_AUTH_H
#define JST_SERVER_AUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/ingest.h"

#define JST_TOKEN_LEN 47 /* "jst_" + 43 */

/* A new token into out (JST_TOKEN_LEN + 1 bytes) and its record (hash, prefix) into t. */
int jst__token_new(char *out, struct jst_token_info *t);
void jst__token_hash(const char *token, size_t n, unsigned char hash[32]);

struct jst_auth {
	pthread_mutex_t mu;
	struct jst_store *store; /* a connection of its own */
	struct jst_token_info *tokens;
	size_t n, cap;
	uint64_t loaded_ns, tried_ns; /* the last good read of the token table, the last try */
	bool stale;                   /* the last try failed: the cache is the last good one */
};

int jst__auth_init(struct jst_auth *a, struct jst_store *store);
void jst__auth_release(struct jst_auth *a);
/* Checks "Bearer TOKEN"; fills who on success. -EACCES when missing or unknown, -EAGAIN when
 * unknown while the store cannot be read (a 503, never a 401: the token may be a new one). */
int jst__auth_check(struct jst_auth *a, const char *header, struct jst_token_info *who);

#endif
