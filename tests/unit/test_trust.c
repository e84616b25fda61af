/* The trust module without a machine: the integrity checker fed synthetic readings (each flag
 * provoked, a clean run unflagged, wall-clock steps against the monotonic clock), the idle
 * floor, DSSE's PAE against the specification's example, Ed25519 through libsodium against
 * RFC 8032's first test vector, DSSE sign/verify and its failures, key files, subjects, and
 * the statement read back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "joulestream/trust.h"
#include "trust/integrity.h"

#define S 1000000000ull

static struct jst_run run;

static void zones(void)
{
	memset(&run, 0, sizeof(run));
	run.nzones = 2;
	snprintf(run.zones[0].zone.name, JST_NAME_MAX, "package-0");
	run.zones[0].zone.kind = JST_KIND_PACKAGE;
	run.zones[0].zone.flags = JST_ZONE_COUNTED | JST_ZONE_BY_CPU;
	run.zones[0].zone.max_power_w = 100;
	run.zones[0].zone.source = "rapl";
	snprintf(run.zones[1].zone.name, JST_NAME_MAX, "gpu0");
	run.zones[1].zone.kind = JST_KIND_GPU;
	run.zones[1].zone.flags = JST_ZONE_COUNTED | JST_ZONE_BY_GPU;
	run.zones[1].zone.max_power_w = 300;
	run.zones[1].zone.source = "nvml";
}

static const struct jst_run_flag *flag(enum jst_flag_kind k, const char *zone)
{
	for (size_t i = 0; i < run.nflags; i++)
		if (run.flags[i].kind == k && strcmp(run.flags[i].zone, zone) == 0)
			return &run.flags[i];
	return NULL;
}

/* ticks of 0.1 s; rd[z] per tick from fn */
typedef void (*reading_fn)(unsigned tick, struct jst_reading rd[2]);

static void play(reading_fn fn, unsigned ticks, const uint64_t *wall_steps)
{
	struct jst__integrity *ig;
	CHECK_INT(jst__integrity_new(&ig, 2, 0.1), 0);
	uint64_t mono = 1000 * S, wall = 1700000000ull * S;
	jst__integrity_start(ig, mono, wall);
	for (unsigned t = 1; t <= ticks; t++) {
		struct jst_reading rd[2];
		fn(t, rd);
		mono += S / 10;
		wall += S / 10 + (wall_steps ? wall_steps[t] : 0);
		jst__integrity_tick(ig, &run, mono, wall, rd);
	}
	run.duration_s = ticks / 10.0;
	jst__integrity_finish(ig, &run, mono, 0);
	jst__integrity_free(ig);
}

static void good(unsigned t, struct jst_reading rd[2])
{
	(void)t;
	rd[0] = (struct jst_reading){5.0, 50, JST_READ_ENERGY};   /* 50 W */
	rd[1] = (struct jst_reading){20.0, 200, JST_READ_ENERGY}; /* 200 W */
}

static void troubled(unsigned t, struct jst_reading rd[2])
{
	good(t, rd);
	if (t >= 10 && t < 20) /* package-0 silent for 1 s, then back: a sensor gap */
		rd[0] = (struct jst_reading){0, 0, JST_READ_FAILED};
	if (t == 25)
		rd[0] = (struct jst_reading){0, 0, JST_READ_BACKWARDS};
	if (t >= 30 && t < 45) /* gpu0 at 500 W for 1.5 s: above 300 W x 1.25 */
		rd[1] = (struct jst_reading){50.0, 500, JST_READ_ENERGY};
	if (t >= 50) /* then it vanishes */
		rd[1] = (struct jst_reading){0, 0, JST_READ_FAILED | JST_READ_GONE};
}

static void late_start(unsigned t, struct jst_reading rd[2])
{
	good(t, rd);
	if (t < 8)
		rd[1] = (struct jst_reading){0, 0, JST_READ_FAILED}; /* appears 0.7 s in */
	if (t > 20)
		rd[0] = (struct jst_reading){0, 0, JST_READ_FAILED}; /* fails to the end */
}

static void test_integrity(void)
{
	zones();
	play(good, 30, NULL);
	CHECK_INT(run.nflags, 0);

	zones();
	play(troubled, 60, NULL);
	const struct jst_run_flag *f = flag(JST_FLAG_SENSOR_GAP, "package-0");
	CHECK(f != NULL);
	if (f) {
		CHECK_INT(f->count, 1);
		CHECK_NEAR(f->value, 1.1, 1e-6); /* from the end of tick 9 to the end of tick 20 */
		CHECK_HAS(f->reason, "its counter's energy arrived with the next read");
	}
	f = flag(JST_FLAG_BACKWARDS, "package-0");
	CHECK(f && f->count == 1);
	f = flag(JST_FLAG_POWER, "gpu0");
	CHECK(f != NULL);
	if (f) {
		CHECK(f->value >= 375 && f->value <= 500.001);
		CHECK_NEAR(f->limit, 375, 1e-9);
		CHECK_HAS(f->reason, "above its limit 300 W");
	}
	f = flag(JST_FLAG_GONE, "gpu0");
	CHECK(f && f->first_s > 4.9 && f->first_s < 5.1);
	CHECK(flag(JST_FLAG_FAILED, "gpu0") == NULL); /* gone, not failed */
	CHECK(flag(JST_FLAG_GAP, "") == NULL);

	zones();
	play(late_start, 40, NULL);
	f = flag(JST_FLAG_APPEARED, "gpu0");
	CHECK(f && f->value > 0.6 && f->value < 0.8);
	f = flag(JST_FLAG_FAILED, "package-0");
	CHECK(f && f->seconds > 1.9 && f->seconds < 2.1);

	/* the wall clock steps one hour forward at tick 5, and 0.3 s back at tick 12; NTP-sized
	 * slewing (0.01 % of each tick) is not a step */
	uint64_t steps[31] = {0};
	steps[5] = 3600 * S;
	for (int i = 6; i < 31; i++)
		steps[i] = 10000; /* 10 µs per 0.1 s */
	zones();
	play(good, 30, steps);
	f = flag(JST_FLAG_CLOCK, "");
	CHECK(f && f->count == 1 && f->value > 3599 && f->value < 3601);
	uint64_t back[31] = {0};
	back[12] = (uint64_t) - (int64_t)(S * 3 / 10);
	zones();
	play(good, 30, back);
	f = flag(JST_FLAG_CLOCK, "");
	CHECK(f && f->count == 1 && f->value > 0.29 && f->value < 0.31);
}

static void test_gap_estimate_unstored(void)
{
	struct jst__integrity *ig;
	struct jst_reading rd[2];
	zones();
	run.zones[0].zone.flags |= JST_ZONE_ESTIMATE;
	CHECK_INT(jst__integrity_new(&ig, 2, 0.1), 0);
	jst__integrity_start(ig, 10 * S, 20 * S);
	good(1, rd);
	jst__integrity_tick(ig, &run, 10 * S + S / 10, 20 * S + S / 10, rd);
	jst__integrity_tick(ig, &run, 12 * S + S / 10, 22 * S + S / 10, rd); /* 2 s late: a gap */
	jst__integrity_tick(ig, &run, 12 * S + S / 5, 22 * S + S / 5, rd);
	jst__integrity_finish(ig, &run, 12 * S + S / 5, 7);
	jst__integrity_free(ig);
	const struct jst_run_flag *f = flag(JST_FLAG_GAP, "");
	CHECK(f && f->count == 1);
	if (f) {
		CHECK_NEAR(f->value, 2.0, 1e-9);
		CHECK_NEAR(f->limit, 0.3, 1e-9); /* 3 intervals */
		CHECK_HAS(f->reason, "sampling came late 1 time");
	}
	f = flag(JST_FLAG_ESTIMATE, "");
	CHECK(f && strstr(f->reason, "partly estimated: package-0 modelled"));
	f = flag(JST_FLAG_UNSTORED, "");
	CHECK(f && f->count == 7);
	CHECK(flag(JST_FLAG_SENSOR_GAP, "package-0") ==
	      NULL); /* the loop's gap, not the sensor's */

	run.zones[1].zone.flags |= JST_ZONE_ESTIMATE;
	CHECK_INT(jst__integrity_new(&ig, 2, 1.0), 0);
	jst__integrity_start(ig, 0, 0);
	jst__integrity_tick(ig, &run, S, S, rd);
	jst__integrity_finish(ig, &run, S, 0);
	jst__integrity_free(ig);
	f = flag(JST_FLAG_ESTIMATE, "");
	CHECK(f && strstr(f->reason, "measured only by estimate"));
	CHECK_NEAR(jst__gap_threshold_s(1.0), 3.0, 1e-12);
	CHECK_NEAR(jst__gap_threshold_s(0.01), 0.11, 1e-12);

	memset(&run, 0, sizeof(run));
	CHECK_INT(jst__integrity_new(&ig, 0, 1.0), 0);
	jst__integrity_start(ig, 0, 0);
	jst__integrity_finish(ig, &run, S, 0);
	jst__integrity_free(ig);
	CHECK(flag(JST_FLAG_NO_SENSOR, "") != NULL);
	char sum[64];
	jst_flags_summary(&run, sum, sizeof(sum));
	CHECK_STR(sum, "no_sensor");
	enum jst_flag_kind k;
	CHECK_INT(jst_flag_kind("power_out_of_range", &k), 0);
	CHECK_INT(k, JST_FLAG_POWER);
	CHECK_INT(jst_flag_kind("nonsense", &k), -1);
}

static void test_floor(void)
{
	static struct jst_calibration c;
	zones();
	run.duration_s = 10;
	run.zones[0].host_j = 500;  /* 50 W */
	run.zones[1].host_j = 2000; /* 200 W, not calibrated */
	c.nzones = 1;
	snprintf(c.zones[0].zone, sizeof(c.zones[0].zone), "package-0");
	snprintf(c.zones[0].source, sizeof(c.zones[0].source), "rapl");
	c.zones[0].idle_w = 20;
	c.zones[0].samples = 10;
	jst_floor_compute(&c, &run);
	CHECK(run.floor.known);
	CHECK_NEAR(run.floor.floor_j, 200, 1e-9);
	CHECK_NEAR(run.floor.dynamic_j, 300, 1e-9);
	CHECK_INT(run.floor.zones, 1);
	CHECK_INT(run.floor.missing, 1);
	c.zones[0].idle_w = 80; /* above what the zone used: below the floor */
	jst_floor_compute(&c, &run);
	CHECK(run.floor.below && run.floor.dynamic_j == 0);
	snprintf(c.zones[0].source, sizeof(c.zones[0].source), "hwmon"); /* another sensor */
	jst_floor_compute(&c, &run);
	CHECK(!run.floor.known);
}

static void unhex(const char *h, unsigned char *out, size_t n)
{
	size_t got = 0;
	CHECK(sodium_hex2bin(out, n, h, strlen(h), NULL, &got, NULL) == 0 && got == n);
}

static void test_pae_and_ed25519(void)
{
	unsigned char out[128];
	size_t n = jst_dsse_pae("http://example.com/HelloWorld", 29,
				(const unsigned char *)"hello world", 11, out, sizeof(out));
	static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
	CHECK_INT(n, strlen(want));
	CHECK(n == strlen(want) && memcmp(out, want, n) == 0);
	n = jst_dsse_pae("", 0, NULL, 0, out, sizeof(out));
	CHECK(n == 12 && memcmp(out, "DSSEv1 0  0 ", 12) == 0);
	CHECK_INT(jst_dsse_pae("t", 1, (const unsigned char *)"x", 1, out, 3),
		  14); /* too small: size only */

	/* RFC 8032, 7.1, TEST 1: the empty message */
	unsigned char seed[32], pk[32], sk[64], sig[64], want_pk[32], want_sig[64];
	unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed, 32);
	unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", want_pk, 32);
	unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	      want_sig, 64);
	CHECK(crypto_sign_seed_keypair(pk, sk, seed) == 0);
	CHECK(memcmp(pk, want_pk, 32) == 0);
	crypto_sign_detached(sig, NULL, (const unsigned char *)"", 0, sk);
	CHECK(memcmp(sig, want_sig, 64) == 0);
}

static void key_from_seed(struct jst_key *k, unsigned char fill)
{
	unsigned char seed[32];
	memset(seed, fill, sizeof(seed));
	memset(k, 0, sizeof(*k));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	k->has_secret = true;
	snprintf(k->keyid, sizeof(k->keyid), "test");
}

static void test_dsse(void)
{
	struct jst_key k, other;
	struct jst_dsse e;
	char *env = NULL, err[300];
	key_from_seed(&k, 7);
	key_from_seed(&other, 8);
	static const char payload[] = "{\"hello\":\"world\"}";
	CHECK_INT(jst_dsse_sign(JST_INTOTO_PAYLOAD_TYPE, (const unsigned char *)payload,
				strlen(payload), &k, &env, err, sizeof(err)),
		  0);
	CHECK(env && strstr(env, "\"payloadType\":\"application/vnd.in-toto+json\""));
	CHECK_INT(jst_dsse_parse(env, strlen(env), &e, err, sizeof(err)), 0);
	CHECK(e.payload_n == strlen(payload) && memcmp(e.payload, payload, e.payload_n) == 0);
	CHECK_INT(e.nsigs, 1);
	CHECK_STR(e.sigs[0].keyid, "test");
	CHECK_INT(jst_dsse_verify(&e, &k, NULL), 0);
	CHECK_INT(jst_dsse_verify(&e, &other, NULL), -EBADMSG); /* wrong key */
	e.sigs[0].sig[5] ^= 1;                                  /* a flipped signature byte */
	CHECK_INT(jst_dsse_verify(&e, &k, NULL), -EBADMSG);
	e.sigs[0].sig[5] ^= 1;
	e.payload[3] ^= 1; /* a tampered payload */
	CHECK_INT(jst_dsse_verify(&e, &k, NULL), -EBADMSG);
	e.payload[3] ^= 1;
	snprintf(e.payload_type, sizeof(e.payload_type), "text/plain"); /* the type is signed too */
	CHECK_INT(jst_dsse_verify(&e, &k, NULL), -EBADMSG);
	jst_dsse_release(&e);
	free(env);
	/* URL-safe unpadded base64 is accepted; broken envelopes are not */
	static const char urlsafe[] =
		"{\"payloadType\":\"x\",\"payload\":\"_-8\",\"signatures\":[{\"sig\":\"AA\"}]}";
	CHECK_INT(jst_dsse_parse(urlsafe, strlen(urlsafe), &e, err, sizeof(err)), 0);
	CHECK(e.payload_n == 2 && e.payload[0] == 0xff && e.payload[1] == 0xef &&
	      !e.sigs[0].sig_ok);
	jst_dsse_release(&e);
	static const char *const bad[] = {
		"",
		"[]",
		"{\"payloadType\":\"x\",\"payload\":\"a\"}",
		"{\"payloadType\":\"x\",\"payload\":\"%%%\",\"signatures\":[{\"sig\":\"AA\"}]}",
		"{\"payloadType\":1,\"payload\":\"\",\"signatures\":[{\"sig\":\"AA\"}]}",
		"{\"payloadType\":\"x\",\"payload\":\"\",\"signatures\":[]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(jst_dsse_parse(bad[i], strlen(bad[i]), &e, err, sizeof(err)), -EINVAL);
		CHECK_HAS(err, "not a DSSE envelope");
	}
}

static void test_keys_and_subjects(void)
{
	struct jst_key k;
	char err[300], text[600], b64pk[64], b64sk[128];
	unsigned char seed[32];
	memset(seed, 3, sizeof(seed));
	unsigned char pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2base64(b64pk, sizeof(b64pk), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64sk, sizeof(b64sk), sk, 64, sodium_base64_VARIANT_ORIGINAL);
	snprintf(text, sizeof(text), "# c\ntype: ed25519-private\npublic: %s\nsecret: %s\n", b64pk,
		 b64sk);
	CHECK_INT(jst_key_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	CHECK(k.has_secret && memcmp(k.pk, pk, 32) == 0 && strlen(k.keyid) == 64);
	snprintf(text, sizeof(text), "type: ed25519-public\npublic: %s\r\n", b64pk);
	CHECK_INT(jst_key_parse(text, strlen(text), &k, err, sizeof(err)), 0);
	CHECK(!k.has_secret);
	snprintf(text, sizeof(text), "type: ed25519-public\nkeyid: %064d\npublic: %s\n", 0, b64pk);
	CHECK_INT(jst_key_parse(text, strlen(text), &k, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "keyid does not match");
	snprintf(text, sizeof(text), "type: ed25519-private\npublic: %s\nsecret: %s\n", b64pk,
		 b64pk);
	CHECK_INT(jst_key_parse(text, strlen(text), &k, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), "type: ed25519-public\npublic: %s\npublic: %s\n", b64pk,
		 b64pk);
	CHECK_INT(jst_key_parse(text, strlen(text), &k, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "line 3: repeated key");

	struct jst_subject s;
	CHECK_INT(
		jst_subject_parse(
			"model.safetensors=sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
			&s),
		0);
	CHECK_STR(s.name, "model.safetensors");
	CHECK_STR(s.sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	CHECK_INT(
		jst_subject_parse(
			"a=b=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &s),
		0);
	CHECK_STR(s.name, "a=b");
	CHECK_INT(jst_subject_parse(
			  "=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &s),
		  -EINVAL);
	CHECK_INT(jst_subject_parse("m=sha256:0123", &s), -EINVAL);
	CHECK_INT(jst_subject_parse(
			  "m=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", &s),
		  -EINVAL);
}

static void test_statement(void)
{
	static const char hash[] =
		"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char *st = NULL, err[300];
	struct jst_attest_info info;
	zones();
	snprintf(run.id, sizeof(run.id), "01JD0000000000000000000AAA");
	run.run_j = 1234.5;
	run.host_j = 2000.25;
	run.result.footprint.co2e_g = 61.5;
	snprintf(run.result.data_version, sizeof(run.result.data_version), "bundled-2024.1");
	run.nflags = 1;
	run.flags[0].kind = JST_FLAG_GAP;
	CHECK_INT(jst_attest_statement(&run, hash, true, "", NULL, 0, &st, err, sizeof(err)), 0);
	CHECK(st && strstr(st, "\"_type\":\"https://in-toto.io/Statement/v1\""));
	CHECK(st && strstr(st, "\"name\":\"joulestream-run:01JD0000000000000000000AAA\""));
	CHECK_INT(jst_attest_parse(st, strlen(st), &info, err, sizeof(err)), 0);
	CHECK_STR(info.run_id, "01JD0000000000000000000AAA");
	CHECK_STR(info.subjects[0].sha256, hash);
	CHECK(info.energy_j == 1234.5 && info.host_energy_j == 2000.25 && info.co2e_g == 61.5);
	CHECK_INT(info.nflags, 1);
	free(st);
	struct jst_subject m;
	CHECK_INT(
		jst_subject_parse(
			"model.bin=ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
			&m),
		0);
	CHECK_INT(jst_attest_statement(&run, hash, false, "", &m, 1, &st, err, sizeof(err)), 0);
	CHECK_INT(jst_attest_parse(st, strlen(st), &info, err, sizeof(err)), 0);
	CHECK(info.nsubjects == 1 && strcmp(info.subjects[0].name, "model.bin") == 0);
	CHECK_STR(info.content_hash, hash);
	free(st);
	CHECK_INT(jst_attest_statement(&run, "short", true, "", NULL, 0, &st, err, sizeof(err)),
		  -EINVAL);
	static const char other[] = "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],"
				    "\"predicateType\":\"x\",\"predicate\":{}}";
	CHECK_INT(jst_attest_parse(other, strlen(other), &info, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "predicateType");
}

/* more flags than JST_FLAGS_MAX: the first ones are kept and a note says so */
static void test_flag_ceiling(void)
{
	static struct jst_run big;
	struct jst__integrity *ig;
	struct jst_reading rd[40];
	memset(&big, 0, sizeof(big));
	big.nzones = 40;
	for (size_t i = 0; i < 40; i++) {
		snprintf(big.zones[i].zone.name, JST_NAME_MAX, "gpu%zu", i);
		big.zones[i].zone.kind = JST_KIND_GPU;
		rd[i] = (struct jst_reading){0, 0, JST_READ_FAILED | JST_READ_GONE};
	}
	CHECK_INT(jst__integrity_new(&ig, 40, 1.0), 0);
	jst__integrity_start(ig, 0, 0);
	jst__integrity_tick(ig, &big, S, S, rd);
	jst__integrity_finish(ig, &big, S, 0);
	jst__integrity_free(ig);
	CHECK_INT(big.nflags, JST_FLAGS_MAX);
	CHECK_STR(big.flags[JST_FLAGS_MAX - 1].zone, "gpu23");
	CHECK_INT(big.nnotes, 1);
	CHECK_HAS(big.notes[0], "more integrity flags than kept (24)");
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	test_integrity();
	test_gap_estimate_unstored();
	test_floor();
	test_pae_and_ed25519();
	test_dsse();
	test_keys_and_subjects();
	test_statement();
	test_flag_ceiling();
	return check_done();
}
