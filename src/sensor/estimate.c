/* The estimate backend: what joulestream reports where nothing measures the CPU or memory (VMs,
 * containers, hosts without RAPL). CPU power is modelled from the CPU's TDP (data/cpu_tdp.csv)
 * and the utilisation in /proc/stat at every tick, memory power from MemTotal at a fixed W/GiB.
 * It stands in only for the parts no earlier backend measures; every zone it opens is flagged
 * JST_ZONE_ESTIMATE. Method, parameters and sources: docs/estimate.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "sensor/sensor.h"
#include "sensor/tdp.h"

extern const char jst_data_cpu_tdp[];
extern const size_t jst_data_cpu_tdp_len;

/* The model (docs/estimate.md): P_cpu = P_max × (f_idle + (1 − f_idle) × u), u the CPU
 * utilisation; P_max the TDP scaled to the CPUs this host has, or EST_MAX_W_PER_CPU per logical
 * CPU when the model is not in the table. f_idle = EST_MIN_W_PER_CPU / EST_MAX_W_PER_CPU, the
 * ratio of Cloud Carbon Footprint's AWS average min and max watts per vCPU (from SPECpower).
 * P_dram = MemTotal (GiB) × EST_DRAM_W_PER_GIB, Cloud Carbon Footprint's memory coefficient. */
#define EST_MIN_W_PER_CPU 0.74
#define EST_MAX_W_PER_CPU 3.5
#define EST_IDLE_FRACTION (EST_MIN_W_PER_CPU / EST_MAX_W_PER_CPU)
#define EST_DRAM_W_PER_GIB 0.392

#define STAT_BUF 1024        /* the first line of /proc/stat is < 256 bytes */
#define LINE_BUF 8192        /* longest cpuinfo/meminfo line kept (x86 "flags" is ~2 KiB) */
#define FILE_MAX (64u << 20) /* stop reading cpuinfo/meminfo past this */
#define SOCKET_IDS 256       /* "physical id" values tracked */
#define LABEL_UNKNOWN " (not in TDP table)"

struct est {
	int stat_fd; /* /proc/stat, open while the CPU zone is */
	bool cpu, dram;
	double cpu_max_w; /* P_max */
	double dram_w;
	double util; /* utilisation over the last interval, 0..1 */
	uint64_t prev_total, prev_busy;
	uint64_t min_ticks; /* fewer ticks than this since the baseline: too few to tell */
	char buf[STAT_BUF];
};

struct cpuinfo {
	char model[256]; /* first "model name", raw */
	size_t model_len;
	bool have_model;
	unsigned nproc;
	bool vm; /* the "hypervisor" CPU flag: running in a virtual machine */
	unsigned char socket_ids[SOCKET_IDS / 8];
};

/* Which parts an earlier backend already measures. */
struct cover {
	const struct jst_zone *cpu, *dram;
};

static struct cover coverage(const struct jst_sensor_ctx *ctx)
{
	struct cover c = {NULL, NULL};
	for (size_t i = 0; ctx->zones && i < ctx->nzones; i++) {
		const struct jst_zone *z = &ctx->zones[i];
		if (!(z->flags & JST_ZONE_COUNTED) || (z->flags & JST_ZONE_ESTIMATE))
			continue;
		if (z->kind == JST_KIND_PACKAGE && !c.cpu)
			c.cpu = z;
		else if (z->kind == JST_KIND_DRAM && !c.dram)
			c.dram = z;
	}
	return c;
}

static const char *src(const struct jst_zone *z)
{
	return z->source ? z->source : "another backend";
}

static int not_needed(const struct cover *c, char *why, size_t n)
{
	if (strcmp(src(c->cpu), src(c->dram)) == 0)
		snprintf(why, n, "not needed: %s measures the CPU and its memory", src(c->cpu));
	else
		snprintf(why, n, "not needed: %s measures the CPU and %s the memory", src(c->cpu),
			 src(c->dram));
	return -EALREADY;
}

static int readable(const struct jst_sensor_ctx *ctx, const char *rel, char *why, size_t n)
{
	char path[4096];
	if (jst__path(path, sizeof(path), ctx->roots.procfs, "%s", rel) < 0) {
		snprintf(why, n, "procfs root too long for %s", rel);
		return -ENAMETOOLONG;
	}
	if (access(path, R_OK) < 0) {
		int e = errno;
		snprintf(why, n, "cannot read %s: %s (set --procfs-root to the host's /proc)", path,
			 strerror(e));
		return e == EACCES || e == EPERM ? -e : -ENOENT;
	}
	return 0;
}

static int est_probe(const struct jst_sensor_ctx *ctx, char *why, size_t n)
{
	struct cover c = coverage(ctx);
	if (c.cpu && c.dram)
		return not_needed(&c, why, n);
	int r = 0;
	if (!c.cpu && (r = readable(ctx, "/proc/stat", why, n)) < 0)
		return r;
	if (!c.cpu && (r = readable(ctx, "/proc/cpuinfo", why, n)) < 0)
		return r;
	if (!c.dram && (r = readable(ctx, "/proc/meminfo", why, n)) < 0)
		return r;
	return 0;
}

/* Calls fn for each line of a file (without its newline), read in chunks with a bounded line
 * buffer: longer lines are skipped. fn returns 0 to go on, > 0 to stop, < 0 for an error. */
static int each_line(const char *path, int (*fn)(const char *, size_t, void *), void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[LINE_BUF];
	size_t have = 0, total = 0;
	bool skipping = false;
	int r = 0;
	for (;;) {
		ssize_t got = read(fd, buf + have, sizeof(buf) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			break;
		}
		total += (size_t)got;
		size_t end = have + (size_t)got, start = 0;
		for (size_t i = have; i < end && r == 0; i++) {
			if (buf[i] != '\n')
				continue;
			if (!skipping)
				r = fn(buf + start, i - start, arg);
			skipping = false;
			start = i + 1;
		}
		if (r != 0 || total > FILE_MAX)
			break;
		if (got == 0) {
			if (start < end && !skipping)
				r = fn(buf + start, end - start, arg);
			break;
		}
		memmove(buf, buf + start, end - start);
		have = end - start;
		if (have == sizeof(buf)) {
			skipping = true; /* a line longer than the buffer: drop it */
			have = 0;
		}
	}
	close(fd);
	return r < 0 ? r : 0;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && memcmp(k, name, kn) == 0;
}

static bool has_word(const char *p, size_t n, const char *w)
{
	size_t wn = strlen(w);
	for (size_t i = 0; i + wn <= n; i++)
		if ((i == 0 || p[i - 1] == ' ') && memcmp(p + i, w, wn) == 0 &&
		    (i + wn == n || p[i + wn] == ' '))
			return true;
	return false;
}

/* One line of /proc/cpuinfo: "key<tabs>: value". */
static int cpuinfo_line(const char *p, size_t n, void *arg)
{
	struct cpuinfo *ci = arg;
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return 0;
	size_t kn = (size_t)(colon - p);
	while (kn > 0 && (p[kn - 1] == ' ' || p[kn - 1] == '\t'))
		kn--;
	const char *v = colon + 1;
	size_t vn = n - (size_t)(v - p);
	while (vn > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vn--;
	}
	uint64_t id;
	if (key_is(p, kn, "processor")) {
		ci->nproc++;
	} else if (key_is(p, kn, "model name") && !ci->have_model) {
		ci->model_len = vn < sizeof(ci->model) ? vn : sizeof(ci->model) - 1;
		memcpy(ci->model, v, ci->model_len);
		ci->model[ci->model_len] = '\0';
		ci->have_model = true;
	} else if (key_is(p, kn, "physical id")) {
		if (jst__parse_u64(v, vn, &id) == 0 && id < SOCKET_IDS)
			ci->socket_ids[id / 8] |= (unsigned char)(1u << (id % 8));
	} else if (key_is(p, kn, "flags") && has_word(v, vn, "hypervisor")) {
		ci->vm = true;
	}
	return 0;
}

/* One line of /proc/stat: counts the "cpuN" lines (for kernels whose cpuinfo has no
 * "processor" lines). */
static int stat_cpu_line(const char *p, size_t n, void *arg)
{
	unsigned *count = arg;
	if (n > 3 && memcmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9')
		(*count)++;
	return 0;
}

static int meminfo_line(const char *p, size_t n, void *arg)
{
	uint64_t *kib = arg;
	static const char key[] = "MemTotal:";
	if (n < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1) != 0)
		return 0;
	const char *q = p + sizeof(key) - 1, *end = p + n;
	if (jst__next_u64(&q, end, kib) < 0)
		return -EINVAL;
	while (q < end && *q == ' ')
		q++;
	if ((size_t)(end - q) != 2 || memcmp(q, "kB", 2) != 0)
		return -EINVAL;
	return 1;
}

/* The first line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal …".
 * total is the sum of those eight (guest time is already inside user and nice), busy is total
 * minus idle and iowait. Kernels older than 2.6.11 have fewer fields: at least four needed. */
static int parse_stat(const char *p, size_t n, uint64_t *total, uint64_t *busy)
{
	const char *end = memchr(p, '\n', n);
	if (!end)
		end = p + n;
	if (end - p < 4 || memcmp(p, "cpu ", 4) != 0)
		return -EINVAL;
	const char *q = p + 3;
	uint64_t v[8] = {0}, sum = 0;
	size_t k = 0;
	for (; k < 8; k++) {
		int r = jst__next_u64(&q, end, &v[k]);
		if (r == -ERANGE)
			return r;
		if (r < 0)
			break;
		if (sum + v[k] < sum)
			return -ERANGE;
		sum += v[k];
	}
	if (k < 4)
		return -EINVAL;
	*total = sum;
	*busy = sum - v[3] - v[4];
	return 0;
}

/* Reads /proc/stat and updates the utilisation from the ticks since the last baseline. */
static int sample(struct est *st)
{
	ssize_t got = jst__pread_all(st->stat_fd, st->buf, sizeof(st->buf));
	if (got < 0)
		return (int)got;
	uint64_t total, busy;
	if (parse_stat(st->buf, (size_t)got, &total, &busy) < 0)
		return -EIO;
	if (total < st->prev_total || busy < st->prev_busy) {
		/* A CPU went offline with its counters (or idle time went back): keep the last
		 * utilisation and start again from here. */
		st->prev_total = total;
		st->prev_busy = busy;
		return 0;
	}
	uint64_t dt = total - st->prev_total, db = busy - st->prev_busy;
	if (dt == 0 || dt < st->min_ticks)
		return 0; /* too few ticks to tell: keep the last value, let them accumulate */
	st->util = db >= dt ? 1.0 : (double)db / (double)dt;
	st->prev_total = total;
	st->prev_busy = busy;
	return 0;
}

static double cpu_power(const struct est *st)
{
	return st->cpu_max_w * (EST_IDLE_FRACTION + (1.0 - EST_IDLE_FRACTION) * st->util);
}

static unsigned count_bits(const unsigned char *b, size_t n)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		for (unsigned v = b[i]; v; v &= v - 1)
			c++;
	return c;
}

/* P_max and the zone label, from the table row (or its absence) and what cpuinfo says. In a
 * VM the CPUs seen are a share of the physical package: TDP × seen / threads of the model.
 * On bare metal (or a container on it) every package is ours: TDP × sockets. */
static void cpu_model(const struct cpuinfo *ci, const char *clean, const struct jst_tdp_row *row,
		      struct est *st, struct jst_zone *z)
{
	if (!row) {
		st->cpu_max_w = EST_MAX_W_PER_CPU * ci->nproc;
		int room = (int)(sizeof(z->label) - sizeof(LABEL_UNKNOWN));
		snprintf(z->label, sizeof(z->label), "%.*s" LABEL_UNKNOWN, room,
			 *clean ? clean : "unknown CPU model");
		return;
	}
	unsigned sockets = count_bits(ci->socket_ids, sizeof(ci->socket_ids));
	double scale = 1.0;
	if (ci->vm && row->threads)
		scale = (double)ci->nproc / row->threads;
	else if (!ci->vm && sockets > 1)
		scale = sockets;
	st->cpu_max_w = row->tdp_w * scale;
	jst__strlcpy(z->label, clean, sizeof(z->label));
}

static void fill_zone(struct jst_zone *z, const char *name, enum jst_zone_kind kind, double max_w)
{
	jst__strlcpy(z->name, name, sizeof(z->name));
	snprintf(z->uid, sizeof(z->uid), "estimate:%s", kind == JST_KIND_DRAM ? "dram" : "cpu");
	z->kind = kind;
	z->source = "estimate";
	z->flags = JST_ZONE_ESTIMATE | JST_ZONE_COUNTED | JST_ZONE_BY_CPU | JST_ZONE_POWER_ONLY;
	z->device = -1;
	z->max_power_w = max_w;
}

static int read_cpuinfo(const char *procfs, struct cpuinfo *ci, char *why, size_t n)
{
	char path[4096];
	int r = jst__path(path, sizeof(path), procfs, "/proc/cpuinfo");
	if (r == 0)
		r = each_line(path, cpuinfo_line, ci);
	if (r == 0 && ci->nproc == 0 && jst__path(path, sizeof(path), procfs, "/proc/stat") == 0)
		r = each_line(path, stat_cpu_line, &ci->nproc);
	if (r < 0) {
		snprintf(why, n, "cannot read %s: %s", path, jst_strerror(r));
		return r;
	}
	if (ci->nproc == 0) {
		snprintf(why, n, "no CPU found in %s/proc/cpuinfo or /proc/stat",
			 procfs ? procfs : "");
		return -ENODEV;
	}
	return 0;
}

static int cpu_open(const struct jst_sensor_ctx *ctx, struct est *st, struct jst_zone *z, char *why,
		    size_t n)
{
	struct cpuinfo ci;
	memset(&ci, 0, sizeof(ci));
	int r = read_cpuinfo(ctx->roots.procfs, &ci, why, n);
	if (r < 0)
		return r;
	/* Matched on the tidy name: "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz" has to meet
	 * the pattern "Xeon Platinum 8375C". */
	char clean[JST_NAME_MAX], err[160];
	size_t cn = jst__cpu_model_clean(ci.model, ci.model_len, clean, sizeof(clean));
	struct jst_tdp_row row;
	r = jst__tdp_lookup(jst_data_cpu_tdp, jst_data_cpu_tdp_len, clean, cn, &row, err,
			    sizeof(err));
	if (r < 0) {
		snprintf(why, n, "data/cpu_tdp.csv %s", err);
		return r;
	}
	memset(z, 0, sizeof(*z));
	cpu_model(&ci, clean, r == 1 ? &row : NULL, st, z);
	fill_zone(z, "cpu-estimate", JST_KIND_PACKAGE, st->cpu_max_w);

	char path[4096];
	if (jst__path(path, sizeof(path), ctx->roots.procfs, "/proc/stat") < 0)
		return -ENAMETOOLONG;
	st->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (st->stat_fd < 0) {
		r = -errno;
		snprintf(why, n, "cannot open %s: %s", path, jst_strerror(r));
		return r;
	}
	ssize_t got = jst__pread_all(st->stat_fd, st->buf, sizeof(st->buf));
	if (got < 0 || parse_stat(st->buf, (size_t)got, &st->prev_total, &st->prev_busy) < 0) {
		snprintf(why, n, "cannot parse the first line of %s", path);
		return -ENODEV;
	}
	/* Until a first interval is known, the average since boot. */
	st->util = st->prev_total ? (double)st->prev_busy / (double)st->prev_total : 0.0;
	st->min_ticks = ci.nproc;
	st->cpu = true;
	return 0;
}

static int dram_open(const struct jst_sensor_ctx *ctx, struct est *st, struct jst_zone *z,
		     char *why, size_t n)
{
	char path[4096];
	uint64_t kib = 0;
	int r = jst__path(path, sizeof(path), ctx->roots.procfs, "/proc/meminfo");
	if (r == 0)
		r = each_line(path, meminfo_line, &kib);
	if (r < 0 || kib == 0) {
		snprintf(why, n, "no MemTotal in %s%s%s", path, r < 0 ? ": " : "",
			 r < 0 ? jst_strerror(r) : "");
		return r < 0 ? r : -ENODEV;
	}
	double gib = (double)kib / (1024.0 * 1024.0);
	st->dram_w = gib * EST_DRAM_W_PER_GIB;
	memset(z, 0, sizeof(*z));
	snprintf(z->label, sizeof(z->label), "%.1f GiB RAM", gib);
	fill_zone(z, "dram-estimate", JST_KIND_DRAM, st->dram_w);
	st->dram = true;
	return 0;
}

static void est_close(void *state)
{
	struct est *st = state;
	if (!st)
		return;
	if (st->stat_fd >= 0)
		close(st->stat_fd);
	free(st);
}

static int est_open(const struct jst_sensor_ctx *ctx, void **state, struct jst_zone *zones,
		    size_t max, char *why, size_t n)
{
	struct cover c = coverage(ctx);
	if (c.cpu && c.dram)
		return not_needed(&c, why, n);
	size_t need = (c.cpu ? 0u : 1u) + (c.dram ? 0u : 1u);
	if (max < need) {
		snprintf(why, n, "no room for %zu more zones", need);
		return -ENOSPC;
	}
	struct est *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->stat_fd = -1;
	size_t k = 0;
	int r = 0;
	if (!c.cpu && (r = cpu_open(ctx, st, &zones[k++], why, n)) < 0)
		goto fail;
	if (!c.dram && (r = dram_open(ctx, st, &zones[k++], why, n)) < 0)
		goto fail;
	*state = st;
	return (int)k;
fail:
	est_close(st);
	return r;
}

static int est_read(void *state, struct jst_reading *out)
{
	struct est *st = state;
	size_t k = 0;
	if (st->cpu) {
		int r = sample(st);
		if (r < 0)
			return r;
		out[k++] = (struct jst_reading){0, cpu_power(st), JST_READ_POWER};
	}
	if (st->dram)
		out[k++] = (struct jst_reading){0, st->dram_w, JST_READ_POWER};
	return 0;
}

const struct jst_sensor_ops jst__sensor_estimate = {
	.name = "estimate",
	.description = "model from CPU TDP and utilisation, RAM size (estimate)",
	.probe = est_probe,
	.open = est_open,
	.read = est_read,
	.gpu_procs = NULL,
	.close = est_close,
};
