/* Sensors: the set of energy zones the machine exposes (RAPL packages and DRAM, GPUs, hwmon
 * devices, or an estimate where nothing is measured), opened once and read at every tick.
 * jst_sensors_read() returns, per zone, the energy of the interval since the previous read:
 * the exact counter delta for counters, trapezoidal integration for power readings. Reading
 * allocates nothing. Backends live in src/sensor/, one file each, listed in registry.c. */
#ifndef JOULESTREAM_SENSOR_H
#define JOULESTREAM_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "joulestream/common.h"

#define JST_NAME_MAX 64
#define JST_ZONES_MAX 64
#define JST_WHY_MAX 320

enum jst_zone_kind {
	JST_KIND_PACKAGE, /* CPU package (socket or die) */
	JST_KIND_CORE,    /* cores inside a package (part of it) */
	JST_KIND_UNCORE,  /* uncore / integrated GPU inside a package (part of it) */
	JST_KIND_DRAM,    /* memory attached to a package */
	JST_KIND_PSYS,    /* whole platform (laptops); covers more than the package */
	JST_KIND_GPU,     /* a discrete accelerator */
	JST_KIND_OTHER,   /* any other device (hwmon) */
};

enum jst_zone_flag {
	JST_ZONE_ESTIMATE = 1u << 0,   /* modelled, not measured: say `estimate` in every output */
	JST_ZONE_COUNTED = 1u << 1,    /* adds to the host's IT energy (not core/uncore/psys) */
	JST_ZONE_POWER_ONLY = 1u << 2, /* the device reports power; energy is integrated */
	JST_ZONE_BY_CPU = 1u << 3,     /* attributed to processes by CPU time */
	JST_ZONE_BY_GPU = 1u << 4,     /* attributed to processes by GPU use */
};

struct jst_zone {
	char name[JST_NAME_MAX];  /* unique in the set: "package-0", "dram-0", "gpu0" */
	char label[JST_NAME_MAX]; /* device model when known: "H100 80GB HBM3", "Xeon Gold 6338" */
	char uid[128];            /* stable identity: GPU UUID, sysfs path */
	enum jst_zone_kind kind;
	const char *source; /* backend name, static: "rapl", "nvml", "hwmon", "estimate" */
	unsigned flags;     /* enum jst_zone_flag */
	int device;         /* GPU index for GPU zones, package index for CPU zones, else -1 */
	double max_power_w; /* physical limit (power limit, TDP) when known, else 0 */
};

enum jst_read_flag {
	JST_READ_ENERGY = 1u << 0,    /* energy_j is the energy since the previous read */
	JST_READ_POWER = 1u << 1,     /* power_w is a power reading taken now */
	JST_READ_WRAP = 1u << 2,      /* the counter wrapped; the delta used its known range */
	JST_READ_BACKWARDS = 1u << 3, /* counter went back with no known range: interval unknown */
	JST_READ_FAILED = 1u << 4,    /* no valid value this time */
	JST_READ_GONE = 1u << 5,      /* the device disappeared; no more values will come */
	/* with JST_READ_BACKWARDS: the counter restarted (a driver reload, firmware), it did not
	 * wrap: read as a wrap, the drop would mean more than JST_RESET_FACTOR times the device's
	 * max_power_w over the interval; that interval's energy is unknown, the new value is the
	 * baseline (jst_sensors_read) */
	JST_READ_RESET = 1u << 6,
};
#define JST_RESET_FACTOR 2.0

/* One zone's reading. From backends: a counter delta (JST_READ_ENERGY) and/or a power value
 * (JST_READ_POWER). From jst_sensors_read(): energy_j is always the interval's energy (0 when
 * unknown, with the reason in flags) and power_w its average power over the interval. */
struct jst_reading {
	double energy_j;
	double power_w;
	unsigned flags;
};

/* What each backend found, for `joulestream sensors` and the report. */
enum jst_backend_state {
	JST_BACKEND_ACTIVE,      /* zones open and read */
	JST_BACKEND_ABSENT,      /* no such hardware or interface here */
	JST_BACKEND_FORBIDDEN,   /* present but not readable by this user; why says the fix */
	JST_BACKEND_UNNEEDED,    /* not used because a measuring backend covers it (estimate) */
	JST_BACKEND_DISABLED,    /* turned off by the user, or after repeated failures */
	JST_BACKEND_FAILED,      /* present but broken */
};

struct jst_backend_status {
	const char *name;        /* "rapl" */
	const char *description; /* "Intel/AMD RAPL through powercap" */
	enum jst_backend_state state;
	size_t nzones;
	unsigned long failures; /* failed reads so far */
	char why[JST_WHY_MAX];  /* why it is not active, what it left out, or the last failure */
};

struct jst_gpu_proc {
	pid_t pid;
	unsigned sm_util;  /* 0..100, SM utilisation of this process over the last period */
	bool util_known;   /* false when the driver gives no per-process utilisation */
	uint64_t mem_bytes;
};

struct jst_sensor_opts {
	struct jst_roots roots;
	const char *only;   /* comma-separated backend names to use, NULL for automatic */
	bool no_estimate;   /* never fall back to the estimate */
};

struct jst_sensors;

/* Probes every backend, opens the available ones and takes the baseline reading. Never fails
 * for lack of sensors: with nothing measurable the estimate backend stands in (unless
 * no_estimate), and with no zone at all the set is empty. Returns 0 or -ENOMEM / -EINVAL. */
JST_API int jst_sensors_open(struct jst_sensors **out, const struct jst_sensor_opts *opts);
JST_API void jst_sensors_close(struct jst_sensors *s);

JST_API size_t jst_sensors_count(const struct jst_sensors *s);
JST_API const struct jst_zone *jst_sensors_zone(const struct jst_sensors *s, size_t i);

/* Backends in registry order, including unavailable ones, with the reason. */
JST_API size_t jst_sensors_backend_count(const struct jst_sensors *s);
JST_API const struct jst_backend_status *jst_sensors_backend(const struct jst_sensors *s, size_t i);

/* True when some counted zone is an estimate. */
JST_API bool jst_sensors_estimated(const struct jst_sensors *s);

/* Reads every zone; out has jst_sensors_count() entries. now_ns is CLOCK_MONOTONIC. A failing
 * backend is backed off and, after repeated failures, disabled (the sampler's failure policy):
 * its zones then read 0 with JST_READ_FAILED. Counter energy missed while backed off is not
 * lost: it arrives with the next good read. No allocation. Returns the number of zones with a
 * problem this time (0 when all is well). */
JST_API int jst_sensors_read(struct jst_sensors *s, uint64_t now_ns, struct jst_reading *out);

/* Processes on the GPU of zone i, for attribution; returns how many were written (up to max),
 * 0 when none, -ENOTSUP when the backend cannot tell. */
JST_API int jst_sensors_gpu_procs(struct jst_sensors *s, size_t i, struct jst_gpu_proc *out, size_t max);

/* The drivers of the active backends that report one, comma-separated ("NVIDIA 550.54.15"),
 * into buf; "" when none does. */
JST_API void jst_sensors_drivers(const struct jst_sensors *s, char *buf, size_t n);

/* Names for printing. */
JST_API const char *jst_zone_kind_name(enum jst_zone_kind k);
JST_API const char *jst_backend_state_name(enum jst_backend_state st);

#endif
