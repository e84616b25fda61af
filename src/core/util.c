/* Paths under configurable roots, small-file reads, bounded number parsing and clocks: the
 * plumbing every sensor and procfs reader uses. Parsers here are pure functions over (p, n) so
 * that they can be fuzzed; none of them trusts a terminating NUL. */
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool jst__list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p += len + (c ? 1 : 0);
	}
	return false;
}

int jst__path(char *out, size_t n, const char *root, const char *fmt, ...)
{
	size_t rl = 0;
	if (root && *root && strcmp(root, "/") != 0) {
		rl = strlen(root);
		while (rl > 1 && root[rl - 1] == '/')
			rl--;
		if (rl >= n)
			return -ENAMETOOLONG;
		memcpy(out, root, rl);
	}
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out + rl, n - rl, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= n - rl)
		return -ENAMETOOLONG;
	return 0;
}

ssize_t jst__pread_all(int fd, char *buf, size_t n)
{
	if (n == 0)
		return -EINVAL;
	size_t got = 0;
	for (;;) {
		ssize_t r = pread(fd, buf + got, n - 1 - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		/* a short read of a regular, sysfs or procfs file is its end: stopping here saves the
		 * second pread that would only find it (one syscall per counter and stat file a tick) */
		if (got == n - 1 || (size_t)r < n - 1 - (got - (size_t)r))
			break;
	}
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	buf[got] = '\0';
	return (ssize_t)got;
}

ssize_t jst__read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t r = jst__pread_all(fd, buf, n);
	close(fd);
	return r;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

int jst__parse_u64(const char *p, size_t n, uint64_t *out)
{
	trim(&p, &n);
	if (n > 0 && *p == '+') {
		p++;
		n--;
	}
	if (n == 0)
		return -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int jst__parse_i64(const char *p, size_t n, int64_t *out)
{
	trim(&p, &n);
	bool neg = n > 0 && *p == '-';
	if (neg) {
		p++;
		n--;
	}
	uint64_t v;
	int r = jst__parse_u64(p, n, &v);
	if (r < 0)
		return r;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int jst__parse_double(const char *p, size_t n, double *out)
{
	trim(&p, &n);
	if (n == 0 || n > 63)
		return -EINVAL;
	char tmp[64];
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		/* only the characters of a plain decimal or exponent form: no hex, inf or nan */
		if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
			return -EINVAL;
		tmp[i] = c;
	}
	tmp[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + n)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	*out = v;
	return 0;
}

int jst__next_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *s = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == s)
		return -EINVAL;
	int r = jst__parse_u64(s, (size_t)(p - s), out);
	if (r == 0)
		*pp = p;
	return r;
}

uint64_t jst__mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t jst__wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool jst__fit_text(char *dst, size_t n, const char *head, const char *text, const char *tail)
{
	size_t h = strlen(head), t = strlen(text), l = strlen(tail);
	if (n == 0)
		return false;
	if (h + t + l < n) {
		snprintf(dst, n, "%s%s%s", head, text, tail);
		return true;
	}
	if (h + 3 + l >= n) { /* not even the marks fit */
		snprintf(dst, n, "%.*s", (int)(n - 1), "...");
		return false;
	}
	size_t keep = n - 1 - h - 3 - l;
	snprintf(dst, n, "%s...%s%s", head, text + t - keep, tail);
	return false;
}

bool jst__strlcpy(char *dst, const char *src, size_t n)
{
	if (n == 0)
		return false;
	size_t l = strlen(src);
	if (l >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return false;
	}
	memcpy(dst, src, l + 1);
	return true;
}

int jst__strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca += 32;
		if (cb >= 'A' && cb <= 'Z')
			cb += 32;
		if (ca != cb || ca == 0)
			return ca - cb;
	}
}

const char *jst_strerror(int err)
{
	if (err == 0)
		return "success";
	return strerror(err < 0 ? -err : err);
}

const char *jst_version(void)
{
	return JST_VERSION;
}
