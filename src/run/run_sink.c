/* The live event stream of a run (run_sink.h): encodes the monitor's run and samples as
 * events of schema v1 once and hands each line to the run's sinks (its store, --sink), whose
 * sender threads do the I/O. Training marks become phase and metric events.
 * Ids are RUNID-b, RUNID-s-SEQ-ZONE, RUNID-p-SEQ, RUNID-m-SEQ and RUNID-e, so a resent event
 * is stored once. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "run/run_sink.h"

int jst__run_sink_open(struct jst__run_sink *rs, const char *who, const char *target, const char *spool,
                       const char *ca)
{
	memset(rs->seq, 0, sizeof(rs->seq));
	rs->sink = rs->store = NULL;
	rs->store_target[0] = '\0';
	rs->unencoded = 0;
	rs->phase_seq = rs->metric_seq = rs->mark_seq = 0;
	rs->start_mono = 0;
	rs->step = rs->epoch = -1;
	rs->path[0] = '\0';
	rs->series = NULL;
	rs->ci_next = rs->ci_seq = 0;
	rs->ci_started = false;
	rs->first_ns = rs->last_ns = 0;
	rs->target = target;
	if (!target)
		return 0;
	struct jst_sink_opts o = {.token = getenv("JOULESTREAM_TOKEN"), .spool_dir = spool, .ca_file = ca};
	char err[512];
	if (jst_sink_open(&rs->sink, target, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: --sink: %s\n", who, err);
		return 2;
	}
	return 0;
}

int jst__run_sink_store(struct jst__run_sink *rs, const char *who, const char *target, const char *spool)
{
	struct jst_sink_opts o = {.spool_dir = spool};
	char err[512];
	jst__strlcpy(rs->store_target, target, sizeof(rs->store_target));
	if (jst_sink_open(&rs->store, rs->store_target, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: store: %s\n", who, err);
		rs->store = NULL;
		return 2;
	}
	return 0;
}

bool jst__run_sink_any(const struct jst__run_sink *rs)
{
	return rs->sink || rs->store;
}

void jst__run_sink_flush(struct jst__run_sink *rs, unsigned wait_ms)
{
	jst_sink_flush(rs->store, wait_ms); /* --sink keeps its own batching (linger) */
}

static void put(struct jst__run_sink *rs, int n)
{
	if (n < 0) {
		rs->unencoded++;
		return;
	}
	if (rs->store)
		jst_sink_write(rs->store, rs->line, (size_t)n);
	if (rs->sink)
		jst_sink_write(rs->sink, rs->line, (size_t)n);
}

void jst__run_sink_start(struct jst__run_sink *rs, const struct jst_run *run, uint64_t start_mono,
                         const char *model, int argc, char **argv)
{
	rs->start_mono = start_mono;
	if (jst__run_sink_any(rs))
		put(rs, jst_event_encode_run_start(run, model, argc, argv, rs->line, sizeof(rs->line)));
}

/* The series' values that hold at some time in [from, to): from the point in force at from (or
 * the first one), each sent once, in order; late when the samples they cover went first. */
static void cover(struct jst__run_sink *rs, const struct jst_run *run, uint64_t from, uint64_t to,
		  bool late)
{
	const struct jst_series *s = rs->series;
	if (!s || s->n == 0)
		return;
	if (!rs->ci_started) {
		ssize_t i = jst_series_find(s, (int64_t)from, NULL);
		rs->ci_next = i >= 0 ? (size_t)i : s->pts[0].t_ns > (int64_t)from ? 0 : s->n;
		rs->ci_started = true;
	}
	size_t end = rs->ci_next; /* the values needed so far: none beyond to */
	while (end < s->n && s->pts[end].t_ns < (int64_t)to)
		end++;
	while (rs->ci_next < end) {
		size_t next = rs->ci_next + 1;
		put(rs, jst_event_encode_intensity(run, s, rs->ci_next, end, late, rs->ci_seq++,
						   &next, rs->line, sizeof(rs->line)));
		rs->ci_next = next;
	}
}

void jst__run_sink_series(struct jst__run_sink *rs, const struct jst_run *run,
			  const struct jst_series *s)
{
	rs->series = s;
	rs->ci_next = 0;
	rs->ci_started = false;
	if (s && rs->last_ns && jst__run_sink_any(rs)) /* a live source's, after the samples */
		cover(rs, run, rs->first_ns, rs->last_ns, true);
}

/* When sample v starts and ends on the UTC clock, as jst_event_encode_sample dates it. */
static void sample_span(const struct jst_run *run, const struct jst_sample *v, uint64_t *t0,
			uint64_t *t1)
{
	double end_s = v->t_s + v->dt_s;
	*t1 = run->start_ns + (uint64_t)(end_s > 0 ? llround(end_s * 1e9) : 0);
	*t0 = run->start_ns + (uint64_t)(v->t_s > 0 ? llround(v->t_s * 1e9) : 0);
}

void jst__run_sink_samples(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_sample *v,
                      size_t n)
{
	if (!jst__run_sink_any(rs))
		return;
	for (size_t i = 0; i < n; i++) {
		uint64_t t0, t1;
		sample_span(run, &v[i], &t0, &t1);
		if (!rs->first_ns || t0 < rs->first_ns)
			rs->first_ns = t0;
		if (t1 > rs->last_ns)
			rs->last_ns = t1;
	}
	if (n)
		cover(rs, run, rs->first_ns, rs->last_ns, false);
	for (size_t i = 0; i < n; i++) {
		uint32_t z = v[i].zone < JST_ZONES_MAX ? v[i].zone : 0;
		put(rs, jst_event_encode_sample(run, &v[i], rs->seq[z]++, rs->line, sizeof(rs->line)));
	}
}

/* The UTC time of a mark taken at t_mono (0: received now, at mono_ns): on the run's clock,
 * run->start_ns + the monotonic time since the start, as the samples are dated; without it,
 * the wall clock now less the mark's age. */
static uint64_t mark_utc(const struct jst__run_sink *rs, const struct jst_run *run, uint64_t t_mono,
                         uint64_t mono_ns, uint64_t last_tick, bool *late)
{
	uint64_t t = t_mono && t_mono < mono_ns ? t_mono : mono_ns;
	*late = t_mono && t < last_tick;
	if (t < last_tick)
		t = last_tick;
	if (rs->start_mono)
		return run->start_ns + (t > rs->start_mono ? t - rs->start_mono : 0);
	uint64_t wall = jst__wall_ns(), ago = mono_ns - t;
	return wall > ago ? wall - ago : 0;
}

static void phase_edge(struct jst__run_sink *rs, const struct jst_run *run, const char *name, bool begin,
                       uint64_t ts)
{
	size_t len = strlen(rs->path);
	if (begin) {
		size_t nl = strlen(name);
		if (len + (len > 0) + nl >= sizeof(rs->path)) {
			rs->unencoded++;
			return;
		}
		if (len)
			rs->path[len++] = '/';
		memcpy(rs->path + len, name, nl + 1);
		put(rs, jst_event_encode_phase(run, rs->path, true, ts, rs->phase_seq++, rs->line,
		                               sizeof(rs->line)));
		return;
	}
	/* the monitor accepted the end, so the innermost open phase is name */
	if (len == 0)
		return;
	put(rs, jst_event_encode_phase(run, rs->path, false, ts, rs->phase_seq++, rs->line,
	                               sizeof(rs->line)));
	char *slash = strrchr(rs->path, '/');
	*(slash ? slash : rs->path) = '\0';
}

void jst__run_sink_mark(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_mark *mk,
                        uint64_t mono_ns, uint64_t last_tick_mono)
{
	if (!jst__run_sink_any(rs))
		return;
	bool late;
	uint64_t ts = mark_utc(rs, run, mk->t_ns, mono_ns, last_tick_mono, &late);
	put(rs, jst_event_encode_mark(run, mk, ts, late, rs->mark_seq++, rs->line, sizeof(rs->line)));
	switch (mk->kind) {
	case JST_MARK_PHASE_BEGIN: phase_edge(rs, run, mk->name, true, ts); break;
	case JST_MARK_PHASE_END: phase_edge(rs, run, mk->name, false, ts); break;
	case JST_MARK_STEP: rs->step = mk->n >= 0 ? mk->n : rs->step + 1; break;
	case JST_MARK_EPOCH_BEGIN: rs->epoch = mk->n >= 0 ? mk->n : rs->epoch + 1; break;
	case JST_MARK_METRIC: {
		int64_t step = mk->step >= 0 ? mk->step : rs->step;
		int64_t epoch = mk->epoch >= 0 ? mk->epoch : rs->epoch;
		int n = jst_event_encode_metric(run, mk, step, epoch, ts, rs->metric_seq, rs->line,
		                                sizeof(rs->line));
		if (n != -EINVAL) { /* -EINVAL: only NaN or infinite values, nothing to send */
			rs->metric_seq++;
			put(rs, n);
		}
		break;
	}
	default: break;
	}
}

/* Closes one sink and notes in the run what it did not deliver. */
static void close_noting(struct jst_sink **sp, struct jst_run *run, const char *what, const char *target,
                         unsigned timeout_ms)
{
	struct jst_sink_stats st;
	jst_sink_close(*sp, timeout_ms, &st);
	*sp = NULL;
	if (st.rejected)
		jst_run_note(run, "%s %s refused %llu events for good (%s): kept in %s for you to look at and remove",
		             what, target, (unsigned long long)st.rejected, st.last_error, st.refused_path);
	if (st.in_spool)
		jst_run_note(run, "%s %s: %llu events not delivered yet, kept in %s (the next `run` with the "
		             "same target sends them): %s", what, target, (unsigned long long)st.in_spool,
		             st.spool_path, st.last_error);
	if (st.dropped)
		jst_run_note(run, "%s %s: %llu events lost (queue or spool full): %s", what, target,
		             (unsigned long long)st.dropped, st.last_error);
}

void jst__run_sink_finish(struct jst__run_sink *rs, struct jst_run *run, unsigned timeout_ms)
{
	if (!jst__run_sink_any(rs))
		return;
	put(rs, jst_event_encode_run_end(run, rs->line, sizeof(rs->line)));
	if (rs->store)
		close_noting(&rs->store, run, "store", rs->store_target, timeout_ms);
	if (rs->sink)
		close_noting(&rs->sink, run, "--sink", rs->target, timeout_ms);
	if (rs->unencoded)
		jst_run_note(run, "%lu events could not be encoded", rs->unencoded);
}
