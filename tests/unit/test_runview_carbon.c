/* Hourly carbon from the log: a run integrated live with an intensity series whose values
 * differ strongly writes the values it used as intensity events; its view (src/agg/runview.c,
 * what `show`, a replay and a server's store give) finds the live CO2e again, to 1e-12,
 * whether the values came before the samples (a file) or after them (a live source), and so
 * does the server's aggregation (agg.c, batch by batch, the events of earlier batches
 * reloaded): for values after their samples, once jst__agg_settle charges the minutes
 * already counted again (settle.c). All far from the yearly figure. The events are made by
 * the encoders `run` uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"
#include "agg/runview.h"
#include "check.h"
#include "joulestream/carbon.h"
#include "joulestream/event.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"

#define S 1000000000LL
#define T0 1709251200LL /* 2024-03-01T00:00:00Z */
#define TICKS 600       /* 0.7 s each: 7 minutes */

static struct jst_run run;
static char lines[4 * TICKS + 64][4096];
static size_t nlines;

static void add_line(int n)
{
	CHECK(n > 0);
	if (n > 0)
		lines[nlines++][n] = '\0';
}

/* The intensity events of every value of s over [from, to), as run_sink.c sends them. */
static void intensity_events(const struct jst_series *s, int64_t from, int64_t to, bool late,
			     uint64_t *seq)
{
	ssize_t i = jst_series_find(s, from, NULL);
	size_t k = i < 0 ? 0 : (size_t)i, end = k;
	while (end < s->n && s->pts[end].t_ns < to)
		end++;
	while (k < end) {
		size_t next = k + 1;
		add_line(jst_event_encode_intensity(&run, s, k, end, late, (*seq)++, &next,
						    lines[nlines], sizeof(lines[0])));
		k = next;
	}
}

/* run_start, then (values first: a file) intensity and samples, or (a live source) the
 * samples and then the values, then run_end; returns the live CO2e. */
static double make_log(const struct jst_series *s, bool values_first)
{
	static char train[] = "train";
	char *argv[] = {train};
	struct jst_carbon_acc live;
	nlines = 0;
	jst_carbon_acc_for_site(&live, &run.site, s);
	add_line(jst_event_encode_run_start(&run, "m", 1, argv, lines[nlines], sizeof(lines[0])));
	uint64_t seq = 0, end_ns = run.start_ns + (uint64_t)llround(TICKS * 0.7 * 1e9);
	if (values_first)
		intensity_events(s, (int64_t)run.start_ns, (int64_t)end_ns, false, &seq);
	for (int i = 0; i < TICKS; i++) {
		double t = i * 0.7, e = 50 + (i % 13) * 7.5;
		struct jst_sample pk = {t, 0.7, 0, 0, e, e * 0.8, e / 0.7, 0};
		struct jst_sample core = {t, 0.7, 1, 0, e / 2, e / 2 * 0.8, 0, 0}; /* not counted */
		add_line(jst_event_encode_sample(&run, &pk, (uint64_t)i, lines[nlines],
						 sizeof(lines[0])));
		add_line(jst_event_encode_sample(&run, &core, (uint64_t)i, lines[nlines],
						 sizeof(lines[0])));
		jst_carbon_acc_add(&live, run.start_ns, t, 0.7, pk.run_j);
	}
	if (!values_first)
		intensity_events(s, (int64_t)run.start_ns, (int64_t)end_ns, true, &seq);
	struct jst_run end = run;
	end.finished = true;
	end.end_ns = end_ns;
	jst_carbon_acc_result(&live, &end.result);
	add_line(jst_event_encode_run_end(&end, lines[nlines], sizeof(lines[0])));
	return live.co2e_g;
}

/* The view, with its second pass over the samples (store.c's read_view). */
static void check_view(double want, const char *version)
{
	static struct jst_run back;
	struct jst__runview v;
	jst__runview_init(&v, &back);
	for (size_t i = 0; i < nlines; i++)
		CHECK_INT(jst__runview_event(&v, lines[i], strlen(lines[i])), 0);
	CHECK(jst__runview_wants_samples(&v));
	jst__runview_carbon_begin(&v);
	for (size_t i = 0; i < nlines; i++)
		jst__runview_carbon_sample(&v, lines[i], strlen(lines[i]));
	CHECK_INT(jst__runview_finish(&v), 0);
	CHECK_NEAR(back.result.footprint.co2e_g, want, 1e-12 * want);
	CHECK_STR(back.result.data_version, version);
	CHECK(back.result.ci_min_g_per_kwh == 40 && back.result.ci_max_g_per_kwh == 900);
	jst__runview_release(&v);
}

/* The server's aggregation: two batches, the second one loading the run's row, its zones and
 * windows, and the events the first one stored (batch 1: lines before split, 2: the rest). */
static struct jst_agg_run stored;
static struct jst_agg_zone stored_zones[4];
static struct jst_agg_window *stored_wins;
static size_t split, nstored_zones, nstored_wins;

static int load_run(void *ud, const char *id, struct jst_agg_run *out)
{
	(void)ud;
	if (!stored.run[0] || strcmp(id, stored.run) != 0)
		return 0;
	*out = stored;
	return 1;
}
static int load_zone(void *ud, const char *r, const char *z, struct jst_agg_zone *o)
{
	(void)ud, (void)r;
	for (size_t i = 0; i < nstored_zones; i++)
		if (strcmp(stored_zones[i].zone, z) == 0) {
			*o = stored_zones[i];
			return 1;
		}
	return 0;
}
static int load_win(void *ud, const char *r, const char *z, uint64_t w, struct jst_agg_window *o)
{
	(void)ud, (void)r;
	for (size_t i = 0; i < nstored_wins; i++)
		if (stored_wins[i].win == w && strcmp(stored_wins[i].zone, z) == 0) {
			*o = stored_wins[i];
			return 1;
		}
	return 0;
}
static int load_events(void *ud, const char *id, const char *type, int64_t max_batch, uint64_t from,
		       int (*fn)(int64_t, const char *, size_t, void *), void *arg)
{
	(void)ud, (void)id;
	struct jst_event ev;
	char err[200];
	for (size_t i = 0; i < nlines && (i < split ? 1 : 2) <= max_batch; i++) {
		CHECK_INT(jst_event_parse(lines[i], strlen(lines[i]), &ev, err, sizeof(err)), 0);
		if ((type && strcmp(type, jst_event_type_name(ev.type)) != 0) || ev.ts_ns < from)
			continue;
		int r = fn((int64_t)i, lines[i], strlen(lines[i]), arg);
		if (r)
			return r < 0 ? r : 0;
	}
	return 0;
}
static int last_sample(void *ud, const char *id, uint64_t *ts)
{
	(void)ud, (void)id;
	*ts = 0;
	for (size_t i = 0; i < nstored_zones; i++)
		if (stored_zones[i].last_ts_ns > *ts)
			*ts = stored_zones[i].last_ts_ns;
	return 0;
}

static double aggregate(void)
{
	struct jst_agg a;
	struct jst_agg_loader ld = {NULL, load_run, load_zone, load_win, load_events, last_sample, 1};
	struct jst_event ev;
	char err[200];
	double co2e = 0, windows = 0;
	memset(&stored, 0, sizeof(stored));
	nstored_zones = nstored_wins = 0;
	split = nlines / 2;
	jst__agg_init(&a);
	for (size_t i = 0; i < nlines; i++) {
		if (i == split) { /* the batch is written: its rows are what the next one loads */
			CHECK_INT(jst__agg_settle(&a, &ld), 0);
			stored = a.runs[0];
			stored.ci = NULL;
			stored.nci = stored.cap_ci = 0;
			nstored_zones = a.nzones < 4 ? a.nzones : 4;
			memcpy(stored_zones, a.zones, nstored_zones * sizeof(*a.zones));
			stored_wins = malloc(a.nwins * sizeof(*a.wins));
			memcpy(stored_wins, a.wins, a.nwins * sizeof(*a.wins));
			nstored_wins = a.nwins;
			jst__agg_reset(&a);
			ld.batch = 2;
		}
		CHECK_INT(jst_event_parse(lines[i], strlen(lines[i]), &ev, err, sizeof(err)), 0);
		CHECK_INT(jst__agg_add(&a, &ld, &ev), 0);
	}
	CHECK_INT(jst__agg_settle(&a, &ld), 0);
	co2e = a.runs[0].co2e_g;
	for (size_t w = 0; w < nstored_wins; w++) { /* the minutes this batch did not rewrite */
		bool again = false;
		for (size_t k = 0; k < a.nwins && !again; k++)
			again = a.wins[k].win == stored_wins[w].win && strcmp(a.wins[k].zone, stored_wins[w].zone) == 0;
		if (!again)
			windows += stored_wins[w].co2e_g;
	}
	for (size_t w = 0; w < a.nwins; w++)
		windows += a.wins[w].co2e_g;
	CHECK_NEAR(windows, co2e, 1e-12 * co2e); /* the minutes add up to the run */
	jst__agg_release(&a);
	free(stored_wins);
	stored_wins = NULL;
	return co2e;
}

int main(void)
{
	strcpy(run.id, "01JD0000000000000000000CI1");
	strcpy(run.meta.host, "h");
	strcpy(run.site.zone_code, "FR");
	run.site.ci_g_per_kwh = jst_grid_zone_find("FR")->ci_g_per_kwh; /* as the server finds it */
	run.site.pue = 1.2;
	run.site.wue_l_per_kwh = 0.3;
	run.site.ewif_l_per_kwh = 1.6;
	run.interval_s = 0.7;
	run.start_ns = (uint64_t)(T0 + 55) * S;
	run.nzones = 2;
	strcpy(run.zones[0].zone.name, "package-0");
	run.zones[0].zone.kind = JST_KIND_PACKAGE;
	run.zones[0].zone.source = "rapl";
	run.zones[0].zone.flags = JST_ZONE_COUNTED;
	strcpy(run.zones[1].zone.name, "core-0");
	run.zones[1].zone.kind = JST_KIND_CORE;
	run.zones[1].zone.source = "rapl";

	/* a value a minute, swinging between 40 and 900 g/kWh, then one at 00:27 (holding 16 minutes) */
	char csv[4096], err[512];
	size_t off = (size_t)snprintf(csv, sizeof(csv), "datetime,zone,ci_g_per_kwh\n");
	for (int m = 0; m < 12; m++)
		off += (size_t)snprintf(csv + off, sizeof(csv) - off,
					"2024-03-01T00:%02d:00Z,FR,%d\n", m,
					(int[]){40, 900, 300}[m % 3]);
	snprintf(csv + off, sizeof(csv) - off, "2024-03-01T00:27:00Z,FR,500\n");
	struct jst_ci_file *f = NULL;
	CHECK_INT(jst_ci_parse(csv, strlen(csv), "swing.csv", NULL, &f, err, sizeof(err)), 0);
	const struct jst_series *s = jst_ci_select(f, "FR");

	double live = make_log(s, true);
	double yearly = 0;
	for (int i = 0; i < TICKS; i++)
		yearly +=
			(50 + (i % 13) * 7.5) * 0.8 / 3.6e6 * run.site.pue * run.site.ci_g_per_kwh;
	CHECK(live > 2 * yearly); /* the hours matter: the yearly figure is far off */
	check_view(live, jst_ci_version(f));
	CHECK_NEAR(aggregate(), live, 1e-12 * live);

	/* a live source: the values after the samples, flagged late: the view's figure is the
	 * same, and so is the aggregates' once the minutes already counted are charged again
	 * (jst__agg_settle), over samples stored by the batch before and in the same batch */
	CHECK_NEAR(make_log(s, false), live, 0);
	check_view(live, jst_ci_version(f));
	CHECK_NEAR(aggregate(), live, 1e-12 * live);

	/* a run longer than the series: the yearly average after its end, both versions named */
	run.start_ns = (uint64_t)(T0 + 40 * 60) * S; /* the last value holds until 00:43 */
	live = make_log(s, true);
	static struct jst_run back;
	struct jst__runview v;
	jst__runview_init(&v, &back);
	for (size_t i = 0; i < nlines; i++)
		jst__runview_event(&v, lines[i], strlen(lines[i]));
	jst__runview_carbon_begin(&v);
	for (size_t i = 0; i < nlines; i++)
		jst__runview_carbon_sample(&v, lines[i], strlen(lines[i]));
	CHECK_INT(jst__runview_finish(&v), 0);
	CHECK_NEAR(back.result.footprint.co2e_g, live, 1e-12 * live);
	CHECK(back.result.outside_kwh > 0);
	CHECK_HAS(back.result.data_version, "+" JST_DATA_VERSION);
	jst__runview_release(&v);
	CHECK_NEAR(aggregate(), live, 1e-12 * live);

	/* the event itself: validated like any other */
	struct jst_event ev;
	const char bad[] =
		"{\"v\":1,\"id\":\"x-i-0\",\"type\":\"intensity\",\"ts_ns\":1,\"run\":\"x\",\"host\":\"h\","
		"\"data_version\":\"d\",\"step_s\":60,\"ci_g_per_kwh\":[10,-1]}";
	CHECK_INT(jst_event_parse(bad, sizeof(bad) - 1, &ev, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, "from 0 to 5000");
	const char none[] =
		"{\"v\":1,\"id\":\"x-i-0\",\"type\":\"intensity\",\"ts_ns\":1,\"run\":\"x\",\"host\":\"h\","
		"\"data_version\":\"d\",\"step_s\":60,\"ci_g_per_kwh\":[]}";
	CHECK_INT(jst_event_parse(none, sizeof(none) - 1, &ev, err, sizeof(err)), -EINVAL);
	jst_ci_free(f);
	return check_done();
}
