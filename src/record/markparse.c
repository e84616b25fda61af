/* The text form of training marks: one message per datagram (or per line), e.g.
 * "phase 123456789 begin forward" or "metric 123456789 step=10 loss=0.31". jst_mark_parse() is
 * a pure function over (p, n), bounded and allocation-free, so it can face any bytes a local
 * process sends (and a fuzzer); jst_mark_format() writes the same form. docs/python.md has the
 * grammar. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/train.h"

struct cur {
	const char *p, *end;
};

/* The next space-separated token; false at the end. */
static bool token(struct cur *c, const char **t, size_t *len)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	if (c->p == c->end)
		return false;
	*t = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*len = (size_t)(c->p - *t);
	return true;
}

static bool is(const char *t, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(t, word, len) == 0;
}

/* Phase names: letters, digits and _ . : + -; metric names and tag keys may also hold '/'. */
static bool name_ok(const char *t, size_t len, bool slash)
{
	if (len == 0 || len >= JST_MARK_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':' || c == '+' || c == '-' || (slash && c == '/')))
			return false;
	}
	return true;
}

static void copy_name(char *dst, const char *t, size_t len)
{
	memcpy(dst, t, len);
	dst[len] = '\0';
}

static int parse_count(const char *t, size_t len, int64_t *out)
{
	uint64_t v;
	if (len == 0 || t[0] == '+' || jst__parse_u64(t, len, &v) < 0 || v > (uint64_t)INT64_MAX)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

static int parse_value(const char *t, size_t len, double *out)
{
	if (is(t, len, "nan")) {
		*out = NAN;
		return 0;
	}
	if (is(t, len, "inf") || is(t, len, "+inf")) {
		*out = INFINITY;
		return 0;
	}
	if (is(t, len, "-inf")) {
		*out = -INFINITY;
		return 0;
	}
	return jst__parse_double(t, len, out);
}

/* KEY=VALUE: splits a token at its first '='. */
static bool split_kv(const char *t, size_t len, size_t *klen, const char **v, size_t *vlen)
{
	const char *eq = memchr(t, '=', len);
	if (!eq)
		return false;
	*klen = (size_t)(eq - t);
	*v = eq + 1;
	*vlen = len - *klen - 1;
	return true;
}

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

static int parse_metric(struct cur *c, struct jst_mark *m, const char **why)
{
	const char *t, *v;
	size_t len, klen, vlen;
	while (token(c, &t, &len)) {
		if (!split_kv(t, len, &klen, &v, &vlen))
			return fail(why, "metric: expected NAME=VALUE");
		if (is(t, klen, "step") || is(t, klen, "epoch")) {
			int64_t *dst = t[0] == 's' ? &m->step : &m->epoch;
			if (*dst >= 0 || parse_count(v, vlen, dst) < 0)
				return fail(why, "metric: step= and epoch= take one whole number >= 0");
			continue;
		}
		if (!name_ok(t, klen, true))
			return fail(why, "metric: bad name (letters, digits, _ . : / + -, at most 47)");
		if (m->nvalues == JST_MARK_VALUES_MAX)
			return fail(why, "metric: more than 16 values in one message");
		struct jst_mark_value *mv = &m->values[m->nvalues];
		if (parse_value(v, vlen, &mv->value) < 0)
			return fail(why, "metric: value is not a number");
		copy_name(mv->name, t, klen);
		for (size_t i = 0; i < m->nvalues; i++)
			if (strcmp(m->values[i].name, mv->name) == 0)
				return fail(why, "metric: a name given twice");
		m->nvalues++;
	}
	return m->nvalues ? 0 : fail(why, "metric: no NAME=VALUE");
}

static int parse_tag(struct cur *c, struct jst_mark *m, const char **why)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	const char *t = c->p, *v;
	size_t len = (size_t)(c->end - c->p), klen, vlen;
	if (!split_kv(t, len, &klen, &v, &vlen) || !name_ok(t, klen, true))
		return fail(why, "tag: expected KEY=TEXT (key: letters, digits, _ . : / + -)");
	if (vlen >= JST_MARK_TEXT_MAX)
		return fail(why, "tag: text longer than 255 bytes");
	for (size_t i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return fail(why, "tag: control character in the text");
	copy_name(m->name, t, klen);
	memcpy(m->text, v, vlen);
	m->text[vlen] = '\0';
	return 0;
}

/* epoch T begin [N] [total=M] | epoch T end */
static int parse_epoch(struct cur *c, struct jst_mark *m, const char **why)
{
	const char *t, *v;
	size_t len, klen, vlen;
	if (!token(c, &t, &len) || !(is(t, len, "begin") || is(t, len, "end")))
		return fail(why, "epoch: expected begin or end");
	if (is(t, len, "end")) {
		m->kind = JST_MARK_EPOCH_END;
		return token(c, &t, &len) ? fail(why, "epoch end: unexpected words") : 0;
	}
	m->kind = JST_MARK_EPOCH_BEGIN;
	while (token(c, &t, &len)) {
		if (split_kv(t, len, &klen, &v, &vlen)) {
			if (!is(t, klen, "total") || m->total > 0 || parse_count(v, vlen, &m->total) < 0)
				return fail(why, "epoch begin: expected total=M, a whole number");
		} else if (m->n >= 0 || parse_count(t, len, &m->n) < 0) {
			return fail(why, "epoch begin: the epoch is a whole number >= 0");
		}
	}
	return 0;
}

static int parse_plan(struct cur *c, struct jst_mark *m, const char **why)
{
	const char *t, *v;
	size_t len, klen, vlen;
	bool any = false;
	while (token(c, &t, &len)) {
		int64_t *dst = NULL;
		if (split_kv(t, len, &klen, &v, &vlen))
			dst = is(t, klen, "epochs") ? &m->n : is(t, klen, "predict_after") ? &m->predict_after : NULL;
		if (!dst || *dst >= 0 || parse_count(v, vlen, dst) < 0)
			return fail(why, "plan: expected epochs=M and/or predict_after=K, whole numbers");
		any = true;
	}
	return any ? 0 : fail(why, "plan: expected epochs=M and/or predict_after=K");
}

/* The verb's arguments after VERB T. */
static int parse_args(struct cur *c, struct jst_mark *m, const char **why)
{
	const char *t;
	size_t len;
	switch (m->kind) {
	case JST_MARK_PHASE_BEGIN:
		if (!token(c, &t, &len) || !(is(t, len, "begin") || is(t, len, "end")))
			return fail(why, "phase: expected begin or end");
		m->kind = is(t, len, "begin") ? JST_MARK_PHASE_BEGIN : JST_MARK_PHASE_END;
		if (!token(c, &t, &len) || !name_ok(t, len, false))
			return fail(why, "phase: bad name (letters, digits, _ . : + -, at most 47)");
		copy_name(m->name, t, len);
		break;
	case JST_MARK_STEP:
		if (token(c, &t, &len) && parse_count(t, len, &m->n) < 0)
			return fail(why, "step: the step is a whole number >= 0");
		break;
	case JST_MARK_LOST:
		if (!token(c, &t, &len) || parse_count(t, len, &m->n) < 0)
			return fail(why, "lost: expected a count");
		break;
	case JST_MARK_EPOCH_BEGIN:
		return parse_epoch(c, m, why);
	case JST_MARK_METRIC:
		return parse_metric(c, m, why);
	case JST_MARK_TAG:
		return parse_tag(c, m, why);
	case JST_MARK_PLAN:
		return parse_plan(c, m, why);
	case JST_MARK_EPOCH_END:
	case JST_MARK_PHASE_END:
		break;
	}
	return token(c, &t, &len) ? fail(why, "unexpected words at the end") : 0;
}

int jst_mark_parse(const char *p, size_t n, struct jst_mark *out, const char **why)
{
	static const struct {
		const char *verb;
		enum jst_mark_kind kind;
	} verbs[] = {
		{"phase", JST_MARK_PHASE_BEGIN}, {"step", JST_MARK_STEP}, {"epoch", JST_MARK_EPOCH_BEGIN},
		{"metric", JST_MARK_METRIC}, {"tag", JST_MARK_TAG}, {"plan", JST_MARK_PLAN},
		{"lost", JST_MARK_LOST},
	};
	if (n > 0 && p[n - 1] == '\n')
		n--;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > JST_MARK_MSG_MAX)
		return fail(why, "message longer than 1024 bytes");
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t')
			return fail(why, "control character in the message");
	memset(out, 0, offsetof(struct jst_mark, values));
	out->n = out->step = out->epoch = out->predict_after = -1;
	struct cur c = {p, p + n};
	const char *t;
	size_t len;
	if (!token(&c, &t, &len))
		return fail(why, "empty message");
	size_t v = 0;
	while (v < JST_ARRAY_LEN(verbs) && !is(t, len, verbs[v].verb))
		v++;
	if (v == JST_ARRAY_LEN(verbs))
		return fail(why, "unknown kind (phase, step, epoch, metric, tag, plan, lost)");
	out->kind = verbs[v].kind;
	if (!token(&c, &t, &len))
		return fail(why, "no time: expected CLOCK_MONOTONIC nanoseconds or -");
	if (!is(t, len, "-") && (t[0] == '+' || jst__parse_u64(t, len, &out->t_ns) < 0))
		return fail(why, "bad time: expected CLOCK_MONOTONIC nanoseconds or -");
	return parse_args(&c, out, why);
}

struct out {
	char *p;
	size_t n, off;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(o->p + o->off, o->n - o->off, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= o->n - o->off)
		o->full = true;
	else
		o->off += (size_t)w;
}

static void put_value(struct out *o, const char *name, double v)
{
	if (isnan(v))
		put(o, " %s=nan", name);
	else if (isinf(v))
		put(o, " %s=%sinf", name, v < 0 ? "-" : "");
	else
		put(o, " %s=%.17g", name, v);
}

static int format_body(const struct jst_mark *mk, struct out *o)
{
	switch (mk->kind) {
	case JST_MARK_PHASE_BEGIN:
	case JST_MARK_PHASE_END:
		if (!name_ok(mk->name, strlen(mk->name), false))
			return -EINVAL;
		put(o, " %s %s", mk->kind == JST_MARK_PHASE_BEGIN ? "begin" : "end", mk->name);
		break;
	case JST_MARK_STEP:
		if (mk->n >= 0)
			put(o, " %lld", (long long)mk->n);
		break;
	case JST_MARK_EPOCH_BEGIN:
		put(o, " begin");
		if (mk->n >= 0)
			put(o, " %lld", (long long)mk->n);
		if (mk->total > 0)
			put(o, " total=%lld", (long long)mk->total);
		break;
	case JST_MARK_EPOCH_END:
		put(o, " end");
		break;
	case JST_MARK_METRIC:
		if (mk->nvalues == 0 || mk->nvalues > JST_MARK_VALUES_MAX)
			return -EINVAL;
		if (mk->step >= 0)
			put(o, " step=%lld", (long long)mk->step);
		if (mk->epoch >= 0)
			put(o, " epoch=%lld", (long long)mk->epoch);
		for (size_t i = 0; i < mk->nvalues; i++) {
			if (!name_ok(mk->values[i].name, strlen(mk->values[i].name), true))
				return -EINVAL;
			put_value(o, mk->values[i].name, mk->values[i].value);
		}
		break;
	case JST_MARK_TAG:
		if (!name_ok(mk->name, strlen(mk->name), true))
			return -EINVAL;
		for (const char *q = mk->text; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				return -EINVAL;
		put(o, " %s=%s", mk->name, mk->text);
		break;
	case JST_MARK_PLAN:
		if (mk->n < 0 && mk->predict_after < 0)
			return -EINVAL;
		if (mk->n >= 0)
			put(o, " epochs=%lld", (long long)mk->n);
		if (mk->predict_after >= 0)
			put(o, " predict_after=%lld", (long long)mk->predict_after);
		break;
	case JST_MARK_LOST:
		put(o, " %lld", (long long)(mk->n > 0 ? mk->n : 0));
		break;
	}
	return 0;
}

int jst_mark_format(const struct jst_mark *mk, char *p, size_t n)
{
	static const char *const verb[] = {
		[JST_MARK_PHASE_BEGIN] = "phase", [JST_MARK_PHASE_END] = "phase", [JST_MARK_STEP] = "step",
		[JST_MARK_EPOCH_BEGIN] = "epoch", [JST_MARK_EPOCH_END] = "epoch", [JST_MARK_METRIC] = "metric",
		[JST_MARK_TAG] = "tag", [JST_MARK_PLAN] = "plan", [JST_MARK_LOST] = "lost",
	};
	if ((unsigned)mk->kind >= JST_ARRAY_LEN(verb) || n == 0)
		return -EINVAL;
	struct out o = {p, n, 0, false};
	if (mk->t_ns)
		put(&o, "%s %llu", verb[mk->kind], (unsigned long long)mk->t_ns);
	else
		put(&o, "%s -", verb[mk->kind]);
	int r = format_body(mk, &o);
	if (r < 0)
		return r;
	if (o.full || o.off > JST_MARK_MSG_MAX)
		return -ENOSPC;
	return (int)o.off;
}
