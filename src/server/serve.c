/* `joulestream serve`: the ingest endpoint and the server's life cycle. A POST is checked in
 * order — token (401/403), announced size (413), overload (429: too many ingests already
 * waiting for the store) — before its body is read; the body is then parsed whole (400 with
 * the bad line's number, nothing stored) and stored with its aggregates in one transaction,
 * committed durably before the 200 that acknowledges it. A locked or failing store is a 503
 * with Retry-After, never a silent drop. Every batch, deletion and refused write is a row of the
 * audit log (api_audit.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "server/server.h"

static bool is_ingest(const struct jst_httpd_req *r)
{
	return strcmp(r->path, "/api/v1/events") == 0;
}

/* The dashboard's files: GET of anything outside /api/ and /healthz, no token (dashboard.c). */
static bool is_static(const struct jst_httpd_req *r)
{
	return strcmp(r->method, "GET") == 0 && strncmp(r->path, "/api/", 5) != 0 && strcmp(r->path, "/healthz") != 0;
}

/* DELETE /api/v1/runs/{id}: admins only (api_audit.c). */
static bool is_delete(const struct jst_httpd_req *r)
{
	return strcmp(r->method, "DELETE") == 0 && strncmp(r->path, "/api/v1/runs/", 13) == 0;
}

/* Writes are audited, and so are their refusals; the audit log's reads are audited in api_audit.c. */
static bool audited(const struct jst_httpd_req *r)
{
	return is_ingest(r) || is_delete(r) || strcmp(r->path, "/api/v1/audit") == 0;
}

static const char *audit_action(const struct jst_httpd_req *r)
{
	return is_ingest(r) ? "events.ingest" : is_delete(r) ? "run.delete" : "audit.read";
}

/* Logs a refusal of an audited request (rate-limited) and says to answer now. */
static bool refuse(struct jst_server *s, struct jst_httpd_req *req, int status, const struct jst_token_info *who,
                   const char *why)
{
	if (audited(req))
		jst__audit_refused(s, req, who, audit_action(req), status, why);
	return true;
}

static bool precheck(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	struct jst_server *s = ud;
	if (strcmp(req->path, "/healthz") == 0 || is_static(req))
		return false;
	struct jst_req_state *st = calloc(1, sizeof(*st));
	if (!st) {
		jst__httpd_error(resp, 503, 0, "out of memory: try again later");
		resp->retry_after_s = 1;
		return true;
	}
	req->state = st;
	int ar = jst__auth_check(&s->auth, req->auth, &st->who);
	if (ar == -EAGAIN) {
		jst__httpd_error(resp, 503, 0, "the store cannot be read to check the token: retry later");
		resp->retry_after_s = 2;
		return true;
	}
	if (ar < 0) {
		jst__httpd_error(resp, 401, 0, "missing or unknown token: send Authorization: Bearer TOKEN "
		                               "(joulestream token create)");
		return refuse(s, req, 401, NULL, req->auth ? "unknown token" : "no token");
	}
	if (st->who.role == JST_ROLE_AGENT && !is_ingest(req)) { /* least privilege: a node's secret reads nothing */
		jst__httpd_error(resp, 403, 0, "an agent token can only send events (POST /api/v1/events): read with a "
		                               "reader token (joulestream token create --role reader)");
		return refuse(s, req, 403, &st->who, "an agent token cannot read");
	}
	if (is_delete(req) && st->who.role != JST_ROLE_ADMIN) {
		jst__httpd_error(resp, 403, 0, "only an admin token can delete runs");
		return refuse(s, req, 403, &st->who, "not an admin token");
	}
	if (!is_ingest(req))
		return false;
	if (strcmp(req->method, "POST") != 0) {
		jst__httpd_error(resp, 405, 0, "use POST for /api/v1/events");
		return true;
	}
	if (st->who.role == JST_ROLE_READER) {
		jst__httpd_error(resp, 403, 0, "a reader token cannot send events: use an agent token");
		return refuse(s, req, 403, &st->who, "a reader token cannot send events");
	}
	if (req->content_length > s->o.body_max) {
		jst__httpd_error(resp, 413, 0, "body of %zu bytes is larger than %zu: send smaller batches",
		                 req->content_length, s->o.body_max);
		return refuse(s, req, 413, &st->who, "announced body too large");
	}
	if (atomic_fetch_add(&s->ingest_waiting, 1) >= s->o.ingest_queue) {
		atomic_fetch_sub(&s->ingest_waiting, 1);
		jst__httpd_error(resp, 429, 0, "too many batches waiting for the store: retry later");
		resp->retry_after_s = 1;
		return refuse(s, req, 429, &st->who, "too many batches waiting for the store");
	}
	st->ingest = true;
	return false;
}

static void done(void *ud, struct jst_httpd_req *req)
{
	struct jst_server *s = ud;
	struct jst_req_state *st = req->state;
	if (st && st->ingest)
		atomic_fetch_sub(&s->ingest_waiting, 1);
	free(st);
	req->state = NULL;
}

/* Whether run is the user's: started by a run_start earlier in the batch (unbound() has
 * checked its user), or stored with that user. Runs already found are kept in ok[] (ids point
 * into the batch) so that a batch of one run's samples reads the store once. */
#define JST_OWNED_MAX 64 /* runs of one batch remembered as the user's */

static bool users_run(struct jst_server *s, const struct jst_event_batch *b, size_t upto,
                      const char *run, const char *user, const char **ok, size_t *nok)
{
	for (size_t k = 0; k < *nok; k++)
		if (strcmp(ok[k], run) == 0)
			return true;
	bool mine = false;
	for (size_t j = 0; j < upto && !mine; j++)
		mine = b->ev[j].type == JST_EV_RUN_START && strcmp(b->ev[j].run, run) == 0;
	if (!mine) {
		struct jst_run_summary r;
		pthread_mutex_lock(&s->read_mu);
		mine = jst_store_get_run(s->reader, run, &r) == 0 && strcmp(r.user, user) == 0;
		pthread_mutex_unlock(&s->read_mu);
	}
	if (mine && *nok < JST_OWNED_MAX)
		ok[(*nok)++] = run;
	return mine;
}

/* An agent token speaks only for what it is bound to (token create --host, --user): every
 * event's host among its hosts; with a user, every run_start names that user and every other
 * event of a run belongs to a run of that user (started in the batch, or stored). 0, or the
 * 1-based line of the first event it may not send, with why. */
static size_t unbound(struct jst_server *s, const struct jst_token_info *who,
                      const struct jst_httpd_req *req, const struct jst_event_batch *b, char *why, size_t n)
{
	if (who->role != JST_ROLE_AGENT || (!who->hosts[0] && !who->user[0]))
		return 0;
	const char *ok[JST_OWNED_MAX];
	size_t nok = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct jst_event *ev = &b->ev[i];
		if (who->hosts[0] && !jst__list_has(who->hosts, ev->host))
			snprintf(why, n, "this token speaks for host %.100s, not %.100s", who->hosts, ev->host);
		else if (who->user[0] && ev->type == JST_EV_RUN_START && strcmp(ev->user, who->user) != 0)
			snprintf(why, n, "this token speaks for user %.60s, not %.60s", who->user, ev->user);
		else if (who->user[0] && ev->type != JST_EV_RUN_START && ev->run[0] &&
		         !users_run(s, b, i, ev->run, who->user, ok, &nok))
			snprintf(why, n, "this token speaks for user %.60s: run %.40s is not theirs (or its run_start "
			         "was never stored)", who->user, ev->run);
		else
			continue;
		size_t line = 1;
		for (const char *p = req->body; p < ev->line; p++)
			line += *p == '\n';
		return line;
	}
	return 0;
}

static void ingest(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	struct jst_event_batch b = {0};
	size_t line = 0;
	char err[300] = "";
	int r = jst_event_batch_parse(req->body, req->body_len, s->o.batch_max, &b, &line, err, sizeof(err));
	if (r < 0) {
		int code = r == -E2BIG ? 413 : r == -ENOMEM ? 503 : r == -EPROTONOSUPPORT ? 422 : 400;
		jst__httpd_error(resp, code, line, "line %zu: %s; nothing of this batch was stored", line, err);
		if (code == 503)
			resp->retry_after_s = 1;
		jst_event_batch_release(&b);
		char why[360];
		snprintf(why, sizeof(why), "line %zu: %s", line, err);
		jst__audit_ingest(s, req, NULL, code, why, false);
		return;
	}
	const struct jst_req_state *st = req->state;
	if ((line = unbound(s, &st->who, req, &b, err, sizeof(err))) > 0) {
		jst__httpd_error(resp, 403, line, "line %zu: %s; nothing of this batch was stored", line, err);
		jst_event_batch_release(&b);
		char why[360];
		snprintf(why, sizeof(why), "line %zu: %s", line, err);
		jst__audit_ingest(s, req, NULL, 403, why, false);
		return;
	}
	struct jst_ingest_result res;
	pthread_mutex_lock(&s->write_mu);
	/* the batch's audit row is written in its transaction; a failed one gets its own row */
	jst_store_set_ingest_audit(s->writer, jst__audit_ingest_hook, req);
	r = jst_store_ingest(s->writer, &b, &res);
	jst_store_set_ingest_audit(s->writer, NULL, NULL);
	if (r < 0) {
		jst__strlcpy(err, jst_store_errmsg(s->writer), sizeof(err));
		jst__audit_ingest(s, req, &b, 503, err, true);
	}
	pthread_mutex_unlock(&s->write_mu);
	jst_event_batch_release(&b);
	if (r == -ENOTCONN) { /* lost during the batch, maybe during its COMMIT */
		jst__httpd_error(resp, 503, 0, "the connection to the store was lost during the batch (%s): it may "
		                 "or may not have been stored; a retry is safe (each event id is stored once)", err);
		resp->retry_after_s = 2;
		return;
	}
	if (r < 0) {
		jst__httpd_error(resp, 503, 0, "the store could not take the batch (%s): nothing stored, retry later", err);
		resp->retry_after_s = 1;
		return;
	}
	resp->status = 200;
	jst__jbuf_printf(&resp->body, "{\"accepted\":%zu,\"duplicates\":%zu}\n", res.accepted, res.duplicates);
}

static void handle(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	struct jst_server *s = ud;
	if (strcmp(req->path, "/healthz") == 0) { /* the store answers a cheap statement, or 503 */
		pthread_mutex_lock(&s->read_mu);
		int r = jst_store_durable(s->reader);
		char why[300];
		jst__strlcpy(why, r < 0 ? jst_store_errmsg(s->reader) : "", sizeof(why));
		pthread_mutex_unlock(&s->read_mu);
		if (r < 0) {
			resp->status = 503;
			resp->retry_after_s = 2;
			jst__jbuf_str(&resp->body, "{\"ok\":false,\"store\":\"unreachable\",\"error\":");
			jst__jbuf_jstr(&resp->body, why);
			jst__jbuf_str(&resp->body, "}\n");
		} else {
			resp->status = 200;
			jst__jbuf_str(&resp->body, "{\"ok\":true,\"store\":\"ok\"}\n");
		}
		return;
	}
	if (is_static(req)) {
		if (!jst__dashboard_get(req->path, resp))
			jst__httpd_error(resp, 404, 0, "no such page '%.100s': the dashboard is at /", req->path);
		return;
	}
	if (is_ingest(req)) {
		ingest(s, req, resp);
		return;
	}
	if (is_delete(req)) {
		jst__api_delete_run(s, req, resp, req->path + 13);
		return;
	}
	if (strcmp(req->method, "GET") != 0) {
		jst__httpd_error(resp, 405, 0, "only GET here; events go to POST /api/v1/events, deletions to "
		                 "DELETE /api/v1/runs/{id}");
		return;
	}
	jst__api_get(s, req, resp);
}

static int open_conn(struct jst_store **st, const char *db, char *err, size_t errlen)
{
	return jst_store_open(st, db, err, errlen);
}

int jst_server_start(struct jst_server **out, const struct jst_server_opts *o, char *err, size_t errlen)
{
	struct jst_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = *o;
	if (!s->o.body_max)
		s->o.body_max = 8u << 20;
	if (!s->o.batch_max)
		s->o.batch_max = 10000;
	if (!s->o.ingest_queue)
		s->o.ingest_queue = 16;
	if (s->o.stall_intervals <= 0)
		s->o.stall_intervals = 5;
	if (s->o.silent_intervals <= 0)
		s->o.silent_intervals = 3;
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->read_mu, NULL);
	pthread_mutex_init(&s->audit_mu, NULL);
	int r;
	if ((r = open_conn(&s->writer, o->db, err, errlen)) < 0 || (r = open_conn(&s->reader, o->db, err, errlen)) < 0 ||
	    (r = open_conn(&s->tokens, o->db, err, errlen)) < 0)
		goto fail;
	if ((r = jst_store_durable(s->writer)) < 0) {
		snprintf(err, errlen, "%s", jst_store_errmsg(s->writer));
		goto fail;
	}
	if ((r = jst__auth_init(&s->auth, s->tokens)) < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		goto fail;
	}
	struct jst_httpd_opts ho = {s->o.listen, s->o.body_max, s->o.threads, s, precheck, handle, done,
	                            s->o.tls_cert, s->o.tls_key, s->o.header_timeout_s, s->o.body_timeout_s,
	                            s->o.per_client_max};
	if ((r = jst__httpd_start(&s->http, &ho, err, errlen)) < 0)
		goto fail;
	if (s->o.source && (r = jst__kafka_source_start(&s->source, s, err, errlen)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	jst_server_stop(s);
	return r;
}

unsigned jst_server_port(const struct jst_server *s)
{
	return jst__httpd_port(s->http);
}

void jst_server_stop(struct jst_server *s)
{
	if (!s)
		return;
	jst__kafka_source_stop(s->source); /* stores what it polled, leaves the group */
	jst__httpd_stop(s->http);
	if (s->writer)
		jst__audit_stop(s);
	if (s->auth.store)
		jst__auth_release(&s->auth);
	jst_store_close(s->writer);
	jst_store_close(s->reader);
	jst_store_close(s->tokens);
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->read_mu);
	pthread_mutex_destroy(&s->audit_mu);
	free(s);
}
