/* The power sketch of a window (agg.h): values in log buckets of ratio 1.02, so any quantile
 * is within 1 % of the true value with a few hundred bytes per window, and two sketches of
 * the same window merge by adding counts. Zero and tiny values (< 1 mW) share one bucket. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "agg/agg.h"

#define GAMMA 1.02
#define ZERO_IDX INT32_MIN

static int32_t bucket(double v)
{
	if (!(v >= 1e-3))
		return ZERO_IDX;
	return (int32_t)ceil(log(v) / log(GAMMA));
}

void jst__sketch_add(struct jst_sketch *s, double v)
{
	int32_t b = bucket(v);
	uint32_t i = 0;
	while (i < s->n && s->idx[i] < b)
		i++;
	s->count++;
	if (i < s->n && s->idx[i] == b) {
		s->cnt[i]++;
		return;
	}
	if (s->n == JST_SKETCH_MAX) {
		/* full: merge the two lowest buckets (the low end loses resolution first) */
		s->cnt[1] += s->cnt[0];
		memmove(s->idx, s->idx + 1, (s->n - 1) * sizeof(s->idx[0]));
		memmove(s->cnt, s->cnt + 1, (s->n - 1) * sizeof(s->cnt[0]));
		s->n--;
		if (i > 0)
			i--;
		if (i < s->n && s->idx[i] == b) {
			s->cnt[i]++;
			return;
		}
	}
	memmove(s->idx + i + 1, s->idx + i, (s->n - i) * sizeof(s->idx[0]));
	memmove(s->cnt + i + 1, s->cnt + i, (s->n - i) * sizeof(s->cnt[0]));
	s->idx[i] = b;
	s->cnt[i] = 1;
	s->n++;
}

double jst__sketch_quantile(const struct jst_sketch *s, double q)
{
	if (s->count == 0)
		return 0;
	uint64_t rank = (uint64_t)floor(q * (double)(s->count - 1));
	uint64_t seen = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		seen += s->cnt[i];
		if (seen > rank)
			return s->idx[i] == ZERO_IDX ? 0 : 2 * pow(GAMMA, s->idx[i]) / (GAMMA + 1);
	}
	return 0;
}

size_t jst__sketch_encode(const struct jst_sketch *s, unsigned char *out, size_t n)
{
	if (n < (size_t)s->n * 8)
		return 0;
	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t x = (uint32_t)s->idx[i], c = s->cnt[i];
		for (int k = 0; k < 4; k++) {
			out[i * 8 + (unsigned)k] = (unsigned char)(x >> (8 * k));
			out[i * 8 + 4 + (unsigned)k] = (unsigned char)(c >> (8 * k));
		}
	}
	return (size_t)s->n * 8;
}

int jst__sketch_decode(struct jst_sketch *s, const unsigned char *p, size_t n)
{
	memset(s, 0, sizeof(*s));
	if (n % 8 || n / 8 > JST_SKETCH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n / 8; i++) {
		uint32_t x = 0, c = 0;
		for (int k = 0; k < 4; k++) {
			x |= (uint32_t)p[i * 8 + (unsigned)k] << (8 * k);
			c |= (uint32_t)p[i * 8 + 4 + (unsigned)k] << (8 * k);
		}
		s->idx[i] = (int32_t)x;
		s->cnt[i] = c;
		s->count += c;
	}
	s->n = (uint32_t)(n / 8);
	return 0;
}
