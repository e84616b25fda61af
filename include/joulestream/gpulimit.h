/* GPU power limits (issue 18): NVML opened for reading and setting each GPU's power
 * management limit, through the same dlopen'd library as the nvml sensor (src/sensor/nvml.c).
 * Setting a limit needs privileges (root, or CAP_SYS_ADMIN; persistence mode keeps it between
 * processes): jst_gpu_ctl_set() then fails with -EPERM and a message that says so. Limits are
 * in watts; NVML's milliwatts stay inside. Not thread-safe: one owner per handle. */
#ifndef JOULESTREAM_GPULIMIT_H
#define JOULESTREAM_GPULIMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/common.h"

#define JST_GPU_CTL_MAX 32

struct jst_gpu_ctl;

struct jst_gpu_limit {
	unsigned index;     /* NVML index: the zone gpuN */
	char uuid[96];      /* "GPU-…", or "nvml:gpuN" when unknown */
	char name[96];
	double min_w, max_w; /* the limit's constraints; both 0 when NVML does not say */
	double default_w;    /* the driver's default limit; 0 when unknown */
	double current_w;    /* the management limit now; 0 when unknown */
};

/* Opens NVML and every GPU it lists. Returns the GPU count (>= 1), or a negative errno with
 * why filled (-ENOENT: no driver or no GPU). */
JST_API int jst_gpu_ctl_open(struct jst_gpu_ctl **out, char *why, size_t whylen);
JST_API void jst_gpu_ctl_close(struct jst_gpu_ctl *c);
JST_API size_t jst_gpu_ctl_count(const struct jst_gpu_ctl *c);
/* GPU i's limits, read now. Returns 0, or -ENOTSUP when it has no settable limit (no
 * constraints or no current limit). */
JST_API int jst_gpu_ctl_info(struct jst_gpu_ctl *c, size_t i, struct jst_gpu_limit *out);
/* The GPU whose uuid is uuid, or -ENOENT. */
JST_API int jst_gpu_ctl_find(struct jst_gpu_ctl *c, const char *uuid);
/* Sets GPU i's limit to watts (rounded to the milliwatt). Returns 0; -EPERM when NVML refuses
 * for want of privileges, -ENOTSUP when the GPU cannot set limits, -EINVAL outside its
 * constraints, -EIO otherwise; why says which and what to do. */
JST_API int jst_gpu_ctl_set(struct jst_gpu_ctl *c, size_t i, double watts, char *why, size_t whylen);
/* GPU i's energy counter in joules (since the driver loaded), or -ENOTSUP. */
JST_API int jst_gpu_ctl_energy(struct jst_gpu_ctl *c, size_t i, double *joules);

#endif
