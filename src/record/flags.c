/* Names of the integrity flags (the store's, JSON's and `runs --flagged`'s), and the one-line
 * summary reports print: part of the record (flags.h), so that the views and encoders of the
 * event log can name them. The flags themselves are computed in src/trust/integrity.c. */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/record.h"

static const char *const names[JST_FLAG_KIND_COUNT] = {
	"gap",           "sensor_gap",         "counter_backwards",  "sensor_gone",
	"sensor_failed", "sensor_appeared",    "power_out_of_range", "clock_jump",
	"estimate",      "samples_not_stored", "no_sensor",          "counter_reset",
};

const char *jst_flag_name(enum jst_flag_kind k)
{
	return (unsigned)k < JST_FLAG_KIND_COUNT ? names[k] : "unknown";
}

int jst_flag_kind(const char *name, enum jst_flag_kind *out)
{
	for (unsigned k = 0; name && k < JST_FLAG_KIND_COUNT; k++)
		if (strcmp(name, names[k]) == 0) {
			*out = (enum jst_flag_kind)k;
			return 0;
		}
	return -1;
}

void jst_flags_summary(const struct jst_run *run, char *out, size_t n)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < run->nflags; i++) {
		const struct jst_run_flag *f = &run->flags[i];
		int w = snprintf(out + off, n - off, "%s%s%s%s", off ? "," : "",
				 jst_flag_name(f->kind), f->zone[0] ? ":" : "", f->zone);
		if (w < 0 || (size_t)w >= n - off)
			break;
		off += (size_t)w;
	}
}
