/* The Kafka pieces that need no broker: kafka:// URLs (good ones split into brokers and topic,
 * bad ones refused with a reason), the client properties of the URL, the configuration file and
 * the environment (TLS, SASL; secrets never in the URL), the message key of an event (run id, else host), the sink
 * refusing a bad URL before loading anything, and the SQLite store keeping a source's offsets
 * and refused messages in the batch's own transaction: committed together, an offset updated,
 * a refused message replayed after a crash recorded once, and a failed batch storing neither
 * its events nor its offsets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/ingest.h"
#include "joulestream/sink.h"
#include "sink/rdkafka.h"

static void url_ok(const char *u, const char *brokers, const char *topic)
{
	char b[JST_KAFKA_BROKERS_MAX], t[JST_KAFKA_TOPIC_MAX + 1], err[256] = "";
	CHECK_INT(jst__kafka_url_parse(u, strlen(u), b, sizeof(b), t, sizeof(t), err, sizeof(err)), 0);
	CHECK_STR(b, brokers);
	CHECK_STR(t, topic);
}

static void url_bad(const char *u, const char *why)
{
	char b[JST_KAFKA_BROKERS_MAX], t[JST_KAFKA_TOPIC_MAX + 1], err[256] = "";
	CHECK_INT(jst__kafka_url_parse(u, strlen(u), b, sizeof(b), t, sizeof(t), err, sizeof(err)), -EINVAL);
	if (!strstr(err, why))
		fprintf(stderr, "url %s: '%s' lacks '%s'\n", u, err, why);
	CHECK(strstr(err, why) != NULL);
}

static void test_urls(void)
{
	url_ok("kafka://127.0.0.1:9092/joulestream", "127.0.0.1:9092", "joulestream");
	url_ok("kafka://a.example:9092,b-2.example:19092/jst.events_v1", "a.example:9092,b-2.example:19092",
	       "jst.events_v1");
	url_bad("http://h:1/t", "not a kafka:// URL");
	url_bad("kafka://h:9092", "no /TOPIC");
	url_bad("kafka:///t", "no broker");
	url_bad("kafka://h/t", "bad broker 'h'");
	url_bad("kafka://h:0/t", "port 1-65535");
	url_bad("kafka://h:65536/t", "port 1-65535");
	url_bad("kafka://h:9 /t", "port 1-65535"); /* found by fuzz.kafka_url */
	url_bad("kafka://h: 9/t", "port 1-65535");
	url_bad("kafka://:1/t", "bad broker");
	url_bad("kafka://h:1,/t", "empty broker");
	url_bad("kafka://h:1/", "no topic");
	url_ok("kafka://h:1/a?security.protocol=SSL&x=%41", "h:1", "a"); /* options: jst__kafka_props */
	url_bad("kafka://h:1?acks=1", "no /TOPIC");
	url_bad("kafka://h:1/a b", "bad character ' '");
	char longt[300] = "kafka://h:1/";
	memset(longt + 12, 'x', 250);
	url_bad(longt, "longer than 249");
	/* the pure function never reads past n */
	const char *u = "kafka://h:1/topicXYZ";
	char b[64], t[64], err[256];
	CHECK_INT(jst__kafka_url_parse(u, strlen(u) - 3, b, sizeof(b), t, sizeof(t), err, sizeof(err)), 0);
	CHECK_STR(t, "topic");
}

/* The client properties (jst__kafka_props) on a real librdkafka configuration: from the URL,
 * from JOULESTREAM_KAFKA_CONFIG and from the environment; secrets never from the URL, from
 * KEY.file=PATH instead; joulestream's own keys refused; each failure naming where. */
static const char *prop_get(const struct jst__rdk *k, rd_kafka_conf_t *c, const char *key)
{
	static char v[512];
	size_t n = sizeof(v);
	if (k->conf_get(c, key, v, &n) != RD_KAFKA_CONF_OK)
		return "(unset)";
	return v;
}

static int props(const struct jst__rdk *k, rd_kafka_conf_t **c, const char *url, char *err, size_t errlen)
{
	static const char *const fixed[] = {"bootstrap.servers", "group.id", NULL};
	if (*c)
		k->conf_destroy(*c);
	*c = k->conf_new();
	err[0] = '\0';
	return jst__kafka_props(k, *c, url, fixed, err, errlen);
}

static void test_props(void)
{
	char why[256], err[600];
	const struct jst__rdk *k = jst__rdk_load(why, sizeof(why));
	CHECK(k != NULL);
	if (!k)
		return;
	char dir[] = "/tmp/jst-kprops.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char pwfile[128], cfg[128];
	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	snprintf(cfg, sizeof(cfg), "%s/kafka.conf", dir);
	FILE *f = fopen(pwfile, "w");
	fputs("s3cret pass\n", f);
	fclose(f);
	rd_kafka_conf_t *c = NULL;
	unsetenv("JOULESTREAM_KAFKA_CONFIG");
	unsetenv("JOULESTREAM_KAFKA_PASSWORD");

	/* URL options, percent-decoded, and a secret from its file */
	char url[512];
	snprintf(url, sizeof(url), "kafka://h:1/t?security.protocol=SASL_SSL&sasl.mechanism=SCRAM-SHA-512"
	         "&sasl.username=ana%%40lab&client.id=node%%207&sasl.password.file=%s", pwfile);
	CHECK_INT(props(k, &c, url, err, sizeof(err)), 0);
	CHECK_STR(prop_get(k, c, "security.protocol"), "sasl_ssl");
	CHECK_STR(prop_get(k, c, "sasl.mechanisms"), "SCRAM-SHA-512");
	CHECK_STR(prop_get(k, c, "sasl.username"), "ana@lab");
	CHECK_STR(prop_get(k, c, "client.id"), "node 7");
	CHECK_STR(prop_get(k, c, "sasl.password"), "s3cret pass");
	/* no options at all: nothing set, fine */
	CHECK_INT(props(k, &c, "kafka://h:1/t", err, sizeof(err)), 0);

	/* refused: a secret in the URL, joulestream's own keys, unknown properties, bad encoding,
	 * .file for what is not a secret, a missing secret file; the secret never echoed */
	CHECK_INT(props(k, &c, "kafka://h:1/t?sasl.password=hunter2", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "sasl.password would show in `ps`");
	CHECK(strstr(err, "hunter2") == NULL);
	CHECK_INT(props(k, &c, "kafka://h:1/t?group.id=x", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "group.id is set by joulestream");
	CHECK_INT(props(k, &c, "kafka://h:1/t?no.such.thing=1", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "librdkafka refused no.such.thing=1");
	CHECK_INT(props(k, &c, "kafka://h:1/t?client.id=%zz", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "bad option 'client.id=%zz'");
	CHECK_INT(props(k, &c, "kafka://h:1/t?client.id", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "bad option");
	CHECK_INT(props(k, &c, "kafka://h:1/t?client.id.file=/etc/hostname", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "only a secret");
	CHECK_INT(props(k, &c, "kafka://h:1/t?sasl.password.file=/nonexistent/pw", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "cannot read the secret file /nonexistent/pw");
	CHECK_INT(props(k, &c, "kafka://h:1/t?ssl.key.password=x&sasl.mechanism=PLAIN", err, sizeof(err)), -EINVAL);

	/* the configuration file: secrets allowed there; the URL comes after it; errors give the line */
	f = fopen(cfg, "w");
	fputs("# a client of the fleet's Kafka\nsecurity.protocol = SASL_PLAINTEXT\n\nsasl.mechanism=PLAIN\n"
	      "sasl.username = svc\nsasl.password = from-file\nclient.id = a\n", f);
	fclose(f);
	setenv("JOULESTREAM_KAFKA_CONFIG", cfg, 1);
	CHECK_INT(props(k, &c, "kafka://h:1/t?client.id=b", err, sizeof(err)), 0);
	CHECK_STR(prop_get(k, c, "sasl.password"), "from-file");
	CHECK_STR(prop_get(k, c, "sasl.username"), "svc");
	CHECK_STR(prop_get(k, c, "client.id"), "b");
	f = fopen(cfg, "a");
	fputs("oops\n", f);
	fclose(f);
	CHECK_INT(props(k, &c, "kafka://h:1/t", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "kafka.conf line 8: expected KEY = VALUE");
	setenv("JOULESTREAM_KAFKA_CONFIG", "/nonexistent/kafka.conf", 1);
	CHECK_INT(props(k, &c, "kafka://h:1/t", err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "cannot read JOULESTREAM_KAFKA_CONFIG /nonexistent/kafka.conf");
	unsetenv("JOULESTREAM_KAFKA_CONFIG");

	/* the password from the environment, unless one was given */
	setenv("JOULESTREAM_KAFKA_PASSWORD", "from-env", 1);
	CHECK_INT(props(k, &c, "kafka://h:1/t?sasl.username=u", err, sizeof(err)), 0);
	CHECK_STR(prop_get(k, c, "sasl.password"), "from-env");
	snprintf(url, sizeof(url), "kafka://h:1/t?sasl.password.file=%s", pwfile);
	CHECK_INT(props(k, &c, url, err, sizeof(err)), 0);
	CHECK_STR(prop_get(k, c, "sasl.password"), "s3cret pass");
	unsetenv("JOULESTREAM_KAFKA_PASSWORD");
	k->conf_destroy(c);
	unlink(pwfile);
	unlink(cfg);
	rmdir(dir);
}

static void test_key(void)
{
	char k[128];
	const char *run = "{\"v\":1,\"id\":\"R-e\",\"type\":\"run_end\",\"ts_ns\":1,\"run\":\"R1\",\"host\":\"h\",\"exit\":0,"
	                  "\"duration_s\":1}";
	CHECK_INT(jst__kafka_event_key(run, strlen(run), k, sizeof(k)), 0);
	CHECK_STR(k, "R1");
	const char *hb = "{\"v\":1,\"id\":\"A-h-0\",\"type\":\"heartbeat\",\"ts_ns\":1,\"host\":\"node7\",\"uptime_s\":1}";
	CHECK_INT(jst__kafka_event_key(hb, strlen(hb), k, sizeof(k)), 0);
	CHECK_STR(k, "node7");
	CHECK_INT(jst__kafka_event_key("nope", 4, k, sizeof(k)), -1);
}

static void test_sink_bad_url(void)
{
	struct jst_sink *s = NULL;
	char err[256] = "";
	CHECK(jst_sink_open(&s, "kafka://nohostport/t", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "bad broker") != NULL);
	CHECK(s == NULL);
}

static int offsets_fn(int32_t part, int64_t next, void *ud)
{
	int64_t *v = ud;
	if (part >= 0 && part < 4)
		v[part] = next;
	return 0;
}

static int64_t count(const char *db, const char *sql)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' '%s'", db, sql);
	FILE *f = popen(cmd, "r");
	long long n = -1;
	if (f && fscanf(f, "%lld", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static void parse(struct jst_event_batch *b, const char *nd)
{
	size_t line;
	char err[256];
	memset(b, 0, sizeof(*b));
	CHECK_INT(jst_event_batch_parse(nd, strlen(nd), 0, b, &line, err, sizeof(err)), 0);
}

static void test_store_offsets(void)
{
	char dir[] = "/tmp/jst-kafka-XXXXXX", db[64], err[256];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(db, sizeof(db), "%s/s.db", dir);
	struct jst_store *st;
	CHECK_INT(jst_store_open(&st, db, err, sizeof(err)), 0);
	const char *nd = "{\"v\":1,\"id\":\"R-s-0-0\",\"type\":\"sample\",\"ts_ns\":1700000000000000000,\"run\":\"R\","
	                 "\"host\":\"h\",\"zone\":\"gpu0\",\"zone_index\":0,\"kind\":\"gpu\",\"source\":\"nvml\","
	                 "\"dt_s\":1,\"energy_j\":10,\"share\":1}\n";
	struct jst_event_batch b;
	parse(&b, nd);
	struct jst_source_offset off[2] = {{"g", "t", 0, 5}, {"g", "t", 3, 2}};
	struct jst_source_reject rej = {"g", "t", 3, 1, "line 1: malformed JSON", "{bad", 4};
	struct jst_source_batch src = {off, 2, &rej, 1};
	struct jst_ingest_result res;
	CHECK_INT(jst_store_ingest_from(st, &b, &src, &res), 0);
	CHECK_INT(res.accepted, 1);
	int64_t v[4] = {-1, -1, -1, -1};
	CHECK_INT(jst_store_source_offsets(st, "g", "t", offsets_fn, v), 0);
	CHECK(v[0] == 5 && v[1] == -1 && v[3] == 2);
	/* a replay after a crash: the same event and refusal again, an offset moved on */
	off[0].next_offset = 9;
	CHECK_INT(jst_store_ingest_from(st, &b, &src, &res), 0);
	CHECK_INT(res.duplicates, 1);
	CHECK_INT(jst_store_source_offsets(st, "g", "t", offsets_fn, v), 0);
	CHECK_INT(v[0], 9);
	CHECK_INT(count(db, "SELECT count(*) FROM ev_source_rejects"), 1);
	/* another group's offsets are its own */
	int64_t w[4] = {-1, -1, -1, -1};
	CHECK_INT(jst_store_source_offsets(st, "other", "t", offsets_fn, w), 0);
	CHECK_INT(w[0], -1);
	/* a batch that fails stores neither its events nor its offsets: the table is dropped
	 * behind the store's back, so the offsets write fails inside the transaction */
	jst_event_batch_release(&b);
	parse(&b, "{\"v\":1,\"id\":\"R-s-1-0\",\"type\":\"sample\",\"ts_ns\":1700000001000000000,\"run\":\"R\",\"host\":\"h\","
	          "\"zone\":\"gpu0\",\"zone_index\":0,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":1,\"energy_j\":10,"
	          "\"share\":1}\n");
	CHECK_INT(count(db, "DROP TABLE ev_source_rejects; SELECT 0"), 0);
	src.noff = 1;
	off[0].next_offset = 10;
	CHECK(jst_store_ingest_from(st, &b, &src, &res) < 0);
	CHECK_INT(count(db, "SELECT count(*) FROM ev_log"), 1);
	CHECK_INT(jst_store_source_offsets(st, "g", "t", offsets_fn, v), 0);
	CHECK_INT(v[0], 9);
	jst_event_batch_release(&b);
	jst_store_close(st);
	char rm[128];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	CHECK_INT(system(rm), 0);
}

int main(void)
{
	test_urls();
	test_key();
	test_props();
	test_sink_bad_url();
	test_store_offsets();
	return check_done();
}
