/* The SQLite store: a run written as its events (run_start, samples, run_end) reads back as
 * their view field for field, its zone totals derived from the samples; samples come back in
 * order and rebuild a timeline with the same totals; ids resolve by prefix and "last"; an
 * ambiguous prefix and an unknown id are errors; reopening keeps everything; a database that
 * cannot be written is reported, not ignored; the legacy record calls write nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/store.h"
#include "runlog.h"

static void make_run(struct jst_run *r, const char *id, uint64_t start)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->id, id);
	strcpy(r->meta.command, "python train.py --epochs '3 x'");
	strcpy(r->meta.host, "node1");
	strcpy(r->meta.user, "ada");
	strcpy(r->meta.git_commit, "0123456789abcdef0123456789abcdef01234567");
	r->meta.git_dirty = 1;
	r->meta.cpu_count = 8;
	r->start_ns = start;
	r->interval_s = 0.1;
	r->site.pue = 1.2;
	r->site.wue_l_per_kwh = 0.3;
	r->site.ewif_l_per_kwh = -1;
	strcpy(r->site.zone_code, "DE");
	strcpy(r->site.ci_source, "test source 2024");
	r->site.ci_g_per_kwh = 342;
	r->site.zone_origin = JST_ORIGIN_OPTION;
	r->nzones = 2;
	strcpy(r->zones[0].zone.name, "package-0");
	r->zones[0].zone.source = "rapl";
	r->zones[0].zone.flags = JST_ZONE_COUNTED | JST_ZONE_BY_CPU;
	strcpy(r->zones[1].zone.name, "gpu0");
	strcpy(r->zones[1].zone.label, "NVIDIA H100 80GB HBM3");
	r->zones[1].zone.kind = JST_KIND_GPU;
	r->zones[1].zone.source = "nvml";
	r->zones[1].zone.flags = JST_ZONE_COUNTED | JST_ZONE_BY_GPU;
}

static int count_cb(const struct jst_run *run, void *ud)
{
	(void)run;
	(*(int *)ud)++;
	return 0;
}

struct sum { double host, run; int n; };

static int sum_cb(const struct jst_sample *s, void *ud)
{
	struct sum *a = ud;
	a->host += s->host_j;
	a->run += s->run_j;
	a->n++;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/jst-store-XXXXXX", path[256], err[512];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/j.db", dir);
	struct jst_store *s;
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);

	static struct jst_run a, b, back;
	make_run(&a, "01JD0000000000000000000AAA", 1000);
	CHECK_INT(jst_store_load(s, "01JD0000000000000000000AAA", &back), -ENOENT);
	CHECK_INT(runlog_begin(s, &a), 0);
	CHECK_INT(jst_store_load(s, "01JD0000000000000000000AAA", &back), 0);
	CHECK(!back.finished);

	/* 300 ticks of two zones */
	struct jst_sample v[600];
	double host = 0, run = 0, host0 = 0, run0 = 0, peak1 = 0;
	for (int i = 0; i < 300; i++)
		for (int z = 0; z < 2; z++) {
			struct jst_sample *x = &v[i * 2 + z];
			*x = (struct jst_sample){i * 0.1, 0.1, (uint32_t)z, JST_READ_ENERGY, 10.0 + z + i * 0.01,
			                         (10.0 + z + i * 0.01) * 0.5, 100, 0};
			x->power_w = 100 + i + z;
			host += x->host_j;
			run += x->run_j;
			host0 += z ? 0 : x->host_j;
			run0 += z ? 0 : x->run_j;
			peak1 = z && x->power_w > peak1 ? x->power_w : peak1;
		}
	uint64_t seq[JST_ZONES_MAX] = {0};
	CHECK_INT(runlog_samples(s, &a, v, 250, seq), 0);
	CHECK_INT(runlog_samples(s, &a, v + 250, 350, seq), 0);

	a.finished = true;
	a.end_ns = a.start_ns + 30000000000ull;
	a.exit_code = 137;
	a.exit_signal = 9;
	a.zones[1].gone = true;
	jst_run_note(&a, "gpu0 (nvml) disappeared %d s into the run", 7);
	CHECK_INT(runlog_end(s, &a), 0);
	CHECK_INT(jst_store_run_end(s, &a), 0); /* the run-time result row */

	make_run(&b, "01JD0000000000000000000AAB", 2000);
	CHECK_INT(runlog_begin(s, &b), 0);
	jst_store_close(s);

	/* reopen: migrations are idempotent, data kept */
	CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
	CHECK_INT(jst_store_load(s, "01jd0000000000000000000aaa", &back), 0);
	CHECK_STR(back.id, a.id);
	CHECK(back.finished);
	CHECK_INT(back.exit_code, 137);
	CHECK_INT(back.exit_signal, 9);
	CHECK_STR(back.meta.command, a.meta.command);
	CHECK_STR(back.meta.git_commit, a.meta.git_commit);
	CHECK_INT(back.meta.git_dirty, 1);
	CHECK_INT(back.meta.cpu_count, 8);
	CHECK_INT(back.site.zone_origin, JST_ORIGIN_OPTION);
	CHECK_NEAR(back.site.ewif_l_per_kwh, -1, 0);
	CHECK_INT(back.nzones, 2);
	CHECK_STR(back.zones[1].zone.label, "NVIDIA H100 80GB HBM3");
	CHECK_STR(back.zones[1].zone.source, "nvml");
	CHECK(back.zones[1].gone);
	CHECK_NEAR(back.zones[1].peak_w, peak1, 1e-9);
	CHECK_NEAR(back.zones[0].run_j, run0, 1e-9); /* derived from the samples */
	CHECK_NEAR(back.zones[0].host_j, host0, 1e-9);
	CHECK_NEAR(back.run_j, run, 1e-9);
	CHECK_NEAR(back.result.footprint.co2e_g, run / 3.6e6 * 1.2 * 342,
		   1e-9); /* yearly: E x PUE x CI */
	CHECK_INT((int)back.nresults, 1);
	CHECK(back.prov.content_hash[0] != '\0'); /* the event digest */
	CHECK_INT(back.nnotes, 1);
	CHECK_STR(back.notes[0], "gpu0 (nvml) disappeared 7 s into the run");

	/* prefixes, last, ambiguity */
	CHECK_INT(jst_store_load(s, "last", &back), 0);
	CHECK_STR(back.id, b.id);
	CHECK_INT(jst_store_load(s, "01JD00", &back), -EEXIST);
	CHECK_HAS(jst_store_errmsg(s), "several runs");
	CHECK_INT(jst_store_load(s, "01JE", &back), -ENOENT);
	CHECK_INT(jst_store_load(s, "01", &back), -EINVAL);
	CHECK_INT(jst_store_load(s, "01JD%", &back), -ENOENT); /* LIKE wildcards are literal */
	int n = 0;
	CHECK_INT(jst_store_list(s, 0, count_cb, &n), 2);
	CHECK_INT(n, 2);
	n = 0;
	CHECK_INT(jst_store_list(s, 1, count_cb, &n), 1);

	/* samples and the rebuilt timeline */
	struct sum acc = {0};
	CHECK_INT(jst_store_samples(s, a.id, sum_cb, &acc), 600);
	CHECK_NEAR(acc.host, host, 1e-9);
	CHECK_NEAR(acc.run, run, 1e-9);
	CHECK_INT(jst_store_load(s, a.id, &back), 0);
	struct jst_timeline tl;
	CHECK_INT(jst_timeline_init(&tl, back.nzones), 0);
	CHECK(jst_store_timeline(s, &back, &tl) >= 0);
	CHECK_INT(tl.npoints, 300);
	double th = 0;
	for (size_t p = 0; p < tl.npoints * tl.nzones; p++)
		th += tl.host_j[p];
	CHECK_NEAR(th, host, 1e-9);
	jst_timeline_release(&tl);
	jst_store_close(s);

	/* a read-only database file: writing fails with a message */
	CHECK_INT(chmod(path, 0444), 0);
	if (geteuid() != 0) {
		CHECK_INT(jst_store_open(&s, path, err, sizeof(err)), 0);
		make_run(&b, "01JD0000000000000000000AAC", 3000);
		CHECK(runlog_begin(s, &b) < 0);
		CHECK(strlen(jst_store_errmsg(s)) > 0);
		jst_store_close(s);
	}
	/* a directory where the database should be */
	snprintf(path, sizeof(path), "%s", dir);
	CHECK(jst_store_open(&s, path, err, sizeof(err)) < 0);
	CHECK_HAS(err, dir);

	/* the timeline stays bounded and exact when far more ticks arrive than it has points */
	CHECK_INT(jst_timeline_init(&tl, 1), 0);
	double one = 1, total = 0;
	for (int i = 0; i < 10 * JST_TIMELINE_POINTS + 7; i++) {
		jst_timeline_add(&tl, i * 0.01, 0.01, &one, &one);
		total += 1;
	}
	CHECK(tl.npoints <= JST_TIMELINE_POINTS);
	double got = 0, dts = 0;
	for (size_t p = 0; p < tl.npoints; p++) {
		got += tl.host_j[p];
		dts += tl.dt_s[p];
		if (p)
			CHECK(tl.t_s[p] > tl.t_s[p - 1]);
	}
	CHECK_NEAR(got, total, 1e-9);
	CHECK_NEAR(dts, total * 0.01, 1e-9);
	jst_timeline_release(&tl);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
