/* ISO 8601 date-times for intensity series, API requests and `--at`: a bounded parser over
 * (p, n) that accepts only instants (a time with `Z` or an offset; a naive local time is
 * ambiguous and rejected), and a formatter. Times are int64 nanoseconds since the epoch, UTC. */
#ifndef JST_CORE_ISOTIME_H
#define JST_CORE_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/* "2024-03-01T12:00:00Z", "2024-03-01T12:00Z", "2024-03-01 12:00:00.250+01:00", "...+0100",
 * "...-05". Surrounding spaces allowed. Returns 0, or -EINVAL with why (may be NULL) set to a
 * static reason ("no time zone offset: add Z or +HH:MM"). Years 1970 to 2200. */
int jst__parse_iso8601(const char *p, size_t n, int64_t *ns, const char **why);

/* "2024-03-01T12:00:00Z" (seconds, UTC) into out; n >= 21. */
void jst__format_iso8601(int64_t ns, char *out, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t jst__days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
