/* The sharing model: for random and edge inputs (no CPU time, run above busy from tick skew,
 * busy above total, negative, NaN and infinite values) the shares stay in [0, 1] and sum to 1;
 * CPU shares follow busy/total and run/total; GPU shares follow SM utilisation, else the
 * number of processes. The run's pids come from the fixture procfs tree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "joulestream/attrib.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift64*, uniform in [0, 1) */
static double uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int bad_shares;

static void check_valid(const struct jst_share *s)
{
	bool ok = s->run >= 0 && s->run <= 1 && s->other >= 0 && s->other <= 1 && s->idle >= 0 &&
		  s->idle <= 1 && fabs(s->run + s->other + s->idle - 1) <= 1e-12;
	if (!ok && bad_shares++ < 5)
		fprintf(stderr, "bad shares: run %.17g other %.17g idle %.17g\n", s->run, s->other,
			s->idle);
	CHECK(ok);
}

/* A value among the awkward ones, or a random one scaled up to 100 s. */
static double pick(void)
{
	static const double edge[] = {0, -0.0, -1, 1e-300, 1e300, 0.01, 1};
	double u = uniform();
	if (u < 0.15)
		return edge[(size_t)(uniform() * (sizeof edge / sizeof edge[0]))];
	if (u < 0.17)
		return NAN;
	if (u < 0.19)
		return u < 0.18 ? INFINITY : -INFINITY;
	return uniform() * 100;
}

static void test_cpu_properties(void)
{
	struct jst_share prev = {0.25, 0.25, 0.5}, out;
	for (int i = 0; i < 200000; i++) {
		struct jst_cpu_times d = {.run_s = pick(),
					  .host_busy_s = pick(),
					  .host_total_s = pick(),
					  .nprocs = 1};
		jst_share_cpu(&d, &prev, &out);
		check_valid(&out);
		if (!(d.host_total_s > 0) || d.host_total_s == INFINITY) {
			CHECK(out.run == prev.run && out.other == prev.other &&
			      out.idle == prev.idle);
		} else if (d.host_busy_s >= 0 && d.host_busy_s <= d.host_total_s && d.run_s >= 0 &&
			   d.run_s <= d.host_busy_s) {
			CHECK_NEAR(out.idle, 1 - d.host_busy_s / d.host_total_s, 1e-12);
			CHECK_NEAR(out.run, d.run_s / d.host_total_s, 1e-12);
		}
		prev = out;
	}
}

static void test_cpu_cases(void)
{
	struct jst_share prev = {0.1, 0.2, 0.7}, out;
	/* 8 CPUs for 1 s, 6 busy, the run 4 of them */
	struct jst_cpu_times d = {.run_s = 4, .host_busy_s = 6, .host_total_s = 8};
	jst_share_cpu(&d, &prev, &out);
	CHECK_NEAR(out.run, 0.5, 1e-15);
	CHECK_NEAR(out.other, 0.25, 1e-15);
	CHECK_NEAR(out.idle, 0.25, 1e-15);
	/* shorter than a tick: the previous split */
	d = (struct jst_cpu_times){.run_s = 0, .host_busy_s = 0, .host_total_s = 0};
	jst_share_cpu(&d, &prev, &out);
	CHECK(out.run == 0.1 && out.other == 0.2 && out.idle == 0.7);
	jst_share_cpu(&d, NULL, &out);
	CHECK(out.run == 0 && out.other == 0 && out.idle == 1);
	/* tick skew: the run counted more than the host's busy time */
	d = (struct jst_cpu_times){.run_s = 3, .host_busy_s = 2, .host_total_s = 4};
	jst_share_cpu(&d, &prev, &out);
	CHECK_NEAR(out.run, 0.5, 1e-15);
	CHECK_NEAR(out.other, 0, 1e-15);
	CHECK_NEAR(out.idle, 0.5, 1e-15);
	/* busy above total (counters read at different instants) */
	d = (struct jst_cpu_times){.run_s = 1, .host_busy_s = 5, .host_total_s = 4};
	jst_share_cpu(&d, &prev, &out);
	CHECK_NEAR(out.run, 0.25, 1e-15);
	CHECK_NEAR(out.other, 0.75, 1e-15);
	CHECK_NEAR(out.idle, 0, 1e-15);
	/* an idle host */
	d = (struct jst_cpu_times){.run_s = 0, .host_busy_s = 0, .host_total_s = 4};
	jst_share_cpu(&d, &prev, &out);
	CHECK(out.run == 0 && out.other == 0 && out.idle == 1);
}

static struct jst_proctree *fixture_tree(void)
{
	const char *fx = getenv("JST_FIXTURES");
	char root[512];
	snprintf(root, sizeof root, "%s/procfs-tree", fx ? fx : "tests/fixtures");
	struct jst_proctree *t = NULL;
	struct jst_cpu_times d;
	CHECK_INT(jst_proctree_new(&t, root, 300, 200), 0);
	if (t)
		CHECK_INT(jst_proctree_sample(t, 0, &d), 0);
	return t;
}

static void test_gpu(struct jst_proctree *t)
{
	struct jst_share s;
	/* only run processes: all the run's, whatever the utilisation */
	struct jst_gpu_proc mine[] = {{300, 80, true, 0}, {401, 0, true, 0}};
	jst_share_gpu(mine, 2, t, &s);
	CHECK(s.run == 1 && s.other == 0 && s.idle == 0);
	/* mixed, with utilisation: 60 of 60 + 20 */
	struct jst_gpu_proc mixed[] = {{301, 60, true, 0}, {500, 20, true, 0}, {400, 0, true, 0}};
	jst_share_gpu(mixed, 3, t, &s);
	CHECK_NEAR(s.run, 0.75, 1e-15);
	CHECK_NEAR(s.other, 0.25, 1e-15);
	CHECK(s.idle == 0);
	/* utilisation known but all 0: by count, 2 of 3 */
	struct jst_gpu_proc zero[] = {{301, 0, true, 0}, {500, 0, true, 0}, {400, 0, true, 0}};
	jst_share_gpu(zero, 3, t, &s);
	CHECK_NEAR(s.run, 2.0 / 3, 1e-15);
	/* one process without utilisation: by count, 1 of 4 */
	struct jst_gpu_proc nutil[] = {
		{300, 90, true, 0}, {1, 5, false, 0}, {500, 5, true, 0}, {501, 0, true, 0}};
	jst_share_gpu(nutil, 4, t, &s);
	CHECK_NEAR(s.run, 0.25, 1e-15);
	CHECK_NEAR(s.other, 0.75, 1e-15);
	check_valid(&s);
	/* only other processes (the reaper itself is not the run) */
	struct jst_gpu_proc others[] = {{200, 50, true, 0}, {500, 50, true, 0}};
	jst_share_gpu(others, 2, t, &s);
	CHECK(s.run == 0 && s.other == 1 && s.idle == 0);
	/* no process: idle */
	jst_share_gpu(mine, 0, t, &s);
	CHECK(s.run == 0 && s.other == 0 && s.idle == 1);
	jst_share_gpu(NULL, 3, t, &s);
	CHECK(s.idle == 1);
	/* no tree (nothing is the run's); out-of-range utilisation is capped */
	struct jst_gpu_proc wild[] = {{300, 500, true, 0}, {500, 100, true, 0}};
	jst_share_gpu(wild, 2, NULL, &s);
	CHECK(s.run == 0 && s.other == 1);
	jst_share_gpu(wild, 2, t, &s);
	CHECK_NEAR(s.run, 0.5, 1e-15);
	/* random sets */
	static const pid_t pool[] = {1, 100, 200, 300, 301, 302, 303, 400, 401, 500, 501};
	struct jst_gpu_proc r[16];
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(uniform() * 17);
		for (size_t k = 0; k < n; k++)
			r[k] = (struct jst_gpu_proc){pool[(size_t)(uniform() * 11)],
						     (unsigned)(uniform() * 120), uniform() < 0.9,
						     0};
		jst_share_gpu(r, n, t, &s);
		check_valid(&s);
		CHECK(n == 0 ? s.idle == 1 : s.idle == 0);
	}
}

int main(void)
{
	test_cpu_cases();
	test_cpu_properties();
	struct jst_proctree *t = fixture_tree();
	test_gpu(t);
	jst_proctree_free(t);
	return check_done();
}
