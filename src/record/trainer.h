/* The training state of a run (src/record/train.c): it turns marks into time per phase, epoch
 * and step range within the current sampling interval, and at each tick splits the interval's
 * energy by those times into the record (struct jst_train). Internal to the library; the
 * monitor (src/run/monitor.c) owns one once the first mark arrives, and drives it with the
 * times and energies of its ticks only: nothing here reads a sensor or a clock. */
#ifndef JST_RECORD_TRAINER_H
#define JST_RECORD_TRAINER_H

#include "joulestream/record.h"
#include "joulestream/train.h"

struct jst__trainer;

/* Starts the training state of a run whose clock started at start_ns and was last sampled at
 * last_ns: the energy counted so far goes to "(none)" and outside epochs and steps. */
int jst__trainer_new(struct jst__trainer **out, const struct jst_run *run, uint64_t start_ns,
                     uint64_t last_ns);
void jst__trainer_free(struct jst__trainer *tr);
struct jst_train *jst__trainer_record(struct jst__trainer *tr);

/* Applies a mark at t (0: now_ns). Returns 0 or -EINVAL with *why set (the mark is counted as
 * bad by the caller). */
int jst__trainer_mark(struct jst__trainer *tr, struct jst_run *run, const struct jst_mark *mk,
                      uint64_t now_ns, const char **why);

/* One sampling interval [last_ns, now_ns] with the run's energy per zone (tick_run[nzones]). */
void jst__trainer_tick(struct jst__trainer *tr, const struct jst_run *run, uint64_t now_ns,
                       const double *tick_run);

/* The run ended at now_ns (after its last tick): completes the current epoch, resolves what
 * is left, and notes what did not fit. */
void jst__trainer_finish(struct jst__trainer *tr, struct jst_run *run, uint64_t now_ns);

const struct jst_metric *jst__trainer_pending(const struct jst__trainer *tr, size_t *n);
void jst__trainer_drained(struct jst__trainer *tr);
size_t jst__trainer_messages(const struct jst__trainer *tr, unsigned *seen, char *buf, size_t n);

/* Short durations and energies as phases and epochs have them: "12 ms", "4.2 mJ"; longer ones
 * as jst_format_duration and jst_format_joules write them. */
void jst__format_span(double s, char *out, size_t n);
void jst__format_energy(double j, char *out, size_t n);

#endif
