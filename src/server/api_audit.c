/* The audit log as `serve` writes and serves it (docs/audit.md): one row per ingest batch
 * (accepted or rejected), per run deletion and per read of the log, each naming the token (id,
 * role, user: never its secret or hash) and the client's address; GET /api/v1/audit for
 * admins, newest first, paged by row id; DELETE /api/v1/runs/{id} for admins. Refusals before
 * a body is read (bad token, wrong role, too large, overloaded) go through one limiter: at most
 * JST_AUDIT_DENIED_PER_MIN rows a minute, the rest counted into one "audit.suppressed" row, so
 * a flood of bad tokens cannot grow the log without bound. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/audit.h"
#include "joulestream/ingest.h"
#include "server/params.h"
#include "server/server.h"

#define WINDOW_NS 60000000000ull

static void who_to(struct jst_audit_entry *e, const struct jst_token_info *who)
{
	if (!who) {
		jst__strlcpy(e->actor, "anonymous", sizeof(e->actor));
		return;
	}
	snprintf(e->actor, sizeof(e->actor), "token:%lld", (long long)who->id);
	jst__strlcpy(e->role, jst_role_name(who->role), sizeof(e->role));
	jst__strlcpy(e->user, who->user, sizeof(e->user));
}

/* Writes the row on the writer connection; a failure is said on stderr, never to the client
 * (the request itself was handled). Caller holds write_mu. */
static void add_locked(struct jst_server *s, struct jst_audit_entry *e)
{
	if (jst_store_audit_add(s->writer, e) < 0)
		fprintf(stderr, "joulestream serve: could not write the audit log (%s): %s %s %s\n",
			jst_store_errmsg(s->writer), e->actor, e->action, e->outcome);
}

void jst__audit_http(struct jst_server *s, const struct jst_httpd_req *req,
		     const struct jst_token_info *who, const char *action, const char *object,
		     const char *detail, const char *outcome, bool locked)
{
	struct jst_audit_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	who_to(e, who);
	jst__strlcpy(e->action, action, sizeof(e->action));
	jst__strlcpy(e->object, object ? object : "", sizeof(e->object));
	jst__strlcpy(e->detail, detail ? detail : "{}", sizeof(e->detail));
	jst__strlcpy(e->outcome, outcome, sizeof(e->outcome));
	jst__httpd_client(req, e->client, sizeof(e->client));
	if (!locked)
		pthread_mutex_lock(&s->write_mu);
	add_locked(s, e);
	if (!locked)
		pthread_mutex_unlock(&s->write_mu);
	free(e);
}

/* The suppressed count of the window that ended, as one row. Caller holds audit_mu. */
static void flush_suppressed(struct jst_server *s)
{
	if (!s->deny_dropped)
		return;
	char detail[128];
	snprintf(detail, sizeof(detail),
		 "{\"suppressed\":%llu,\"window_s\":60,\"limit_per_window\":%d}",
		 (unsigned long long)s->deny_dropped, JST_AUDIT_DENIED_PER_MIN);
	struct jst_httpd_req none = {0};
	s->deny_dropped = 0;
	jst__audit_http(s, &none, NULL, "audit.suppressed",
			"refused requests not logged one by one", detail, "denied", false);
}

void jst__audit_refused(struct jst_server *s, const struct jst_httpd_req *req,
			const struct jst_token_info *who, const char *action, int status,
			const char *why)
{
	uint64_t now = jst__mono_ns();
	pthread_mutex_lock(&s->audit_mu);
	if (!s->deny_win_ns || now - s->deny_win_ns >= WINDOW_NS) {
		flush_suppressed(s);
		s->deny_win_ns = now;
		s->deny_n = 0;
	}
	bool log = s->deny_n < JST_AUDIT_DENIED_PER_MIN;
	if (log)
		s->deny_n++;
	else
		s->deny_dropped++;
	pthread_mutex_unlock(&s->audit_mu);
	if (!log)
		return;
	struct jst_jbuf b;
	char detail[512];
	jst__jbuf_fixed(&b, detail, sizeof(detail));
	jst__jbuf_printf(&b, "{\"status\":%d,\"method\":", status);
	jst__jbuf_jstr(&b, req->method ? req->method : "");
	jst__jbuf_str(&b, ",\"path\":");
	jst__jbuf_jstr(&b, req->path ? req->path : "");
	jst__jbuf_str(&b, ",\"reason\":");
	jst__jbuf_jstr(&b, why);
	jst__jbuf_str(&b, "}");
	jst__audit_http(s, req, who, action, req->path, b.full ? "{}" : detail,
			status == 401 || status == 403 ? "denied" : "error", false);
}

void jst__audit_stop(struct jst_server *s)
{
	pthread_mutex_lock(&s->audit_mu);
	flush_suppressed(s);
	pthread_mutex_unlock(&s->audit_mu);
}

/* ---- GET /api/v1/audit ------------------------------------------------------------------- */

struct page {
	struct jst_jbuf *b;
	size_t n, limit;
	int64_t last;
};

static void field(struct jst_jbuf *b, const char *key, const char *v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jstr(b, v);
}

static int each_row(const struct jst_audit_entry *e, void *ud)
{
	struct page *p = ud;
	if (p->n == p->limit)
		return 1; /* the extra row: there is a next page */
	struct jst_jbuf *b = p->b;
	char iso[40];
	jst__format_iso8601((int64_t)e->ts_ns, iso, sizeof(iso));
	jst__jbuf_str(b, p->n++ ? ",{" : "{");
	jst__jbuf_printf(b, "\"id\":%lld", (long long)e->id);
	field(b, "time", iso);
	jst__jbuf_printf(b, ",\"ts_ns\":%llu", (unsigned long long)e->ts_ns);
	field(b, "actor", e->actor);
	field(b, "role", e->role);
	field(b, "user", e->user);
	field(b, "action", e->action);
	field(b, "object", e->object);
	size_t dn = strlen(e->detail);
	jst__jbuf_key(b, "detail");
	if (dn >= 2 && e->detail[0] == '{' && e->detail[dn - 1] == '}')
		jst__jbuf_put(b, e->detail, dn); /* written by joulestream as a JSON object */
	else
		jst__jbuf_jstr(b, e->detail);
	field(b, "outcome", e->outcome);
	field(b, "client", e->client);
	field(b, "prev_hash", e->prev_hash);
	field(b, "hash", e->hash);
	jst__jbuf_put(b, "}", 1);
	p->last = e->id;
	return 0;
}

static const char *arg(const void *req, const char *key)
{
	return jst__httpd_arg(req, key);
}

void jst__api_audit(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const struct jst_req_state *st = req->state;
	if (st->who.role != JST_ROLE_ADMIN) {
		jst__httpd_error(resp, 403, 0, "the audit log is for admin tokens only");
		jst__audit_refused(s, req, &st->who, "audit.read", 403, "not an admin token");
		return;
	}
	struct jst_audit_query q;
	char err[400] = "";
	if (jst__params_audit(arg, req, &q, err, sizeof(err)) < 0) {
		jst__httpd_error(resp, 400, 0, "%s", err);
		return;
	}
	q.limit++; /* one more, to know whether a next page exists */
	struct page p = {&resp->body, 0, q.limit - 1, 0};
	jst__jbuf_str(&resp->body, "{\"entries\":[");
	pthread_mutex_lock(&s->read_mu);
	int r = jst_store_audit_list(s->reader, &q, each_row, &p);
	if (r < 0)
		jst__strlcpy(err, jst_store_errmsg(s->reader), sizeof(err));
	pthread_mutex_unlock(&s->read_mu);
	if (r < 0) {
		jst__httpd_error(resp, r == -ENOTSUP ? 501 : 503, 0,
				 "the store could not read the audit log (%s)", err);
		return;
	}
	jst__jbuf_str(&resp->body, "],\"next\":");
	if ((size_t)r > p.limit)
		jst__jbuf_printf(&resp->body, "\"a%lld\"", (long long)p.last);
	else
		jst__jbuf_str(&resp->body, "null");
	jst__jbuf_str(&resp->body, "}\n");
	resp->status = 200;
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"rows\":%zu}", p.n);
	jst__audit_http(s, req, &st->who, "audit.read", "audit log", detail, "ok", false);
}

/* ---- DELETE /api/v1/runs/{id} -------------------------------------------------------------- */

void jst__api_delete_run(struct jst_server *s, struct jst_httpd_req *req,
			 struct jst_httpd_resp *resp, const char *id)
{
	const struct jst_req_state *st = req->state;
	uint64_t events = 0;
	char err[300] = "", detail[400];
	if (!*id || strlen(id) > JST_EVENT_ID_MAX || strchr(id, '/')) {
		jst__httpd_error(resp, 404, 0, "no such path: DELETE /api/v1/runs/{id}");
		return;
	}
	pthread_mutex_lock(&s->write_mu);
	int r = jst_store_run_delete(s->writer, id, jst__wall_ns(), &events);
	if (r < 0)
		jst__strlcpy(err, jst_store_errmsg(s->writer), sizeof(err));
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, detail, sizeof(detail));
	if (r == 0) {
		jst__jbuf_printf(&b, "{\"events_replayed\":%llu,\"raw_events_kept\":true}",
				 (unsigned long long)events);
	} else {
		jst__jbuf_printf(&b, "{\"status\":%d,\"error\":", r == -ENOENT ? 404 : 503);
		jst__jbuf_jstr(&b, err);
		jst__jbuf_str(&b, "}");
	}
	jst__audit_http(s, req, &st->who, "run.delete", id, b.full ? "{}" : detail,
			r == 0 ? "ok" : "error", true);
	pthread_mutex_unlock(&s->write_mu);
	if (r == -ENOENT) {
		jst__httpd_error(resp, 404, 0, "no run '%.64s' (or it was deleted already)", id);
	} else if (r < 0) {
		jst__httpd_error(resp, r == -ENOTSUP ? 501 : 503, 0,
				 "the run was not deleted (%s): retry later", err);
		if (r != -ENOTSUP)
			resp->retry_after_s = 1;
	} else {
		resp->status = 200;
		jst__jbuf_str(&resp->body, "{\"deleted\":");
		jst__jbuf_jstr(&resp->body, id);
		jst__jbuf_printf(&resp->body,
				 ",\"events_replayed\":%llu,\"raw_events_kept\":true}\n",
				 (unsigned long long)events);
	}
}

/* ---- POST /api/v1/events ------------------------------------------------------------------- */

static bool seen(const struct jst_event_batch *b, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(b->ev[k].run, b->ev[i].run) == 0)
			return true;
	return false;
}

/* One row per batch: counts and the first runs it touched, never the events themselves. */
static void fill_ingest(struct jst_audit_entry *e, const struct jst_httpd_req *req,
			const struct jst_event_batch *b, const struct jst_ingest_result *res,
			int status, const char *err)
{
	const struct jst_req_state *st = req->state;
	struct jst_jbuf d, o;
	who_to(e, &st->who);
	jst__strlcpy(e->action, "events.ingest", sizeof(e->action));
	/* 403: a token speaking for a host or user it is not bound to (serve.c, unbound) */
	jst__strlcpy(e->outcome, status == 200 ? "ok" : status == 403 ? "denied" : "error", sizeof(e->outcome));
	jst__httpd_client(req, e->client, sizeof(e->client));
	jst__jbuf_fixed(&d, e->detail, sizeof(e->detail));
	jst__jbuf_fixed(&o, e->object, sizeof(e->object));
	jst__jbuf_printf(&d, "{\"status\":%d,\"bytes\":%zu", status, req->body_len);
	size_t n = b ? b->n : 0, runs = 0;
	jst__jbuf_printf(&o, "batch of %zu event%s", n, n == 1 ? "" : "s");
	if (b && res) {
		jst__jbuf_printf(&d,
				 ",\"events\":%zu,\"accepted\":%zu,\"duplicates\":%zu,\"runs\":[",
				 n, res->accepted, res->duplicates);
		for (size_t i = 0; i < n && runs <= 8; i++) {
			if (!b->ev[i].run[0] || seen(b, i))
				continue;
			if (runs < 8) {
				if (runs)
					jst__jbuf_put(&d, ",", 1);
				jst__jbuf_jstr(&d, b->ev[i].run);
				jst__jbuf_printf(&o, "%s%.64s", runs ? ", " : ": run ",
						 b->ev[i].run);
			}
			runs++;
		}
		jst__jbuf_str(&d, runs > 8 ? "],\"more_runs\":true" : "]");
		if (runs > 8)
			jst__jbuf_str(&o, ", …");
	}
	if (err && *err) {
		jst__jbuf_str(&d, ",\"error\":");
		jst__jbuf_jstr(&d, err);
	}
	jst__jbuf_str(&d, "}");
	if (d.full)
		jst__strlcpy(e->detail, "{}", sizeof(e->detail));
	if (o.full)
		jst__strlcpy(e->object, "batch", sizeof(e->object));
}

bool jst__audit_ingest_hook(void *req, const struct jst_event_batch *b,
			    const struct jst_ingest_result *res, struct jst_audit_entry *e)
{
	fill_ingest(e, req, b, res, 200, NULL);
	return true;
}

void jst__audit_ingest(struct jst_server *s, const struct jst_httpd_req *req,
		       const struct jst_event_batch *b, int status, const char *err, bool locked)
{
	struct jst_audit_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return;
	fill_ingest(e, req, b, NULL, status, err);
	if (!locked)
		pthread_mutex_lock(&s->write_mu);
	add_locked(s, e);
	if (!locked)
		pthread_mutex_unlock(&s->write_mu);
	free(e);
}
