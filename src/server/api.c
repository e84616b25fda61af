/* The query API of `serve` (docs/api.md): JSON answers read from the aggregates, never from
 * the raw log. A reader token sees only its own user's runs and totals unless it was granted
 * every user's (token create --all-users); an unknown run and another user's run both answer
 * 404, so a reader cannot learn which ids exist. Health flags are computed at read time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg/metricwin.h"
#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/ingest.h"
#include "server/params.h"
#include "server/server.h"

struct out {
	struct jst_httpd_resp *resp;
	size_t n;
	uint64_t now_ns;
	double stall_intervals;
	const struct jst__hosts *hosts; /* for the silent_host flag; NULL: none loaded */
	double silent_intervals;
};

static void num(struct jst_jbuf *b, const char *key, double v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jnum(b, v);
}

static void str(struct jst_jbuf *b, const char *key, const char *v)
{
	jst__jbuf_key(b, key);
	jst__jbuf_jstr(b, v);
}

static void time_field(struct jst_jbuf *b, const char *key, uint64_t ns)
{
	char iso[40];
	jst__jbuf_key(b, key);
	if (!ns) {
		jst__jbuf_str(b, "null");
		return;
	}
	jst__format_iso8601((int64_t)ns, iso, sizeof(iso));
	jst__jbuf_jstr(b, iso);
}

static bool is_stalled(const struct jst_run_summary *r, uint64_t now, double stall)
{
	double silent = r->last_ns && now > r->last_ns ? (double)(now - r->last_ns) / 1e9 : 0;
	double iv = r->interval_s > 1 ? r->interval_s : 1;
	return strcmp(r->status, "running") == 0 && silent > stall * iv;
}

static void health(struct jst_jbuf *b, const struct jst_run_summary *r, bool stalled,
                   bool silent_host)
{
	const char *f[5];
	int k = 0;
	if (stalled)
		f[k++] = "stalled";
	if (silent_host)
		f[k++] = "silent_host";
	if (r->gaps || r->failed)
		f[k++] = "sensor_gap";
	if (r->samples == 0 && (strcmp(r->status, "finished") == 0 || stalled))
		f[k++] = "no_samples";
	if (!r->has_start)
		f[k++] = "no_run_start";
	jst__jbuf_str(b, ",\"health\":[");
	for (int i = 0; i < k; i++) {
		if (i)
			jst__jbuf_put(b, ",", 1);
		jst__jbuf_jstr(b, f[i]);
	}
	jst__jbuf_put(b, "]", 1);
}

static void run_json(struct jst_jbuf *b, const struct jst_run_summary *r, const struct out *o)
{
	bool stalled = is_stalled(r, o->now_ns, o->stall_intervals);
	/* a running run on a host whose agent went quiet: its own events may still arrive late */
	bool silent = strcmp(r->status, "running") == 0 &&
	              jst__hosts_silent(o->hosts, r->host, o->now_ns, o->silent_intervals);
	jst__jbuf_put(b, "{", 1);
	str(b, "id", r->run);
	str(b, "status", stalled || silent ? "stalled" : r->status);
	health(b, r, stalled, silent);
	const char *k[] = {"host", "user", "model", "project", "zone"};
	const char *v[] = {r->host, r->user, r->model, r->project, r->zone};
	for (int i = 0; i < 5; i++)
		str(b, k[i], v[i]);
	str(b, "series", r->host_series ? "host" : "run");
	time_field(b, "start", r->start_ns);
	time_field(b, "end", r->end_ns);
	time_field(b, "last_event", r->last_ns);
	jst__jbuf_printf(b, ",\"start_ns\":%llu", (unsigned long long)r->start_ns);
	num(b, "duration_s", r->duration_s);
	num(b, "interval_s", r->interval_s);
	if (strcmp(r->status, "finished") == 0)
		jst__jbuf_printf(b, ",\"exit\":%d", r->exit_code);
	jst__jbuf_printf(b, ",\"samples\":%lld,\"gaps\":%lld,\"failed\":%lld", (long long)r->samples,
	                 (long long)r->gaps, (long long)r->failed);
	num(b, "energy_j", r->energy_j);
	num(b, "host_energy_j", r->host_energy_j);
	num(b, "co2e_g", r->co2e_g);
	num(b, "water_l", r->water_l);
	num(b, "pue", r->pue);
	num(b, "ci_g_per_kwh", r->ci_g_per_kwh);
	jst__jbuf_put(b, "}", 1);
}

static int each_run(const struct jst_run_summary *r, void *ud)
{
	struct out *o = ud;
	if (o->n++)
		jst__jbuf_put(&o->resp->body, ",", 1);
	run_json(&o->resp->body, r, o);
	return 0;
}

/* The query's arguments for params.c, from libmicrohttpd. */
static const char *arg(const void *req, const char *key)
{
	return jst__httpd_arg(req, key);
}

static const char *only_user(const struct jst_token_info *who)
{
	return who->role == JST_ROLE_READER && !who->all_users ? who->user : NULL;
}

static void list_runs(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const struct jst_req_state *st = req->state;
	struct jst_run_query q = {
		.only_user = only_user(&st->who), .now_ns = jst__wall_ns(), .stall_intervals = s->o.stall_intervals,
	};
	char why[300];
	if (jst__params_runs(arg, req, &q, why, sizeof(why)) < 0) {
		jst__httpd_error(resp, 400, 0, "%s", why);
		return;
	}
	struct jst__hosts hs;
	struct out o = {resp, 0, q.now_ns, s->o.stall_intervals, &hs, s->o.silent_intervals};
	char next[128];
	jst__jbuf_str(&resp->body, "{\"runs\":[");
	pthread_mutex_lock(&s->read_mu);
	int r = jst__hosts_load(s, &hs);
	if (r == 0)
		r = jst_store_query_runs(s->reader, &q, each_run, &o, next, sizeof(next));
	char err[300];
	jst__strlcpy(err, jst_store_errmsg(s->reader), sizeof(err));
	pthread_mutex_unlock(&s->read_mu);
	jst__hosts_release(&hs);
	if (r < 0) {
		jst__httpd_error(resp, r == -EINVAL ? 400 : 503, 0, "%s", err);
		return;
	}
	jst__jbuf_str(&resp->body, "],\"next\":");
	if (next[0])
		jst__jbuf_jstr(&resp->body, next);
	else
		jst__jbuf_str(&resp->body, "null");
	jst__jbuf_str(&resp->body, "}\n");
	resp->status = 200;
}

static int each_zone(const struct jst_zone_summary *z, void *ud)
{
	struct out *o = ud;
	struct jst_jbuf *b = &o->resp->body;
	jst__jbuf_str(b, o->n++ ? ",{" : "{");
	str(b, "zone", z->zone);
	str(b, "kind", z->kind);
	str(b, "source", z->source);
	jst__jbuf_printf(b, ",\"samples\":%lld,\"gaps\":%lld", (long long)z->samples, (long long)z->gaps);
	num(b, "energy_j", z->energy_j);
	num(b, "host_energy_j", z->host_energy_j);
	jst__jbuf_put(b, "}", 1);
	return 0;
}

static int each_window(const struct jst_window *w, void *ud)
{
	struct out *o = ud;
	struct jst_jbuf *b = &o->resp->body;
	jst__jbuf_str(b, o->n++ ? ",{" : "{");
	time_field(b, "start", w->win_ns);
	str(b, "zone", w->zone);
	jst__jbuf_printf(b, ",\"samples\":%lld", (long long)w->samples);
	const char *k[] = {"energy_j", "host_energy_j", "co2e_g", "water_l", "avg_w", "max_w", "p50_w", "p90_w", "p99_w"};
	double v[] = {w->energy_j, w->host_energy_j, w->co2e_g, w->water_l, w->avg_w, w->max_w, w->p50_w, w->p90_w, w->p99_w};
	for (int i = 0; i < 9; i++)
		num(b, k[i], v[i]);
	jst__jbuf_put(b, "}", 1);
	return 0;
}

struct phases_out {
	struct jst_jbuf *b;
	const char *run;
	size_t n;
};

/* Phase totals are keyed RUNID/PATH; "(none)" is the energy outside any phase. The store hands
 * over the run's own keys only; the prefix is checked again all the same. */
static int each_phase(const struct jst_aggregate *a, void *ud)
{
	struct phases_out *o = ud;
	size_t rl = strlen(o->run);
	if (strncmp(a->key, o->run, rl) != 0 || a->key[rl] != '/')
		return 0;
	jst__jbuf_str(o->b, o->n++ ? ",{" : "{");
	str(o->b, "name", a->key + rl + 1);
	jst__jbuf_printf(o->b, ",\"samples\":%lld", (long long)a->samples);
	num(o->b, "energy_j", a->energy_j);
	num(o->b, "co2e_g", a->co2e_g);
	num(o->b, "water_l", a->water_l);
	jst__jbuf_put(o->b, "}", 1);
	return 0;
}

struct metric_acc {
	struct jst_metric_wins m;
	int64_t last; /* log sequence number of the last event read */
};

static int each_metric_event(int64_t seq, const char *body, size_t len, void *ud)
{
	struct metric_acc *acc = ud;
	acc->last = seq;
	jst__metric_wins_add(&acc->m, body, len); /* a body that is not a metric is skipped */
	return 0;
}

/* The run's training metrics per window, from its metric events (a backend without the raw
 * log answers an empty list); the store reads them through an index of the run's events by
 * type, so a run without metrics costs one index probe, not a walk of its samples. */
static void metrics_json(struct jst_server *s, const char *id, struct jst_jbuf *b)
{
	struct metric_acc acc = {{0}, 0};
	for (int64_t after = -1; after != acc.last;) {
		after = acc.last;
		if (jst_store_run_events(s->reader, id, "metric", after, 1000, each_metric_event,
		                         &acc) < 0)
			break;
	}
	jst__metric_wins_sort(&acc.m);
	jst__jbuf_str(b, "],\"metrics\":[");
	for (size_t i = 0; i < acc.m.n; i++) {
		const struct jst_metric_cell *c = &acc.m.cell[i];
		jst__jbuf_str(b, i ? ",{" : "{");
		time_field(b, "start", c->win);
		jst__jbuf_printf(b, ",\"start_ns\":%llu", (unsigned long long)c->win);
		str(b, "name", c->name);
		jst__jbuf_printf(b, ",\"count\":%lld", (long long)c->count);
		num(b, "last", c->last);
		num(b, "avg", c->sum / (double)c->count);
		num(b, "min", c->min);
		num(b, "max", c->max);
		jst__jbuf_put(b, "}", 1);
	}
	jst__jbuf_printf(b, "],\"metrics_truncated\":%s", acc.m.truncated ? "true" : "false");
	jst__metric_wins_release(&acc.m);
}

/* /api/v1/runs/{id} and /api/v1/runs/{id}/timeline */
static void one_run(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp, const char *rest)
{
	const struct jst_req_state *st = req->state;
	char id[JST_EVENT_ID_MAX + 1];
	const char *slash = strchr(rest, '/');
	size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
	bool timeline = slash && strcmp(slash, "/timeline") == 0;
	if (n > 0 && n <= JST_EVENT_ID_MAX && slash && strcmp(slash, "/events") == 0) {
		memcpy(id, rest, n);
		id[n] = '\0';
		jst__api_events(s, req, resp, id);
		return;
	}
	if (n == 0 || n > JST_EVENT_ID_MAX || (slash && !timeline)) {
		jst__httpd_error(resp, 404, 0, "no such path: /api/v1/runs/{id} or /api/v1/runs/{id}/timeline");
		return;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	struct jst_run_summary r;
	struct jst__hosts hs;
	struct out o = {resp, 0, jst__wall_ns(), s->o.stall_intervals, &hs, s->o.silent_intervals};
	pthread_mutex_lock(&s->read_mu);
	int rc = jst__hosts_load(s, &hs);
	if (rc == 0)
		rc = jst_store_get_run(s->reader, id, &r);
	const char *ou = only_user(&st->who);
	if (rc == 0 && ou && strcmp(ou, r.user) != 0)
		rc = -ENOENT;
	if (rc == 0) {
		jst__jbuf_str(&resp->body, "{\"run\":");
		run_json(&resp->body, &r, &o);
		jst__jbuf_str(&resp->body, timeline ? ",\"window_s\":60,\"windows\":[" : ",\"zones\":[");
		rc = timeline ? jst_store_run_windows(s->reader, id, each_window, &o)
		              : jst_store_run_zones(s->reader, id, each_zone, &o);
		if (rc >= 0 && timeline) {
			metrics_json(s, id, &resp->body);
		} else if (rc >= 0) {
			struct phases_out po = {&resp->body, id, 0};
			jst__jbuf_str(&resp->body, "],\"phases\":[");
			rc = jst_store_run_phases(s->reader, id, each_phase, &po);
			jst__jbuf_put(&resp->body, "]", 1);
		}
		jst__jbuf_str(&resp->body, "}\n");
	}
	pthread_mutex_unlock(&s->read_mu);
	jst__hosts_release(&hs);
	if (rc == -ENOENT)
		jst__httpd_error(resp, 404, 0, "no run '%s' (or not yours)", id);
	else if (rc < 0)
		jst__httpd_error(resp, 503, 0, "the store could not answer: retry later");
	else
		resp->status = 200;
}

static int each_agg(const struct jst_aggregate *a, void *ud)
{
	struct out *o = ud;
	struct jst_jbuf *b = &o->resp->body;
	jst__jbuf_str(b, o->n++ ? ",{" : "{");
	str(b, "key", a->key);
	jst__jbuf_printf(b, ",\"samples\":%lld", (long long)a->samples);
	num(b, "energy_j", a->energy_j);
	num(b, "co2e_g", a->co2e_g);
	num(b, "water_l", a->water_l);
	if (a->unattributed)
		jst__jbuf_str(b, ",\"unattributed\":true");
	jst__jbuf_put(b, "}", 1);
	return 0;
}

static void aggregates(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const struct jst_req_state *st = req->state;
	struct jst_agg_params a;
	char why[300];
	if (jst__params_aggregates(arg, req, &a, why, sizeof(why)) < 0) {
		jst__httpd_error(resp, 400, 0, "%s", why);
		return;
	}
	const char *by = a.by;
	struct out o = {resp, 0, 0, 0, NULL, 0};
	jst__jbuf_str(&resp->body, "{\"by\":");
	jst__jbuf_jstr(&resp->body, by);
	jst__jbuf_str(&resp->body, ",\"groups\":[");
	pthread_mutex_lock(&s->read_mu);
	int r = jst_store_aggregates(s->reader, by, a.from_ns, a.to_ns, only_user(&st->who), each_agg, &o);
	char err[300];
	jst__strlcpy(err, jst_store_errmsg(s->reader), sizeof(err));
	pthread_mutex_unlock(&s->read_mu);
	if (r == -EINVAL) {
		jst__httpd_error(resp, 400, 0, "%s", err);
		return;
	}
	if (r < 0) {
		jst__httpd_error(resp, 503, 0, "the store could not answer: retry later");
		return;
	}
	jst__jbuf_str(&resp->body, "]}\n");
	resp->status = 200;
}

void jst__api_get(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const char *p = req->path;
	if (strcmp(p, "/api/v1/runs") == 0)
		list_runs(s, req, resp);
	else if (strncmp(p, "/api/v1/runs/", 13) == 0)
		one_run(s, req, resp, p + 13);
	else if (strcmp(p, "/api/v1/aggregates") == 0)
		aggregates(s, req, resp);
	else if (strcmp(p, "/api/v1/hosts") == 0)
		jst__api_hosts(s, req, resp);
	else if (strcmp(p, "/api/v1/zones") == 0)
		jst__api_zones(s, req, resp);
	else if (strcmp(p, "/api/v1/audit") == 0)
		jst__api_audit(s, req, resp);
	else if (strcmp(p, "/api/v1/sources") == 0)
		jst__api_sources(s, req, resp);
	else
		jst__httpd_error(resp, 404, 0, "no such path '%.100s': see docs/api.md", p);
}
