/* Intensity series: the parsed form of a CSV file or an Electricity Maps / WattTime response
 * (one step function per zone), the lookup of the value in force at an instant, and the CSV
 * parser. The JSON formats are in series_json.c, the builder both fill in series_build.c. Parsing validates the whole input before
 * anything is returned, so a file with one bad line is rejected whole. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "carbon/series_int.h"
#include "core/csv.h"
#include "core/isotime.h"
#include "core/sha256.h"
#include "core/util.h"

#define FILE_MAX (256u << 20) /* the largest file read: 256 MiB */

/* ---- CSV: datetime,zone,ci_g_per_kwh ---- */

static int csv_zone(struct jst__ci_builder *b, struct jst__csv *c, const struct jst__csv_field *f,
                    char *zone, size_t zn)
{
	size_t need = jst__csv_copy(f, zone, zn);
	if (need == 0 || need >= zn) {
		jst__csv_fail(c, "zone must be a code of 1 to %zu characters", zn - 1);
		return jst__ci_fail(b, "%s", c->err);
	}
	for (char *z = zone; *z; z++) {
		if (*z >= 'a' && *z <= 'z')
			*z = (char)(*z - 'a' + 'A');
		if (!((*z >= 'A' && *z <= 'Z') || (*z >= '0' && *z <= '9') || *z == '-' || *z == '_')) {
			jst__csv_fail(c, "bad zone '%s': letters, digits, '-' and '_' only", zone);
			return jst__ci_fail(b, "%s", c->err);
		}
	}
	return 0;
}

static int csv_row(struct jst__ci_builder *b, struct jst__csv *c, const struct jst__csv_field *f,
                   const size_t *col)
{
	char zone[32], tbuf[64];
	int64_t t;
	double ci;
	const char *why = NULL;
	jst__csv_copy(&f[col[0]], tbuf, sizeof(tbuf));
	if (f[col[0]].n >= sizeof(tbuf) || jst__parse_iso8601(f[col[0]].p, f[col[0]].n, &t, &why) < 0) {
		jst__csv_fail(c, "bad datetime '%s': %s", tbuf, why ? why : "too long");
		return jst__ci_fail(b, "%s", c->err);
	}
	if (csv_zone(b, c, &f[col[1]], zone, sizeof(zone)) < 0)
		return -EINVAL;
	if (jst__csv_double(&f[col[2]], &ci) < 0 || !isfinite(ci) || ci < 0 || ci > 5000) {
		char v[40];
		jst__csv_copy(&f[col[2]], v, sizeof(v));
		jst__csv_fail(c, "ci_g_per_kwh must be a number from 0 to 5000 (gCO2e/kWh), not '%s'", v);
		return jst__ci_fail(b, "%s", c->err);
	}
	int r = jst__ci_push(b, zone, t, ci, c->line);
	if (r == -E2BIG)
		return jst__ci_fail(b, "more than %d values", JST_SERIES_MAX_POINTS);
	return r;
}

static int parse_csv(struct jst__ci_builder *b, const char *p, size_t n)
{
	static const char *const cols[] = {"datetime", "zone", "ci_g_per_kwh"};
	struct jst__csv c;
	struct jst__csv_field f[JST_CSV_MAX_FIELDS];
	size_t col[3], ncols, nf;
	int r;
	jst__csv_init(&c, p, n);
	if (jst__csv_header(&c, cols, 3, col, &ncols) < 0)
		return jst__ci_fail(b, "%s (the header must name datetime,zone,ci_g_per_kwh)", c.err);
	while ((r = jst__csv_next(&c, f, JST_CSV_MAX_FIELDS, &nf)) == 1) {
		if (nf != ncols) {
			jst__csv_fail(&c, "%zu fields, the header has %zu", nf, ncols);
			return jst__ci_fail(b, "%s", c.err);
		}
		if ((r = csv_row(b, &c, f, col)) < 0)
			return r;
	}
	return r < 0 ? jst__ci_fail(b, "%s", c.err) : 0;
}

/* ---- entry points ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int jst_ci_parse(const char *p, size_t n, const char *name, const char *version,
                 struct jst_ci_file **out, char *err, size_t errlen)
{
	struct jst__ci_builder b = {0};
	char hex[16], ver[192], src[192];
	size_t i = 0;
	b.name = name && *name ? name : "intensity";
	b.err = err;
	b.errlen = errlen;
	if (!version) {
		jst__sha256_hex(p, n, hex, 12);
		snprintf(ver, sizeof(ver), "file:%.120s@sha256:%s", base_name(b.name), hex);
		version = ver;
	}
	b.version = version;
	snprintf(src, sizeof(src), "file %.160s", base_name(b.name));
	b.source = src;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i + 3 <= n && (unsigned char)p[i] == 0xEF && (unsigned char)p[i + 1] == 0xBB &&
	    (unsigned char)p[i + 2] == 0xBF)
		i += 3; /* a UTF-8 byte order mark */
	int r = i < n && (p[i] == '{' || p[i] == '[') ? jst__ci_parse_json(&b, p + i, n - i, src, sizeof(src))
	                                            : parse_csv(&b, p + i, n - i);
	if (r == 0)
		r = jst__ci_finish(&b, out);
	else if (r != -EINVAL)
		jst__ci_fail(&b, "%s", jst_strerror(r));
	jst__ci_builder_release(&b);
	return r;
}

int jst_ci_load(const char *path, struct jst_ci_file **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > FILE_MAX) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file or larger than %u MiB", path, FILE_MAX >> 20);
		return -EFBIG;
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len ? len : 1);
	size_t got = buf ? fread(buf, 1, len, f) : 0;
	fclose(f);
	if (!buf || got != len) {
		free(buf);
		snprintf(err, errlen, "cannot read %s: %s", path, buf ? "short read" : "out of memory");
		return buf ? -EIO : -ENOMEM;
	}
	int r = jst_ci_parse(buf, len, path, NULL, out, err, errlen);
	free(buf);
	return r;
}

size_t jst_ci_count(const struct jst_ci_file *f)
{
	return f ? f->nseries : 0;
}

const struct jst_series *jst_ci_at(const struct jst_ci_file *f, size_t i)
{
	return f && i < f->nseries ? &f->series[i] : NULL;
}

const char *jst_ci_version(const struct jst_ci_file *f)
{
	return f ? f->version : "";
}

const char *jst_zone_series_code(const char *zone)
{
	const struct jst_grid_zone *z = zone ? jst_grid_zone_find(zone) : NULL;
	return z && z->area ? z->area : zone;
}

const struct jst_series *jst_ci_select(const struct jst_ci_file *f, const char *zone)
{
	if (!f)
		return NULL;
	if (f->nseries == 1 && f->series[0].zone[0] == '\0')
		return &f->series[0];
	for (size_t i = 0; zone && i < f->nseries; i++)
		if (jst__strcasecmp(f->series[i].zone, zone) == 0)
			return &f->series[i];
	/* a US state's series may be its balancing area's */
	const char *area = jst_zone_series_code(zone);
	for (size_t i = 0; area && area != zone && i < f->nseries; i++)
		if (jst__strcasecmp(f->series[i].zone, area) == 0)
			return &f->series[i];
	return NULL;
}

/* ---- lookup ---- */

int64_t jst_series_end(const struct jst_series *s, size_t i)
{
	if (i + 1 < s->n)
		return s->pts[i + 1].t_ns;
	/* the last value holds as long as the interval before it, which may be a century or two:
	 * saturate rather than overflow (found by tests/fuzz/series_csv.c) */
	if (s->last_ns > INT64_MAX - s->pts[i].t_ns)
		return INT64_MAX;
	return s->pts[i].t_ns + s->last_ns;
}

ssize_t jst_series_find(const struct jst_series *s, int64_t t, size_t *hint)
{
	if (!s || s->n == 0 || t < s->pts[0].t_ns)
		return -1;
	size_t h = hint ? *hint : 0;
	if (h < s->n && s->pts[h].t_ns <= t && t < jst_series_end(s, h))
		return (ssize_t)h;
	if (h + 1 < s->n && s->pts[h + 1].t_ns <= t && t < jst_series_end(s, h + 1)) {
		if (hint)
			*hint = h + 1;
		return (ssize_t)(h + 1);
	}
	size_t lo = 0, hi = s->n; /* the last point with t_ns <= t */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->pts[mid].t_ns <= t)
			lo = mid;
		else
			hi = mid;
	}
	if (t >= jst_series_end(s, lo))
		return -1;
	if (hint)
		*hint = lo;
	return (ssize_t)lo;
}
