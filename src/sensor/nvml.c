/* The NVIDIA backend: one zone per GPU, read through NVML loaded at run time with dlopen
 * (libnvidia-ml.so.1, or the path in JOULESTREAM_NVML_LIB; src/core/dl.c), so the same binary
 * runs with and without a driver. No NVIDIA header is used: the few types and codes needed are
 * declared here. Each GPU is read with one NVML call per tick: its energy counter (mJ) where supported, else
 * its power (mW), which the registry integrates. It also lists the processes on each GPU.
 * The power limits (include/joulestream/gpulimit.h, issue 18) are at the end: a handle of
 * their own on the same library, since the sensor's state belongs to the sampler. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dl.h"
#include "core/util.h"
#include "joulestream/gpulimit.h"
#include "sensor/sensor.h"

/* ---- The subset of the NVML API used here (values from the NVML API reference). ---- */

typedef int nvml_ret;                     /* nvmlReturn_t */
typedef struct nvml_device *nvml_device;  /* nvmlDevice_t: opaque handle */

#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_RESET_REQUIRED 16
#define NVML_ERROR_GPU_NOT_FOUND 28
#define NVML_NAME_BUFFER_SIZE 96                 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_UUID_BUFFER_SIZE 96                 /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */
#define NVML_VALUE_NOT_AVAILABLE (~0ULL)

/* nvmlProcessInfo_v2_t, what nvmlDeviceGetComputeRunningProcesses_v3 fills: pid at 0,
 * usedGpuMemory at 8, gpuInstanceId at 16, computeInstanceId at 20; 24 bytes. Some R535
 * drivers wrote a 32-byte entry instead (usedGpuCcProtectedMemory appended): see
 * proc_stride(). Entries are decoded by offset from a byte buffer for that reason. */
#define PROC_V2_SIZE 24
#define PROC_V3_SIZE 32
#define PROC_OFF_PID 0
#define PROC_OFF_MEM 8

struct nvml_util_sample { /* nvmlProcessUtilizationSample_t */
	unsigned int pid;
	unsigned long long timeStamp; /* CPU time, microseconds */
	unsigned int smUtil;
	unsigned int memUtil;
	unsigned int encUtil;
	unsigned int decUtil;
};

struct nvml_fns {
	/* required */
	nvml_ret (*init)(void);
	nvml_ret (*shutdown)(void);
	nvml_ret (*count)(unsigned int *n);
	nvml_ret (*handle)(unsigned int i, nvml_device *dev);
	const char *(*error_string)(nvml_ret r);
	/* optional (NULL when the library lacks them) */
	nvml_ret (*name)(nvml_device dev, char *buf, unsigned int len);
	nvml_ret (*uuid)(nvml_device dev, char *buf, unsigned int len);
	nvml_ret (*energy)(nvml_device dev, unsigned long long *mj);
	nvml_ret (*power)(nvml_device dev, unsigned int *mw);
	nvml_ret (*enforced_limit)(nvml_device dev, unsigned int *mw);
	nvml_ret (*mgmt_limit)(nvml_device dev, unsigned int *mw);
	nvml_ret (*procs)(nvml_device dev, unsigned int *n, void *infos);
	nvml_ret (*util)(nvml_device dev, struct nvml_util_sample *s, unsigned int *n,
	                 unsigned long long last_seen);
	nvml_ret (*driver_version)(char *buf, unsigned int len);
	nvml_ret (*limit_constraints)(nvml_device dev, unsigned int *min_mw, unsigned int *max_mw);
	nvml_ret (*default_limit)(nvml_device dev, unsigned int *mw);
	nvml_ret (*set_limit)(nvml_device dev, unsigned int mw);
};

struct nvml_lib {
	void *handle;
	struct nvml_fns fn;
};

/* ---- Backend state. ---- */

#define GPUS_MAX 32
#define PROCS_MAX 64
#define SAMPLES_MAX 256
#define ZONE_FAILS_GONE 30 /* failed reads in a row before a GPU is taken for gone */

enum gpu_method { BY_ENERGY, BY_POWER };

struct gpu {
	nvml_device dev;
	unsigned index;
	enum gpu_method method;
	unsigned long long last_mj;    /* energy counter at the previous good read */
	unsigned long long util_seen;  /* lastSeenTimeStamp for process utilisation */
	unsigned fails;                /* failed reads in a row */
	bool gone;
};

struct nvml {
	struct nvml_lib lib;
	bool initialized;
	struct gpu gpus[GPUS_MAX];
	size_t ngpus;
	/* Scratch for gpu_procs(), kept here so that no call allocates. */
	unsigned long long procbuf[PROCS_MAX * PROC_V3_SIZE / sizeof(unsigned long long)];
	struct nvml_util_sample samples[SAMPLES_MAX];
	unsigned long long util_sum[PROCS_MAX];
	unsigned util_n[PROCS_MAX];
};

/* ---- Loading the library. ---- */

/* dlopen()s NVML through the one loader (core/dl.c) and resolves its symbols; the first five
 * are required, the others skip what needs them. On failure why says what to do: -ENOENT when
 * there is no library (no driver: the backend is absent), -ENODEV when one is there but is not
 * a usable NVML (the backend failed). */
static int load_lib(struct nvml_lib *lib, char *why, size_t whylen)
{
	struct nvml_fns *f = &lib->fn;
	/* Writing a dlsym() result through a void ** is the POSIX idiom for function pointers. */
	const struct jst__dl_sym syms[] = {
		{"nvmlInit_v2", (void **)&f->init, false},
		{"nvmlShutdown", (void **)&f->shutdown, false},
		{"nvmlDeviceGetCount_v2", (void **)&f->count, false},
		{"nvmlDeviceGetHandleByIndex_v2", (void **)&f->handle, false},
		{"nvmlErrorString", (void **)&f->error_string, false},
		{"nvmlDeviceGetName", (void **)&f->name, true},
		{"nvmlDeviceGetUUID", (void **)&f->uuid, true},
		{"nvmlDeviceGetTotalEnergyConsumption", (void **)&f->energy, true},
		{"nvmlDeviceGetPowerUsage", (void **)&f->power, true},
		{"nvmlDeviceGetEnforcedPowerLimit", (void **)&f->enforced_limit, true},
		{"nvmlDeviceGetPowerManagementLimit", (void **)&f->mgmt_limit, true},
		{"nvmlDeviceGetComputeRunningProcesses_v3", (void **)&f->procs, true},
		{"nvmlDeviceGetProcessUtilization", (void **)&f->util, true},
		{"nvmlSystemGetDriverVersion", (void **)&f->driver_version, true},
		{"nvmlDeviceGetPowerManagementLimitConstraints", (void **)&f->limit_constraints, true},
		{"nvmlDeviceGetPowerManagementDefaultLimit", (void **)&f->default_limit, true},
		{"nvmlDeviceSetPowerManagementLimit", (void **)&f->set_limit, true},
	};
	const struct jst__dl_lib dl = {
		.soname = "libnvidia-ml.so.1",
		.env = "JOULESTREAM_NVML_LIB",
		.package = "libnvidia-ml1",
		.syms = syms,
		.nsyms = JST_ARRAY_LEN(syms),
		.absent = " (no NVIDIA driver)",
		.newer = "from a newer NVIDIA driver",
	};
	memset(lib, 0, sizeof(*lib));
	int r = jst__dl_open(&dl, &lib->handle, why, whylen);
	if (r == -ENOSYS)
		return -ENODEV;
	if (r == -ENOENT) {
		const char *env = getenv(dl.env);
		if (env && *env && access(env, F_OK) == 0)
			return -ENODEV; /* there, but not loadable: a broken library, not an absent one */
	}
	return r;
}

static const char *nvml_error(const struct nvml_lib *lib, nvml_ret r)
{
	const char *s = lib->fn.error_string ? lib->fn.error_string(r) : NULL;
	return s ? s : "unknown NVML error";
}

/* Cheap: only checks that the library loads and has what we need. Initialising NVML can take
 * seconds on a GPU without persistence mode, so that is left to open(), which reports its own
 * failures the same way. */
static int probe(const struct jst_sensor_ctx *ctx, char *why, size_t whylen)
{
	(void)ctx;
	struct nvml_lib lib;
	int r = load_lib(&lib, why, whylen);
	if (r < 0)
		return r;
	jst__dl_close(lib.handle);
	return 0;
}

static void close_state(void *state)
{
	struct nvml *st = state;
	if (!st)
		return;
	if (st->initialized)
		st->lib.fn.shutdown();
	jst__dl_close(st->lib.handle);
	free(st);
}

/* ---- Opening: one zone per GPU, and the read method decided once. ---- */

static double power_limit_w(const struct nvml *st, nvml_device dev)
{
	unsigned int mw = 0;
	if (st->lib.fn.enforced_limit && st->lib.fn.enforced_limit(dev, &mw) == NVML_SUCCESS)
		return mw / 1000.0;
	if (st->lib.fn.mgmt_limit && st->lib.fn.mgmt_limit(dev, &mw) == NVML_SUCCESS)
		return mw / 1000.0;
	return 0;
}

/* Picks how GPU g is read: its energy counter (taking the baseline now) or its power. Returns
 * false when it reports neither. */
static bool choose_method(const struct nvml *st, struct gpu *g)
{
	unsigned long long mj;
	unsigned int mw;
	if (st->lib.fn.energy && st->lib.fn.energy(g->dev, &mj) == NVML_SUCCESS) {
		g->method = BY_ENERGY;
		g->last_mj = mj;
		return true;
	}
	if (st->lib.fn.power && st->lib.fn.power(g->dev, &mw) == NVML_SUCCESS) {
		g->method = BY_POWER;
		return true;
	}
	return false;
}

static void describe(const struct nvml *st, const struct gpu *g, struct jst_zone *z)
{
	char buf[NVML_NAME_BUFFER_SIZE > NVML_UUID_BUFFER_SIZE ? NVML_NAME_BUFFER_SIZE
	                                                       : NVML_UUID_BUFFER_SIZE];
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "gpu%u", g->index);
	buf[0] = '\0';
	if (!st->lib.fn.name || st->lib.fn.name(g->dev, buf, sizeof(buf)) != NVML_SUCCESS)
		snprintf(buf, sizeof(buf), "NVIDIA GPU");
	buf[sizeof(buf) - 1] = '\0';
	jst__strlcpy(z->label, buf, sizeof(z->label));
	buf[0] = '\0';
	if (!st->lib.fn.uuid || st->lib.fn.uuid(g->dev, buf, sizeof(buf)) != NVML_SUCCESS)
		snprintf(buf, sizeof(buf), "nvml:gpu%u", g->index);
	buf[sizeof(buf) - 1] = '\0';
	jst__strlcpy(z->uid, buf, sizeof(z->uid));
	z->kind = JST_KIND_GPU;
	z->source = "nvml";
	z->flags = JST_ZONE_COUNTED | JST_ZONE_BY_GPU;
	if (g->method == BY_POWER)
		z->flags |= JST_ZONE_POWER_ONLY;
	z->device = (int)g->index;
	z->max_power_w = power_limit_w(st, g->dev);
}

/* Opens every GPU that reports energy or power; skips the others. Returns the zone count. */
static size_t open_gpus(struct nvml *st, unsigned count, struct jst_zone *zones, size_t max)
{
	for (unsigned i = 0; i < count && st->ngpus < max && st->ngpus < GPUS_MAX; i++) {
		struct gpu *g = &st->gpus[st->ngpus];
		memset(g, 0, sizeof(*g));
		g->index = i;
		if (st->lib.fn.handle(i, &g->dev) != NVML_SUCCESS || !choose_method(st, g))
			continue;
		describe(st, g, &zones[st->ngpus]);
		st->ngpus++;
	}
	return st->ngpus;
}

static int open_(const struct jst_sensor_ctx *ctx, void **state, struct jst_zone *zones,
                 size_t max, char *why, size_t whylen)
{
	(void)ctx;
	struct nvml *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int r = load_lib(&st->lib, why, whylen);
	if (r < 0)
		goto fail;
	nvml_ret nr = st->lib.fn.init();
	if (nr != NVML_SUCCESS) {
		snprintf(why, whylen, "nvmlInit failed: %s", nvml_error(&st->lib, nr));
		r = nr == NVML_ERROR_NO_PERMISSION ? -EACCES : -ENODEV;
		goto fail;
	}
	st->initialized = true;
	unsigned int count = 0;
	nr = st->lib.fn.count(&count);
	if (nr != NVML_SUCCESS) {
		snprintf(why, whylen, "nvmlDeviceGetCount failed: %s", nvml_error(&st->lib, nr));
		r = -ENODEV;
		goto fail;
	}
	if (count == 0) {
		snprintf(why, whylen, "NVML found no GPU");
		r = -ENOENT;
		goto fail;
	}
	if (open_gpus(st, count, zones, max) == 0) {
		snprintf(why, whylen, "NVML found %u GPU%s but none reports energy or power", count,
		         count == 1 ? "" : "s");
		r = -ENOTSUP;
		goto fail;
	}
	*state = st;
	return (int)st->ngpus;
fail:
	close_state(st);
	return r;
}

/* ---- Reading. ---- */

static bool is_gone_code(nvml_ret r)
{
	return r == NVML_ERROR_GPU_IS_LOST || r == NVML_ERROR_GPU_NOT_FOUND ||
	       r == NVML_ERROR_RESET_REQUIRED;
}

/* One NVML call for GPU g. Returns 1 for a value, 0 for a failure, -1 when newly gone. */
static int read_gpu(const struct nvml *st, struct gpu *g, struct jst_reading *o)
{
	*o = (struct jst_reading){0, 0, 0};
	nvml_ret r;
	if (g->method == BY_ENERGY) {
		unsigned long long mj = 0;
		r = st->lib.fn.energy(g->dev, &mj);
		if (r == NVML_SUCCESS) {
			if (mj < g->last_mj) {
				o->flags = JST_READ_BACKWARDS; /* driver reloaded: counter restarted */
			} else {
				o->energy_j = (double)(mj - g->last_mj) / 1000.0;
				o->flags = JST_READ_ENERGY;
			}
			g->last_mj = mj;
		}
	} else {
		unsigned int mw = 0;
		r = st->lib.fn.power(g->dev, &mw);
		if (r == NVML_SUCCESS) {
			o->power_w = mw / 1000.0;
			o->flags = JST_READ_POWER;
		}
	}
	if (r == NVML_SUCCESS) {
		g->fails = 0;
		return 1;
	}
	/* The counter baseline stays: energy missed now arrives with the next good read. */
	if (is_gone_code(r) || ++g->fails >= ZONE_FAILS_GONE) {
		g->gone = true;
		o->flags = JST_READ_GONE;
		return -1;
	}
	o->flags = JST_READ_FAILED;
	return 0;
}

static int read_(void *state, struct jst_reading *out)
{
	struct nvml *st = state;
	size_t good = 0, failed = 0, newly_gone = 0;
	for (size_t i = 0; i < st->ngpus; i++) {
		struct gpu *g = &st->gpus[i];
		if (g->gone) {
			out[i] = (struct jst_reading){0, 0, JST_READ_GONE};
			continue;
		}
		int r = read_gpu(st, g, &out[i]);
		if (r > 0)
			good++;
		else if (r == 0)
			failed++;
		else
			newly_gone++;
	}
	/* Every live GPU failed at once: more likely the driver than the GPUs. Let the registry
	 * back off; a per-GPU failure is reported on that zone only. */
	if (good == 0 && failed > 0 && newly_gone == 0)
		return -EIO;
	return 0;
}

/* ---- Processes. ---- */

/* The entry size the library used: 24 bytes (nvmlProcessInfo_v2_t) unless the entries read
 * that way show pid 0 where a 32-byte stride gives real pids (the R535 layout). */
static size_t proc_stride(const unsigned char *buf, unsigned n)
{
	if (n < 2)
		return PROC_V2_SIZE;
	bool v2_ok = true, v3_ok = true;
	for (unsigned i = 0; i < n; i++) {
		unsigned int a, b;
		memcpy(&a, buf + (size_t)i * PROC_V2_SIZE + PROC_OFF_PID, sizeof(a));
		memcpy(&b, buf + (size_t)i * PROC_V3_SIZE + PROC_OFF_PID, sizeof(b));
		v2_ok = v2_ok && a != 0;
		v3_ok = v3_ok && b != 0;
	}
	return !v2_ok && v3_ok ? PROC_V3_SIZE : PROC_V2_SIZE;
}

/* Adds the SM utilisation of the samples since the last call. NVML returns one sample per
 * process that was busy in a sample period: when it returns samples, a listed process without
 * one was idle (0 %, known); when it returns none (NVML_ERROR_NOT_FOUND: no new period since
 * the last call), utilisation stays unknown. */
static void add_util(struct nvml *st, struct gpu *g, struct jst_gpu_proc *out, size_t n)
{
	unsigned int cnt = SAMPLES_MAX;
	if (!st->lib.fn.util ||
	    st->lib.fn.util(g->dev, st->samples, &cnt, g->util_seen) != NVML_SUCCESS)
		return;
	if (cnt > SAMPLES_MAX)
		cnt = SAMPLES_MAX;
	memset(st->util_sum, 0, sizeof(st->util_sum));
	memset(st->util_n, 0, sizeof(st->util_n));
	for (unsigned s = 0; s < cnt; s++) {
		const struct nvml_util_sample *smp = &st->samples[s];
		if (smp->timeStamp > g->util_seen)
			g->util_seen = smp->timeStamp;
		for (size_t k = 0; k < n; k++) {
			if ((unsigned)out[k].pid == smp->pid) {
				st->util_sum[k] += smp->smUtil;
				st->util_n[k]++;
				break;
			}
		}
	}
	for (size_t k = 0; k < n; k++) {
		unsigned long long u = st->util_n[k] ? st->util_sum[k] / st->util_n[k] : 0;
		out[k].sm_util = u > 100 ? 100 : (unsigned)u;
		out[k].util_known = true;
	}
}

static int procs_errno(nvml_ret r)
{
	switch (r) {
	case NVML_ERROR_NOT_SUPPORTED:
		return -ENOTSUP;
	case NVML_ERROR_NO_PERMISSION:
		return -EACCES;
	case NVML_ERROR_INSUFFICIENT_SIZE:
		return -ENOBUFS; /* more than PROCS_MAX processes on one GPU */
	default:
		return is_gone_code(r) ? -ENODEV : -EIO;
	}
}

static int gpu_procs(void *state, size_t zone, struct jst_gpu_proc *out, size_t max)
{
	struct nvml *st = state;
	if (zone >= st->ngpus)
		return -EINVAL;
	struct gpu *g = &st->gpus[zone];
	if (g->gone)
		return -ENODEV;
	if (!st->lib.fn.procs)
		return -ENOTSUP;
	unsigned int n = PROCS_MAX;
	nvml_ret r = st->lib.fn.procs(g->dev, &n, st->procbuf);
	if (r != NVML_SUCCESS)
		return procs_errno(r);
	if (n > PROCS_MAX)
		n = PROCS_MAX;
	const unsigned char *buf = (const unsigned char *)st->procbuf;
	size_t stride = proc_stride(buf, n), k = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned int pid;
		unsigned long long mem;
		memcpy(&pid, buf + i * stride + PROC_OFF_PID, sizeof(pid));
		memcpy(&mem, buf + i * stride + PROC_OFF_MEM, sizeof(mem));
		if (mem == NVML_VALUE_NOT_AVAILABLE)
			mem = 0;
		size_t j = 0;
		while (j < k && (unsigned)out[j].pid != pid)
			j++;
		if (j < k) { /* the same process in several MIG instances */
			out[j].mem_bytes += mem;
			continue;
		}
		if (k == max)
			break;
		out[k++] = (struct jst_gpu_proc){(pid_t)pid, 0, false, mem};
	}
	if (k > 0)
		add_util(st, g, out, k);
	return (int)k;
}

static int driver(void *state, char *buf, size_t n)
{
	struct nvml *st = state;
	char v[96];
	if (!st->lib.fn.driver_version || st->lib.fn.driver_version(v, sizeof(v)) != NVML_SUCCESS)
		return -ENOTSUP;
	v[sizeof(v) - 1] = '\0';
	snprintf(buf, n, "NVIDIA %s", v);
	return 0;
}

const struct jst_sensor_ops jst__sensor_nvml = {
	.name = "nvml",
	.description = "NVIDIA GPUs through NVML",
	.probe = probe,
	.open = open_,
	.read = read_,
	.gpu_procs = gpu_procs,
	.driver = driver,
	.close = close_state,
};

/* ---- Power limits (gpulimit.h). ---- */

struct jst_gpu_ctl {
	struct nvml_lib lib;
	bool initialized;
	nvml_device dev[JST_GPU_CTL_MAX];
	unsigned index[JST_GPU_CTL_MAX];
	size_t n;
};

void jst_gpu_ctl_close(struct jst_gpu_ctl *c)
{
	if (!c)
		return;
	if (c->initialized)
		c->lib.fn.shutdown();
	jst__dl_close(c->lib.handle);
	free(c);
}

int jst_gpu_ctl_open(struct jst_gpu_ctl **out, char *why, size_t whylen)
{
	*out = NULL;
	struct jst_gpu_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int r = load_lib(&c->lib, why, whylen);
	if (r < 0)
		goto fail;
	nvml_ret nr = c->lib.fn.init();
	if (nr != NVML_SUCCESS) {
		snprintf(why, whylen, "nvmlInit failed: %s", nvml_error(&c->lib, nr));
		r = nr == NVML_ERROR_NO_PERMISSION ? -EACCES : -ENODEV;
		goto fail;
	}
	c->initialized = true;
	unsigned count = 0;
	if ((nr = c->lib.fn.count(&count)) != NVML_SUCCESS) {
		snprintf(why, whylen, "nvmlDeviceGetCount failed: %s", nvml_error(&c->lib, nr));
		r = -ENODEV;
		goto fail;
	}
	for (unsigned i = 0; i < count && c->n < JST_GPU_CTL_MAX; i++)
		if (c->lib.fn.handle(i, &c->dev[c->n]) == NVML_SUCCESS)
			c->index[c->n++] = i;
	if (c->n == 0) {
		snprintf(why, whylen, "NVML found no GPU");
		r = -ENOENT;
		goto fail;
	}
	*out = c;
	return (int)c->n;
fail:
	jst_gpu_ctl_close(c);
	return r;
}

size_t jst_gpu_ctl_count(const struct jst_gpu_ctl *c)
{
	return c ? c->n : 0;
}

int jst_gpu_ctl_info(struct jst_gpu_ctl *c, size_t i, struct jst_gpu_limit *o)
{
	if (i >= c->n)
		return -EINVAL;
	const struct nvml_fns *f = &c->lib.fn;
	nvml_device d = c->dev[i];
	memset(o, 0, sizeof(*o));
	o->index = c->index[i];
	if (!f->uuid || f->uuid(d, o->uuid, sizeof(o->uuid)) != NVML_SUCCESS)
		snprintf(o->uuid, sizeof(o->uuid), "nvml:gpu%u", o->index);
	o->uuid[sizeof(o->uuid) - 1] = '\0';
	if (!f->name || f->name(d, o->name, sizeof(o->name)) != NVML_SUCCESS)
		snprintf(o->name, sizeof(o->name), "NVIDIA GPU");
	o->name[sizeof(o->name) - 1] = '\0';
	unsigned mn = 0, mx = 0, v = 0;
	if (f->limit_constraints && f->limit_constraints(d, &mn, &mx) == NVML_SUCCESS && mx >= mn) {
		o->min_w = mn / 1000.0;
		o->max_w = mx / 1000.0;
	}
	if (f->default_limit && f->default_limit(d, &v) == NVML_SUCCESS)
		o->default_w = v / 1000.0;
	if (f->mgmt_limit && f->mgmt_limit(d, &v) == NVML_SUCCESS)
		o->current_w = v / 1000.0;
	return o->max_w > 0 && o->current_w > 0 ? 0 : -ENOTSUP;
}

int jst_gpu_ctl_find(struct jst_gpu_ctl *c, const char *uuid)
{
	for (size_t i = 0; i < c->n; i++) {
		struct jst_gpu_limit l;
		jst_gpu_ctl_info(c, i, &l);
		if (strcmp(l.uuid, uuid) == 0)
			return (int)i;
	}
	return -ENOENT;
}

int jst_gpu_ctl_set(struct jst_gpu_ctl *c, size_t i, double watts, char *why, size_t whylen)
{
	if (i >= c->n || !(watts > 0) || watts > 1e6)
		return -EINVAL;
	if (!c->lib.fn.set_limit) {
		snprintf(why, whylen, "this NVML cannot set power limits (no "
		         "nvmlDeviceSetPowerManagementLimit: a newer NVIDIA driver has it)");
		return -ENOTSUP;
	}
	unsigned mw = (unsigned)(watts * 1000.0 + 0.5);
	nvml_ret r = c->lib.fn.set_limit(c->dev[i], mw);
	switch (r) {
	case NVML_SUCCESS:
		return 0;
	case NVML_ERROR_NO_PERMISSION:
		snprintf(why, whylen,
		         "setting gpu%u's power limit needs root: NVML said '%s'. Run joulestream as root "
		         "(sudo) or with CAP_SYS_ADMIN, with persistence mode on (`sudo nvidia-smi -pm 1`) "
		         "so that the driver keeps the limit between processes",
		         c->index[i], nvml_error(&c->lib, r));
		return -EPERM;
	case NVML_ERROR_NOT_SUPPORTED:
		snprintf(why, whylen, "gpu%u cannot set its power limit (NVML: '%s')", c->index[i],
		         nvml_error(&c->lib, r));
		return -ENOTSUP;
	case 2: /* NVML_ERROR_INVALID_ARGUMENT */
		snprintf(why, whylen, "gpu%u refused a limit of %.0f W (outside its constraints)",
		         c->index[i], watts);
		return -EINVAL;
	default:
		snprintf(why, whylen, "setting gpu%u's power limit failed: %s", c->index[i],
		         nvml_error(&c->lib, r));
		return is_gone_code(r) ? -ENODEV : -EIO;
	}
}

int jst_gpu_ctl_energy(struct jst_gpu_ctl *c, size_t i, double *joules)
{
	unsigned long long mj = 0;
	if (i >= c->n || !c->lib.fn.energy || c->lib.fn.energy(c->dev[i], &mj) != NVML_SUCCESS)
		return -ENOTSUP;
	*joules = (double)mj / 1000.0;
	return 0;
}
