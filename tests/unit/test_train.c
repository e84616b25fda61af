/* Phases, epochs, steps and metrics through the monitor, tick by tick on a RAPL fixture whose
 * counters the test advances at a constant 150 W, with marks at synthetic monotonic times that
 * fall inside sampling intervals: every phase's, epoch's and step range's energy is exactly
 * 150 W × its time, each set adds up to the run's total (and per zone), a metric gets the run's
 * energy at its instant, the prediction after epoch 1 of 3 is exact, nothing is allocated per
 * tick or mark once the first mark came, limits (depth, paths, epochs, step ranges) keep the
 * sums, and the store gives the whole record back, rebuilt from the run's events. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/report.h"
#include "joulestream/run.h"
#include "joulestream/store.h"
#include "joulestream/train.h"
#include "runlog.h"

#define MS 1000000ull
#define T0 1000000000000ull

static char root[256], dir[256];
static unsigned long long uj0, uj1; /* package-0, package-1 counters */
/* with a store, each mark is also a mark event, dated as the live run's sink dates it: at the
 * mark's time, or at the last tick when that interval was already sampled */
static struct jst_store *log_store;
static struct jst_run *log_run;
static unsigned long long last_tick, log_seq;

static void set_uj(const char *zone, unsigned long long v)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/class/powercap/%s/energy_uj", root, zone);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fprintf(f, "%llu\n", v);
	fclose(f);
}

/* A monitor with scope host on the fixture, started at T0 with both packages at 0. */
static struct jst_monitor *start(struct jst_run *run)
{
	memset(run, 0, sizeof(*run));
	strcpy(run->id, "01JDTRAINTRAINTRAINTRAINTR");
	char msg[128];
	CHECK_INT(jst_run_set_site(run, "DE", NULL, 1.5, 0.5, msg, sizeof(msg)), 0);
	struct jst_monitor_opts o = {{root, NULL}, "rapl", true, JST_SCOPE_HOST, 10 * MS, 0};
	struct jst_monitor *m = NULL;
	CHECK_INT(jst_monitor_new(&m, &o, run), 0);
	uj0 = uj1 = 0;
	set_uj("intel-rapl:1", 0);
	set_uj("intel-rapl:0", 0);
	jst_monitor_start(m, T0);
	return m;
}

/* One 10 ms tick ending at t: package-0 +1 J, package-1 +0.5 J (150 W together). */
static void tick(struct jst_monitor *m, unsigned long long t)
{
	uj0 += 1000000;
	uj1 += 500000;
	set_uj("intel-rapl:1", uj0);
	set_uj("intel-rapl:0", uj1);
	jst_monitor_tick(m, T0 + t, 0);
	last_tick = t;
}

/* Sends "VERB T REST" with T the run's start plus t_us microseconds. */
static void mark(struct jst_monitor *m, unsigned long long t_us, const char *verb, const char *rest)
{
	char msg[300];
	unsigned long long t = T0 + t_us * 1000ull;
	snprintf(msg, sizeof(msg), "%s %llu%s%s", verb, t, rest[0] ? " " : "", rest);
	CHECK_INT(jst_monitor_mark_text(m, msg, strlen(msg), t), 0);
	unsigned long long at = t_us * 1000ull > last_tick ? t_us * 1000ull : last_tick;
	if (log_store)
		CHECK_INT(runlog_mark(log_store, log_run, msg, (double)at / 1e9, log_seq++), 0);
}

static const struct jst_phase_total *phase(const struct jst_train *t, const char *path)
{
	for (size_t i = 0; i < t->nphases; i++)
		if (strcmp(t->phases[i].path, path) == 0)
			return &t->phases[i];
	fprintf(stderr, "no phase %s\n", path);
	return NULL;
}

static double zones_j(const struct jst_run *run, const struct jst_phase_total *p)
{
	double j = 0;
	for (size_t z = 0; z < run->nzones; z++)
		j += p->zone_j[z];
	return j;
}

/* Sums of phases (and per zone), epochs and step ranges equal the run's. */
static void check_sums(const struct jst_run *run)
{
	const struct jst_train *t = run->train;
	double ph = 0, ep = t->outside_epoch_j + t->beyond_j, st = t->outside_step_j, time = 0;
	for (size_t i = 0; i < t->nphases; i++) {
		ph += t->phases[i].energy_j;
		time += t->phases[i].time_s;
	}
	for (size_t z = 0; z < run->nzones; z++) {
		double zj = 0;
		for (size_t i = 0; i < t->nphases; i++)
			zj += t->phases[i].zone_j[z];
		CHECK_NEAR(zj, run->zones[z].run_j, 1e-9);
	}
	for (size_t i = 0; i < t->nepochs; i++)
		ep += t->epochs[i].energy_j;
	for (size_t i = 0; i < t->nsteps; i++)
		st += t->steps[i].energy_j;
	CHECK_NEAR(ph, run->run_j, 1e-9);
	CHECK_NEAR(ep, run->run_j, 1e-9);
	CHECK_NEAR(st, run->run_j, 1e-9);
	CHECK_NEAR(time, run->duration_s, 1e-9);
}

/* 3 epochs of 100 ms from 5 ms on, 4 steps of 25 ms each: forward 10 ms and backward 12.5 ms
 * inside "train", then 2.5 ms of "train" alone; a metric 22.5 ms into each step. */
static void schedule(struct jst_monitor *m, unsigned long long upto_us, unsigned long long *next)
{
	static const char *const kinds[] = {"epoch", "step", "begin", "fwd", "endfwd", "bwd", "endbwd", "metric", "endtrain"};
	for (; *next < 3 * 4 * 9; (*next)++) {
		unsigned e = (unsigned)(*next / 36), s = (unsigned)(*next / 9 % 4), k = (unsigned)(*next % 9);
		unsigned long long base = 5000 + e * 100000ull + s * 25000ull;
		static const unsigned long long at[] = {0, 0, 0, 0, 10000, 10000, 22500, 22500, 25000};
		unsigned long long t = base + at[k] - (k == 8 ? 1 : 0); /* train ends just before the next step */
		if (k == 0 && s != 0)
			continue;
		if (t > upto_us)
			return;
		const char *what = kinds[k];
		char buf[64];
		if (!strcmp(what, "epoch")) {
			snprintf(buf, sizeof(buf), "begin %u total=3", e + 1);
			mark(m, t, "epoch", buf);
		} else if (!strcmp(what, "step")) {
			mark(m, t, "step", "");
		} else if (!strcmp(what, "begin")) {
			mark(m, t, "phase", "begin train");
		} else if (!strcmp(what, "fwd") || !strcmp(what, "bwd")) {
			mark(m, t, "phase", what[0] == 'f' ? "begin forward" : "begin backward");
		} else if (!strncmp(what, "end", 3) && what[3] != 't') {
			mark(m, t, "phase", what[3] == 'f' ? "end forward" : "end backward");
		} else if (!strcmp(what, "metric")) {
			snprintf(buf, sizeof(buf), "loss=%.17g acc=0.%u", 1.0 / (e * 4 + s + 1), e * 4 + s + 1);
			mark(m, t, "metric", buf);
		} else {
			mark(m, t, "phase", "end train");
		}
	}
}

static double metric_j(const struct jst_train *t, size_t i)
{
	return t->metrics[i].energy_j;
}

/* The expectations of test_exact: power is 150 W throughout, so every part is 150 W × its time. */
static void check_exact(const struct jst_run *run, const struct jst_monitor *m)
{
	const struct jst_train *t = run->train;
	CHECK(t != NULL);
	CHECK_NEAR(run->run_j, 60.0, 1e-9);
	check_sums(run);
	CHECK_NEAR(phase(t, "train/forward")->energy_j, 18.0, 1e-9);
	CHECK_NEAR(phase(t, "train/forward")->time_s, 0.120, 1e-12);
	CHECK_NEAR(zones_j(run, phase(t, "train/forward")), 18.0, 1e-9);
	CHECK_NEAR(phase(t, "train/backward")->energy_j, 22.5, 1e-9);
	CHECK_INT(phase(t, "train/backward")->entries, 12);
	CHECK_INT(phase(t, "train/backward")->depth, 2);
	CHECK_NEAR(phase(t, "train")->energy_j, 150 * (12 * 0.0025 - 12e-6), 1e-9);
	CHECK_NEAR(phase(t, "(none)")->energy_j, 150 * (0.100 + 12e-6), 1e-9);
	CHECK_INT(t->nepochs, 3);
	for (size_t i = 0; i < t->nepochs; i++) {
		CHECK_INT(t->epochs[i].index, (long long)i + 1);
		CHECK_NEAR(t->epochs[i].energy_j, 15.0, 1e-9);
		CHECK_NEAR(t->epochs[i].start_j, 0.75 + 15.0 * (double)i, 1e-9);
		CHECK(t->epochs[i].complete);
		CHECK_INT(t->epochs[i].steps, 4);
	}
	CHECK_NEAR(t->outside_epoch_j, 15.0, 1e-9); /* 5 ms before, 95 ms after */
	CHECK_INT(t->steps_total, 12);
	CHECK_NEAR(t->steps[0].energy_j, 3.75, 1e-9);
	CHECK_NEAR(t->steps[11].energy_j, 150 * 0.120, 1e-9); /* the last step lasts to the end */
	CHECK_NEAR(t->outside_step_j, 0.75, 1e-9);
	CHECK_INT(t->metrics_logged, 12);
	CHECK_INT(t->nmetrics, 12);
	CHECK_NEAR(metric_j(t, 0), 150 * 0.0275, 1e-9); /* 5 + 22.5 ms into the run */
	CHECK_NEAR(metric_j(t, 5), 150 * (0.0275 + 0.100 + 0.025), 1e-9);
	CHECK_INT(t->metrics[5].epoch, 2);
	CHECK_INT(t->metrics[5].step, 6);
	CHECK_STR(jst_train_tag(t, "dataset"), "two spirals");
	CHECK_INT(t->late_marks, 1);
	/* prediction after epoch 1: 0.75 J before + 3 × 15 J, 5 ms + 3 × 100 ms; exact */
	const struct jst_prediction *p = &t->prediction;
	CHECK_INT(p->after, 1);
	CHECK_INT(p->planned, 3);
	CHECK_NEAR(p->energy_j, 45.75, 1e-9);
	CHECK_NEAR(p->duration_s, 0.305, 1e-12);
	CHECK(p->reached);
	CHECK_NEAR(p->actual_energy_j, 45.75, 1e-9);
	CHECK_NEAR(p->co2e_g, 45.75 / 3.6e6 * 1.5 * run->site.ci_g_per_kwh, 1e-12);
	unsigned seen = 0;
	char lines[4096];
	CHECK_INT(jst_monitor_messages(m, &seen, lines, sizeof(lines)), 3); /* first, after 2, done */
	CHECK_INT(seen, 3);
	CHECK_HAS(lines, "prediction after 1 of 3 epochs: all 3 take 305 ms and 45.8 J");
	CHECK_HAS(lines, "\nafter 2 of 3 epochs: projecting");
	CHECK_HAS(lines, "\n3 of 3 epochs done in 305 ms and 45.8 J");
	CHECK_HAS(lines, "off by +0.0 % in time and +0.0 % in energy");
	CHECK_INT(jst_monitor_messages(m, &seen, lines, sizeof(lines)), 0); /* nothing new */
	seen = 2;
	CHECK_INT(jst_monitor_messages(m, &seen, lines, 20), 0); /* too small: kept for later */
	CHECK_INT(seen, 2);
	/* phases' footprints add up to the run's */
	struct jst_footprint fp;
	double g = 0;
	for (size_t i = 0; i < t->nphases; i++) {
		jst_train_footprint(run, t->phases[i].energy_j, &fp);
		g += fp.co2e_g;
	}
	CHECK_NEAR(g, run->result.footprint.co2e_g, 1e-12);
}

static void test_exact(struct jst_store *store)
{
	static struct jst_run run;
	struct jst_monitor *m = start(&run);
	last_tick = log_seq = 0;
	uint64_t seq[JST_ZONES_MAX] = {0};
	if (store)
		CHECK_INT(runlog_begin(store, &run), 0);
	log_store = store;
	log_run = &run;
	unsigned long long next = 0;
	struct mallinfo2 before = {0};
	for (unsigned k = 1; k <= 40; k++) {
		schedule(m, k * 10000ull, &next);
		if (k == 31)
			mark(m, 305000, "epoch", "end");
		if (k == 2)
			mark(m, 1000, "tag", "dataset=two spirals"); /* late: its interval is sampled */
		tick(m, k * 10 * MS);
		if (k == 3)
			before = mallinfo2();
		if (k % 5 == 0 && store) { /* drained as `joulestream run` does, in batches */
			size_t n;
			const struct jst_sample *v = jst_monitor_pending(m, &n);
			CHECK_INT(runlog_samples(store, &run, v, n, seq), 0);
		}
		if (k % 5 == 0)
			jst_monitor_drained(m);
	}
	struct mallinfo2 after = mallinfo2();
	if (!store) /* marks and ticks allocate nothing (SQLite does, when there is a store) */
		CHECK_INT(after.uordblks, before.uordblks);
	jst_monitor_finish(m, T0 + 400 * MS);
	check_exact(&run, m);
	if (store) {
		size_t n;
		const struct jst_sample *v = jst_monitor_pending(m, &n);
		CHECK_INT(runlog_samples(store, &run, v, n, seq), 0);
		CHECK_INT(runlog_end(store, &run), 0);
		CHECK_INT(jst_store_run_end(store, &run), 0);
	}
	log_store = NULL;
	jst_monitor_free(m);
}

static void test_store(struct jst_store *store)
{
	static struct jst_run run;
	struct jst_train *t = jst_train_new();
	CHECK_INT(jst_store_load(store, "01JDTRAIN", &run), 0);
	CHECK_INT(jst_store_load_train(store, &run, t), 0);
	run.train = t;
	check_sums(&run);
	CHECK_INT(t->nphases, 4);
	CHECK_NEAR(phase(t, "train/backward")->energy_j, 22.5, 1e-9);
	CHECK_NEAR(zones_j(&run, phase(t, "train/backward")), 22.5, 1e-9);
	CHECK_INT(t->nepochs, 3);
	CHECK_NEAR(t->epochs[2].energy_j, 15.0, 1e-9);
	CHECK_INT(t->epochs[2].nvalues, 2);
	CHECK_STR(t->metric_names[t->epochs[2].value_name[0]], "loss");
	CHECK_NEAR(t->epochs[2].value[0], 1.0 / 12, 1e-12);
	CHECK_INT(t->metrics_logged, 12);
	CHECK_INT(t->nmetrics, 12);
	CHECK_NEAR(t->metrics[5].energy_j, 150 * 0.1525, 1e-9);
	CHECK_INT(t->metrics[5].nvalues, 2);
	CHECK_STR(t->metric_names[t->metrics[5].name[0]], "loss");
	CHECK_INT(t->steps_total, 12);
	CHECK_STR(jst_train_tag(t, "dataset"), "two spirals");
	CHECK_NEAR(t->prediction.energy_j, 45.75, 1e-9);
	CHECK(t->prediction.reached);
	/* the report shows it */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	jst_report_text(f, &run, "");
	fclose(f);
	CHECK_HAS(buf, "train/backward");
	CHECK_HAS(buf, "epoch 3");
	CHECK_HAS(buf, "prediction after 1 of 3 epochs");
	free(buf);
	free(t);
}

/* Limits: too deep, too many paths, too many epochs, step ranges merging: the sums hold. */
static void test_limits(void)
{
	static struct jst_run run;
	struct jst_monitor *m = start(&run);
	char name[32];
	unsigned long long t = 1000;
	for (int d = 0; d < 10; d++) {
		snprintf(name, sizeof(name), "begin d%d", d);
		mark(m, t++, "phase", name);
	}
	for (int d = 9; d >= 0; d--) {
		snprintf(name, sizeof(name), "end d%d", d);
		mark(m, t++, "phase", name);
	}
	tick(m, 10 * MS);
	for (int i = 0; i < 80; i++) { /* 80 distinct paths */
		snprintf(name, sizeof(name), "begin p%d", i);
		mark(m, 10000 + (unsigned long long)i * 100, "phase", name);
		snprintf(name, sizeof(name), "end p%d", i);
		mark(m, 10050 + (unsigned long long)i * 100, "phase", name);
	}
	tick(m, 20 * MS);
	for (unsigned k = 0; k < 1100; k++) { /* 1100 epochs, 1000 steps */
		mark(m, 20000 + k * 50ull, "epoch", "begin");
		if (k < 1000)
			mark(m, 20000 + k * 50ull + 10, "step", "");
		if (k % 200 == 199)
			tick(m, (20 + (k + 1) / 20) * MS);
	}
	CHECK(jst_monitor_mark_text(m, "phase 1 end nothing", 19, T0 + 80 * MS) < 0); /* unmatched */
	tick(m, 80 * MS);
	jst_monitor_finish(m, T0 + 80 * MS);
	const struct jst_train *tr = run.train;
	check_sums(&run);
	CHECK(phase(tr, "d0/d1/d2/d3/d4/d5/d6/d7") != NULL);
	CHECK(phase(tr, "(other)") != NULL);
	CHECK_INT(tr->nphases, JST_PHASES_MAX);
	CHECK_INT(tr->nepochs, JST_EPOCHS_MAX);
	CHECK_INT(tr->beyond_epochs, 1100 - JST_EPOCHS_MAX);
	CHECK_INT(tr->steps_total, 1000);
	CHECK_INT(tr->step_width, 16);
	CHECK_INT(tr->steps[0].first, 1);
	CHECK_INT(tr->steps[0].last, 16);
	CHECK_INT(tr->bad_marks, 1);
	CHECK_HAS(tr->bad_example, "without a matching begin");
	bool noted = false;
	for (size_t i = 0; i < run.nnotes; i++)
		noted |= strstr(run.notes[i], "deeper than 8") != NULL;
	CHECK(noted);
	jst_monitor_free(m);
}

int main(void)
{
	const char *fx = getenv("JST_FIXTURES");
	if (!fx) {
		fprintf(stderr, "JST_FIXTURES is not set\n");
		return 1;
	}
	char tmpl[] = "/tmp/jst-train-XXXXXX", cmd[1024], db[512], err[600];
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(dir, sizeof(dir), "%s", tmpl);
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/sysfs-2socket' '%s'", fx, root);
	CHECK_INT(system(cmd), 0);
	snprintf(db, sizeof(db), "%s/t.db", tmpl);
	struct jst_store *store = NULL;
	CHECK_INT(jst_store_open(&store, db, err, sizeof(err)), 0);
	test_exact(NULL); /* once without a store: the allocation check sees only the monitor */
	test_exact(store);
	test_store(store);
	test_limits();
	jst_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
