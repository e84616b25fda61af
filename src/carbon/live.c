/* Live intensity from Electricity Maps (v3 carbon-intensity latest, history, forecast,
 * past-range; header auth-token) and WattTime (v3 historical and forecast with a bearer token
 * from /login with basic auth), through libcurl with connect and total timeouts, and an
 * on-disk cache of the raw answers ($XDG_CACHE_HOME/joulestream) so that a cached answer is
 * also a file `--intensity` and `reprocess` accept. Every failure is a one-line reason for
 * the report; the caller falls back to the yearly average. Never retries, never blocks longer
 * than the timeouts. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "carbon/live_int.h"
#include "core/dl_curl.h"
#include "core/isotime.h"
#include "core/sha256.h"
#include "core/util.h"

#define BODY_MAX (32u << 20)
#define NS 1000000000LL

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback && *fallback ? fallback : NULL;
}

void jst_live_opts_init(struct jst_live_opts *o, const char *provider, const char *region,
                        const struct jst_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->provider = provider;
	o->token = env_or("ELECTRICITYMAPS_TOKEN", cfg ? cfg->em_token : NULL);
	o->user = env_or("WATTTIME_USER", cfg ? cfg->wt_user : NULL);
	o->password = env_or("WATTTIME_PASSWORD", cfg ? cfg->wt_password : NULL);
	o->region = region && *region ? region : cfg && cfg->wt_region[0] ? cfg->wt_region : NULL;
	if (provider && strcmp(provider, "watttime") == 0)
		o->url = env_or("JOULESTREAM_WATTTIME_URL", cfg ? cfg->wt_url : NULL);
	else
		o->url = env_or("JOULESTREAM_ELECTRICITYMAPS_URL", cfg ? cfg->em_url : NULL);
	o->connect_timeout_s = cfg ? cfg->connect_timeout_s : -1;
	o->timeout_s = cfg ? cfg->timeout_s : -1;
	o->cache_ttl_s = cfg ? cfg->cache_ttl_s : -1;
}

struct body {
	char *p;
	size_t n, cap;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t len = size * nmemb;
	if (b->n + len > BODY_MAX) {
		b->too_big = true;
		return 0;
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->n + len + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, ptr, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

/* A short printable excerpt of an error body for the reason line. */
static void excerpt(const struct body *b, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < b->n && k + 1 < n && k < 80; i++)
		out[k++] = b->p[i] >= 0x20 && b->p[i] < 0x7f ? b->p[i] : ' ';
	out[k] = '\0';
}

/* One GET. auth_header (may be NULL) is a full header line; userpwd for basic auth. */
int jst__http_get(const struct jst_live_opts *o, const char *what, const char *url,
                  const char *auth_header, const char *userpwd, struct jst__http *res, char *why,
                  size_t whylen)
{
	double ct = o->connect_timeout_s > 0 ? o->connect_timeout_s : 3;
	double tt = o->timeout_s > 0 ? o->timeout_s : 10;
	struct body b = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	char lerr[512];
	if (jst__curl_load(lerr, sizeof(lerr)) < 0) {
		snprintf(why, whylen, "%s: %s", what, lerr);
		return -ENOSYS;
	}
	CURL *c = jst__curl.curl_easy_init();
	struct curl_slist *h = jst__curl.curl_slist_append(NULL, "Accept: application/json");
	if (h && auth_header)
		h = jst__curl.curl_slist_append(h, auth_header);
	if (!c || !h) {
		jst__curl.curl_slist_free_all(h);
		jst__curl.curl_easy_cleanup(c);
		snprintf(why, whylen, "%s: cannot set up the HTTP client", what);
		return -ENOMEM;
	}
	jst__curl.curl_easy_setopt(c, CURLOPT_URL, url);
	jst__curl.curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	jst__curl.curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	jst__curl.curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	jst__curl.curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	jst__curl.curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	jst__curl.curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(ct * 1000));
	jst__curl.curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(tt * 1000));
	jst__curl.curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	jst__curl.curl_easy_setopt(c, CURLOPT_USERAGENT, "joulestream/" JST_VERSION);
	if (userpwd) {
		jst__curl.curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		jst__curl.curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
	}
	CURLcode rc = jst__curl.curl_easy_perform(c);
	jst__curl.curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	jst__curl.curl_slist_free_all(h);
	jst__curl.curl_easy_cleanup(c);
	int r = 0;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, whylen, "%s: no answer within %g s (timed out)", what, tt);
		r = -ETIMEDOUT;
	} else if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s: %s", what, b.too_big ? "answer larger than 32 MiB"
		         : errbuf[0] ? errbuf : jst__curl.curl_easy_strerror(rc));
		r = rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
	} else if (status != 200) {
		char ex[96];
		excerpt(&b, ex, sizeof(ex));
		snprintf(why, whylen, "%s: HTTP %ld%s%s%s", what, status, ex[0] ? " (" : "", ex, ex[0] ? ")" : "");
		r = status == 401 || status == 403 ? -EACCES : -EIO;
	}
	if (r < 0) {
		free(b.p);
		return r;
	}
	res->body = b.p ? b.p : strdup("");
	res->len = b.n;
	return res->body ? 0 : -ENOMEM;
}

/* ---- the cache ---- */

int jst__cache_dir(const struct jst_live_opts *o, char *out, size_t n)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int w;
	if (o->cache_dir && *o->cache_dir)
		w = snprintf(out, n, "%s", o->cache_dir);
	else if (xdg && *xdg == '/')
		w = snprintf(out, n, "%s/joulestream", xdg);
	else if (home && *home)
		w = snprintf(out, n, "%s/.cache/joulestream", home);
	else
		return -ENOENT;
	if (w < 0 || (size_t)w >= n)
		return -ENAMETOOLONG;
	for (char *p = out + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(out, 0700);
		*p = '/';
	}
	return mkdir(out, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* The cached answer at path if younger than ttl; NULL otherwise. */
char *jst__cache_read(const char *path, double ttl_s, size_t *len)
{
	struct stat st;
	if (ttl_s <= 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)BODY_MAX)
		return NULL;
	if (difftime(time(NULL), st.st_mtime) >= ttl_s)
		return NULL;
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc((size_t)st.st_size + 1) : NULL;
	size_t got = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	if (f)
		fclose(f);
	if (!buf || got != (size_t)st.st_size) {
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

void jst__cache_write(const char *path, const char *p, size_t n)
{
	char tmp[1100];
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp))
		return;
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return;
	fchmod(fileno(f), 0600);
	bool ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		unlink(tmp);
}
