/* A bounded CSV reader (RFC 4180: commas, double-quoted fields with "" escapes, LF or CRLF) for
 * the bundled data sets and any other table a module reads. It is a pure function over (p, n):
 * it never allocates, never reads past n and never trusts a terminating NUL. Fields are slices
 * of the input; jst__csv_copy() unescapes a quoted one. Errors name the line they happened on.
 * Blank lines and lines whose first character is '#' are skipped. */
#ifndef JST_CORE_CSV_H
#define JST_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#define JST_CSV_MAX_FIELDS 32 /* the most fields a caller may ask for in one record */

struct jst__csv_field {
	const char *p; /* start of the field's text, quotes removed; not NUL-terminated */
	size_t n;      /* its length in the input */
	bool escaped;  /* it holds "" pairs: jst__csv_copy() turns them into one quote */
};

struct jst__csv {
	const char *p;    /* next unread byte */
	const char *end;  /* one past the last byte */
	size_t line;      /* line on which the record last returned began (1-based) */
	size_t next_line; /* line of *p */
	char err[128];    /* "line N: what went wrong", set when a call fails */
};

/* Starts reading p[0..n). */
void jst__csv_init(struct jst__csv *c, const char *p, size_t n);

/* Reads the next record into fields[0..max) and its field count into *nf. Returns 1 for a
 * record, 0 at the end of the input, -EINVAL for malformed input (an unterminated quote,
 * text after a closing quote) or -E2BIG for a record of more than max fields; c->err says
 * which line. After an error the reader stays at the failing record: stop reading. */
int jst__csv_next(struct jst__csv *c, struct jst__csv_field *fields, size_t max, size_t *nf);

/* Reads the header record and finds each of names[0..n) in it (exact match): col[i] is the
 * column of names[i]. Returns 0, or -EINVAL naming the first missing column (or a bad or
 * absent header) in c->err. *ncols gets the header's field count. */
int jst__csv_header(struct jst__csv *c, const char *const *names, size_t n, size_t *col,
		    size_t *ncols);

/* Copies a field into dst (size n), unescaping "" and NUL-terminating it. Returns the length
 * the whole field needs (without the NUL): a result >= n means it was cut. */
size_t jst__csv_copy(const struct jst__csv_field *f, char *dst, size_t n);

/* A field as a number: the whole field must be one (jst__parse_double / jst__parse_i64 rules).
 * Returns 0, -EINVAL or -ERANGE. An escaped field is never a number. */
int jst__csv_double(const struct jst__csv_field *f, double *out);
int jst__csv_int(const struct jst__csv_field *f, long long *out);

/* Sets c->err to "line N: " + the message, for callers that reject a record's content. */
void jst__csv_fail(struct jst__csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
