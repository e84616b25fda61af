/* Event schema v1: every type parses, every field is checked (types, ranges, lengths), NaN,
 * infinities, negative energy, invalid UTF-8 and unknown versions are rejected with a reason,
 * ts_ns keeps all 64 bits, a batch is all or nothing with the bad line's number, and what the
 * encoders write parses back to the same values (phase and metric events of training marks,
 * heartbeats with their period included); the flat fast path and cJSON agree on lines
 * at the edge of what the fast path takes. */
#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "event/flat.h"
#include "event/parse.h"
#include "joulestream/event.h"

#define SAMPLE_HEAD "{\"v\":1,\"id\":\"R1-s-0-0\",\"type\":\"sample\",\"ts_ns\":1732170000123456789,\"run\":\"R1\",\"host\":\"n1\","
#define SAMPLE_TAIL "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":31.2,\"share\":1.0}"

static int parse(const char *s, struct jst_event *ev, char *err)
{
	return jst_event_parse(s, strlen(s), ev, err, 256);
}

static void expect_bad(const char *s, const char *why)
{
	struct jst_event ev;
	char err[256] = "";
	int r = parse(s, &ev, err);
	CHECK(r < 0);
	CHECK_HAS(err, why);
}

static void test_sample(void)
{
	struct jst_event ev;
	char err[256] = "";
	CHECK_INT(parse(SAMPLE_HEAD SAMPLE_TAIL, &ev, err), 0);
	CHECK_INT(ev.type, JST_EV_SAMPLE);
	CHECK(ev.ts_ns == 1732170000123456789ull); /* beyond a double's 53 bits */
	CHECK_STR(ev.run, "R1");
	CHECK_STR(ev.zone, "gpu0");
	CHECK_INT(ev.zone_index, 2);
	CHECK_INT(ev.kind, JST_KIND_GPU);
	CHECK_NEAR(ev.energy_j, 31.2, 1e-12);
	CHECK_NEAR(ev.power_w, 312.0, 1e-9); /* energy / dt when absent */
	CHECK_INT(parse(SAMPLE_HEAD "\"flags\":[\"wrap\",\"gone\"]," SAMPLE_TAIL, &ev, err), 0);
	CHECK_INT(ev.flags, JST_EVF_WRAP | JST_EVF_GONE);
	/* unknown fields are ignored */
	CHECK_INT(parse(SAMPLE_HEAD "\"future\":{\"x\":[1,2]}," SAMPLE_TAIL, &ev, err), 0);
}

static void test_rejects(void)
{
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":-1,\"share\":1}",
	           "\"energy_j\" is -1, outside");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":NaN,\"share\":1}",
	           "malformed JSON");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":1e999,\"share\":1}",
	           "not finite");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":\"5\",\"share\":1}",
	           "\"energy_j\" must be a number");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2.5,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":1,\"share\":1}",
	           "must be an integer");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":1,\"share\":1.5}",
	           "\"share\" is 1.5");
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"tpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":1,\"share\":1}",
	           "\"kind\" \"tpu\"");
	expect_bad(SAMPLE_HEAD "\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":0.1,\"energy_j\":1,\"share\":1}",
	           "missing \"zone\"");
	expect_bad("{\"v\":2,\"id\":\"a\",\"type\":\"sample\"}", "unsupported schema version v=2");
	expect_bad("{\"id\":\"a\",\"type\":\"sample\"}", "missing \"v\"");
	expect_bad("{\"v\":1,\"id\":\"a b\",\"type\":\"sample\"}", "\"id\" must be");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"nope\",\"ts_ns\":1,\"host\":\"h\"}", "unknown \"type\" \"nope\"");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\":1.5,\"run\":\"r\",\"host\":\"h\",\"exit\":0,\"duration_s\":1}", "plain non-negative integer");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\":-1,\"run\":\"r\",\"host\":\"h\",\"exit\":0,\"duration_s\":1}", "outside");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\":1,\"host\":\"h\",\"exit\":0,\"duration_s\":1}", "missing \"run\"");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\",\"exit\":0,\"duration_s\":1} x", "text after");
	expect_bad("[1,2]", "must be a JSON object");
	expect_bad("{\"v\":1,", "malformed JSON");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\xff\",\"name\":\"x\",\"edge\":\"begin\"}", "invalid UTF-8");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"\xc0\xaf\",\"name\":\"x\",\"edge\":\"begin\"}", "invalid UTF-8");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\",\"name\":\"x\",\"edge\":\"middle\"}", "\"edge\" must be");
	expect_bad("{\"v\":1,\"id\":\"a\",\"type\":\"metric\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\",\"values\":{\"loss\":\"x\"}}", "\"values\".\"loss\"");
	/* bounded strings */
	char big[600];
	int w = snprintf(big, sizeof(big), "{\"v\":1,\"id\":\"a\",\"type\":\"run_start\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\",\"user\":\"%0100d\",\"command\":[],\"interval_s\":1}", 7);
	CHECK(w > 0 && (size_t)w < sizeof(big));
	expect_bad(big, "\"user\" is longer than 63 bytes");
	/* a key named ts_ns inside a nested object or a string does not fool the exact reader */
	struct jst_event ev;
	char err[256];
	CHECK_INT(parse("{\"v\":1,\"id\":\"a\",\"type\":\"heartbeat\",\"host\":\"ts_ns\",\"x\":{\"ts_ns\":5},\"ts_ns\":42}", &ev, err), 0);
	CHECK(ev.ts_ns == 42);
}

static void test_batch(void)
{
	const char *good = "{\"v\":1,\"id\":\"a1\",\"type\":\"phase\",\"ts_ns\":1,\"run\":\"r\",\"host\":\"h\",\"name\":\"x\",\"edge\":\"begin\"}\n"
	                   "\r\n"
	                   "{\"v\":1,\"id\":\"a2\",\"type\":\"phase\",\"ts_ns\":2,\"run\":\"r\",\"host\":\"h\",\"name\":\"x\",\"edge\":\"end\"}\n";
	struct jst_event_batch b = {0};
	size_t line = 0;
	char err[256] = "";
	CHECK_INT(jst_event_batch_parse(good, strlen(good), 0, &b, &line, err, sizeof(err)), 0);
	CHECK_INT(b.n, 2);
	CHECK_STR(b.ev[1].id, "a2");
	char bad[1024];
	snprintf(bad, sizeof(bad), "%s{\"v\":1,\"id\":\"a3\"}\n", good);
	CHECK(jst_event_batch_parse(bad, strlen(bad), 0, &b, &line, err, sizeof(err)) < 0);
	CHECK_INT(b.n, 0); /* nothing of a rejected batch */
	CHECK_INT(line, 4);
	CHECK_INT(jst_event_batch_parse(good, strlen(good), 1, &b, &line, err, sizeof(err)), -E2BIG);
	CHECK_INT(b.n, 0);
	jst_event_batch_release(&b);
}

static void test_encode_roundtrip(void)
{
	struct jst_run *run = calloc(1, sizeof(*run));
	strcpy(run->id, "01JD5ZABCDEFGHJKMNPQRSTVWX");
	strcpy(run->meta.host, "node\"1");
	strcpy(run->meta.user, "ana");
	strcpy(run->site.zone_code, "DE");
	run->start_ns = 1732170000000000000ull;
	run->interval_s = 0.1;
	run->site.pue = 1.2;
	run->site.wue_l_per_kwh = 0.3;
	run->nzones = 1;
	strcpy(run->zones[0].zone.name, "package-0");
	run->zones[0].zone.kind = JST_KIND_PACKAGE;
	run->zones[0].zone.source = "rapl";
	run->zones[0].zone.flags = JST_ZONE_COUNTED;
	char line[8192];
	char a0[] = "python3", a1[] = "train.py", a2[] = "--lr=0.1";
	char *argv[] = {a0, a1, a2};
	int n = jst_event_encode_run_start(run, "llama", 3, argv, line, sizeof(line));
	CHECK(n > 0);
	struct jst_event ev;
	char err[256] = "";
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_STR(ev.id, "01JD5ZABCDEFGHJKMNPQRSTVWX-b");
	CHECK_STR(ev.host, "node\"1");
	CHECK_STR(ev.model, "llama");
	CHECK_NEAR(ev.pue, 1.2, 0);
	struct jst_sample s = {1.0, 0.1, 0, JST_READ_ENERGY | JST_READ_WRAP, 3.3, 1.1, 33.0, 0};
	n = jst_event_encode_sample(run, &s, 7, line, sizeof(line));
	CHECK(n > 0);
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_STR(ev.id, "01JD5ZABCDEFGHJKMNPQRSTVWX-s-7-0");
	CHECK(ev.ts_ns == 1732170001100000000ull);
	CHECK(ev.energy_j == 3.3);
	CHECK_NEAR(ev.energy_j * ev.share, 1.1, 1e-12);
	CHECK_INT(ev.flags, JST_EVF_WRAP);
	run->end_ns = run->start_ns + 5;
	jst_run_note(run, "a \"quoted\" note");
	n = jst_event_encode_run_end(run, line, sizeof(line));
	CHECK(n > 0);
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_INT(ev.type, JST_EV_RUN_END);
	char again[8192];
	n = jst_event_encode(&ev, again, sizeof(again));
	struct jst_event ev2;
	CHECK_INT(jst_event_parse(again, (size_t)n, &ev2, err, sizeof(err)), 0);
	CHECK(ev2.ts_ns == ev.ts_ns);
	CHECK_INT(jst_event_encode_sample(run, &s, 7, line, 40), -ENOSPC);
	free(run);
}

/* The events of `run --sink` for training marks, and a heartbeat's announced period. */
static void test_encode_marks(void)
{
	struct jst_run *run = calloc(1, sizeof(*run));
	strcpy(run->id, "01JD5ZABCDEFGHJKMNPQRSTVWX");
	strcpy(run->meta.host, "n1");
	char line[4096], err[256] = "";
	struct jst_event ev;
	int n = jst_event_encode_phase(run, "train/forward", true, 1732170000123456789ull, 4, line, sizeof(line));
	CHECK(n > 0);
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_INT(ev.type, JST_EV_PHASE);
	CHECK_STR(ev.id, "01JD5ZABCDEFGHJKMNPQRSTVWX-p-4");
	CHECK_STR(ev.run, "01JD5ZABCDEFGHJKMNPQRSTVWX");
	CHECK_STR(ev.name, "train/forward");
	CHECK(ev.begin);
	CHECK(ev.ts_ns == 1732170000123456789ull);
	n = jst_event_encode_phase(run, "eval", false, 5, 5, line, sizeof(line));
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK(!ev.begin);

	struct jst_mark mk;
	CHECK_INT(jst_mark_parse("metric - loss=0.25 acc=nan lr=1e-3", 34, &mk, NULL), 0);
	n = jst_event_encode_metric(run, &mk, 12, 3, 7, 0, line, sizeof(line));
	CHECK(n > 0);
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_STR(ev.id, "01JD5ZABCDEFGHJKMNPQRSTVWX-m-0");
	CHECK_INT(ev.step, 12);
	CHECK_INT(ev.epoch, 3);
	CHECK_INT(ev.nvalues, 2); /* NaN left out: JSON cannot carry it */
	CHECK_HAS(line, "\"values\":{\"loss\":0.25,\"lr\":0.001}");
	n = jst_event_encode_metric(run, &mk, -1, -1, 7, 1, line, sizeof(line));
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_INT(ev.step, -1);
	CHECK_INT(ev.epoch, -1);
	CHECK_INT(jst_mark_parse("metric - acc=inf", 16, &mk, NULL), 0);
	CHECK_INT(jst_event_encode_metric(run, &mk, -1, -1, 7, 2, line, sizeof(line)), -EINVAL);
	CHECK_INT(jst_event_encode_phase(run, "train", true, 1, 0, line, 40), -ENOSPC);

	n = jst_event_encode_heartbeat("AG1", 3, "n1", 12.5, 60, line, sizeof(line));
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_INT(ev.type, JST_EV_HEARTBEAT);
	CHECK_NEAR(ev.interval_s, 60, 0);
	char again[4096];
	n = jst_event_encode(&ev, again, sizeof(again));
	CHECK_INT(jst_event_parse(again, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_NEAR(ev.interval_s, 60, 0);
	n = jst_event_encode_heartbeat("AG1", 4, "n1", 12.5, 0, line, sizeof(line));
	CHECK_INT(jst_event_parse(line, (size_t)n, &ev, err, sizeof(err)), 0);
	CHECK_NEAR(ev.interval_s, 0, 0);
	expect_bad("{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":3,\"host\":\"h\",\"interval_s\":-1}",
	           "interval_s");
	free(run);
}

/* Lines at the edge of the flat scanner (src/event/flat.c): the answer, error text included,
 * must be cJSON's whichever path reads them. */
static void test_flat_agrees(void)
{
	static const char *const lines[] = {
		SAMPLE_HEAD SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":+1," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":01," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":.5," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":1.," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":1e999," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":-0," SAMPLE_TAIL,
		SAMPLE_HEAD "\"power_w\":0.0000000000000000000000000000000000000000000000000000000000001," SAMPLE_TAIL,
		SAMPLE_HEAD "\"host\":\"dup\"," SAMPLE_TAIL,
		SAMPLE_HEAD "\"zone\":\"g\\u0000x\"," SAMPLE_TAIL,
		SAMPLE_HEAD "\"estimate\":null," SAMPLE_TAIL,
		SAMPLE_HEAD "\"flags\":[\"wrap\"]," SAMPLE_TAIL,
		SAMPLE_HEAD "\"flags\":\"wrap\"," SAMPLE_TAIL,
		"\xef\xbb\xbf" SAMPLE_HEAD SAMPLE_TAIL,
		"\r" SAMPLE_HEAD SAMPLE_TAIL,
		SAMPLE_HEAD "\"x\"\r:1," SAMPLE_TAIL,
		"{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\": 7 ,\"run\":\"r\",\"host\":\"h\",\"exit\":0,"
		"\"duration_s\":1}\t\r",
		"{\"v\":1,\"id\":\"a\",\"type\":\"run_end\",\"ts_ns\":7\r,\"run\":\"r\",\"host\":\"h\",\"exit\":0,"
		"\"duration_s\":1}",
		"{\"v\":1,\"id\":\"a\",\"type\":\"run_start\",\"ts_ns\":7,\"run\":\"r\",\"host\":\"h\","
		"\"command\":\"train\",\"interval_s\":1}",
		"{\"v\":1.0,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":1e3,\"host\":\"h\"}",
		"{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":3,\"host\":\"h\"} x",
		"{}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct jst_event a, b;
		char ea[256] = "", eb[256] = "";
		size_t n = strlen(lines[i]);
		int ra = jst__event_parse_with(lines[i], n, &a, ea, sizeof(ea), true);
		int rb = jst__event_parse_with(lines[i], n, &b, eb, sizeof(eb), false);
		CHECK_INT(ra, rb);
		CHECK_STR(ea, eb);
		/* a mark's message is compared as a string: a parse clears only what precedes it */
		CHECK(memcmp(&a, &b, offsetof(struct jst_event, mark)) == 0);
		CHECK_STR(a.mark, b.mark);
	}
	/* numbers the flat path converts itself (jst__flat_number) must be strtod's, bit for bit */
	uint64_t x = 88172645463325252ull;
	int differ = 0;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		char num[40], line[512];
		unsigned digits = 1 + (unsigned)(x % 17), point = (unsigned)(x >> 8) % (digits + 1);
		int e = (int)((x >> 16) % 61) - 30;
		size_t k = 0;
		for (unsigned d = 0; d < digits; d++) {
			if (d == point && d > 0)
				num[k++] = '.';
			num[k++] = (char)('0' + (d == 0 && digits > 1 && point != 1 ? 1 + (x >> (20 + d)) % 9
										   : (x >> (20 + d)) % 10));
		}
		if ((x >> 40) & 1)
			k += (size_t)snprintf(num + k, sizeof(num) - k, "e%d", e);
		num[k] = '\0';
		snprintf(line, sizeof(line), SAMPLE_HEAD "\"dt_s\":%s," SAMPLE_TAIL, num);
		struct jst_event a, b;
		char ea[256] = "", eb[256] = "";
		int ra = jst__event_parse_with(line, strlen(line), &a, ea, sizeof(ea), true);
		int rb = jst__event_parse_with(line, strlen(line), &b, eb, sizeof(eb), false);
		differ += ra != rb || strcmp(ea, eb) != 0 || memcmp(&a, &b, offsetof(struct jst_event, mark)) != 0;
		struct jst_flat_member m = {.val = num, .vlen = k, .kind = JST_FLAT_NUM};
		double fast = jst__flat_number(&m), slow = strtod(num, NULL);
		differ += memcmp(&fast, &slow, sizeof(fast)) != 0;
	}
	CHECK_INT(differ, 0);
	/* findings of the fuzz target, fixed: a derived power past the written one's bound, and a
	 * heartbeat's run id that no other event could carry */
	expect_bad(SAMPLE_HEAD "\"zone\":\"gpu0\",\"zone_index\":2,\"kind\":\"gpu\",\"source\":\"nvml\",\"dt_s\":1e-9,"
	           "\"energy_j\":31.2,\"share\":1.0}", "above 1e9 W");
	/* issue 12's hardening: a member given twice (at any depth, escaped or not, on the flat
	 * path and cJSON's), a \u0000 inside a string, a time past 2099 or past 2^63 */
	expect_bad(SAMPLE_HEAD "\"energy_j\":-1," SAMPLE_TAIL, "duplicate member \"energy_j\"");
	expect_bad(SAMPLE_HEAD "\"energy_j\":5,\"x\":[1]," SAMPLE_TAIL, "duplicate member \"energy_j\"");
	expect_bad(SAMPLE_HEAD "\"\\u0065nergy_j\":5," SAMPLE_TAIL, "duplicate member \"energy_j\"");
	expect_bad(SAMPLE_HEAD "\"x\":{\"a\":1,\"b\":{\"c\":1,\"c\":2}}," SAMPLE_TAIL, "duplicate member \"c\"");
	expect_bad("{\"v\":1,\"id\":\"R1-s\",\"type\":\"run_start\",\"ts_ns\":1732170000000000000,\"run\":\"R1\","
	           "\"host\":\"n1\\u0000evil\"}", "\\u0000 (NUL) in a string");
	expect_bad("{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":4102444800000000000,\"host\":\"h\"}",
	           "not a plausible time");
	expect_bad("{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":9223372036854775808,\"host\":\"h\"}",
	           "not a plausible time");
	{ /* an escaped backslash before "u0000" is text, not a NUL; the last plausible time */
		struct jst_event ev;
		char err[256] = "";
		CHECK_INT(parse("{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":4102444799999999999,"
		                "\"host\":\"h\\\\u0000\"}", &ev, err), 0);
		CHECK_STR(ev.host, "h\\u0000");
	}
	expect_bad("{\"v\":1,\"id\":\"h1\",\"type\":\"heartbeat\",\"ts_ns\":3,\"host\":\"h\",\"run\":\"a b\"}",
		   "\"run\" must be");
}

int main(void)
{
	test_sample();
	test_rejects();
	test_batch();
	test_encode_roundtrip();
	test_encode_marks();
	test_flat_agrees();
	return check_done();
}
