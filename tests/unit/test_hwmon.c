/* Tests of the hwmon backend against fixture trees (tests/fixtures/sysfs-hwmon-gpu,
 * sysfs-amd-epyc): zones and their counting policy, power-only zones integrated by the registry
 * (trapezoid, with chosen timestamps so the energy is exact), energy counters, and the CPU
 * drivers that mirror RAPL. Each case works on a fresh copy of the tree in a temporary root and
 * rewrites the sysfs files between reads. */
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
#define H "sys/class/hwmon/"

#include "fixture.h"

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

/* The GPU box: which devices become zones, their names, kinds, flags, labels and limits;
 * temperature-only devices are ignored, old-style drivers with files in device/ are found. */
static void test_zones(void)
{
	fresh("sysfs-hwmon-gpu");
	struct jst_sensors *s = open_only("hwmon");
	const struct jst_backend_status *st = status_of(s, "hwmon");
	CHECK_INT(st->state, JST_BACKEND_ACTIVE);
	CHECK_INT(jst_sensors_count(s), 5);
	if (jst_sensors_count(s) != 5) {
		jst_sensors_close(s);
		return;
	}
	/* in hwmonN order: 1, 3, 4, 5, 10 */
	CHECK_STR(jst_sensors_zone(s, 0)->name, "hwmon-amdgpu-0");
	CHECK_STR(jst_sensors_zone(s, 1)->name, "hwmon-xe-0");
	CHECK_STR(jst_sensors_zone(s, 2)->name, "hwmon-acpi_power_meter-0");
	CHECK_STR(jst_sensors_zone(s, 3)->name, "hwmon-ina3221-0");
	CHECK_STR(jst_sensors_zone(s, 4)->name, "hwmon-amdgpu-1");

	const struct jst_zone *a0 = jst_sensors_zone(s, 0);
	CHECK_INT(a0->kind, JST_KIND_GPU);
	CHECK_INT(a0->flags, JST_ZONE_COUNTED | JST_ZONE_BY_GPU | JST_ZONE_POWER_ONLY);
	CHECK_STR(a0->label, "AMD Instinct MI210");
	CHECK_STR(a0->uid, "/sys/class/hwmon/hwmon1/power1_average");
	CHECK_STR(a0->source, "hwmon");
	CHECK_INT(a0->device, 0);
	CHECK_NEAR(a0->max_power_w, 300.0, 1e-9);

	const struct jst_zone *xe = jst_sensors_zone(s, 1);
	CHECK_INT(xe->kind, JST_KIND_GPU);
	CHECK_INT(xe->flags, JST_ZONE_COUNTED | JST_ZONE_BY_GPU);    /* a counter, not power-only */
	CHECK_STR(xe->uid, "/sys/class/hwmon/hwmon3/energy1_input"); /* card, not pkg inside it */
	CHECK_STR(xe->label, "card");
	CHECK_INT(xe->device, 1);
	CHECK_NEAR(xe->max_power_w, 250.0, 1e-9);

	const struct jst_zone *acpi = jst_sensors_zone(s, 2);
	CHECK_INT(acpi->kind, JST_KIND_OTHER);
	CHECK_INT(acpi->flags, JST_ZONE_POWER_ONLY); /* listed, never counted */
	CHECK_INT(acpi->device, -1);

	CHECK_STR(jst_sensors_zone(s, 3)->uid, "/sys/class/hwmon/hwmon5/device/power1_input");
	CHECK_INT(jst_sensors_zone(s, 3)->flags, JST_ZONE_POWER_ONLY);

	const struct jst_zone *a1 = jst_sensors_zone(s, 4);
	CHECK_STR(a1->uid, "/sys/class/hwmon/hwmon10/power1_input");
	CHECK_INT(a1->device, 2);
	CHECK_STR(a1->label, "");
	CHECK_NEAR(a1->max_power_w, 0.0, 0);

	struct jst_gpu_proc procs[4];
	CHECK_INT(jst_sensors_gpu_procs(s, 0, procs, 4), -ENOTSUP);
	jst_sensors_close(s);

	/* after an NVML GPU in the set, hwmon's GPU indexes go on from 1 */
	struct jst_zone before = {.name = "gpu0", .kind = JST_KIND_GPU, .device = 0};
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}, .zones = &before, .nzones = 1};
	struct jst_zone zones[JST_ZONES_MAX];
	char why[JST_WHY_MAX] = "";
	void *state = NULL;
	int n = jst__sensor_hwmon.open(&ctx, &state, zones, JST_ZONES_MAX, why, sizeof(why));
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_INT(zones[0].device, 1);
		CHECK_INT(zones[1].device, 2);
		CHECK_INT(zones[4].device, 3);
		jst__sensor_hwmon.close(state);
	}
}

/* Power-only zones: the registry integrates by trapezoid between our chosen timestamps; a
 * garbage value fails that read only. How the registry bridges the gap afterwards is its own
 * policy, tested with the registry, so only "valid again" is checked here. */
static void test_power_trapezoid(void)
{
	fresh("sysfs-hwmon-gpu");
	struct jst_sensors *s = open_only("hwmon"); /* baseline: 45 W */
	size_t a = zi(s, "hwmon-amdgpu-0"), a1 = zi(s, "hwmon-amdgpu-1");
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;
	CHECK_INT(jst_sensors_read(s, t, out), 0);
	CHECK_NEAR(out[a].power_w, 45.0, 1e-12);
	CHECK_INT(out[a].flags, JST_READ_ENERGY | JST_READ_POWER);

	put(H "hwmon1/power1_average", "55000000");
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC, out), 0);
	CHECK_NEAR(out[a].energy_j, (45.0 + 55.0) / 2 * 2, 1e-9); /* 100 J */
	CHECK_NEAR(out[a].power_w, 55.0, 1e-12);
	CHECK_NEAR(out[a1].energy_j, 120.0 * 2, 1e-9);

	put(H "hwmon1/power1_average", "65000000");
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC + SEC / 2, out), 0);
	CHECK_NEAR(out[a].energy_j, (55.0 + 65.0) / 2 * 0.5, 1e-9); /* 30 J */

	put(H "hwmon1/power1_average", "N/A");
	CHECK_INT(jst_sensors_read(s, t + 3 * SEC, out), 1);
	CHECK_INT(out[a].flags, JST_READ_FAILED);
	CHECK_NEAR(out[a].energy_j, 0.0, 0);
	CHECK_NEAR(out[a1].energy_j, 60.0, 1e-9); /* the other card is unaffected */

	put(H "hwmon1/power1_average", "40000000");
	CHECK_INT(jst_sensors_read(s, t + 4 * SEC, out), 0);
	CHECK_INT(out[a].flags, JST_READ_ENERGY | JST_READ_POWER);
	CHECK_NEAR(out[a].power_w, 40.0, 1e-12);
	CHECK(out[a].energy_j > 0);
	jst_sensors_close(s);
}

/* Energy counters: exact deltas, no invented range (xe accumulates to 63 bits in the kernel),
 * so a counter that goes back is flagged, gives no energy, and is the new baseline. */
static void test_energy_counter(void)
{
	fresh("sysfs-hwmon-gpu");
	struct jst_sensors *s = open_only("hwmon");
	size_t x = zi(s, "hwmon-xe-0");
	struct jst_reading out[JST_ZONES_MAX];
	uint64_t t = jst__mono_ns() + SEC;

	put(H "hwmon3/energy1_input", "4000000");
	put(H "hwmon3/energy2_input", "99000000"); /* pkg: inside card, never read */
	CHECK_INT(jst_sensors_read(s, t, out), 0);
	CHECK_NEAR(out[x].energy_j, 3.0, 1e-12);
	CHECK_INT(out[x].flags, JST_READ_ENERGY);

	put(H "hwmon3/energy1_input", "6000000000"); /* past 2^32 uJ: no wrap there */
	CHECK_INT(jst_sensors_read(s, t + SEC, out), 0);
	CHECK_NEAR(out[x].energy_j, 5996.0, 1e-9);
	CHECK_INT(out[x].flags, JST_READ_ENERGY);

	put(H "hwmon3/energy1_input", "2000000");
	CHECK_INT(jst_sensors_read(s, t + 2 * SEC, out), 1);
	CHECK_INT(out[x].flags, JST_READ_BACKWARDS);
	CHECK_NEAR(out[x].energy_j, 0.0, 0);

	put(H "hwmon3/energy1_input", "2500000");
	CHECK_INT(jst_sensors_read(s, t + 3 * SEC, out), 0);
	CHECK_NEAR(out[x].energy_j, 0.5, 1e-12);
	CHECK_NEAR(out[x].power_w, 0.5, 1e-9);
	jst_sensors_close(s);
}

/* CPU drivers that mirror RAPL: skipped (backend "unneeded") when RAPL measures the package;
 * otherwise amd_energy stands in, one counted PACKAGE zone per socket, zenpower left out; and
 * zenpower alone sums its core and SoC rails. */
static void test_cpu_mirrors(void)
{
	fresh("sysfs-amd-epyc");
	struct jst_sensors *s = open_only("rapl,hwmon");
	CHECK_INT(status_of(s, "rapl")->state, JST_BACKEND_ACTIVE);
	CHECK_INT(jst_sensors_count(s), 1);
	CHECK_STR(jst_sensors_zone(s, 0)->name, "package-0");
	CHECK_STR(jst_sensors_zone(s, 0)->label, "AMD EPYC 7763 64-Core Processor");
	const struct jst_backend_status *hw = status_of(s, "hwmon");
	CHECK_INT(hw->state, JST_BACKEND_UNNEEDED);
	CHECK_HAS(hw->why, "amd_energy");
	CHECK_HAS(hw->why, "rapl");
	jst_sensors_close(s);

	s = open_only("hwmon");
	CHECK_INT(jst_sensors_count(s), 2);
	size_t e0 = zi(s, "hwmon-amd_energy-0"), e1 = zi(s, "hwmon-amd_energy-1");
	const struct jst_zone *z0 = jst_sensors_zone(s, e0), *z1 = jst_sensors_zone(s, e1);
	CHECK_INT(z0->kind, JST_KIND_PACKAGE);
	CHECK_INT(z0->flags, JST_ZONE_COUNTED | JST_ZONE_BY_CPU);
	CHECK_INT(z0->device, 0);
	CHECK_INT(z1->device, 1);
	CHECK_STR(z0->uid, "/sys/class/hwmon/hwmon1/energy3_input");
	CHECK_STR(z1->label, "Esocket1");
	struct jst_reading out[JST_ZONES_MAX];
	put(H "hwmon1/energy3_input", "31000000");
	put(H "hwmon1/energy4_input", "42500000");
	put(H "hwmon1/energy1_input", "9000000"); /* a core: part of socket 0, never added */
	CHECK_INT(jst_sensors_read(s, jst__mono_ns() + SEC, out), 0);
	CHECK_NEAR(out[e0].energy_j, 1.0, 1e-12);
	CHECK_NEAR(out[e1].energy_j, 2.5, 1e-12);
	jst_sensors_close(s);

	char p[512];
	tpath(p, sizeof(p), H "hwmon1");
	remove_tree(p);
	s = open_only("hwmon");
	CHECK_INT(jst_sensors_count(s), 1);
	size_t zp = zi(s, "hwmon-zenpower-0");
	CHECK_INT(jst_sensors_zone(s, zp)->flags,
		  JST_ZONE_COUNTED | JST_ZONE_BY_CPU | JST_ZONE_POWER_ONLY);
	CHECK_INT(jst_sensors_zone(s, zp)->kind, JST_KIND_PACKAGE);
	CHECK_STR(jst_sensors_zone(s, zp)->label, ""); /* a sum: no one channel's label */
	CHECK_INT(jst_sensors_read(s, jst__mono_ns() + SEC, out), 0);
	CHECK_NEAR(out[zp].power_w, 42.0, 1e-12); /* 30 W core + 12 W SoC */
	jst_sensors_close(s);
}

static void probe_ok(void)
{
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_hwmon.probe(&ctx, why, sizeof(why)), 0);
}

static void probe_forbidden(void)
{
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_hwmon.probe(&ctx, why, sizeof(why)), -EACCES);
	CHECK_HAS(why, "/sys/class/hwmon/hwmon1/energy3_input: permission denied");
	CHECK_HAS(why, "run as root");
	struct jst_sensors *s = open_only("hwmon");
	CHECK_INT(status_of(s, "hwmon")->state, JST_BACKEND_FORBIDDEN);
	jst_sensors_close(s);
}

/* Absent: no hwmon folder. Forbidden: amd_energy's counters are root-only (as the driver made
 * them after CVE-2020-12912) and nothing else is readable. */
static void test_absent_and_forbidden(void)
{
	fresh(NULL);
	struct jst_sensor_ctx ctx = {.roots = {tmp, tmp}};
	char why[JST_WHY_MAX] = "";
	CHECK_INT(jst__sensor_hwmon.probe(&ctx, why, sizeof(why)), -ENOENT);
	CHECK_HAS(why, "no hwmon device with an energy or power reading under");
	CHECK_HAS(why, tmp);

	fresh("sysfs-amd-epyc");
	char p[512];
	tpath(p, sizeof(p), H "hwmon2");
	remove_tree(p);
	if (!as_nobody(probe_ok))
		return;
	for (int c = 1; c <= 4; c++) {
		char rel[64];
		snprintf(rel, sizeof(rel), H "hwmon1/energy%d_input", c);
		tpath(p, sizeof(p), rel);
		CHECK_INT(chmod(p, 0400), 0);
	}
	as_nobody(probe_forbidden);
}

int main(void)
{
	umask(022);
	test_zones();
	test_power_trapezoid();
	test_energy_counter();
	test_cpu_mirrors();
	test_absent_and_forbidden();
	if (tmp[0])
		remove_tree(tmp);
	return check_done();
}
