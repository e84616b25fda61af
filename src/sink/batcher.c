/* The queue, sender thread, spool and backoff shared by the queued sinks (batcher.h). Taken
 * out of the HTTP sink so that the store sink delivers, spools and retries the same way. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "sink/batcher.h"

#define BATCH_BYTES (1024 * 1024)
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u

static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;
	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
		k++;
	return k;
}

/* Adds to a counter under the lock; the spool's line count is mirrored at the same time so
 * that stats never touch the sender's spool. */
static void add_stat(struct jst__batcher *b, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&b->mu);
	*field += n;
	b->st.in_spool = jst__spool_lines(&b->spool);
	pthread_mutex_unlock(&b->mu);
}

static enum jst__deliver deliver(struct jst__batcher *b, const char *p, size_t n)
{
	char why[256] = "";
	enum jst__deliver r = b->deliver(b->ctx, p, n, why, sizeof(why));
	if (r != JST_DELIVER_OK) {
		pthread_mutex_lock(&b->mu);
		jst__strlcpy(b->st.last_error, why, sizeof(b->st.last_error));
		pthread_mutex_unlock(&b->mu);
	}
	return r;
}

static void backoff(struct jst__batcher *b)
{
	b->backoff_ms = b->backoff_ms ? b->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (b->backoff_ms > BACKOFF_MAX_MS)
		b->backoff_ms = BACKOFF_MAX_MS;
	b->next_try_ns = jst__mono_ns() + (uint64_t)b->backoff_ms * 1000000u;
	add_stat(b, &b->st.retries, 1);
}

/* A batch the far end refuses for good (malformed, too large: see the sinks' deliver) is not
 * retried, which would block the spool behind it for ever, and not lost either: it is appended
 * to the spool's file + ".refused", which the run's report names, for the user to look at and
 * remove. Counted dropped only when that file cannot be written. */
static void keep_refused(struct jst__batcher *b, const char *p, size_t n)
{
	char path[sizeof(b->spool.path) + 8];
	snprintf(path, sizeof(path), "%s.refused", b->spool.path);
	int fd = b->spool.path[0] ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	bool ok = fd >= 0;
	for (size_t off = 0; ok && off < n;) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	if (fd >= 0 && close(fd) < 0)
		ok = false;
	if (ok) {
		pthread_mutex_lock(&b->mu);
		jst__strlcpy(b->st.refused_path, path, sizeof(b->st.refused_path));
		pthread_mutex_unlock(&b->mu);
	}
	add_stat(b, ok ? &b->st.rejected : &b->st.dropped, count_lines(p, n));
}

/* Delivers a batch, counting what was delivered and what was refused. One the far end refuses
 * for good is split in halves, and those again, until each refused line is alone (kept apart
 * by keep_refused) and every other line delivered: one bad event must not take its batch
 * down with it (about 2 log2(lines) requests per bad line). RETRY when a part must be retried:
 * the whole batch then is, and event ids make the parts already delivered harmless. */
static enum jst__deliver deliver_all(struct jst__batcher *b, const char *p, size_t n)
{
	enum jst__deliver r = deliver(b, p, n);
	size_t lines = count_lines(p, n);
	if (r == JST_DELIVER_OK)
		add_stat(b, &b->st.delivered, lines);
	if (r != JST_DELIVER_REJECTED)
		return r;
	if (lines <= 1) {
		keep_refused(b, p, n);
		return JST_DELIVER_OK;
	}
	/* the line boundary nearest the middle: after the line holding byte n/2, or before it
	 * when that line is the last */
	const char *nl = memchr(p + n / 2, '\n', n - n / 2);
	size_t k = nl ? (size_t)(nl - p) + 1 : n;
	if (k >= n) {
		nl = memrchr(p, '\n', n / 2);
		k = nl ? (size_t)(nl - p) + 1 : 0;
	}
	if (k == 0 || k >= n) { /* not two lines after all: keep it whole */
		keep_refused(b, p, n);
		return JST_DELIVER_OK;
	}
	r = deliver_all(b, p, k);
	return r == JST_DELIVER_RETRY ? r : deliver_all(b, p + k, n - k);
}

/* Moves the batch into the spool (or counts it dropped when the spool is full). */
static void to_spool(struct jst__batcher *b, const char *p, size_t n)
{
	size_t lines = count_lines(p, n);
	if (jst__spool_append(&b->spool, p, n) < 0) {
		add_stat(b, &b->st.dropped, lines);
		return;
	}
	add_stat(b, &b->st.spooled, lines);
}

/* Sends spooled batches, oldest first, while the far end takes them. */
static void replay_spool(struct jst__batcher *b)
{
	char *chunk = malloc(BATCH_BYTES);
	if (!chunk)
		return;
	for (;;) {
		uint64_t skipped = jst__spool_skipped(&b->spool);
		size_t n = jst__spool_peek(&b->spool, chunk, BATCH_BYTES);
		if (jst__spool_skipped(&b->spool) > skipped) /* lines too long to ever send */
			add_stat(b, &b->st.dropped, jst__spool_skipped(&b->spool) - skipped);
		if (n == 0)
			break;
		if (deliver_all(b, chunk, n) == JST_DELIVER_RETRY) {
			backoff(b);
			break;
		}
		b->backoff_ms = 0;
		jst__spool_consume(&b->spool, n, count_lines(chunk, n));
		add_stat(b, &b->st.in_spool, 0);
	}
	free(chunk);
}

/* Delivers one batch taken from the queue. */
static void send_batch(struct jst__batcher *b, const char *p, size_t n)
{
	uint64_t now = jst__mono_ns();
	if (jst__spool_pending(&b->spool) || now < b->next_try_ns) {
		if (n)
			to_spool(b, p, n);
		if (now >= b->next_try_ns)
			replay_spool(b);
		return;
	}
	if (!n)
		return;
	if (deliver_all(b, p, n) == JST_DELIVER_RETRY) {
		to_spool(b, p, n);
		backoff(b);
		return;
	}
	b->backoff_ms = 0;
}

static bool batch_due(struct jst__batcher *b, uint64_t now)
{
	return b->q.len >= BATCH_BYTES / 2 || (b->q.len && (b->flush || now >= b->q_first_ns + b->o.linger_ms * 1000000ull));
}

static void wait_until(struct jst__batcher *b, uint64_t now)
{
	uint64_t wait_ns = b->q.len ? b->q_first_ns + b->o.linger_ms * 1000000ull - now : b->o.linger_ms * 1000000ull;
	if (jst__spool_pending(&b->spool) && b->next_try_ns > now && b->next_try_ns - now < wait_ns)
		wait_ns = b->next_try_ns - now;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + wait_ns;
	ts.tv_sec = (time_t)(t / 1000000000u);
	ts.tv_nsec = (long)(t % 1000000000u);
	pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

/* At close, waits for the backoff, but not past the deadline. Called with mu held. */
static void closing_backoff(struct jst__batcher *b, uint64_t deadline)
{
	uint64_t until = b->next_try_ns < deadline ? b->next_try_ns : deadline;
	pthread_mutex_unlock(&b->mu);
	uint64_t now = jst__mono_ns();
	if (until > now) {
		struct timespec d = {(time_t)((until - now) / 1000000000u), (long)((until - now) % 1000000000u)};
		nanosleep(&d, NULL);
	}
	pthread_mutex_lock(&b->mu);
}

static void *sender(void *arg)
{
	struct jst__batcher *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		uint64_t now = jst__mono_ns();
		bool spool_due = jst__spool_pending(&b->spool) && now >= b->next_try_ns;
		if (!b->closing && !batch_due(b, now) && !spool_due) {
			wait_until(b, now);
			continue;
		}
		/* take the queue */
		jst__jbuf_reset(&b->batch);
		jst__jbuf_put(&b->batch, b->q.p ? b->q.p : "", b->q.len);
		jst__jbuf_reset(&b->q);
		b->flush = false;
		b->inflight = true;
		bool closing = b->closing;
		uint64_t deadline = b->deadline_ns;
		pthread_mutex_unlock(&b->mu);
		if (closing && jst__mono_ns() >= deadline) {
			if (b->batch.len)
				to_spool(b, b->batch.p, b->batch.len);
		} else {
			if (closing)
				b->next_try_ns = 0; /* one more try at the end, whatever the backoff */
			send_batch(b, b->batch.p, b->batch.len);
		}
		pthread_mutex_lock(&b->mu);
		b->inflight = false;
		pthread_cond_broadcast(&b->idle_cv);
		if (closing && b->q.len == 0 && (!jst__spool_pending(&b->spool) || jst__mono_ns() >= deadline))
			break;
		if (closing && jst__spool_pending(&b->spool) && b->next_try_ns > jst__mono_ns())
			closing_backoff(b, deadline);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static void release(struct jst__batcher *b)
{
	jst__jbuf_release(&b->q);
	jst__jbuf_release(&b->batch);
	jst__spool_close(&b->spool);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	pthread_cond_destroy(&b->idle_cv);
}

int jst__batcher_start(struct jst__batcher *b, const struct jst_sink_opts *o, jst__deliver_fn fn, void *ctx,
                       char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_cond_init(&b->idle_cv, &ca);
	pthread_condattr_destroy(&ca);
	b->o = *o;
	b->deliver = fn;
	b->ctx = ctx;
	if (!b->o.linger_ms)
		b->o.linger_ms = 500;
	jst__jbuf_init(&b->q, b->o.mem_max ? b->o.mem_max : 8u << 20);
	jst__jbuf_init(&b->batch, BATCH_BYTES > b->q.max ? BATCH_BYTES : b->q.max);
	int r = jst__spool_open(&b->spool, o->spool_dir, o->spool_max ? o->spool_max : 64u << 20, err, errlen);
	if (r < 0) {
		release(b);
		return r;
	}
	b->st.in_spool = jst__spool_lines(&b->spool); /* adopted from a dead sink */
	/* the sender takes no signals: a caller that reads them from a signalfd (run) must get
	 * them all, whichever thread existed first */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pr = pthread_create(&b->thread, NULL, sender, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pr != 0) {
		snprintf(err, errlen, "cannot start the sender thread");
		release(b);
		return -EAGAIN;
	}
	b->started = true;
	return 0;
}

int jst__batcher_write(struct jst__batcher *b, const char *line, size_t n)
{
	pthread_mutex_lock(&b->mu);
	b->st.written++;
	if (b->q.len + n + 1 > b->q.max) {
		b->st.dropped++;
		pthread_mutex_unlock(&b->mu);
		return -ENOBUFS;
	}
	if (b->q.len == 0)
		b->q_first_ns = jst__mono_ns();
	jst__jbuf_put(&b->q, line, n);
	jst__jbuf_put(&b->q, "\n", 1);
	if (b->q.len >= BATCH_BYTES / 2)
		pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return 0;
}

void jst__batcher_flush(struct jst__batcher *b, unsigned wait_ms)
{
	uint64_t deadline = jst__mono_ns() + (uint64_t)wait_ms * 1000000u;
	pthread_mutex_lock(&b->mu);
	if (b->q.len) {
		b->flush = true;
		pthread_cond_signal(&b->cv);
	}
	while (wait_ms && (b->q.len || b->inflight)) {
		uint64_t now = jst__mono_ns();
		if (now >= deadline)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + (deadline - now);
		ts.tv_sec = (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		pthread_cond_timedwait(&b->idle_cv, &b->mu, &ts);
	}
	pthread_mutex_unlock(&b->mu);
}

void jst__batcher_stats(struct jst__batcher *b, struct jst_sink_stats *st)
{
	pthread_mutex_lock(&b->mu);
	*st = b->st;
	pthread_mutex_unlock(&b->mu);
	jst__strlcpy(st->spool_path, b->spool.path, sizeof(st->spool_path));
}

void jst__batcher_stop(struct jst__batcher *b, unsigned timeout_ms, struct jst_sink_stats *st)
{
	pthread_mutex_lock(&b->mu);
	b->closing = true;
	b->deadline_ns = jst__mono_ns() + (uint64_t)timeout_ms * 1000000u;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (b->started)
		pthread_join(b->thread, NULL);
	jst__batcher_stats(b, st);
	release(b);
}
