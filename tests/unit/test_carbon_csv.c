/* Unit tests of the bounded CSV reader (src/core/csv.c) that the carbon tables and other
 * modules use: quoting, line endings, comments, line numbers in errors, and that it never
 * reads past the buffer it is given (the inputs here are not NUL-terminated heap copies, so
 * the sanitizer build catches an overread). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/csv.h"

/* An exact-size, non-terminated heap copy of s. */
static char *dup_exact(const char *s, size_t *n)
{
	*n = strlen(s);
	char *p = malloc(*n ? *n : 1);
	if (p && *n)
		memcpy(p, s, *n);
	return p;
}

static void test_basic(void)
{
	size_t n, nf = 0;
	char *buf = dup_exact("name,value\n# a comment\n\nalpha,1.5\r\n\"x, y\",\"say \"\"hi\"\"\"\nlast,", &n);
	struct jst__csv c;
	struct jst__csv_field f[4];
	char out[32];

	jst__csv_init(&c, buf, n);
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 1);
	CHECK_INT(nf, 2);
	CHECK_INT(c.line, 1);
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 1); /* comment and blank line skipped */
	CHECK_INT(c.line, 4);
	CHECK_INT(nf, 2);
	jst__csv_copy(&f[0], out, sizeof(out));
	CHECK_STR(out, "alpha");
	double v = 0;
	CHECK_INT(jst__csv_double(&f[1], &v), 0); /* the CR of CRLF is not part of the field */
	CHECK_NEAR(v, 1.5, 0);
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 1);
	CHECK_INT(c.line, 5);
	jst__csv_copy(&f[0], out, sizeof(out));
	CHECK_STR(out, "x, y");
	CHECK(f[1].escaped);
	CHECK_INT(jst__csv_copy(&f[1], out, sizeof(out)), 8);
	CHECK_STR(out, "say \"hi\"");
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 1); /* no final newline, empty last field */
	CHECK_INT(nf, 2);
	CHECK_INT(f[1].n, 0);
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 0);
	CHECK_INT(jst__csv_next(&c, f, 4, &nf), 0);
	free(buf);
}

static void test_multiline_and_copy(void)
{
	size_t n, nf = 0;
	char *buf = dup_exact("\"two\nlines\",x\nnext,y\n", &n);
	struct jst__csv c;
	struct jst__csv_field f[2];
	char small[4];

	jst__csv_init(&c, buf, n);
	CHECK_INT(jst__csv_next(&c, f, 2, &nf), 1);
	CHECK_INT(c.line, 1);
	CHECK_INT(jst__csv_copy(&f[0], small, sizeof(small)), 9); /* cut, but the need is told */
	CHECK_STR(small, "two");
	CHECK_INT(jst__csv_next(&c, f, 2, &nf), 1);
	CHECK_INT(c.line, 3);
	long long i = 0;
	CHECK_INT(jst__csv_int(&f[0], &i), -EINVAL);
	free(buf);

	/* empty input: no record, and a header is reported missing */
	jst__csv_init(&c, "", 0);
	CHECK_INT(jst__csv_next(&c, f, 2, &nf), 0);
	const char *names[] = {"a"};
	size_t col[1], ncols;
	CHECK_INT(jst__csv_header(&c, names, 1, col, &ncols), -EINVAL);
	CHECK_HAS(c.err, "no header");
}

/* A malformed document: the error says which line. */
static void expect_error(const char *text, int want, const char *line, const char *what)
{
	size_t n, nf = 0;
	char *buf = dup_exact(text, &n);
	struct jst__csv c;
	struct jst__csv_field f[3];
	int r;
	jst__csv_init(&c, buf, n);
	while ((r = jst__csv_next(&c, f, 3, &nf)) == 1)
		;
	CHECK_INT(r, want);
	CHECK_HAS(c.err, line);
	CHECK_HAS(c.err, what);
	CHECK_INT(jst__csv_next(&c, f, 3, &nf), 0); /* the reader stops after an error */
	free(buf);
}

static void test_errors(void)
{
	expect_error("a,b\nc,d\n\"open,e\n", -EINVAL, "line 3:", "unterminated");
	expect_error("a,b\n\"q\"x,d\n", -EINVAL, "line 2:", "after a closing quote");
	expect_error("a,b\nc,d\n\ne,f\"g\n", -EINVAL, "line 4:", "quote inside");
	expect_error("a,b\n1,2,3,4\n", -E2BIG, "line 2:", "more than 3 fields");
	expect_error("\"a\nb\nc", -EINVAL, "line 1:", "unterminated");
}

static void test_header(void)
{
	size_t n, col[3], ncols = 0;
	char *buf = dup_exact("x,\"b\",c\n1,2,3\n", &n);
	struct jst__csv c;
	const char *want[] = {"c", "x", "b"};
	const char *missing[] = {"x", "zz"};

	jst__csv_init(&c, buf, n);
	CHECK_INT(jst__csv_header(&c, want, 3, col, &ncols), 0);
	CHECK_INT(ncols, 3);
	CHECK_INT(col[0], 2);
	CHECK_INT(col[1], 0);
	CHECK_INT(col[2], 1);
	jst__csv_init(&c, buf, n);
	CHECK_INT(jst__csv_header(&c, missing, 2, col, &ncols), -EINVAL);
	CHECK_HAS(c.err, "line 1: no column 'zz'");
	jst__csv_fail(&c, "custom %d", 7);
	CHECK_STR(c.err, "line 1: custom 7");
	free(buf);
}

int main(void)
{
	test_basic();
	test_multiline_and_copy();
	test_errors();
	test_header();
	return check_done();
}
