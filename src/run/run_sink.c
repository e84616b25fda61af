/* The live event stream of `joulestream run --sink` (run_sink.h): encodes the monitor's run
 * and samples as events of schema v1 and hands them to a sink, whose sender thread does the
 * I/O. Training marks become phase and metric events.
 * Ids are RUNID-b, RUNID-s-SEQ-ZONE, RUNID-p-SEQ, RUNID-m-SEQ and RUNID-e, so a resent event
 * is stored once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "run/run_sink.h"

int jst__run_sink_open(struct jst__run_sink *rs, const char *who, const char *target, const char *spool,
                       const char *ca)
{
	memset(rs->seq, 0, sizeof(rs->seq));
	rs->sink = NULL;
	rs->unencoded = 0;
	rs->phase_seq = rs->metric_seq = 0;
	rs->step = rs->epoch = -1;
	rs->path[0] = '\0';
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

static void put(struct jst__run_sink *rs, int n)
{
	if (n < 0) {
		rs->unencoded++;
		return;
	}
	jst_sink_write(rs->sink, rs->line, (size_t)n);
}

void jst__run_sink_start(struct jst__run_sink *rs, const struct jst_run *run, const char *model, int argc,
                    char **argv)
{
	if (rs->sink)
		put(rs, jst_event_encode_run_start(run, model, argc, argv, rs->line, sizeof(rs->line)));
}

void jst__run_sink_samples(struct jst__run_sink *rs, const struct jst_run *run, const struct jst_sample *v,
                      size_t n)
{
	if (!rs->sink)
		return;
	for (size_t i = 0; i < n; i++) {
		uint32_t z = v[i].zone < JST_ZONES_MAX ? v[i].zone : 0;
		put(rs, jst_event_encode_sample(run, &v[i], rs->seq[z]++, rs->line, sizeof(rs->line)));
	}
}

/* The UTC time of a mark taken at t_mono (0: received now, at mono_ns). */
static uint64_t mark_utc(uint64_t t_mono, uint64_t mono_ns)
{
	uint64_t wall = jst__wall_ns();
	uint64_t ago = t_mono && t_mono < mono_ns ? mono_ns - t_mono : 0;
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
                        uint64_t mono_ns)
{
	if (!rs->sink)
		return;
	uint64_t ts = mark_utc(mk->t_ns, mono_ns);
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

void jst__run_sink_finish(struct jst__run_sink *rs, struct jst_run *run, unsigned timeout_ms)
{
	if (!rs->sink)
		return;
	put(rs, jst_event_encode_run_end(run, rs->line, sizeof(rs->line)));
	struct jst_sink_stats st;
	jst_sink_close(rs->sink, timeout_ms, &st);
	rs->sink = NULL;
	if (rs->unencoded)
		jst_run_note(run, "--sink: %lu events could not be encoded", rs->unencoded);
	if (st.rejected)
		jst_run_note(run, "--sink %s refused %llu events: %s", rs->target,
		             (unsigned long long)st.rejected, st.last_error);
	if (st.in_spool)
		jst_run_note(run, "--sink %s: %llu events not delivered yet, kept in %s (the next "
		             "`run --sink` to the same spool sends them): %s", rs->target,
		             (unsigned long long)st.in_spool, st.spool_path, st.last_error);
	if (st.dropped)
		jst_run_note(run, "--sink %s: %llu events lost (queue or spool full): %s", rs->target,
		             (unsigned long long)st.dropped, st.last_error);
}
