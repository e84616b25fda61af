/* librdkafka through dlopen (rdkafka.h) by the one loader (src/core/dl.c): loaded on the first
 * kafka:// sink or source, once per process, never unloaded (its threads may outlive a handle
 * by a moment). A missing library is a message naming the Debian package. Also the kafka://
 * URL parser and the event key. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "core/util.h"
#include "joulestream/event.h"
#include "sink/rdkafka.h"

static struct jst__rdk rdk;
static char load_error[512];
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	/* Writing a dlsym() result through a void ** is the POSIX idiom for function pointers. */
#define S(n) {"rd_kafka_" #n, (void **)&rdk.n, false}
	static const struct jst__dl_sym syms[] = {
		S(version_str), S(conf_new), S(conf_set), S(conf_destroy), S(conf_set_dr_msg_cb),
		S(conf_set_rebalance_cb), S(conf_set_log_cb), S(conf_set_opaque), S(new), S(destroy), S(opaque),
		S(topic_new), S(topic_destroy), S(produce), S(last_error), S(err2str), S(poll), S(flush),
		S(purge), S(outq_len), S(subscribe), S(poll_set_consumer), S(consumer_poll), S(consumer_close),
		S(assign), S(commit), S(message_destroy), S(topic_name), S(topic_partition_list_new),
		S(topic_partition_list_add), S(topic_partition_list_destroy),
	};
#undef S
	static const struct jst__dl_lib lib = {
		.soname = "librdkafka.so.1",
		.env = "JOULESTREAM_RDKAFKA_LIB",
		.package = "librdkafka1",
		.syms = syms,
		.nsyms = JST_ARRAY_LEN(syms),
		.absent = " (kafka:// needs librdkafka)",
		.newer = "1.6 or newer",
	};
	loaded = jst__dl_load(&lib, load_error, sizeof(load_error)) == 0;
}

const struct jst__rdk *jst__rdk_load(char *why, size_t whylen)
{
	pthread_once(&load_once, load);
	if (!loaded)
		snprintf(why, whylen, "%s", load_error);
	return loaded ? &rdk : NULL;
}

int jst__rdk_set(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *name, const char *value,
                 char *err, size_t errlen)
{
	char why[256];
	if (k->conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "librdkafka refused %s=%s: %s", name, value, why);
	return -EINVAL;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '-' || c == '_';
}

static bool topic_char(char c)
{
	return host_char(c);
}

/* One HOST:PORT of the broker list, [p, e). */
static bool broker_ok(const char *p, const char *e)
{
	const char *colon = NULL;
	for (const char *q = p; q < e; q++)
		if (*q == ':')
			colon = q;
	if (!colon || colon == p || e - colon < 2 || e - colon > 6)
		return false;
	for (const char *q = p; q < colon; q++)
		if (!host_char(*q))
			return false;
	unsigned port = 0; /* digits only: jst__parse_u64 would let blanks around them through */
	for (const char *q = colon + 1; q < e; q++) {
		if (*q < '0' || *q > '9')
			return false;
		port = port * 10 + (unsigned)(*q - '0');
	}
	return port >= 1 && port <= 65535;
}

#define URL_FORM "kafka://HOST:PORT[,HOST:PORT…]/TOPIC"

int jst__kafka_url_parse(const char *p, size_t n, char *brokers, size_t blen, char *topic, size_t tlen,
                         char *err, size_t errlen)
{
	const char *pre = "kafka://", *e = p + n;
	if (n < 8 || memcmp(p, pre, 8) != 0) {
		snprintf(err, errlen, "not a kafka:// URL: use " URL_FORM);
		return -EINVAL;
	}
	p += 8;
	const char *slash = memchr(p, '/', (size_t)(e - p));
	if (!slash || slash == p) {
		snprintf(err, errlen, "%s: use " URL_FORM " (e.g. kafka://127.0.0.1:9092/joulestream)",
		         slash ? "no broker before the topic" : "no /TOPIC after the brokers");
		return -EINVAL;
	}
	if ((size_t)(slash - p) >= blen || (size_t)(slash - p) >= JST_KAFKA_BROKERS_MAX) {
		snprintf(err, errlen, "the broker list is longer than %d bytes", JST_KAFKA_BROKERS_MAX - 1);
		return -EINVAL;
	}
	for (const char *b = p; b < slash;) {
		const char *c = memchr(b, ',', (size_t)(slash - b));
		const char *be = c ? c : slash;
		if (!broker_ok(b, be)) {
			snprintf(err, errlen, "bad broker '%.*s': give HOST:PORT (port 1-65535), several separated by "
			         "commas, as in " URL_FORM, (int)(be - b > 80 ? 80 : be - b), b);
			return -EINVAL;
		}
		b = c ? c + 1 : slash;
		if (c && b == slash) {
			snprintf(err, errlen, "empty broker after a comma: use " URL_FORM);
			return -EINVAL;
		}
	}
	const char *t = slash + 1;
	size_t tl = (size_t)(e - t);
	if (tl == 0 || tl > JST_KAFKA_TOPIC_MAX || tl >= tlen) {
		snprintf(err, errlen, "%s: use " URL_FORM, tl ? "topic name longer than 249 characters" : "no topic");
		return -EINVAL;
	}
	for (size_t i = 0; i < tl; i++)
		if (!topic_char(t[i])) {
			char c = t[i] >= 0x20 && t[i] < 0x7f ? t[i] : '?';
			snprintf(err, errlen, "bad character '%c' in topic '%.*s': a topic is letters, digits, '.', "
			         "'_' and '-' (" URL_FORM " takes no options)", c, (int)(tl > 80 ? 80 : tl), t);
			return -EINVAL;
		}
	memcpy(brokers, p, (size_t)(slash - p));
	brokers[slash - p] = '\0';
	memcpy(topic, t, tl);
	topic[tl] = '\0';
	return 0;
}

int jst__kafka_event_key(const char *line, size_t n, char *key, size_t keylen)
{
	struct jst_event ev;
	char err[64];
	if (jst_event_parse(line, n, &ev, err, sizeof(err)) < 0)
		return -1;
	const char *k = ev.run[0] ? ev.run : ev.host;
	if (!*k)
		return -1;
	jst__strlcpy(key, k, keylen);
	return 0;
}
