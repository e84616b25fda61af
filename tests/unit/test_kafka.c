/* The Kafka pieces that need no broker: kafka:// URLs (good ones split into brokers and topic,
 * bad ones refused with a reason), the message key of an event (run id, else host), the sink
 * refusing a bad URL before loading anything, and the SQLite store keeping a source's offsets
 * and refused messages in the batch's own transaction: committed together, an offset updated,
 * a refused message replayed after a crash recorded once, and a failed batch storing neither
 * its events nor its offsets. */
#include <errno.h>
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
	url_bad("kafka://h:1/a?acks=1", "bad character '?'");
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
	test_sink_bad_url();
	test_store_offsets();
	return check_done();
}
