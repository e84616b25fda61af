/* The integrity checker: follows a run tick by tick beside the monitor and, at the end, writes
 * the run's flags (flags.h): sampling gaps, sensors that stop, vanish or appear, counters that
 * go back, power beyond a device's limit, wall-clock steps, estimates, unstored samples. It
 * allocates once (per-zone state) in _new and never per tick; the thresholds are in
 * integrity.c and docs/integrity.md. Internal: the monitor drives it (src/run/monitor.c). */
#ifndef JST_TRUST_INTEGRITY_H
#define JST_TRUST_INTEGRITY_H

#include <stdint.h>

#include "joulestream/record.h"

struct jst__integrity;

/* For run->nzones zones (the monitor's), sampling every interval_s. */
int jst__integrity_new(struct jst__integrity **out, size_t nzones, double interval_s);
void jst__integrity_free(struct jst__integrity *ig);

/* The run's clocks at its start (CLOCK_MONOTONIC and CLOCK_REALTIME, ns). */
void jst__integrity_start(struct jst__integrity *ig, uint64_t mono_ns, uint64_t wall_ns);

/* One tick: the settled readings of every zone (jst_sensors_read) at mono_ns / wall_ns. */
void jst__integrity_tick(struct jst__integrity *ig, const struct jst_run *run, uint64_t mono_ns,
			 uint64_t wall_ns, const struct jst_reading *rd);

/* Writes run->flags (replacing any) at the end, mono_ns being the end. unstored: samples the
 * monitor could not buffer for the store. */
void jst__integrity_finish(struct jst__integrity *ig, struct jst_run *run, uint64_t mono_ns,
			   unsigned long unstored);

/* The gap threshold for an interval: max(3 x interval, interval + 0.1 s). */
double jst__gap_threshold_s(double interval_s);
/* How far above its max_power_w a zone of this kind may go over a 1 s window. */
double jst__power_margin(enum jst_zone_kind kind);

#endif
