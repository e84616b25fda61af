/* The flat-object scanner of flat.h: the fast path of event parsing. Its rules are narrower
 * than JSON's on purpose, each so that cJSON would read the accepted text the same way:
 * whitespace is only space and tab (cJSON takes any byte up to 0x20, and the ts_ns reader of
 * parse.c only those two), strings hold no backslash and no control byte (no decoding to do),
 * numbers follow RFC 8259 exactly and are shorter than the 64-byte buffer cJSON 1.7.15 copies
 * them into (cJSON also takes "+1", "01" or ".5"), and nothing is nested. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event/flat.h"

#define NUMBER_MAX 63 /* cJSON 1.7.15 parses at most 63 characters of a number */

static size_t skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* A string starting after its opening quote; the index of the closing quote, or n. */
static size_t string_end(const char *p, size_t n, size_t i)
{
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"')
			return i;
		if (c == '\\' || c < 0x20)
			return n;
	}
	return n;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An RFC 8259 number at p[i]; its end, or 0 when it is not one or is followed by a character
 * cJSON would have taken into it. */
static size_t number_end(const char *p, size_t n, size_t i)
{
	size_t s = i;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else if (i < n && digit(p[i]) && p[i] != '0') {
		while (i < n && digit(p[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && p[i] == '.') {
		if (++i >= n || !digit(p[i]))
			return 0;
		while (i < n && digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !digit(p[i]))
			return 0;
		while (i < n && digit(p[i]))
			i++;
	}
	if (i - s > NUMBER_MAX || (i < n && strchr("0123456789+-eE.", p[i]) && p[i] != '\0'))
		return 0;
	return i;
}

/* One member's value at p[i]; its end, or 0. */
static size_t value(const char *p, size_t n, size_t i, struct jst_flat_member *m)
{
	if (p[i] == '"') {
		size_t e = string_end(p, n, i + 1);
		if (e >= n)
			return 0;
		m->kind = JST_FLAT_STR;
		m->val = p + i + 1;
		m->vlen = e - i - 1;
		return e + 1;
	}
	if (p[i] == '-' || digit(p[i])) {
		size_t e = number_end(p, n, i);
		m->kind = JST_FLAT_NUM;
		m->val = p + i;
		m->vlen = e ? e - i : 0;
		return e;
	}
	static const struct {
		const char *word;
		size_t len;
		enum jst_flat_kind kind;
	} words[] = {{"true", 4, JST_FLAT_TRUE},
		     {"false", 5, JST_FLAT_FALSE},
		     {"null", 4, JST_FLAT_NULL}};
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (n - i >= words[w].len && memcmp(p + i, words[w].word, words[w].len) == 0) {
			m->kind = words[w].kind;
			m->val = p + i;
			m->vlen = words[w].len;
			return i + words[w].len;
		}
	return 0; /* an array, an object or not JSON: cJSON decides */
}

bool jst__flat_scan(const char *p, size_t n, struct jst_flat *f, const char **end)
{
	f->n = 0;
	size_t i = skip_ws(p, n, 0);
	if (i >= n || p[i] != '{')
		return false;
	i = skip_ws(p, n, i + 1);
	if (i < n && p[i] == '}') {
		*end = p + i + 1;
		return true;
	}
	while (f->n < JST_FLAT_MEMBERS) {
		struct jst_flat_member *m = &f->m[f->n];
		if (i >= n || p[i] != '"')
			return false;
		size_t e = string_end(p, n, i + 1);
		if (e >= n)
			return false;
		m->key = p + i + 1;
		m->klen = e - i - 1;
		i = skip_ws(p, n, e + 1);
		if (i >= n || p[i] != ':')
			return false;
		i = skip_ws(p, n, i + 1);
		if (i >= n || (i = value(p, n, i, m)) == 0)
			return false;
		f->n++;
		i = skip_ws(p, n, i);
		if (i < n && p[i] == '}') {
			*end = p + i + 1;
			return true;
		}
		if (i >= n || p[i] != ',')
			return false;
		i = skip_ws(p, n, i + 1);
	}
	return false;
}

/* Clinger's fast path: with at most 15 significant digits (an integer below 2^53) and a power
 * of ten of at most 22 (exact in a double), one multiplication or division is the correctly
 * rounded value, which is what strtod returns; anything else goes to strtod. */
double jst__flat_number(const struct jst_flat_member *m)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
				       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	const char *p = m->val, *end = m->val + m->vlen;
	bool neg = *p == '-';
	uint64_t mant = 0;
	int digits = 0, exp10 = 0;
	p += neg;
	for (bool frac = false; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			frac = true;
			continue;
		}
		if (mant || *p != '0')
			digits++;
		mant = mant * 10 + (uint64_t)(*p - '0');
		exp10 -= frac;
		if (digits > 15)
			return strtod(m->val, NULL);
	}
	if (p < end) { /* the exponent: at most 3 digits matter, more goes to strtod */
		int sign = *++p == '-' ? -1 : 1, e = 0;
		p += *p == '-' || *p == '+';
		for (; p < end; p++)
			if ((e = e * 10 + (*p - '0')) > 999)
				return strtod(m->val, NULL);
		exp10 += sign * e;
	}
	if (exp10 < -22 || exp10 > 22)
		return strtod(m->val, NULL);
	double v = exp10 < 0 ? (double)mant / pow10[-exp10] : (double)mant * pow10[exp10];
	return neg ? -v : v;
}

const struct jst_flat_member *jst__flat_get(const struct jst_flat *f, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < f->n; i++)
		if (f->m[i].klen == kl && (kl == 0 || f->m[i].key[0] == key[0]) &&
		    memcmp(f->m[i].key, key, kl) == 0)
			return &f->m[i];
	return NULL;
}
