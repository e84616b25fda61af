/* The ISO 8601 parser and formatter declared in core/isotime.h. Every field is read with a
 * fixed width, so the parser never looks past n and needs no terminating NUL; the calendar
 * arithmetic is the usual days-from-civil computation on the proleptic Gregorian calendar. */
#include "core/isotime.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

int64_t jst__days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);                          /* [0, 399] */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;    /* [0, 365] */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;              /* [0, 146096] */
	return era * 146097 + (int64_t)doe - 719468;
}

struct cursor {
	const char *p, *end;
};

/* Reads exactly w digits. */
static bool digits(struct cursor *c, int w, unsigned *out)
{
	unsigned v = 0;
	if (c->end - c->p < w)
		return false;
	for (int i = 0; i < w; i++) {
		char ch = c->p[i];
		if (ch < '0' || ch > '9')
			return false;
		v = v * 10 + (unsigned)(ch - '0');
	}
	c->p += w;
	*out = v;
	return true;
}

static bool take(struct cursor *c, char ch)
{
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

/* The offset after the time: Z, +HH, +HHMM, +HH:MM (or -). Seconds east of UTC. */
static int offset(struct cursor *c, long *off_s, const char **why)
{
	if (take(c, 'Z') || take(c, 'z')) {
		*off_s = 0;
		return 0;
	}
	if (c->p >= c->end)
		return fail(why, "no time zone offset: add Z (UTC) or +HH:MM");
	int sign = *c->p == '+' ? 1 : *c->p == '-' ? -1 : 0;
	unsigned hh, mm = 0;
	if (!sign)
		return fail(why, "expected Z or an offset +HH:MM after the time");
	c->p++;
	if (!digits(c, 2, &hh) || hh > 23)
		return fail(why, "bad offset hours");
	if (c->p < c->end) {
		take(c, ':');
		if (!digits(c, 2, &mm) || mm > 59)
			return fail(why, "bad offset minutes");
	}
	*off_s = sign * (long)(hh * 3600 + mm * 60);
	return 0;
}

/* HH:MM[:SS[.fff]] into seconds of the day and nanoseconds. */
static int clock_part(struct cursor *c, unsigned *sec, unsigned *ns, const char **why)
{
	unsigned hh, mi, ss = 0;
	*ns = 0;
	if (!digits(c, 2, &hh) || !take(c, ':') || !digits(c, 2, &mi) || hh > 23 || mi > 59)
		return fail(why, "expected a time HH:MM[:SS] after the date");
	if (take(c, ':')) {
		if (!digits(c, 2, &ss) || ss > 60) /* 60: a leap second, folded into the next */
			return fail(why, "bad seconds");
		if (take(c, '.') || take(c, ',')) {
			unsigned scale = 100000000u;
			int nd = 0;
			while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
				if (nd++ < 9) {
					*ns += (unsigned)(*c->p - '0') * scale;
					scale /= 10;
				}
				c->p++;
			}
			if (nd == 0)
				return fail(why, "no digits after the decimal point of the seconds");
		}
	}
	*sec = hh * 3600 + mi * 60 + ss;
	return 0;
}

int jst__parse_iso8601(const char *p, size_t n, int64_t *out, const char **why)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct cursor c = {p, p + n};
	unsigned y, mo, d, sec, frac;
	long off;
	while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
		c.p++;
	while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t' || c.end[-1] == '\r'))
		c.end--;
	if (!digits(&c, 4, &y) || !take(&c, '-') || !digits(&c, 2, &mo) || !take(&c, '-') ||
	    !digits(&c, 2, &d))
		return fail(why, "expected a date YYYY-MM-DD");
	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return fail(why, "date out of range (years 1970-2200)");
	if (!take(&c, 'T') && !take(&c, 't') && !take(&c, ' '))
		return fail(why, "expected a time after the date (YYYY-MM-DDTHH:MM:SSZ)");
	int r = clock_part(&c, &sec, &frac, why);
	if (r == 0)
		r = offset(&c, &off, why);
	if (r < 0)
		return r;
	if (c.p != c.end)
		return fail(why, "unexpected text after the time");
	int64_t s = jst__days_from_civil((int64_t)y, mo, d) * 86400 + (int64_t)sec - off;
	if (s < 0)
		return fail(why, "before 1970-01-01T00:00:00Z");
	*out = s * 1000000000 + (int64_t)frac;
	if (why)
		*why = NULL;
	return 0;
}

void jst__format_iso8601(int64_t ns, char *out, size_t n)
{
	time_t t = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "?");
}
