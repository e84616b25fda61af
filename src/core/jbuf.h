/* A bounded byte buffer for building JSON and NDJSON in memory: appends never write past the
 * ceiling; when one would, the buffer is marked full and later appends do nothing, so the
 * caller checks once at the end. Strings are escaped per RFC 8259 (invalid UTF-8 becomes
 * U+FFFD); numbers are written so that they parse back to the same double (%.17g). */
#ifndef JST_CORE_JBUF_H
#define JST_CORE_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jst_jbuf {
	char *p;
	size_t len, cap, max; /* max: the ceiling (growable buffers), cap == max for fixed ones */
	bool full;            /* an append did not fit (or allocation failed) */
	bool owned;           /* p is malloc'd here and grows up to max */
};

/* Fixed buffer over caller memory; p[len] is kept NUL-terminated. */
void jst__jbuf_fixed(struct jst_jbuf *b, char *mem, size_t n);
/* Growable buffer, at most max bytes. */
void jst__jbuf_init(struct jst_jbuf *b, size_t max);
void jst__jbuf_release(struct jst_jbuf *b);
void jst__jbuf_reset(struct jst_jbuf *b);

void jst__jbuf_put(struct jst_jbuf *b, const char *s, size_t n);
void jst__jbuf_str(struct jst_jbuf *b, const char *s);  /* raw text */
void jst__jbuf_printf(struct jst_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jst__jbuf_jstr(struct jst_jbuf *b, const char *s);  /* a JSON string, quoted and escaped */
void jst__jbuf_jnum(struct jst_jbuf *b, double v);       /* a JSON number; NaN/inf -> null */
void jst__jbuf_u64(struct jst_jbuf *b, uint64_t v);
void jst__jbuf_i64(struct jst_jbuf *b, int64_t v);
/* ,"key": — with a leading comma unless the buffer ends with '{' or '[' */
void jst__jbuf_key(struct jst_jbuf *b, const char *key);

/* True when p[0..n) is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool jst__utf8_valid(const char *p, size_t n);

#endif
