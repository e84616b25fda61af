/* The RAPL backend: CPU package, core, uncore, DRAM and platform (psys) energy counters read
 * from the powercap sysfs tree (<sysfs-root>/sys/class/powercap, or
 * /sys/devices/virtual/powercap when the class links are absent). Zones are identified by their
 * `name` file, never by directory index; each energy_uj is opened once and re-read with pread.
 * It does not use the perf RAPL PMU or MSRs, and it does not decide what a failure means.
 *
 * Policies (the tests in tests/unit/test_rapl.c pin them down):
 *  - Counting: package and dram are COUNTED; core and uncore are parts of their package; psys
 *    covers more than the packages and is reported, never added. Zones of the secondary control
 *    types (intel-rapl-mmio, intel-rapl-tpmi) whose name an intel-rapl zone already has are the
 *    same domain seen twice and are skipped. AMD registers its zones under intel-rapl too.
 *  - Wraps: max_energy_range_uj is the largest value the counter shows ((2^32 - 1) energy units),
 *    so the counter's modulus is max + one unit. The unit is not in sysfs; we use max + 1 uJ:
 *    delta = (max - prev) + cur + 1, off by less than one unit (~15-61 uJ) per wrap. With no
 *    known range a smaller value is reported as JST_READ_BACKWARDS and becomes the new baseline.
 *  - Unreadable counters (root-only since Linux 5.10 and its stable backports, CVE-2020-8694):
 *    if a counted zone (package, dram) cannot be opened, the whole backend is forbidden
 *    (-EACCES, with the fix in why) rather than silently reporting a partial sum; unreadable
 *    core/uncore/psys are left out, and forbidden is returned only if nothing is readable.
 *    Making energy_uj world-readable re-exposes the PLATYPUS side channel: the operator's call. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "sensor/sensor.h"

#define CAND_MAX 64 /* powercap zones considered (a 2-socket server has ~6) */
#define PATH_LEN 512
#define NUM_LEN 32 /* a decimal uint64_t, its newline and some slack */

/* Control types in order of preference: a later one's zones are skipped when an earlier one
 * already has a zone of the same name. */
enum ctl_type { CTL_MSR, CTL_MMIO, CTL_TPMI, CTL_COUNT };
static const char *const ctl_names[CTL_COUNT] = {"intel-rapl", "intel-rapl-mmio",
						 "intel-rapl-tpmi"};

struct cand {
	char rel[128]; /* zone directory under the root: "/sys/class/powercap/intel-rapl:0:1" */
	char name[32]; /* its `name` file, "" when unreadable */
	char zname[JST_NAME_MAX];
	enum jst_zone_kind kind;
	int device;
	unsigned type, depth; /* depth 1: intel-rapl:N, depth 2: intel-rapl:N:M */
	unsigned idx[2];
};

struct rapl_zone {
	int fd;         /* energy_uj, open for the life of the backend */
	uint64_t prev;  /* last good counter value, uJ */
	uint64_t range; /* max_energy_range_uj, 0 when unknown */
	bool have_prev;
};

struct rapl_state {
	size_t n;
	struct rapl_zone z[JST_ZONES_MAX];
};

/* What the scan saw besides the zones it opened, for the message when it opened none. */
struct scan_notes {
	size_t listed;          /* zone directories found */
	size_t nameless;        /* of which `name` could not be read (masked, dangling links) */
	int forbidden;          /* first -EACCES/-EPERM, else 0 */
	bool forbidden_counted; /* ... and it was a package or dram zone */
	char forbidden_rel[128];
	int other_err; /* last other error opening or reading a counter */
	char other_rel[128];
};

static bool all_digits(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return n > 0;
}

/* "intel-rapl:0:1" -> type, {0, 1}, depth 2. Returns false for anything else. */
static bool parse_zone_dir(const char *d, unsigned *type, unsigned idx[2], unsigned *depth)
{
	for (unsigned t = 0; t < CTL_COUNT; t++) {
		size_t l = strlen(ctl_names[t]);
		if (strncmp(d, ctl_names[t], l) != 0 || d[l] != ':')
			continue;
		const char *p = d + l + 1;
		unsigned k = 0;
		while (k < 2) {
			const char *e = strchr(p, ':');
			size_t sl = e ? (size_t)(e - p) : strlen(p);
			uint64_t v;
			if (!all_digits(p, sl) || jst__parse_u64(p, sl, &v) < 0 || v > 1000000)
				return false;
			idx[k++] = (unsigned)v;
			if (!e)
				break;
			p = e + 1;
		}
		if (k == 2 && strchr(p, ':'))
			return false;
		*type = t;
		*depth = k;
		if (k == 1)
			idx[1] = 0;
		return true;
	}
	return false;
}

static void add_cand(struct cand *c, size_t *n, const char *rel, const char *dname)
{
	struct cand *x = &c[*n];
	memset(x, 0, sizeof(*x));
	if (!parse_zone_dir(dname, &x->type, x->idx, &x->depth))
		return;
	if (snprintf(x->rel, sizeof(x->rel), "%s/%s", rel, dname) >= (int)sizeof(x->rel))
		return;
	(*n)++;
}

/* Lists zone directories of the flat class view: every zone is a link in one folder. */
static int list_class(const char *root, struct cand *c, size_t *n)
{
	char path[PATH_LEN];
	if (jst__path(path, sizeof(path), root, "/sys/class/powercap") < 0)
		return -ENAMETOOLONG;
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d)) && *n < CAND_MAX)
		add_cand(c, n, "/sys/class/powercap", e->d_name);
	closedir(d);
	return 0;
}

/* Lists zone directories of the device tree: <type>/<type>:N/<type>:N:M. */
static void list_devices(const char *root, struct cand *c, size_t *n)
{
	for (unsigned t = 0; t < CTL_COUNT; t++) {
		char rel[128], path[PATH_LEN];
		snprintf(rel, sizeof(rel), "/sys/devices/virtual/powercap/%s", ctl_names[t]);
		if (jst__path(path, sizeof(path), root, "%s", rel) < 0)
			continue;
		DIR *d = opendir(path);
		if (!d)
			continue;
		size_t first = *n;
		struct dirent *e;
		while ((e = readdir(d)) && *n < CAND_MAX)
			add_cand(c, n, rel, e->d_name);
		closedir(d);
		/* the subzones live inside their package's directory */
		size_t last = *n;
		for (size_t i = first; i < last; i++) {
			if (c[i].depth != 1 ||
			    jst__path(path, sizeof(path), root, "%s", c[i].rel) < 0)
				continue;
			DIR *sd = opendir(path);
			if (!sd)
				continue;
			char srel[128];
			jst__strlcpy(srel, c[i].rel, sizeof(srel));
			while ((e = readdir(sd)) && *n < CAND_MAX)
				add_cand(c, n, srel, e->d_name);
			closedir(sd);
		}
	}
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->idx[0] != y->idx[0])
		return x->idx[0] < y->idx[0] ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->idx[1] != y->idx[1])
		return x->idx[1] < y->idx[1] ? -1 : 1;
	return 0;
}

/* "package-1" or "package-1-die-0" -> 1; -1 when the name has no package number. */
static int package_number(const char *name)
{
	if (strncmp(name, "package-", 8) != 0)
		return -1;
	const char *p = name + 8, *e = strchr(p, '-');
	uint64_t v;
	if (jst__parse_u64(p, e ? (size_t)(e - p) : strlen(p), &v) < 0 || v > 100000)
		return -1;
	return (int)v;
}

static const struct cand *parent_of(const struct cand *c, const struct cand *all, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].depth == 1 && all[i].type == c->type && all[i].idx[0] == c->idx[0])
			return &all[i];
	return NULL;
}

/* Decides kind, zone name and package from the `name` files. false: not a zone we know. */
static bool classify(struct cand *c, const struct cand *parent)
{
	static const struct {
		const char *name;
		enum jst_zone_kind kind;
	} subs[] = {{"core", JST_KIND_CORE}, {"uncore", JST_KIND_UNCORE}, {"dram", JST_KIND_DRAM}};
	c->device = -1;
	if (strncmp(c->name, "package-", 8) == 0) {
		c->kind = JST_KIND_PACKAGE;
		c->device = package_number(c->name);
		jst__strlcpy(c->zname, c->name, sizeof(c->zname));
		return c->device >= 0;
	}
	if (strcmp(c->name, "psys") == 0 || strncmp(c->name, "psys-", 5) == 0) {
		c->kind = JST_KIND_PSYS;
		jst__strlcpy(c->zname, c->name, sizeof(c->zname));
		return true;
	}
	for (size_t i = 0; i < JST_ARRAY_LEN(subs); i++) {
		if (strcmp(c->name, subs[i].name) != 0)
			continue;
		c->kind = subs[i].kind;
		/* "dram" under "package-1-die-0" is "dram-1-die-0", in package 1 */
		const char *suffix = "";
		if (parent && package_number(parent->name) >= 0) {
			suffix = parent->name + 7;
			c->device = package_number(parent->name);
		}
		snprintf(c->zname, sizeof(c->zname), "%s%s", subs[i].name, suffix);
		return true;
	}
	return false;
}

static unsigned kind_flags(enum jst_zone_kind k)
{
	switch (k) {
	case JST_KIND_PACKAGE:
	case JST_KIND_DRAM: return JST_ZONE_COUNTED | JST_ZONE_BY_CPU;
	case JST_KIND_CORE:
	case JST_KIND_UNCORE: return JST_ZONE_BY_CPU;
	default: return 0;
	}
}

/* Reads a small decimal file under the root; 0 on success. */
static int read_u64_at(const char *root, const char *rel, const char *file, uint64_t *out)
{
	char path[PATH_LEN], buf[NUM_LEN];
	if (jst__path(path, sizeof(path), root, "%s/%s", rel, file) < 0)
		return -ENAMETOOLONG;
	ssize_t r = jst__read_file(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	return jst__parse_u64(buf, (size_t)r, out);
}

/* The CPU model from /proc/cpuinfo ("model name : ..."), or "" when unknown. */
static void cpu_model(const char *procfs, char *out, size_t n)
{
	char path[PATH_LEN], buf[4096];
	out[0] = '\0';
	if (jst__path(path, sizeof(path), procfs, "/proc/cpuinfo") < 0)
		return;
	ssize_t r = jst__read_file(path, buf, sizeof(buf));
	if (r <= 0)
		return;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			jst__strlcpy(out, colon, n);
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* Opens one zone's counter and takes its baseline. 0, or a negative errno (not opened). */
static int open_counter(const char *root, const struct cand *c, struct rapl_zone *z)
{
	char path[PATH_LEN], buf[NUM_LEN];
	if (jst__path(path, sizeof(path), root, "%s/energy_uj", c->rel) < 0)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t r = jst__pread_all(fd, buf, sizeof(buf));
	if (r < 0) {
		close(fd);
		return (int)r;
	}
	z->fd = fd;
	/* garbage now is not fatal: the first good read becomes the baseline */
	z->have_prev = jst__parse_u64(buf, (size_t)r, &z->prev) == 0;
	if (read_u64_at(root, c->rel, "max_energy_range_uj", &z->range) < 0)
		z->range = 0;
	return 0;
}

static void fill_zone(const char *root, const struct cand *c, const char *model,
		      struct jst_zone *zone)
{
	memset(zone, 0, sizeof(*zone));
	jst__strlcpy(zone->name, c->zname, sizeof(zone->name));
	jst__strlcpy(zone->uid, c->rel, sizeof(zone->uid));
	if (c->kind == JST_KIND_PACKAGE || c->kind == JST_KIND_CORE || c->kind == JST_KIND_UNCORE)
		jst__strlcpy(zone->label, model, sizeof(zone->label));
	zone->kind = c->kind;
	zone->source = "rapl";
	zone->flags = kind_flags(c->kind);
	zone->device = c->device;
	uint64_t uw;
	if ((read_u64_at(root, c->rel, "constraint_0_max_power_uw", &uw) == 0 && uw > 0) ||
	    (read_u64_at(root, c->rel, "constraint_0_power_limit_uw", &uw) == 0 && uw > 0))
		zone->max_power_w = (double)uw / 1e6;
}

static bool name_claimed(const struct cand *c, size_t upto, const char *zname)
{
	for (size_t i = 0; i < upto; i++)
		if (c[i].zname[0] && strcmp(c[i].zname, zname) == 0)
			return true;
	return false;
}

static void note_error(struct scan_notes *nt, const struct cand *c, int err)
{
	if (err == -EACCES || err == -EPERM) {
		bool counted = kind_flags(c->kind) & JST_ZONE_COUNTED;
		if (!nt->forbidden || (counted && !nt->forbidden_counted)) {
			nt->forbidden = err;
			nt->forbidden_counted = counted;
			jst__strlcpy(nt->forbidden_rel, c->rel, sizeof(nt->forbidden_rel));
		}
	} else if (err != -ENOENT) {
		nt->other_err = err;
		jst__strlcpy(nt->other_rel, c->rel, sizeof(nt->other_rel));
	}
}

/* Names, classifies and opens the candidates in order; returns how many zones it opened. */
static size_t open_zones(const struct jst_sensor_ctx *ctx, struct cand *c, size_t nc,
			 struct rapl_state *st, struct jst_zone *zones, size_t max,
			 struct scan_notes *nt)
{
	const char *root = ctx->roots.sysfs;
	char model[JST_NAME_MAX];
	cpu_model(ctx->roots.procfs, model, sizeof(model));
	for (size_t i = 0; i < nc; i++) {
		char path[PATH_LEN];
		ssize_t r = -ENAMETOOLONG;
		if (jst__path(path, sizeof(path), root, "%s/name", c[i].rel) == 0)
			r = jst__read_file(path, c[i].name, sizeof(c[i].name));
		if (r <= 0) {
			nt->nameless++;
			continue;
		}
		if (!classify(&c[i], c[i].depth == 2 ? parent_of(&c[i], c, nc) : NULL)) {
			c[i].zname[0] = '\0';
			continue;
		}
		if (name_claimed(c, i, c[i].zname)) {
			c[i].zname[0] = '\0'; /* the same domain through another control type */
			continue;
		}
		if (st->n >= max)
			continue;
		int err = open_counter(root, &c[i], &st->z[st->n]);
		if (err < 0) {
			note_error(nt, &c[i], err);
			continue;
		}
		fill_zone(root, &c[i], model, &zones[st->n]);
		st->n++;
	}
	return st->n;
}

static void close_all(struct rapl_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		close(st->z[i].fd);
	st->n = 0;
}

/* Why nothing was opened; returns the negative errno that goes with it. */
static int explain(const struct jst_sensor_ctx *ctx, const struct scan_notes *nt, char *why,
		   size_t whylen)
{
	const char *root = ctx->roots.sysfs && *ctx->roots.sysfs ? ctx->roots.sysfs : "";
	char path[PATH_LEN];
	if (nt->forbidden) {
		jst__path(path, sizeof(path), ctx->roots.sysfs, "%s/energy_uj", nt->forbidden_rel);
		snprintf(
			why, whylen,
			"cannot open %s: permission denied. since linux 5.10 (CVE-2020-8694) it is "
			"readable by root only: run as root, or add a udev rule: "
			"SUBSYSTEM==\"powercap\", ACTION==\"add\", "
			"RUN+=\"/bin/chmod a+r /sys%%p/energy_uj\"",
			path);
		return nt->forbidden;
	}
	if (nt->other_err) {
		jst__path(path, sizeof(path), ctx->roots.sysfs, "%s/energy_uj", nt->other_rel);
		snprintf(why, whylen, "cannot read %s: %s; check the intel_rapl driver", path,
			 jst_strerror(nt->other_err));
		return nt->other_err;
	}
	if (nt->listed > 0 && nt->nameless == nt->listed) {
		snprintf(
			why, whylen,
			"powercap zones are listed under %s/sys/class/powercap but their files are "
			"missing: /sys/devices/virtual/powercap is masked by the container runtime; "
			"mount the host's /sys and pass its path as the sysfs root",
			root);
		return -ENOENT;
	}
	snprintf(why, whylen,
		 "no powercap RAPL zones under %s/sys/class/powercap (virtual machine, cpu without "
		 "RAPL, intel_rapl_msr not loaded, or masked by the container runtime)",
		 root);
	return -ENOENT;
}

/* The whole discovery: open() keeps the state, probe() drops it. */
static int scan(const struct jst_sensor_ctx *ctx, struct rapl_state *st, struct jst_zone *zones,
		size_t max, char *why, size_t whylen)
{
	struct cand *c = calloc(CAND_MAX, sizeof(*c));
	if (!c)
		return -ENOMEM;
	size_t nc = 0;
	struct scan_notes nt = {0};
	if (list_class(ctx->roots.sysfs, c, &nc) < 0 || nc == 0)
		list_devices(ctx->roots.sysfs, c, &nc);
	qsort(c, nc, sizeof(*c), cand_cmp);
	nt.listed = nc;
	if (max > JST_ZONES_MAX)
		max = JST_ZONES_MAX;
	open_zones(ctx, c, nc, st, zones, max, &nt);
	free(c);
	if (nt.forbidden_counted) {
		close_all(st); /* no partial sums: see the top of this file */
		return explain(ctx, &nt, why, whylen);
	}
	if (st->n == 0)
		return explain(ctx, &nt, why, whylen);
	return (int)st->n;
}

static int rapl_probe(const struct jst_sensor_ctx *ctx, char *why, size_t whylen)
{
	struct rapl_state *st = calloc(1, sizeof(*st));
	struct jst_zone *zones = calloc(JST_ZONES_MAX, sizeof(*zones));
	int r = -ENOMEM;
	if (st && zones)
		r = scan(ctx, st, zones, JST_ZONES_MAX, why, whylen);
	if (st)
		close_all(st);
	free(st);
	free(zones);
	return r < 0 ? r : 0;
}

static int rapl_open(const struct jst_sensor_ctx *ctx, void **state, struct jst_zone *zones,
		     size_t max, char *why, size_t whylen)
{
	struct rapl_state *st = calloc(1, sizeof(*st));
	if (!st) {
		snprintf(why, whylen, "out of memory opening rapl zones");
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

/* One step of a uJ counter: the energy since the previous good value, wraps included. */
static void counter_step(struct rapl_zone *z, uint64_t cur, struct jst_reading *o)
{
	uint64_t delta;
	if (!z->have_prev) {
		z->prev = cur; /* the baseline was garbage: this interval is unknown */
		z->have_prev = true;
		o->flags = JST_READ_FAILED;
		return;
	}
	if (cur >= z->prev) {
		delta = cur - z->prev;
	} else if (z->range > 0 && z->prev <= z->range) {
		/* never overflows: the true value is at most range */
		delta = (z->range - z->prev) + cur + 1;
		o->flags |= JST_READ_WRAP;
	} else {
		z->prev = cur;
		o->flags = JST_READ_BACKWARDS;
		return;
	}
	z->prev = cur;
	o->energy_j = (double)delta / 1e6;
	o->flags |= JST_READ_ENERGY;
}

static int rapl_read(void *state, struct jst_reading *out)
{
	struct rapl_state *st = state;
	size_t bad = 0;
	int err = 0;
	for (size_t i = 0; i < st->n; i++) {
		char buf[NUM_LEN];
		uint64_t cur;
		struct jst_reading *o = &out[i];
		*o = (struct jst_reading){0, 0, 0};
		ssize_t r = jst__pread_all(st->z[i].fd, buf, sizeof(buf));
		int pr = r < 0 ? (int)r : jst__parse_u64(buf, (size_t)r, &cur);
		if (pr < 0) {
			/* keep the baseline: the next good read catches up */
			o->flags = JST_READ_FAILED;
			err = pr;
			bad++;
			continue;
		}
		counter_step(&st->z[i], cur, o);
	}
	return st->n > 0 && bad == st->n ? err : 0;
}

static void rapl_close(void *state)
{
	struct rapl_state *st = state;
	if (!st)
		return;
	close_all(st);
	free(st);
}

const struct jst_sensor_ops jst__sensor_rapl = {
	.name = "rapl",
	.description = "Intel/AMD RAPL through powercap",
	.probe = rapl_probe,
	.open = rapl_open,
	.read = rapl_read,
	.gpu_procs = NULL,
	.close = rapl_close,
};
