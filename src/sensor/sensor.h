/* The backend interface: what each file in src/sensor/ implements, as a const vtable listed in
 * registry.c. A backend knows its hardware; the registry owns the failure policy (backoff,
 * disabling, rate-limited messages) and the integration of power into energy.
 *
 * Contract:
 *  - probe: cheap; 0 when usable, else -ENOENT (absent), -EACCES/-EPERM (forbidden, with the
 *    fix in why), -ENODEV (masked or broken). May be the same work as open.
 *  - open: fills zones[0..n) (n <= max) and returns n, or a negative errno with why set. Takes
 *    the baseline so that the first read returns the energy since open. Allocates its state.
 *  - read: fills out[0..n) for the zones it opened; no allocation, no blocking beyond a few
 *    file reads or library calls. Counter backends return JST_READ_ENERGY deltas (handling
 *    wraps themselves: JST_READ_WRAP, or JST_READ_BACKWARDS with no known range); power-only
 *    backends return JST_READ_POWER. Returns 0, or a negative errno when the whole backend
 *    failed this time.
 *  - gpu_procs: optional (NULL): processes using the GPU of zone i.
 *  - driver: optional (NULL): the driver's name and version ("NVIDIA 550.54.15"), for metadata.
 *  - close: frees the state. */
#ifndef JST_SENSOR_SENSOR_H
#define JST_SENSOR_SENSOR_H

#include "joulestream/sensor.h"

struct jst_sensor_ctx {
	struct jst_roots roots;
	/* Zones already opened by earlier backends in the registry, so that a later backend can
	 * avoid double counting (hwmon skips what RAPL measures; estimate sees what exists). */
	const struct jst_zone *zones;
	size_t nzones;
};

struct jst_sensor_ops {
	const char *name;
	const char *description;
	int (*probe)(const struct jst_sensor_ctx *ctx, char *why, size_t whylen);
	int (*open)(const struct jst_sensor_ctx *ctx, void **state, struct jst_zone *zones, size_t max,
	            char *why, size_t whylen);
	int (*read)(void *state, struct jst_reading *out);
	int (*gpu_procs)(void *state, size_t zone, struct jst_gpu_proc *out, size_t max);
	int (*driver)(void *state, char *buf, size_t n);
	void (*close)(void *state);
};

/* The static name of a backend ("rapl") for a string read back from a store, or "unknown". */
const char *jst__source_name(const char *name);

extern const struct jst_sensor_ops jst__sensor_rapl;
extern const struct jst_sensor_ops jst__sensor_nvml;
extern const struct jst_sensor_ops jst__sensor_hwmon;
extern const struct jst_sensor_ops jst__sensor_estimate;

#endif
