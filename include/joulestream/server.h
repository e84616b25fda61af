/* `joulestream serve` as a library: the ingest endpoint (POST /api/v1/events, NDJSON batches,
 * token auth, limits, all-or-nothing batches committed before they are acknowledged) and the
 * query API (GET /api/v1/runs, /runs/{id}, /runs/{id}/timeline, /aggregates), docs/api.md. */
#ifndef JOULESTREAM_SERVER_H
#define JOULESTREAM_SERVER_H

#include <stddef.h>

#include "joulestream/common.h"

struct jst_config;

struct jst_server_opts {
	const char *listen;      /* "127.0.0.1:8080"; port 0: a free port */
	const char *db;          /* the store (a SQLite path) */
	size_t body_max;         /* bytes per request body (0: 8 MiB) */
	size_t batch_max;        /* events per batch (0: 10000) */
	unsigned threads;        /* HTTP worker threads (0: 2) */
	unsigned ingest_queue;   /* ingest requests waiting for the store before 429 (0: 16) */
	double stall_intervals;  /* a running run is stalled after this many silent intervals (0: 5) */
	double silent_intervals; /* a host is silent after this many heartbeat periods (0: 3) */
	const char *source;      /* kafka://HOST:PORT[,…]/TOPIC: also consume events there (NULL: none) */
	const char *group;       /* its consumer group (NULL: "joulestream-serve") */
	size_t source_batch;     /* messages per store transaction (0: 1000) */
	unsigned source_linger_ms;  /* longest wait to fill a batch (0: 200) */
	unsigned source_session_ms; /* group session timeout: a dead member's partitions move after it (0: 10000) */
	const char *tls_cert;    /* HTTPS: PEM certificate file; with tls_key (NULL: plain HTTP) */
	const char *tls_key;     /* its PEM private key file */
	/* the configuration file whose [site …] sections GET /api/v1/zones lists (NULL: none); read
	 * by the server while it runs, so it must outlive jst_server_stop */
	const struct jst_config *config;
	/* slow clients (docs/api.md, "Limits"): request headers due within header_timeout_s (0:
	 * 30), a body within body_timeout_s of its headers (0: 120), deadlines that trickling
	 * cannot stretch; at most per_client_max open connections per client address (0: 64) */
	unsigned header_timeout_s, body_timeout_s, per_client_max;
};

struct jst_server;

JST_API int jst_server_start(struct jst_server **out, const struct jst_server_opts *o, char *err, size_t errlen);
JST_API unsigned jst_server_port(const struct jst_server *s);
JST_API void jst_server_stop(struct jst_server *s);

#endif
