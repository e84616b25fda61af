/* When to run: the start time with the lowest average intensity in a forecast, as the Carbon
 * Aware SDK finds it (windows of the job's length starting at now + k × step, time-weighted
 * averages, the minimum, ties to the earliest), the cleanest chunks of an interruptible job
 * (greedy, non-overlapping), and the gaps of a forecast (points missing for its step), which
 * no window may overlap. Also the mean of a series over a window, for ranking sites. Pure:
 * no clock, no I/O; docs/scheduling.md has the rules with worked examples. */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "joulestream/sched.h"

#define NS 1000000000LL
#define STEP_MAX (86400 * NS)             /* a forecast's step: at most a day */
#define SPAN_MAX (3660 * 86400 * NS)      /* a job or a chunk: at most 10 years */
#define TIME_MAX (7258118400LL * NS)      /* 2200-01-01, the last year ISO times are read for */

int jst_series_mean(const struct jst_series *s, int64_t from, int64_t to, double *mean,
                    int64_t *covered)
{
	double sum = 0;
	int64_t cov = 0;
	*mean = 0;
	*covered = 0;
	if (!s || s->n == 0 || to <= from)
		return -ENOENT;
	size_t lo = 0, hi = s->n; /* the first point whose value still holds at from */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (jst_series_end(s, mid) <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->n && s->pts[i].t_ns < to; i++) {
		int64_t a = s->pts[i].t_ns > from ? s->pts[i].t_ns : from;
		int64_t e = jst_series_end(s, i), b = e < to ? e : to;
		if (b <= a)
			continue;
		sum += s->pts[i].ci_g_per_kwh * (double)(b - a);
		cov += b - a;
	}
	if (cov == 0)
		return -ENOENT;
	*mean = sum / (double)cov;
	*covered = cov;
	return 0;
}

static int fail(char *err, size_t n, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t n, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return r;
}

/* "6h", "1h30m", "45s": a length for messages. */
static void dur_text(int64_t ns, char *out, size_t n)
{
	int64_t s = ns / NS, d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
	size_t o = 0;
	out[0] = '\0';
	if (d && o < n)
		o += (size_t)snprintf(out + o, n - o, "%lldd", (long long)d);
	if (h && o < n)
		o += (size_t)snprintf(out + o, n - o, "%lldh", (long long)h);
	if (m && o < n)
		o += (size_t)snprintf(out + o, n - o, "%lldm", (long long)m);
	if ((sec || s == 0) && o < n)
		snprintf(out + o, n - o, "%llds", (long long)sec);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The most common interval between points (the smaller of equally common ones); a single
 * point's length otherwise. */
static int64_t forecast_step(const struct jst_series *s)
{
	if (s->n < 2)
		return s->last_ns > 0 ? s->last_ns : 3600 * NS;
	int64_t *d = malloc((s->n - 1) * sizeof(*d));
	if (!d)
		return -1;
	for (size_t i = 0; i + 1 < s->n; i++)
		d[i] = s->pts[i + 1].t_ns - s->pts[i].t_ns;
	qsort(d, s->n - 1, sizeof(*d), cmp_i64);
	int64_t best = d[0];
	size_t best_n = 0;
	for (size_t i = 0; i < s->n - 1;) {
		size_t j = i;
		while (j < s->n - 1 && d[j] == d[i])
			j++;
		if (j - i > best_n) {
			best_n = j - i;
			best = d[i];
		}
		i = j;
	}
	free(d);
	return best;
}

/* Running integrals of the forecast: value × seconds and covered nanoseconds up to each point.
 * Point i covers [t_i, t_i + min(next − t_i, step)): what lies beyond is a gap. */
struct prefix {
	const struct jst_series *s;
	int64_t step;
	double *integ; /* n + 1 */
	int64_t *cov;  /* n + 1 */
};

static int64_t point_len(const struct prefix *p, size_t i)
{
	const struct jst_series *s = p->s;
	int64_t next = i + 1 < s->n ? s->pts[i + 1].t_ns - s->pts[i].t_ns : p->step;
	return next < p->step ? next : p->step;
}

static int prefix_init(struct prefix *p, const struct jst_series *s, int64_t step)
{
	p->s = s;
	p->step = step;
	p->integ = malloc((s->n + 1) * sizeof(*p->integ));
	p->cov = malloc((s->n + 1) * sizeof(*p->cov));
	if (!p->integ || !p->cov) {
		free(p->integ);
		free(p->cov);
		return -ENOMEM;
	}
	p->integ[0] = 0;
	p->cov[0] = 0;
	for (size_t i = 0; i < s->n; i++) {
		int64_t len = point_len(p, i);
		p->integ[i + 1] = p->integ[i] + s->pts[i].ci_g_per_kwh * ((double)len / 1e9);
		p->cov[i + 1] = p->cov[i] + len;
	}
	return 0;
}

static void prefix_release(struct prefix *p)
{
	free(p->integ);
	free(p->cov);
}

/* Integral and covered time from the forecast's start to t (t >= its first point); *hint is
 * the last point at or before the previous t, so increasing calls are linear overall. */
static void prefix_at(const struct prefix *p, int64_t t, size_t *hint, double *integ, int64_t *cov)
{
	const struct jst_series *s = p->s;
	size_t j = *hint;
	while (j + 1 < s->n && s->pts[j + 1].t_ns <= t)
		j++;
	*hint = j;
	int64_t into = t - s->pts[j].t_ns, len = point_len(p, j);
	if (into > len)
		into = len;
	*integ = p->integ[j] + s->pts[j].ci_g_per_kwh * ((double)into / 1e9);
	*cov = p->cov[j] + into;
}

/* The average over [a, b), or false when part of it is not covered (a gap). */
struct cursor {
	size_t ha, hb;
};

static bool window_avg(const struct prefix *p, struct cursor *c, int64_t a, int64_t b, double *avg)
{
	double ia, ib;
	int64_t ca, cb;
	prefix_at(p, a, &c->ha, &ia, &ca);
	prefix_at(p, b, &c->hb, &ib, &cb);
	if (cb - ca != b - a)
		return false;
	*avg = (ib - ia) / ((double)(b - a) / 1e9);
	return true;
}

/* Averages equal to a millionth of a g/kWh are ties. */
static long long tie_key(double ci)
{
	return llround(ci * 1e6);
}

static void find_gaps(const struct prefix *p, struct jst_when *w)
{
	const struct jst_series *s = p->s;
	for (size_t i = 0; i + 1 < s->n; i++) {
		int64_t end = s->pts[i].t_ns + p->step, next = s->pts[i + 1].t_ns;
		if (next <= end)
			continue;
		if (w->ngaps < JST_WHEN_GAPS_MAX)
			w->gaps[w->ngaps] = (struct jst_gap){end, next};
		w->ngaps++;
		w->gap_ns += next - end;
	}
}

/* Where the first hole of [a, b) in the forecast ends (the next point's time), or INT64_MAX
 * when the forecast ends inside the window. */
static int64_t hole_end(const struct prefix *p, int64_t a, int64_t b)
{
	const struct jst_series *s = p->s;
	size_t lo = 0, hi = s->n; /* the last point at or before a */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->pts[mid].t_ns <= a)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t j = lo; j < s->n; j++) {
		int64_t end = s->pts[j].t_ns + point_len(p, j);
		int64_t next = j + 1 < s->n ? s->pts[j + 1].t_ns : INT64_MAX;
		if (end >= b)
			break;
		if (next > end)
			return next;
	}
	return INT64_MAX;
}

/* Visits the windows [a, a + len) for a = start + k × tick that end by latest_end and that the
 * forecast covers; the others are counted in *holes. A window over a hole skips, in one jump,
 * every start before the hole's end, so a forecast with a long hole costs nothing per step. */
typedef int (*visit_fn)(void *ctx, int64_t a, double avg);

static int walk(const struct prefix *p, int64_t start, int64_t len, int64_t tick, int64_t latest_end,
                visit_fn fn, void *ctx, size_t *holes)
{
	struct cursor c = {0, 0};
	for (int64_t a = start; a <= latest_end - len;) {
		double avg;
		if (window_avg(p, &c, a, a + len, &avg)) {
			int r = fn(ctx, a, avg);
			if (r < 0)
				return r;
			a += tick;
			continue;
		}
		int64_t left = (latest_end - len - a) / tick + 1, g = hole_end(p, a, a + len);
		int64_t k = g == INT64_MAX ? left : (g - a + tick - 1) / tick;
		k = k < 1 ? 1 : k > left ? left : k;
		*holes += (size_t)k;
		a += k * tick;
	}
	return 0;
}

struct best_ctx {
	const struct jst_when_in *in;
	struct jst_when *w;
	long long key;
};

static int visit_best(void *ctx, int64_t a, double avg)
{
	struct best_ctx *b = ctx;
	struct jst_when *w = b->w;
	struct jst_window win = {a, a + b->in->duration_ns, avg};
	long long key = tie_key(avg);
	if (a == b->in->now_ns) {
		w->has_now = true;
		w->now = win;
	}
	w->candidates++;
	if (!w->has_best || key < b->key) {
		w->has_best = true;
		w->best = win;
		b->key = key;
		w->ties = 1;
	} else if (key == b->key) {
		w->ties++;
	}
	return 0;
}

/* The contiguous windows: earliest + k × step while they end by latest_end. */
static void contiguous(const struct prefix *p, const struct jst_when_in *in, struct jst_when *w)
{
	struct best_ctx b = {in, w, 0};
	walk(p, w->earliest_ns, in->duration_ns, w->step_ns, w->latest_end_ns, visit_best, &b, &w->in_gaps);
}

struct cand {
	int64_t start;
	long long key;
	double ci;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/* Inserts [a, a + len) into the sorted, disjoint chosen chunks unless it overlaps one. */
static bool take(struct jst_window *ch, size_t *n, int64_t a, int64_t len, double ci)
{
	size_t lo = 0, hi = *n; /* the first chunk starting after a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ch[mid].start_ns <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && ch[lo - 1].end_ns > a)
		return false;
	if (lo < *n && ch[lo].start_ns < a + len)
		return false;
	memmove(&ch[lo + 1], &ch[lo], (*n - lo) * sizeof(*ch));
	ch[lo] = (struct jst_window){a, a + len, ci};
	(*n)++;
	return true;
}

#define CANDIDATES_MAX 10000000 /* chunk-long windows compared at most (240 MB) */

struct cand_list {
	struct cand *v;
	size_t n, cap;
};

static int visit_cand(void *ctx, int64_t a, double avg)
{
	struct cand_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		if (l->n >= CANDIDATES_MAX)
			return -E2BIG;
		struct cand *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct cand){a, tie_key(avg), avg};
	return 0;
}

/* Greedy on the grid earliest + k × tick: the lowest averages first, earliest among equals,
 * each kept unless it overlaps one already kept. Returns how many were kept (up to want). */
static size_t greedy(const struct prefix *p, const struct jst_when *w, int64_t len, int64_t tick,
                     size_t want, struct jst_window *out, int *r)
{
	struct cand_list l = {NULL, 0, 0};
	size_t got = 0, holes = 0;
	*r = walk(p, w->earliest_ns, len, tick, w->latest_end_ns, visit_cand, &l, &holes);
	if (*r == 0 && l.n)
		qsort(l.v, l.n, sizeof(*l.v), cand_cmp);
	for (size_t i = 0; *r == 0 && i < l.n && got < want; i++)
		take(out, &got, l.v[i].start, len, l.v[i].ci);
	free(l.v);
	return *r == 0 ? got : 0;
}

static int chunks(const struct prefix *p, const struct jst_when_in *in, struct jst_when *w,
                  char *err, size_t errlen)
{
	char d[32], c[32];
	dur_text(in->duration_ns, d, sizeof(d));
	dur_text(in->chunk_ns, c, sizeof(c));
	if (in->duration_ns % in->chunk_ns != 0)
		return fail(err, errlen, -EINVAL, "the job (%s) is not a whole number of chunks of %s: "
		            "give a --chunk that divides --duration", d, c);
	size_t want = (size_t)(in->duration_ns / in->chunk_ns);
	if (want > JST_WHEN_CHUNKS_MAX)
		return fail(err, errlen, -EINVAL, "%zu chunks of %s: at most %d, give a longer --chunk",
		            want, c, JST_WHEN_CHUNKS_MAX);
	w->chunks = calloc(want, sizeof(*w->chunks));
	if (!w->chunks)
		return -ENOMEM;
	int r;
	int64_t tick = w->step_ns < in->chunk_ns ? w->step_ns : in->chunk_ns;
	w->nchunks = greedy(p, w, in->chunk_ns, tick, want, w->chunks, &r);
	if (r == 0 && w->nchunks < want && tick != in->chunk_ns) {
		w->chunks_aligned = true;
		w->nchunks = greedy(p, w, in->chunk_ns, in->chunk_ns, want, w->chunks, &r);
	}
	if (r == -E2BIG)
		return fail(err, errlen, -ERANGE, "more than %d chunk positions to compare: give a longer "
		            "--chunk or an earlier --deadline", CANDIDATES_MAX);
	if (r < 0)
		return r;
	if (w->nchunks < want)
		return fail(err, errlen, -ERANGE, "only %zu of %zu chunks of %s fit in the forecast before "
		            "the deadline%s: move --deadline later, or give a longer forecast", w->nchunks,
		            want, c, w->ngaps ? ", outside its gaps" : "");
	double sum = 0;
	for (size_t i = 0; i < w->nchunks; i++)
		sum += w->chunks[i].ci;
	w->chunks_ci = sum / (double)w->nchunks;
	return 0;
}

/* The checks that need no window: the deadline, the forecast's reach. */
static int bounds(const struct jst_when_in *in, struct jst_when *w, char *err, size_t errlen)
{
	char now[32], dl[32], end[32], d[32], left[32];
	jst__format_iso8601(in->now_ns, now, sizeof(now));
	jst__format_iso8601(in->deadline_ns, dl, sizeof(dl));
	jst__format_iso8601(w->end_ns, end, sizeof(end));
	dur_text(in->duration_ns, d, sizeof(d));
	if (in->deadline_ns && in->deadline_ns <= in->now_ns)
		return fail(err, errlen, -EINVAL, "the deadline %s is not after now (%s): give a later "
		            "--deadline", dl, now);
	if (in->deadline_ns && in->deadline_ns - in->now_ns < in->duration_ns) {
		dur_text(in->deadline_ns - in->now_ns, left, sizeof(left));
		return fail(err, errlen, -EINVAL, "the deadline %s leaves %s from now (%s), less than the "
		            "job's %s: move --deadline later or shorten --duration", dl, left, now, d);
	}
	if (w->end_ns <= in->now_ns)
		return fail(err, errlen, -ERANGE, "the forecast ends at %s, before now (%s): get a newer "
		            "forecast", end, now);
	w->earliest_ns = in->now_ns > w->first_ns ? in->now_ns : w->first_ns;
	w->latest_end_ns = in->deadline_ns && in->deadline_ns < w->end_ns ? in->deadline_ns : w->end_ns;
	if (w->earliest_ns + in->duration_ns > w->latest_end_ns) {
		char e[32];
		jst__format_iso8601(w->earliest_ns, e, sizeof(e));
		return fail(err, errlen, -ERANGE, "a job of %s starting at %s would end after the %s (%s): "
		            "give a longer forecast or a shorter --duration", d, e,
		            w->latest_end_ns == w->end_ns ? "forecast's end" : "deadline",
		            w->latest_end_ns == w->end_ns ? end : dl);
	}
	return 0;
}

int jst_when_plan(const struct jst_when_in *in, struct jst_when *w, char *err, size_t errlen)
{
	const struct jst_series *s = in->series;
	struct prefix p;
	memset(w, 0, sizeof(*w));
	if (!s || s->n == 0)
		return fail(err, errlen, -EINVAL, "the forecast has no values");
	if (in->duration_ns <= 0 || in->duration_ns > SPAN_MAX || in->chunk_ns < 0 ||
	    in->chunk_ns > SPAN_MAX)
		return fail(err, errlen, -EINVAL, "the job's duration must be more than 0 and at most "
		            "10 years");
	if (in->now_ns < 0 || in->now_ns > TIME_MAX || in->deadline_ns < 0 || in->deadline_ns > TIME_MAX)
		return fail(err, errlen, -EINVAL, "now and the deadline must lie between 1970 and 2200");
	w->step_ns = forecast_step(s);
	if (w->step_ns < 0)
		return -ENOMEM;
	if (w->step_ns == 0 || w->step_ns > STEP_MAX) {
		char d[32];
		dur_text(w->step_ns, d, sizeof(d));
		return fail(err, errlen, -EINVAL, "the forecast's values are %s apart: a forecast to plan "
		            "on has at most a day between values", d);
	}
	w->first_ns = s->pts[0].t_ns;
	w->end_ns = s->pts[s->n - 1].t_ns + w->step_ns;
	int r = bounds(in, w, err, errlen);
	if (r < 0)
		return r;
	if ((r = prefix_init(&p, s, w->step_ns)) < 0)
		return r;
	find_gaps(&p, w);
	contiguous(&p, in, w);
	if (in->chunk_ns > 0)
		r = chunks(&p, in, w, err, errlen);
	else if (!w->has_best)
		r = fail(err, errlen, -ERANGE, "every window of the job's length overlaps one of the "
		         "forecast's %zu gaps (points missing): give a complete forecast, a later deadline "
		         "or --interruptible", w->ngaps);
	prefix_release(&p);
	if (r < 0)
		jst_when_release(w);
	return r;
}

void jst_when_release(struct jst_when *w)
{
	free(w->chunks);
	w->chunks = NULL;
	w->nchunks = 0;
}
