/* The hwmon backend: energy counters (energyN_input, uJ) and power readings (powerN_average or
 * powerN_input, uW) of the devices under <sysfs-root>/sys/class/hwmon, e.g. amdgpu and Intel
 * discrete GPUs (i915, xe), or the CPU drivers that mirror RAPL where RAPL itself is missing.
 * Power-only zones return JST_READ_POWER and the registry integrates them; files are opened
 * once and re-read with pread. Temperatures, fans and voltages are not read.
 *
 * Policies (tests/unit/test_hwmon.c pins them down):
 *  - One zone per device, from its lowest-numbered channel, energy preferred over power: the
 *    channels of one device usually nest (xe: energy1 "card" contains energy2 "pkg"), so adding
 *    them would double count. amd_energy gives one zone per "Esocket" channel; zenpower's power
 *    channels (core and SoC rails) are summed into one zone.
 *  - Counting: GPUs (amdgpu, i915, xe: hwmon is registered for discrete cards only) are COUNTED
 *    and attributed by GPU. CPU drivers that mirror RAPL (amd_energy, zenpower, fam15h_power) are
 *    skipped when a RAPL package zone is open, else the first of them present stands in as
 *    PACKAGE, COUNTED. Every other device (acpi_power_meter, ina3221, ...) is JST_KIND_OTHER and
 *    NOT counted: nothing says whether it overlaps what is counted (acpi_power_meter measures
 *    the whole system), so it is listed and sampled but never added to the host's IT energy.
 *  - No counter range is assumed: i915 and xe accumulate their 32-bit register into a 63-bit
 *    software counter before exposing energy1_input in uJ (drivers/gpu/drm/{i915/i915,xe/xe}
 *    _hwmon.c), so a 2^32 uJ range would invent wraps. A counter that goes back is reported as
 *    JST_READ_BACKWARDS and becomes the new baseline.
 *  - Known limit: on AMD APUs amdgpu's PPT covers the whole SoC, overlapping RAPL's package;
 *    nothing in hwmon tells an APU from a discrete card, so it is counted as a GPU. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "sensor/sensor.h"

#define DEV_MAX 64 /* hwmon devices considered */
#define SUM_MAX 4  /* files summed into one zone */
#define PATH_LEN 512
#define NUM_LEN 32

enum pick {
	PICK_FIRST,   /* the lowest energy channel, else the lowest power channel */
	PICK_SOCKETS, /* one zone per energy channel labelled "Esocket<N>" */
	PICK_SUM,     /* all power channels summed into one zone */
};

struct driver {
	const char *name;
	enum jst_zone_kind kind;
	unsigned flags;
	int mirror; /* >0: mirrors RAPL; the lowest rank present stands in for it */
	enum pick pick;
};

#define GPU_FLAGS (JST_ZONE_COUNTED | JST_ZONE_BY_GPU)
#define CPU_FLAGS (JST_ZONE_COUNTED | JST_ZONE_BY_CPU)
static const struct driver drivers[] = {
	{"amdgpu", JST_KIND_GPU, GPU_FLAGS, 0, PICK_FIRST},
	{"i915", JST_KIND_GPU, GPU_FLAGS, 0, PICK_FIRST},
	{"xe", JST_KIND_GPU, GPU_FLAGS, 0, PICK_FIRST},
	{"amd_energy", JST_KIND_PACKAGE, CPU_FLAGS, 1, PICK_SOCKETS},
	{"zenpower", JST_KIND_PACKAGE, CPU_FLAGS, 2, PICK_SUM},
	{"fam15h_power", JST_KIND_PACKAGE, CPU_FLAGS, 3, PICK_FIRST},
};
static const struct driver other_driver = {"", JST_KIND_OTHER, 0, 0, PICK_FIRST};

struct hwdev {
	char rel[128]; /* attribute folder under the root: "/sys/class/hwmon/hwmon3" */
	char name[32]; /* its driver's `name` */
	unsigned num;  /* N of hwmonN, for a stable order */
	const struct driver *drv;
	uint64_t energy, pavg, pinput; /* channel masks: bit N for channel N */
};

/* One zone to open: which files, and what to call it. */
struct spec {
	bool energy;
	unsigned nch;
	unsigned ch[SUM_MAX];
	int device;
};

struct hw_zone {
	int fd[SUM_MAX];
	unsigned nfd;
	bool energy;
	bool have_prev;
	uint64_t prev; /* last good counter value, uJ */
};

struct hw_state {
	size_t n;
	struct hw_zone z[JST_ZONES_MAX];
};

struct scan_notes {
	size_t skipped_mirrors; /* CPU mirrors left out because RAPL measures the packages */
	char mirror_name[32];
	int forbidden;
	char forbidden_path[160];
	int other_err;
	char other_path[160];
};

static bool all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0;
}

/* "<prefix><N><suffix>" -> N (1..63); 0 when the name is something else. */
static unsigned channel_of(const char *f, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), fl = strlen(f);
	if (fl <= pl + sl || strncmp(f, prefix, pl) != 0 || strcmp(f + fl - sl, suffix) != 0)
		return 0;
	uint64_t v;
	if (!all_digits(f + pl, fl - pl - sl) || jst__parse_u64(f + pl, fl - pl - sl, &v) < 0)
		return 0;
	return v >= 1 && v < 64 ? (unsigned)v : 0;
}

static void scan_channels(const char *root, struct hwdev *d)
{
	char path[PATH_LEN];
	if (jst__path(path, sizeof(path), root, "%s", d->rel) < 0)
		return;
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir))) {
		unsigned c;
		if ((c = channel_of(e->d_name, "energy", "_input")))
			d->energy |= 1ull << c;
		else if ((c = channel_of(e->d_name, "power", "_average")))
			d->pavg |= 1ull << c;
		else if ((c = channel_of(e->d_name, "power", "_input")))
			d->pinput |= 1ull << c;
	}
	closedir(dir);
}

static const struct driver *driver_of(const char *name)
{
	for (size_t i = 0; i < JST_ARRAY_LEN(drivers); i++)
		if (strcmp(drivers[i].name, name) == 0)
			return &drivers[i];
	return &other_driver;
}

/* Reads the device's `name`: in hwmonN/, or in hwmonN/device/ for old drivers. */
static bool read_name(const char *root, struct hwdev *d)
{
	static const char *const where[] = {"", "/device"};
	for (size_t i = 0; i < JST_ARRAY_LEN(where); i++) {
		char path[PATH_LEN];
		if (jst__path(path, sizeof(path), root, "%s%s/name", d->rel, where[i]) < 0)
			return false;
		if (jst__read_file(path, d->name, sizeof(d->name)) > 0) {
			size_t l = strlen(d->rel);
			snprintf(d->rel + l, sizeof(d->rel) - l, "%s", where[i]);
			return true;
		}
	}
	return false;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct hwdev *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num;
}

/* Lists hwmonN devices with at least one energy or power channel, in N order. */
static int list_devices(const char *root, struct hwdev *devs, size_t *n)
{
	char path[PATH_LEN];
	if (jst__path(path, sizeof(path), root, "/sys/class/hwmon") < 0)
		return -ENAMETOOLONG;
	DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	struct dirent *e;
	while ((e = readdir(dir)) && *n < DEV_MAX) {
		uint64_t num;
		size_t l = strlen(e->d_name);
		if (l <= 5 || strncmp(e->d_name, "hwmon", 5) != 0 ||
		    !all_digits(e->d_name + 5, l - 5) ||
		    jst__parse_u64(e->d_name + 5, l - 5, &num) < 0 || num > 1000000)
			continue;
		struct hwdev *d = &devs[*n];
		memset(d, 0, sizeof(*d));
		d->num = (unsigned)num;
		int w = snprintf(d->rel, sizeof(d->rel), "/sys/class/hwmon/%s", e->d_name);
		if (w < 0 || (size_t)w >= sizeof(d->rel) || !read_name(root, d))
			continue;
		d->drv = driver_of(d->name);
		scan_channels(root, d);
		if (d->energy | d->pavg | d->pinput)
			(*n)++;
	}
	closedir(dir);
	qsort(devs, *n, sizeof(*devs), dev_cmp);
	return 0;
}

static unsigned lowest(uint64_t mask)
{
	for (unsigned c = 1; c < 64; c++)
		if (mask & (1ull << c))
			return c;
	return 0;
}

/* Reads <rel>/<file> into buf; the length, or a negative errno. */
static ssize_t read_attr(const char *root, const char *rel, const char *file, char *buf, size_t n)
{
	char path[PATH_LEN];
	if (jst__path(path, sizeof(path), root, "%s/%s", rel, file) < 0)
		return -ENAMETOOLONG;
	return jst__read_file(path, buf, n);
}

/* The zones of one device, following its driver's pick; returns how many specs. */
static size_t pick_zones(const char *root, const struct hwdev *d, struct spec *sp, size_t max)
{
	size_t n = 0;
	if (max == 0)
		return 0;
	if (d->drv->pick == PICK_SOCKETS) {
		for (unsigned c = 1; c < 64 && n < max; c++) {
			char file[32], label[32];
			uint64_t sock;
			if (!(d->energy & (1ull << c)))
				continue;
			snprintf(file, sizeof(file), "energy%u_label", c);
			ssize_t l = read_attr(root, d->rel, file, label, sizeof(label));
			if (l <= 7 || strncmp(label, "Esocket", 7) != 0 ||
			    jst__parse_u64(label + 7, (size_t)l - 7, &sock) < 0 || sock > 100000)
				continue;
			sp[n++] = (struct spec){true, 1, {c, 0, 0, 0}, (int)sock};
		}
		if (n > 0)
			return n;
	}
	uint64_t power = d->pavg | d->pinput;
	if (d->drv->pick == PICK_SUM && power) {
		struct spec s = {false, 0, {0}, -1};
		for (unsigned c = 1; c < 64 && s.nch < SUM_MAX; c++)
			if (power & (1ull << c))
				s.ch[s.nch++] = c;
		sp[0] = s;
		return 1;
	}
	if (d->energy)
		sp[0] = (struct spec){true, 1, {lowest(d->energy), 0, 0, 0}, -1};
	else
		sp[0] = (struct spec){false, 1, {lowest(power), 0, 0, 0}, -1};
	return 1;
}

static void channel_file(const struct hwdev *d, const struct spec *s, unsigned i, char *out,
			 size_t n)
{
	unsigned c = s->ch[i];
	if (s->energy)
		snprintf(out, n, "energy%u_input", c);
	else
		snprintf(out, n, "power%u_%s", c, (d->pavg & (1ull << c)) ? "average" : "input");
}

/* Opens a zone's files and, for counters, takes the baseline. 0 or a negative errno; on
 * failure path names the file that failed. */
static int open_spec(const char *root, const struct hwdev *d, const struct spec *s,
		     struct hw_zone *z, char *path, size_t pathlen)
{
	memset(z, 0, sizeof(*z));
	z->energy = s->energy;
	for (unsigned i = 0; i < s->nch; i++) {
		char file[32];
		channel_file(d, s, i, file, sizeof(file));
		int fd = -1, err = -ENAMETOOLONG;
		if (jst__path(path, pathlen, root, "%s/%s", d->rel, file) == 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			err = -errno;
		}
		if (fd < 0) {
			for (unsigned k = 0; k < z->nfd; k++)
				close(z->fd[k]);
			z->nfd = 0;
			return err;
		}
		z->fd[z->nfd++] = fd;
	}
	if (s->energy) {
		char buf[NUM_LEN];
		ssize_t r = jst__pread_all(z->fd[0], buf, sizeof(buf));
		z->have_prev = r >= 0 && jst__parse_u64(buf, (size_t)r, &z->prev) == 0;
	}
	return 0;
}

static void fill_zone(const char *root, const struct hwdev *d, const struct spec *s, unsigned k,
		      int gpu_index, struct jst_zone *zone)
{
	char file[32], buf[NUM_LEN];
	memset(zone, 0, sizeof(*zone));
	snprintf(zone->name, sizeof(zone->name), "hwmon-%s-%u", d->name, k);
	channel_file(d, s, 0, file, sizeof(file));
	if (snprintf(zone->uid, sizeof(zone->uid), "%s/%s", d->rel, file) >= (int)sizeof(zone->uid))
		zone->uid[sizeof(zone->uid) - 1] = '\0'; /* a uid is for display; truncation is harmless */
	zone->kind = d->drv->kind;
	zone->source = "hwmon";
	zone->flags = d->drv->flags | (s->energy ? 0 : JST_ZONE_POWER_ONLY);
	zone->device = zone->kind == JST_KIND_GPU     ? gpu_index :
		       zone->kind == JST_KIND_PACKAGE ? (s->device >= 0 ? s->device : (int)k) :
							-1;
	/* label: the card's product name, else the channel's own label (not for a sum) */
	if (read_attr(root, d->rel, "device/product_name", zone->label, sizeof(zone->label)) <= 0) {
		zone->label[0] = '\0';
		snprintf(file, sizeof(file), "%s%u_label", s->energy ? "energy" : "power",
			 s->ch[0]);
		if (s->nch != 1 ||
		    read_attr(root, d->rel, file, zone->label, sizeof(zone->label)) < 0)
			zone->label[0] = '\0';
	}
	static const char *const limits[] = {"cap", "max"};
	unsigned pc = s->energy ? 1 : s->ch[0];
	for (size_t i = 0; i < JST_ARRAY_LEN(limits) && zone->max_power_w == 0; i++) {
		uint64_t uw;
		snprintf(file, sizeof(file), "power%u_%s", pc, limits[i]);
		ssize_t r = read_attr(root, d->rel, file, buf, sizeof(buf));
		if (r > 0 && jst__parse_u64(buf, (size_t)r, &uw) == 0)
			zone->max_power_w = (double)uw / 1e6;
	}
}

static void note_error(struct scan_notes *nt, const char *path, int err)
{
	if (err == -EACCES || err == -EPERM) {
		if (!nt->forbidden) {
			nt->forbidden = err;
			jst__strlcpy(nt->forbidden_path, path, sizeof(nt->forbidden_path));
		}
	} else {
		nt->other_err = err;
		jst__strlcpy(nt->other_path, path, sizeof(nt->other_path));
	}
}

/* True when an earlier backend (RAPL) measures a CPU package. */
static bool packages_covered(const struct jst_sensor_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nzones; i++)
		if (ctx->zones[i].kind == JST_KIND_PACKAGE &&
		    !(ctx->zones[i].flags & JST_ZONE_ESTIMATE))
			return true;
	return false;
}

/* The rank of the CPU mirror driver to use, 0 for none. */
static int mirror_to_use(const struct jst_sensor_ctx *ctx, const struct hwdev *devs, size_t n,
			 struct scan_notes *nt)
{
	int best = 0;
	for (size_t i = 0; i < n; i++) {
		int m = devs[i].drv->mirror;
		if (m > 0 && (best == 0 || m < best)) {
			best = m;
			jst__strlcpy(nt->mirror_name, devs[i].name, sizeof(nt->mirror_name));
		}
	}
	if (best > 0 && packages_covered(ctx)) {
		for (size_t i = 0; i < n; i++)
			nt->skipped_mirrors += devs[i].drv->mirror > 0;
		return 0;
	}
	return best;
}

/* Opens the zones of every listed device; returns how many. */
static size_t open_zones(const struct jst_sensor_ctx *ctx, const struct hwdev *devs, size_t nd,
			 struct hw_state *st, struct jst_zone *zones, size_t max,
			 struct scan_notes *nt)
{
	const char *root = ctx->roots.sysfs;
	int mirror = mirror_to_use(ctx, devs, nd, nt);
	int gpus = 0; /* GPU indexes go on after those of earlier backends (NVML) */
	for (size_t z = 0; z < ctx->nzones; z++)
		gpus += ctx->zones[z].kind == JST_KIND_GPU;
	size_t zdev[JST_ZONES_MAX]; /* the device of each zone opened so far */
	for (size_t i = 0; i < nd && st->n < max; i++) {
		const struct hwdev *d = &devs[i];
		if (d->drv->mirror > 0 && d->drv->mirror != mirror)
			continue;
		struct spec sp[8];
		size_t ns = pick_zones(root, d, sp, JST_ARRAY_LEN(sp));
		for (size_t k = 0; k < ns && st->n < max; k++) {
			char path[PATH_LEN];
			int err = open_spec(root, d, &sp[k], &st->z[st->n], path, sizeof(path));
			if (err < 0) {
				note_error(nt, path, err);
				continue;
			}
			/* zone numbers count per driver, so that names stay unique */
			unsigned seq = 0;
			for (size_t z = 0; z < st->n; z++)
				seq += strcmp(devs[zdev[z]].name, d->name) == 0;
			zdev[st->n] = i;
			fill_zone(root, d, &sp[k], seq, gpus, &zones[st->n]);
			gpus += d->drv->kind == JST_KIND_GPU;
			st->n++;
		}
	}
	return st->n;
}

static void close_all(struct hw_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		for (unsigned k = 0; k < st->z[i].nfd; k++)
			close(st->z[i].fd[k]);
	st->n = 0;
}

static int explain(const struct jst_sensor_ctx *ctx, const struct scan_notes *nt, char *why,
		   size_t whylen)
{
	const char *root = ctx->roots.sysfs && *ctx->roots.sysfs ? ctx->roots.sysfs : "";
	if (nt->forbidden) {
		snprintf(
			why, whylen,
			"cannot open %s: permission denied; run as root, or make it readable with a "
			"udev rule: SUBSYSTEM==\"hwmon\", ACTION==\"add\", "
			"RUN+=\"/bin/sh -c 'chmod a+r /sys%%p/energy*_input /sys%%p/power*_average'\"",
			nt->forbidden_path);
		return nt->forbidden;
	}
	if (nt->other_err) {
		snprintf(why, whylen, "cannot open %s: %s", nt->other_path,
			 jst_strerror(nt->other_err));
		return nt->other_err;
	}
	if (nt->skipped_mirrors > 0) {
		snprintf(why, whylen, "cpu energy from %s is already measured by rapl",
			 nt->mirror_name);
		return -EALREADY;
	}
	snprintf(why, whylen,
		 "no hwmon device with an energy or power reading under %s/sys/class/hwmon", root);
	return -ENOENT;
}

static int scan(const struct jst_sensor_ctx *ctx, struct hw_state *st, struct jst_zone *zones,
		size_t max, char *why, size_t whylen)
{
	struct hwdev *devs = calloc(DEV_MAX, sizeof(*devs));
	if (!devs) {
		snprintf(why, whylen, "out of memory listing hwmon devices");
		return -ENOMEM;
	}
	size_t nd = 0;
	struct scan_notes nt = {0};
	list_devices(ctx->roots.sysfs, devs, &nd);
	if (max > JST_ZONES_MAX)
		max = JST_ZONES_MAX;
	open_zones(ctx, devs, nd, st, zones, max, &nt);
	free(devs);
	if (st->n == 0)
		return explain(ctx, &nt, why, whylen);
	return (int)st->n;
}

static int hwmon_probe(const struct jst_sensor_ctx *ctx, char *why, size_t whylen)
{
	struct hw_state *st = calloc(1, sizeof(*st));
	struct jst_zone *zones = calloc(JST_ZONES_MAX, sizeof(*zones));
	int r = -ENOMEM;
	if (st && zones)
		r = scan(ctx, st, zones, JST_ZONES_MAX, why, whylen);
	else
		snprintf(why, whylen, "out of memory probing hwmon");
	if (st)
		close_all(st);
	free(st);
	free(zones);
	return r < 0 ? r : 0;
}

static int hwmon_open(const struct jst_sensor_ctx *ctx, void **state, struct jst_zone *zones,
		      size_t max, char *why, size_t whylen)
{
	struct hw_state *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(why, whylen, "out of memory opening hwmon zones");
		return -ENOMEM;
	}
	int r = scan(ctx, st, zones, max, why, whylen);
	if (r < 0) {
		free(st);
		return r;
	}
	*state = st;
	return r;
}

static int read_u64_fd(int fd, uint64_t *out)
{
	char buf[NUM_LEN];
	ssize_t r = jst__pread_all(fd, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	return jst__parse_u64(buf, (size_t)r, out);
}

/* A counter zone: the energy since the previous good value; no range is known (see top). */
static int read_energy(struct hw_zone *z, struct jst_reading *o)
{
	uint64_t cur;
	int r = read_u64_fd(z->fd[0], &cur);
	if (r < 0) {
		o->flags = JST_READ_FAILED; /* keep the baseline: the next good read catches up */
		return r;
	}
	if (!z->have_prev || cur < z->prev) {
		o->flags = z->have_prev ? JST_READ_BACKWARDS : JST_READ_FAILED;
		z->prev = cur;
		z->have_prev = true;
		return 0;
	}
	o->energy_j = (double)(cur - z->prev) / 1e6;
	o->flags = JST_READ_ENERGY;
	z->prev = cur;
	return 0;
}

/* A power zone: the sum of its channels now, in watts. */
static int read_power(struct hw_zone *z, struct jst_reading *o)
{
	uint64_t sum = 0;
	for (unsigned k = 0; k < z->nfd; k++) {
		uint64_t uw;
		int r = read_u64_fd(z->fd[k], &uw);
		if (r < 0) {
			o->flags = JST_READ_FAILED;
			return r;
		}
		sum += uw;
	}
	o->power_w = (double)sum / 1e6;
	o->flags = JST_READ_POWER;
	return 0;
}

static int hwmon_read(void *state, struct jst_reading *out)
{
	struct hw_state *st = state;
	size_t bad = 0;
	int err = 0;
	for (size_t i = 0; i < st->n; i++) {
		out[i] = (struct jst_reading){0, 0, 0};
		int r = st->z[i].energy ? read_energy(&st->z[i], &out[i]) :
					  read_power(&st->z[i], &out[i]);
		if (r < 0) {
			err = r;
			bad++;
		}
	}
	return st->n > 0 && bad == st->n ? err : 0;
}

static void hwmon_close(void *state)
{
	struct hw_state *st = state;
	if (!st)
		return;
	close_all(st);
	free(st);
}

const struct jst_sensor_ops jst__sensor_hwmon = {
	.name = "hwmon",
	.description = "hwmon energy and power sensors (AMD and Intel GPUs, other devices)",
	.probe = hwmon_probe,
	.open = hwmon_open,
	.read = hwmon_read,
	.gpu_procs = NULL,
	.close = hwmon_close,
};
