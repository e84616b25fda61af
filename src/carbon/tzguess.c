/* An offline guess of the country a machine is in, from its time zone: TZ, /etc/timezone or
 * the /etc/localtime link give a name such as Europe/Berlin, and tzdata's zone.tab (one
 * country per zone) or zone1970.tab (the first, most populous country) map it to an ISO 3166
 * code. Runs whose zone comes from here are marked "guessed" in every report: a time zone
 * spans several grids and machines can be set to any zone, so it is a hint, never a fact. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/intensity.h"

#define TAB_MAX (1u << 20)

int jst_zonetab_country(const char *p, size_t n, const char *tz, char *cc, size_t cclen)
{
	size_t tzl = strlen(tz);
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *line = p;
		p = nl ? nl + 1 : end;
		if (line == le || *line == '#')
			continue;
		const char *t1 = memchr(line, '\t', (size_t)(le - line));
		const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(le - t1 - 1)) : NULL;
		if (!t2)
			continue;
		const char *name = t2 + 1;
		const char *ne = memchr(name, '\t', (size_t)(le - name));
		ne = ne ? ne : le;
		while (ne > name && (ne[-1] == '\r' || ne[-1] == ' '))
			ne--;
		if ((size_t)(ne - name) != tzl || memcmp(name, tz, tzl) != 0)
			continue;
		const char *comma = memchr(line, ',', (size_t)(t1 - line));
		size_t cl = (size_t)((comma ? comma : t1) - line);
		if (cl != 2 || cclen < 3)
			return -ENOENT;
		memcpy(cc, line, 2);
		cc[2] = '\0';
		return 0;
	}
	return -ENOENT;
}

static bool valid_tz(const char *s)
{
	if (!*s || strstr(s, "..") || *s == '/')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '/' || *s == '_' || *s == '-' || *s == '+'))
			return false;
	return true;
}

/* "…/zoneinfo/Europe/Berlin" → "Europe/Berlin" (also zoneinfo/posix/ and right/). */
static const char *after_zoneinfo(const char *path)
{
	const char *z = strstr(path, "zoneinfo/");
	if (!z)
		return NULL;
	z += strlen("zoneinfo/");
	if (strncmp(z, "posix/", 6) == 0)
		z += 6;
	else if (strncmp(z, "right/", 6) == 0)
		z += 6;
	return z;
}

/* The time zone's name from TZ, /etc/timezone or /etc/localtime. */
static void tz_name(const char *root, char *out, size_t n)
{
	const char *env = getenv("TZ");
	char path[PATH_MAX], buf[PATH_MAX];
	out[0] = '\0';
	if (env) { /* TZ set, even empty (= UTC), decides */
		const char *v = env[0] == ':' ? env + 1 : env;
		const char *z = v[0] == '/' ? after_zoneinfo(v) : v;
		jst__strlcpy(out, z ? z : "", n);
		return;
	}
	if (jst__path(path, sizeof(path), root, "etc/timezone") == 0 &&
	    jst__read_file(path, buf, sizeof(buf)) > 0) {
		char *nl = strpbrk(buf, " \t\r\n");
		if (nl)
			*nl = '\0';
		jst__strlcpy(out, buf, n);
		return;
	}
	ssize_t l;
	if (jst__path(path, sizeof(path), root, "etc/localtime") == 0 &&
	    (l = readlink(path, buf, sizeof(buf) - 1)) > 0) {
		buf[l] = '\0';
		const char *z = after_zoneinfo(buf);
		jst__strlcpy(out, z ? z : "", n);
	}
}

static int lookup(const char *dir, const char *file, const char *tz, char *cc, size_t cclen)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -ENOENT;
	char *buf = malloc(TAB_MAX);
	size_t got = buf ? fread(buf, 1, TAB_MAX, f) : 0;
	fclose(f);
	int r = buf ? jst_zonetab_country(buf, got, tz, cc, cclen) : -ENOMEM;
	free(buf);
	return r;
}

int jst_tz_guess(const char *root, char *tz, size_t tzlen, char *cc, size_t cclen)
{
	const char *dir = getenv("TZDIR");
	char name[256], real[PATH_MAX], path[PATH_MAX];
	dir = dir && *dir ? dir : "/usr/share/zoneinfo";
	tz_name(root, name, sizeof(name));
	jst__strlcpy(tz, name, tzlen);
	cc[0] = '\0';
	if (!valid_tz(name))
		return -ENOENT;
	if (lookup(dir, "zone.tab", name, cc, cclen) == 0 || lookup(dir, "zone1970.tab", name, cc, cclen) == 0)
		return 0;
	/* an alias (US/Eastern, Asia/Calcutta): follow the link to its canonical zone */
	const char *canon;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) && realpath(path, real) &&
	    (canon = after_zoneinfo(real)) && valid_tz(canon) && strcmp(canon, name) != 0 &&
	    (lookup(dir, "zone.tab", canon, cc, cclen) == 0 ||
	     lookup(dir, "zone1970.tab", canon, cc, cclen) == 0))
		return 0;
	return -ENOENT;
}
