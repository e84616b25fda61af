/* Events, schema v1 (docs/schema.md): the one log every view of joulestream is derived from.
 * jst_event_parse() is a pure function over (p, n): strict types and ranges, NaN, infinities
 * and negative energy rejected, invalid UTF-8 rejected, bounded strings, an unknown `v`
 * rejected with a reason. jst_event_batch_parse() reads NDJSON and accepts a batch only when
 * every line is valid, so a batch is stored whole or not at all. Encoders build the lines that
 * `joulestream run` and the agent send, with deterministic ids (RUNID-s-SEQ-ZONE). */
#ifndef JOULESTREAM_EVENT_H
#define JOULESTREAM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"
#include "joulestream/train.h"

#define JST_EVENT_ID_MAX 64
#define JST_EVENT_LINE_MAX (64 * 1024) /* one event's line, in bytes */
/* The latest time an event may carry (ts_ns, UTC ns since the epoch): before
 * 2100-01-01T00:00:00Z. Later is a clock or encoder fault, or a number past 2^63 that a
 * signed column would store negative (docs/schema.md). */
#define JST_EVENT_TS_MAX 4102444800000000000ull
#define JST_EVENT_ZONES_MAX 64         /* zone_index < this */
#define JST_EVENT_VALUES_MAX 64        /* metric values per event */

enum jst_event_type {
	JST_EV_RUN_START,
	JST_EV_SAMPLE,
	JST_EV_PHASE,
	JST_EV_METRIC,
	JST_EV_RUN_END,
	JST_EV_HEARTBEAT,
	JST_EV_MARK, /* a training mark as its message (docs/python.md): the training record's input */
	JST_EV_INTENSITY, /* the intensity values a run's carbon used (docs/schema.md) */
};

#define JST_INTENSITY_VALUES_MAX 1024 /* values in one intensity event */

enum jst_event_flag { /* sample.flags */
	JST_EVF_WRAP = 1u << 0,
	JST_EVF_BACKWARDS = 1u << 1,
	JST_EVF_FAILED = 1u << 2,
	JST_EVF_GONE = 1u << 3,
};

/* A parsed event. Fields of other types are zero; optional numbers absent are 0 unless said.
 * line/line_len point at the event's text in the parsed input (borrowed). */
struct jst_event {
	enum jst_event_type type;
	uint64_t ts_ns;
	char id[JST_EVENT_ID_MAX + 1];
	char run[JST_EVENT_ID_MAX + 1]; /* "" for a heartbeat */
	char host[256];
	/* run_start */
	char user[64], model[128], project[128], zone_code[32];
	double interval_s, pue, wue_l_per_kwh; /* pue and wue -1 when absent; interval_s also of a
	                                          heartbeat (0 when absent) */
	bool scope_host;
	bool series_host; /* an agent's whole-host series ("series":"host", or an older agent's
	                     run_start: scope host, command ["joulestream","agent"]) */
	/* sample */
	char zone[64], source[32];
	unsigned zone_index;
	enum jst_zone_kind kind;
	bool estimate;
	double dt_s, energy_j, power_w, share; /* power_w: energy_j / dt_s when absent */
	double idle_share;                     /* the idle part of energy_j (0 when absent) */
	unsigned flags;                        /* enum jst_event_flag */
	/* phase */
	char name[256];
	bool begin;
	/* metric: -1 when absent */
	int64_t step, epoch;
	unsigned nvalues;
	/* intensity: step_s in dt_s, the number of values in nvalues, data_version in name,
	 * source in model, zone in zone_code, late in late */
	/* run_end */
	int exit_code, exit_signal;
	double duration_s;
	int64_t samples; /* -1 when absent */
	const char *line;
	size_t line_len;
	bool late; /* mark: it came after its interval was sampled; intensity: after its samples */
	/* mark: the message; last, so that a parse clears only what comes before it */
	char mark[JST_MARK_MSG_MAX + 1];
};

/* Parses one event. Returns 0, -EINVAL (err says which field and why) or -EPROTONOSUPPORT
 * (a `v` other than 1). Trailing spaces and '\r' are allowed; nothing else after the object. */
JST_API int jst_event_parse(const char *p, size_t n, struct jst_event *ev, char *err, size_t errlen);

/* "run_start", "sample", …; NULL for an unknown value. */
JST_API const char *jst_event_type_name(enum jst_event_type t);

struct jst_event_batch {
	struct jst_event *ev;
	size_t n, cap;
};

/* Parses NDJSON (blank lines skipped). At most max_events events (0: no limit). All or
 * nothing: on error b->n is 0, *bad_line is the 1-based line number and err the reason;
 * -E2BIG when there are more events than max_events. Events borrow their text from p. */
JST_API int jst_event_batch_parse(const char *p, size_t n, size_t max_events, struct jst_event_batch *b,
                                  size_t *bad_line, char *err, size_t errlen);
JST_API void jst_event_batch_release(struct jst_event_batch *b);

/* Encoders, each writing one NDJSON line without the newline into out (size n); they return
 * the length, or -ENOSPC when it did not fit. ids are deterministic: RUNID-b for run_start,
 * RUNID-s-SEQ-ZONE for a sample (SEQ: the zone's sample number from 0), RUNID-e for
 * run_end, so a resent event is recognised. model may be NULL. */
JST_API int jst_event_encode_run_start(const struct jst_run *run, const char *model, int argc,
                                       char *const *argv, char *out, size_t n);
JST_API int jst_event_encode_sample(const struct jst_run *run, const struct jst_sample *s,
                                    uint64_t seq, char *out, size_t n);
JST_API int jst_event_encode_run_end(const struct jst_run *run, char *out, size_t n);
/* A heartbeat of an agent (id AGENTID-h-SEQ); interval_s: the period it promises (0: not said),
 * from which the server tells a silent host. */
JST_API int jst_event_encode_heartbeat(const char *agent_id, uint64_t seq, const char *host,
                                       double uptime_s, double interval_s, char *out, size_t n);
/* A phase edge (id RUNID-p-SEQ, SEQ counting the run's phase events from 0): path is the full
 * phase path ("train/forward"), ts_ns UTC. */
JST_API int jst_event_encode_phase(const struct jst_run *run, const char *path, bool begin, uint64_t ts_ns,
                                   uint64_t seq, char *out, size_t n);
/* Any training mark as its message (id RUNID-k-SEQ), at ts_ns UTC on the run's clock: the
 * input the training record (phases, epochs, steps, metrics) is rebuilt from. ts_ns is when
 * the record took it: a mark that arrived after the interval it belongs to was sampled (late)
 * counts from that sample on, and says so. */
JST_API int jst_event_encode_mark(const struct jst_run *run, const struct jst_mark *mk, uint64_t ts_ns,
                                  bool late, uint64_t seq, char *out, size_t n);
/* A metric mark's values (id RUNID-m-SEQ); step and epoch -1 when none. Values that JSON
 * cannot carry (NaN, infinities) are left out; -EINVAL when none is left. */
JST_API int jst_event_encode_metric(const struct jst_run *run, const struct jst_mark *mk, int64_t step,
                                    int64_t epoch, uint64_t ts_ns, uint64_t seq, char *out, size_t n);
/* The values of series s that hold from point i on, as one intensity event (id RUNID-i-SEQ):
 * the points i, i+1, … before end that follow each other at one step, at most
 * JST_INTENSITY_VALUES_MAX of them. *next gets the index of the first point not sent. late:
 * the values come after samples they cover (a live source, fetched at the end), which the
 * aggregates of `serve` have already counted: only the run's view uses them. */
JST_API int jst_event_encode_intensity(const struct jst_run *run, const struct jst_series *s,
				       size_t i, size_t end, bool late, uint64_t seq, size_t *next,
				       char *out, size_t n);
/* Any parsed event back to a line (tests, the Kafka source later): only the v1 fields kept
 * in struct jst_event; -EINVAL for an intensity event, whose values it does not keep. */
JST_API int jst_event_encode(const struct jst_event *ev, char *out, size_t n);

#endif
