/* serve's Kafka source (serve --source kafka://BROKERS/TOPIC --group G): one consumer-group
 * member in its own thread, beside the HTTP API. It polls up to source_batch messages or
 * source_linger_ms, parses each message as NDJSON exactly as POST /api/v1/events does, and
 * stores the valid events, the refused messages and the next offset of every partition in ONE
 * store transaction. On assignment each partition is sought to the offset stored in the store
 * (not Kafka's committed one), so an instance killed mid-batch is replaced from its last
 * stored transaction: nothing lost, nothing counted twice (event ids are the second net).
 * Kafka's committed offsets are updated asynchronously after the store commit, for lag
 * tooling only. Rebalance callbacks run inside consumer_poll() in this thread, so no batch is
 * ever half-stored when partitions move: a revocation first stores what was polled. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "server/server.h"
#include "sink/rdkafka.h"

#define PARTS_MAX 1024 /* partitions of one batch */
#define REJECT_WHY_MAX 300

struct part_pos {
	int32_t partition;
	int64_t next;
};

struct jst__kafka_source {
	struct jst_server *srv;
	const struct jst__rdk *k;
	rd_kafka_t *rk;
	char brokers[JST_KAFKA_BROKERS_MAX], topic[JST_KAFKA_TOPIC_MAX + 1], group[256];
	pthread_t thread;
	bool started;
	atomic_bool stop;
	size_t batch_max;
	unsigned linger_ms;
	/* the polled messages not stored yet (they own the text the events borrow) */
	rd_kafka_message_t **msgs;
	size_t nmsg;
	/* counters, read at stop */
	uint64_t messages, accepted, duplicates, rejected, batches, store_retries;
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("joulestream serve: kafka: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- one batch: parse, store with offsets, commit to Kafka ---- */

struct batch {
	struct jst_event_batch all;
	struct jst_source_reject *rej;
	char (*why)[REJECT_WHY_MAX];
	size_t nrej;
	struct jst_source_offset off[PARTS_MAX];
	size_t noff;
};

static void note_offset(struct jst__kafka_source *ks, struct batch *b, const rd_kafka_message_t *m)
{
	for (size_t i = 0; i < b->noff; i++)
		if (b->off[i].partition == m->partition) {
			if (m->offset + 1 > b->off[i].next_offset)
				b->off[i].next_offset = m->offset + 1;
			return;
		}
	if (b->noff < PARTS_MAX)
		b->off[b->noff++] = (struct jst_source_offset){ks->group, ks->topic, m->partition, m->offset + 1};
}

static int append_events(struct batch *b, const struct jst_event_batch *mb)
{
	if (b->all.n + mb->n > b->all.cap) {
		size_t cap = (b->all.n + mb->n) * 2;
		struct jst_event *ev = realloc(b->all.ev, cap * sizeof(*ev));
		if (!ev)
			return -ENOMEM;
		b->all.ev = ev;
		b->all.cap = cap;
	}
	if (mb->n) /* an empty message batch may have no array: memcpy from NULL is undefined */
		memcpy(b->all.ev + b->all.n, mb->ev, mb->n * sizeof(*mb->ev));
	b->all.n += mb->n;
	return 0;
}

static void reject(struct jst__kafka_source *ks, struct batch *b, const rd_kafka_message_t *m, size_t line,
                   const char *err)
{
	struct jst_source_reject *j = &b->rej[b->nrej];
	snprintf(b->why[b->nrej], REJECT_WHY_MAX, "line %zu: %s", line, err);
	*j = (struct jst_source_reject){ks->group, ks->topic, m->partition, m->offset, b->why[b->nrej], m->payload,
	                                m->payload ? m->len : 0};
	b->nrej++;
	ks->rejected++;
	if (ks->rejected <= 10 || ks->rejected % 1000 == 0)
		log_line("message %s/%d@%lld refused (%llu so far, kept in ev_source_rejects): %s",
		         ks->topic, (int)m->partition, (long long)m->offset, (unsigned long long)ks->rejected,
		         b->why[b->nrej - 1]);
}

/* Parses every polled message as POST /api/v1/events would: a message is stored whole or
 * refused whole. */
static int parse_all(struct jst__kafka_source *ks, struct batch *b)
{
	for (size_t i = 0; i < ks->nmsg; i++) {
		const rd_kafka_message_t *m = ks->msgs[i];
		struct jst_event_batch mb = {0};
		size_t line = 0;
		char err[REJECT_WHY_MAX - 32] = "";
		note_offset(ks, b, m);
		int r = -EINVAL;
		if (m->payload && m->len)
			r = jst_event_batch_parse(m->payload, m->len, ks->srv->o.batch_max, &mb, &line, err,
			                          sizeof(err));
		else
			snprintf(err, sizeof(err), "empty message");
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			reject(ks, b, m, line, err);
		else if (append_events(b, &mb) < 0)
			r = -ENOMEM;
		jst_event_batch_release(&mb);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}

/* Stores the batch through the same ingest as POST /api/v1/events, retrying a busy or failing
 * store (nothing is acknowledged to Kafka meanwhile); false when stopped first. */
static bool store(struct jst__kafka_source *ks, struct batch *b)
{
	struct jst_source_batch src = {b->off, b->noff, b->rej, b->nrej};
	struct jst_ingest_result res;
	unsigned wait = 100;
	for (;;) {
		char err[512];
		pthread_mutex_lock(&ks->srv->write_mu);
		int r = jst_store_ingest_from(ks->srv->writer, &b->all, &src, &res);
		jst__strlcpy(err, jst_store_errmsg(ks->srv->writer), sizeof(err));
		pthread_mutex_unlock(&ks->srv->write_mu);
		if (r == 0)
			break;
		if (ks->store_retries++ % 20 == 0)
			log_line("the store could not take a batch (%s): retrying", err);
		if (atomic_load(&ks->stop) && ks->store_retries > 3)
			return false;
		sleep_ms(wait);
		wait = wait < 5000 ? wait * 2 : 5000;
	}
	ks->accepted += res.accepted;
	ks->duplicates += res.duplicates;
	ks->batches++;
	return true;
}

/* For lag tools only: the store's offsets are the ones that count. */
static void commit_kafka(struct jst__kafka_source *ks, const struct batch *b)
{
	rd_kafka_topic_partition_list_t *l = ks->k->topic_partition_list_new((int)b->noff);
	for (size_t i = 0; i < b->noff; i++)
		ks->k->topic_partition_list_add(l, ks->topic, b->off[i].partition)->offset = b->off[i].next_offset;
	ks->k->commit(ks->rk, l, 1);
	ks->k->topic_partition_list_destroy(l);
}

static void flush_batch(struct jst__kafka_source *ks)
{
	if (!ks->nmsg)
		return;
	struct batch *b = calloc(1, sizeof(*b));
	if (b) {
		b->rej = calloc(ks->nmsg, sizeof(*b->rej));
		b->why = calloc(ks->nmsg, sizeof(*b->why));
	}
	int r = b && b->rej && b->why ? parse_all(ks, b) : -ENOMEM;
	if (r < 0)
		log_line("out of memory parsing a batch of %zu messages: they will be read again", ks->nmsg);
	else if (store(ks, b))
		commit_kafka(ks, b);
	if (b) {
		free(b->all.ev);
		free(b->rej);
		free(b->why);
	}
	free(b);
	for (size_t i = 0; i < ks->nmsg; i++)
		ks->k->message_destroy(ks->msgs[i]);
	ks->messages += ks->nmsg;
	ks->nmsg = 0;
}

/* ---- the group: assignments sought to the store's offsets ---- */

struct seek_ctx {
	rd_kafka_topic_partition_list_t *parts;
	const char *topic;
};

static int set_offset(int32_t partition, int64_t next, void *ud)
{
	struct seek_ctx *c = ud;
	for (int i = 0; i < c->parts->cnt; i++)
		if (c->parts->elems[i].partition == partition && strcmp(c->parts->elems[i].topic, c->topic) == 0)
			c->parts->elems[i].offset = next;
	return 0;
}

static void on_assign(struct jst__kafka_source *ks, rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++) /* nothing stored yet: from the first message kept */
		parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
	struct seek_ctx c = {parts, ks->topic};
	char err[512] = "";
	int r = -EIO;
	for (int tries = 0; r < 0 && tries < 5; tries++) {
		if (tries)
			sleep_ms(500);
		pthread_mutex_lock(&ks->srv->write_mu);
		r = jst_store_source_offsets(ks->srv->writer, ks->group, ks->topic, set_offset, &c);
		if (r < 0)
			jst__strlcpy(err, jst_store_errmsg(ks->srv->writer), sizeof(err));
		pthread_mutex_unlock(&ks->srv->write_mu);
	}
	if (r < 0)
		log_line("cannot read the stored offsets (%s): reading the assigned partitions from their start "
		         "(events already stored are recognised by their ids)", err);
	char list[256] = "";
	size_t n = 0;
	for (int i = 0; i < parts->cnt && n + 24 < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d@%lld", i ? " " : "",
		                      (int)parts->elems[i].partition,
		                      (long long)(parts->elems[i].offset < 0 ? 0 : parts->elems[i].offset));
	log_line("assigned %s partitions %s (offsets from the store)", ks->topic, parts->cnt ? list : "(none)");
	ks->k->assign(ks->rk, parts);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
	struct jst__kafka_source *ks = opaque;
	(void)rk;
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		on_assign(ks, parts);
		return;
	}
	flush_batch(ks); /* what was polled from the partitions we lose is stored first */
	if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
		log_line("rebalance error: %s", ks->k->err2str(err));
	ks->k->assign(ks->rk, NULL);
}

/* ---- the thread ---- */

static void *consume(void *arg)
{
	struct jst__kafka_source *ks = arg;
	unsigned long errors = 0;
	while (!atomic_load(&ks->stop)) {
		uint64_t deadline = jst__mono_ns() + (uint64_t)ks->linger_ms * 1000000u;
		while (ks->nmsg < ks->batch_max && !atomic_load(&ks->stop)) {
			uint64_t now = jst__mono_ns();
			if (ks->nmsg && now >= deadline)
				break;
			int slice = ks->nmsg ? (int)((deadline - now) / 1000000u) + 1 : 100;
			rd_kafka_message_t *m = ks->k->consumer_poll(ks->rk, slice < 100 ? slice : 100);
			if (!m)
				continue;
			if (m->err) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && (errors++ < 10 || errors % 1000 == 0))
					log_line("%s", ks->k->err2str(m->err));
				ks->k->message_destroy(m);
				continue;
			}
			ks->msgs[ks->nmsg++] = m;
		}
		flush_batch(ks);
	}
	flush_batch(ks);
	ks->k->consumer_close(ks->rk); /* leaves the group: the others take its partitions now */
	return NULL;
}

static int configure(struct jst__kafka_source *ks, rd_kafka_conf_t *conf, unsigned session_ms, char *err,
                     size_t errlen)
{
	char sess[16], hb[16];
	snprintf(sess, sizeof(sess), "%u", session_ms);
	snprintf(hb, sizeof(hb), "%u", session_ms / 3 > 100 ? session_ms / 3 : 100);
	const char *kv[][2] = {
		{"bootstrap.servers", ks->brokers}, {"group.id", ks->group}, {"client.id", "joulestream-serve"},
		{"enable.auto.commit", "false"}, {"enable.auto.offset.store", "false"},
		{"auto.offset.reset", "earliest"}, {"partition.assignment.strategy", "range,roundrobin"},
		{"session.timeout.ms", sess}, {"heartbeat.interval.ms", hb}, {"log_level", "4"},
	};
	for (size_t i = 0; i < JST_ARRAY_LEN(kv); i++)
		if (jst__rdk_set(ks->k, conf, kv[i][0], kv[i][1], err, errlen) < 0)
			return -EINVAL;
	/* TLS, SASL and the like from the user; not what exactly-once ingest rests on */
	static const char *const fixed[] = {"bootstrap.servers", "group.id", "enable.auto.commit",
	                                    "enable.auto.offset.store", NULL};
	if (jst__kafka_props(ks->k, conf, ks->srv->o.source, fixed, err, errlen) < 0)
		return -EINVAL;
	ks->k->conf_set_rebalance_cb(conf, on_rebalance);
	ks->k->conf_set_opaque(conf, ks);
	return 0;
}

static int subscribe(struct jst__kafka_source *ks, unsigned session_ms, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = ks->k->conf_new();
	char why[512];
	if (configure(ks, conf, session_ms, err, errlen) < 0) {
		ks->k->conf_destroy(conf);
		return -EINVAL;
	}
	if (!(ks->rk = ks->k->new(RD_KAFKA_CONSUMER, conf, why, sizeof(why)))) {
		ks->k->conf_destroy(conf);
		snprintf(err, errlen, "cannot create the Kafka consumer: %s", why);
		return -EINVAL;
	}
	ks->k->poll_set_consumer(ks->rk);
	rd_kafka_topic_partition_list_t *l = ks->k->topic_partition_list_new(1);
	ks->k->topic_partition_list_add(l, ks->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = ks->k->subscribe(ks->rk, l);
	ks->k->topic_partition_list_destroy(l);
	if (e) {
		snprintf(err, errlen, "cannot subscribe to %s: %s", ks->topic, ks->k->err2str(e));
		return -EINVAL;
	}
	return 0;
}

int jst__kafka_source_start(struct jst__kafka_source **out, struct jst_server *srv, char *err, size_t errlen)
{
	const struct jst_server_opts *o = &srv->o;
	struct jst__kafka_source *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return -ENOMEM;
	ks->srv = srv;
	ks->batch_max = o->source_batch ? o->source_batch : 1000;
	ks->linger_ms = o->source_linger_ms ? o->source_linger_ms : 200;
	int r = jst__kafka_url_parse(o->source, strlen(o->source), ks->brokers, sizeof(ks->brokers), ks->topic,
	                             sizeof(ks->topic), err, errlen);
	const char *group = o->group && *o->group ? o->group : "joulestream-serve";
	if (r == 0 && strlen(group) >= sizeof(ks->group)) {
		snprintf(err, errlen, "--group is longer than %zu characters", sizeof(ks->group) - 1);
		r = -EINVAL;
	}
	if (r == 0)
		memcpy(ks->group, group, strlen(group) + 1);
	if (r == 0 && !(ks->k = jst__rdk_load(err, errlen)))
		r = -ENOENT;
	if (r == 0 && !(ks->msgs = calloc(ks->batch_max, sizeof(*ks->msgs))))
		r = -ENOMEM;
	if (r == 0)
		r = subscribe(ks, o->source_session_ms ? o->source_session_ms : 10000, err, errlen);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (r == 0 && pthread_create(&ks->thread, NULL, consume, ks) != 0) {
		snprintf(err, errlen, "cannot start the Kafka consumer thread");
		r = -EAGAIN;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ks->started = r == 0;
	if (r < 0) {
		jst__kafka_source_stop(ks);
		return r;
	}
	*out = ks;
	return 0;
}

void jst__kafka_source_stop(struct jst__kafka_source *ks)
{
	if (!ks)
		return;
	atomic_store(&ks->stop, true);
	if (ks->started) {
		pthread_join(ks->thread, NULL);
		log_line("%s as group %s: %llu messages, %llu events stored, %llu duplicates skipped, %llu messages "
		         "refused, %llu batches", ks->topic, ks->group, (unsigned long long)ks->messages,
		         (unsigned long long)ks->accepted, (unsigned long long)ks->duplicates,
		         (unsigned long long)ks->rejected, (unsigned long long)ks->batches);
	}
	if (ks->rk)
		ks->k->destroy(ks->rk);
	free(ks->msgs);
	free(ks);
}
