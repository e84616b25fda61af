/* When to run (src/sched/window.c) on the fixture forecasts of tests/fixtures/forecasts/, with
 * best windows checked by hand: the Carbon Aware SDK's sliding average (starts now + k × step,
 * time-weighted when now falls inside a value), ties to the earliest, a deadline shorter than
 * the job, a forecast that ends too soon, gaps (listed; no window may overlap one, so the
 * 50 g/kWh value before a gap does not stretch over it), interruptible chunks (exact choice,
 * no overlap, realigned when greedy leaves no room), and the WattTime and Electricity Maps
 * forecast formats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/isotime.h"
#include "joulestream/sched.h"

#define S 1000000000LL
#define H (3600 * S)
#define T0 (1709251200LL * S) /* 2024-03-01T00:00:00Z */

static struct jst_ci_file *load(const char *name)
{
	char path[1024], err[512];
	const char *fx = getenv("JST_FIXTURES");
	struct jst_ci_file *f = NULL;
	snprintf(path, sizeof(path), "%s/forecasts/%s", fx ? fx : "tests/fixtures", name);
	if (jst_ci_load(path, &f, err, sizeof(err)) < 0)
		fprintf(stderr, "%s\n", err);
	CHECK(f != NULL);
	return f;
}

static int plan(const char *file, const char *zone, int64_t now, int64_t dur, int64_t deadline,
                int64_t chunk, struct jst_when *w, char *err, size_t errlen)
{
	struct jst_ci_file *f = load(file);
	if (!f)
		return -ENOENT;
	struct jst_when_in in = {jst_ci_select(f, zone), now, dur, deadline, chunk};
	int r = jst_when_plan(&in, w, err, errlen);
	jst_ci_free(f);
	return r;
}

/* de-hourly.csv: 300 280 260 95 200 150 120 100 90 110 130 160 ... from 00:00, hourly.
 * 3 h windows from 00:00 to end by 12:00: 280, 211.67, 185, 148.33, 156.67, 123.33, 103.33,
 * 100 (07:00), 110, 133.33: the best starts at 07:00. */
static void test_best_window(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 3 * H, T0 + 12 * H, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.step_ns, H);
	CHECK(w.has_best);
	CHECK_INT(w.best.start_ns, T0 + 7 * H);
	CHECK_INT(w.best.end_ns, T0 + 10 * H);
	CHECK_NEAR(w.best.ci, 100, 1e-9);
	CHECK_INT(w.candidates, 10);
	CHECK_INT(w.ties, 1);
	CHECK(w.has_now);
	CHECK_NEAR(w.now.ci, 280, 1e-9);
	CHECK_INT(w.ngaps, 0);
	CHECK_INT(w.latest_end_ns, T0 + 12 * H);
	CHECK(w.chunks == NULL);
	jst_when_release(&w);
	/* no deadline: the forecast's end (24:00); 04:00 + 3 h = ... 07:00 (100) is still the best */
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 3 * H, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.latest_end_ns, T0 + 24 * H);
	CHECK_INT(w.candidates, 22);
	CHECK_INT(w.best.start_ns, T0 + 7 * H);
	jst_when_release(&w);
}

/* Now at 00:30: windows start 00:30, 01:30 (the SDK slides from the requested start, one step
 * at a time) and are time-weighted: [00:30, 01:30) = ½ 300 + ½ 280 = 290, [01:30, 02:30) =
 * 270; [02:30, 03:30) ends after the 03:00 deadline. */
static void test_now_inside_a_value(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("de-hourly.csv", "DE", T0 + H / 2, H, T0 + 3 * H, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.candidates, 2);
	CHECK_INT(w.best.start_ns, T0 + 3 * H / 2);
	CHECK_NEAR(w.best.ci, 270, 1e-9);
	CHECK_NEAR(w.now.ci, 290, 1e-9);
	jst_when_release(&w);
	/* the forecast starts after now: the earliest start is its first value, no window "now" */
	CHECK_INT(plan("de-hourly.csv", "DE", T0 - H, 2 * H, T0 + 5 * H, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.earliest_ns, T0);
	CHECK(!w.has_now);
	CHECK_INT(w.best.start_ns, T0 + 3 * H); /* (95 + 200) / 2 */
	CHECK_NEAR(w.best.ci, 147.5, 1e-9);
	jst_when_release(&w);
}

/* ties.csv: 200 100 100 200 100 100 200; 2 h windows: 150 100 150 150 100 150: 01:00 and
 * 04:00 tie, the earliest wins. */
static void test_ties(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("ties.csv", "DE", T0, 2 * H, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.best.start_ns, T0 + H);
	CHECK_NEAR(w.best.ci, 100, 1e-9);
	CHECK_INT(w.ties, 2);
	CHECK_INT(w.candidates, 6);
	jst_when_release(&w);
	/* now-best.csv (1 s values 100 100 300 ...): the best is now itself */
	CHECK_INT(plan("now-best.csv", "DE", T0, 2 * S, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.best.start_ns, T0);
	CHECK_NEAR(w.best.ci, 100, 1e-9);
	jst_when_release(&w);
}

static void test_errors(void)
{
	struct jst_when w;
	char err[256] = "";
	/* a deadline shorter than the job */
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 6 * H, T0 + 4 * H, 0, &w, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "the deadline 2024-03-01T04:00:00Z leaves 4h from now (2024-03-01T00:00:00Z), "
	               "less than the job's 6h");
	CHECK_HAS(err, "move --deadline later or shorten --duration");
	CHECK(w.chunks == NULL);
	CHECK_INT(plan("de-hourly.csv", "DE", T0, H, T0 - H, 0, &w, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "is not after now");
	/* the forecast is too short for the job, or already over */
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 30 * H, 0, 0, &w, err, sizeof(err)), -ERANGE);
	CHECK_HAS(err, "would end after the forecast's end (2024-03-02T00:00:00Z)");
	CHECK_INT(plan("de-hourly.csv", "DE", T0 + 48 * H, H, 0, 0, &w, err, sizeof(err)), -ERANGE);
	CHECK_HAS(err, "before now");
	/* a duration that is not whole chunks */
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 3 * H, 0, 2 * H, &w, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "not a whole number of chunks of 2h");
	CHECK(w.chunks == NULL);
	/* values two days apart are no forecast to plan on (and would overflow far-apart times) */
	static const char sparse[] = "datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,1\n"
	                             "2024-03-03T00:00:00Z,DE,2\n";
	struct jst_ci_file *f = NULL;
	CHECK_INT(jst_ci_parse(sparse, sizeof(sparse) - 1, "s.csv", NULL, &f, err, sizeof(err)), 0);
	struct jst_when_in in = {jst_ci_select(f, "DE"), T0, H, 0, 0};
	CHECK_INT(jst_when_plan(&in, &w, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "the forecast's values are 2d apart");
	jst_ci_free(f);
}

/* gaps.csv: 00 300, 01 250, 02 50, (03 and 04 missing), 05 60, 06 70, 07 200, 08 300. The
 * step is 1 h, so 02:00's value covers 02:00-03:00 and 03:00-05:00 is a gap. 2 h windows:
 * 00 275, 01 150, [02, 03, 04 overlap the gap], 05 65, 06 135, 07 250: best 05:00. Read as a
 * plain step function, 50 would hold until 05:00 and 02:00 would win at 50. */
static void test_gaps(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("gaps.csv", "DE", T0, 2 * H, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.step_ns, H);
	CHECK_INT(w.ngaps, 1);
	CHECK_INT(w.gaps[0].from_ns, T0 + 3 * H);
	CHECK_INT(w.gaps[0].to_ns, T0 + 5 * H);
	CHECK_INT(w.gap_ns, 2 * H);
	CHECK_INT(w.in_gaps, 3);
	CHECK_INT(w.candidates, 5);
	CHECK_INT(w.best.start_ns, T0 + 5 * H);
	CHECK_NEAR(w.best.ci, 65, 1e-9);
	CHECK(w.has_now);
	jst_when_release(&w);
	/* 4 h: every window but 05:00-09:00 overlaps the gap, starting now included */
	CHECK_INT(plan("gaps.csv", "DE", T0, 4 * H, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.candidates, 1);
	CHECK(!w.has_now);
	CHECK_NEAR(w.best.ci, (60 + 70 + 200 + 300) / 4.0, 1e-9);
	jst_when_release(&w);
	/* 5 h: none fits */
	CHECK_INT(plan("gaps.csv", "DE", T0, 5 * H, 0, 0, &w, err, sizeof(err)), -ERANGE);
	CHECK_HAS(err, "every window of the job's length overlaps one of the forecast's 1 gaps");
	/* interruptible, 4 chunks of 1 h: 02 (50), 05 (60), 06 (70), 07 (200), never in the gap */
	CHECK_INT(plan("gaps.csv", "DE", T0, 4 * H, 0, H, &w, err, sizeof(err)), 0);
	CHECK_INT(w.nchunks, 4);
	int64_t want[] = {2, 5, 6, 7};
	for (size_t i = 0; i < 4 && i < w.nchunks; i++)
		CHECK_INT(w.chunks[i].start_ns, T0 + want[i] * H);
	CHECK_NEAR(w.chunks_ci, (50 + 60 + 70 + 200) / 4.0, 1e-9);
	jst_when_release(&w);
}

/* de-hourly.csv by 12:00, 3 chunks of 1 h: the three cleanest hours 08 (90), 03 (95) and
 * 07 (100), in time order: 03, 07, 08; 95 on average against 100 in one piece. */
static void test_chunks(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 3 * H, T0 + 12 * H, H, &w, err, sizeof(err)), 0);
	CHECK_INT(w.nchunks, 3);
	if (w.nchunks == 3) {
		CHECK_INT(w.chunks[0].start_ns, T0 + 3 * H);
		CHECK_INT(w.chunks[1].start_ns, T0 + 7 * H);
		CHECK_INT(w.chunks[2].start_ns, T0 + 8 * H);
		CHECK_INT(w.chunks[2].end_ns, T0 + 9 * H);
		CHECK_NEAR(w.chunks[0].ci, 95, 1e-9);
		CHECK_NEAR(w.chunks[2].ci, 90, 1e-9);
	}
	CHECK_NEAR(w.chunks_ci, 95, 1e-9);
	CHECK_NEAR(w.best.ci, 100, 1e-9);
	CHECK(!w.chunks_aligned);
	jst_when_release(&w);
	/* 2 chunks of 2 h on the 1 h grid: 2 h averages 290 270 177.5 147.5 175 135 110 95 100 120
	 * 145: 07-09 (95) first; 08 (100) and 06 (110) overlap it; then 09-11 (120) */
	CHECK_INT(plan("de-hourly.csv", "DE", T0, 4 * H, T0 + 12 * H, 2 * H, &w, err, sizeof(err)), 0);
	CHECK_INT(w.nchunks, 2);
	if (w.nchunks == 2) {
		CHECK_INT(w.chunks[0].start_ns, T0 + 7 * H);
		CHECK_NEAR(w.chunks[0].ci, 95, 1e-9);
		CHECK_INT(w.chunks[1].start_ns, T0 + 9 * H);
		CHECK_NEAR(w.chunks[1].ci, 120, 1e-9);
	}
	CHECK_NEAR(w.chunks_ci, 107.5, 1e-9);
	jst_when_release(&w);
}

/* 100 1 1 100 hourly, 2 chunks of 2 h within 4 h: greedy on the 1 h grid takes 01-03 (1) and
 * leaves no room for a second; redone on whole chunks from 00:00: 00-02 and 02-04. */
static void test_chunks_realigned(void)
{
	static const char csv[] = "datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,100\n"
	                          "2024-03-01T01:00:00Z,DE,1\n2024-03-01T02:00:00Z,DE,1\n"
	                          "2024-03-01T03:00:00Z,DE,100\n";
	struct jst_ci_file *f = NULL;
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(jst_ci_parse(csv, sizeof(csv) - 1, "r.csv", NULL, &f, err, sizeof(err)), 0);
	struct jst_when_in in = {jst_ci_select(f, "DE"), T0, 4 * H, T0 + 4 * H, 2 * H};
	CHECK_INT(jst_when_plan(&in, &w, err, sizeof(err)), 0);
	CHECK(w.chunks_aligned);
	CHECK_INT(w.nchunks, 2);
	if (w.nchunks == 2) {
		CHECK_INT(w.chunks[0].start_ns, T0);
		CHECK_INT(w.chunks[1].start_ns, T0 + 2 * H);
	}
	CHECK_NEAR(w.chunks_ci, 50.5, 1e-9);
	jst_when_release(&w);
	jst_ci_free(f);
}

/* WattTime forecast JSON, 5 min values in lbs/MWh: 900 880 860 700 500 450 450 600 ...; a
 * 15 min job is best at 00:20 (500 450 450); Electricity Maps forecast for FR, 60 40 20 30 50
 * 80: 2 h best at 02:00 (25). */
static void test_json_forecasts(void)
{
	struct jst_when w;
	char err[256] = "";
	CHECK_INT(plan("watttime-forecast.json", "US-CAL-CISO", T0, 15 * 60 * S, 0, 0, &w, err,
	               sizeof(err)), 0);
	CHECK_INT(w.step_ns, 300 * S);
	CHECK_INT(w.best.start_ns, T0 + 20 * 60 * S);
	CHECK_NEAR(w.best.ci, (500 + 450 + 450) / 3.0 * 0.45359237, 1e-9);
	CHECK_NEAR(w.now.ci, (900 + 880 + 860) / 3.0 * 0.45359237, 1e-9);
	CHECK_INT(w.end_ns, T0 + 3600 * S);
	jst_when_release(&w);
	CHECK_INT(plan("em-forecast.json", "FR", T0, 2 * H, 0, 0, &w, err, sizeof(err)), 0);
	CHECK_INT(w.best.start_ns, T0 + 2 * H);
	CHECK_NEAR(w.best.ci, 25, 1e-9);
	CHECK_INT(w.candidates, 5);
	jst_when_release(&w);
}

/* The mean of a series over a window: time-weighted, only the covered part. */
static void test_series_mean(void)
{
	struct jst_ci_file *f = load("de-hourly.csv");
	const struct jst_series *s = jst_ci_select(f, "DE");
	double m;
	int64_t cov;
	CHECK_INT(jst_series_mean(s, T0, T0 + 2 * H, &m, &cov), 0);
	CHECK_NEAR(m, 290, 1e-9);
	CHECK_INT(cov, 2 * H);
	CHECK_INT(jst_series_mean(s, T0 + H / 2, T0 + 3 * H / 2, &m, &cov), 0);
	CHECK_NEAR(m, 290, 1e-9);
	/* a window from 23:00 to 01:00 next day: only 23:00-24:00 is covered (300) */
	CHECK_INT(jst_series_mean(s, T0 + 23 * H, T0 + 25 * H, &m, &cov), 0);
	CHECK_NEAR(m, 300, 1e-9);
	CHECK_INT(cov, H);
	CHECK_INT(jst_series_mean(s, T0 - 5 * H, T0 - H, &m, &cov), -ENOENT);
	jst_ci_free(f);
}

int main(void)
{
	test_best_window();
	test_now_inside_a_value();
	test_ties();
	test_errors();
	test_gaps();
	test_chunks();
	test_chunks_realigned();
	test_json_forecasts();
	test_series_mean();
	return check_done();
}
