/* Tests of the RAPL backend against fixture trees (tests/fixtures/sysfs-*): each case copies a
 * tree into a fresh temporary root, opens the sensor set with only "rapl" (or calls the ops
 * directly), rewrites energy_uj between reads to simulate time, and checks exact deltas, zone
 * identities and the messages users see. Unreadable counters are tested for real: as root, in
 * a child that drops to uid 65534, since root reads a mode-000 file anyway. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "core/util.h"
#include "joulestream/sensor.h"
#include "sensor/sensor.h"

#define SEC 1000000000ull
#define RANGE 262143328850ull /* max_energy_range_uj of the packages in sysfs-2socket */
#define PKG0 "sys/class/powercap/intel-rapl:1" /* package-0 in sysfs-2socket */

#include "fixture.h"

static void put_u64(const char *rel, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	put(rel, b);
}

static struct jst_sensors *open_only(const char *only)
{
	struct jst_sensor_opts opts = {.roots = {tmp, tmp}, .only = only, .no_estimate = true};
	struct jst_sensors *s = NULL;
	if (jst_sensors_open(&s, &opts) != 0 || !s) {
		fprintf(stderr, "jst_sensors_open failed\n");
		exit(2);
	}
	return s;
}

static const struct jst_backend_status *status_of(const struct jst_sensors *s, const char *name)
{
	for (size_t i = 0; i < jst_sensors_backend_count(s); i++)
		if (strcmp(jst_sensors_backend(s, i)->name, name) == 0)
			return jst_sensors_backend(s, i);
	fprintf(stderr, "no backend %s\n", name);
	exit(2);
}

/* Index of the zone called name; fails the check (and returns 0) when absent. */
static size_t zi(const struct jst_sensors *s, const char *name)
{
	for (size_t i = 0; i < jst_sensors_count(s); i++)
		if (strcmp(jst_sensors_zone(s, i)->name, name) == 0)
			return i;
	fprintf(stderr, "no zone named %s\n", name);
	check_failed++;
	return 0;
}

static size_t count_named(const struct jst_sensors *s, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < jst_sensors_count(s); i++)
		n += strcmp(jst_sensors_zone(s, i)->name, name) == 0;
	return n;
}

/* Two sockets whose directory indexes do not match their package numbers: names, devices,
 * uids and flags come from the `name` files; deltas are exact. */
static void test_two_sockets(void)
{
	fresh("sysfs-2socket");
	struct jst_sensors *s = open_only("rapl");
	const struct jst_backend_status *st = status_of(s, "rapl");
	CHECK_INT(st->state, JST_BACKEND_ACTIVE);
	CHECK_STR(st->description, "Intel/AMD RAPL through powercap");
	CHECK_INT(jst_sensors_count(s), 4);
	if (jst_sensors_count(s) != 4) {
		jst_sensors_close(s);
		return;
	}
	const struct jst_zone *p0 = jst_sensors_zone(s, zi(s, "package-0"));
	const struct jst_zone *p1 = jst_sensors_zone(s, zi(s, "package-1"));
	const struct jst_zone *d0 = jst_sensors_zone(s, zi(s, "dram-0"));
	const struct jst_zone *d1 = jst_sensors_zone(s, zi(s, "dram-1"));
	CHECK_STR(p0->uid, "/sys/class/powercap/intel-rapl:1");
	CHECK_STR(p1->uid, "/sys/class/powercap/intel-rapl:0");
	CHECK_STR(d1->uid, "/sys/class/powercap/intel-rapl:0:0");
	CHECK_STR(d0->uid, "/sys/class/powercap/intel-rapl:1:0");
	CHECK_INT(p0->device, 0);
	CHECK_INT(p1->device, 1);
	CHECK_INT(d0->device, 0);
	CHECK_INT(d1->device, 1);
	CHECK_INT(p0->kind, JST_KIND_PACKAGE);
	CHECK_INT(d1->kind, JST_KIND_DRAM);
	CHECK_INT(p0->flags, JST_ZONE_COUNTED | JST_ZONE_BY_CPU);
	CHECK_INT(d1->flags, JST_ZONE_COUNTED | JST_ZONE_BY_CPU);
	CHECK_STR(p0->source, "rapl");
	CHECK_STR(p1->label, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
	CHECK_STR(d0->label, "");
	CHECK_NEAR(p0->max_power_w, 205.0, 1e-9);

	put("sys/class/powercap/intel-rapl:0/energy_uj", "3500000");   /* package-1 +2.5 J */
	put("sys/class/powercap/intel-rapl:0:0/energy_uj", "2250000"); /* dram-1 +0.25 J */
	put(PKG0 "/energy_uj", "4000000");                             /* package-0 +1 J */
	put(PKG0 ":0/energy_uj", "4100000");                           /* dram-0 +0.1 J */
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;
	CHECK_INT(jst_sensors_read(s, t, out), 0);
	CHECK_NEAR(out[zi(s, "package-1")].energy_j, 2.5, 1e-12);
	CHECK_NEAR(out[zi(s, "dram-1")].energy_j, 0.25, 1e-12);
	CHECK_NEAR(out[zi(s, "package-0")].energy_j, 1.0, 1e-12);
	CHECK_NEAR(out[zi(s, "dram-0")].energy_j, 0.1, 1e-12);
	CHECK_INT(out[zi(s, "package-0")].flags, JST_READ_ENERGY);

	put(PKG0 "/energy_uj", "7000000"); /* +3 J over 2 s */
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC, out), 0);
	CHECK_NEAR(out[zi(s, "package-0")].energy_j, 3.0, 1e-12);
	CHECK_NEAR(out[zi(s, "package-0")].power_w, 1.5, 1e-9);
	CHECK_NEAR(out[zi(s, "package-1")].energy_j, 0.0, 0);
	CHECK_INT(out[zi(s, "package-1")].flags, JST_READ_ENERGY);
	jst_sensors_close(s);
}

/* A wrap in the middle of a run: (max - prev) + cur + 1, flagged, and the run's total is the
 * exact sum; max itself to 0 is one microjoule. */
static void test_wrap(void)
{
	fresh("sysfs-2socket");
	put_u64(PKG0 "/energy_uj", RANGE - 2000000);
	struct jst_sensors *s = open_only("rapl");
	size_t p = zi(s, "package-0");
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;
	double total = 0;

	put_u64(PKG0 "/energy_uj", RANGE - 500000);
	jst_sensors_read(s, t, out);
	CHECK_NEAR(out[p].energy_j, 1.5, 1e-12);
	CHECK_INT(out[p].flags, JST_READ_ENERGY);
	total += out[p].energy_j;

	put_u64(PKG0 "/energy_uj", 700000);
	jst_sensors_read(s, t + SEC, out);
	CHECK_NEAR(out[p].energy_j, 1.200001, 1e-12);
	CHECK_INT(out[p].flags, JST_READ_ENERGY | JST_READ_WRAP);
	total += out[p].energy_j;

	put_u64(PKG0 "/energy_uj", 900000);
	jst_sensors_read(s, t + 2 * SEC, out);
	CHECK_NEAR(out[p].energy_j, 0.2, 1e-12);
	CHECK_INT(out[p].flags, JST_READ_ENERGY);
	total += out[p].energy_j;
	CHECK_NEAR(total, 2.900001, 1e-12);

	put_u64(PKG0 "/energy_uj", RANGE);
	jst_sensors_read(s, t + 3 * SEC, out);
	CHECK_NEAR(out[p].energy_j, (double)(RANGE - 900000) / 1e6, 1e-6);
	put_u64(PKG0 "/energy_uj", 0);
	jst_sensors_read(s, t + 4 * SEC, out);
	CHECK_NEAR(out[p].energy_j, 1e-6, 1e-15);
	CHECK_INT(out[p].flags, JST_READ_ENERGY | JST_READ_WRAP);
	jst_sensors_close(s);
}

/* A restart is not a wrap: the counter drops from mid-range to near 0 (a driver reload). Read
 * as a wrap it would be ~131 kJ in 1 s against package-0's 205 W limit, so the interval is
 * flagged BACKWARDS | RESET with no energy, and the next interval counts from the new value.
 * A drop near the top within the limit stays a wrap. */
static void test_reset(void)
{
	fresh("sysfs-2socket");
	put_u64(PKG0 "/energy_uj", RANGE / 2);
	struct jst_sensors *s = open_only("rapl");
	size_t p = zi(s, "package-0");
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;
	put_u64(PKG0 "/energy_uj", RANGE / 2 + 1000000);
	jst_sensors_read(s, t, out);
	CHECK_NEAR(out[p].energy_j, 1.0, 1e-12);
	put_u64(PKG0 "/energy_uj", 300000);
	CHECK_INT(jst_sensors_read(s, t + SEC, out), 1);
	CHECK_INT(out[p].flags, JST_READ_BACKWARDS | JST_READ_RESET);
	CHECK_NEAR(out[p].energy_j, 0.0, 0);
	put_u64(PKG0 "/energy_uj", 2300000);
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC, out), 0);
	CHECK_INT(out[p].flags, JST_READ_ENERGY);
	CHECK_NEAR(out[p].energy_j, 2.0, 1e-12);
	/* 200 J left to the top, then 100 J past it, in 1 s: 300 W, under twice 205 W: a wrap */
	put_u64(PKG0 "/energy_uj", RANGE - 200000000);
	jst_sensors_read(s, t + 1000 * SEC, out);
	put_u64(PKG0 "/energy_uj", 100000000);
	CHECK_INT(jst_sensors_read(s, t + 1001 * SEC, out), 0);
	CHECK_INT(out[p].flags, JST_READ_ENERGY | JST_READ_WRAP);
	CHECK_NEAR(out[p].energy_j, 300.000001, 1e-9);
	jst_sensors_close(s);
}

/* The device tree without class links; a garbage max range means "no known range", so a
 * smaller value is backwards (no energy, never negative); a garbage counter fails that read
 * only, and the energy missed meanwhile arrives with the next good read. */
static void test_backwards_and_garbage(void)
{
	fresh("sysfs-rapl-devtree");
	struct jst_sensors *s = open_only("rapl");
	CHECK_INT(status_of(s, "rapl")->state, JST_BACKEND_ACTIVE);
	CHECK_INT(jst_sensors_count(s), 2);
	if (jst_sensors_count(s) != 2) {
		jst_sensors_close(s);
		return;
	}
	size_t p = zi(s, "package-0"), d = zi(s, "dram-0");
	CHECK_STR(jst_sensors_zone(s, p)->uid,
		  "/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0");
	CHECK_STR(jst_sensors_zone(s, d)->uid,
		  "/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0");
	CHECK_STR(jst_sensors_zone(s, p)->label, ""); /* no /proc/cpuinfo in this tree */
	const char *pe = "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj";
	const char *de =
		"sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0/energy_uj";
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;

	put(pe, "8000000");
	CHECK_INT(jst_sensors_read(s, t, out), 1); /* dram: still garbage */
	CHECK_NEAR(out[p].energy_j, 1.0, 1e-12);
	CHECK_INT(out[d].flags, JST_READ_FAILED);
	CHECK_NEAR(out[d].energy_j, 0.0, 0);

	put(pe, "6000000");
	put(de, "3000000");
	CHECK_INT(jst_sensors_read(s, t + SEC, out), 2);
	CHECK_INT(out[p].flags, JST_READ_BACKWARDS);
	CHECK_NEAR(out[p].energy_j, 0.0, 0);
	CHECK_NEAR(out[p].power_w, 0.0, 0);
	CHECK_INT(out[d].flags, JST_READ_FAILED); /* first good value: a baseline, not energy */

	put(pe, "6500000");
	put(de, "3400000");
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC, out), 0);
	CHECK_NEAR(out[p].energy_j, 0.5, 1e-12);
	CHECK_NEAR(out[d].energy_j, 0.4, 1e-12);

	put(de, "12abc");
	CHECK_INT(jst_sensors_read(s, t + 3 * SEC, out), 1);
	CHECK_INT(out[d].flags, JST_READ_FAILED);
	CHECK_NEAR(out[d].energy_j, 0.0, 0);
	CHECK_INT(out[p].flags, JST_READ_ENERGY);

	put(de, "3900000");
	CHECK_INT(jst_sensors_read(s, t + 4 * SEC, out), 0);
	CHECK_NEAR(out[d].energy_j, 0.5, 1e-12);
	jst_sensors_close(s);
}

/* The ops directly: when every zone fails, read() reports the backend failed (negative errno)
 * so that the registry's backoff applies; one good zone is enough to succeed. */
static void test_all_zones_fail(void)
{
	fresh("sysfs-2socket");
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	struct jst_zone zones[JST_ZONES_MAX];
	char why[JST_WHY_MAX] = "";
	void *state = NULL;
	CHECK_INT(jst__sensor_rapl.probe(&ctx, why, sizeof(why)), 0);
	int n = jst__sensor_rapl.open(&ctx, &state, zones, JST_ZONES_MAX, why, sizeof(why));
	CHECK_INT(n, 4);
	if (n != 4)
		return;
	static const char *const files[] = {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1",
					    "intel-rapl:1:0"};
	char rel[128];
	for (size_t i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "sys/class/powercap/%s/energy_uj", files[i]);
		put(rel, "?");
	}
	struct jst_reading out[JST_ZONES_MAX];
	CHECK_INT(jst__sensor_rapl.read(state, out), -EINVAL);
	for (int i = 0; i < n; i++)
		CHECK_INT(out[i].flags, JST_READ_FAILED);
	put(PKG0 "/energy_uj", "3000001");
	CHECK_INT(jst__sensor_rapl.read(state, out), 0);
	jst__sensor_rapl.close(state);
}

/* energy_uj is opened once: after the path is replaced, the backend still reads the file it
 * opened (the same inode), never the new one. */
static void test_open_once(void)
{
	fresh("sysfs-2socket");
	struct jst_sensors *s = open_only("rapl");
	char a[512], b[512];
	tpath(a, sizeof(a), PKG0 "/energy_uj");
	tpath(b, sizeof(b), PKG0 "/energy_uj.old");
	CHECK_INT(rename(a, b), 0);
	put(PKG0 "/energy_uj.old", "3300000");
	put(PKG0 "/energy_uj", "999999999");
	struct jst_reading out[JST_ZONES_MAX];
	jst_sensors_read(s, jst__mono_ns() + SEC, out);
	CHECK_NEAR(out[zi(s, "package-0")].energy_j, 0.3, 1e-12);
	jst_sensors_close(s);
}

/* A laptop: core and uncore are parts of the package, psys is reported but not counted, and
 * the intel-rapl-mmio copy of package-0 is not a second package. */
static void test_laptop_psys_mmio(void)
{
	fresh("sysfs-laptop-psys");
	struct jst_sensors *s = open_only("rapl");
	CHECK_INT(jst_sensors_count(s), 5);
	CHECK_INT(count_named(s, "package-0"), 1);
	for (size_t i = 0; i < jst_sensors_count(s); i++)
		CHECK(strstr(jst_sensors_zone(s, i)->uid, "mmio") == NULL);
	const struct jst_zone *pk = jst_sensors_zone(s, zi(s, "package-0"));
	const struct jst_zone *co = jst_sensors_zone(s, zi(s, "core-0"));
	const struct jst_zone *un = jst_sensors_zone(s, zi(s, "uncore-0"));
	const struct jst_zone *dr = jst_sensors_zone(s, zi(s, "dram-0"));
	const struct jst_zone *ps = jst_sensors_zone(s, zi(s, "psys"));
	CHECK_STR(pk->uid, "/sys/class/powercap/intel-rapl:0");
	CHECK_STR(ps->uid, "/sys/class/powercap/intel-rapl:1");
	CHECK_INT(co->kind, JST_KIND_CORE);
	CHECK_INT(co->flags, JST_ZONE_BY_CPU);
	CHECK_INT(un->kind, JST_KIND_UNCORE);
	CHECK_INT(un->flags, JST_ZONE_BY_CPU);
	CHECK_INT(dr->flags, JST_ZONE_COUNTED | JST_ZONE_BY_CPU);
	CHECK_INT(dr->device, 0);
	CHECK_INT(ps->kind, JST_KIND_PSYS);
	CHECK_INT(ps->flags, 0);
	CHECK_INT(ps->device, -1);
	CHECK_STR(co->label, "11th Gen Intel(R) Core(TM) i7-1165G7 @ 2.80GHz");
	CHECK_NEAR(pk->max_power_w, 28.0, 1e-9);

	put("sys/class/powercap/intel-rapl:0/energy_uj", "20000000");   /* +10 J */
	put("sys/class/powercap/intel-rapl:0:0/energy_uj", "11000000"); /* +6 J */
	put("sys/class/powercap/intel-rapl:0:1/energy_uj", "2000000");  /* +1 J */
	put("sys/class/powercap/intel-rapl:0:2/energy_uj", "4000000");  /* +2 J */
	put("sys/class/powercap/intel-rapl:1/energy_uj", "45000000");   /* +25 J */
	put("sys/class/powercap/intel-rapl-mmio:0/energy_uj", "20000000");
	struct jst_reading out[JST_ZONES_MAX];
	CHECK_INT(jst_sensors_read(s, jst__mono_ns() + SEC, out), 0);
	double counted = 0, all = 0;
	for (size_t i = 0; i < jst_sensors_count(s); i++) {
		all += out[i].energy_j;
		if (jst_sensors_zone(s, i)->flags & JST_ZONE_COUNTED)
			counted += out[i].energy_j;
	}
	CHECK_NEAR(counted, 12.0, 1e-12); /* package + dram only */
	CHECK_NEAR(all, 44.0, 1e-12);     /* and no second package-0 anywhere */
	CHECK_NEAR(out[zi(s, "psys")].energy_j, 25.0, 1e-12);
	jst_sensors_close(s);
}

static void probe_ok(void)
{
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_rapl.probe(&ctx, why, sizeof(why)), 0);
}

static void probe_forbidden(void)
{
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_rapl.probe(&ctx, why, sizeof(why)), -EACCES);
	CHECK_HAS(why, "/sys/class/powercap/intel-rapl:1/energy_uj: permission denied");
	CHECK_HAS(why, "CVE-2020-8694");
	CHECK_HAS(why, "run as root");
	CHECK_HAS(why, "RUN+=\"/bin/chmod a+r /sys%p/energy_uj\"");
	/* and through the registry: forbidden, no zones, the same fix */
	struct jst_sensors *s = open_only("rapl");
	const struct jst_backend_status *st = status_of(s, "rapl");
	CHECK_INT(st->state, JST_BACKEND_FORBIDDEN);
	CHECK_HAS(st->why, "CVE-2020-8694");
	CHECK_INT(jst_sensors_count(s), 0);
	jst_sensors_close(s);
}

static void open_without_core_psys(void)
{
	struct jst_sensors *s = open_only("rapl");
	CHECK_INT(status_of(s, "rapl")->state, JST_BACKEND_ACTIVE);
	CHECK_INT(jst_sensors_count(s), 3);
	CHECK_INT(count_named(s, "package-0") + count_named(s, "uncore-0") +
			  count_named(s, "dram-0"),
		  3);
	jst_sensors_close(s);
}

/* energy_uj readable by root only (Linux >= 5.10): forbidden with the fix when a counted zone
 * (package-0 here) is unreadable; unreadable core and psys are merely left out. */
static void test_unreadable(void)
{
	char p[512];
	fresh("sysfs-2socket");
	if (!as_nobody(probe_ok))
		return;
	tpath(p, sizeof(p), PKG0 "/energy_uj");
	CHECK_INT(chmod(p, 0), 0);
	as_nobody(probe_forbidden);

	fresh("sysfs-laptop-psys");
	tpath(p, sizeof(p), "sys/class/powercap/intel-rapl:0:0/energy_uj");
	CHECK_INT(chmod(p, 0), 0);
	tpath(p, sizeof(p), "sys/class/powercap/intel-rapl:1/energy_uj");
	CHECK_INT(chmod(p, 0), 0);
	as_nobody(open_without_core_psys);
}

/* No powercap at all (a VM), and a container that masks /sys/devices/virtual/powercap while
 * the class links remain. */
static void test_absent_and_masked(void)
{
	fresh(NULL);
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_rapl.probe(&ctx, why, sizeof(why)), -ENOENT);
	CHECK_HAS(why, "no powercap RAPL zones under");
	CHECK_HAS(why, tmp);
	struct jst_sensors *s = open_only("rapl");
	CHECK_INT(status_of(s, "rapl")->state, JST_BACKEND_ABSENT);
	CHECK_INT(jst_sensors_count(s), 0);
	jst_sensors_close(s);

	char p[512];
	tpath(p, sizeof(p), "sys");
	mkdir(p, 0755);
	tpath(p, sizeof(p), "sys/class");
	mkdir(p, 0755);
	tpath(p, sizeof(p), "sys/class/powercap");
	mkdir(p, 0755);
	tpath(p, sizeof(p), "sys/class/powercap/intel-rapl:0");
	CHECK_INT(symlink("../../devices/virtual/powercap/intel-rapl/intel-rapl:0", p), 0);
	why[0] = '\0';
	CHECK_INT(jst__sensor_rapl.probe(&ctx, why, sizeof(why)), -ENOENT);
	CHECK_HAS(why, "masked by the container runtime");
}

int main(void)
{
	umask(022);
	test_two_sockets();
	test_wrap();
	test_reset();
	test_backwards_and_garbage();
	test_all_zones_fail();
	test_open_once();
	test_laptop_psys_mmio();
	test_unreadable();
	test_absent_and_masked();
	if (tmp[0])
		remove_tree(tmp);
	return check_done();
}
