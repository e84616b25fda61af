/* The two live services' requests: which Electricity Maps endpoint answers a time range
 * (latest, history for the last 24 h, forecast for the future, past-range before that),
 * WattTime's login then historical or forecast MOER for a configured region, and the cache
 * lookup around both. Answers are parsed by the same code as --intensity files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "carbon/live_int.h"
#include "core/isotime.h"
#include "core/sha256.h"
#include "core/util.h"

#define NS 1000000000LL
#define DAY_NS (86400 * NS)

struct request {
	const char *provider, *endpoint, *key; /* key: zone or region */
	char url[1024];
	char what[160];
	char cache[1100];
	bool range;          /* the answer must cover to_ns */
};

static const char *base(const struct jst_live_opts *o, const char *dflt, char *buf, size_t n)
{
	jst__strlcpy(buf, o->url && *o->url ? o->url : dflt, n);
	size_t l = strlen(buf);
	while (l && buf[l - 1] == '/')
		buf[--l] = '\0';
	return buf;
}

/* The series in f covers to_ns (for ranges) and is of zone (for Electricity Maps). */
static bool usable(const struct jst_ci_file *f, const char *zone, int64_t to_ns, bool range)
{
	const struct jst_series *s = jst_ci_select(f, zone);
	return s && (!range || jst_series_end(s, s->n - 1) >= to_ns);
}

/* Parses an answer; the data version names the provider, endpoint, key and content. */
static int parse_answer(const struct request *rq, const char *p, size_t n, struct jst_ci_file **out,
                        char *why, size_t whylen)
{
	char hex[16], ver[192], err[320];
	jst__sha256_hex(p, n, hex, 12);
	snprintf(ver, sizeof(ver), "%s:%s:%.40s@sha256:%s", rq->provider, rq->endpoint, rq->key, hex);
	if (jst_ci_parse(p, n, rq->what, ver, out, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "%s: unexpected answer: %s", rq->provider, err);
		return -EBADMSG;
	}
	return 0;
}

/* The cache, then the network; the answer is cached only when it parses. */
static int fetch(const struct jst_live_opts *o, const struct request *rq, const char *hdr,
                 const char *zone, int64_t to_ns, struct jst_ci_file **out, char *why, size_t whylen)
{
	double ttl = o->cache_ttl_s >= 0 ? o->cache_ttl_s : 600;
	size_t len;
	char *cached = rq->cache[0] ? jst__cache_read(rq->cache, ttl, &len) : NULL;
	if (cached) {
		char w[8];
		int r = parse_answer(rq, cached, len, out, w, sizeof(w));
		free(cached);
		if (r == 0 && usable(*out, zone, to_ns, rq->range))
			return 0;
		if (r == 0)
			jst_ci_free(*out);
		*out = NULL;
	}
	struct jst__http res;
	int r = jst__http_get(o, rq->what, rq->url, hdr, NULL, &res, why, whylen);
	if (r < 0)
		return r;
	r = parse_answer(rq, res.body, res.len, out, why, whylen);
	if (r == 0 && rq->cache[0])
		jst__cache_write(rq->cache, res.body, res.len);
	free(res.body);
	return r;
}

static void cache_path(const struct jst_live_opts *o, struct request *rq, const char *range)
{
	char dir[1024], hex[16] = "";
	rq->cache[0] = '\0';
	if (jst__cache_dir(o, dir, sizeof(dir)) < 0)
		return;
	if (range)
		jst__sha256_hex(range, strlen(range), hex, 12);
	snprintf(rq->cache, sizeof(rq->cache), "%s/%s-%s-%.40s%s%s.json", dir, rq->provider,
	         rq->endpoint, rq->key, hex[0] ? "-" : "", hex);
}

static int electricitymaps(const struct jst_live_opts *o, const char *zone, int64_t from_ns,
                           int64_t to_ns, struct jst_ci_file **out, char *why, size_t whylen)
{
	struct request rq = {.provider = "electricitymaps", .key = zone};
	char b[512], hdr[320], t0[32], t1[32], range[80] = "";
	int64_t now = (int64_t)jst__wall_ns();
	if (!o->token) {
		snprintf(why, whylen, "electricitymaps: no token: set ELECTRICITYMAPS_TOKEN or token in "
		         "[electricitymaps] of the configuration");
		return -EACCES;
	}
	rq.endpoint = to_ns == 0 ? "latest" : to_ns > now + 300 * NS ? "forecast"
	              : from_ns >= now - DAY_NS + 3600 * NS ? "history" : "past-range";
	rq.range = to_ns != 0 && strcmp(rq.endpoint, "forecast") != 0;
	base(o, "https://api.electricitymap.org", b, sizeof(b));
	if (strcmp(rq.endpoint, "past-range") == 0) {
		jst__format_iso8601(from_ns - from_ns % (3600 * NS), t0, sizeof(t0));
		jst__format_iso8601(to_ns + 3600 * NS, t1, sizeof(t1));
		snprintf(range, sizeof(range), "&start=%s&end=%s", t0, t1);
	}
	snprintf(rq.url, sizeof(rq.url), "%s/v3/carbon-intensity/%s?zone=%s%s", b, rq.endpoint, zone, range);
	snprintf(rq.what, sizeof(rq.what), "electricitymaps %s %s", rq.endpoint, zone);
	cache_path(o, &rq, range[0] ? range : NULL);
	if (snprintf(hdr, sizeof(hdr), "auth-token: %s", o->token) >= (int)sizeof(hdr)) {
		snprintf(why, whylen, "electricitymaps: the token is too long");
		return -EINVAL;
	}
	int r = fetch(o, &rq, hdr, zone, to_ns, out, why, whylen);
	if (r == 0 && !jst_ci_select(*out, zone)) {
		snprintf(why, whylen, "electricitymaps: the answer is not for zone %s (%s)", zone,
		         jst_ci_at(*out, 0)->zone);
		jst_ci_free(*out);
		*out = NULL;
		return -EBADMSG;
	}
	return r;
}

/* POSTless login: GET /login with basic auth answers {"token": "..."}. */
static int watttime_login(const struct jst_live_opts *o, const char *b, char *token, size_t n,
                          char *why, size_t whylen)
{
	char url[600], userpwd[300];
	struct jst__http res;
	snprintf(url, sizeof(url), "%s/login", b);
	if (snprintf(userpwd, sizeof(userpwd), "%s:%s", o->user, o->password) >= (int)sizeof(userpwd)) {
		snprintf(why, whylen, "watttime: user name or password too long");
		return -EINVAL;
	}
	int r = jst__http_get(o, "watttime login", url, NULL, userpwd, &res, why, whylen);
	memset(userpwd, 0, sizeof(userpwd));
	if (r < 0)
		return r;
	cJSON *j = cJSON_ParseWithLength(res.body, res.len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
	r = cJSON_IsString(t) && jst__strlcpy(token, t->valuestring, n) && *token ? 0 : -EBADMSG;
	if (r < 0)
		snprintf(why, whylen, "watttime login: the answer has no token");
	cJSON_Delete(j);
	free(res.body);
	return r;
}

static int watttime(const struct jst_live_opts *o, int64_t from_ns, int64_t to_ns,
                    struct jst_ci_file **out, char *why, size_t whylen)
{
	struct request rq = {.provider = "watttime", .key = o->region};
	char b[512], token[2048], hdr[2100], t0[32], t1[32], range[80] = "";
	int64_t now = (int64_t)jst__wall_ns();
	if (!o->region) {
		snprintf(why, whylen, "watttime: no region (WattTime regions are not grid zones: set "
		         "region in [watttime] or use live:watttime:REGION, e.g. CAISO_NORTH)");
		return -EINVAL;
	}
	if (!o->user || !o->password) {
		snprintf(why, whylen, "watttime: no credentials: set WATTTIME_USER and WATTTIME_PASSWORD, "
		         "or user and password in [watttime] of the configuration");
		return -EACCES;
	}
	bool hist = to_ns != 0 && to_ns <= now + 300 * NS;
	rq.endpoint = hist ? "historical" : "forecast";
	rq.range = hist;
	base(o, "https://api.watttime.org", b, sizeof(b));
	if (hist) {
		jst__format_iso8601(from_ns - from_ns % (300 * NS), t0, sizeof(t0));
		jst__format_iso8601(to_ns + 300 * NS, t1, sizeof(t1));
		snprintf(range, sizeof(range), "&start=%s&end=%s", t0, t1);
	}
	snprintf(rq.url, sizeof(rq.url), "%s/v3/%s?region=%s&signal_type=co2_moer%s", b, rq.endpoint,
	         o->region, range);
	snprintf(rq.what, sizeof(rq.what), "watttime %s %s", rq.endpoint, o->region);
	cache_path(o, &rq, range[0] ? range : NULL);
	double ttl = o->cache_ttl_s >= 0 ? o->cache_ttl_s : 600;
	size_t len;
	char *cached = rq.cache[0] ? jst__cache_read(rq.cache, ttl, &len) : NULL;
	if (cached) { /* skip the login when the cache answers */
		int r = parse_answer(&rq, cached, len, out, why, whylen);
		free(cached);
		if (r == 0 && usable(*out, NULL, to_ns, rq.range))
			return 0;
		if (r == 0)
			jst_ci_free(*out);
		*out = NULL;
	}
	int r = watttime_login(o, b, token, sizeof(token), why, whylen);
	if (r < 0)
		return r;
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
	memset(token, 0, sizeof(token));
	struct jst_live_opts nocache = *o;
	nocache.cache_ttl_s = 0; /* looked up above */
	return fetch(&nocache, &rq, hdr, NULL, to_ns, out, why, whylen);
}

/* Zone and region codes go into URLs as they are: letters, digits, '-' and '_' only. */
static bool safe_code(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

int jst_live_fetch(const struct jst_live_opts *o, const char *zone, int64_t from_ns, int64_t to_ns,
                   struct jst_ci_file **out, char *why, size_t whylen)
{
	*out = NULL;
	if (!safe_code(zone) || !safe_code(o->region)) {
		snprintf(why, whylen, "bad zone or region code: letters, digits, '-' and '_' only");
		return -EINVAL;
	}
	if (!o->provider || strcmp(o->provider, "electricitymaps") == 0)
		return zone && *zone ? electricitymaps(o, zone, from_ns, to_ns, out, why, whylen)
		                     : (snprintf(why, whylen, "electricitymaps: no zone to ask for"), -EINVAL);
	if (strcmp(o->provider, "watttime") == 0)
		return watttime(o, from_ns, to_ns, out, why, whylen);
	snprintf(why, whylen, "unknown live source '%s' (electricitymaps or watttime)", o->provider);
	return -EINVAL;
}
