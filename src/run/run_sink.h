/* `joulestream run --sink TARGET` (and the agent): a run streamed live as events (run_start, one
 * sample per zone and interval, phase and metric events from the training marks, run_end) to a
 * file or a server, without ever blocking the command; the report says what was not delivered. */
#ifndef JST_RUN_RUN_SINK_H
#define JST_RUN_RUN_SINK_H

#include <stdint.h>

#include "joulestream/event.h"
#include "joulestream/run.h"
#include "joulestream/sink.h"
#include "joulestream/train.h"

struct jst__run_sink {
	struct jst_sink *sink;
	const char *target;
	uint64_t seq[JST_ZONES_MAX]; /* samples sent per zone: the SEQ of the next id */
	unsigned long unencoded;
	uint64_t phase_seq, metric_seq; /* phase and metric events sent: the SEQ of the next id */
	int64_t step, epoch;            /* the current ones from the marks, -1 before the first */
	char path[JST_PHASE_PATH_MAX];  /* the open phase path ("train/forward") */
	char line[JST_EVENT_LINE_MAX];
};

/* Opens the sink before the command starts (a bad target fails now). spool may be NULL; ca
 * (may be NULL) is the PEM file of CAs an https sink trusts instead of the system's.
 * Returns 0, or 2 after printing the error after who ("joulestream run"). */
int jst__run_sink_open(struct jst__run_sink *rs, const char *who, const char *target, const char *spool,
                       const char *ca);
void jst__run_sink_start(struct jst__run_sink *rs, const struct jst_run *run, const char *model, int argc,
                    char **argv);
void jst__run_sink_samples(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_sample *v,
                      size_t n);
/* A training mark the monitor accepted, received at mono_ns (CLOCK_MONOTONIC): phase edges
 * become phase events (with the full path), metrics become metric events with the current
 * step and epoch; other marks only update those. Times are converted to UTC. */
void jst__run_sink_mark(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_mark *mk,
                        uint64_t mono_ns);
/* Sends run_end, waits at most timeout_ms for delivery and notes in the run what was not
 * delivered. */
void jst__run_sink_finish(struct jst__run_sink *rs, struct jst_run *run, unsigned timeout_ms);

#endif
