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
		S(topic_partition_list_add), S(topic_partition_list_destroy), S(conf_get),
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

static bool secret_key(const char *key);

int jst__rdk_set(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *name, const char *value,
                 char *err, size_t errlen)
{
	char why[256];
	if (k->conf_set(conf, name, value, why, sizeof(why)) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "librdkafka refused %s=%s: %s", name, secret_key(name) ? "(secret)" : value, why);
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
	const char *query = memchr(p, '?', n); /* client properties follow: jst__kafka_props */
	if (query)
		e = query;
	if (e - p < 8 || memcmp(p, pre, 8) != 0) {
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
			         "'_' and '-' (client options go after a '?': " URL_FORM "?KEY=VALUE&…)", c, (int)(tl > 80 ? 80 : tl), t);
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

/* ---- client properties: TLS, SASL and the rest of librdkafka's configuration ---- */

/* Properties that hold secrets: never in a URL (it shows in `ps` and in shell history), only
 * in the configuration file, in KEY.file=PATH, or (sasl.password) JOULESTREAM_KAFKA_PASSWORD. */
static bool secret_key(const char *key)
{
	static const char *const secrets[] = {"sasl.password", "ssl.key.password", "ssl.keystore.password",
	                                      "sasl.oauthbearer.client.secret", "ssl.key.pem"};
	for (size_t i = 0; i < JST_ARRAY_LEN(secrets); i++)
		if (strcmp(key, secrets[i]) == 0)
			return true;
	return false;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* [p, e) percent-decoded into out (n bytes); false when malformed or too long. */
static bool pct_decode(const char *p, const char *e, char *out, size_t n)
{
	size_t k = 0;
	for (; p < e; p++) {
		char c = *p;
		if (c == '%') {
			if (e - p < 3 || hexval(p[1]) < 0 || hexval(p[2]) < 0)
				return false;
			c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		}
		if (c == '\0' || k + 1 >= n)
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return true;
}

/* A secret's value from KEY.file=PATH: the file's first line. */
static int read_secret(const char *path, char *out, size_t n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(out, (int)n, f)) {
		snprintf(err, errlen, "cannot read the secret file %s: %s", path, f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return -EINVAL;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* One property from where (a URL, a file): checked, secrets from their files, then set. */
static int prop(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *key, const char *value, bool in_url,
                const char *const *fixed, const char *where, char *err, size_t errlen)
{
	char name[128], secret[1024];
	size_t kl = strlen(key);
	for (size_t i = 0; i < kl; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '.' ||
		      key[i] == '_') || kl >= sizeof(name)) {
			snprintf(err, errlen, "%s: '%.80s' is not a librdkafka property name", where, key);
			return -EINVAL;
		}
	for (const char *const *f = fixed; *f; f++)
		if (strcmp(key, *f) == 0) {
			snprintf(err, errlen, "%s: %s is set by joulestream (the URL's brokers, --group, and what its "
			         "delivery guarantee needs): leave it out", where, key);
			return -EINVAL;
		}
	if (kl > 5 && strcmp(key + kl - 5, ".file") == 0) { /* sasl.password.file=PATH */
		memcpy(name, key, kl - 5);
		name[kl - 5] = '\0';
		if (!secret_key(name)) {
			snprintf(err, errlen, "%s: %s: only a secret (sasl.password, ssl.key.password, …) is read from "
			         "a file this way", where, key);
			return -EINVAL;
		}
		if (read_secret(value, secret, sizeof(secret), err, errlen) < 0)
			return -EINVAL;
		int r = jst__rdk_set(k, conf, name, secret, err, errlen);
		explicit_bzero(secret, sizeof(secret));
		return r;
	}
	if (in_url && secret_key(key)) {
		snprintf(err, errlen, "%s: %s would show in `ps`: give %s.file=PATH, or the password in "
		         "JOULESTREAM_KAFKA_PASSWORD, or put it in the JOULESTREAM_KAFKA_CONFIG file", where, key, key);
		return -EINVAL;
	}
	return jst__rdk_set(k, conf, key, value, err, errlen);
}

int jst__kafka_props(const struct jst__rdk *k, rd_kafka_conf_t *conf, const char *url, const char *const *fixed,
                     char *err, size_t errlen)
{
	char key[128], value[1024], where[600];
	const char *file = getenv("JOULESTREAM_KAFKA_CONFIG");
	if (file && *file) { /* KEY = VALUE lines, # comments */
		FILE *f = fopen(file, "r");
		if (!f) {
			snprintf(err, errlen, "cannot read JOULESTREAM_KAFKA_CONFIG %s: %s", file, strerror(errno));
			return -EINVAL;
		}
		char line[1200];
		int r = 0;
		for (unsigned n = 1; r == 0 && fgets(line, sizeof(line), f); n++) {
			char *p = line + strspn(line, " \t");
			p[strcspn(p, "\r\n")] = '\0';
			if (!*p || *p == '#')
				continue;
			char *eq = strchr(p, '=');
			snprintf(where, sizeof(where), "%s line %u", file, n);
			if (!eq) {
				snprintf(err, errlen, "%s: expected KEY = VALUE", where);
				r = -EINVAL;
				break;
			}
			char *ke = eq;
			while (ke > p && (ke[-1] == ' ' || ke[-1] == '\t'))
				ke--;
			char *v = eq + 1 + strspn(eq + 1, " \t");
			size_t vl = strlen(v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
			snprintf(key, sizeof(key), "%.*s", (int)(ke - p), p);
			r = prop(k, conf, key, v, false, fixed, where, err, errlen);
		}
		fclose(f);
		if (r < 0)
			return r;
	}
	const char *q = strchr(url, '?');
	snprintf(where, sizeof(where), "kafka:// URL");
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (!eq || !pct_decode(p, eq, key, sizeof(key)) || !pct_decode(eq + 1, e, value, sizeof(value))) {
			snprintf(err, errlen, "kafka:// URL: bad option '%.*s': give ?KEY=VALUE&KEY=VALUE (librdkafka's "
			         "property names, values percent-encoded)", (int)(e - p > 80 ? 80 : e - p), p);
			return -EINVAL;
		}
		int r = prop(k, conf, key, value, true, fixed, where, err, errlen);
		if (r < 0)
			return r;
		p = amp ? amp + 1 : NULL;
	}
	/* the environment's password unless one was given: an unset one reads back as "" (size
	 * 1); a longer one only gives its size, the buffer being too small on purpose */
	const char *pw = getenv("JOULESTREAM_KAFKA_PASSWORD");
	char have[8];
	size_t hl = sizeof(have);
	if (pw && *pw && (k->conf_get(conf, "sasl.password", have, &hl) != RD_KAFKA_CONF_OK || hl <= 1))
		return jst__rdk_set(k, conf, "sasl.password", pw, err, errlen);
	return 0;
}
