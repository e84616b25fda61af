/* Internals of `serve` shared by its files: the server's state (serve.c) and the query API's
 * handlers (api.c). */
#ifndef JST_SERVER_SERVER_H
#define JST_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

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
/* The embedded dashboard: true when path is one of its files (dashboard.c). */
bool jst__dashboard_get(const char *path, struct jst_httpd_resp *resp);

#endif
