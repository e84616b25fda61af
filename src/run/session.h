/* A run session (issue 11): what a measured run does with its record, whoever drives the
 * monitor. It opens the run's store and its sinks (the store's event log, --sink), sends the
 * monitor's pending samples and the training marks to them as events, keeps the record rows
 * that are not events yet (training tables, results by data version, trust rows) in the
 * store, and at the end sends run_end, waits for delivery and seals the record. `joulestream
 * run` (src/cli/run.c) keeps fork, exec and signals; the in-process tracker
 * (src/run/tracker.c) keeps its thread; the node agent (src/server/agent.c) keeps its
 * workload counters and heartbeats; all three hand the rest to a session. Nothing here stops
 * or slows the command: a failure becomes a note in the record. */
#ifndef JST_RUN_SESSION_H
#define JST_RUN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "joulestream/run.h"
#include "joulestream/store.h"
#include "joulestream/train.h"
#include "run/run_sink.h"

struct jst__session {
	const char *who; /* "joulestream run": prefix of messages */
	struct jst_run *run;
	struct jst_store *store; /* the record's store, NULL without (or when it failed) */
	char store_path[1024];   /* "" when not stored */
	bool store_failed;
	struct jst__run_sink sink;
	unsigned close_ms; /* how long finish waits for the sinks' delivery (0: 10 s) */
};

/* Before the command starts: --sink TARGET (may be NULL), its spool and CA (may be NULL).
 * Returns 0, or 2 after printing why (a bad target fails now, not after hours). */
int jst__session_open(struct jst__session *s, const char *who, struct jst_run *run, const char *sink,
                      const char *spool, const char *ca);
/* Opens the run's store: db (NULL: the default file) as the record's store and as a sink of
 * the run's events, spooled in spool while the database cannot be written. Notes what failed. */
void jst__session_store(struct jst__session *s, const char *db, const char *spool);
/* When the command has started: run_start to the sinks, the record's first rows. start_mono:
 * the CLOCK_MONOTONIC time the monitor's clock started at (jst_monitor_start). */
void jst__session_begin(struct jst__session *s, uint64_t start_mono, const char *model, int argc, char **argv);
/* Records a store call's failure once, as a note. */
void jst__session_check(struct jst__session *s, int r, const char *what);
/* The monitor's pending samples to the sinks, its pending metrics to the store's record, then
 * empties them. The caller holds whatever lock guards the monitor. */
void jst__session_drain(struct jst__session *s, struct jst_monitor *mon);
/* A training mark the monitor mon accepted, received at mono_ns: a mark event (and a phase or
 * metric event), dated as the monitor's training record took it. */
void jst__session_mark(struct jst__session *s, struct jst_monitor *mon, const struct jst_mark *mk, uint64_t mono_ns);
/* The intensity series the run's carbon is integrated with (NULL: the yearly average): its
 * values go into the log with the samples that use them (run_sink.h). */
void jst__session_series(struct jst__session *s, const struct jst_series *series);
/* Waits at most wait_ms until the store's log holds every event sent so far (the live
 * intensity source reads the samples back). */
void jst__session_sync(struct jst__session *s, unsigned wait_ms);
/* After the run ended: run_end to the sinks (waiting for delivery), the record's last rows,
 * its idle floor and record hash. */
void jst__session_finish(struct jst__session *s);
/* Closes what is still open (a command that never started). */
void jst__session_close(struct jst__session *s);

#endif
