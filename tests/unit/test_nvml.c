/* Tests of the NVML backend through the public sensor API, against the fake libnvidia-ml built
 * from tests/fakenvml (its path in JST_FAKE_NVML). Each case writes the fake's config file,
 * opens the sensor set with only "nvml", and reads with chosen clock values so that counter
 * deltas and the trapezoid are exact. The fake's call counters show what a read costs. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/util.h"
#include "joulestream/sensor.h"

#define SEC 1000000000ull

static char cfg_path[256];
static unsigned long (*fake_calls)(const char *fn);
static void (*fake_reset)(void);

static void write_cfg(const char *text)
{
	FILE *f = fopen(cfg_path, "w");
	if (!f) {
		perror(cfg_path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static struct jst_sensors *open_nvml(void)
{
	struct jst_sensor_opts opts = {.only = "nvml", .no_estimate = true};
	struct jst_sensors *s = NULL;
	int r = jst_sensors_open(&s, &opts);
	CHECK_INT(r, 0);
	if (r != 0)
		exit(2);
	return s;
}

static const struct jst_backend_status *nvml_status(const struct jst_sensors *s)
{
	for (size_t i = 0; i < jst_sensors_backend_count(s); i++)
		if (strcmp(jst_sensors_backend(s, i)->name, "nvml") == 0)
			return jst_sensors_backend(s, i);
	fprintf(stderr, "no nvml backend in the registry\n");
	exit(2);
}

/* (a) A GPU with an energy counter and a power-only one: zones, exact deltas, trapezoid, and
 * a read path of one NVML call per GPU. */
static void test_two_gpus(void)
{
	write_cfg("# two GPUs\n"
	          "gpu 0 name=\"NVIDIA H100 80GB HBM3\" uuid=GPU-11111111-2222-3333-4444-555555555555"
	          " energy_mj=1000000 power_mw=300000 limit_mw=700000\n"
	          "gpu 1 name=\"Tesla T4\" uuid=GPU-t4 energy=unsupported power_mw=70000 limit_mw=0\n");
	struct jst_sensors *s = open_nvml();
	const struct jst_backend_status *st = nvml_status(s);
	CHECK_INT(st->state, JST_BACKEND_ACTIVE);
	CHECK_STR(st->description, "NVIDIA GPUs through NVML");
	CHECK_INT(st->nzones, 2);
	CHECK_INT(jst_sensors_count(s), 2);
	if (jst_sensors_count(s) != 2) {
		jst_sensors_close(s);
		return;
	}
	const struct jst_zone *z0 = jst_sensors_zone(s, 0), *z1 = jst_sensors_zone(s, 1);
	CHECK_STR(z0->name, "gpu0");
	CHECK_STR(z0->label, "NVIDIA H100 80GB HBM3");
	CHECK_STR(z0->uid, "GPU-11111111-2222-3333-4444-555555555555");
	CHECK_STR(z0->source, "nvml");
	CHECK_INT(z0->kind, JST_KIND_GPU);
	CHECK_INT(z0->flags, JST_ZONE_COUNTED | JST_ZONE_BY_GPU);
	CHECK_INT(z0->device, 0);
	CHECK_NEAR(z0->max_power_w, 700.0, 1e-9);
	CHECK_STR(z1->name, "gpu1");
	CHECK_STR(z1->label, "Tesla T4");
	CHECK_STR(z1->uid, "GPU-t4");
	CHECK_INT(z1->flags, JST_ZONE_COUNTED | JST_ZONE_BY_GPU | JST_ZONE_POWER_ONLY);
	CHECK_INT(z1->device, 1);
	CHECK_NEAR(z1->max_power_w, 0.0, 0);
	CHECK(!jst_sensors_estimated(s));

	struct jst_reading out[2];
	uint64_t t0 = jst__mono_ns();
	fake_reset();
	CHECK_INT(jst_sensors_read(s, t0, out), 0); /* nothing changed: counter delta 0 */
	CHECK_NEAR(out[0].energy_j, 0.0, 0);
	CHECK(out[0].flags & JST_READ_ENERGY);

	write_cfg("gpu 0 name=\"NVIDIA H100 80GB HBM3\" energy_mj=1300000 power_mw=1\n"
	          "gpu 1 name=\"Tesla T4\" energy=unsupported power_mw=90000\n");
	CHECK_INT(jst_sensors_read(s, t0 + 1 * SEC, out), 0);
	CHECK_NEAR(out[0].energy_j, 300.0, 1e-9); /* the exact counter delta */
	CHECK_NEAR(out[0].power_w, 300.0, 1e-9);  /* the interval's average, not power_mw */
	CHECK_INT(out[0].flags, JST_READ_ENERGY);
	CHECK_NEAR(out[1].energy_j, (70.0 + 90.0) / 2 * 1, 1e-9);
	CHECK_NEAR(out[1].power_w, 90.0, 1e-9);
	CHECK_INT(out[1].flags, JST_READ_ENERGY | JST_READ_POWER);

	write_cfg("gpu 0 energy_mj=1423456\n"
	          "gpu 1 energy=unsupported power_mw=110000\n");
	CHECK_INT(jst_sensors_read(s, t0 + 3 * SEC, out), 0);
	CHECK_NEAR(out[0].energy_j, 123.456, 1e-9);
	CHECK_NEAR(out[0].power_w, 61.728, 1e-9);
	CHECK_NEAR(out[1].energy_j, (90.0 + 110.0) / 2 * 2, 1e-9);

	/* Three reads, one call per GPU each; nothing looked up again. */
	CHECK_INT(fake_calls("nvmlDeviceGetTotalEnergyConsumption"), 3);
	CHECK_INT(fake_calls("nvmlDeviceGetPowerUsage"), 3);
	CHECK_INT(fake_calls("nvmlDeviceGetName"), 0);
	CHECK_INT(fake_calls("nvmlDeviceGetUUID"), 0);
	CHECK_INT(fake_calls("nvmlDeviceGetHandleByIndex_v2"), 0);
	CHECK_INT(fake_calls("nvmlDeviceGetCount_v2"), 0);
	CHECK_INT(fake_calls("nvmlDeviceGetEnforcedPowerLimit"), 0);
	CHECK_INT(fake_calls("nvmlShutdown"), 0);
	jst_sensors_close(s);
	CHECK_INT(fake_calls("nvmlShutdown"), 1);
}

/* (b) A GPU that falls off the bus is GONE for good; the other keeps reading. A transient
 * error is FAILED, and the energy it hid arrives with the next good read. */
static void test_vanish(void)
{
	write_cfg("gpu 0 energy_mj=1000\ngpu 1 energy_mj=5000\n");
	struct jst_sensors *s = open_nvml();
	CHECK_INT(jst_sensors_count(s), 2);
	struct jst_reading out[2];
	uint64_t t0 = jst__mono_ns();
	jst_sensors_read(s, t0, out);

	write_cfg("gpu 0 energy_mj=2000\ngpu 1 energy_mj=6000 error=999\n");
	CHECK_INT(jst_sensors_read(s, t0 + SEC, out), 1);
	CHECK_NEAR(out[0].energy_j, 1.0, 1e-12);
	CHECK_INT(out[1].flags, JST_READ_FAILED);
	CHECK_NEAR(out[1].energy_j, 0.0, 0);

	write_cfg("gpu 0 energy_mj=3000\ngpu 1 energy_mj=7000\n");
	CHECK_INT(jst_sensors_read(s, t0 + 2 * SEC, out), 0);
	CHECK_NEAR(out[0].energy_j, 1.0, 1e-12);
	CHECK_NEAR(out[1].energy_j, 2.0, 1e-12); /* 5000 -> 7000 mJ, across the failed read */

	write_cfg("gpu 0 energy_mj=4000\ngpu 1 energy_mj=8000 lost=1\n");
	CHECK_INT(jst_sensors_read(s, t0 + 3 * SEC, out), 1);
	CHECK_NEAR(out[0].energy_j, 1.0, 1e-12);
	CHECK(out[1].flags & JST_READ_GONE);
	CHECK_NEAR(out[1].energy_j, 0.0, 0);

	/* Even if it answers again, it stays gone; gpu0 goes on. */
	write_cfg("gpu 0 energy_mj=6500\ngpu 1 energy_mj=9000\n");
	CHECK_INT(jst_sensors_read(s, t0 + 4 * SEC, out), 1);
	CHECK_NEAR(out[0].energy_j, 2.5, 1e-12);
	CHECK(out[1].flags & JST_READ_GONE);
	CHECK_INT(nvml_status(s)->state, JST_BACKEND_ACTIVE);
	struct jst_gpu_proc p[4];
	CHECK_INT(jst_sensors_gpu_procs(s, 1, p, 4), -ENODEV);
	jst_sensors_close(s);
}

/* A GPU that keeps failing is taken for gone after a while; every GPU failing at once is a
 * backend failure that the registry backs off from, losing no counter energy. */
static void test_failures(void)
{
	write_cfg("gpu 0 energy_mj=1000\ngpu 1 energy_mj=1000\n");
	struct jst_sensors *s = open_nvml();
	struct jst_reading out[2];
	uint64_t t = jst__mono_ns();
	jst_sensors_read(s, t, out);

	write_cfg("gpu 0 energy_mj=1500 error=999\ngpu 1 energy_mj=1500 error=999\n");
	t += SEC;
	CHECK_INT(jst_sensors_read(s, t, out), 2);
	CHECK_INT(out[0].flags, JST_READ_FAILED);
	CHECK_INT(nvml_status(s)->failures, 1);
	CHECK_HAS(nvml_status(s)->why, "read failed");
	write_cfg("gpu 0 energy_mj=2000\ngpu 1 energy_mj=3000\n");
	t += SEC;
	CHECK_INT(jst_sensors_read(s, t, out), 2); /* backed off: skipped */
	t += SEC;
	CHECK_INT(jst_sensors_read(s, t, out), 0);
	CHECK_NEAR(out[0].energy_j, 1.0, 1e-12);
	CHECK_NEAR(out[1].energy_j, 2.0, 1e-12);

	write_cfg("gpu 0 energy_mj=2000\ngpu 1 energy_mj=3000 error=999\n");
	int gone_after = 0;
	for (int i = 1; i <= 100 && !gone_after; i++) {
		t += SEC;
		jst_sensors_read(s, t, out);
		if (out[1].flags & JST_READ_GONE)
			gone_after = i;
		else
			CHECK_INT(out[1].flags, JST_READ_FAILED);
		CHECK_INT(out[0].flags, JST_READ_ENERGY);
	}
	CHECK(gone_after > 5);
	CHECK(gone_after < 100);
	jst_sensors_close(s);
}

/* (c) The counter going back (driver reload) is flagged, gives no energy, and rebaselines. */
static void test_backwards(void)
{
	write_cfg("gpu 0 energy_mj=5000000\n");
	struct jst_sensors *s = open_nvml();
	struct jst_reading out[1];
	uint64_t t0 = jst__mono_ns();
	jst_sensors_read(s, t0, out);
	write_cfg("gpu 0 energy_mj=1000\n");
	CHECK_INT(jst_sensors_read(s, t0 + SEC, out), 1);
	CHECK(out[0].flags & JST_READ_BACKWARDS);
	CHECK(!(out[0].flags & JST_READ_ENERGY));
	CHECK_NEAR(out[0].energy_j, 0.0, 0);
	CHECK(out[0].power_w >= 0);
	write_cfg("gpu 0 energy_mj=2000\n");
	CHECK_INT(jst_sensors_read(s, t0 + 2 * SEC, out), 0);
	CHECK_NEAR(out[0].energy_j, 1.0, 1e-12);
	CHECK_INT(out[0].flags, JST_READ_ENERGY);
	jst_sensors_close(s);
}

static void expect_not_active(enum jst_backend_state want, const char *why_part)
{
	struct jst_sensors *s = open_nvml();
	const struct jst_backend_status *st = nvml_status(s);
	CHECK_INT(st->state, want);
	CHECK_HAS(st->why, why_part);
	CHECK_INT(jst_sensors_count(s), 0);
	jst_sensors_close(s);
}

/* (d) No library, or not NVML: absent or failed, with a why that says what to do. */
static void test_library_missing(const char *fake)
{
	setenv("JOULESTREAM_NVML_LIB", "/nonexistent/libnvidia-ml.so.1", 1);
	expect_not_active(JST_BACKEND_ABSENT, "JOULESTREAM_NVML_LIB");
	setenv("JOULESTREAM_NVML_LIB", "libm.so.6", 1);
	expect_not_active(JST_BACKEND_FAILED, "lacks nvmlInit_v2");
	unsetenv("JOULESTREAM_NVML_LIB");
	void *real = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (real) {
		dlclose(real); /* a real driver here: the default path works, nothing to check */
	} else {
		expect_not_active(JST_BACKEND_ABSENT, "libnvidia-ml.so.1 not found");
		struct jst_sensors *s = open_nvml();
		CHECK_HAS(nvml_status(s)->why, "set JOULESTREAM_NVML_LIB");
		jst_sensors_close(s);
	}
	setenv("JOULESTREAM_NVML_LIB", fake, 1);
}

/* (e) nvmlInit failing, no GPU, or GPUs that measure nothing: not active, and why says so. */
static void test_init_failure(void)
{
	write_cfg("gpu 0 energy_mj=1\n");
	setenv("FAKE_NVML_INIT_ERROR", "9", 1);
	expect_not_active(JST_BACKEND_FAILED, "nvmlInit failed: Driver Not Loaded");
	unsetenv("FAKE_NVML_INIT_ERROR");
	write_cfg("init_error=4\ngpu 0 energy_mj=1\n");
	expect_not_active(JST_BACKEND_FORBIDDEN, "nvmlInit failed");
	/* The fake refuses a config it does not understand (its stderr says which line). */
	write_cfg("gpu 0 energy_mj=1 bogus=2\n");
	expect_not_active(JST_BACKEND_FAILED, "nvmlInit failed: Unknown Error");
	write_cfg("gpu 0 name=\"unterminated\n");
	expect_not_active(JST_BACKEND_FAILED, "nvmlInit failed");
	write_cfg("# no GPU\n");
	expect_not_active(JST_BACKEND_ABSENT, "no GPU");
	write_cfg("gpu 0 energy=unsupported power=unsupported\n");
	expect_not_active(JST_BACKEND_ABSENT, "none reports energy or power");
	/* A GPU that measures nothing is skipped; the next one keeps its NVML index. */
	write_cfg("gpu 0 energy=unsupported power=unsupported\ngpu 1 energy_mj=1\n");
	struct jst_sensors *s = open_nvml();
	CHECK_INT(jst_sensors_count(s), 1);
	if (jst_sensors_count(s) == 1) {
		CHECK_STR(jst_sensors_zone(s, 0)->name, "gpu1");
		CHECK_INT(jst_sensors_zone(s, 0)->device, 1);
	}
	jst_sensors_close(s);
}

/* (f) Processes on each GPU, with memory and SM utilisation from the samples since the last
 * call. */
static void test_procs(void)
{
	write_cfg("gpu 0 energy_mj=1\n"
	          "gpu 1 energy_mj=1 procs=unsupported\n"
	          "proc 0 pid=1234 mem=1000000 sm=80 ts=1000\n"
	          "proc 0 pid=5678 mem=2000\n");
	struct jst_sensors *s = open_nvml();
	struct jst_gpu_proc p[8];
	memset(p, 0xff, sizeof(p));
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 8), 2);
	CHECK_INT(p[0].pid, 1234);
	CHECK_INT(p[0].mem_bytes, 1000000);
	CHECK(p[0].util_known);
	CHECK_INT(p[0].sm_util, 80);
	CHECK_INT(p[1].pid, 5678);
	CHECK_INT(p[1].mem_bytes, 2000);
	CHECK(p[1].util_known); /* samples came, none for it: it was idle */
	CHECK_INT(p[1].sm_util, 0);
	/* No sample newer than the last one seen: utilisation unknown. */
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 8), 2);
	CHECK(!p[0].util_known);
	CHECK(!p[1].util_known);
	write_cfg("gpu 0 energy_mj=1\ngpu 1 energy_mj=1 procs=unsupported\n"
	          "proc 0 pid=1234 mem=1000000 sm=50 ts=2000\n"
	          "proc 0 pid=5678 mem=3000 sm=30 ts=2000\n");
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 8), 2);
	CHECK_INT(p[0].sm_util, 50);
	CHECK_INT(p[1].sm_util, 30);
	CHECK_INT(p[1].mem_bytes, 3000);
	CHECK(p[0].util_known && p[1].util_known);
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 1), 1); /* capped by the caller */
	CHECK_INT(jst_sensors_gpu_procs(s, 1, p, 8), -ENOTSUP);
	CHECK_INT(jst_sensors_gpu_procs(s, 5, p, 8), -EINVAL);

	/* The 32-byte entries of some R535 drivers, and a process in two MIG instances. */
	write_cfg("proc_layout=v3\ngpu 0 energy_mj=1\n"
	          "proc 0 pid=11 mem=100 sm=10 ts=3000\n"
	          "proc 0 pid=22 mem=200\n"
	          "proc 0 pid=11 mem=50\n"
	          "proc 0 pid=33 mem=300 sm=20 ts=3000\n");
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 8), 3);
	CHECK_INT(p[0].pid, 11);
	CHECK_INT(p[0].mem_bytes, 150);
	CHECK_INT(p[0].sm_util, 10);
	CHECK_INT(p[1].pid, 22);
	CHECK_INT(p[1].mem_bytes, 200);
	CHECK_INT(p[2].pid, 33);
	CHECK_INT(p[2].sm_util, 20);
	write_cfg("gpu 0 energy_mj=1\n");
	CHECK_INT(jst_sensors_gpu_procs(s, 0, p, 8), 0);
	jst_sensors_close(s);
}

int main(void)
{
	const char *fake = getenv("JST_FAKE_NVML");
	if (!fake || !*fake) {
		fprintf(stderr, "JST_FAKE_NVML is not set (run through ctest)\n");
		return 2;
	}
	/* Held open for the whole test so that its call counters survive the backend's
	 * dlopen/dlclose. */
	void *lib = dlopen(fake, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "cannot load %s: %s\n", fake, dlerror());
		return 2;
	}
	*(void **)&fake_calls = dlsym(lib, "fake_nvml_calls");
	*(void **)&fake_reset = dlsym(lib, "fake_nvml_reset_calls");
	if (!fake_calls || !fake_reset) {
		fprintf(stderr, "%s has no call counters\n", fake);
		return 2;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(cfg_path, sizeof(cfg_path), "%s/jst-fake-nvml-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(cfg_path);
	if (fd < 0) {
		perror("mkstemp");
		return 2;
	}
	close(fd);
	setenv("FAKE_NVML_CONFIG", cfg_path, 1);
	setenv("JOULESTREAM_NVML_LIB", fake, 1);
	unsetenv("FAKE_NVML_INIT_ERROR");

	test_two_gpus();
	test_vanish();
	test_failures();
	test_backwards();
	test_library_missing(fake);
	test_init_failure();
	test_procs();

	unlink(cfg_path);
	dlclose(lib);
	return check_done();
}
