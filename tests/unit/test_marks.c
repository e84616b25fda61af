/* The training-mark parser: every kind parses to the fields it names, bad messages fail with a
 * reason (never crash), the parser reads only (p, n) (each message is copied into a buffer of
 * exactly n bytes, so ASan catches a read past it), and format and parse round-trip. A
 * deterministic mutation loop over valid messages stands in for the fuzz target until
 * tests/fuzz exists. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "joulestream/train.h"

/* Parses a copy of s that has no NUL after it. */
static int parse(const char *s, struct jst_mark *m, const char **why)
{
	size_t n = strlen(s);
	char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	int r = jst_mark_parse(p, n, m, why);
	free(p);
	return r;
}

static void test_good(void)
{
	struct jst_mark m;
	const char *why = NULL;
	CHECK_INT(parse("phase 123456789 begin forward", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_PHASE_BEGIN);
	CHECK_INT(m.t_ns, 123456789);
	CHECK_STR(m.name, "forward");
	CHECK_INT(parse("phase 5 end data.load:v2\n", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_PHASE_END);
	CHECK_STR(m.name, "data.load:v2");
	CHECK_INT(parse("step -", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_STEP);
	CHECK_INT(m.t_ns, 0);
	CHECK_INT(m.n, -1);
	CHECK_INT(parse("step 9  42\r\n", &m, &why), 0);
	CHECK_INT(m.n, 42);
	CHECK_INT(parse("epoch 9 begin 3 total=10", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_EPOCH_BEGIN);
	CHECK_INT(m.n, 3);
	CHECK_INT(m.total, 10);
	CHECK_INT(parse("epoch 9 begin", &m, &why), 0);
	CHECK_INT(m.n, -1);
	CHECK_INT(m.total, 0);
	CHECK_INT(parse("epoch 9 end", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_EPOCH_END);
	CHECK_INT(parse("metric 7 step=10 epoch=2 loss=0.31 accuracy=9e-1 train/loss=-1.5e+3 x=nan y=-inf",
	                &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_METRIC);
	CHECK_INT(m.step, 10);
	CHECK_INT(m.epoch, 2);
	CHECK_INT(m.nvalues, 5);
	CHECK_STR(m.values[0].name, "loss");
	CHECK_NEAR(m.values[0].value, 0.31, 0);
	CHECK_NEAR(m.values[1].value, 0.9, 1e-15);
	CHECK_STR(m.values[2].name, "train/loss");
	CHECK_NEAR(m.values[2].value, -1500, 0);
	CHECK(isnan(m.values[3].value));
	CHECK(isinf(m.values[4].value) && m.values[4].value < 0);
	CHECK_INT(parse("metric 7 loss=1", &m, &why), 0);
	CHECK_INT(m.step, -1);
	CHECK_INT(m.epoch, -1);
	CHECK_INT(parse("tag 1 dataset=cifar10 (train split), v2=ok", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_TAG);
	CHECK_STR(m.name, "dataset");
	CHECK_STR(m.text, "cifar10 (train split), v2=ok");
	CHECK_INT(parse("tag 1 empty=", &m, &why), 0);
	CHECK_STR(m.text, "");
	CHECK_INT(parse("tag 1 gpu=NVIDIA H100 \xc3\xa9", &m, &why), 0); /* UTF-8 passes */
	CHECK_INT(parse("plan 1 epochs=12 predict_after=2", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_PLAN);
	CHECK_INT(m.n, 12);
	CHECK_INT(m.predict_after, 2);
	CHECK_INT(parse("plan 1 predict_after=0", &m, &why), 0);
	CHECK_INT(m.n, -1);
	CHECK_INT(m.predict_after, 0);
	CHECK_INT(parse("lost - 17", &m, &why), 0);
	CHECK_INT(m.kind, JST_MARK_LOST);
	CHECK_INT(m.n, 17);
}

static void bad(const char *s, const char *reason)
{
	struct jst_mark m;
	const char *why = NULL;
	int r = parse(s, &m, &why);
	CHECK_INT(r, -EINVAL);
	CHECK_HAS(why, reason);
}

static void test_bad(void)
{
	bad("", "empty");
	bad("   ", "empty");
	bad("hello 1", "unknown kind");
	bad("phase", "no time");
	bad("phase x begin a", "bad time");
	bad("phase +1 begin a", "bad time");
	bad("phase 99999999999999999999 begin a", "bad time");
	bad("phase 1 start a", "expected begin or end");
	bad("phase 1 begin", "bad name");
	bad("phase 1 begin a/b", "bad name");
	bad("phase 1 begin a=b", "bad name");
	bad("phase 1 begin a b", "unexpected words");
	bad("phase 1 begin 0123456789012345678901234567890123456789012345678", "bad name");
	bad("step 1 -3", "whole number");
	bad("step 1 3 4", "unexpected words");
	bad("epoch 1", "begin or end");
	bad("epoch 1 begin x", "whole number");
	bad("epoch 1 begin 1 2", "whole number");
	bad("epoch 1 begin total=x", "total=M");
	bad("epoch 1 begin total=3 total=4", "total=M");
	bad("epoch 1 end 3", "unexpected words");
	bad("metric 1", "no NAME=VALUE");
	bad("metric 1 loss", "NAME=VALUE");
	bad("metric 1 loss=abc", "not a number");
	bad("metric 1 loss=0x10", "not a number");
	bad("metric 1 loss=", "not a number");
	bad("metric 1 =3", "bad name");
	bad("metric 1 step=-1 loss=3", "step= and epoch=");
	bad("metric 1 step=1 step=2 loss=3", "step= and epoch=");
	bad("metric 1 a=1 a=2", "given twice");
	bad("metric 1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1 j=1 k=1 l=1 m=1 n=1 o=1 p=1 q=1", "more than 16");
	bad("tag 1 novalue", "KEY=TEXT");
	bad("tag 1 bad key=x", "KEY=TEXT");
	bad("tag 1 k=a\x01" "b", "control character");
	bad("phase 1\tbegin a", "control character");
	bad("phase 1 begin a\nphase 2 begin b", "control character");
	bad("plan 1", "epochs=M");
	bad("plan 1 epochs=x", "whole numbers");
	bad("plan 1 foo=1", "whole numbers");
	bad("lost 1", "count");
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "tag 1 k=", 8);
	bad(big, "longer than 1024");
	char tag[300];
	memset(tag, 'v', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	memcpy(tag, "tag 1 k=", 8);
	bad(tag, "longer than 255");
	/* a NUL inside the message */
	struct jst_mark m;
	const char *why = NULL;
	CHECK_INT(jst_mark_parse("step 1\0 2", 9, &m, &why), -EINVAL);
}

static bool same(const struct jst_mark *a, const struct jst_mark *b)
{
	if (a->kind != b->kind || a->t_ns != b->t_ns || strcmp(a->name, b->name) || strcmp(a->text, b->text) ||
	    a->n != b->n || a->total != b->total || a->predict_after != b->predict_after ||
	    a->step != b->step || a->epoch != b->epoch || a->nvalues != b->nvalues)
		return false;
	for (size_t i = 0; i < a->nvalues; i++) {
		double x = a->values[i].value, y = b->values[i].value;
		if (strcmp(a->values[i].name, b->values[i].name) || !((isnan(x) && isnan(y)) || x == y))
			return false;
	}
	return true;
}

static void test_roundtrip(void)
{
	static const char *const msgs[] = {
		"phase 1 begin forward", "phase 2 end forward", "step -", "step 3 7", "epoch 4 begin",
		"epoch 5 begin 2 total=9", "epoch 6 end", "metric 7 step=1 epoch=2 loss=0.1 acc=1e-300 z=nan w=inf",
		"tag 8 note=two words = fine", "plan 9 epochs=3", "plan 9 predict_after=4", "lost 10 3",
	};
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct jst_mark a, b;
		char out[JST_MARK_MSG_MAX + 1];
		CHECK_INT(parse(msgs[i], &a, NULL), 0);
		int len = jst_mark_format(&a, out, sizeof(out));
		CHECK(len > 0);
		CHECK_INT(jst_mark_parse(out, (size_t)len, &b, NULL), 0);
		CHECK(same(&a, &b));
	}
	struct jst_mark a;
	CHECK_INT(parse("phase 1 begin forward", &a, NULL), 0);
	char small[8];
	CHECK_INT(jst_mark_format(&a, small, sizeof(small)), -ENOSPC);
	strcpy(a.name, "a b");
	CHECK_INT(jst_mark_format(&a, small, sizeof(small)), -EINVAL);
}

/* Random edits of valid messages: never a crash or a read past n; what parses round-trips. */
static void test_mutations(void)
{
	static const char *const seeds[] = {
		"phase 123 begin forward", "metric 9 step=3 epoch=1 loss=0.25 acc=0.5", "tag 3 k=v w",
		"epoch 4 begin 2 total=9", "plan 1 epochs=2 predict_after=1", "step 5 6", "lost - 2",
	};
	static const char alphabet[] = " =-+.0123456789aezEnif/\n\r\t\x01\xff_:";
	uint64_t x = 88172645463325252ull;
	unsigned parsed = 0;
	for (int it = 0; it < 200000; it++) {
		char buf[96];
		const char *s = seeds[it % (int)(sizeof(seeds) / sizeof(seeds[0]))];
		size_t n = strlen(s);
		memcpy(buf, s, n);
		for (int e = 0; e < 1 + it % 4; e++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t pos = (size_t)(x % (n + 1));
			char c = alphabet[(x >> 20) % (sizeof(alphabet) - 1)];
			switch ((x >> 40) % 3) {
			case 0: if (pos < n) buf[pos] = c; break;                        /* replace */
			case 1: if (n < sizeof(buf)) { memmove(buf + pos + 1, buf + pos, n - pos); buf[pos] = c; n++; } break;
			default: if (pos < n) { memmove(buf + pos, buf + pos + 1, n - pos - 1); n--; } break;
			}
		}
		char *p = malloc(n ? n : 1);
		memcpy(p, buf, n);
		struct jst_mark a, b;
		if (jst_mark_parse(p, n, &a, NULL) == 0) {
			parsed++;
			char out[JST_MARK_MSG_MAX + 1];
			int len = jst_mark_format(&a, out, sizeof(out));
			if (len > 0) {
				CHECK_INT(jst_mark_parse(out, (size_t)len, &b, NULL), 0);
				if (!same(&a, &b)) {
					CHECK(same(&a, &b));
					fprintf(stderr, "  %.*s -> %s\n", (int)n, buf, out);
				}
			}
		}
		free(p);
	}
	CHECK(parsed > 1000); /* the mutations reach valid messages too */
}

int main(void)
{
	test_good();
	test_bad();
	test_roundtrip();
	test_mutations();
	return check_done();
}
