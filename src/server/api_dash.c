/* The two query calls the dashboard adds to the API (docs/api.md): a run's raw events of one
 * type, paged by log sequence number so that a live page asks only for what is new
 * (GET /api/v1/runs/{id}/events), and the bundled grid zones and cloud regions with their
 * intensity, water and PUE figures, and the configured sites (GET /api/v1/zones). Same token rules as api.c: a reader
 * sees only its own user's runs, and another user's run answers 404. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/carbon.h"
#include "joulestream/ingest.h"
#include "server/params.h"
#include "server/sites_json.h"
#include "server/server.h"

struct ev_out {
	struct jst_jbuf *b;
	size_t n;
	int64_t last;
};

static int each_event(int64_t seq, const char *body, size_t len, void *ud)
{
	struct ev_out *o = ud;
	if (o->n++)
		jst__jbuf_put(o->b, ",", 1);
	jst__jbuf_put(o->b, body, len); /* validated JSON when it was ingested */
	o->last = seq;
	return 0;
}

/* The query's arguments for params.c, from libmicrohttpd. */
static const char *arg(const void *req, const char *key)
{
	return jst__httpd_arg(req, key);
}

/* GET /api/v1/runs/{id}/events?type=T&after=SEQ&limit=N */
void jst__api_events(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp,
		     const char *id)
{
	const struct jst_req_state *st = req->state;
	struct jst_events_params e;
	char why[300];
	if (jst__params_events(arg, req, &e, why, sizeof(why)) < 0) {
		jst__httpd_error(resp, 400, 0, "%s", why);
		return;
	}
	const char *type = e.type;
	uint64_t after = e.after, limit = e.limit;
	struct jst_run_summary r;
	struct ev_out o = {&resp->body, 0, (int64_t)after};
	pthread_mutex_lock(&s->read_mu);
	int rc = jst_store_get_run(s->reader, id, &r);
	bool mine = st->who.role != JST_ROLE_READER || st->who.all_users ||
		    strcmp(st->who.user, r.user) == 0;
	if (rc == 0 && !mine)
		rc = -ENOENT;
	if (rc == 0) {
		jst__jbuf_str(&resp->body, "{\"events\":[");
		rc = jst_store_run_events(s->reader, id, type, (int64_t)after, (size_t)limit,
					  each_event, &o);
	}
	pthread_mutex_unlock(&s->read_mu);
	if (rc == -ENOENT) {
		jst__httpd_error(resp, 404, 0, "no run '%.64s' (or not yours)", id);
		return;
	}
	if (rc < 0) {
		jst__httpd_error(resp, rc == -ENOTSUP ? 501 : 503, 0,
				 "the store could not list the run's events");
		return;
	}
	jst__jbuf_printf(&resp->body, "],\"last\":%lld,\"more\":%s}\n", (long long)o.last,
			 o.n == limit ? "true" : "false");
	resp->status = 200;
}

static void zone_json(struct jst_jbuf *b, const struct jst_grid_zone *z)
{
	jst__jbuf_str(b, "{\"code\":");
	jst__jbuf_jstr(b, z->code);
	jst__jbuf_str(b, ",\"name\":");
	jst__jbuf_jstr(b, z->name);
	jst__jbuf_str(b, ",\"ci_g_per_kwh\":");
	jst__jbuf_jnum(b, z->ci_g_per_kwh);
	jst__jbuf_printf(b, ",\"year\":%d,\"ci_source\":", z->year);
	jst__jbuf_jstr(b, z->ci_source ? z->ci_source : "");
	jst__jbuf_str(b, ",\"ewif_l_per_kwh\":");
	if (z->ewif_l_per_kwh >= 0)
		jst__jbuf_jnum(b, z->ewif_l_per_kwh);
	else
		jst__jbuf_str(b, "null");
	jst__jbuf_str(b, ",\"ewif_source\":");
	jst__jbuf_jstr(b, z->ewif_source ? z->ewif_source : "");
	jst__jbuf_put(b, "}", 1);
}

/* GET /api/v1/zones: every bundled grid zone and cloud region (static data) and the sites of
 * serve's configuration file; any token. */
void jst__api_zones(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	(void)req;
	struct jst_jbuf *b = &resp->body;
	jst__jbuf_str(b, "{\"zones\":[");
	for (size_t i = 0; i < jst_grid_zone_count(); i++) {
		if (i)
			jst__jbuf_put(b, ",", 1);
		zone_json(b, jst_grid_zone_at(i));
	}
	jst__jbuf_str(b, "],\"cloud\":[");
	for (size_t i = 0; i < jst_cloud_count(); i++) {
		const struct jst_cloud_region *c = jst_cloud_at(i);
		jst__jbuf_str(b, i ? ",{\"provider\":" : "{\"provider\":");
		jst__jbuf_jstr(b, c->provider);
		jst__jbuf_str(b, ",\"region\":");
		jst__jbuf_jstr(b, c->region);
		jst__jbuf_str(b, ",\"zone\":");
		jst__jbuf_jstr(b, c->zone);
		jst__jbuf_str(b, ",\"location\":");
		jst__jbuf_jstr(b, c->location ? c->location : "");
		jst__jbuf_str(b, ",\"pue\":");
		jst__jbuf_jnum(b, c->pue);
		jst__jbuf_str(b, ",\"wue_l_per_kwh\":");
		if (c->wue_l_per_kwh >= 0)
			jst__jbuf_jnum(b, c->wue_l_per_kwh);
		else
			jst__jbuf_str(b, "null");
		jst__jbuf_str(b, ",\"source\":");
		jst__jbuf_jstr(b, c->source ? c->source : "");
		jst__jbuf_put(b, "}", 1);
	}
	jst__jbuf_str(b, "]");
	jst__sites_json(b, s->o.config);
	jst__jbuf_str(b, "}\n");
	resp->status = 200;
}
