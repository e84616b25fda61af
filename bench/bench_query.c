/* The per-run read benchmark of issue 11 ("Per-run reads stay flat"), driven by bench/query.
 * --mode build fills a SQLite store with N samples in runs of a fixed size, through the
 * library's own ingest (jst_store_ingest, batches of 50,000 events: the same aggregation and
 * transactions as serve, without HTTP), so that the store is what serve would have written.
 * --mode time starts `PROGRAM serve` on that store and times GETs of the query API on one
 * keep-alive connection: a run's summary (zones and phases included), its timeline (windows
 * and metric windows), a page of its sample events and its phase events, over runs spread
 * across the store, and two totals (by user, by phase); it prints one line per query (median
 * and p90 in ms) and keeps each first answer in --out, so that two programs can be compared
 * byte for byte.
 *   bench_query --mode build --db PATH --samples N [--run-samples N]
 *   bench_query --mode time --jst PROGRAM --db PATH --runs N --out DIR [--reps N] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"

#define BASE_NS 1700000000000000000ULL
#define ZONES 4
#define BATCH_EVENTS 5000

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run r: a start, T ticks of 4 zones at 1 s, phases train/eval on even runs, a loss metric every
 * 10 ticks on every fourth run, an end. Runs start a minute apart, so several overlap. */
static void run_events(struct jst_jbuf *b, unsigned r, unsigned ticks)
{
	static const char *const zn[ZONES] = {"gpu0", "gpu1", "package-0", "dram-0"};
	static const char *const zk[ZONES] = {"gpu", "gpu", "package", "dram"};
	static const char *const zs[ZONES] = {"nvml", "nvml", "rapl", "rapl"};
	uint64_t t0 = BASE_NS + (uint64_t)r * 60000000000ULL;
	char run[16];
	snprintf(run, sizeof(run), "q%07u", r);
	jst__jbuf_printf(
		b,
		"{\"v\":1,\"id\":\"%s-s\",\"type\":\"run_start\",\"ts_ns\":%llu,\"run\":\"%s\",\"host\":\"h%u\","
		"\"user\":\"u%02u\",\"model\":\"m%u\",\"project\":\"p\",\"command\":[\"train\"],\"interval_s\":1,"
		"\"zone\":\"%s\",\"pue\":1.2}\n",
		run, (unsigned long long)t0, run, r % 32, r % 16, r % 8, r % 2 ? "DE" : "FR");
	bool phases = r % 2 == 0, metrics = r % 4 == 0;
	for (unsigned i = 0; i < ticks; i++) {
		uint64_t ts = t0 + (uint64_t)(i + 1) * 1000000000ULL;
		if (phases && (i == 0 || i == ticks * 4 / 5)) {
			if (i)
				jst__jbuf_printf(
					b,
					"{\"v\":1,\"id\":\"%s-pe\",\"type\":\"phase\",\"ts_ns\":%llu,\"run\":\"%s\","
					"\"host\":\"h%u\",\"name\":\"train\",\"edge\":\"end\"}\n",
					run, (unsigned long long)(ts - 2), run, r % 32);
			jst__jbuf_printf(
				b,
				"{\"v\":1,\"id\":\"%s-p%u\",\"type\":\"phase\",\"ts_ns\":%llu,\"run\":\"%s\","
				"\"host\":\"h%u\",\"name\":\"%s\",\"edge\":\"begin\"}\n",
				run, i, (unsigned long long)(ts - 1), run, r % 32,
				i ? "eval" : "train");
		}
		for (unsigned z = 0; z < ZONES; z++)
			jst__jbuf_printf(
				b,
				"{\"v\":1,\"id\":\"%s-%u-%u\",\"type\":\"sample\",\"ts_ns\":%llu,\"run\":\"%s\","
				"\"host\":\"h%u\",\"zone\":\"%s\",\"zone_index\":%u,\"kind\":\"%s\",\"source\":\"%s\","
				"\"dt_s\":1,\"energy_j\":%.2f,\"share\":0.75}\n",
				run, i, z, (unsigned long long)ts, run, r % 32, zn[z], z, zk[z],
				zs[z], 40.0 + (double)((i * 7 + z * 13 + r * 5) % 91) / 3.0);
		if (metrics && i % 10 == 5)
			jst__jbuf_printf(
				b,
				"{\"v\":1,\"id\":\"%s-m%u\",\"type\":\"metric\",\"ts_ns\":%llu,\"run\":\"%s\","
				"\"host\":\"h%u\",\"step\":%u,\"values\":{\"loss\":%.4f}}\n",
				run, i, (unsigned long long)(ts + 5), run, r % 32, i,
				10.0 / (i + 1));
	}
	jst__jbuf_printf(
		b,
		"{\"v\":1,\"id\":\"%s-e\",\"type\":\"run_end\",\"ts_ns\":%llu,\"run\":\"%s\",\"host\":\"h%u\","
		"\"exit\":0,\"signal\":0,\"duration_s\":%u,\"samples\":%u,\"notes\":[]}\n",
		run, (unsigned long long)(t0 + (uint64_t)(ticks + 1) * 1000000000ULL), run, r % 32,
		ticks + 1, ticks * ZONES);
}

static int ingest(struct jst_store *s, struct jst_jbuf *b)
{
	struct jst_event_batch eb = {0};
	struct jst_ingest_result res;
	size_t line = 0;
	char err[300];
	int r = jst_event_batch_parse(b->p, b->len, 0, &eb, &line, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "bench_query: line %zu: %s\n", line, err);
	if (r == 0 && (r = jst_store_ingest(s, &eb, &res)) < 0)
		fprintf(stderr, "bench_query: ingest: %s\n", jst_store_errmsg(s));
	jst_event_batch_release(&eb);
	b->len = 0;
	return r;
}

static int build(const char *db, uint64_t samples, uint64_t run_samples)
{
	struct jst_store *s;
	char err[600];
	if (jst_store_open(&s, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_query: %s\n", err);
		return 1;
	}
	unsigned ticks = (unsigned)(run_samples / ZONES),
		 runs = (unsigned)(samples / (ticks * ZONES));
	struct jst_jbuf b;
	jst__jbuf_init(&b, (size_t)1 << 30);
	int r = 0;
	size_t events = 0;
	double t = now_s();
	for (unsigned i = 0; r == 0 && i < runs; i++) {
		run_events(&b, i, ticks);
		events += ticks * ZONES + 2;
		if (events >= BATCH_EVENTS || i + 1 == runs) {
			r = ingest(s, &b);
			events = 0;
		}
	}
	jst__jbuf_release(&b);
	jst_store_close(s);
	printf("runs=%u samples=%llu seconds=%.1f\n", runs,
	       (unsigned long long)runs * ticks * ZONES, now_s() - t);
	return r < 0 ? 1 : 0;
}

struct body {
	struct jst_jbuf b;
};

static size_t keep(char *p, size_t sz, size_t nm, void *ud)
{
	jst__jbuf_put(&((struct body *)ud)->b, p, sz * nm);
	return sz * nm;
}

static pid_t start_serve(const char *jst, const char *db, unsigned *port)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(jst, jst, "serve", "--listen", "127.0.0.1:0", "--db", db, "--threads", "1",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char line[512];
	FILE *f = fdopen(p[0], "r");
	*port = 0;
	if (f && fgets(line, sizeof(line), f)) {
		const char *c = strstr(line, "127.0.0.1:");
		uint64_t v;
		const char *q = c ? c + 10 : NULL;
		if (q && jst__next_u64(&q, line + strlen(line), &v) == 0)
			*port = (unsigned)v;
	}
	return pid;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct query {
	const char *name, *pre, *post; /* the path: pre, the run id (per_run), post */
	bool per_run;
};

static const struct query queries[] = {
	{"summary", "/api/v1/runs/", "", true},
	{"timeline", "/api/v1/runs/", "/timeline", true},
	{"events_sample", "/api/v1/runs/", "/events?type=sample&limit=100", true},
	{"events_phase", "/api/v1/runs/", "/events?type=phase", true},
	{"agg_user", "/api/v1/aggregates?by=user", "", false},
	{"agg_phase", "/api/v1/aggregates?by=phase", "", false},
};

/* Times one query over the sampled runs, reps passes after a warm-up pass (fewer, but 3 at
 * least, when they take over 30 s); the warm-up's answers go to OUT/NAME-RUN.json. Prints
 * "NAME median_ms p90_ms n". */
static int time_query(CURL *c, unsigned port, const struct query *q, unsigned runs, unsigned reps,
		      const char *out)
{
	unsigned pick = runs < 16 ? runs : 16, n = 0, per = q->per_run ? pick : 1;
	double *v = calloc((size_t)per * reps, sizeof(double));
	struct body body;
	jst__jbuf_init(&body.b, (size_t)1 << 28);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	int bad = 0;
	double t0 = now_s();
	/* a slow query (the baseline's at 100 M) stops after 30 s, once it has 3 passes */
	for (unsigned pass = 0; pass <= reps && (pass <= 3 || now_s() - t0 < 30); pass++) {
		for (unsigned k = 0; k < per; k++) {
			char id[16], path[200], url[300];
			snprintf(id, sizeof(id), "q%07u",
				 (unsigned)((uint64_t)k * runs / pick + (k & 1)));
			snprintf(path, sizeof(path), "%s%s%s", q->pre, q->per_run ? id : "",
				 q->post);
			snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
			curl_easy_setopt(c, CURLOPT_URL, url);
			body.b.len = 0;
			long code = 0;
			double t = now_s();
			CURLcode cr = curl_easy_perform(c);
			t = now_s() - t;
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
			if (cr != CURLE_OK || code != 200) {
				fprintf(stderr, "bench_query: %s: HTTP %ld\n", path, code);
				bad++;
			}
			if (pass == 0) {
				char f[1200];
				snprintf(f, sizeof(f), "%s/%s-%s.json", out, q->name,
					 q->per_run ? id : "all");
				FILE *fp = fopen(f, "w");
				if (fp) {
					fwrite(body.b.p, 1, body.b.len, fp);
					fclose(fp);
				}
				continue;
			}
			v[n++] = t * 1e3;
		}
	}
	qsort(v, n, sizeof(double), cmp_d);
	printf("%s %.3f %.3f %u\n", q->name, v[n / 2], v[(size_t)(n * 0.9)], n);
	free(v);
	jst__jbuf_release(&body.b);
	return bad;
}

static int time_all(const char *jst, const char *db, unsigned runs, unsigned reps, const char *out)
{
	char cmd[2048], tok[128] = "", auth[200];
	snprintf(cmd, sizeof(cmd), "'%s' token create --role admin --db '%s' 2>/dev/null", jst, db);
	FILE *f = popen(cmd, "r");
	if (f && fgets(tok, sizeof(tok), f))
		tok[strcspn(tok, "\n")] = '\0';
	if (f)
		pclose(f);
	unsigned port;
	pid_t pid = start_serve(jst, db, &port);
	if (!tok[0] || pid < 0 || !port) {
		fprintf(stderr, "bench_query: could not start %s serve on %s\n", jst, db);
		if (pid > 0)
			kill(pid, SIGTERM);
		return 1;
	}
	mkdir(out, 0755);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	int bad = 0;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		bad += time_query(c, port, &queries[i], runs, reps, out);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *mode = "", *db = NULL, *jst = NULL, *out = NULL;
	uint64_t samples = 1000000, run_samples = 1000, runs = 0, reps = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--mode") == 0)
			mode = v;
		else if (strcmp(a, "--db") == 0)
			db = v;
		else if (strcmp(a, "--jst") == 0)
			jst = v;
		else if (strcmp(a, "--out") == 0)
			out = v;
		else if (strcmp(a, "--samples") == 0)
			jst__parse_u64(v, strlen(v), &samples);
		else if (strcmp(a, "--run-samples") == 0)
			jst__parse_u64(v, strlen(v), &run_samples);
		else if (strcmp(a, "--runs") == 0)
			jst__parse_u64(v, strlen(v), &runs);
		else if (strcmp(a, "--reps") == 0)
			jst__parse_u64(v, strlen(v), &reps);
	}
	if (db && strcmp(mode, "build") == 0 && run_samples >= ZONES && samples >= run_samples)
		return build(db, samples, run_samples);
	if (db && jst && out && runs && reps && strcmp(mode, "time") == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		return time_all(jst, db, (unsigned)runs, (unsigned)reps, out);
	}
	fprintf(stderr,
		"usage: bench_query --mode build --db PATH --samples N [--run-samples N]\n"
		"       bench_query --mode time --jst PROGRAM --db PATH --runs N --out DIR [--reps N]\n");
	return 2;
}
