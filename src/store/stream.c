/* The public calls of the event log (include/joulestream/ingest.h): ingest, rebuild and run
 * deletion go to the engine (ingest.c) over the backend's primitives, the rest is forwarded to
 * the backend's stream vtable; a backend without one answers -ENOTSUP with a message. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agg/agg.h"
#include "store/ingest.h"
#include "store/store.h"
#include "store/stream.h"

static const struct jst_stream_ops *ops(struct jst_store *s)
{
	if (!s->ops->stream)
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store does not keep an event log", s->ops->scheme);
	return s->ops->stream;
}

#define FORWARD(call) return ops(s) ? ops(s)->call : -ENOTSUP

int jst_store_durable(struct jst_store *s) { FORWARD(durable(s)); }
int jst_store_ingest(struct jst_store *s, const struct jst_event_batch *b, struct jst_ingest_result *res)
{
	return ops(s) ? jst__ingest(s, ops(s)->log, b, NULL, res) : -ENOTSUP;
}
int jst_store_rebuild(struct jst_store *s, uint64_t *events)
{
	return ops(s) ? jst__ingest_rebuild(s, ops(s)->log, events) : -ENOTSUP;
}
int jst_store_query_runs(struct jst_store *s, const struct jst_run_query *q,
                         int (*fn)(const struct jst_run_summary *, void *), void *ud, char *next, size_t nextlen)
{
	FORWARD(runs(s, q, fn, ud, next, nextlen));
}
int jst_store_get_run(struct jst_store *s, const char *id, struct jst_run_summary *r) { FORWARD(run(s, id, r)); }
int jst_store_run_zones(struct jst_store *s, const char *id, int (*fn)(const struct jst_zone_summary *, void *),
                        void *ud)
{
	FORWARD(zones(s, id, fn, ud));
}
int jst_store_run_windows(struct jst_store *s, const char *id, int (*fn)(const struct jst_window *, void *),
                          void *ud)
{
	FORWARD(windows(s, id, fn, ud));
}
/* The dialects write by into their SQL: only a known dimension gets there. */
int jst_store_aggregates(struct jst_store *s, const char *by, uint64_t from_ns, uint64_t to_ns, const char *only_user,
                         int (*fn)(const struct jst_aggregate *, void *), void *ud)
{
	int dim = jst__agg_dim_parse(by);
	if (ops(s) && (dim < 0 || (only_user && dim == JST_DIM_PHASE))) {
		snprintf(s->errmsg, sizeof(s->errmsg), "by must be user, model, project, host or zone%s",
		         only_user ? "" : " (or phase)");
		return -EINVAL;
	}
	FORWARD(aggregates(s, by, from_ns, to_ns, only_user, fn, ud));
}
int jst_store_run_phases(struct jst_store *s, const char *id, int (*fn)(const struct jst_aggregate *, void *),
                         void *ud)
{
	FORWARD(phases(s, id, fn, ud));
}
int jst_store_token_add(struct jst_store *s, const struct jst_token_info *t, int64_t *id)
{
	FORWARD(token_add(s, t, id));
}
int jst_store_tokens(struct jst_store *s, int (*fn)(const struct jst_token_info *, void *), void *ud)
{
	FORWARD(tokens(s, fn, ud));
}
int jst_store_token_revoke(struct jst_store *s, const char *id_or_prefix, uint64_t now_ns)
{
	FORWARD(token_revoke(s, id_or_prefix, now_ns));
}
/* An optional call of the stream vtable: its message when the backend lacks it. */
static bool has_source(struct jst_store *s)
{
	bool has = ops(s) && ops(s)->log->source_write && ops(s)->source_offsets;
	if (ops(s) && !has)
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store cannot keep a log source's offsets", s->ops->scheme);
	return has;
}

/* The tombstone and the rebuild without the run, in one transaction (ingest.c). */
int jst_store_run_delete(struct jst_store *s, const char *run, uint64_t now_ns, uint64_t *events)
{
	const struct jst_stream_ops *o = s->ops->stream;
	uint64_t n = 0;
	if (!o) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store cannot delete runs",
			 s->ops->scheme);
		return -ENOTSUP;
	}
	int r = jst__ingest_run_delete(s, o->log, run, now_ns, &n);
	if (events)
		*events = n;
	return r;
}

int jst_store_ingest_from(struct jst_store *s, const struct jst_event_batch *b, const struct jst_source_batch *src,
                          struct jst_ingest_result *res)
{
	if (!has_source(s))
		return -ENOTSUP;
	return jst__ingest(s, ops(s)->log, b, src, res);
}

int jst_store_source_offsets(struct jst_store *s, const char *group, const char *topic,
                             int (*fn)(int32_t partition, int64_t next_offset, void *ud), void *ud)
{
	if (!has_source(s))
		return -ENOTSUP;
	return ops(s)->source_offsets(s, group, topic, fn, ud);
}

int jst_store_sources(struct jst_store *s, size_t limit, int (*on_offset)(const struct jst_source_state *, void *),
                      int (*on_refusal)(const struct jst_source_refusal *, void *), void *ud, int64_t *refused)
{
	if (!has_source(s) || !ops(s)->sources)
		return -ENOTSUP;
	return ops(s)->sources(s, limit, on_offset, on_refusal, ud, refused);
}

int jst_store_hosts(struct jst_store *s, int (*fn)(const struct jst_host_summary *, void *), void *ud)
{
	if (ops(s) && !ops(s)->hosts) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store does not keep heartbeats",
		         s->ops->scheme);
		return -ENOTSUP;
	}
	FORWARD(hosts(s, fn, ud));
}

int jst_store_run_events(struct jst_store *s, const char *run, const char *type, int64_t after, size_t limit,
                         int (*fn)(int64_t seq, const char *body, size_t len, void *ud), void *ud)
{
	if (ops(s) && !ops(s)->events) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store cannot list a run's events", s->ops->scheme);
		return -ENOTSUP;
	}
	FORWARD(events(s, run, type, after, limit, fn, ud));
}

static const char *const roles[] = {"reader", "agent", "admin"};

const char *jst_role_name(enum jst_role r)
{
	return (unsigned)r < 3 ? roles[r] : "?";
}

int jst_role_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, roles[i]) == 0)
			return i;
	return -1;
}
