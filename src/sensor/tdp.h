/* The CPU TDP table (data/cpu_tdp.csv, compiled in as jst_data_cpu_tdp) and the matching of a
 * /proc/cpuinfo model name against it, for the estimate backend. Everything here is a pure
 * function over (p, n) that neither allocates nor trusts a terminating NUL, so that it can be
 * unit-tested and fuzzed; it knows nothing about procfs. */
#ifndef JST_SENSOR_TDP_H
#define JST_SENSOR_TDP_H

#include <stddef.h>

#define JST_TDP_PATTERN_MAX 64 /* longest pattern + 1 */
#define JST_TDP_LINE_MAX 512   /* longest accepted CSV line, without its newline */

/* The one header the table must start with (comment and blank lines aside). */
#define JST_TDP_HEADER "pattern,tdp_w,cores,threads,source"

/* One row: a case-insensitive substring of the model name, its TDP in watts, and its core and
 * thread counts per package (0 where the row leaves them empty). */
struct jst_tdp_row {
	char pattern[JST_TDP_PATTERN_MAX];
	double tdp_w;
	unsigned cores;
	unsigned threads;
	size_t line; /* 1-based line of the row in the CSV */
};

/* Called for each row in order; a non-zero return stops the parse and is returned as is. */
typedef int (*jst_tdp_row_fn)(const struct jst_tdp_row *row, void *arg);

/* Parses the whole table in p[0..n): the header, then rows of exactly five comma-separated
 * fields (no quoting; fields are trimmed of spaces), '#' comment lines and blank lines ignored,
 * LF or CRLF line ends. Rules: pattern non-empty and shorter than JST_TDP_PATTERN_MAX;
 * 0 < tdp_w <= 2000; cores and threads empty or 1..4096 with threads >= cores; source
 * non-empty. Returns the number of rows, the callback's non-zero value, or -EINVAL with
 * err = "line N: what is wrong" (err may be NULL). fn may be NULL to only validate. */
int jst__tdp_parse(const char *p, size_t n, jst_tdp_row_fn fn, void *arg, char *err, size_t errlen);

/* Finds the row whose pattern is the longest case-insensitive substring of model[0..mn) (the
 * first such row on a tie). The whole table is validated on the way. Returns 1 and fills *out
 * when found, 0 when no pattern matches, or -EINVAL with err as for jst__tdp_parse. */
int jst__tdp_lookup(const char *p, size_t n, const char *model, size_t mn, struct jst_tdp_row *out,
		    char *err, size_t errlen);

/* Writes a tidy model name into out (always NUL-terminated, truncated to outn - 1): drops
 * "(R)", "(TM)" and "(tm)", collapses white space, cuts a trailing " @ 2.90GHz", then trailing
 * words "CPU", "Processor" and "N-Core"/"N-Cores". "Intel(R) Xeon(R) Platinum 8375C CPU @
 * 2.90GHz" -> "Intel Xeon Platinum 8375C"; "AMD Ryzen 9 5950X 16-Core Processor" -> "AMD Ryzen 9
 * 5950X". Returns the length written. */
size_t jst__cpu_model_clean(const char *p, size_t n, char *out, size_t outn);

#endif
