/* librdkafka loaded at run time (dlopen of librdkafka.so.1, or JOULESTREAM_RDKAFKA_LIB), so that
 * `joulestream run` without a kafka:// sink never maps it (startup time and memory, docs/
 * architecture.md). Only its headers are used at build time; every call goes through the table
 * below, whose pointer types are taken from those headers. Also the kafka:// URL parser, a pure
 * function shared by the sink (kafka.c) and serve's source (src/server/kafka_source.c). */
#ifndef JST_SINK_RDKAFKA_H
#define JST_SINK_RDKAFKA_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#define JST_KAFKA_BROKERS_MAX 512
#define JST_KAFKA_TOPIC_MAX 249 /* Kafka's own limit */

#define JST__RDK_FN(name) __typeof__(rd_kafka_##name) *name
struct jst__rdk {
	JST__RDK_FN(version_str);
	JST__RDK_FN(conf_new);
	JST__RDK_FN(conf_set);
	JST__RDK_FN(conf_destroy);
	JST__RDK_FN(conf_set_dr_msg_cb);
	JST__RDK_FN(conf_set_rebalance_cb);
	JST__RDK_FN(conf_set_log_cb);
	JST__RDK_FN(conf_set_opaque);
	JST__RDK_FN(new);
	JST__RDK_FN(destroy);
	JST__RDK_FN(opaque);
	JST__RDK_FN(topic_new);
	JST__RDK_FN(topic_destroy);
	JST__RDK_FN(produce);
	JST__RDK_FN(last_error);
	JST__RDK_FN(err2str);
	JST__RDK_FN(poll);
	JST__RDK_FN(flush);
	JST__RDK_FN(purge);
	JST__RDK_FN(outq_len);
	JST__RDK_FN(subscribe);
	JST__RDK_FN(poll_set_consumer);
	JST__RDK_FN(consumer_poll);
	JST__RDK_FN(consumer_close);
	JST__RDK_FN(assign);
	JST__RDK_FN(commit);
	JST__RDK_FN(message_destroy);
	JST__RDK_FN(topic_name);
	JST__RDK_FN(topic_partition_list_new);
	JST__RDK_FN(topic_partition_list_add);
	JST__RDK_FN(topic_partition_list_destroy);
	JST__RDK_FN(conf_get);
};
#undef JST__RDK_FN

/* The loaded library (loaded once, kept until exit), or NULL with why saying what to install. */
const struct jst__rdk *jst__rdk_load(char *why, size_t whylen);

/* Parses kafka://HOST:PORT[,HOST:PORT…]/TOPIC[?PROPERTIES] into brokers ("HOST:PORT,…") and topic
 * (the properties are jst__kafka_props's). A pure
 * function over (p, n): 0, or -EINVAL with err saying what is wrong and what a good one is. */
int jst__kafka_url_parse(const char *p, size_t n, char *brokers, size_t blen, char *topic, size_t tlen,
                         char *err, size_t errlen);

/* The client properties of a kafka:// sink or source, after joulestream's own: the file named
 * by JOULESTREAM_KAFKA_CONFIG (KEY = VALUE lines, # comments), then the URL's ?KEY=VALUE&…
 * (percent-encoded), then JOULESTREAM_KAFKA_PASSWORD as sasl.password when none was given.
 * Secrets (sasl.password, ssl.key.password, …) are refused in the URL (`ps` shows it): they come
 * from the file, from KEY.file=PATH (the file's first line), or from the environment. A key of
 * fixed (NULL-terminated) is refused: it is joulestream's to set. 0, or -EINVAL with err naming
 * the property and where it came from. */
int jst__kafka_props(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *url, const char *const *fixed,
                     char *err, size_t errlen);

/* Sets one librdkafka property; on failure err names it and librdkafka's reason. */
int jst__rdk_set(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *name, const char *value,
                 char *err, size_t errlen);

/* The message key of an event line: its run id, or its host for an event without one (agent
 * host events, heartbeats). Scans the line's top-level keys; 0 and key filled, or -1. */
int jst__kafka_event_key(const char *line, size_t n, char *key, size_t keylen);

#endif
