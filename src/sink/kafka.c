/* The Kafka sink (kafka://HOST:PORT[,…]/TOPIC): each event is one message whose key is its run
 * id (its host for host events), so that a run's events land in one partition, in order, and
 * whose value is the event's NDJSON line. The producer is idempotent with acks=all. An event
 * counts as delivered only when its delivery report says so; one that fails (broker down past
 * message.timeout.ms, or still queued when the sink closes) goes to the same on-disk spool as
 * the HTTP sink's (spool.c) and is re-sent later by a sender thread, a chunk at a time, each
 * chunk removed from the spool only once every message of it is reported delivered. Ids make
 * every resend idempotent. librdkafka is loaded on first use (rdkafka.c). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/event.h"
#include "sink/rdkafka.h"
#include "sink/sink.h"
#include "sink/spool.h"

#define CHUNK_BYTES (1024 * 1024)
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS 30000u
#define MSG_TIMEOUT_MS "30000" /* a message not acknowledged by then goes to the spool */

static char replay_tag; /* msg_opaque of a message re-sent from the spool */

struct kafka_sink {
	struct jst_sink base;
	const struct jst__rdk *k;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* guards st, spool, closing and the replay counters */
	pthread_cond_t cv;
	bool closing;
	struct jst_sink_stats st;
	struct jst__spool spool;
	/* the chunk of the spool being re-sent: its size and the messages not yet reported */
	size_t replay_bytes;
	uint64_t replay_lines, replay_out, replay_failed;
	unsigned backoff_ms;
	uint64_t next_try_ns;
};

/* "WHAT: WHY" as the sink's last error; under mu. */
static void set_error(struct kafka_sink *s, const char *what, const char *why)
{
	snprintf(s->st.last_error, sizeof(s->st.last_error), "%.60s: %.180s", what, why);
}

static bool permanent(rd_kafka_resp_err_t e)
{
	return e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || e == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
	       e == RD_KAFKA_RESP_ERR_INVALID_MSG;
}

/* Keeps one undelivered line (no newline) in the spool; under mu. */
static void spool_line(struct kafka_sink *s, const char *p, size_t n)
{
	char *buf = malloc(n + 1);
	if (!buf || (memcpy(buf, p, n), buf[n] = '\n', jst__spool_append(&s->spool, buf, n + 1)) < 0)
		s->st.dropped++;
	else
		s->st.spooled++;
	free(buf);
	s->st.in_spool = jst__spool_lines(&s->spool);
}

/* Delivery reports, served by rd_kafka_poll()/flush() in the sender thread (or in close once
 * the sender has stopped). */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_sink *s = opaque;
	(void)rk;
	pthread_mutex_lock(&s->mu);
	bool replayed = m->_private == &replay_tag;
	if (replayed)
		s->replay_out--;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		s->st.delivered++;
	} else {
		set_error(s, s->k->topic_name(m->rkt), s->k->err2str(m->err));
		if (permanent(m->err))
			s->st.rejected++;
		else if (replayed)
			s->replay_failed++;
		else
			spool_line(s, m->payload, m->len);
	}
	pthread_mutex_unlock(&s->mu);
}

/* librdkafka's own log lines (broker down, …) become last_error instead of noise on stderr:
 * the report of `run` and the agent's log say what was not delivered and why. Called from
 * librdkafka's threads. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	char why[8];
	const struct jst__rdk *k = jst__rdk_load(why, sizeof(why));
	struct kafka_sink *s = k ? k->opaque(rk) : NULL;
	(void)level;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	set_error(s, fac, buf);
	pthread_mutex_unlock(&s->mu);
}

/* Queues one message; RD_KAFKA_RESP_ERR_NO_ERROR or why not (queue full, fatal error). */
static rd_kafka_resp_err_t produce(struct kafka_sink *s, const char *line, size_t n, void *tag)
{
	char key[JST_EVENT_ID_MAX + 256];
	bool keyed = jst__kafka_event_key(line, n, key, sizeof(key)) == 0;
	if (s->k->produce(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)(uintptr_t)line, n,
	                  keyed ? key : NULL, keyed ? strlen(key) : 0, tag) == 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	return s->k->last_error();
}

static void backoff(struct kafka_sink *s)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->next_try_ns = jst__mono_ns() + (uint64_t)s->backoff_ms * 1000000u;
	s->st.retries++;
}

/* Once every message of the chunk being re-sent is reported: drops it from the spool when all
 * were delivered, else keeps it for a later try. Under mu. */
static void replay_done(struct kafka_sink *s)
{
	if (!s->replay_bytes || s->replay_out)
		return;
	if (s->replay_failed == 0) {
		jst__spool_consume(&s->spool, s->replay_bytes, s->replay_lines);
		s->backoff_ms = 0;
	} else {
		backoff(s);
	}
	s->st.in_spool = jst__spool_lines(&s->spool);
	s->replay_bytes = 0;
	s->replay_lines = s->replay_failed = 0;
}

/* Starts re-sending the oldest chunk of the spool when it is due. Called under mu, which is
 * released while the chunk is queued (librdkafka may call on_log from inside produce); the
 * reports are served by this thread's next poll, so none can come meanwhile. */
static void replay_start(struct kafka_sink *s, char *chunk)
{
	if (s->replay_bytes || !jst__spool_pending(&s->spool) || jst__mono_ns() < s->next_try_ns)
		return;
	size_t n = jst__spool_peek(&s->spool, chunk, CHUNK_BYTES);
	if (!n)
		return;
	s->replay_bytes = n;
	pthread_mutex_unlock(&s->mu);
	uint64_t lines = 0, out = 0, failed = 0;
	for (const char *p = chunk, *e = chunk + n; p < e;) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t len = (size_t)(nl - p);
		lines++;
		if (len && produce(s, p, len, &replay_tag) == RD_KAFKA_RESP_ERR_NO_ERROR)
			out++;
		else if (len)
			failed++;
		p = nl + 1;
	}
	pthread_mutex_lock(&s->mu);
	s->replay_lines = lines;
	s->replay_out += out;
	s->replay_failed += failed;
	replay_done(s); /* when nothing could be queued */
}

static void *sender(void *arg)
{
	struct kafka_sink *s = arg;
	char *chunk = malloc(CHUNK_BYTES);
	pthread_mutex_lock(&s->mu);
	while (!s->closing) {
		pthread_mutex_unlock(&s->mu);
		s->k->poll(s->rk, 100);
		pthread_mutex_lock(&s->mu);
		replay_done(s);
		if (chunk && !s->closing)
			replay_start(s, chunk);
	}
	pthread_mutex_unlock(&s->mu);
	free(chunk);
	return NULL;
}

static int kafka_write(struct jst_sink *base, const char *line, size_t n)
{
	struct kafka_sink *s = (struct kafka_sink *)base;
	rd_kafka_resp_err_t e = produce(s, line, n, NULL);
	int r = 0;
	pthread_mutex_lock(&s->mu);
	s->st.written++;
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) { /* queue full or a fatal producer error: keep it on disk */
		uint64_t dropped = s->st.dropped;
		set_error(s, "producing", s->k->err2str(e));
		spool_line(s, line, n);
		r = s->st.dropped > dropped ? -ENOBUFS : 0;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void kafka_stats(struct jst_sink *base, struct jst_sink_stats *st)
{
	struct kafka_sink *s = (struct kafka_sink *)base;
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	st->in_spool = jst__spool_lines(&s->spool);
	pthread_mutex_unlock(&s->mu);
	jst__strlcpy(st->spool_path, s->spool.path, sizeof(st->spool_path));
}

static void free_sink(struct kafka_sink *s)
{
	if (s->rkt)
		s->k->topic_destroy(s->rkt);
	if (s->rk)
		s->k->destroy(s->rk);
	jst__spool_close(&s->spool);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static void kafka_close(struct jst_sink *base, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct kafka_sink *s = (struct kafka_sink *)base;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	/* what is still queued gets timeout_ms, then is purged: its reports say it failed, so it
	 * goes to the spool (a purged chunk being re-sent stays there) */
	s->k->flush(s->rk, (int)timeout_ms);
	if (s->k->outq_len(s->rk) > 0) {
		s->k->purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		for (int i = 0; i < 50 && s->k->outq_len(s->rk) > 0; i++)
			s->k->poll(s->rk, 10);
	}
	pthread_mutex_lock(&s->mu);
	replay_done(s);
	pthread_mutex_unlock(&s->mu);
	kafka_stats(base, st);
	free_sink(s);
}

static int configure(struct kafka_sink *s, rd_kafka_conf_t *conf, const char *url, const char *brokers,
                     const struct jst_sink_opts *o, char *err, size_t errlen)
{
	char kb[32];
	snprintf(kb, sizeof(kb), "%zu", (o->mem_max ? o->mem_max : 8u << 20) / 1024);
	const char *kv[][2] = {
		{"bootstrap.servers", brokers}, {"client.id", "joulestream"}, {"acks", "all"},
		{"enable.idempotence", "true"}, {"message.timeout.ms", MSG_TIMEOUT_MS},
		{"queue.buffering.max.kbytes", kb}, {"linger.ms", "20"}, {"log_level", "3"},
	};
	for (size_t i = 0; i < JST_ARRAY_LEN(kv); i++)
		if (jst__rdk_set(s->k, conf, kv[i][0], kv[i][1], err, errlen) < 0)
			return -EINVAL;
	/* TLS, SASL and the like from the user; not what the delivery guarantee rests on */
	static const char *const fixed[] = {"bootstrap.servers", "acks", "enable.idempotence", NULL};
	if (jst__kafka_props(s->k, conf, url, fixed, err, errlen) < 0)
		return -EINVAL;
	s->k->conf_set_dr_msg_cb(conf, on_delivery);
	s->k->conf_set_log_cb(conf, on_log);
	s->k->conf_set_opaque(conf, s);
	return 0;
}

static int start(struct kafka_sink *s, const char *url, const char *brokers, const char *topic,
                 const struct jst_sink_opts *o, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = s->k->conf_new();
	char why[512];
	if (configure(s, conf, url, brokers, o, err, errlen) < 0) {
		s->k->conf_destroy(conf);
		return -EINVAL;
	}
	if (!(s->rk = s->k->new(RD_KAFKA_PRODUCER, conf, why, sizeof(why)))) {
		s->k->conf_destroy(conf);
		snprintf(err, errlen, "cannot create the Kafka producer: %s", why);
		return -EINVAL;
	}
	if (!(s->rkt = s->k->topic_new(s->rk, topic, NULL))) {
		snprintf(err, errlen, "cannot use the topic '%s': %s", topic, s->k->err2str(s->k->last_error()));
		return -EINVAL;
	}
	/* the sender takes no signals: a caller that reads them from a signalfd (run) must get
	 * them all, whichever thread existed first (librdkafka's own threads block them too) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pr = pthread_create(&s->thread, NULL, sender, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pr != 0) {
		snprintf(err, errlen, "cannot start the Kafka sender thread");
		return -EAGAIN;
	}
	s->started = true;
	return 0;
}

static int kafka_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
                      size_t errlen)
{
	char brokers[JST_KAFKA_BROKERS_MAX], topic[JST_KAFKA_TOPIC_MAX + 1];
	int r = jst__kafka_url_parse(target, strlen(target), brokers, sizeof(brokers), topic, sizeof(topic), err,
	                             errlen);
	if (r < 0)
		return r;
	const struct jst__rdk *k = jst__rdk_load(err, errlen);
	if (!k)
		return -ENOENT;
	struct kafka_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->k = k;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	r = jst__spool_open(&s->spool, o->spool_dir, o->spool_max ? o->spool_max : 64u << 20, err, errlen);
	s->st.in_spool = r == 0 ? jst__spool_lines(&s->spool) : 0; /* adopted from a dead sink */
	if (r == 0)
		r = start(s, target, brokers, topic, o, err, errlen);
	if (r < 0) {
		free_sink(s);
		return r;
	}
	*out = &s->base;
	return 0;
}

const struct jst_sink_ops jst__sink_kafka = {"kafka://", kafka_open, kafka_write, NULL, kafka_stats, kafka_close};
