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
 * set, nvmlShutdown writes "function count" lines to that file.
 *
 * Power limits and the power-performance model (issue 18). More keys of a gpu line:
 *
 *   min_limit_mw=150000 max_limit_mw=400000   nvmlDeviceGetPowerManagementLimitConstraints
 *                                             (both 0, the default: NVML_ERROR_NOT_SUPPORTED)
 *   default_limit_mw=400000                   the default limit (default: limit_mw)
 *   set_limit=supported|refused|unsupported   nvmlDeviceSetPowerManagementLimit succeeds,
 *                                             answers NVML_ERROR_NO_PERMISSION (4), or
 *                                             NVML_ERROR_NOT_SUPPORTED (3)
 *   demand_mw=400000 static_mw=100000 alpha_milli=500 step_us=20000    the model below
 *
 * Limits persist in the state file named by FAKE_NVML_STATE (absent: set limits are refused
 * with NVML_ERROR_UNKNOWN), one line per GPU that has state: `gpu N limit_mw=X energy_mj=Y`.
 * The limit in force is the state's limit_mw, else the config's limit_mw; it outlives the
 * process that set it, as a real GPU's does, so a test can kill -9 the setter and look. The
 * energy counter is the config's energy_mj plus the state's energy_mj. The file is read under
 * a shared flock and rewritten in place under an exclusive one. While a GPU has a limit in the
 * state, each read of its energy counter adds 1 to the state's reads=N, so that a test's job
 * can wait until its step mark has been taken (tests/e2e/gpu_job.py).
 *
 * The model (D = demand_mw, S = static_mw, a = alpha_milli / 1000, t0 = step_us, L = the
 * limit in force, all per GPU): under L the GPU draws p(L) = min(D, L) and one training step
 * takes t(L) = t0 × max(1, ((D − S) / (L − S))^a) (L > S; the dynamic part of the power is
 * what the limit squeezes). nvmlDeviceGetPowerUsage answers p(L) for a GPU with a demand.
 * GPUs that train together (DDP) wait for the slowest: the step takes T = max over GPUs of
 * t_i(L_i), and GPU i spends p_i(L_i) × t_i + S_i × (T − t_i) joules in it. A test's job runs
 * the steps with two hooks: fake_nvml_step_time() returns T in seconds for the limits in force
 * now (and remembers them); fake_nvml_step_done() adds each GPU's energy for that step to its
 * counter. The job sleeps T between the two, so the measured time is not the model's unless
 * the job also dates its step marks with T (tests/e2e/gpu_job.py does). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef struct fake_device *nvmlDevice_t;

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
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
nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device,
                                                          unsigned int *minLimit,
                                                          unsigned int *maxLimit);
nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *limit);
nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit);
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                     nvmlProcessInfo_t *infos);
nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device,
                                             nvmlProcessUtilizationSample_t *utilization,
                                             unsigned int *count,
                                             unsigned long long lastSeenTimeStamp);
/* Test hooks. */
unsigned long fake_nvml_calls(const char *fn);
void fake_nvml_reset_calls(void);
double fake_nvml_step_time(void);
int fake_nvml_step_done(void);

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
	unsigned min_limit_mw, max_limit_mw, default_limit_mw;
	unsigned demand_mw, static_mw, alpha_milli, step_us;
	int set_limit; /* NVML_SUCCESS, NO_PERMISSION or NOT_SUPPORTED */
	/* from the state file */
	bool has_state;
	unsigned state_limit_mw;
	unsigned long long state_energy_mj;
	unsigned long long state_reads; /* energy counter reads, while the state has a limit */
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
static unsigned initialized; /* nvmlInit_v2 calls not yet shut down (NVML counts them too) */

/* ---- Call counting. ---- */

static const char *const counted[] = {
	"nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlSystemGetDriverVersion",
	"nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetName",
	"nvmlDeviceGetUUID", "nvmlDeviceGetTotalEnergyConsumption", "nvmlDeviceGetPowerUsage",
	"nvmlDeviceGetEnforcedPowerLimit", "nvmlDeviceGetPowerManagementLimit",
	"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetProcessUtilization",
	"nvmlDeviceGetPowerManagementLimitConstraints", "nvmlDeviceGetPowerManagementDefaultLimit",
	"nvmlDeviceSetPowerManagementLimit",
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
	if (span_is(k, "min_limit_mw"))
		return parse_uint(v, &g->min_limit_mw);
	if (span_is(k, "max_limit_mw"))
		return parse_uint(v, &g->max_limit_mw);
	if (span_is(k, "default_limit_mw"))
		return parse_uint(v, &g->default_limit_mw);
	if (span_is(k, "demand_mw"))
		return parse_uint(v, &g->demand_mw);
	if (span_is(k, "static_mw"))
		return parse_uint(v, &g->static_mw);
	if (span_is(k, "alpha_milli"))
		return parse_uint(v, &g->alpha_milli);
	if (span_is(k, "step_us"))
		return parse_uint(v, &g->step_us);
	if (span_is(k, "set_limit")) {
		if (span_is(v, "supported"))
			g->set_limit = NVML_SUCCESS;
		else if (span_is(v, "refused"))
			g->set_limit = NVML_ERROR_NO_PERMISSION;
		else if (span_is(v, "unsupported"))
			g->set_limit = NVML_ERROR_NOT_SUPPORTED;
		else
			return false;
		return true;
	}
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
		                       .procs_ok = true, .util_ok = true, .alpha_milli = 1000,
		                       .step_us = 10000};
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


/* ---- The state file (FAKE_NVML_STATE): limits set and model energy, across processes. ---- */

static char statebuf[FILE_MAX + 1];

/* Opens the state file locked (LOCK_SH or LOCK_EX); -1 when there is none. */
static int state_open(int how)
{
	const char *path = getenv("FAKE_NVML_STATE");
	if (!path || !*path)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (flock(fd, how) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/* Reads the state lines into cfg (fd open and locked). */
static nvmlReturn_t state_read(int fd)
{
	ssize_t n = pread(fd, statebuf, FILE_MAX, 0);
	if (n < 0)
		return NVML_ERROR_UNKNOWN;
	const char *p = statebuf, *end = statebuf + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		struct span k, v;
		bool bad = false;
		unsigned idx;
		const char *s = p;
		if (next_token(&s, e, &k, &v, &bad)) {
			if (!span_is(k, "gpu") || !next_token(&s, e, &k, &v, &bad) || !parse_uint(k, &idx) ||
			    idx >= GPUS_MAX)
				return NVML_ERROR_UNKNOWN;
			struct fake_gpu *g = &cfg.gpus[idx];
			g->has_state = true;
			while (next_token(&s, e, &k, &v, &bad)) {
				if (span_is(k, "limit_mw") && parse_uint(v, &g->state_limit_mw))
					continue;
				if (span_is(k, "energy_mj") && parse_ull(v, UINT64_MAX, &g->state_energy_mj))
					continue;
				if (span_is(k, "reads") && parse_ull(v, UINT64_MAX, &g->state_reads))
					continue;
				return NVML_ERROR_UNKNOWN;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return NVML_SUCCESS;
}

/* Rewrites the state file from cfg (fd open and locked exclusively). */
static nvmlReturn_t state_write(int fd)
{
	size_t n = 0;
	for (unsigned i = 0; i < GPUS_MAX; i++) {
		const struct fake_gpu *g = &cfg.gpus[i];
		if (!g->has_state)
			continue;
		int w = snprintf(statebuf + n, sizeof(statebuf) - n,
		                 "gpu %u limit_mw=%u energy_mj=%llu reads=%llu\n", i, g->state_limit_mw,
		                 g->state_energy_mj, g->state_reads);
		if (w < 0 || (size_t)w >= sizeof(statebuf) - n)
			return NVML_ERROR_UNKNOWN;
		n += (size_t)w;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, statebuf, n, 0) != (ssize_t)n)
		return NVML_ERROR_UNKNOWN;
	return NVML_SUCCESS;
}

static nvmlReturn_t load_state(void)
{
	int fd = state_open(LOCK_SH);
	if (fd < 0)
		return NVML_SUCCESS;
	nvmlReturn_t r = state_read(fd);
	close(fd);
	if (r != NVML_SUCCESS)
		fprintf(stderr, "fake_nvml: invalid FAKE_NVML_STATE\n");
	return r;
}

static unsigned limit_of(const struct fake_gpu *g)
{
	return g->has_state && g->state_limit_mw ? g->state_limit_mw : g->limit_mw;
}

/* Re-reads the configuration, without the state file. */
static nvmlReturn_t load_config(void)
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
	for (unsigned i = 0; i < GPUS_MAX; i++)
		if (!cfg.gpus[i].default_limit_mw)
			cfg.gpus[i].default_limit_mw = cfg.gpus[i].limit_mw;
	return NVML_SUCCESS;
}

/* Re-reads the configuration and the state. Returns NVML_SUCCESS or NVML_ERROR_UNKNOWN. */
static nvmlReturn_t load(void)
{
	nvmlReturn_t r = load_config();
	return r == NVML_SUCCESS ? load_state() : r;
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
	initialized++;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlShutdown(void)
{
	count_call(__func__);
	if (!initialized)
		return NVML_ERROR_UNINITIALIZED;
	if (--initialized == 0)
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
	*energy = g->energy_mj + g->state_energy_mj;
	if (g->has_state && g->state_limit_mw) { /* count the read, for a job that waits on it */
		unsigned idx = (unsigned)(g - cfg.gpus);
		int fd = state_open(LOCK_EX);
		if (fd >= 0 && load_config() == NVML_SUCCESS && state_read(fd) == NVML_SUCCESS) {
			cfg.gpus[idx].state_reads++;
			state_write(fd);
		}
		if (fd >= 0)
			close(fd);
	}
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
	if (g->demand_mw) /* the model: p(L) = min(D, L) */
		*power = limit_of(g) && limit_of(g) < g->demand_mw ? limit_of(g) : g->demand_mw;
	return NVML_SUCCESS;
}

static nvmlReturn_t get_limit(nvmlDevice_t device, unsigned int *limit)
{
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!limit_of(g))
		return NVML_ERROR_NOT_SUPPORTED;
	if (!limit)
		return NVML_ERROR_INVALID_ARGUMENT;
	*limit = limit_of(g);
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

nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device,
                                                          unsigned int *minLimit,
                                                          unsigned int *maxLimit)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->min_limit_mw && !g->max_limit_mw)
		return NVML_ERROR_NOT_SUPPORTED;
	if (!minLimit || !maxLimit)
		return NVML_ERROR_INVALID_ARGUMENT;
	*minLimit = g->min_limit_mw;
	*maxLimit = g->max_limit_mw;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *limit)
{
	count_call(__func__);
	nvmlReturn_t r;
	const struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (!g->default_limit_mw)
		return NVML_ERROR_NOT_SUPPORTED;
	if (!limit)
		return NVML_ERROR_INVALID_ARGUMENT;
	*limit = g->default_limit_mw;
	return NVML_SUCCESS;
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit)
{
	count_call(__func__);
	nvmlReturn_t r;
	struct fake_gpu *g = gpu_of(device, &r);
	if (!g)
		return r;
	if (g->set_limit != NVML_SUCCESS)
		return g->set_limit;
	if (!g->max_limit_mw || limit < g->min_limit_mw || limit > g->max_limit_mw)
		return NVML_ERROR_INVALID_ARGUMENT;
	unsigned idx = (unsigned)(g - cfg.gpus);
	int fd = state_open(LOCK_EX);
	if (fd < 0)
		return NVML_ERROR_UNKNOWN;
	if ((r = load_config()) == NVML_SUCCESS && (r = state_read(fd)) == NVML_SUCCESS) {
		g = &cfg.gpus[idx];
		g->has_state = true;
		g->state_limit_mw = limit;
		r = state_write(fd);
	}
	close(fd);
	return r;
}

/* ---- The model's step, for a test's job (see the top of the file). ---- */

static unsigned step_limits[GPUS_MAX];
static double step_T;

static double model_time(const struct fake_gpu *g, unsigned L)
{
	double t0 = g->step_us / 1e6, D = g->demand_mw, S = g->static_mw, a = g->alpha_milli / 1000.0;
	if (L >= g->demand_mw)
		return t0;
	if (L <= g->static_mw)
		return 1e9; /* no power left for work */
	double f = pow((D - S) / ((double)L - S), a);
	return f > 1 ? t0 * f : t0;
}

double fake_nvml_step_time(void)
{
	if (load() != NVML_SUCCESS)
		return -1;
	step_T = 0;
	for (unsigned i = 0; i < GPUS_MAX; i++) {
		const struct fake_gpu *g = &cfg.gpus[i];
		step_limits[i] = limit_of(g);
		if (!g->present || !g->demand_mw)
			continue;
		double t = model_time(g, step_limits[i]);
		if (t > step_T)
			step_T = t;
	}
	return step_T;
}

int fake_nvml_step_done(void)
{
	int fd = state_open(LOCK_EX);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (load_config() == NVML_SUCCESS && state_read(fd) == NVML_SUCCESS) {
		for (unsigned i = 0; i < GPUS_MAX; i++) {
			struct fake_gpu *g = &cfg.gpus[i];
			if (!g->present || !g->demand_mw)
				continue;
			unsigned L = step_limits[i];
			double t = model_time(g, L), p = L && L < g->demand_mw ? L : g->demand_mw;
			double mj = p * t + (double)g->static_mw * (step_T - t); /* mW x s = mJ */
			if (!g->has_state)
				g->state_limit_mw = 0;
			g->has_state = true;
			g->state_energy_mj += (unsigned long long)llround(mj);
		}
		rc = state_write(fd) == NVML_SUCCESS ? 0 : -1;
	}
	close(fd);
	return rc;
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
