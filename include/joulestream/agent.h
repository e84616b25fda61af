/* `joulestream agent` as a library: the host measured continuously with the same monitor and
 * sensors as `run` (scope host), the energy of CPU zones shared among workloads (containers,
 * Kubernetes pods, joulestream runs) by CPU time, Prometheus exposition at /metrics, and the
 * host's events sent to a sink. The caller ticks it (src/cli/agent.c owns the timer). */
#ifndef JOULESTREAM_AGENT_H
#define JOULESTREAM_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"
#include "joulestream/sink.h"

struct jst_agent_opts {
	struct jst_roots roots;
	const char *sensors;   /* backends, NULL = automatic */
	bool no_estimate;
	uint64_t interval_ns;
	const char *listen;    /* /metrics address, NULL: no HTTP */
	const char *sink;      /* NULL: no events */
	const char *spool;
	const char *zone;      /* grid zone of the host, for the events */
	size_t top;            /* workloads with their own label; the rest is "other" (0: 20) */
	const char *tls_cert;  /* /metrics over HTTPS: PEM certificate file, with tls_key */
	const char *tls_key;
	const char *ca;        /* https sink: PEM file of the CA(s) to trust (NULL: the system's) */
};

struct jst_agent;

JST_API int jst_agent_new(struct jst_agent **out, const struct jst_agent_opts *o, char *err, size_t errlen);
/* One interval: sensors, workloads, metrics, events. now_ns is CLOCK_MONOTONIC. */
JST_API void jst_agent_tick(struct jst_agent *a, uint64_t now_ns);
JST_API unsigned jst_agent_port(const struct jst_agent *a);
/* The exposition text as /metrics serves it (tests); the caller frees it. */
JST_API char *jst_agent_metrics(struct jst_agent *a);
/* Sends run_end, closes the sink (at most timeout_ms) and frees the agent. */
JST_API void jst_agent_free(struct jst_agent *a, unsigned timeout_ms, struct jst_sink_stats *st);

#endif
