/* Silent hosts (GET /api/v1/hosts, and the "silent_host" health flag of runs): a host whose
 * agent's heartbeats stopped for more than silent_intervals of its announced period (60 s when
 * it said none) is "silent", which tells a dead node from an idle one. Computed at read time
 * from each host's newest heartbeat, which the ingest keeps (agg.c, ev_hosts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/ingest.h"
#include "server/server.h"

#define DEFAULT_HEARTBEAT_S 60.0 /* the agent's period (schema: "every minute") */

static int keep_host(const struct jst_host_summary *h, void *ud)
{
	struct jst__hosts *hs = ud;
	if (hs->n == JST_HOSTS_LOADED_MAX)
		return 1; /* the rest is left out: their runs are not flagged */
	if (hs->n == hs->cap) {
		size_t c = hs->cap ? hs->cap * 2 : 16;
		void *p = realloc(hs->h, c * sizeof(*hs->h));
		if (!p)
			return -ENOMEM;
		hs->h = p;
		hs->cap = c;
	}
	hs->h[hs->n++] = *h;
	return 0;
}

int jst__hosts_load(struct jst_server *s, struct jst__hosts *hs)
{
	memset(hs, 0, sizeof(*hs));
	int r = jst_store_hosts(s->reader, keep_host, hs);
	return r == -ENOTSUP ? 0 : r < 0 ? r : 0;
}

void jst__hosts_release(struct jst__hosts *hs)
{
	free(hs->h);
	memset(hs, 0, sizeof(*hs));
}

bool jst__host_silent(const struct jst_host_summary *h, uint64_t now_ns, double intervals)
{
	double period = h->interval_s > 0 ? h->interval_s : DEFAULT_HEARTBEAT_S;
	return now_ns > h->last_ns && (double)(now_ns - h->last_ns) / 1e9 > intervals * period;
}

bool jst__hosts_silent(const struct jst__hosts *hs, const char *host, uint64_t now_ns,
                       double intervals)
{
	for (size_t i = 0; hs && i < hs->n; i++)
		if (strcmp(hs->h[i].host, host) == 0)
			return jst__host_silent(&hs->h[i], now_ns, intervals);
	return false; /* a host without an agent: no heartbeat was promised */
}

static void host_json(struct jst_jbuf *b, const struct jst_host_summary *h, uint64_t now, double k,
                      bool first)
{
	char iso[40];
	jst__jbuf_str(b, first ? "{\"host\":" : ",{\"host\":");
	jst__jbuf_jstr(b, h->host);
	jst__jbuf_str(b, ",\"agent\":");
	jst__jbuf_jstr(b, h->agent);
	jst__format_iso8601((int64_t)h->last_ns, iso, sizeof(iso));
	jst__jbuf_str(b, ",\"last_heartbeat\":");
	jst__jbuf_jstr(b, iso);
	jst__jbuf_printf(b, ",\"last_heartbeat_ns\":%llu,\"interval_s\":",
	                 (unsigned long long)h->last_ns);
	jst__jbuf_jnum(b, h->interval_s > 0 ? h->interval_s : DEFAULT_HEARTBEAT_S);
	jst__jbuf_str(b, ",\"silent_for_s\":");
	jst__jbuf_jnum(b, now > h->last_ns ? (double)(now - h->last_ns) / 1e9 : 0);
	jst__jbuf_printf(b, ",\"silent\":%s}", jst__host_silent(h, now, k) ? "true" : "false");
}

void jst__api_hosts(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const struct jst_req_state *st = req->state;
	if (st->who.role == JST_ROLE_READER && !st->who.all_users) {
		jst__httpd_error(resp, 403, 0, "the hosts list shows every user's machines: use a "
		                 "reader token made with `token create --all-users`, or an admin token");
		return;
	}
	struct jst__hosts hs;
	pthread_mutex_lock(&s->read_mu);
	int r = jst__hosts_load(s, &hs);
	pthread_mutex_unlock(&s->read_mu);
	if (r < 0) {
		jst__hosts_release(&hs);
		jst__httpd_error(resp, 503, 0, "the store could not answer: retry later");
		return;
	}
	uint64_t now = jst__wall_ns();
	jst__jbuf_str(&resp->body, "{\"silent_after_intervals\":");
	jst__jbuf_jnum(&resp->body, s->o.silent_intervals);
	jst__jbuf_str(&resp->body, ",\"hosts\":[");
	for (size_t i = 0; i < hs.n; i++)
		host_json(&resp->body, &hs.h[i], now, s->o.silent_intervals, i == 0);
	jst__jbuf_printf(&resp->body, "],\"truncated\":%s}\n",
	                 hs.n == JST_HOSTS_LOADED_MAX ? "true" : "false");
	jst__hosts_release(&hs);
	resp->status = 200;
}
