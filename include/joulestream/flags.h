/* Integrity flags and the idle floor of a run: the parts of struct jst_run (run.h) that say how
 * far its figures can be trusted. Flags are computed while the run is recorded (src/trust/
 * integrity.c, driven by the monitor) and stored with it; the floor comes from the host's
 * calibration (`joulestream calibrate`, src/trust/calibrate.c). docs/integrity.md has every
 * flag, its threshold and what to do about it. The types, and their names (src/record/flags.c). */
#ifndef JOULESTREAM_FLAGS_H
#define JOULESTREAM_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"

#define JST_FLAGS_MAX 24
#define JST_FLAG_REASON_LEN 256

enum jst_flag_kind {
	JST_FLAG_GAP,        /* "gap": the sampling loop came late (interval > the gap threshold) */
	JST_FLAG_SENSOR_GAP, /* "sensor_gap": a zone had no valid reading that long, then resumed */
	JST_FLAG_BACKWARDS,  /* "counter_backwards": a counter went back with no known range */
	JST_FLAG_GONE,       /* "sensor_gone": a device disappeared during the run */
	JST_FLAG_FAILED,     /* "sensor_failed": a zone gave no valid reading up to the end */
	JST_FLAG_APPEARED,   /* "sensor_appeared": a zone gave its first valid reading mid-run */
	JST_FLAG_POWER,      /* "power_out_of_range": power above the device's physical limit */
	JST_FLAG_CLOCK,      /* "clock_jump": the wall clock stepped against the monotonic one */
	JST_FLAG_ESTIMATE,   /* "estimate": counted energy is modelled, not measured */
	JST_FLAG_UNSTORED,   /* "samples_not_stored": the stored log lacks some samples */
	JST_FLAG_NO_SENSOR,  /* "no_sensor": nothing measured or estimated the energy */
	JST_FLAG_RESET,      /* "counter_reset": a counter restarted (a reload), it did not wrap */
	JST_FLAG_KIND_COUNT
};

/* One flag: what, where, how often, for how long, and a sentence for people. */
struct jst_run_flag {
	enum jst_flag_kind kind;
	char zone[64];       /* the zone it concerns, "" for the whole run */
	unsigned long count; /* occurrences (gaps, intervals, windows, jumps) */
	double seconds;      /* time affected, s */
	double first_s;      /* first occurrence, s since the run's start */
	double value;        /* kind's figure: longest gap s, highest power W, largest jump s */
	double limit;        /* the threshold value was compared with (0 when none) */
	char reason[JST_FLAG_REASON_LEN];
};

/* The host's idle floor during a run, from the newest calibration of the run's host made
 * before the run ended (or the newest at all, said in `after`). Derived, not stored with the
 * run: the store fills it when it loads a run or is asked (jst_store_floor). */
struct jst_floor {
	bool known;             /* a calibration of this host covers some counted zone */
	uint64_t calibrated_ns; /* when that calibration was made, UTC */
	bool after;             /* it was made after the run ended */
	double idle_w;          /* sum of the calibrated idle power of the counted zones covered */
	double floor_j;         /* idle_w x duration */
	double dynamic_j;       /* host energy of the covered zones - floor_j (0 when below) */
	double covered_j;       /* host energy of the covered zones */
	size_t zones, missing;  /* counted zones covered, counted zones the calibration lacks */
	bool below;             /* the zones used less than their idle floor: recalibrate */
};

/* "gap", "sensor_gap", …; "unknown" outside the enum. */
JST_API const char *jst_flag_name(enum jst_flag_kind k);
/* The kind of a name; 0, or -1 when unknown. */
JST_API int jst_flag_kind(const char *name, enum jst_flag_kind *out);
struct jst_run;
/* "gap,sensor_gone:gpu0" into out (cut at n). */
JST_API void jst_flags_summary(const struct jst_run *run, char *out, size_t n);

#endif
