/* The accounting hierarchy (docs/methodology.md, "Hosts, runs and what is unattributed") as
 * properties of generated fleets, a case of the store conformance suite (conformance.c): on
 * each dialect, fleets of hosts of known power, some with an agent (its series marked
 * "series":"host", or an older agent's run_start without it), with process-scope and
 * host-scope runs that overlap, ingested in batches of random size with run_starts held back
 * (late) and batches sent twice (duplicates). Checked in every window: by=host is each host's
 * energy once (the agent's where it has one, else its runs' as the rule counts them, from a
 * model of the fleet computed here); by user, model, project and zone add up to by=host, in
 * energy, CO2e and water; the unattributed group is what no run claims; no agent appears as a
 * job (runs list) and every agent does with series=host; a rebuild gives the same figures. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/check.h"
#include "joulestream/carbon.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"

#define FL_DT 5     /* seconds a sample covers */
#define FL_T 240    /* seconds simulated: 4 windows */
#define FL_WINS (FL_T / 60)
#define FL_SERIES 24
#define FL_HOSTS 4
#define WIN_NS 60000000000ull

int conformance_case_hierarchy(struct jst_store *s);

static uint32_t rnd(uint64_t *st)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

struct series {
	char run[40];
	int host, start, end; /* samples end at start+DT, …, end (seconds from the fleet's base) */
	bool agent, legacy, scope_host, finished;
	double share;
	const char *user, *model, *project;
};

struct fleet {
	uint64_t base; /* a window's start */
	int nhosts, n;
	double power[FL_HOSTS];
	struct series s[FL_SERIES];
};

static void gen(struct fleet *f, uint64_t seed)
{
	static const char *users[] = {"ann", "bob", "cy"}, *models[] = {"m1", "m2"}, *projects[] = {"p1", "p2"};
	uint64_t st = seed * 7919 + 1;
	memset(f, 0, sizeof(*f));
	f->base = (1700000000000000000ull / WIN_NS + 1 + seed * 60) * WIN_NS;
	f->nhosts = 2 + (int)(rnd(&st) % 3);
	for (int h = 0; h < f->nhosts; h++) {
		f->power[h] = 100 + rnd(&st) % 400;
		/* in every other fleet, host 0 has no agent and host-scope runs that overlap */
		bool crowded = seed % 2 == 0 && h == 0;
		if (rnd(&st) % 3 && !crowded) { /* an agent, from the start or from the second window */
			struct series *a = &f->s[f->n++];
			snprintf(a->run, sizeof(a->run), "F%" PRIu64 "h%dagent", seed, h);
			a->host = h;
			a->agent = true;
			a->legacy = rnd(&st) % 2;
			a->scope_host = true;
			a->share = 1;
			a->start = rnd(&st) % 2 ? 0 : 60;
			a->end = FL_T;
			a->finished = rnd(&st) % 2;
			a->user = "root";
			a->model = a->project = "";
		}
		int runs = crowded ? 3 : (int)(rnd(&st) % 4);
		double left = 0.9;
		for (int k = 0; k < runs && f->n < FL_SERIES; k++) {
			struct series *r = &f->s[f->n++];
			snprintf(r->run, sizeof(r->run), "F%" PRIu64 "h%dr%d", seed, h, k);
			r->host = h;
			r->scope_host = rnd(&st) % 3 == 0 || (crowded && k < 2);
			r->share = r->scope_host ? 1 : 0.1 * (1 + rnd(&st) % 3);
			if (!r->scope_host) { /* processes of one host share at most all of it */
				if (r->share > left)
					r->share = left;
				left -= r->share;
			}
			r->start = FL_DT * (int)(rnd(&st) % (crowded ? 20 : 40));
			r->end = r->start + FL_DT * (1 + (int)(rnd(&st) % 24));
			if (r->end > FL_T)
				r->end = FL_T;
			r->finished = rnd(&st) % 4 != 0;
			r->user = users[rnd(&st) % 3];
			r->model = models[rnd(&st) % 2];
			r->project = projects[rnd(&st) % 2];
		}
	}
}

/* The fleet's events, each line malloc'd, in time order. */
struct lines {
	char *l[2000];
	bool start[2000];
	int n;
};

static void put(struct lines *v, bool start, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(struct lines *v, bool start, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (v->n < 2000) {
		v->start[v->n] = start;
		v->l[v->n++] = strdup(buf);
	}
}

static void events(const struct fleet *f, struct lines *v)
{
	for (int t = 0; t <= FL_T; t += FL_DT)
		for (int i = 0; i < f->n; i++) {
			const struct series *x = &f->s[i];
			uint64_t ts = f->base + (uint64_t)t * 1000000000ull;
			char host[16];
			snprintf(host, sizeof(host), "node%d", x->host);
			if (t == x->start)
				put(v, true,
				    "{\"v\":1,\"id\":\"%s-b\",\"type\":\"run_start\",\"ts_ns\":%" PRIu64 ",\"run\":\"%s\","
				    "\"host\":\"%s\",\"user\":\"%s\",\"model\":\"%s\",\"project\":\"%s\",\"command\":%s,"
				    "\"interval_s\":%d,\"scope\":\"%s\"%s,\"zone\":\"%s\",\"pue\":1.5}",
				    x->run, ts, x->run, host, x->user, x->model, x->project,
				    x->agent ? "[\"joulestream\",\"agent\"]" : "[\"python\",\"train.py\"]", FL_DT,
				    x->scope_host ? "host" : "process", x->agent && !x->legacy ? ",\"series\":\"host\"" : "",
				    x->agent ? "DE" : "FR");
			if (t > x->start && t <= x->end)
				put(v, false,
				    "{\"v\":1,\"id\":\"%s-s-%d\",\"type\":\"sample\",\"ts_ns\":%" PRIu64 ",\"run\":\"%s\","
				    "\"host\":\"%s\",\"zone\":\"gpu0\",\"zone_index\":0,\"kind\":\"gpu\",\"source\":\"nvml\","
				    "\"dt_s\":%d,\"energy_j\":%.17g,\"share\":%.17g}",
				    x->run, t, ts, x->run, host, FL_DT, f->power[x->host] * FL_DT, x->share);
			if (t == x->end && x->finished)
				put(v, false,
				    "{\"v\":1,\"id\":\"%s-e\",\"type\":\"run_end\",\"ts_ns\":%" PRIu64 ",\"run\":\"%s\","
				    "\"host\":\"%s\",\"exit\":0,\"duration_s\":%d}",
				    x->run, ts, x->run, host, x->end - x->start);
		}
}

static int ingest_lines(struct jst_store *s, char **l, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += strlen(l[i]) + 1;
	char *p = malloc(len + 1), *q = p;
	for (int i = 0; i < n; i++)
		q += sprintf(q, "%s\n", l[i]);
	struct jst_event_batch eb = {0};
	struct jst_ingest_result res;
	size_t line = 0;
	char err[300];
	int r = jst_event_batch_parse(p, len, 0, &eb, &line, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "line %zu: %s\n", line, err);
	if (r == 0 && (r = jst_store_ingest(s, &eb, &res)) < 0)
		fprintf(stderr, "ingest: %s\n", jst_store_errmsg(s));
	CHECK_INT(r, 0);
	jst_event_batch_release(&eb);
	free(p);
	return r;
}

/* Batches of 1 to 40 events; a third of the run_starts held back to the end (late); one
 * batch in five sent twice (duplicates); two events of neighbouring batches swapped now and
 * then (out of order). */
static void send(struct jst_store *s, struct lines *v, uint64_t seed)
{
	uint64_t st = seed * 104729 + 3;
	char *late[256];
	int nlate = 0;
	char **keep = malloc((size_t)v->n * sizeof(*keep));
	int n = 0;
	for (int i = 0; i < v->n; i++) {
		if (v->start[i] && rnd(&st) % 3 == 0 && nlate < 256)
			late[nlate++] = v->l[i];
		else
			keep[n++] = v->l[i];
	}
	for (int i = 0; i + 30 < n; i++)
		if (rnd(&st) % 10 == 0) {
			char *t = keep[i];
			keep[i] = keep[i + 30];
			keep[i + 30] = t;
		}
	for (int i = 0; i < n;) {
		int k = 1 + (int)(rnd(&st) % 40);
		if (k > n - i)
			k = n - i;
		ingest_lines(s, keep + i, k);
		if (rnd(&st) % 5 == 0)
			ingest_lines(s, keep + i, k);
		i += k;
	}
	if (nlate)
		ingest_lines(s, late, nlate);
	free(keep);
}

/* The slots (sample ends) series x has in window w. */
static int slots(const struct series *x, int w, bool *at)
{
	int n = 0;
	for (int t = x->start + FL_DT; t <= x->end; t += FL_DT)
		if (t / 60 == w) {
			n++;
			if (at)
				at[(t % 60) / FL_DT] = true;
		}
	return n;
}

/* The rule, from the fleet: host h's energy in window w, and what no run claims there. */
static void model(const struct fleet *f, int h, int w, double *host, double *rest)
{
	double p = f->power[h], agent = 0, proc = 0, scoped = 0, secs = 0;
	bool has_agent = false, at[60 / FL_DT] = {false};
	for (int i = 0; i < f->n; i++) {
		const struct series *x = &f->s[i];
		if (x->host != h)
			continue;
		int k = slots(x, w, NULL);
		double e = p * FL_DT * k;
		if (x->agent) {
			has_agent = has_agent || k > 0;
			agent += e;
		} else if (x->scope_host) {
			scoped += e;
			secs += FL_DT * k;
			slots(x, w, at);
		} else {
			proc += e * x->share;
		}
	}
	int u = 0;
	for (int i = 0; i < 60 / FL_DT; i++)
		u += at[i];
	if (secs > u * FL_DT)
		scoped *= u * FL_DT / secs; /* overlapping host-scope runs: the host once */
	*host = has_agent ? agent : scoped > proc ? scoped : proc;
	double p2 = proc > *host ? *host : proc, hs = scoped < *host - p2 ? scoped : *host - p2;
	*rest = has_agent ? *host - p2 - hs : 0;
}

struct groups {
	char key[32][340];
	bool unattr[32];
	double e[32], g[32], l[32];
	int n;
};

static int take(const struct jst_aggregate *a, void *ud)
{
	struct groups *x = ud;
	if (x->n < 32) {
		snprintf(x->key[x->n], sizeof(x->key[0]), "%s", a->key);
		x->unattr[x->n] = a->unattributed;
		x->e[x->n] = a->energy_j;
		x->g[x->n] = a->co2e_g;
		x->l[x->n++] = a->water_l;
	}
	return 0;
}

static void groups(struct jst_store *s, const char *by, uint64_t from, uint64_t to, struct groups *x)
{
	memset(x, 0, sizeof(*x));
	CHECK(jst_store_aggregates(s, by, from, to, NULL, take, x) >= 0);
}

static void sums(const struct groups *x, double *e, double *g, double *l)
{
	*e = *g = *l = 0;
	for (int i = 0; i < x->n; i++) {
		*e += x->e[i];
		*g += x->g[i];
		*l += x->l[i];
	}
}

#define REL(a, b) (1e-9 * (fabs(a) + fabs(b)) + 1e-9)

static void check_window(struct jst_store *s, const struct fleet *f, int w)
{
	uint64_t from = f->base + (uint64_t)w * WIN_NS;
	struct groups hosts, x;
	groups(s, "host", from, from + WIN_NS, &hosts);
	double he, hg, hl, want_rest = 0;
	sums(&hosts, &he, &hg, &hl);
	for (int h = 0; h < f->nhosts; h++) {
		double want, rest, got = 0;
		model(f, h, w, &want, &rest);
		want_rest += rest;
		char name[16];
		snprintf(name, sizeof(name), "node%d", h);
		for (int i = 0; i < hosts.n; i++)
			if (strcmp(hosts.key[i], name) == 0)
				got += hosts.e[i];
		CHECK_NEAR(got, want, REL(got, want)); /* each host once */
	}
	const char *dims[] = {"user", "model", "project", "zone"};
	for (int d = 0; d < 4; d++) {
		groups(s, dims[d], from, from + WIN_NS, &x);
		double e, g, l, rest = 0;
		sums(&x, &e, &g, &l);
		CHECK_NEAR(e, he, REL(e, he)); /* Σ groups (+ unattributed) = Σ hosts */
		CHECK_NEAR(g, hg, REL(g, hg));
		CHECK_NEAR(l, hl, REL(l, hl));
		for (int i = 0; i < x.n; i++) {
			CHECK(x.e[i] >= 0);
			CHECK(strcmp(x.key[i], "root") != 0 || x.unattr[i]); /* no agent is a user */
			if (x.unattr[i]) {
				CHECK_STR(x.key[i], "(unattributed)");
				rest += x.e[i];
			}
		}
		if (d < 3)
			CHECK_NEAR(rest, want_rest, REL(rest, want_rest));
	}
}

struct listed {
	int n, agents;
};

static int count_run(const struct jst_run_summary *r, void *ud)
{
	struct listed *l = ud;
	l->n++;
	l->agents += strstr(r->run, "agent") != NULL;
	return 0;
}

static void check_lists(struct jst_store *s, const struct fleet *f, uint64_t seed)
{
	int runs = 0, agents = 0;
	for (int i = 0; i < f->n; i++)
		f->s[i].agent ? agents++ : runs++;
	struct jst_run_query q = {.limit = 1000, .sort = JST_SORT_START, .from_ns = f->base,
	                          .to_ns = f->base + FL_WINS * WIN_NS};
	struct listed l = {0, 0};
	char next[128];
	CHECK(jst_store_query_runs(s, &q, count_run, &l, next, sizeof(next)) >= 0);
	if (l.n != runs || l.agents)
		fprintf(stderr, "fleet %" PRIu64 ": %d runs listed (%d agents), want %d\n", seed, l.n, l.agents, runs);
	CHECK_INT(l.n, runs);
	CHECK_INT(l.agents, 0);
	q.host_series = true;
	l = (struct listed){0, 0};
	CHECK(jst_store_query_runs(s, &q, count_run, &l, next, sizeof(next)) >= 0);
	CHECK_INT(l.n, agents);
	CHECK_INT(l.agents, agents);
}

static int snap(const struct jst_aggregate *a, void *ud)
{
	char *b = ud;
	size_t n = strlen(b);
	if (n + 200 < 65536)
		snprintf(b + n, 65536 - n, "%s %d %" PRId64 " %.17g %.17g %.17g\n", a->key, a->unattributed, a->samples,
		         a->energy_j, a->co2e_g, a->water_l);
	return 0;
}

static char *snapshot(struct jst_store *s)
{
	char *b = calloc(1, 65536);
	const char *dims[] = {"host", "user", "model", "project", "zone"};
	for (int d = 0; d < 5; d++) {
		size_t n = strlen(b);
		snprintf(b + n, 65536 - n, "by %s\n", dims[d]);
		CHECK(jst_store_aggregates(s, dims[d], 0, 0, NULL, snap, b) >= 0);
	}
	return b;
}

int conformance_case_hierarchy(struct jst_store *s)
{
	int failed = check_failed;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct fleet f;
		gen(&f, seed);
		struct lines v = {.n = 0};
		events(&f, &v);
		send(s, &v, seed);
		for (int w = 0; w < FL_WINS + 1; w++)
			check_window(s, &f, w);
		check_lists(s, &f, seed);
		for (int i = 0; i < v.n; i++)
			free(v.l[i]);
		if (check_failed != failed) {
			fprintf(stderr, "hierarchy: fleet %" PRIu64 " failed\n", seed);
			break;
		}
	}
	char *before = snapshot(s);
	uint64_t events_n = 0;
	CHECK_INT(jst_store_rebuild(s, &events_n), 0);
	char *after = snapshot(s);
	CHECK_STR(after, before); /* the replay gives the same, bit for bit */
	CHECK(strstr(before, "(unattributed) 1") != NULL);
	free(before);
	free(after);
	return check_failed != failed ? -1 : 0;
}
