/* Intensity series: ISO 8601 instants (offsets, fractions, what is rejected), SHA-256 test
 * vectors (FIPS 180-4 examples), the CSV format (several zones, any order, the last value's
 * length), a bad line anywhere rejects the whole file with the file and line named, the
 * Electricity Maps formats (history, forecast, past-range, latest) and WattTime v3 (lbs/MWh
 * to g/kWh, units, period, signal), and the lookup of the value in force at an instant. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/isotime.h"
#include "core/sha256.h"
#include "joulestream/intensity.h"

#define S 1000000000LL
#define T0 1709251200LL /* 2024-03-01T00:00:00Z */

static int64_t iso(const char *s)
{
	int64_t ns = -1;
	const char *why = NULL;
	if (jst__parse_iso8601(s, strlen(s), &ns, &why) < 0)
		return -1;
	return ns;
}

static void test_iso8601(void)
{
	const char *why = NULL;
	int64_t ns;
	CHECK_INT(iso("2024-03-01T00:00:00Z"), T0 * S);
	CHECK_INT(iso("2024-03-01T00:00Z"), T0 * S);
	CHECK_INT(iso("2024-03-01 01:00:00+01:00"), T0 * S);
	CHECK_INT(iso("2024-03-01T01:00:00+0100"), T0 * S);
	CHECK_INT(iso("2024-02-29T19:00:00-05"), T0 * S);
	CHECK_INT(iso("  2024-03-01T00:00:00.250Z "), T0 * S + 250000000);
	CHECK_INT(iso("2024-03-01T00:00:00.123456789123z"), T0 * S + 123456789);
	CHECK_INT(iso("1970-01-01T00:00:00Z"), 0);
	CHECK_INT(iso("2024-02-29T00:00:00Z"), (T0 - 86400) * S);
	CHECK_INT(iso("2023-02-29T00:00:00Z"), -1); /* not a leap year */
	CHECK_INT(iso("2024-13-01T00:00:00Z"), -1);
	CHECK_INT(iso("2024-03-01"), -1);
	CHECK_INT(iso("2024-03-01T24:00:00Z"), -1);
	CHECK_INT(iso("2024-03-01T00:00:00Zjunk"), -1);
	CHECK_INT(jst__parse_iso8601("2024-03-01T00:00:00", 19, &ns, &why), -EINVAL);
	CHECK_HAS(why, "no time zone offset");
	/* bounded: the parser stops at n, whatever follows */
	CHECK_INT(jst__parse_iso8601("2024-03-01T00:00:00Z9999", 20, &ns, &why), 0);
	CHECK_INT(ns, T0 * S);
	char out[32];
	jst__format_iso8601(T0 * S + 5, out, sizeof(out));
	CHECK_STR(out, "2024-03-01T00:00:00Z");
}

static void test_sha256(void)
{
	char hex[65];
	jst__sha256_hex("", 0, hex, 64);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	jst__sha256_hex("abc", 3, hex, 64);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	jst__sha256_hex(m, strlen(m), hex, 64);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	jst__sha256_hex("abc", 3, hex, 12);
	CHECK_STR(hex, "ba7816bf8f01");
}

static struct jst_ci_file *parse(const char *text, const char *name, char *err, size_t n)
{
	struct jst_ci_file *f = NULL;
	err[0] = '\0';
	int r = jst_ci_parse(text, strlen(text), name, NULL, &f, err, n);
	if (r < 0) {
		CHECK(f == NULL);
		return NULL;
	}
	return f;
}

static void test_csv(void)
{
	char err[512];
	/* two zones interleaved and out of order; a comment; CRLF */
	struct jst_ci_file *f = parse("datetime,zone,ci_g_per_kwh\r\n"
	                              "2024-03-01T01:00:00Z,DE,200\r\n"
	                              "# a comment\n"
	                              "2024-03-01T00:00:00Z,de,100\n"
	                              "2024-03-01T00:00:00Z,FR,40\n"
	                              "2024-03-01T03:00:00+01:00,DE,300\n",
	                              "ci.csv", err, sizeof(err));
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(jst_ci_count(f), 2);
	const struct jst_series *de = jst_ci_select(f, "DE"), *fr = jst_ci_select(f, "fr");
	CHECK(de && fr && !jst_ci_select(f, "PL"));
	if (de && fr) {
		CHECK_INT(de->n, 3);
		CHECK_INT(de->pts[0].t_ns, T0 * S);
		CHECK_NEAR(de->pts[0].ci_g_per_kwh, 100, 0);
		CHECK_INT(de->pts[2].t_ns, (T0 + 7200) * S); /* 03:00+01:00 */
		CHECK_NEAR(de->pts[2].ci_g_per_kwh, 300, 0);
		CHECK_INT(de->last_ns, 3600 * S); /* the last value holds as long as the one before */
		CHECK_INT(fr->n, 1);
		CHECK_INT(fr->last_ns, 3600 * S); /* one value: an hour */
		CHECK_HAS(de->version, "file:ci.csv@sha256:");
		CHECK_HAS(de->source, "file ci.csv");
	}
	jst_ci_free(f);
}

/* A bad line anywhere: an error naming the file and the line, and nothing returned. */
static void bad(const char *text, const char *want)
{
	char err[512];
	struct jst_ci_file *f = parse(text, "bad.csv", err, sizeof(err));
	CHECK(f == NULL);
	CHECK_HAS(err, want);
	jst_ci_free(f);
}

static void test_csv_errors(void)
{
	const char *h = "datetime,zone,ci_g_per_kwh\n";
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,DE,100\n2024-03-01T01:00:00,DE,200\n"
	         "2024-03-01T02:00:00Z,DE,300\n", h);
	bad(buf, "bad.csv: line 3: bad datetime '2024-03-01T01:00:00': no time zone offset");
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,DE,100\n2024-03-01T01:00:00Z,DE,-5\n", h);
	bad(buf, "bad.csv: line 3: ci_g_per_kwh must be a number from 0 to 5000");
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,DE,12abc\n", h);
	bad(buf, "bad.csv: line 2: ci_g_per_kwh");
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,DE\n", h);
	bad(buf, "bad.csv: line 2: 2 fields, the header has 3");
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,D E,10\n", h);
	bad(buf, "bad.csv: line 2: bad zone");
	snprintf(buf, sizeof(buf), "%s2024-03-01T00:00:00Z,DE,10\n2024-03-01T01:00:00+01:00,DE,20\n", h);
	bad(buf, "bad.csv: line 3: two values for 2024-03-01T00:00:00Z in zone DE (line 2 and line 3)");
	bad("time,zone,ci\n2024-03-01T00:00:00Z,DE,10\n", "bad.csv: line 1: ");
	bad("datetime,zone,ci_g_per_kwh\n", "bad.csv: no intensity values");
	bad("datetime,zone,ci_g_per_kwh\n\"2024-03-01T00:00:00Z,DE,10\n", "bad.csv: line 2");
}

static void test_electricitymaps(void)
{
	char err[512];
	struct jst_ci_file *f = parse(
		"{\"zone\":\"DE\",\"history\":[{\"zone\":\"DE\",\"carbonIntensity\":302,"
		"\"datetime\":\"2024-03-01T00:00:00.000Z\",\"updatedAt\":\"x\",\"isEstimated\":false},"
		"{\"carbonIntensity\":310.5,\"datetime\":\"2024-03-01T01:00:00.000Z\"}]}",
		"em.json", err, sizeof(err));
	CHECK(f != NULL);
	const struct jst_series *s = jst_ci_select(f, "de");
	CHECK(s && s->n == 2 && s->pts[1].ci_g_per_kwh == 310.5 && s->pts[0].t_ns == T0 * S);
	CHECK_HAS(s ? s->source : NULL, "Electricity Maps history DE");
	CHECK(jst_ci_select(f, "FR") == NULL); /* a zone's history is that zone's */
	jst_ci_free(f);
	/* a US state's series is its balancing area's */
	CHECK_STR(jst_zone_series_code("US-TX"), "US-TEX-ERCO");
	CHECK_STR(jst_zone_series_code("DE"), "DE");
	f = parse("{\"zone\":\"US-TEX-ERCO\",\"history\":[{\"carbonIntensity\":377,\"datetime\":"
	          "\"2024-03-01T00:00:00Z\"}]}", "ercot.json", err, sizeof(err));
	CHECK(jst_ci_select(f, "us-tx") != NULL && jst_ci_select(f, "US-CA") == NULL);
	jst_ci_free(f);
	f = parse("{\"zone\":\"FR\",\"forecast\":[{\"carbonIntensity\":40,\"datetime\":"
	          "\"2024-03-01T00:00:00Z\"}],\"updatedAt\":\"2024-03-01T00:00:00Z\"}", "fc.json", err,
	          sizeof(err));
	CHECK(f && jst_ci_select(f, "FR") && strstr(jst_ci_select(f, "FR")->source, "forecast"));
	jst_ci_free(f);
	f = parse("{\"zone\":\"DE\",\"carbonIntensity\":302,\"datetime\":\"2024-03-01T00:00:00.000Z\","
	          "\"updatedAt\":\"2024-03-01T00:10:00Z\",\"emissionFactorType\":\"lifecycle\","
	          "\"isEstimated\":true}", "latest.json", err, sizeof(err));
	s = jst_ci_select(f, "DE");
	CHECK(s && s->n == 1 && s->pts[0].ci_g_per_kwh == 302 && s->last_ns == 3600 * S);
	CHECK_HAS(s ? s->source : NULL, "latest DE, lifecycle");
	jst_ci_free(f);
	f = parse("{\"zone\":\"DE\",\"data\":[{\"zone\":\"DE\",\"carbonIntensity\":1,\"datetime\":"
	          "\"2024-03-01T00:00:00Z\"}]}", "range.json", err, sizeof(err));
	CHECK(f && strstr(jst_ci_at(f, 0)->source, "past-range"));
	jst_ci_free(f);
	/* errors name the JSON path; a null value, a bad time, garbage */
	f = parse("{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":1,\"datetime\":"
	          "\"2024-03-01T00:00:00Z\"},{\"carbonIntensity\":null,\"datetime\":"
	          "\"2024-03-01T01:00:00Z\"}]}", "em.json", err, sizeof(err));
	CHECK(f == NULL);
	CHECK_HAS(err, "em.json: $.history[1].carbonIntensity: null");
	f = parse("{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":1,\"datetime\":\"yesterday\"}]}",
	          "em.json", err, sizeof(err));
	CHECK_HAS(err, "em.json: $.history[0].datetime: bad datetime 'yesterday'");
	f = parse("{\"zone\":\"DE\",\n\"history\": [1, }", "em.json", err, sizeof(err));
	CHECK_HAS(err, "em.json: invalid JSON at line 2");
	f = parse("{\"error\":\"Invalid auth-token\"}", "em.json", err, sizeof(err));
	CHECK_HAS(err, "the service answered with an error: Invalid auth-token");
	f = parse("{\"zone\":\"DE\",\"history\":[]}", "em.json", err, sizeof(err));
	CHECK_HAS(err, "$.history: an empty array");
	f = parse("<html>502 Bad Gateway</html>", "em.json", err, sizeof(err));
	CHECK_HAS(err, "em.json: line 1: ");
}

static void test_watttime(void)
{
	char err[512];
	struct jst_ci_file *f = parse(
		"{\"data\":[{\"point_time\":\"2024-03-01T00:00:00+00:00\",\"value\":1000.0},"
		"{\"point_time\":\"2024-03-01T00:05:00+00:00\",\"value\":500}],"
		"\"meta\":{\"data_point_period_seconds\":300,\"region\":\"CAISO_NORTH\","
		"\"signal_type\":\"co2_moer\",\"units\":\"lbs_co2_per_mwh\",\"model\":{\"date\":\"2023-03-01\"}}}",
		"wt.json", err, sizeof(err));
	CHECK(f != NULL);
	const struct jst_series *s = jst_ci_select(f, "US-CAL-CISO"); /* WattTime names no zone */
	CHECK(s != NULL);
	if (s) {
		CHECK_NEAR(s->pts[0].ci_g_per_kwh, 453.59237, 1e-9); /* 1000 lbs/MWh */
		CHECK_NEAR(s->pts[1].ci_g_per_kwh, 226.796185, 1e-9);
		CHECK_INT(s->last_ns, 300 * S);
		CHECK_HAS(s->source, "WattTime v3 co2_moer CAISO_NORTH (marginal emissions)");
	}
	jst_ci_free(f);
	f = parse("{\"data\":[{\"point_time\":\"2024-03-01T00:00:00Z\",\"value\":400}],"
	          "\"meta\":{\"units\":\"g_co2_per_kwh\",\"signal_type\":\"co2_aoer\"}}", "wt.json",
	          err, sizeof(err));
	CHECK(f && jst_ci_at(f, 0)->pts[0].ci_g_per_kwh == 400);
	CHECK_HAS(f ? jst_ci_at(f, 0)->source : NULL, "average emissions");
	jst_ci_free(f);
	f = parse("{\"data\":[{\"point_time\":\"2024-03-01T00:00:00Z\",\"value\":4}],"
	          "\"meta\":{\"units\":\"furlongs\"}}", "wt.json", err, sizeof(err));
	CHECK_HAS(err, "wt.json: $.meta.units: unknown unit 'furlongs'");
	f = parse("{\"data\":[{\"point_time\":\"2024-03-01T00:00:00Z\",\"value\":4}],"
	          "\"meta\":{\"signal_type\":\"health_damage\"}}", "wt.json", err, sizeof(err));
	CHECK_HAS(err, "is not a CO2 signal");
	f = parse("{\"data\":[{\"point_time\":\"2024-03-01T00:00:00Z\",\"value\":\"x\"}],\"meta\":{}}",
	          "wt.json", err, sizeof(err));
	CHECK_HAS(err, "wt.json: $.data[0].value: missing or not a number");
}

static void test_find(void)
{
	char err[256];
	struct jst_ci_file *f = parse("datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,100\n"
	                              "2024-03-01T01:00:00Z,DE,200\n2024-03-01T01:30:00Z,DE,300\n",
	                              "f.csv", err, sizeof(err));
	const struct jst_series *s = jst_ci_select(f, "DE");
	CHECK(s != NULL);
	if (!s)
		return;
	size_t hint = 0;
	CHECK_INT(jst_series_find(s, T0 * S - 1, &hint), -1);
	CHECK_INT(jst_series_find(s, T0 * S, &hint), 0);
	CHECK_INT(jst_series_find(s, (T0 + 3599) * S, &hint), 0);
	CHECK_INT(jst_series_find(s, (T0 + 3600) * S, &hint), 1); /* a boundary belongs to the next */
	CHECK_INT(jst_series_find(s, (T0 + 5400) * S, &hint), 2);
	CHECK_INT(jst_series_end(s, 2), (T0 + 7200) * S);          /* 30 min, like the gap before */
	CHECK_INT(jst_series_find(s, (T0 + 7199) * S, NULL), 2);
	CHECK_INT(jst_series_find(s, (T0 + 7200) * S, &hint), -1); /* expired */
	CHECK_INT(jst_series_find(s, (T0 + 10) * S, &hint), 0);    /* going back works too */
	jst_ci_free(f);
}

int main(void)
{
	test_iso8601();
	test_sha256();
	test_csv();
	test_csv_errors();
	test_electricitymaps();
	test_watttime();
	test_find();
	return check_done();
}
