/* The bounded CSV reader declared in core/csv.h: one pass over (p, n), fields as slices of the
 * input, line numbers kept for error messages. It does not interpret field contents beyond
 * the number helpers, and it does not allocate. */
#include "core/csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void jst__csv_init(struct jst__csv *c, const char *p, size_t n)
{
	c->p = p;
	c->end = p + n;
	c->line = 0;
	c->next_line = 1;
	c->err[0] = '\0';
}

void jst__csv_fail(struct jst__csv *c, const char *fmt, ...)
{
	int w = snprintf(c->err, sizeof(c->err), "line %zu: ", c->line);
	if (w < 0 || (size_t)w >= sizeof(c->err))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + w, sizeof(c->err) - (size_t)w, fmt, ap);
	va_end(ap);
}

/* Length of the line break at p (1 for LF, 2 for CRLF), 0 if there is none. */
static size_t newline_at(const struct jst__csv *c, const char *p)
{
	if (p < c->end && *p == '\n')
		return 1;
	if (p + 1 < c->end && p[0] == '\r' && p[1] == '\n')
		return 2;
	return 0;
}

/* Skips blank lines and '#' comment lines; returns false at the end of the input. */
static bool skip_to_record(struct jst__csv *c)
{
	while (c->p < c->end) {
		size_t nl = newline_at(c, c->p);
		if (nl) {
			c->p += nl;
			c->next_line++;
		} else if (*c->p == '#') {
			while (c->p < c->end && *c->p != '\n')
				c->p++;
		} else {
			return true;
		}
	}
	return false;
}

/* Reads a quoted field starting at the opening quote. */
static int quoted_field(struct jst__csv *c, struct jst__csv_field *f)
{
	size_t start_line = c->next_line;
	const char *p = c->p + 1;
	f->p = p;
	f->escaped = false;
	for (;;) {
		if (p >= c->end) {
			c->line = start_line;
			jst__csv_fail(c, "unterminated quoted field");
			return -EINVAL;
		}
		if (*p == '"') {
			if (p + 1 < c->end && p[1] == '"') {
				f->escaped = true;
				p += 2;
				continue;
			}
			break;
		}
		if (*p == '\n')
			c->next_line++;
		p++;
	}
	f->n = (size_t)(p - f->p);
	c->p = p + 1;
	if (c->p < c->end && *c->p != ',' && !newline_at(c, c->p)) {
		c->line = c->next_line;
		jst__csv_fail(c, "unexpected text after a closing quote");
		return -EINVAL;
	}
	return 0;
}

static int plain_field(struct jst__csv *c, struct jst__csv_field *f)
{
	const char *p = c->p;
	f->p = p;
	f->escaped = false;
	while (p < c->end && *p != ',' && !newline_at(c, p)) {
		if (*p == '"') {
			c->line = c->next_line;
			jst__csv_fail(c, "a quote inside an unquoted field (quote the whole field)");
			return -EINVAL;
		}
		p++;
	}
	f->n = (size_t)(p - f->p);
	c->p = p;
	return 0;
}

int jst__csv_next(struct jst__csv *c, struct jst__csv_field *fields, size_t max, size_t *nf)
{
	*nf = 0;
	if (!skip_to_record(c))
		return 0;
	c->line = c->next_line;
	for (;;) {
		struct jst__csv_field tmp;
		struct jst__csv_field *f = *nf < max ? &fields[*nf] : &tmp;
		int r = c->p < c->end && *c->p == '"' ? quoted_field(c, f) : plain_field(c, f);
		if (r < 0) {
			c->p = c->end;
			return r;
		}
		if (*nf >= max) {
			jst__csv_fail(c, "more than %zu fields", max);
			c->p = c->end;
			return -E2BIG;
		}
		(*nf)++;
		if (c->p >= c->end)
			return 1;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		c->p += newline_at(c, c->p);
		c->next_line++;
		return 1;
	}
}

static bool field_is(const struct jst__csv_field *f, const char *name)
{
	char buf[64];
	size_t need = jst__csv_copy(f, buf, sizeof(buf));
	return need < sizeof(buf) && strcmp(buf, name) == 0;
}

int jst__csv_header(struct jst__csv *c, const char *const *names, size_t n, size_t *col,
		    size_t *ncols)
{
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t nf = 0;
	*ncols = 0;
	int r = jst__csv_next(c, f, JST_CSV_MAX_FIELDS, &nf);
	if (r < 0)
		return -EINVAL;
	if (r == 0) {
		c->line = c->next_line;
		jst__csv_fail(c, "no header record");
		return -EINVAL;
	}
	*ncols = nf;
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < nf && !field_is(&f[j], names[i]))
			j++;
		if (j == nf) {
			jst__csv_fail(c, "no column '%s' in the header", names[i]);
			return -EINVAL;
		}
		col[i] = j;
	}
	return 0;
}

size_t jst__csv_copy(const struct jst__csv_field *f, char *dst, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->escaped && f->p[i] == '"' && i + 1 < f->n && f->p[i + 1] == '"')
			i++;
		if (out + 1 < n)
			dst[out] = f->p[i];
		out++;
	}
	if (n > 0)
		dst[out < n ? out : n - 1] = '\0';
	return out;
}

int jst__csv_double(const struct jst__csv_field *f, double *out)
{
	if (f->escaped)
		return -EINVAL;
	return jst__parse_double(f->p, f->n, out);
}

int jst__csv_int(const struct jst__csv_field *f, long long *out)
{
	if (f->escaped)
		return -EINVAL;
	int64_t v;
	int r = jst__parse_i64(f->p, f->n, &v);
	if (r == 0)
		*out = (long long)v;
	return r;
}
