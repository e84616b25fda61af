/* Test helper: writes a run into a store as the events a live run writes (run_start, samples,
 * training marks, run_end, with the encoders of src/event/), ingested with jst_store_ingest as
 * the store sink does. For tests of what reads runs back (the view, results, training). */
#ifndef JST_TEST_RUNLOG_H
#define JST_TEST_RUNLOG_H

#include <stdlib.h>
#include <string.h>

#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"
#include "joulestream/train.h"

static char runlog_line[JST_EVENT_LINE_MAX];

/* One encoded line (its length n, or a negative errno) ingested as a batch of its own. */
static inline int runlog_put(struct jst_store *s, int n)
{
	if (n < 0)
		return n;
	struct jst_event_batch b = {0};
	struct jst_ingest_result res;
	size_t bad = 0;
	char err[256];
	int r = jst_event_batch_parse(runlog_line, (size_t)n, 0, &b, &bad, err, sizeof(err));
	if (r == 0)
		r = jst_store_ingest(s, &b, &res);
	jst_event_batch_release(&b);
	return r;
}

static inline int runlog_begin(struct jst_store *s, const struct jst_run *run)
{
	return runlog_put(s, jst_event_encode_run_start(run, NULL, 0, NULL, runlog_line, sizeof(runlog_line)));
}

/* seq: each zone's next sample number (zeroed by the caller before the first call). */
static inline int runlog_samples(struct jst_store *s, const struct jst_run *run, const struct jst_sample *v,
                                 size_t n, uint64_t seq[JST_ZONES_MAX])
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = runlog_put(s, jst_event_encode_sample(run, &v[i], seq[v[i].zone]++, runlog_line,
		                                          sizeof(runlog_line)));
	return r;
}

/* A training mark dated t_s after the run's start. */
static inline int runlog_mark(struct jst_store *s, const struct jst_run *run, const char *msg, double t_s,
                              uint64_t seq)
{
	struct jst_mark mk;
	int r = jst_mark_parse(msg, strlen(msg), &mk, NULL);
	if (r < 0)
		return r;
	mk.t_ns = 0;
	return runlog_put(s, jst_event_encode_mark(run, &mk, run->start_ns + (uint64_t)(t_s * 1e9 + 0.5), false, seq,
	                                           runlog_line, sizeof(runlog_line)));
}

static inline int runlog_end(struct jst_store *s, const struct jst_run *run)
{
	return runlog_put(s, jst_event_encode_run_end(run, runlog_line, sizeof(runlog_line)));
}

#endif
