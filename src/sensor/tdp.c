/* The CPU TDP table parser and the model-name matching used by the estimate backend: a bounded
 * CSV reader over (p, n) that names the line of every error, a longest-substring lookup, and
 * the tidying of a /proc/cpuinfo "model name". No allocation, no NUL-terminated input assumed.
 * The table's contents and their sources are described in docs/estimate.md. */
#include "sensor/tdp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define NFIELDS 5
#define TDP_MAX_W 2000.0
#define COUNT_MAX 4096

struct field {
	const char *p;
	size_t n;
};

static int fail(char *err, size_t errlen, size_t line, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "line %zu: %s", line, what);
	return -EINVAL;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* Splits a line into exactly NFIELDS trimmed fields; returns how many fields it has. */
static size_t split(const char *p, size_t n, struct field *f)
{
	size_t k = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != ',')
			continue;
		if (k < NFIELDS) {
			f[k].p = p + start;
			f[k].n = i - start;
			trim(&f[k].p, &f[k].n);
		}
		k++;
		start = i + 1;
	}
	return k;
}

/* An empty field is 0 (unknown); otherwise 1..COUNT_MAX. */
static int parse_count(const struct field *f, unsigned *out)
{
	uint64_t v;
	if (f->n == 0) {
		*out = 0;
		return 0;
	}
	if (jst__parse_u64(f->p, f->n, &v) < 0 || v < 1 || v > COUNT_MAX)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_row(const char *p, size_t n, size_t line, struct jst_tdp_row *row, char *err,
		     size_t errlen)
{
	struct field f[NFIELDS];
	char msg[96];
	size_t k = split(p, n, f);
	if (k != NFIELDS) {
		snprintf(msg, sizeof(msg), "expected 5 fields (%s), found %zu", JST_TDP_HEADER, k);
		return fail(err, errlen, line, msg);
	}
	if (f[0].n == 0)
		return fail(err, errlen, line, "empty pattern");
	if (f[0].n >= JST_TDP_PATTERN_MAX)
		return fail(err, errlen, line, "pattern longer than 63 characters");
	memcpy(row->pattern, f[0].p, f[0].n);
	row->pattern[f[0].n] = '\0';
	if (jst__parse_double(f[1].p, f[1].n, &row->tdp_w) < 0)
		return fail(err, errlen, line, "tdp_w is not a number");
	if (!(row->tdp_w > 0 && row->tdp_w <= TDP_MAX_W))
		return fail(err, errlen, line, "tdp_w out of range (0, 2000] W");
	if (parse_count(&f[2], &row->cores) < 0)
		return fail(err, errlen, line, "cores is not empty or a number in 1..4096");
	if (parse_count(&f[3], &row->threads) < 0)
		return fail(err, errlen, line, "threads is not empty or a number in 1..4096");
	if (row->cores && row->threads && row->threads < row->cores)
		return fail(err, errlen, line, "threads is less than cores");
	if (f[4].n == 0)
		return fail(err, errlen, line, "empty source");
	row->line = line;
	return 0;
}

/* Characters a table line may not hold: quotes (no quoting is supported) and controls. */
static int check_chars(const char *p, size_t n, size_t line, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"')
			return fail(err, errlen, line, "quoted fields are not supported");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(err, errlen, line, "control character");
	}
	return 0;
}

static bool is_header(const char *p, size_t n)
{
	struct field f[NFIELDS];
	static const char *const names[NFIELDS] = {"pattern", "tdp_w", "cores", "threads",
						   "source"};
	if (split(p, n, f) != NFIELDS)
		return false;
	for (size_t i = 0; i < NFIELDS; i++)
		if (f[i].n != strlen(names[i]) || memcmp(f[i].p, names[i], f[i].n) != 0)
			return false;
	return true;
}

int jst__tdp_parse(const char *p, size_t n, jst_tdp_row_fn fn, void *arg, char *err, size_t errlen)
{
	size_t line = 0, rows = 0, pos = 0;
	bool header = false;
	while (pos < n) {
		const char *s = p + pos;
		const char *nl = memchr(s, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - s) : n - pos;
		pos += len + (nl ? 1 : 0);
		line++;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len > JST_TDP_LINE_MAX)
			return fail(err, errlen, line, "line longer than 512 characters");
		int r = check_chars(s, len, line, err, errlen);
		if (r < 0)
			return r;
		const char *t = s;
		size_t tn = len;
		trim(&t, &tn);
		if (tn == 0 || t[0] == '#')
			continue;
		if (!header) {
			if (!is_header(t, tn))
				return fail(err, errlen, line,
					    "expected the header " JST_TDP_HEADER);
			header = true;
			continue;
		}
		struct jst_tdp_row row;
		r = parse_row(t, tn, line, &row, err, errlen);
		if (r < 0)
			return r;
		rows++;
		if (fn && (r = fn(&row, arg)) != 0)
			return r;
	}
	if (!header)
		return fail(err, errlen, line + 1, "missing the header " JST_TDP_HEADER);
	return rows > (size_t)INT32_MAX ? INT32_MAX : (int)rows;
}

/* Case-insensitive: does hay[0..hn) contain needle (NUL-terminated)? */
static bool contains_ci(const char *hay, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);
	if (nn == 0 || nn > hn)
		return nn == 0;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t j = 0;
		while (j < nn && lower(hay[i + j]) == lower(needle[j]))
			j++;
		if (j == nn)
			return true;
	}
	return false;
}

struct lookup {
	const char *model;
	size_t mn;
	struct jst_tdp_row best;
	size_t best_len;
};

static int lookup_row(const struct jst_tdp_row *row, void *arg)
{
	struct lookup *l = arg;
	size_t len = strlen(row->pattern);
	if (len > l->best_len && contains_ci(l->model, l->mn, row->pattern)) {
		l->best = *row;
		l->best_len = len;
	}
	return 0;
}

int jst__tdp_lookup(const char *p, size_t n, const char *model, size_t mn, struct jst_tdp_row *out,
		    char *err, size_t errlen)
{
	struct lookup l = {.model = model, .mn = mn, .best_len = 0};
	int r = jst__tdp_parse(p, n, lookup_row, &l, err, errlen);
	if (r < 0)
		return r;
	if (l.best_len == 0)
		return 0;
	*out = l.best;
	return 1;
}

/* Does s[0..n) end with the word w (case-insensitive, preceded by a space or the start)? */
static bool ends_with_word(const char *s, size_t n, const char *w, size_t *wstart)
{
	size_t wn = strlen(w);
	if (wn > n)
		return false;
	for (size_t i = 0; i < wn; i++)
		if (lower(s[n - wn + i]) != lower(w[i]))
			return false;
	if (n > wn && s[n - wn - 1] != ' ')
		return false;
	*wstart = n - wn;
	return true;
}

/* A trailing "16-Core" or "64-Cores" word: digits, then "-Core" or "-Cores". */
static bool ends_with_ncore(const char *s, size_t n, size_t *wstart)
{
	static const char *const tails[] = {"-Cores", "-Core"};
	for (size_t t = 0; t < JST_ARRAY_LEN(tails); t++) {
		size_t tn = strlen(tails[t]), i = 0;
		if (tn >= n)
			continue;
		while (i < tn && lower(s[n - tn + i]) == lower(tails[t][i]))
			i++;
		if (i < tn)
			continue;
		size_t end = n - tn, d = end;
		while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
			d--;
		if (d == end || (d > 0 && s[d - 1] != ' '))
			return false;
		*wstart = d;
		return true;
	}
	return false;
}

/* Copies p[0..n) into out without "(R)", "(TM)" marks, with white space collapsed to single
 * spaces and trimmed. Returns the length. */
static size_t copy_plain(const char *p, size_t n, char *out, size_t outn)
{
	static const char *const marks[] = {"(R)", "(TM)"};
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < outn;) {
		bool skipped = false;
		for (size_t m = 0; m < JST_ARRAY_LEN(marks) && !skipped; m++) {
			size_t ml = strlen(marks[m]), j = 0;
			while (j < ml && i + j < n && lower(p[i + j]) == lower(marks[m][j]))
				j++;
			if (j == ml) {
				i += ml;
				skipped = true;
			}
		}
		if (skipped)
			continue;
		char c = p[i++];
		if (c == '\t' || c == '\n' || c == '\r' || c == '\0')
			c = ' ';
		if (c == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

size_t jst__cpu_model_clean(const char *p, size_t n, char *out, size_t outn)
{
	if (outn == 0)
		return 0;
	size_t o = copy_plain(p, n, out, outn);
	char *at = memchr(out, '@', o);
	if (at)
		o = (size_t)(at - out);
	for (;;) {
		while (o > 0 && out[o - 1] == ' ')
			o--;
		size_t w;
		if (ends_with_word(out, o, "CPU", &w) || ends_with_word(out, o, "Processor", &w) ||
		    ends_with_ncore(out, o, &w)) {
			if (w == 0)
				break; /* keep a name that is nothing but the word */
			o = w;
			continue;
		}
		break;
	}
	out[o] = '\0';
	return o;
}
