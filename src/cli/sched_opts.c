/* Lengths of time and instants on the command lines of `sites rank` and `when`: "7d", "6h",
 * "90m", "+12h" from now, ISO 8601 instants, and a length written back as "1h30m". Bounded
 * parsing through the library's number and time parsers; no sscanf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sched_cli.h"
#include "core/isotime.h"
#include "core/util.h"

#define NS 1000000000LL

int cli_parse_span(const char *s, int64_t *ns)
{
	size_t len = strlen(s);
	if (len > 1 && s[len - 1] == 'd') {
		double v;
		if (jst__parse_double(s, len - 1, &v) < 0 || !(v > 0) || v > 3660)
			return -EINVAL;
		*ns = (int64_t)(v * 86400.0 * 1e9 + 0.5);
		return 0;
	}
	uint64_t u;
	if (cli_parse_duration(s, &u) < 0 || u == 0 || u > (uint64_t)3660 * 86400 * NS)
		return -EINVAL;
	*ns = (int64_t)u;
	return 0;
}

int cli_parse_instant(const char *s, int64_t now_ns, int64_t *ns, const char **why)
{
	*why = NULL;
	if (strcmp(s, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	if (s[0] == '+') {
		int64_t d;
		if (cli_parse_span(s + 1, &d) < 0) {
			*why = "after '+', a length such as 12h, 90m or 2d";
			return -EINVAL;
		}
		*ns = now_ns + d;
		return 0;
	}
	return jst__parse_iso8601(s, strlen(s), ns, why);
}

void cli_span_text(int64_t ns, char *out, size_t n)
{
	int64_t s = ns / NS, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
	size_t o = 0;
	int w;
	out[0] = '\0';
	if (d && o < n && (w = snprintf(out + o, n - o, "%lldd", (long long)d)) > 0)
		o += (size_t)w;
	if (h && o < n && (w = snprintf(out + o, n - o, "%lldh", (long long)h)) > 0)
		o += (size_t)w;
	if (m && o < n && (w = snprintf(out + o, n - o, "%lldm", (long long)m)) > 0)
		o += (size_t)w;
	if ((sec || s == 0) && o < n)
		snprintf(out + o, n - o, "%llds", (long long)sec);
}
