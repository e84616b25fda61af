/* Token creation, hashing and checking for the API (auth.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/util.h"
#include "server/auth.h"

void jst__token_hash(const char *token, size_t n, unsigned char hash[32])
{
	crypto_generichash(hash, 32, (const unsigned char *)token, n, NULL, 0);
}

int jst__token_new(char *out, struct jst_token_info *t)
{
	if (sodium_init() < 0)
		return -EIO;
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	memcpy(out, "jst_", 4);
	sodium_bin2base64(out + 4, JST_TOKEN_LEN + 1 - 4, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	jst__token_hash(out, strlen(out), t->hash);
	memcpy(t->prefix, out, 12);
	t->prefix[12] = '\0';
	return 0;
}

int jst__auth_init(struct jst_auth *a, struct jst_store *store)
{
	memset(a, 0, sizeof(*a));
	if (sodium_init() < 0)
		return -EIO;
	pthread_mutex_init(&a->mu, NULL);
	a->store = store;
	return 0;
}

void jst__auth_release(struct jst_auth *a)
{
	free(a->tokens);
	pthread_mutex_destroy(&a->mu);
}

static int keep(const struct jst_token_info *t, void *ud)
{
	struct jst_auth *a = ud;
	if (t->revoked_ns)
		return 0;
	if (a->n == a->cap) {
		size_t c = a->cap ? a->cap * 2 : 16;
		struct jst_token_info *p = realloc(a->tokens, c * sizeof(*p));
		if (!p)
			return 1;
		a->tokens = p;
		a->cap = c;
	}
	a->tokens[a->n++] = *t;
	return 0;
}

/* The token table read into a new list that replaces the cache only when the whole read
 * succeeded: a store that cannot answer (PostgreSQL restarting) leaves the last good cache in
 * place, marked stale. At most once per every_ns since the last try. */
static void reload(struct jst_auth *a, uint64_t every_ns)
{
	uint64_t now = jst__mono_ns();
	if (a->tried_ns && now - a->tried_ns < every_ns)
		return;
	a->tried_ns = now;
	struct jst_auth fresh = {0};
	if (jst_store_tokens(a->store, keep, &fresh) >= 0) {
		free(a->tokens);
		a->tokens = fresh.tokens;
		a->n = fresh.n;
		a->cap = fresh.cap;
		a->loaded_ns = now;
		a->stale = false;
	} else {
		free(fresh.tokens);
		a->stale = true;
	}
}

static int find(const struct jst_auth *a, const unsigned char h[32])
{
	int found = -1;
	for (size_t i = 0; i < a->n; i++)
		if (sodium_memcmp(h, a->tokens[i].hash, 32) == 0)
			found = (int)i;
	return found;
}

int jst__auth_check(struct jst_auth *a, const char *header, struct jst_token_info *who)
{
	if (!header || strncmp(header, "Bearer ", 7) != 0)
		return -EACCES;
	const char *tok = header + 7;
	size_t n = strlen(tok);
	if (n == 0 || n > 256)
		return -EACCES;
	unsigned char h[32];
	jst__token_hash(tok, n, h);
	pthread_mutex_lock(&a->mu);
	reload(a, 1000000000u); /* revocations take effect within 1 s */
	int found = find(a, h);
	/* unknown: a token made since, or a store that stopped answering since the last read: the
	 * store decides, asked at most every 100 ms (unknown tokens cost one read each, no more) */
	if (found < 0) {
		reload(a, 100000000u);
		found = find(a, h);
	}
	if (found >= 0)
		*who = a->tokens[found];
	bool stale = a->stale;
	pthread_mutex_unlock(&a->mu);
	/* unknown to a stale cache: maybe a token made since; only the store can say */
	return found >= 0 ? 0 : stale ? -EAGAIN : -EACCES;
}
