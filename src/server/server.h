/* Internals of `serve` shared by its files: the server's state (serve.c) and the query API's
 * handlers (api.c). */
#ifndef JST_SERVER_SERVER_H
#define JST_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include "joulestream/audit.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/server.h"
#include "server/auth.h"
#include "server/httpd.h"

struct jst_server {
	struct jst_server_opts o;
	struct jst_httpd *http;
	struct jst_store *writer, *reader, *tokens; /* one connection each */
	pthread_mutex_t write_mu, read_mu;
	struct jst_auth auth;
	atomic_uint ingest_waiting;
	/* the limiter of refused requests written to the audit log (api_audit.c) */
	pthread_mutex_t audit_mu;
	uint64_t deny_win_ns, deny_dropped;
	unsigned deny_n;
	struct jst__kafka_source *source; /* serve --source kafka://… (kafka_source.c), or NULL */
};

/* Per-request state: who is asking. */
struct jst_req_state {
	struct jst_token_info who;
	bool ingest; /* counted in ingest_waiting */
};

/* GET /api/v1/... (api.c). */
void jst__api_get(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
/* GET /api/v1/runs/{id}/events and /api/v1/zones (api_dash.c). */
void jst__api_events(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp, const char *id);
void jst__api_zones(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
/* The Kafka source (kafka_source.c): a consumer-group member in its own thread that stores what
 * it reads through the ingest path, with the partitions' offsets in the same transaction. */
struct jst__kafka_source;
int jst__kafka_source_start(struct jst__kafka_source **out, struct jst_server *s, char *err, size_t errlen);
void jst__kafka_source_stop(struct jst__kafka_source *ks);
/* The audit log (api_audit.c). who NULL: anonymous; locked: the caller holds write_mu. */
#define JST_AUDIT_DENIED_PER_MIN 60 /* refused requests logged one by one per minute, per server */
void jst__audit_http(struct jst_server *s, const struct jst_httpd_req *req, const struct jst_token_info *who,
                     const char *action, const char *object, const char *detail, const char *outcome,
                     bool locked);
/* A request refused before its body was read (401, 403, 413, 429), through the limiter. */
void jst__audit_refused(struct jst_server *s, const struct jst_httpd_req *req, const struct jst_token_info *who,
                        const char *action, int status, const char *why);
/* The row of an accepted batch, written in the batch's transaction: the ingest hook of the
 * writer (jst_store_set_ingest_audit) while an HTTP batch is stored; ud is the request. */
bool jst__audit_ingest_hook(void *req, const struct jst_event_batch *b,
			    const struct jst_ingest_result *res, struct jst_audit_entry *e);
/* The row of a refused batch (400, 413, 422, 503): b NULL when it did not parse. */
void jst__audit_ingest(struct jst_server *s, const struct jst_httpd_req *req,
		       const struct jst_event_batch *b, int status, const char *err, bool locked);
/* Writes the count of refusals the limiter held back (at stop). */
void jst__audit_stop(struct jst_server *s);
/* GET /api/v1/audit (admins) and DELETE /api/v1/runs/{id} (admins). */
void jst__api_audit(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
void jst__api_delete_run(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp,
                         const char *id);
/* GET /api/v1/sources, admins: the sources' stored offsets and refused messages (api_sources.c). */
void jst__api_sources(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
/* Silent hosts (api_hosts.c): each host's newest heartbeat, loaded under read_mu (at most
 * JST_HOSTS_LOADED_MAX); a host is silent after `silent_intervals` of its heartbeat period. */
#define JST_HOSTS_LOADED_MAX 10000
struct jst__hosts {
	struct jst_host_summary *h;
	size_t n, cap;
};
int jst__hosts_load(struct jst_server *s, struct jst__hosts *hs);
void jst__hosts_release(struct jst__hosts *hs);
bool jst__host_silent(const struct jst_host_summary *h, uint64_t now_ns, double intervals);
/* false for a host that never sent a heartbeat */
bool jst__hosts_silent(const struct jst__hosts *hs, const char *host, uint64_t now_ns, double intervals);
/* GET /api/v1/hosts (admins and readers of every user) */
void jst__api_hosts(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
/* The embedded dashboard: true when path is one of its files (dashboard.c). */
bool jst__dashboard_get(const char *path, struct jst_httpd_resp *resp);

#endif
