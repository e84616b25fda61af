/* Parsers for the two procfs files attribution reads: /proc/PID/stat (parent, state, CPU times,
 * start time) and the first "cpu " line of /proc/stat (host CPU time). Pure functions over
 * (p, n) that never read past n nor trust a NUL, so that they can be fuzzed; they allocate
 * nothing. Internal to src/attrib/ (and the tests). */
#ifndef JST_ATTRIB_PROCSTAT_H
#define JST_ATTRIB_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What we need of /proc/PID/stat, times in clock ticks (sysconf(_SC_CLK_TCK)). */
struct jst__pid_stat {
	pid_t pid;          /* field 1 */
	pid_t ppid;         /* field 4 */
	char state;         /* field 3: R S D Z T t X I … */
	uint64_t utime;     /* field 14 */
	uint64_t stime;     /* field 15 */
	uint64_t cutime;    /* field 16: waited-for children (negative values read as 0) */
	uint64_t cstime;    /* field 17 */
	uint64_t starttime; /* field 22: ticks after boot; tells a reused pid from the old one */
};

/* Parses one /proc/PID/stat line. comm (field 2) may hold spaces and parentheses, so the
 * fields are read after the LAST ')'. Returns 0, or -EINVAL when a field up to 22 is missing
 * or not a number. */
int jst__parse_pid_stat(const char *p, size_t n, struct jst__pid_stat *out);

/* Host CPU time from the first line of /proc/stat, in ticks: total = user + nice + system +
 * idle + iowait + irq + softirq + steal (guest and guest_nice are already inside user and
 * nice, so they are not added again); idle = idle + iowait. */
struct jst__cpu_stat {
	uint64_t total;
	uint64_t idle;
};

/* p must start with the "cpu " line; at least the four first fields are required. Returns 0,
 * -EINVAL or -ERANGE. */
int jst__parse_cpu_stat(const char *p, size_t n, struct jst__cpu_stat *out);

#endif
