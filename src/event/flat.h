/* A scanner for the common shape of an event line: one flat JSON object whose values are
 * strings without escapes, numbers, true, false or null. It allocates nothing and copies
 * nothing: each member is a key and a value pointing into the line. Anything else (nesting,
 * escapes, control characters, numbers that are not plain JSON, too many members) makes it
 * give up, and the caller parses the line with cJSON instead; so for every line it accepts,
 * the members are exactly what cJSON would have built, and the caller's checks, written once
 * for both, give the same answer (tests/fuzz/event.c checks the two paths against each other). */
#ifndef JST_EVENT_FLAT_H
#define JST_EVENT_FLAT_H

#include <stdbool.h>
#include <stddef.h>

#define JST_FLAT_MEMBERS 32

enum jst_flat_kind { JST_FLAT_STR, JST_FLAT_NUM, JST_FLAT_TRUE, JST_FLAT_FALSE, JST_FLAT_NULL };

struct jst_flat_member {
	const char *key, *val; /* val: a string's bytes without quotes, or a number's text */
	size_t klen, vlen;
	enum jst_flat_kind kind;
};

struct jst_flat {
	struct jst_flat_member m[JST_FLAT_MEMBERS];
	size_t n;
};

/* Scans the object at the start of p[0..n) (after spaces or tabs). True with *end just after
 * its '}'; false when the line is not of the simple shape (not necessarily invalid). */
bool jst__flat_scan(const char *p, size_t n, struct jst_flat *f, const char **end);

/* A JST_FLAT_NUM member's value, the double strtod gives for its text. */
double jst__flat_number(const struct jst_flat_member *m);

/* The first member named key, or NULL (cJSON_GetObjectItemCaseSensitive's rule). */
const struct jst_flat_member *jst__flat_get(const struct jst_flat *f, const char *key);

#endif
