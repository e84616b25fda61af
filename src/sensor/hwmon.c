/* placeholder: the hwmon backend is being written */
#include <errno.h>
#include <stdio.h>
#include "sensor/sensor.h"
static int probe(const struct jst_sensor_ctx *ctx, char *why, size_t n)
{
	(void)ctx;
	snprintf(why, n, "not implemented yet");
	return -ENOENT;
}
const struct jst_sensor_ops jst__sensor_hwmon = {.name = "hwmon", .description = "hwmon", .probe = probe};
