/* The HTTP sink: NDJSON batches POSTed to `joulestream serve` (/api/v1/events) by a sender
 * thread, so that jst_sink_write() only copies a line into a bounded memory queue. A batch
 * that cannot be delivered (connection refused, timeout, 5xx, 429) goes to an on-disk spool
 * file and is retried with exponential backoff (0.25 s doubling to 30 s), spool first, so
 * order is kept. Spool files left by a dead process (unlocked *.ndjson in the spool directory)
 * are taken over at open. Ids make every resend idempotent. A 4xx other than 408/429 means the
 * server will never take that batch: it is counted as rejected with the server's reason. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dl_curl.h"
#include "core/util.h"
#include "core/jbuf.h"
#include "sink/sink.h"
#include "sink/spool.h"

#define BATCH_BYTES (1024 * 1024)
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u

struct http_sink {
	struct jst_sink base;
	char url[1024];
	char auth[400];
	char ca[512]; /* --ca: the PEM file trusted for https, "" for the system's CAs */
	struct jst_sink_opts o;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct jst_jbuf q; /* queued lines, '\n'-terminated; guarded by mu */
	uint64_t qlines, q_first_ns;
	bool closing;
	uint64_t deadline_ns;
	struct jst_sink_stats st; /* guarded by mu */
	/* the sender's own */
	CURL *curl;
	struct jst_jbuf batch;
	struct jst__spool spool;
	unsigned backoff_ms;
	uint64_t next_try_ns;
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

enum post_result { POST_OK, POST_RETRY, POST_REJECTED };

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

/* One POST of n bytes of NDJSON. */
static enum post_result post(struct http_sink *s, const char *p, size_t n)
{
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
	enum post_result res = POST_RETRY;
	char why[256];
	if (rc != CURLE_OK)
		tls_why(s, rc, cerr, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%.60s answered %ld: %.160s", s->url, code, s->resp);
	if (rc == CURLE_OK && code >= 200 && code < 300)
		res = POST_OK;
	else if (rc == CURLE_OK && code >= 400 && code < 500 && code != 408 && code != 429)
		res = POST_REJECTED;
	if (res != POST_OK) {
		pthread_mutex_lock(&s->mu);
		jst__strlcpy(s->st.last_error, why, sizeof(s->st.last_error));
		pthread_mutex_unlock(&s->mu);
	}
	return res;
}

static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

/* Adds to a counter under the lock; the spool's line count is mirrored at the same time so
 * that jst_sink_stats() never touches the sender's spool. */
static void add_stat(struct http_sink *s, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&s->mu);
	*field += n;
	s->st.in_spool = jst__spool_lines(&s->spool);
	pthread_mutex_unlock(&s->mu);
}

static void backoff(struct http_sink *s)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->next_try_ns = jst__mono_ns() + (uint64_t)s->backoff_ms * 1000000u;
	add_stat(s, &s->st.retries, 1);
}

/* Moves the batch into the spool (or counts it dropped when the spool is full). */
static void to_spool(struct http_sink *s, const char *p, size_t n)
{
	size_t lines = count_lines(p, n);
	if (jst__spool_append(&s->spool, p, n) < 0) {
		add_stat(s, &s->st.dropped, lines);
		return;
	}
	add_stat(s, &s->st.spooled, lines);
}

/* Sends spooled batches, oldest first, while the server takes them. */
static void replay_spool(struct http_sink *s)
{
	char *chunk = malloc(BATCH_BYTES);
	if (!chunk)
		return;
	for (;;) {
		uint64_t skipped = jst__spool_skipped(&s->spool);
		size_t n = jst__spool_peek(&s->spool, chunk, BATCH_BYTES);
		if (jst__spool_skipped(&s->spool) > skipped) /* lines too long to ever send */
			add_stat(s, &s->st.dropped, jst__spool_skipped(&s->spool) - skipped);
		if (n == 0)
			break;
		enum post_result r = post(s, chunk, n);
		if (r == POST_RETRY) {
			backoff(s);
			break;
		}
		s->backoff_ms = 0;
		size_t lines = count_lines(chunk, n);
		add_stat(s, r == POST_OK ? &s->st.delivered : &s->st.rejected, lines);
		jst__spool_consume(&s->spool, n, lines);
		add_stat(s, &s->st.in_spool, 0);
	}
	free(chunk);
}

/* Delivers one batch taken from the queue. */
static void deliver(struct http_sink *s, const char *p, size_t n)
{
	uint64_t now = jst__mono_ns();
	if (jst__spool_pending(&s->spool) || now < s->next_try_ns) {
		if (n)
			to_spool(s, p, n);
		if (now >= s->next_try_ns)
			replay_spool(s);
		return;
	}
	if (!n)
		return;
	enum post_result r = post(s, p, n);
	if (r == POST_RETRY) {
		to_spool(s, p, n);
		backoff(s);
		return;
	}
	s->backoff_ms = 0;
	add_stat(s, r == POST_OK ? &s->st.delivered : &s->st.rejected, count_lines(p, n));
}

static bool batch_due(struct http_sink *s, uint64_t now)
{
	return s->q.len >= BATCH_BYTES / 2 || (s->q.len && now >= s->q_first_ns + s->o.linger_ms * 1000000ull);
}

static void *sender(void *arg)
{
	struct http_sink *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		uint64_t now = jst__mono_ns();
		bool spool_due = jst__spool_pending(&s->spool) && now >= s->next_try_ns;
		if (!s->closing && !batch_due(s, now) && !spool_due) {
			uint64_t wait_ns = s->q.len ? s->q_first_ns + s->o.linger_ms * 1000000ull - now
			                            : s->o.linger_ms * 1000000ull;
			if (jst__spool_pending(&s->spool) && s->next_try_ns > now && s->next_try_ns - now < wait_ns)
				wait_ns = s->next_try_ns - now;
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + wait_ns;
			ts.tv_sec = (time_t)(t / 1000000000u);
			ts.tv_nsec = (long)(t % 1000000000u);
			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		/* take the queue */
		jst__jbuf_reset(&s->batch);
		jst__jbuf_put(&s->batch, s->q.p ? s->q.p : "", s->q.len);
		jst__jbuf_reset(&s->q);
		s->qlines = 0;
		bool closing = s->closing;
		uint64_t deadline = s->deadline_ns;
		pthread_mutex_unlock(&s->mu);
		if (closing && jst__mono_ns() >= deadline) {
			if (s->batch.len)
				to_spool(s, s->batch.p, s->batch.len);
		} else {
			if (closing)
				s->next_try_ns = 0; /* one more try at the end, whatever the backoff */
			deliver(s, s->batch.p, s->batch.len);
		}
		pthread_mutex_lock(&s->mu);
		if (closing && s->q.len == 0 &&
		    (!jst__spool_pending(&s->spool) || jst__mono_ns() >= deadline))
			break;
		if (closing && jst__spool_pending(&s->spool) && s->next_try_ns > jst__mono_ns()) {
			/* wait for the backoff, but not past the deadline */
			uint64_t until = s->next_try_ns < deadline ? s->next_try_ns : deadline;
			pthread_mutex_unlock(&s->mu);
			uint64_t now2 = jst__mono_ns();
			if (until > now2) {
				struct timespec d = {(time_t)((until - now2) / 1000000000u), (long)((until - now2) % 1000000000u)};
				nanosleep(&d, NULL);
			}
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int http_write(struct jst_sink *base, const char *line, size_t n)
{
	struct http_sink *s = (struct http_sink *)base;
	pthread_mutex_lock(&s->mu);
	s->st.written++;
	if (s->q.len + n + 1 > s->q.max) {
		s->st.dropped++;
		pthread_mutex_unlock(&s->mu);
		return -ENOBUFS;
	}
	if (s->q.len == 0)
		s->q_first_ns = jst__mono_ns();
	jst__jbuf_put(&s->q, line, n);
	jst__jbuf_put(&s->q, "\n", 1);
	s->qlines++;
	if (s->q.len >= BATCH_BYTES / 2)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void http_stats(struct jst_sink *base, struct jst_sink_stats *st)
{
	struct http_sink *s = (struct http_sink *)base;
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
	jst__strlcpy(st->spool_path, s->spool.path, sizeof(st->spool_path));
}

static void free_sink(struct http_sink *s)
{
	jst__jbuf_release(&s->q);
	jst__jbuf_release(&s->batch);
	jst__spool_close(&s->spool);
	if (s->curl)
		jst__curl.curl_easy_cleanup(s->curl);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static void http_close(struct jst_sink *base, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct http_sink *s = (struct http_sink *)base;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	s->deadline_ns = jst__mono_ns() + (uint64_t)timeout_ms * 1000000u;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	http_stats(base, st);
	free_sink(s);
}

/* --ca FILE must be readable now: a typo is an error at start, not a spool that never drains. */
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
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->o = *o;
	if (!s->o.linger_ms)
		s->o.linger_ms = 500;
	jst__jbuf_init(&s->q, s->o.mem_max ? s->o.mem_max : 8u << 20);
	jst__jbuf_init(&s->batch, BATCH_BYTES > s->q.max ? BATCH_BYTES : s->q.max);
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
	int r = jst__spool_open(&s->spool, o->spool_dir, o->spool_max ? o->spool_max : 64u << 20, err, errlen);
	s->st.in_spool = jst__spool_lines(&s->spool); /* adopted from a dead sink */
	if (r >= 0)
		r = jst__curl_load(err, errlen); /* libcurl is mapped only by those who send */
	if (r < 0 || !(s->curl = jst__curl.curl_easy_init())) {
		if (r >= 0)
			snprintf(err, errlen, "cannot initialise libcurl");
		free_sink(s);
		return r < 0 ? r : -ENOMEM;
	}
	/* the sender takes no signals: a caller that reads them from a signalfd (run) must get
	 * them all, whichever thread existed first */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pr = pthread_create(&s->thread, NULL, sender, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pr != 0) {
		snprintf(err, errlen, "cannot start the sender thread");
		free_sink(s);
		return -EAGAIN;
	}
	s->started = true;
	*out = &s->base;
	return 0;
}

const struct jst_sink_ops jst__sink_http = {"http://", http_open, http_write, http_stats, http_close};
const struct jst_sink_ops jst__sink_https = {"https://", http_open, http_write, http_stats, http_close};
