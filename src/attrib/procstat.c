/* Parsing of /proc/PID/stat and of the "cpu " line of /proc/stat for attribution. Only the
 * fields the process tree needs are kept; every number is parsed with the bounded helpers of
 * core/util.h. comm (field 2) is whatever the process chose, spaces and ')' included, so the
 * numeric fields are located from the last ')' of the line. */
#include "attrib/procstat.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

/* The next space-separated token of [*p, end): start and length; false at the end. */
static bool next_field(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *q = *p;
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\n'))
		q++;
	const char *s = q;
	while (q < end && *q != ' ' && *q != '\t' && *q != '\n')
		q++;
	*p = q;
	*tok = s;
	*len = (size_t)(q - s);
	return q > s;
}

/* A clock_t field the kernel prints as signed (cutime, cstime): negative reads as 0. */
static int parse_ticks(const char *tok, size_t len, uint64_t *out)
{
	int64_t v;
	int r = jst__parse_i64(tok, len, &v);
	if (r < 0)
		return r;
	*out = v < 0 ? 0 : (uint64_t)v;
	return 0;
}

static int parse_pid(const char *tok, size_t len, pid_t *out)
{
	uint64_t v;
	int r = jst__parse_u64(tok, len, &v);
	if (r < 0)
		return r;
	if (v > INT32_MAX)
		return -ERANGE;
	*out = (pid_t)v;
	return 0;
}

int jst__parse_pid_stat(const char *p, size_t n, struct jst__pid_stat *out)
{
	const char *end = p + n;
	const char *open = memchr(p, '(', n);
	const char *close = NULL;
	for (const char *q = end; q > p; q--) {
		if (q[-1] == ')') {
			close = q - 1;
			break;
		}
	}
	if (!open || !close || close < open)
		return -EINVAL;
	struct jst__pid_stat st = {0};
	if (parse_pid(p, (size_t)(open - p), &st.pid) < 0)
		return -EINVAL;
	const char *q = close + 1, *tok;
	size_t len;
	for (int field = 3; field <= 22; field++) {
		if (!next_field(&q, end, &tok, &len))
			return -EINVAL;
		int r = 0;
		switch (field) {
		case 3:
			if (len != 1)
				return -EINVAL;
			st.state = tok[0];
			break;
		case 4: r = parse_pid(tok, len, &st.ppid); break;
		case 14: r = jst__parse_u64(tok, len, &st.utime); break;
		case 15: r = jst__parse_u64(tok, len, &st.stime); break;
		case 16: r = parse_ticks(tok, len, &st.cutime); break;
		case 17: r = parse_ticks(tok, len, &st.cstime); break;
		case 22: r = jst__parse_u64(tok, len, &st.starttime); break;
		default: break; /* some skipped fields are signed (tpgid, priority, nice) */
		}
		if (r < 0)
			return -EINVAL;
	}
	*out = st;
	return 0;
}

int jst__parse_cpu_stat(const char *p, size_t n, struct jst__cpu_stat *out)
{
	const char *end = p + n;
	if (n < 4 || memcmp(p, "cpu ", 4) != 0)
		return -EINVAL;
	const char *nl = memchr(p, '\n', n);
	if (nl)
		end = nl;
	const char *q = p + 4;
	/* user nice system idle iowait irq softirq steal; guest and guest_nice are not added */
	uint64_t v[8] = {0};
	size_t got = 0;
	while (got < 8) {
		int r = jst__next_u64(&q, end, &v[got]);
		if (r == -ERANGE)
			return r;
		if (r < 0)
			break;
		got++;
	}
	if (got < 4)
		return -EINVAL;
	uint64_t total = 0;
	for (size_t i = 0; i < got; i++) {
		if (total > UINT64_MAX - v[i])
			return -ERANGE;
		total += v[i];
	}
	out->total = total;
	out->idle = v[3] + v[4]; /* both are part of total, so this cannot overflow */
	return 0;
}
