/* The HTTP sink: NDJSON batches POSTed to `joulestream serve` (/api/v1/events) by the shared
 * sender (batcher.c: memory queue, on-disk spool, backoff), so that jst_sink_write() only
 * copies a line. A batch that cannot be delivered (connection refused, timeout, 5xx, 429, and
 * 401/403: a token not created yet, a store down) is spooled and retried; ids make every
 * resend idempotent. Another 4xx means the server will never take that batch as it is: it is
 * kept apart with the server's reason (batcher.c, keep_refused), never lost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl_curl.h"
#include "core/util.h"
#include "sink/batcher.h"
#include "sink/sink.h"

struct http_sink {
	struct jst_sink base;
	struct jst__batcher b;
	char url[1024];
	char auth[400];
	char ca[512]; /* --ca: the PEM file trusted for https, "" for the system's CAs */
	/* the sender thread's own */
	CURL *curl;
	char resp[512];
	size_t resp_len;
};

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct http_sink *s = ud;
	size_t n = sz * nm, room = sizeof(s->resp) - 1 - s->resp_len;
	memcpy(s->resp + s->resp_len, p, n < room ? n : room);
	s->resp_len += n < room ? n : room;
	s->resp[s->resp_len] = '\0';
	return n;
}

/* Why a transfer failed; a certificate that does not verify says how to trust it. Such a
 * batch is retried like any other failure: it waits in the spool until the server is trusted. */
static void tls_why(const struct http_sink *s, CURLcode rc, const char *cerr, char *why, size_t n)
{
	const char *msg = cerr[0] ? cerr : jst__curl.curl_easy_strerror(rc);
	if (rc == CURLE_PEER_FAILED_VERIFICATION && s->ca[0])
		snprintf(why, n, "%.80s: %.60s: the server's certificate is not signed by --ca %.40s", s->url, msg,
		         s->ca);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		snprintf(why, n, "%.80s: %.60s: pass --ca FILE (the server's CA or self-signed certificate)", s->url,
		         msg);
	else if (rc == CURLE_SSL_CACERT_BADFILE)
		snprintf(why, n, "%.80s: --ca %.60s is not a PEM certificate file: %.60s", s->url, s->ca, msg);
	else
		snprintf(why, n, "%.120s: %.120s", s->url, msg);
}

/* One POST of n bytes of NDJSON (the batcher's deliver). */
static enum jst__deliver post(void *ctx, const char *p, size_t n, char *why, size_t whylen)
{
	struct http_sink *s = ctx;
	struct curl_slist *h = NULL;
	h = jst__curl.curl_slist_append(h, "Content-Type: application/x-ndjson");
	if (s->auth[0])
		h = jst__curl.curl_slist_append(h, s->auth);
	h = jst__curl.curl_slist_append(h, "Expect:");
	s->resp_len = 0;
	s->resp[0] = '\0';
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_URL, s->url);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, p);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, 15000L);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (s->ca[0])
		jst__curl.curl_easy_setopt(s->curl, CURLOPT_CAINFO, s->ca);
	char cerr[CURL_ERROR_SIZE] = "";
	jst__curl.curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, cerr);
	CURLcode rc = jst__curl.curl_easy_perform(s->curl);
	long code = 0;
	jst__curl.curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	jst__curl.curl_slist_free_all(h);
	if (rc != CURLE_OK)
		tls_why(s, rc, cerr, why, whylen);
	else
		snprintf(why, whylen, "%.60s answered %ld: %.*s", s->url, code,
		         (int)strcspn(s->resp, "\n") < 160 ? (int)strcspn(s->resp, "\n") : 160, s->resp);
	if (rc == CURLE_OK && code >= 200 && code < 300)
		return JST_DELIVER_OK;
	/* 401 and 403 wait in the spool like a server that is down: a token created or fixed, or a
	 * store back up, lets them through; the batch itself is not at fault */
	if (rc == CURLE_OK && code >= 400 && code < 500 && code != 401 && code != 403 && code != 408 && code != 429)
		return JST_DELIVER_REJECTED;
	return JST_DELIVER_RETRY;
}

static int http_write(struct jst_sink *base, const char *line, size_t n)
{
	return jst__batcher_write(&((struct http_sink *)base)->b, line, n);
}

static void http_flush(struct jst_sink *base, unsigned wait_ms)
{
	jst__batcher_flush(&((struct http_sink *)base)->b, wait_ms);
}

static void http_stats(struct jst_sink *base, struct jst_sink_stats *st)
{
	jst__batcher_stats(&((struct http_sink *)base)->b, st);
}

static void free_sink(struct http_sink *s)
{
	if (s->curl)
		jst__curl.curl_easy_cleanup(s->curl);
	free(s);
}

static void http_close(struct jst_sink *base, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct http_sink *s = (struct http_sink *)base;
	jst__batcher_stop(&s->b, timeout_ms, st);
	free_sink(s);
}

static int check_ca(const char *path, char *dst, size_t n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f || strlen(path) >= n) {
		snprintf(err, errlen, "cannot read --ca %s: %s", path, f ? "path too long" : strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	fclose(f);
	jst__strlcpy(dst, path, n);
	return 0;
}

static int http_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
                     size_t errlen)
{
	struct http_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* a bare host:port gets the ingest path */
	const char *rest = strstr(target, "://") + 3;
	const char *slash = strchr(rest, '/');
	int w = snprintf(s->url, sizeof(s->url), "%s%s", target, slash && slash[1] ? "" : slash ? "api/v1/events" : "/api/v1/events");
	if (w < 0 || (size_t)w >= sizeof(s->url) || (o->token && strlen(o->token) > 256)) {
		snprintf(err, errlen, "sink URL or token too long");
		free_sink(s);
		return -EINVAL;
	}
	if (o->token && *o->token)
		snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", o->token);
	if (o->ca_file && check_ca(o->ca_file, s->ca, sizeof(s->ca), err, errlen) < 0) {
		free_sink(s);
		return -EINVAL;
	}
	int r = jst__curl_load(err, errlen); /* libcurl is mapped only by those who send */
	if (r < 0 || !(s->curl = jst__curl.curl_easy_init())) {
		if (r >= 0)
			snprintf(err, errlen, "cannot initialise libcurl");
		free_sink(s);
		return r < 0 ? r : -ENOMEM;
	}
	if ((r = jst__batcher_start(&s->b, o, post, s, err, errlen)) < 0) {
		free_sink(s);
		return r;
	}
	*out = &s->base;
	return 0;
}

const struct jst_sink_ops jst__sink_http = {"http://", http_open, http_write, http_flush, http_stats, http_close};
const struct jst_sink_ops jst__sink_https = {"https://", http_open, http_write, http_flush, http_stats, http_close};
