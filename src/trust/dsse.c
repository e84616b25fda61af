/* DSSE envelopes (the Dead Simple Signing Envelope of secure-systems-lab, protocol v1): the
 * pre-authentication encoding, signing with Ed25519 over it, and parsing and verifying an
 * envelope. PAE is exactly "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body with decimal
 * lengths in bytes; the signature covers that, never the base64 text. Parsing is bounded
 * (JST_ENVELOPE_MAX, JST_DSSE_SIGS_MAX) and fuzzed (tests/fuzz/envelope.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "joulestream/trust.h"

size_t jst_dsse_pae(const char *type, size_t tn, const unsigned char *body, size_t bn,
		    unsigned char *out, size_t outn)
{
	char head[64];
	int h = snprintf(head, sizeof(head), "DSSEv1 %zu ", tn);
	char mid[32];
	int m = snprintf(mid, sizeof(mid), " %zu ", bn);
	size_t need = (size_t)h + tn + (size_t)m + bn;
	if (out && need <= outn) {
		memcpy(out, head, (size_t)h);
		memcpy(out + h, type, tn);
		memcpy(out + (size_t)h + tn, mid, (size_t)m);
		if (bn)
			memcpy(out + (size_t)h + tn + (size_t)m, body, bn);
	}
	return need;
}

static unsigned char *pae_alloc(const char *type, const unsigned char *body, size_t bn, size_t *n)
{
	size_t tn = strlen(type);
	*n = jst_dsse_pae(type, tn, body, bn, NULL, 0);
	unsigned char *p = malloc(*n ? *n : 1);
	if (p)
		jst_dsse_pae(type, tn, body, bn, p, *n);
	return p;
}

int jst_dsse_sign(const char *type, const unsigned char *payload, size_t n, const struct jst_key *k,
		  char **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!k->has_secret) {
		snprintf(err, errlen, "signing needs a private key (joulestream key create)");
		return -EINVAL;
	}
	if (sodium_init() < 0 || n > JST_ENVELOPE_MAX / 2) {
		snprintf(err, errlen,
			 n > JST_ENVELOPE_MAX / 2 ? "payload too large" :
						    "libsodium could not be initialised");
		return -EINVAL;
	}
	size_t pn;
	unsigned char sig[crypto_sign_BYTES];
	unsigned char *pae = pae_alloc(type, payload, n, &pn);
	size_t b64n = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64n),
	     sigb64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	cJSON *env = cJSON_CreateObject(), *sigs = cJSON_CreateArray(), *one = cJSON_CreateObject();
	int r = -ENOMEM;
	if (pae && b64 && env && sigs && one) {
		crypto_sign_detached(sig, NULL, pae, pn, k->sk);
		sodium_bin2base64(b64, b64n, payload, n, sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2base64(sigb64, sizeof(sigb64), sig, sizeof(sig),
				  sodium_base64_VARIANT_ORIGINAL);
		cJSON_AddStringToObject(env, "payloadType", type);
		cJSON_AddStringToObject(env, "payload", b64);
		cJSON_AddStringToObject(one, "keyid", k->keyid);
		cJSON_AddStringToObject(one, "sig", sigb64);
		cJSON_AddItemToArray(sigs, one);
		one = NULL;
		cJSON_AddItemToObject(env, "signatures", sigs);
		sigs = NULL;
		char *text = cJSON_PrintUnformatted(env);
		size_t tl = text ? strlen(text) : 0;
		if (text && (*out = malloc(tl + 2))) {
			memcpy(*out, text, tl);
			memcpy(*out + tl, "\n", 2);
			r = 0;
		}
		cJSON_free(text);
	}
	if (r < 0)
		snprintf(err, errlen, "out of memory while signing");
	cJSON_Delete(one);
	cJSON_Delete(sigs);
	cJSON_Delete(env);
	free(pae);
	free(b64);
	return r;
}

/* base64 in any of the four alphabets/paddings DSSE allows; *got bytes into out (cap). */
static int b64_any(const char *s, unsigned char *out, size_t cap, size_t *got)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
	size_t n = strlen(s);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const char *end = NULL;
		if (sodium_base642bin(out, cap, s, n, NULL, got, &end, variants[i]) == 0 &&
		    end == s + n)
			return 0;
	}
	return -1;
}

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "not a DSSE envelope: %s", what);
	return -EINVAL;
}

static int parse_sigs(const cJSON *sigs, struct jst_dsse *e, char *err, size_t errlen)
{
	if (!cJSON_IsArray(sigs) || cJSON_GetArraySize(sigs) == 0)
		return bad(err, errlen, "signatures must be a non-empty array");
	if (cJSON_GetArraySize(sigs) > JST_DSSE_SIGS_MAX)
		return bad(err, errlen, "more than 8 signatures");
	const cJSON *s;
	cJSON_ArrayForEach(s, sigs)
	{
		const cJSON *sig = cJSON_GetObjectItemCaseSensitive(s, "sig");
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(s, "keyid");
		if (!cJSON_IsString(sig))
			return bad(err, errlen, "a signature has no sig string");
		if (kid && !cJSON_IsString(kid))
			return bad(err, errlen, "keyid must be a string");
		size_t i = e->nsigs++, got = 0;
		snprintf(e->sigs[i].keyid, sizeof(e->sigs[i].keyid), "%s",
			 kid ? kid->valuestring : "");
		unsigned char tmp[128];
		e->sigs[i].sig_ok = strlen(sig->valuestring) < 200 &&
				    b64_any(sig->valuestring, tmp, sizeof(tmp), &got) == 0 &&
				    got == 64;
		if (e->sigs[i].sig_ok)
			memcpy(e->sigs[i].sig, tmp, 64);
	}
	return 0;
}

int jst_dsse_parse(const char *p, size_t n, struct jst_dsse *e, char *err, size_t errlen)
{
	memset(e, 0, sizeof(*e));
	if (n > JST_ENVELOPE_MAX)
		return bad(err, errlen, "larger than 16 MiB");
	cJSON *j = cJSON_ParseWithLength(p, n);
	if (!j)
		return bad(err, errlen, "invalid JSON");
	int r = -EINVAL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "payloadType");
	const cJSON *payload = cJSON_GetObjectItemCaseSensitive(j, "payload");
	if (!cJSON_IsObject(j) || !cJSON_IsString(type) || !cJSON_IsString(payload)) {
		bad(err, errlen, "payloadType and payload must be strings");
		goto out;
	}
	if (strlen(type->valuestring) >= sizeof(e->payload_type)) {
		bad(err, errlen, "payloadType too long");
		goto out;
	}
	snprintf(e->payload_type, sizeof(e->payload_type), "%s", type->valuestring);
	size_t cap = strlen(payload->valuestring) / 4 * 3 + 3;
	e->payload = malloc(cap + 1);
	if (!e->payload || b64_any(payload->valuestring, e->payload, cap, &e->payload_n) < 0) {
		bad(err, errlen, "payload is not base64");
		goto out;
	}
	e->payload[e->payload_n] = '\0';
	r = parse_sigs(cJSON_GetObjectItemCaseSensitive(j, "signatures"), e, err, errlen);
out:
	cJSON_Delete(j);
	if (r < 0)
		jst_dsse_release(e);
	return r;
}

void jst_dsse_release(struct jst_dsse *e)
{
	free(e->payload);
	e->payload = NULL;
	e->payload_n = 0;
}

int jst_dsse_verify(const struct jst_dsse *e, const struct jst_key *pub, size_t *which)
{
	size_t pn;
	if (sodium_init() < 0)
		return -EIO;
	unsigned char *pae = pae_alloc(e->payload_type, e->payload, e->payload_n, &pn);
	if (!pae)
		return -ENOMEM;
	int r = -EBADMSG;
	for (size_t i = 0; i < e->nsigs && r < 0; i++) {
		if (!e->sigs[i].sig_ok)
			continue;
		if (crypto_sign_verify_detached(e->sigs[i].sig, pae, pn, pub->pk) == 0) {
			r = 0;
			if (which)
				*which = i;
		}
	}
	free(pae);
	return r;
}
