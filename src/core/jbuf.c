/* The bounded JSON buffer (jbuf.h) and the UTF-8 check that the event parser runs over every
 * line before cJSON sees it (cJSON itself accepts any byte inside strings). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jbuf.h"

void jst__jbuf_fixed(struct jst_jbuf *b, char *mem, size_t n)
{
	*b = (struct jst_jbuf){mem, 0, n, n, n == 0, false};
	if (n)
		mem[0] = '\0';
}

void jst__jbuf_init(struct jst_jbuf *b, size_t max)
{
	*b = (struct jst_jbuf){NULL, 0, 0, max, false, true};
}

void jst__jbuf_release(struct jst_jbuf *b)
{
	if (b->owned)
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void jst__jbuf_reset(struct jst_jbuf *b)
{
	b->len = 0;
	b->full = false;
	if (b->p && b->cap)
		b->p[0] = '\0';
}

static bool room(struct jst_jbuf *b, size_t n)
{
	if (b->full)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	if (!b->owned || b->len + n + 1 > b->max) {
		b->full = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->full = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void jst__jbuf_put(struct jst_jbuf *b, const char *s, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jst__jbuf_str(struct jst_jbuf *b, const char *s)
{
	jst__jbuf_put(b, s, strlen(s));
}

void jst__jbuf_printf(struct jst_jbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(tmp)) {
		b->full = true;
		return;
	}
	jst__jbuf_put(b, tmp, (size_t)w);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
	           c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (k == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
		return 0; /* overlong or surrogate */
	if (k == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
		return 0;
	return k;
}

bool jst__utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		if (n - i >= 8) { /* eight ASCII bytes at once: event lines are mostly ASCII */
			uint64_t w;
			memcpy(&w, p + i, 8);
			if ((w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

void jst__jbuf_jstr(struct jst_jbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	jst__jbuf_put(b, "\"", 1);
	size_t i = 0;
	while (i < n && !b->full) {
		unsigned c = p[i];
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			jst__jbuf_put(b, (const char *)p + i, run - i);
			i = run;
			continue;
		}
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			jst__jbuf_put(b, e, 2);
			i++;
		} else if (c == '\n') {
			jst__jbuf_put(b, "\\n", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			jst__jbuf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t k = utf8_seq(p + i, n - i);
			if (k == 0) {
				jst__jbuf_put(b, "\\ufffd", 6);
				i++;
			} else {
				jst__jbuf_put(b, (const char *)p + i, k);
				i += k;
			}
		}
	}
	jst__jbuf_put(b, "\"", 1);
}

void jst__jbuf_jnum(struct jst_jbuf *b, double v)
{
	if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
		jst__jbuf_put(b, "null", 4);
	else if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
		jst__jbuf_printf(b, "%lld", (long long)v);
	else {
		/* the shortest of %.15g / %.17g that reads back as the same double */
		char t[40];
		snprintf(t, sizeof(t), "%.15g", v);
		if (strtod(t, NULL) != v)
			snprintf(t, sizeof(t), "%.17g", v);
		jst__jbuf_str(b, t);
	}
}

void jst__jbuf_u64(struct jst_jbuf *b, uint64_t v)
{
	jst__jbuf_printf(b, "%llu", (unsigned long long)v);
}

void jst__jbuf_i64(struct jst_jbuf *b, int64_t v)
{
	jst__jbuf_printf(b, "%lld", (long long)v);
}

void jst__jbuf_key(struct jst_jbuf *b, const char *key)
{
	if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		jst__jbuf_put(b, ",", 1);
	jst__jbuf_jstr(b, key);
	jst__jbuf_put(b, ":", 1);
}
