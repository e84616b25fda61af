/* Internal helpers shared by every module: building paths under a root, reading small
 * sysfs/procfs files, bounded number parsing (never atoi/sscanf), time. Nothing here allocates
 * except where the name says so. Parsers take (p, n) and never read past n. */
#ifndef JST_CORE_UTIL_H
#define JST_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joulestream/common.h"

#define JST_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* out = root + "/" + formatted path (root NULL or "" = "/"). Returns 0 or -ENAMETOOLONG. */
int jst__path(char *out, size_t n, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reads up to n-1 bytes of a small file into buf (NUL-terminated, trailing newline stripped).
 * Returns the length or a negative errno. */
ssize_t jst__read_file(const char *path, char *buf, size_t n);

/* Same, from an already open fd at offset 0 with pread (the hot path: open once, re-read).
 * One pread when the file fits: a short read is taken as the end (true of regular, sysfs and
 * procfs files; not for pipes or sockets, which cannot be pread). */
ssize_t jst__pread_all(int fd, char *buf, size_t n);

/* Strict parsers: the whole of p[0..n) must be the number, surrounding ASCII whitespace
 * allowed. 0, -EINVAL (not a number) or -ERANGE (overflow). */
int jst__parse_u64(const char *p, size_t n, uint64_t *out);
int jst__parse_i64(const char *p, size_t n, int64_t *out);
int jst__parse_double(const char *p, size_t n, double *out);

/* Parses the next unsigned decimal at *p (skipping spaces), advancing *p; for /proc lines. */
int jst__next_u64(const char **p, const char *end, uint64_t *out);

/* Clocks, in nanoseconds. */
uint64_t jst__mono_ns(void);
uint64_t jst__wall_ns(void);

/* Copies src into dst (size n), always NUL-terminated; returns true if it fitted. */
bool jst__strlcpy(char *dst, const char *src, size_t n);
/* Writes "<head><text><tail>" into dst (size n). When it does not fit, text is shortened from
 * its start and marked "..." (a path keeps its file name), never cut silently; false then. */
bool jst__fit_text(char *dst, size_t n, const char *head, const char *text, const char *tail);
/* True when name is one of the comma-separated items of list ("rapl,nvml"); false for "". */
bool jst__list_has(const char *list, const char *name);

/* Case-insensitive ASCII comparison. */
int jst__strcasecmp(const char *a, const char *b);

#endif
