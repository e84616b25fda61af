/* A run as events (run_start, one sample per zone and interval, phase, metric and mark events
 * from the training marks, run_end), encoded once and written to every sink of the run: its
 * store's event log (`sqlite:PATH`, `postgresql://…`: the run's record) and, with --sink, a
 * file, a server or Kafka; never blocking the command. The report says what was not
 * delivered. Used by `joulestream run` and the agent. */
#ifndef JST_RUN_RUN_SINK_H
#define JST_RUN_RUN_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "joulestream/event.h"
#include "joulestream/run.h"
#include "joulestream/sink.h"
#include "joulestream/train.h"

#define JST_RUN_SINKS 2 /* the store and --sink */

struct jst__run_sink {
	struct jst_sink *sink;  /* --sink (NULL without) */
	const char *target;
	struct jst_sink *store; /* the run's store (NULL without) */
	char store_target[1040];
	uint64_t seq[JST_ZONES_MAX]; /* samples sent per zone: the SEQ of the next id */
	unsigned long unencoded;
	uint64_t phase_seq, metric_seq; /* phase and metric events sent: the SEQ of the next id */
	uint64_t mark_seq;              /* mark events sent */
	uint64_t start_mono;            /* the run's clock: CLOCK_MONOTONIC at run->start_ns (0: unknown) */
	int64_t step, epoch;            /* the current ones from the marks, -1 before the first */
	char path[JST_PHASE_PATH_MAX];  /* the open phase path ("train/forward") */
	/* the intensity series the run's carbon uses (NULL: the yearly average): its values are
	 * sent as intensity events before the first sample that falls in them, so a replay of the
	 * log integrates with the same values */
	const struct jst_series *series;
	size_t ci_next; /* the next point of series to send */
	bool ci_started;
	uint64_t ci_seq;            /* intensity events sent */
	uint64_t first_ns, last_ns; /* the span of the samples sent (UTC ns; 0: none yet) */
	char line[JST_EVENT_LINE_MAX];
};

/* Opens the sink before the command starts (a bad target fails now). spool may be NULL; ca
 * (may be NULL) is the PEM file of CAs an https sink trusts instead of the system's.
 * Returns 0, or 2 after printing the error after who ("joulestream run"). */
int jst__run_sink_open(struct jst__run_sink *rs, const char *who, const char *target, const char *spool,
                       const char *ca);
/* Adds the run's store as a sink: target "sqlite:PATH" or "postgresql://…", spooled in spool
 * (NULL: the default) while the database cannot be written. Returns 0, or 2 after printing the
 * error after who. */
int jst__run_sink_store(struct jst__run_sink *rs, const char *who, const char *target, const char *spool);
/* True when the run goes to at least one sink. */
bool jst__run_sink_any(const struct jst__run_sink *rs);
/* Asks the store's sink to deliver what it holds (the run's drain, every 250 ms) and waits at
 * most wait_ms for that (0: no wait), so that what follows can read the events back; --sink
 * keeps its own batching. */
void jst__run_sink_flush(struct jst__run_sink *rs, unsigned wait_ms);
/* run_start; start_mono is the CLOCK_MONOTONIC time the monitor started the run's clock at
 * (jst_monitor_start), so that marks are dated on the same clock as the samples. */
void jst__run_sink_start(struct jst__run_sink *rs, const struct jst_run *run, uint64_t start_mono,
                         const char *model, int argc, char **argv);
void jst__run_sink_samples(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_sample *v,
                      size_t n);
/* A training mark the monitor accepted, received at mono_ns (CLOCK_MONOTONIC): every mark is a
 * mark event (its message: what the training record is rebuilt from); phase edges also become
 * phase events (with the full path) and metrics metric events with the current step and epoch,
 * for the aggregates of `serve`. Times are converted to UTC on the run's clock; a mark dated
 * before the monitor's last tick (last_tick_mono) is dated at that tick, as the training
 * record took it, and flagged late. */
void jst__run_sink_mark(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_mark *mk,
                        uint64_t mono_ns, uint64_t last_tick_mono);
/* The series the run's carbon is integrated with: the values it holds over the samples sent
 * so far are sent now, later ones before the samples that need them. A series known only at
 * the end (a live source) is sent whole over the run's samples before run_end. */
void jst__run_sink_series(struct jst__run_sink *rs, const struct jst_run *run,
			  const struct jst_series *s);
/* Sends run_end, waits at most timeout_ms for delivery (the store's events first: they are
 * the run's record) and notes in the run what was not delivered. */
void jst__run_sink_finish(struct jst__run_sink *rs, struct jst_run *run, unsigned timeout_ms);

#endif
