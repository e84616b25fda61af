/* The configuration file reader declared in joulestream/config.h: a line-oriented, bounded
 * parser over (p, n) that knows every section and key (a typo is an error naming the file and
 * the line, not a silently ignored setting), and the lookup of the default file. */
#include "joulestream/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"

#define LINE_MAX_LEN 1024
#define FILE_MAX (1u << 20)

enum section { S_NONE, S_DEFAULT, S_SITE, S_EM, S_WT, S_HTTP };

struct parser {
	struct jst_config *c;
	const char *name;
	size_t line;
	enum section sec;
	struct jst_site_cfg *site;
	char *err;
	size_t errlen;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	int w = snprintf(ps->err, ps->errlen, "%s: line %zu: ", ps->name, ps->line);
	if (w >= 0 && (size_t)w < ps->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + w, ps->errlen - (size_t)w, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void jst_config_init(struct jst_config *c)
{
	memset(c, 0, sizeof(*c));
	c->connect_timeout_s = c->timeout_s = c->cache_ttl_s = -1;
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

static bool word_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(p, w, n) == 0;
}

/* "[name]" or "[site NAME]". */
static int section(struct parser *ps, const char *p, size_t n)
{
	if (n < 2 || p[n - 1] != ']')
		return fail(ps, "a section line must end with ']'");
	p++;
	n -= 2;
	trim(&p, &n);
	ps->site = NULL;
	if (word_eq(p, n, "default"))
		ps->sec = S_DEFAULT;
	else if (word_eq(p, n, "electricitymaps"))
		ps->sec = S_EM;
	else if (word_eq(p, n, "watttime"))
		ps->sec = S_WT;
	else if (word_eq(p, n, "http"))
		ps->sec = S_HTTP;
	else if (n > 5 && memcmp(p, "site", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
		const char *nm = p + 5;
		size_t nl = n - 5;
		trim(&nm, &nl);
		if (nl == 0 || nl >= sizeof(ps->site->name))
			return fail(ps, "a site needs a name of 1 to 63 characters: [site NAME]");
		for (size_t i = 0; i < nl; i++)
			if (nm[i] == ' ' || nm[i] == '\t' || nm[i] == '"')
				return fail(ps, "a site name has no spaces or quotes");
		for (size_t i = 0; i < ps->c->nsites; i++)
			if (word_eq(nm, nl, ps->c->sites[i].name))
				return fail(ps, "second [site %.*s] (the first is at line %d)", (int)nl, nm,
				            ps->c->sites[i].line);
		if (ps->c->nsites == JST_CONFIG_SITES_MAX)
			return fail(ps, "more than %d sites", JST_CONFIG_SITES_MAX);
		ps->site = &ps->c->sites[ps->c->nsites++];
		memcpy(ps->site->name, nm, nl);
		ps->site->name[nl] = '\0';
		ps->site->pue = ps->site->wue = ps->site->embodied_kg = ps->site->lifetime_years = -1;
		ps->site->capacity = -1;
		ps->site->line = (int)ps->line;
		ps->sec = S_SITE;
	} else {
		return fail(ps, "unknown section [%.*s]: expected [default], [site NAME], "
		            "[electricitymaps], [watttime] or [http]", (int)n, p);
	}
	return 0;
}

static int set_str(struct parser *ps, char *dst, size_t dn, const char *v, size_t vn, const char *key)
{
	if (dst[0])
		return fail(ps, "'%s' is set twice in this section", key);
	if (vn >= dn)
		return fail(ps, "'%s' is too long (at most %zu characters)", key, dn - 1);
	memcpy(dst, v, vn);
	dst[vn] = '\0';
	return 0;
}

static int set_num(struct parser *ps, double *dst, const char *v, size_t vn, double lo, double hi,
                   const char *key)
{
	double x;
	if (*dst >= 0)
		return fail(ps, "'%s' is set twice in this section", key);
	if (jst__parse_double(v, vn, &x) < 0 || x < lo || x > hi)
		return fail(ps, "'%s' must be a number from %g to %g, not '%.*s'", key, lo, hi, (int)vn, v);
	*dst = x;
	return 0;
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

/* "h100, A100" -> "h100,a100": names of letters, digits, '-', '_' and '.', lower-cased. */
static int set_accelerators(struct parser *ps, char *dst, size_t dn, const char *v, size_t vn)
{
	size_t o = 0;
	if (dst[0])
		return fail(ps, "'accelerators' is set twice in this section");
	for (size_t i = 0; i < vn;) {
		while (i < vn && v[i] == ' ')
			i++;
		size_t b = i;
		while (i < vn && name_char(v[i]) && o + 1 < dn)
			dst[o++] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i++] - 'A' + 'a' : v[i++]);
		while (i < vn && v[i] == ' ')
			i++;
		if (i == b || (i < vn && v[i] != ',') || o + 1 >= dn) {
			dst[0] = '\0';
			return fail(ps, "'accelerators' must be names separated by commas (h100,a100; letters, "
			            "digits, '-', '_', '.'), at most %zu characters", dn - 1);
		}
		if (i < vn) {
			dst[o++] = ',';
			if (++i == vn)
				return fail(ps, "'accelerators' ends with a comma");
		}
	}
	dst[o] = '\0';
	return 0;
}

/* A Kubernetes label value or a SLURM partition name: letters, digits, '-', '_', '.';
 * a label value also starts and ends with a letter or a digit. */
static int set_name(struct parser *ps, char *dst, size_t dn, const char *v, size_t vn,
                    const char *key, bool label)
{
	bool ok = vn > 0;
	for (size_t i = 0; i < vn; i++)
		ok = ok && name_char(v[i]);
	if (ok && label)
		ok = name_char(v[0]) && v[0] != '-' && v[0] != '_' && v[0] != '.' &&
		     v[vn - 1] != '-' && v[vn - 1] != '_' && v[vn - 1] != '.';
	if (!ok)
		return fail(ps, "bad %s '%.*s': letters, digits, '-', '_' and '.' only%s", key, (int)vn, v,
		            label ? ", starting and ending with a letter or a digit (a Kubernetes label "
		                    "value)" : " (a SLURM partition name)");
	return set_str(ps, dst, dn, v, vn, key);
}

static int site_key(struct parser *ps, const char *k, size_t kn, const char *v, size_t vn)
{
	struct jst_site_cfg *s = ps->site;
	if (word_eq(k, kn, "zone"))
		return set_str(ps, s->zone, sizeof(s->zone), v, vn, "zone");
	if (word_eq(k, kn, "cloud"))
		return set_str(ps, s->cloud, sizeof(s->cloud), v, vn, "cloud");
	if (word_eq(k, kn, "pue"))
		return set_num(ps, &s->pue, v, vn, 1, 5, "pue");
	if (word_eq(k, kn, "wue"))
		return set_num(ps, &s->wue, v, vn, 0, 100, "wue");
	if (word_eq(k, kn, "embodied_kg"))
		return set_num(ps, &s->embodied_kg, v, vn, 0, 1e7, "embodied_kg");
	if (word_eq(k, kn, "lifetime_years"))
		return set_num(ps, &s->lifetime_years, v, vn, 0.1, 50, "lifetime_years");
	if (word_eq(k, kn, "capacity"))
		return set_num(ps, &s->capacity, v, vn, 0, 1e7, "capacity");
	if (word_eq(k, kn, "accelerators"))
		return set_accelerators(ps, s->accelerators, sizeof(s->accelerators), v, vn);
	if (word_eq(k, kn, "label"))
		return set_name(ps, s->label, sizeof(s->label), v, vn, "label", true);
	if (word_eq(k, kn, "partition"))
		return set_name(ps, s->partition, sizeof(s->partition), v, vn, "partition", false);
	return fail(ps, "unknown key '%.*s' in [site %s]: expected zone, cloud, pue, wue, "
	            "embodied_kg, lifetime_years, capacity, accelerators, label or partition", (int)kn,
	            k, s->name);
}

static int other_key(struct parser *ps, const char *k, size_t kn, const char *v, size_t vn)
{
	struct jst_config *c = ps->c;
	switch (ps->sec) {
	case S_DEFAULT:
		if (word_eq(k, kn, "site"))
			return set_str(ps, c->default_site, sizeof(c->default_site), v, vn, "site");
		if (word_eq(k, kn, "live")) {
			if (!word_eq(v, vn, "electricitymaps") && !word_eq(v, vn, "watttime") &&
			    !word_eq(v, vn, "off"))
				return fail(ps, "live must be electricitymaps, watttime or off");
			return set_str(ps, c->live, sizeof(c->live), v, vn, "live");
		}
		return fail(ps, "unknown key '%.*s' in [default]: expected site or live", (int)kn, k);
	case S_EM:
		if (word_eq(k, kn, "token"))
			return set_str(ps, c->em_token, sizeof(c->em_token), v, vn, "token");
		if (word_eq(k, kn, "url"))
			return set_str(ps, c->em_url, sizeof(c->em_url), v, vn, "url");
		return fail(ps, "unknown key '%.*s' in [electricitymaps]: expected token or url", (int)kn, k);
	case S_WT:
		if (word_eq(k, kn, "user"))
			return set_str(ps, c->wt_user, sizeof(c->wt_user), v, vn, "user");
		if (word_eq(k, kn, "password"))
			return set_str(ps, c->wt_password, sizeof(c->wt_password), v, vn, "password");
		if (word_eq(k, kn, "url"))
			return set_str(ps, c->wt_url, sizeof(c->wt_url), v, vn, "url");
		if (word_eq(k, kn, "region"))
			return set_str(ps, c->wt_region, sizeof(c->wt_region), v, vn, "region");
		return fail(ps, "unknown key '%.*s' in [watttime]: expected user, password, url or region",
		            (int)kn, k);
	case S_HTTP:
		if (word_eq(k, kn, "connect_timeout"))
			return set_num(ps, &c->connect_timeout_s, v, vn, 0.05, 300, "connect_timeout");
		if (word_eq(k, kn, "timeout"))
			return set_num(ps, &c->timeout_s, v, vn, 0.05, 600, "timeout");
		if (word_eq(k, kn, "cache_ttl"))
			return set_num(ps, &c->cache_ttl_s, v, vn, 0, 1e7, "cache_ttl");
		return fail(ps, "unknown key '%.*s' in [http]: expected connect_timeout, timeout or "
		            "cache_ttl", (int)kn, k);
	default:
		return fail(ps, "'%.*s' comes before any [section]", (int)kn, k);
	}
}

/* "key = value" with an optional "quoted value". */
static int key_value(struct parser *ps, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	if (!eq)
		return fail(ps, "expected 'key = value' or '[section]'");
	const char *k = p, *v = eq + 1;
	size_t kn = (size_t)(eq - p), vn = n - kn - 1;
	trim(&k, &kn);
	trim(&v, &vn);
	if (kn == 0)
		return fail(ps, "no key before '='");
	for (size_t i = 0; i < kn; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_'))
			return fail(ps, "bad key '%.*s': lower-case letters and '_' only", (int)kn, k);
	if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
		v++;
		vn -= 2;
	} else if (vn && (v[0] == '"' || memchr(v, '"', vn))) {
		return fail(ps, "unbalanced quote in the value of '%.*s'", (int)kn, k);
	}
	if (vn == 0)
		return fail(ps, "'%.*s' has an empty value", (int)kn, k);
	for (size_t i = 0; i < vn; i++)
		if ((unsigned char)v[i] < 0x20)
			return fail(ps, "control character in the value of '%.*s'", (int)kn, k);
	return ps->sec == S_SITE ? site_key(ps, k, kn, v, vn) : other_key(ps, k, kn, v, vn);
}

static int check(struct parser *ps)
{
	struct jst_config *c = ps->c;
	if (c->default_site[0] && !jst_config_site(c, c->default_site)) {
		snprintf(ps->err, ps->errlen, "%s: [default] site = %s, but there is no [site %s]",
		         ps->name, c->default_site, c->default_site);
		return -EINVAL;
	}
	return 0;
}

int jst_config_parse(const char *p, size_t n, const char *name, struct jst_config *c, char *err,
                     size_t errlen)
{
	struct parser ps = {c, name && *name ? name : "config", 0, S_NONE, NULL, err, errlen};
	const char *end = p + n;
	int r = 0;
	jst_config_init(c);
	while (p < end && r == 0) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *l = p;
		ps.line++;
		p = nl ? nl + 1 : end;
		if (len > LINE_MAX_LEN) {
			r = fail(&ps, "line longer than %d characters", LINE_MAX_LEN);
			break;
		}
		if (memchr(l, '\0', len)) {
			r = fail(&ps, "NUL byte: this is not a text file");
			break;
		}
		trim(&l, &len);
		if (len == 0 || l[0] == '#' || l[0] == ';')
			continue;
		r = l[0] == '[' ? section(&ps, l, len) : key_value(&ps, l, len);
	}
	if (r == 0)
		r = check(&ps);
	if (r < 0)
		jst_config_init(c);
	return r;
}

/* The default location, or -ENOENT when neither XDG_CONFIG_HOME nor HOME is set. */
static int default_path(char *out, size_t n)
{
	const char *env = getenv("JOULESTREAM_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int w;
	if (env && *env)
		w = snprintf(out, n, "%s", env);
	else if (xdg && *xdg == '/')
		w = snprintf(out, n, "%s/joulestream/config", xdg);
	else if (home && *home)
		w = snprintf(out, n, "%s/.config/joulestream/config", home);
	else
		return -ENOENT;
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int read_all(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	char *b = malloc(FILE_MAX + 1);
	size_t got = b ? fread(b, 1, FILE_MAX + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (!b)
		return -ENOMEM;
	if (bad || got > FILE_MAX) {
		free(b);
		return bad ? -EIO : -EFBIG;
	}
	*buf = b;
	*len = got;
	return 0;
}

int jst_config_load(const char *path, struct jst_config *c, char *err, size_t errlen)
{
	char def[512];
	bool explicit_path = path && *path;
	jst_config_init(c);
	if (!explicit_path) {
		if (default_path(def, sizeof(def)) < 0)
			return 0;
		path = def;
		explicit_path = getenv("JOULESTREAM_CONFIG") && *getenv("JOULESTREAM_CONFIG");
	}
	char *buf = NULL;
	size_t len = 0;
	int r = read_all(path, &buf, &len);
	if (r == -ENOENT && !explicit_path)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read the configuration %s: %s", path, jst_strerror(r));
		return r;
	}
	r = jst_config_parse(buf, len, path, c, err, errlen);
	free(buf);
	if (r == 0)
		jst__strlcpy(c->path, path, sizeof(c->path));
	return r;
}

const struct jst_site_cfg *jst_config_site(const struct jst_config *c, const char *name)
{
	for (size_t i = 0; name && i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}
