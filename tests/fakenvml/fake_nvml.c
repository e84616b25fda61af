/* A fake libnvidia-ml for the tests: it exports the NVML functions joulestream uses, with
 * their real signatures, and takes its GPUs from the text file named by FAKE_NVML_CONFIG,
 * re-read on every call so that a test can rewrite it between two reads. It is not NVML:
 * only what the backend calls, and standalone (no libjoulestream). Format:
 *
 *   # comment
 *   init_error=9                  nvmlInit_v2 returns this code (also env FAKE_NVML_INIT_ERROR)
 *   driver="550.54.15"            nvmlSystemGetDriverVersion
 *   proc_layout=v3                write 32-byte process entries (the R535 layout); default v2
 *   gpu 0 name="NVIDIA H100 80GB HBM3" uuid=GPU-0 energy_mj=123456 power_mw=300000
 *         limit_mw=700000 energy=supported power=supported procs=supported util=supported
 *         lost=0 error=0          (one line; every key optional)
 *   proc 0 pid=1234 mem=1000000 sm=80 ts=1000    a process on GPU 0; a sample only with sm=
 *
 * The device count is the highest gpu index + 1; an index with no line, or lost=1, answers
 * NVML_ERROR_GPU_IS_LOST (15); error=N makes energy and power calls return N; limit_mw=0 means
 * no power limit; `unsupported` answers NVML_ERROR_NOT_SUPPORTED (3). A utilisation sample is
 * returned only when its ts (µs, default 1000) is newer than lastSeenTimeStamp. A missing or
 * invalid file makes every call fail with NVML_ERROR_UNKNOWN and a line on stderr. Calls are
 * counted: fake_nvml_calls("nvmlDeviceGetName"), fake_nvml_reset_calls(); with FAKE_NVML_STATS
 * set, nvmlShutdown writes "function count" lines to that file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct fake_device *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_GPU_IS_LOST 15
#define NVML_ERROR_UNKNOWN 999

typedef struct {
	unsigned int pid;
	unsigned long long usedGpuMemory;
	unsigned int gpuInstanceId;
	unsigned int computeInstanceId;
} nvmlProcessInfo_t;

typedef struct {
	unsigned int pid;
	unsigned long long usedGpuMemory;
	unsigned int gpuInstanceId;
	unsigned int computeInstanceId;
	unsigned long long usedGpuCcProtectedMemory;
} fake_process_info_v3;

typedef struct {
	unsigned int pid;
	unsigned long long timeStamp;
	unsigned int smUtil;
	unsigned int memUtil;
	unsigned int encUtil;
	unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

/* The exported API, declared before it is defined. */
nvmlReturn_t nvmlInit_v2(void);
nvmlReturn_t nvmlShutdown(void);
const char *nvmlErrorString(nvmlReturn_t r);
nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length);
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy);
nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power);
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit);
nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *count,
                                             unsigned long long lastSeenTimeStamp);
/* Test hooks. */
unsigned long fake_nvml_calls(const char *fn);
void fake_nvml_reset_calls(void);

#define GPUS_MAX 16
#define PROCS_MAX 256
#define FILE_MAX (64 * 1024)
#define STR_MAX 96

struct fake_gpu {
	bool present;
	char name[STR_MAX];
	char uuid[STR_MAX];
	unsigned long long energy_mj;
	unsigned power_mw, limit_mw;
	bool energy_ok, power_ok, procs_ok, util_ok, lost;
	int error;
};

struct fake_proc {
	unsigned gpu, pid, sm;
	bool has_sm;
	unsigned long long mem, ts;
};

struct fake_config {
	int init_error;
	bool proc_v3;
	char driver[STR_MAX];
	struct fake_gpu gpus[GPUS_MAX];
	unsigned ngpus; /* highest index + 1 */
	struct fake_proc procs[PROCS_MAX];
	unsigned nprocs;
};

struct fake_device {
	unsigned index;
};

static struct fake_config cfg;
static char filebuf[FILE_MAX + 1];
static struct fake_device devices[GPUS_MAX];
static bool initialized;

/* ---- Call counting. ---- */

static const char *const counted[] = {
	"nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlSystemGetDriverVersion",
	"nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetName",
	"nvmlDeviceGetUUID", "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetPowerUsage",
	"nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit",
	"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetProcessUtilization",
};
#define NCOUNTED (sizeof(counted) / sizeof(counted[0]))
static unsigned long counts[NCOUNTED];

static void count_call(const char *fn)
{
	for (size_t i = 0; i < NCOUNTED; i++)
		if (strcmp(counted[i], fn) == 0)
			counts[i]++;
}

unsigned long fake_nvml_calls(const char *fn)
{
	for (size_t i = 0; i < NCOUNTED; i++)
		if (strcmp(counted[i], fn) == 0)
			return counts[i];
	return 0;
}

void fake_nvml_reset_calls(void)
{
	memset(counts, 0, sizeof(counts));
}

static void write_stats(void)
{
	const char *path = getenv("FAKE_NVML_STATS");
	if (!path || !*path)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (size_t i = 0; i < NCOUNTED; i++)
		fprintf(f, "%s %lu\n", counted[i], counts[i]);
	fclose(f);
}

/* ---- The config parser: bounded, over (p, n), no sscanf. ---- */

struct span {
	const char *p;
	size_t n;
};

static bool span_is(struct span s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

static bool parse_ull(struct span s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_uint(struct span s, unsigned *out)
{
	unsigned long long v;
	if (!parse_ull(s, UINT32_MAX, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_bool(struct span s, bool *out)
{
	if (span_is(s, "supported") || span_is(s, "1") || span_is(s, "yes")) {
		*out = true;
		return true;
	}
	if (span_is(s, "unsupported") || span_is(s, "0") || span_is(s, "no")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_str(struct span s, char *dst)
{
	if (s.n >= STR_MAX)
		return false;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Next token of the line [*p, end): a bare word, or key=value where value may be "quoted"
 * (no escapes). Returns false at the end of the line or on an unterminated quote. */
static bool next_token(const char **p, const char *end, struct span *key, struct span *val,
                       bool *bad)
{
	const char *s = *p;
	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return false;
	key->p = s;
	while (s < end && !is_blank(*s) && *s != '=')
		s++;
	key->n = (size_t)(s - key->p);
	val->p = s;
	val->n = 0;
	if (s < end && *s == '=') {
		s++;
		if (s < end && *s == '"') {
			const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
			if (!q) {
				*bad = true;
				return false;
			}
			val->p = s + 1;
			val->n = (size_t)(q - s - 1);
			s = q + 1;
		} else {
			val->p = s;
			while (s < end && !is_blank(*s))
				s++;
			val->n = (size_t)(s - val->p);
		}
	}
	*p = s;
	return true;
}

static bool gpu_key(struct fake_gpu *g, struct span k, struct span v)
{
	unsigned long long ull;
	if (span_is(k, "name"))
		return parse_str(v, g->name);
	if (span_is(k, "uuid"))
		return parse_str(v, g->uuid);
	if (span_is(k, "energy_mj"))
		return parse_ull(v, UINT64_MAX, &g->energy_mj);
	if (span_is(k, "power_mw"))
		return parse_uint(v, &g->power_mw);
	if (span_is(k, "limit_mw"))
		return parse_uint(v, &g->limit_mw);
	if (span_is(k, "energy"))
		return parse_bool(v, &g->energy_ok);
	if (span_is(k, "power"))
		return parse_bool(v, &g->power_ok);
	if (span_is(k, "procs"))
		return parse_bool(v, &g->procs_ok);
	if (span_is(k, "util"))
		return parse_bool(v, &g->util_ok);
	if (span_is(k, "lost"))
		return parse_bool(v, &g->lost);
	if (span_is(k, "error") && parse_ull(v, 100000, &ull)) {
		g->error = (int)ull;
		return true;
	}
	return false;
}

static bool proc_key(struct fake_proc *pr, struct span k, struct span v)
{
	if (span_is(k, "pid"))
		return parse_uint(v, &pr->pid);
	if (span_is(k, "mem"))
		return parse_ull(v, UINT64_MAX, &pr->mem);
	if (span_is(k, "ts"))
		return parse_ull(v, UINT64_MAX, &pr->ts);
	if (span_is(k, "sm")) {
		pr->has_sm = true;
		return parse_uint(v, &pr->sm) && pr->sm <= 100;
	}
	return false;
}

/* A "gpu N ..." or "proc N ..." line, after its first word. */
static bool parse_device_line(bool is_gpu, const char *p, const char *end)
{
	struct span k, v;
	bool bad = false;
	unsigned idx;
	if (!next_token(&p, end, &k, &v, &bad) || v.n || !parse_uint(k, &idx) || idx >= GPUS_MAX)
		return false;
	struct fake_gpu *g = &cfg.gpus[idx];
	struct fake_proc *pr = &cfg.procs[cfg.nprocs];
	if (is_gpu) {
		if (g->present)
			return false;
		*g = (struct fake_gpu){.present = true, .energy_ok = true, .power_ok = true,
		                       .procs_ok = true, .util_ok = true};
		snprintf(g->name, sizeof(g->name), "Fake GPU %u", idx);
		snprintf(g->uuid, sizeof(g->uuid), "GPU-fake-%04u", idx);
		if (idx + 1 > cfg.ngpus)
			cfg.ngpus = idx + 1;
	} else {
		if (cfg.nprocs == PROCS_MAX)
			return false;
		*pr = (struct fake_proc){.gpu = idx, .ts = 1000};
		cfg.nprocs++;
	}
	while (next_token(&p, end, &k, &v, &bad))
		if (!(is_gpu ? gpu_key(g, k, v) : proc_key(pr, k, v)))
			return false;
	return !bad;
}

static bool parse_line(const char *p, const char *end)
{
	struct span k, v;
	bool bad = false;
	const char *s = p;
	while (s < end && is_blank(*s))
		s++;
	if (s < end && *s == '#')
		return true;
	if (!next_token(&s, end, &k, &v, &bad))
		return !bad; /* blank line */
	if (span_is(k, "gpu") || span_is(k, "proc"))
		return v.n == 0 && parse_device_line(span_is(k, "gpu"), s, end);
	unsigned long long ull;
	if (span_is(k, "init_error") && parse_ull(v, 100000, &ull))
		cfg.init_error = (int)ull;
	else if (span_is(k, "driver"))
		return parse_str(v, cfg.driver);
	else if (span_is(k, "proc_layout") && (span_is(v, "v2") || span_is(v, "v3")))
		cfg.proc_v3 = span_is(v, "v3");
	else
		return false;
	/* one directive per line */
	return !next_token(&s, end, &k, &v, &bad) && !bad;
}

static bool read_config_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, filebuf + n, FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > FILE_MAX)
			break;
	}
	close(fd);
	*len = n;
	return n <= FILE_MAX;
}

/* Re-reads the configuration. Returns NVML_SUCCESS or NVML_ERROR_UNKNOWN. */
static nvmlReturn_t load(void)
{
	const char *path = getenv("FAKE_NVML_CONFIG");
	size_t len = 0;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.driver, sizeof(cfg.driver), "550.00.fake");
	if (!path || !*path || !read_config_file(path, &len)) {
		fprintf(stderr, "fake_nvml: cannot read FAKE_NVML_CONFIG (%s)\n", path ? path : "unset");
		return NVML_ERROR_UNKNOWN;
	}
	const char *p = filebuf, *end = filebuf + len;
	for (unsigned line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		if (!parse_line(p, e)) {
			fprintf(stderr, "fake_nvml: %s:%u: invalid line\n", path, line);
			memset(&cfg, 0, sizeof(cfg));
			return NVML_ERROR_UNKNOWN;
		}
		p = nl ? nl + 1 : end;
	}
	return NVML_SUCCESS;
}

/* The GPU behind a handle, with the config freshly loaded; NULL with *r set otherwise. */
static struct fake_gpu *gpu_of(nvmlDevice_t dev, nvmlReturn_t *r)
{
	if (!initialized) {
		*r = NVML_ERROR_UNINITIALIZED;
		return NULL;
	}
	if ((*r = load()) != NVML_SUCCESS)
		return NULL;
	for (unsigned i = 0; i < GPUS_MAX; i++) {
		if (dev != &devices[i])
			continue;
		struct fake_gpu *g = &cfg.gpus[i];
		if (!g->present || g->lost) {
			*r = NVML_ERROR_GPU_IS_LOST;
			return NULL;
		}
		return g;
	}
	*r = NVML_ERROR_INVALID_ARGUMENT;
	return NULL;
}

static nvmlReturn_t copy_str(const char *src, char *dst, unsigned int length)
{
	size_t n = strlen(src);
	if (!dst || n + 1 > length)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(dst, src, n + 1);
	return NVML_SUCCESS;
}

/* ---- The exported NVML API. ---- */

nvmlReturn_t nvmlInit_v2(void)
{
	count_call(__func__);
	const char *env = getenv("FAKE_NVML_INIT_ERROR");
	unsigned long long code;
	if (env && *env && parse_ull((struct span){env, strlen(env)}, 100000, &code) && code)
		return (nvmlReturn_t)code;
	nvmlReturn_t r = load();
	if (r != NVML_SUCCESS)
		return r;
	if (cfg.init_error)
		return cfg.init_error;
	for (unsigned i = 0; i < GPUS_MAX; i++)
		devices[i].index = i;
	initialized = true;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
	count_call(__func__);
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	initialized = false;
	write_stats();
	return NVML_SUCCESS;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
	count_call(__func__);
	switch (r) {
	case NVML_SUCCESS: return "Success";
	case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
	case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
	case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
	case 4: return "Insufficient Permissions";
	case NVML_ERROR_NOT_FOUND: return "Not Found";
	case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
	case 9: return "Driver Not Loaded";
	case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
	default: return "Unknown Error";
	}
}

nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	count_call(__func__);
	nvmlReturn_t r = initialized ? load() : NVML_ERROR_UNINITIALIZED;
	return r != NVML_SUCCESS ? r : copy_str(cfg.driver, version, length);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
	count_call(__func__);
	nvmlReturn_t r = initialized ? load() : NVML_ERROR_UNINITIALIZED;
	if (r != NVML_SUCCESS)
		return r;
	if (!count)
		return NVML_ERROR_INVALID_ARGUMENT;
	*count = cfg.ngpus;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	count_call(__func__);
	nvmlReturn_t r = initialized ? load() : NVML_ERROR_UNINITIALIZED;
	if (r != NVML_SUCCESS)
		return r;
	if (!device || index >= cfg.ngpus)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (!cfg.gpus[index].present || cfg.gpus[index].lost)
		return NVML_ERROR_GPU_IS_LOST;
	*device = &devices[index];
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	return g ? copy_str(g->name, name, length) : r;
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	return g ? copy_str(g->uuid, uuid, length) : r;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->energy_ok)
		return NVML_ERROR_NOT_SUPPORTED;
	if (g->error)
		return g->error;
	if (!energy)
		return NVML_ERROR_INVALID_ARGUMENT;
	*energy = g->energy_mj;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->power_ok)
		return NVML_ERROR_NOT_SUPPORTED;
	if (g->error)
		return g->error;
	if (!power)
		return NVML_ERROR_INVALID_ARGUMENT;
	*power = g->power_mw;
	return NVML_SUCCESS;
}

static nvmlReturn_t get_limit(nvmlDevice_t device, unsigned int *limit)
{
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->limit_mw)
		return NVML_ERROR_NOT_SUPPORTED;
	if (!limit)
		return NVML_ERROR_INVALID_ARGUMENT;
	*limit = g->limit_mw;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit)
{
	count_call(__func__);
	return get_limit(device, limit);
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device, unsigned int *limit)
{
	count_call(__func__);
	return get_limit(device, limit);
}

static void put_proc(void *infos, unsigned i, const struct fake_proc *pr)
{
	if (cfg.proc_v3) {
		fake_process_info_v3 *v3 = (fake_process_info_v3 *)infos + i;
		*v3 = (fake_process_info_v3){pr->pid, pr->mem, 0xFFFFFFFFu, 0xFFFFFFFFu, 0};
	} else {
		nvmlProcessInfo_t *v2 = (nvmlProcessInfo_t *)infos + i;
		*v2 = (nvmlProcessInfo_t){pr->pid, pr->mem, 0xFFFFFFFFu, 0xFFFFFFFFu};
	}
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->procs_ok)
		return NVML_ERROR_NOT_SUPPORTED;
	if (!count)
		return NVML_ERROR_INVALID_ARGUMENT;
	unsigned gi = (unsigned)(g - cfg.gpus), n = 0;
	for (unsigned i = 0; i < cfg.nprocs; i++)
		n += cfg.procs[i].gpu == gi;
	if (n > *count || (n > 0 && !infos)) {
		*count = n;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	n = 0;
	for (unsigned i = 0; i < cfg.nprocs; i++)
		if (cfg.procs[i].gpu == gi)
			put_proc(infos, n++, &cfg.procs[i]);
	*count = n;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *count,
                                             unsigned long long lastSeenTimeStamp)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->util_ok)
		return NVML_ERROR_NOT_SUPPORTED;
	if (!count)
		return NVML_ERROR_INVALID_ARGUMENT;
	unsigned gi = (unsigned)(g - cfg.gpus), n = 0;
	for (unsigned i = 0; i < cfg.nprocs; i++) {
		const struct fake_proc *pr = &cfg.procs[i];
		n += pr->gpu == gi && pr->has_sm && pr->ts > lastSeenTimeStamp;
	}
	if (n == 0)
		return NVML_ERROR_NOT_FOUND;
	if (!utilization || n > *count) {
		*count = n;
		return NVML_ERROR_INSUFFICIENT_SIZE;
	}
	n = 0;
	for (unsigned i = 0; i < cfg.nprocs; i++) {
		const struct fake_proc *pr = &cfg.procs[i];
		if (pr->gpu == gi && pr->has_sm && pr->ts > lastSeenTimeStamp)
			utilization[n++] = (nvmlProcessUtilizationSample_t){pr->pid, pr->ts, pr->sm,
			                                                    0, 0, 0};
	}
	*count = n;
	return NVML_SUCCESS;
}
