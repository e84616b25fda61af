/* Tests of the estimate backend (src/sensor/estimate.c) and its TDP table (src/sensor/tdp.c):
 * model lookup and TDP scaling from fixture procfs trees, the power model at known
 * utilisations (the test rewrites /proc/stat in a temporary copy between reads), energy by the
 * registry's trapezoid, the fallback for unknown models, standing aside when RAPL measures,
 * and the CSV parser's errors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/util.h"
#include "joulestream/sensor.h"
#include "sensor/sensor.h"
#include "sensor/tdp.h"

extern const char jst_data_cpu_tdp[];
extern const size_t jst_data_cpu_tdp_len;

/* The model's parameters as documented in docs/estimate.md. */
#define IDLE_FRACTION (0.74 / 3.5)
#define W_PER_CPU 3.5
#define DRAM_W_PER_GIB 0.392
#define ALL_FLAGS (JST_ZONE_ESTIMATE | JST_ZONE_COUNTED | JST_ZONE_BY_CPU | JST_ZONE_POWER_ONLY)

static double model(double pmax, double u)
{
	return pmax * (IDLE_FRACTION + (1 - IDLE_FRACTION) * u);
}

/* ---- fixture trees ---- */

struct stat_ticks {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* The fixtures' first /proc/stat line: 60 % busy since boot. */
static const struct stat_ticks fixture_ticks = {5000, 0, 1000, 3500, 500, 0, 0, 0};

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	if (!in || !out) {
		fprintf(stderr, "cannot copy %s to %s\n", from, to);
		exit(2);
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

/* Copies tests/fixtures/<name>/proc/{stat,cpuinfo,meminfo} into a new temporary root. */
static void make_tree(const char *name, char *root, size_t n)
{
	const char *fx = getenv("JST_FIXTURES");
	snprintf(root, n, "/tmp/jst-estimate-XXXXXX");
	if (!fx || !mkdtemp(root)) {
		fprintf(stderr, "JST_FIXTURES not set or mkdtemp failed\n");
		exit(2);
	}
	char from[4096], to[4096];
	snprintf(to, sizeof(to), "%s/proc", root);
	mkdir(to, 0755);
	static const char *const files[] = {"stat", "cpuinfo", "meminfo"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(from, sizeof(from), "%s/%s/proc/%s", fx, name, files[i]);
		snprintf(to, sizeof(to), "%s/proc/%s", root, files[i]);
		copy_file(from, to);
	}
}

static void remove_tree(const char *root)
{
	static const char *const files[] = {"stat", "cpuinfo", "meminfo"};
	char p[4096];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/proc/%s", root, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/proc", root);
	rmdir(p);
	rmdir(root);
}

static void write_text(const char *root, const char *file, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/%s", root, file);
	FILE *f = fopen(p, "w"); /* truncates in place: the backend's open fd sees the new text */
	if (!f)
		exit(2);
	fputs(text, f);
	fclose(f);
}

static void write_stat(const char *root, const struct stat_ticks *t)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "cpu  %llu %llu %llu %llu %llu %llu %llu %llu 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\n"
		 "intr 1 0\nctxt 2\n",
		 (unsigned long long)t->user, (unsigned long long)t->nice,
		 (unsigned long long)t->system, (unsigned long long)t->idle,
		 (unsigned long long)t->iowait, (unsigned long long)t->irq,
		 (unsigned long long)t->softirq, (unsigned long long)t->steal);
	write_text(root, "stat", text);
}

static struct jst_sensor_ctx ctx_for(const char *root)
{
	struct jst_sensor_ctx c = {{NULL, root}, NULL, 0};
	return c;
}

/* ---- the backend called directly ---- */

static void check_zone_common(const struct jst_zone *z)
{
	CHECK_INT(z->flags, ALL_FLAGS);
	CHECK(z->flags & JST_ZONE_ESTIMATE);
	CHECK_STR(z->source, "estimate");
	CHECK_INT(z->device, -1);
}

/* A 4-vCPU VM on a Xeon Platinum 8375C (265 W, 64 threads): P_max = 265 × 4 / 64. */
static void test_vm_model(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-vm", root, sizeof(root));
	struct jst_sensor_ctx ctx = ctx_for(root);
	const struct jst_sensor_ops *ops = &jst__sensor_estimate;
	CHECK_STR(ops->name, "estimate");
	CHECK_INT(ops->probe(&ctx, why, sizeof(why)), 0);

	struct jst_zone z[4];
	void *st = NULL;
	CHECK_INT(ops->open(&ctx, &st, z, 4, why, sizeof(why)), 2);
	const double pmax = 265.0 * 4 / 64, pdram = 16 * DRAM_W_PER_GIB;
	CHECK_STR(z[0].name, "cpu-estimate");
	CHECK_INT(z[0].kind, JST_KIND_PACKAGE);
	CHECK_STR(z[0].label, "Intel Xeon Platinum 8375C");
	CHECK_NEAR(z[0].max_power_w, pmax, 1e-9);
	check_zone_common(&z[0]);
	CHECK_STR(z[1].name, "dram-estimate");
	CHECK_INT(z[1].kind, JST_KIND_DRAM);
	CHECK_STR(z[1].label, "16.0 GiB RAM");
	CHECK_NEAR(z[1].max_power_w, pdram, 1e-9);
	check_zone_common(&z[1]);

	struct jst_reading r[2];
	struct stat_ticks t = fixture_ticks;
	/* No tick since open: the utilisation since boot (60 %). */
	CHECK_INT(ops->read(st, r), 0);
	CHECK_INT(r[0].flags, JST_READ_POWER);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.6), 1e-9);
	CHECK_INT(r[1].flags, JST_READ_POWER);
	CHECK_NEAR(r[1].power_w, pdram, 1e-9);

	t.idle += 1000; /* 0 % */
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.0), 1e-9);
	CHECK_NEAR(r[0].power_w, pmax * 0.74 / 3.5, 1e-9);

	t.user += 500; /* 50 % */
	t.idle += 500;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.5), 1e-9);

	/* 100 %: every busy field counts, steal included. */
	t.user += 300, t.nice += 100, t.system += 200, t.irq += 100, t.softirq += 100,
		t.steal += 200;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, pmax, 1e-9);

	/* iowait is idle time: 600 busy of 1000 -> 60 %. */
	t.user += 600;
	t.iowait += 400;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.6), 1e-9);

	ops->close(st);
	remove_tree(root);
}

/* The edges of the utilisation: no tick, too few ticks, counters going back, garbage. */
static void test_vm_ticks(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-vm", root, sizeof(root));
	struct jst_sensor_ctx ctx = ctx_for(root);
	const struct jst_sensor_ops *ops = &jst__sensor_estimate;
	struct jst_zone z[2];
	void *st = NULL;
	CHECK_INT(ops->open(&ctx, &st, z, 2, why, sizeof(why)), 2);
	const double pmax = 265.0 * 4 / 64;
	struct jst_reading r[2];
	struct stat_ticks t = fixture_ticks;
	t.user += 600; /* 60 % */
	t.idle += 400;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.6), 1e-9);

	/* No tick in the interval: the last utilisation stays. */
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.6), 1e-9);

	/* Fewer ticks than CPUs: kept for later, then counted with the next ones (2 of 1000). */
	t.user += 2;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.6), 1e-9);
	t.idle += 998;
	write_stat(root, &t);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.002), 1e-9);

	/* Counters going back (a CPU taken offline): last value kept, new baseline taken. */
	struct stat_ticks back = {100, 0, 100, 100, 0, 0, 0, 0};
	write_stat(root, &back);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.002), 1e-9);
	back.user += 250, back.idle += 750; /* 25 % from the new baseline */
	write_stat(root, &back);
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, model(pmax, 0.25), 1e-9);

	/* A /proc/stat that is not one: the whole backend fails this read. */
	write_text(root, "stat", "garbage\n");
	CHECK(ops->read(st, r) < 0);
	ops->close(st);
	remove_tree(root);
}

/* Bare metal, two sockets of Xeon Silver 4110 (85 W, 8 cores / 16 threads) with SMT off: 16
 * CPUs seen, no hypervisor flag -> both packages count: P_max = 2 × 85, not 85 × 16 / 16. */
static void test_metal_sockets(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-metal", root, sizeof(root));
	struct jst_sensor_ctx ctx = ctx_for(root);
	struct jst_zone z[2];
	void *st = NULL;
	CHECK_INT(jst__sensor_estimate.open(&ctx, &st, z, 2, why, sizeof(why)), 2);
	CHECK_STR(z[0].label, "Intel Xeon Silver 4110");
	CHECK_NEAR(z[0].max_power_w, 170.0, 1e-9);
	CHECK_NEAR(z[1].max_power_w, 96 * DRAM_W_PER_GIB, 1e-9);
	struct jst_reading r[2];
	struct stat_ticks t = fixture_ticks;
	t.user += 16000; /* 100 % */
	write_stat(root, &t);
	CHECK_INT(jst__sensor_estimate.read(st, r), 0);
	CHECK_NEAR(r[0].power_w, 170.0, 1e-9);
	jst__sensor_estimate.close(st);
	remove_tree(root);
}

/* A model that is not in the table: the default W per logical CPU, and the label says so. */
static void test_unknown_model(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-vm", root, sizeof(root));
	write_text(root, "cpuinfo",
		   "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu hypervisor\n\n"
		   "processor\t: 1\nmodel name\t: AMD EPYC\nflags\t\t: fpu hypervisor\n");
	struct jst_sensor_ctx ctx = ctx_for(root);
	struct jst_zone z[2];
	void *st = NULL;
	CHECK_INT(jst__sensor_estimate.open(&ctx, &st, z, 2, why, sizeof(why)), 2);
	CHECK_STR(z[0].label, "AMD EPYC (not in TDP table)");
	CHECK_NEAR(z[0].max_power_w, 2 * W_PER_CPU, 1e-9);
	check_zone_common(&z[0]);
	struct jst_reading r[2];
	struct stat_ticks t = fixture_ticks;
	t.idle += 1000;
	write_stat(root, &t);
	CHECK_INT(jst__sensor_estimate.read(st, r), 0);
	CHECK_NEAR(r[0].power_w, 2 * 0.74, 1e-9); /* CCF's min watts per vCPU */
	t.user += 1000;
	write_stat(root, &t);
	CHECK_INT(jst__sensor_estimate.read(st, r), 0);
	CHECK_NEAR(r[0].power_w, 2 * 3.5, 1e-9); /* CCF's max watts per vCPU */
	jst__sensor_estimate.close(st);
	remove_tree(root);
}

/* ARM (Graviton-like): no "model name" at all. */
static void test_no_model_name(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-arm", root, sizeof(root));
	struct jst_sensor_ctx ctx = ctx_for(root);
	struct jst_zone z[2];
	void *st = NULL;
	CHECK_INT(jst__sensor_estimate.open(&ctx, &st, z, 2, why, sizeof(why)), 2);
	CHECK_STR(z[0].label, "unknown CPU model (not in TDP table)");
	CHECK_NEAR(z[0].max_power_w, 2 * W_PER_CPU, 1e-9);
	CHECK_STR(z[1].label, "8.0 GiB RAM");
	jst__sensor_estimate.close(st);
	remove_tree(root);
}

static struct jst_zone measured(const char *name, enum jst_zone_kind kind, unsigned flags)
{
	struct jst_zone z;
	memset(&z, 0, sizeof(z));
	snprintf(z.name, sizeof(z.name), "%s", name);
	z.kind = kind;
	z.source = "rapl";
	z.flags = flags;
	return z;
}

/* Earlier backends' zones in the context decide what the estimate stands in for. */
static void test_covered(void)
{
	char root[64], why[JST_WHY_MAX] = "";
	make_tree("procfs-estimate-vm", root, sizeof(root));
	const struct jst_sensor_ops *ops = &jst__sensor_estimate;
	struct jst_zone have[3] = {
		measured("package-0", JST_KIND_PACKAGE, JST_ZONE_COUNTED | JST_ZONE_BY_CPU),
		measured("dram-0", JST_KIND_DRAM, JST_ZONE_COUNTED | JST_ZONE_BY_CPU),
		measured("core-0", JST_KIND_CORE, JST_ZONE_BY_CPU),
	};
	struct jst_sensor_ctx ctx = {{NULL, root}, have, 2};
	struct jst_zone z[2];
	void *st = NULL;

	/* Intel RAPL: package and dram measured -> not needed (the registry: UNNEEDED). */
	CHECK_INT(ops->probe(&ctx, why, sizeof(why)), -EALREADY);
	CHECK_HAS(why, "not needed: rapl measures the CPU");
	CHECK_INT(ops->open(&ctx, &st, z, 2, why, sizeof(why)), -EALREADY);

	/* AMD RAPL: package only -> the memory alone is estimated. */
	ctx.nzones = 1;
	CHECK_INT(ops->probe(&ctx, why, sizeof(why)), 0);
	CHECK_INT(ops->open(&ctx, &st, z, 2, why, sizeof(why)), 1);
	CHECK_STR(z[0].name, "dram-estimate");
	check_zone_common(&z[0]);
	struct jst_reading r[1];
	CHECK_INT(ops->read(st, r), 0);
	CHECK_NEAR(r[0].power_w, 16 * DRAM_W_PER_GIB, 1e-9);
	ops->close(st);

	/* DRAM measured but no package: the CPU alone is estimated. */
	ctx.zones = &have[1];
	ctx.nzones = 1;
	CHECK_INT(ops->open(&ctx, &st, z, 2, why, sizeof(why)), 1);
	CHECK_STR(z[0].name, "cpu-estimate");
	ops->close(st);

	/* A zone that is not counted (core) covers nothing. */
	ctx.zones = &have[2];
	CHECK_INT(ops->open(&ctx, &st, z, 2, why, sizeof(why)), 2);
	ops->close(st);

	/* Not enough room left in the set. */
	CHECK_INT(ops->open(&ctx, &st, z, 1, why, sizeof(why)), -ENOSPC);
	remove_tree(root);

	/* No procfs: absent, and the reason names the file. */
	struct jst_sensor_ctx none = ctx_for("/nonexistent-jst-root");
	CHECK_INT(ops->probe(&none, why, sizeof(why)), -ENOENT);
	CHECK_HAS(why, "/nonexistent-jst-root/proc/stat");
}

/* Through the public API: the registry integrates the power readings by the trapezoid. */
static void test_registry_energy(void)
{
	char root[64];
	make_tree("procfs-estimate-vm", root, sizeof(root));
	struct jst_sensor_opts o;
	memset(&o, 0, sizeof(o));
	o.roots.procfs = root;
	o.roots.sysfs = "/nonexistent-jst-sysfs";
	o.only = "estimate";
	struct jst_sensors *s = NULL;
	CHECK_INT(jst_sensors_open(&s, &o), 0);
	if (!s)
		return;
	CHECK_INT(jst_sensors_count(s), 2);
	CHECK(jst_sensors_estimated(s));
	for (size_t i = 0; i < jst_sensors_count(s); i++)
		CHECK(jst_sensors_zone(s, i)->flags & JST_ZONE_ESTIMATE);
	for (size_t i = 0; i < jst_sensors_backend_count(s); i++) {
		const struct jst_backend_status *b = jst_sensors_backend(s, i);
		if (strcmp(b->name, "estimate") == 0)
			CHECK_INT(b->state, JST_BACKEND_ACTIVE);
	}
	const double pmax = 265.0 * 4 / 64, pdram = 16 * DRAM_W_PER_GIB;
	struct jst_reading out[2];
	struct stat_ticks t = fixture_ticks;
	t.idle += 1000; /* 0 % */
	write_stat(root, &t);
	uint64_t t1 = jst__mono_ns() + 1000000000ull;
	CHECK_INT(jst_sensors_read(s, t1, out), 0);
	CHECK_NEAR(out[0].power_w, model(pmax, 0), 1e-9);

	t.user += 1000; /* 100 % */
	write_stat(root, &t);
	CHECK_INT(jst_sensors_read(s, t1 + 2000000000ull, out), 0);
	CHECK_INT(out[0].flags, JST_READ_ENERGY | JST_READ_POWER);
	CHECK_NEAR(out[0].power_w, pmax, 1e-9);
	CHECK_NEAR(out[0].energy_j, (model(pmax, 0) + pmax) / 2 * 2.0, 1e-9);
	CHECK_NEAR(out[1].energy_j, pdram * 2.0, 1e-9);

	/* No new tick: still 100 %, a rectangle of 0.5 s. */
	CHECK_INT(jst_sensors_read(s, t1 + 2500000000ull, out), 0);
	CHECK_NEAR(out[0].energy_j, pmax * 0.5, 1e-9);
	jst_sensors_close(s);
	remove_tree(root);
}

static const struct jst_backend_status *backend(const struct jst_sensors *s, const char *name)
{
	for (size_t i = 0; i < jst_sensors_backend_count(s); i++)
		if (strcmp(jst_sensors_backend(s, i)->name, name) == 0)
			return jst_sensors_backend(s, i);
	return NULL;
}

/* With the real backends in front, on the rapl backend's fixture trees: Intel (package and
 * dram measured) leaves the estimate UNNEEDED; AMD (package, no dram) leaves it the memory. */
static void test_registry_coverage(void)
{
	char root[64], sys[4096];
	const char *fx = getenv("JST_FIXTURES");
	make_tree("procfs-estimate-vm", root, sizeof(root));
	struct jst_sensor_opts o;
	memset(&o, 0, sizeof(o));
	o.roots.procfs = root;
	o.roots.sysfs = sys;
	o.only = "rapl,hwmon,estimate";
	struct jst_sensors *s = NULL;

	snprintf(sys, sizeof(sys), "%s/sysfs-2socket", fx);
	CHECK_INT(jst_sensors_open(&s, &o), 0);
	const struct jst_backend_status *rapl = backend(s, "rapl"), *est = backend(s, "estimate");
	CHECK(rapl && rapl->state == JST_BACKEND_ACTIVE);
	CHECK(est && est->state == JST_BACKEND_UNNEEDED);
	CHECK_HAS(est ? est->why : NULL, "not needed: rapl measures the CPU");
	CHECK(!jst_sensors_estimated(s));
	jst_sensors_close(s);

	snprintf(sys, sizeof(sys), "%s/sysfs-amd-epyc", fx);
	CHECK_INT(jst_sensors_open(&s, &o), 0);
	est = backend(s, "estimate");
	CHECK(est && est->state == JST_BACKEND_ACTIVE);
	CHECK_INT(est ? est->nzones : 0, 1);
	size_t n = jst_sensors_count(s);
	CHECK(n >= 2);
	const struct jst_zone *last = n ? jst_sensors_zone(s, n - 1) : NULL;
	CHECK_STR(last ? last->name : NULL, "dram-estimate");
	for (size_t i = 0; i + 1 < n; i++)
		CHECK(!(jst_sensors_zone(s, i)->flags & JST_ZONE_ESTIMATE));
	CHECK(jst_sensors_estimated(s));
	jst_sensors_close(s);
	remove_tree(root);
}

/* ---- the TDP table ---- */

struct rows {
	struct jst_tdp_row r[1024];
	size_t n;
};

static int collect(const struct jst_tdp_row *row, void *arg)
{
	struct rows *rs = arg;
	if (rs->n < JST_ARRAY_LEN(rs->r))
		rs->r[rs->n++] = *row;
	return 0;
}

static double lookup_tdp(const char *model_name, unsigned *threads)
{
	struct jst_tdp_row row;
	char clean[JST_NAME_MAX];
	size_t n = jst__cpu_model_clean(model_name, strlen(model_name), clean, sizeof(clean));
	int r = jst__tdp_lookup(jst_data_cpu_tdp, jst_data_cpu_tdp_len, clean, n, &row, NULL, 0);
	if (threads)
		*threads = r == 1 ? row.threads : 0;
	return r == 1 ? row.tdp_w : (r == 0 ? 0 : -1);
}

static void test_shipped_table(void)
{
	static struct rows rs;
	char err[160] = "";
	int n = jst__tdp_parse(jst_data_cpu_tdp, jst_data_cpu_tdp_len, collect, &rs, err,
			       sizeof(err));
	CHECK_STR(err, "");
	CHECK(n >= 60);
	CHECK_INT((size_t)n, rs.n);
	size_t dups = 0, bad = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (rs.r[i].threads == 0 || rs.r[i].cores == 0 || rs.r[i].tdp_w < 5)
			bad++;
		for (size_t j = i + 1; j < rs.n; j++)
			if (jst__strcasecmp(rs.r[i].pattern, rs.r[j].pattern) == 0)
				dups++;
	}
	CHECK_INT(dups, 0);
	CHECK_INT(bad, 0);

	unsigned th;
	CHECK_NEAR(lookup_tdp("Intel(R) Xeon(R) Platinum 8480+", &th), 350, 0);
	CHECK_INT(th, 112);
	CHECK_NEAR(lookup_tdp("Intel(R) Xeon(R) Platinum 8480C", NULL), 350, 0);
	CHECK_NEAR(lookup_tdp("AMD EPYC 7763 64-Core Processor", &th), 280, 0);
	CHECK_INT(th, 128);
	CHECK_NEAR(lookup_tdp("AMD EPYC 7R13 Processor", NULL), 225, 0);
	CHECK_NEAR(lookup_tdp("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", NULL), 145, 0);
	CHECK_NEAR(lookup_tdp("13th Gen Intel(R) Core(TM) i9-13900K", NULL), 125, 0);
	/* Longest pattern wins: 7950X3D (120 W) over 7950X (170 W); 8380H over 8380. */
	CHECK_NEAR(lookup_tdp("AMD Ryzen 9 7950X3D 16-Core Processor", NULL), 120, 0);
	CHECK_NEAR(lookup_tdp("AMD Ryzen 9 7950X 16-Core Processor", NULL), 170, 0);
	CHECK_NEAR(lookup_tdp("Intel(R) Xeon(R) Platinum 8380H CPU @ 2.90GHz", NULL), 250, 0);
	CHECK_NEAR(lookup_tdp("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", NULL), 270, 0);
	CHECK_NEAR(lookup_tdp("AMD EPYC", NULL), 0, 0);
	CHECK_NEAR(lookup_tdp("", NULL), 0, 0);
}

static void expect_error(const char *csv, const char *msg)
{
	char err[160] = "";
	int r = jst__tdp_parse(csv, strlen(csv), NULL, NULL, err, sizeof(err));
	CHECK_INT(r, -EINVAL);
	CHECK_STR(err, msg);
}

static void test_parser_errors(void)
{
	expect_error("", "line 1: missing the header " JST_TDP_HEADER);
	expect_error("pattern,tdp\n", "line 1: expected the header " JST_TDP_HEADER);
	expect_error("# comment\n" JST_TDP_HEADER "\nXeon X,abc,1,2,ARK\n",
		     "line 3: tdp_w is not a number");
	expect_error(JST_TDP_HEADER "\nXeon X,100,1,2\n",
		     "line 2: expected 5 fields (" JST_TDP_HEADER "), found 4");
	expect_error(JST_TDP_HEADER "\nXeon X,100,1,2,ARK,extra\n",
		     "line 2: expected 5 fields (" JST_TDP_HEADER "), found 6");
	expect_error(JST_TDP_HEADER "\n,100,1,2,ARK\n", "line 2: empty pattern");
	expect_error(JST_TDP_HEADER "\nA,100,1,2,ARK\n\nB,0,1,2,ARK\n",
		     "line 4: tdp_w out of range (0, 2000] W");
	expect_error(JST_TDP_HEADER "\nA,5000,1,2,ARK\n", "line 2: tdp_w out of range (0, 2000] W");
	expect_error(JST_TDP_HEADER "\nA,100,x,2,ARK\n",
		     "line 2: cores is not empty or a number in 1..4096");
	expect_error(JST_TDP_HEADER "\nA,100,1,99999,ARK\n",
		     "line 2: threads is not empty or a number in 1..4096");
	expect_error(JST_TDP_HEADER "\nA,100,16,8,ARK\n", "line 2: threads is less than cores");
	expect_error(JST_TDP_HEADER "\nA,100,1,2,\n", "line 2: empty source");
	expect_error(JST_TDP_HEADER "\n\"A,B\",100,1,2,ARK\n",
		     "line 2: quoted fields are not supported");
	expect_error(JST_TDP_HEADER "\nA,100,1,2,A\x01RK\n", "line 2: control character");
	expect_error(JST_TDP_HEADER
		     "\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,1,,,s\n",
		     "line 2: pattern longer than 63 characters");
	char longline[700];
	memset(longline, 'a', sizeof(longline));
	memcpy(longline, JST_TDP_HEADER "\n", sizeof(JST_TDP_HEADER));
	longline[sizeof(longline) - 1] = '\0';
	expect_error(longline, "line 2: line longer than 512 characters");
	/* A NUL inside the data is a control character too (n, not strlen, bounds the input). */
	static const char with_nul[] = JST_TDP_HEADER "\nA\0B,100,1,2,ARK\n";
	char err[160] = "";
	CHECK_INT(jst__tdp_parse(with_nul, sizeof(with_nul) - 1, NULL, NULL, err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "line 2: control character");
}

static int stop_at_second(const struct jst_tdp_row *row, void *arg)
{
	(void)arg;
	return row->line == 4 ? 42 : 0;
}

static void test_parser_rows(void)
{
	/* CRLF, blank and comment lines, spaces around fields, empty counts. */
	static const char csv[] = "# cpu table\r\n" JST_TDP_HEADER "\r\n\r\n"
				  " Xeon Gold 6338 , 205 , 32 , 64 , Intel ARK\r\n"
				  "Gold 6338,999,,,made up to test ties\r\n"
				  "gold,1.5,,,x\r\n"
				  "Xeon Gold 6338N,185,32,64,Intel ARK";
	static struct rows rs;
	rs.n = 0;
	CHECK_INT(jst__tdp_parse(csv, sizeof(csv) - 1, collect, &rs, NULL, 0), 4);
	CHECK_STR(rs.r[0].pattern, "Xeon Gold 6338");
	CHECK_NEAR(rs.r[0].tdp_w, 205, 0);
	CHECK_INT(rs.r[0].cores, 32);
	CHECK_INT(rs.r[0].threads, 64);
	CHECK_INT(rs.r[0].line, 4);
	CHECK_INT(rs.r[1].cores, 0);
	CHECK_INT(rs.r[1].threads, 0);
	CHECK_NEAR(rs.r[2].tdp_w, 1.5, 0);
	CHECK_INT(rs.r[3].line, 7);
	CHECK_INT(jst__tdp_parse(csv, sizeof(csv) - 1, stop_at_second, NULL, NULL, 0), 42);

	struct jst_tdp_row row;
	static const char m1[] = "Intel Xeon Gold 6338N";
	CHECK_INT(jst__tdp_lookup(csv, sizeof(csv) - 1, m1, strlen(m1), &row, NULL, 0), 1);
	CHECK_STR(row.pattern, "Xeon Gold 6338N");
	static const char m2[] = "INTEL XEON GOLD 6338"; /* case-insensitive */
	CHECK_INT(jst__tdp_lookup(csv, sizeof(csv) - 1, m2, strlen(m2), &row, NULL, 0), 1);
	CHECK_STR(row.pattern, "Xeon Gold 6338");
	static const char m3[] = "Some Gold thing"; /* only the short pattern */
	CHECK_INT(jst__tdp_lookup(csv, sizeof(csv) - 1, m3, strlen(m3), &row, NULL, 0), 1);
	CHECK_STR(row.pattern, "gold");
	static const char m4[] = "Ryzen";
	CHECK_INT(jst__tdp_lookup(csv, sizeof(csv) - 1, m4, strlen(m4), &row, NULL, 0), 0);
	/* model is bounded by its length, not by a NUL */
	CHECK_INT(jst__tdp_lookup(csv, sizeof(csv) - 1, m1, 9, &row, NULL, 0), 0);
	char err[160] = "";
	static const char bad[] = JST_TDP_HEADER "\nA,1,1,1,s\nB,x,1,1,s\n";
	CHECK_INT(jst__tdp_lookup(bad, sizeof(bad) - 1, "A", 1, &row, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "line 3: tdp_w is not a number");
}

static void expect_clean(const char *in, const char *want)
{
	char out[JST_NAME_MAX];
	size_t n = jst__cpu_model_clean(in, strlen(in), out, sizeof(out));
	CHECK_STR(out, want);
	CHECK_INT(n, strlen(want));
}

static void test_model_clean(void)
{
	expect_clean("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "Intel Xeon Platinum 8375C");
	expect_clean("AMD Ryzen 9 5950X 16-Core Processor", "AMD Ryzen 9 5950X");
	expect_clean("AMD Ryzen Threadripper PRO 3995WX 64-Cores",
		     "AMD Ryzen Threadripper PRO 3995WX");
	expect_clean("AMD EPYC 7R13 Processor", "AMD EPYC 7R13");
	expect_clean("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Intel Core i7-8700K");
	expect_clean("12th Gen Intel(R) Core(TM) i9-12900K", "12th Gen Intel Core i9-12900K");
	expect_clean("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", "Intel Xeon CPU E5-2686 v4");
	expect_clean("Intel(R) Xeon(R) CPU @ 2.20GHz", "Intel Xeon");
	expect_clean("  AMD\tEPYC   9654  96-Core   Processor  ", "AMD EPYC 9654");
	expect_clean("Processor", "Processor");
	expect_clean("", "");
	char small[8];
	jst__cpu_model_clean("Intel(R) Xeon(R) Gold", 21, small, sizeof(small));
	CHECK_STR(small, "Intel X");
}

int main(void)
{
	test_vm_model();
	test_vm_ticks();
	test_metal_sockets();
	test_unknown_model();
	test_no_model_name();
	test_covered();
	test_registry_energy();
	test_registry_coverage();
	test_shipped_table();
	test_parser_errors();
	test_parser_rows();
	test_model_clean();
	return check_done();
}
