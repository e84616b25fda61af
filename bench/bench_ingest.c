/* The ingest benchmark of issue "Streaming pipeline": samples per second per core through
 * `joulestream serve` (HTTP NDJSON -> parse -> aggregation -> SQLite, committed with
 * synchronous=FULL), as a ratio to a bare SQLite insert of the same rows (the ev_log rows:
 * id, batch, type, run, ts_ns, body) with the same pragmas and the same batches, measured in
 * the same run. Server CPU comes from /proc/PID/stat of the serve process, so the client's
 * cost is not counted; in-process parse and store figures say where the time goes.
 * --mode pg does the same into PostgreSQL (serve --db URL) against a bare COPY of the rows;
 * its CPU is the serve process's plus the postgres server's (the postmaster and every child).
 * --mode latency times the POST of a batch and the delay until its sample shows in the API.
 *   bench_ingest --jst PROGRAM --tmp DIR [--samples N] [--batch N]   markdown on stdout
 *   bench_ingest --mode pg --pg-url URL --pg-pid PID --jst PROGRAM --tmp DIR [--samples N] [--batch N]
 *   bench_ingest --mode latency --db PATH|URL --jst PROGRAM [--trials N] */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "attrib/procstat.h"
#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/event.h"
#include "joulestream/ingest.h"

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static double cpu_of(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	ssize_t n = jst__read_file(path, buf, sizeof(buf));
	struct jst__pid_stat ps;
	if (n <= 0 || jst__parse_pid_stat(buf, (size_t)n, &ps) < 0)
		return 0;
	return (double)(ps.utime + ps.stime) / (double)sysconf(_SC_CLK_TCK);
}

/* nb batches of bs sample events, 4 zones per tick. */
static char **make_batches(size_t nb, size_t bs, size_t *lens)
{
	char **b = calloc(nb, sizeof(*b));
	const char *zones[] = {"package-0", "dram-0", "gpu0", "gpu1"};
	const char *kinds[] = {"package", "dram", "gpu", "gpu"};
	uint64_t k = 0;
	for (size_t i = 0; i < nb; i++) {
		struct jst_jbuf j;
		jst__jbuf_init(&j, 64u << 20);
		for (size_t s = 0; s < bs; s++, k++) {
			uint64_t tick = k / 4;
			unsigned z = (unsigned)(k % 4);
			jst__jbuf_printf(&j, "{\"v\":1,\"id\":\"BENCHRUN00000000000000000%c-s-%llu-%u\",\"type\":\"sample\","
			                 "\"ts_ns\":%llu,\"run\":\"BENCHRUN00000000000000000%c\",\"host\":\"node1\",\"zone\":\"%s\","
			                 "\"zone_index\":%u,\"kind\":\"%s\",\"source\":\"rapl\",\"estimate\":false,\"dt_s\":0.1,"
			                 "\"energy_j\":%.3f,\"power_w\":%.2f,\"share\":0.75}\n",
			                 'A' + (int)(tick % 4), (unsigned long long)tick, z,
			                 1732170000000000000ull + tick * 100000000ull, 'A' + (int)(tick % 4), zones[z], z,
			                 kinds[z], 10.0 + (double)(k % 97), 100.0 + (double)(k % 97) * 10);
		}
		b[i] = j.p;
		lens[i] = j.len;
	}
	return b;
}

static double bare_sqlite(const char *path, char **batches, size_t *lens, size_t nb, double *wall)
{
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                 "CREATE TABLE ev_log(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, batch INTEGER NOT NULL,"
	                 " type TEXT NOT NULL, run TEXT, ts_ns INTEGER, body TEXT NOT NULL);", NULL, NULL, NULL);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "INSERT INTO ev_log(id,batch,type,run,ts_ns,body) VALUES(?,?,?,?,?,?)", -1, &st, NULL);
	/* the rows' fields are taken from the text beforehand: only the inserts are timed */
	struct jst_event_batch eb = {0};
	char err[256];
	size_t bad;
	double c0 = cpu_self(), w0 = (double)jst__mono_ns() / 1e9, spent = 0, wspent = 0;
	for (size_t i = 0; i < nb; i++) {
		double pc = cpu_self(), pw = (double)jst__mono_ns() / 1e9;
		jst_event_batch_parse(batches[i], lens[i], 0, &eb, &bad, err, sizeof(err));
		c0 += cpu_self() - pc;
		w0 += (double)jst__mono_ns() / 1e9 - pw;
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (size_t e = 0; e < eb.n; e++) {
			sqlite3_bind_text(st, 1, eb.ev[e].id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
			sqlite3_bind_text(st, 3, "sample", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, eb.ev[e].run, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, (sqlite3_int64)eb.ev[e].ts_ns);
			sqlite3_bind_text(st, 6, eb.ev[e].line, (int)eb.ev[e].line_len, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	spent = cpu_self() - c0;
	wspent = (double)jst__mono_ns() / 1e9 - w0;
	jst_event_batch_release(&eb);
	sqlite3_finalize(st);
	sqlite3_close(db);
	*wall = wspent;
	return spent;
}

static size_t sink_body(char *p, size_t sz, size_t nm, void *ud)
{
	(void)p;
	(void)ud;
	return sz * nm;
}

/* Starts serve on a free port; returns its pid, port in *port. */
static pid_t start_serve(const char *jst, const char *db, const char *threads, unsigned *port)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(jst, jst, "serve", "--listen", "127.0.0.1:0", "--db", db, "--threads", threads, "--body-max",
		      "268435456", "--batch-max", "1000000", (char *)NULL);
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

/* A token of ROLE in tok[128]. */
static char *make_token(const char *jst, const char *db, const char *role, char *tok)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s' token create --role %s --db '%s' 2>/dev/null", jst, role, db);
	FILE *f = popen(cmd, "r");
	tok[0] = '\0';
	if (f && fgets(tok, 128, f))
		tok[strcspn(tok, "\n")] = '\0';
	if (f)
		pclose(f);
	return tok;
}

/* CPU seconds of the PostgreSQL server: the postmaster with its reaped children (cutime,
 * cstime: backends that have exited) and every live child (backends, checkpointer, WAL
 * writer, autovacuum...), from /proc. 0 when pm is 0 (no server to count). */
static double cpu_pg(pid_t pm)
{
	if (pm <= 0)
		return 0;
	char path[64], buf[1024];
	struct jst__pid_stat ps;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pm);
	ssize_t n = jst__read_file(path, buf, sizeof(buf));
	if (n <= 0 || jst__parse_pid_stat(buf, (size_t)n, &ps) < 0)
		return 0;
	uint64_t ticks = ps.utime + ps.stime + ps.cutime + ps.cstime;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/stat", e->d_name); /* a pid: digits only */
		n = jst__read_file(path, buf, sizeof(buf));
		if (n > 0 && jst__parse_pid_stat(buf, (size_t)n, &ps) == 0 && ps.ppid == pm)
			ticks += ps.utime + ps.stime;
	}
	if (d)
		closedir(d);
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

/* The batches through serve --threads 1 into db (a path or a postgresql:// URL); *cpu is the
 * serve process's CPU, *db_cpu the PostgreSQL server's (pg_pid, 0 for SQLite). */
static int via_http(const char *jst, const char *db, pid_t pg_pid, char **batches, size_t *lens, size_t nb,
                    double *cpu, double *db_cpu, double *wall)
{
	char auth[256], url[128], tok[128];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", make_token(jst, db, "agent", tok));
	unsigned port;
	pid_t pid = start_serve(jst, db, "1", &port);
	if (pid < 0 || !port)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/events", port);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_body);
	double c0 = cpu_of(pid), p0 = cpu_pg(pg_pid), w0 = (double)jst__mono_ns() / 1e9;
	int bad = 0;
	for (size_t i = 0; i < nb; i++) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, batches[i]);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)lens[i]);
		long code = 0;
		if (curl_easy_perform(c) != CURLE_OK || curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
		    code != 200)
			bad++;
	}
	*wall = (double)jst__mono_ns() / 1e9 - w0;
	*cpu = cpu_of(pid) - c0;
	*db_cpu = cpu_pg(pg_pid) - p0;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return bad;
}

/* The same pipeline in-process, parse and store apart. */
static void in_process(const char *tmp, char **batches, size_t *lens, size_t nb, double *parse_cpu, double *store_cpu)
{
	char db[1024], err[600];
	snprintf(db, sizeof(db), "%s/inproc.db", tmp);
	struct jst_store *s;
	if (jst_store_open(&s, db, err, sizeof(err)) < 0)
		return;
	jst_store_durable(s);
	struct jst_event_batch eb = {0};
	struct jst_ingest_result res;
	size_t bad;
	*parse_cpu = *store_cpu = 0;
	for (size_t i = 0; i < nb; i++) {
		double c0 = cpu_self();
		jst_event_batch_parse(batches[i], lens[i], 0, &eb, &bad, err, sizeof(err));
		double c1 = cpu_self();
		jst_store_ingest(s, &eb, &res);
		*parse_cpu += c1 - c0;
		*store_cpu += cpu_self() - c1;
	}
	jst_event_batch_release(&eb);
	jst_store_close(s);
}

/* COPY text: backslash, tab, newline and CR escaped. */
static void copy_field(struct jst_jbuf *j, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *esc = p[i] == '\\' ? "\\\\" : p[i] == '\t' ? "\\t" : p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r" : NULL;
		if (esc)
			jst__jbuf_str(j, esc);
		else
			jst__jbuf_put(j, p + i, 1);
	}
}

static int pg_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	PQclear(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	fprintf(stderr, "bench_ingest: %s: %s", sql, PQerrorMessage(c));
	return -1;
}

/* The baseline of the PostgreSQL leg: the same ev_log rows (BIGSERIAL key, id UNIQUE, as
 * serve's table but without its two other indexes), one COPY and one commit per batch.
 * The COPY text is made beforehand; *server is the postgres server's CPU, *client ours. */
static int bare_pg(const char *url, pid_t pm, char **batches, size_t *lens, size_t nb, double *server, double *client,
                   double *wall)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_ingest: cannot connect to %s: %s", url, PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	if (pg_ok(c, "CREATE TABLE bare_ev_log(seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, batch BIGINT NOT NULL,"
	             " type TEXT NOT NULL, run TEXT, ts_ns BIGINT, body TEXT NOT NULL)") < 0) {
		PQfinish(c);
		return -1;
	}
	struct jst_jbuf *rows = calloc(nb, sizeof(*rows));
	struct jst_event_batch eb = {0};
	char err[256];
	size_t bad;
	for (size_t i = 0; i < nb; i++) {
		jst__jbuf_init(&rows[i], 256u << 20);
		jst_event_batch_parse(batches[i], lens[i], 0, &eb, &bad, err, sizeof(err));
		for (size_t e = 0; e < eb.n; e++) {
			copy_field(&rows[i], eb.ev[e].id, strlen(eb.ev[e].id));
			jst__jbuf_printf(&rows[i], "\t%zu\tsample\t", i);
			copy_field(&rows[i], eb.ev[e].run, strlen(eb.ev[e].run));
			jst__jbuf_printf(&rows[i], "\t%lld\t", (long long)eb.ev[e].ts_ns);
			copy_field(&rows[i], eb.ev[e].line, eb.ev[e].line_len);
			jst__jbuf_put(&rows[i], "\n", 1);
		}
	}
	jst_event_batch_release(&eb);
	int rc = 0;
	double s0 = cpu_pg(pm), c0 = cpu_self(), w0 = (double)jst__mono_ns() / 1e9;
	for (size_t i = 0; i < nb && rc == 0; i++) {
		rc = pg_ok(c, "BEGIN");
		PGresult *r = PQexec(c, "COPY bare_ev_log(id,batch,type,run,ts_ns,body) FROM STDIN");
		if (PQresultStatus(r) != PGRES_COPY_IN)
			rc = -1;
		PQclear(r);
		if (rc == 0 && (PQputCopyData(c, rows[i].p, (int)rows[i].len) != 1 || PQputCopyEnd(c, NULL) != 1))
			rc = -1;
		while ((r = PQgetResult(c))) {
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				rc = -1;
			PQclear(r);
		}
		if (rc == 0)
			rc = pg_ok(c, "COMMIT");
		else
			fprintf(stderr, "bench_ingest: COPY failed: %s", PQerrorMessage(c));
	}
	*wall = (double)jst__mono_ns() / 1e9 - w0;
	*client = cpu_self() - c0;
	*server = cpu_pg(pm) - s0;
	for (size_t i = 0; i < nb; i++)
		free(rows[i].p);
	free(rows);
	PQfinish(c);
	return rc;
}

/* ---- the delay from a sample to the query API ---------------------------------------------- */
struct poller {
	CURL *c;
	char url[256];
	char want[64];    /* the text that shows the sample: its zone's energy */
	char body[65536]; /* the last GET's body */
	size_t len;
	atomic_int go;     /* 1: the POST is about to start */
	atomic_llong ack;  /* mono ns at which the POST's 200 was read, 0 before */
	long long seen;    /* mono ns at which a GET that showed the sample returned */
	unsigned late;     /* GETs sent after the ack that did not show the sample */
	unsigned polls;
	double *rtt; /* every GET's round trip, ms, all trials */
	size_t nrtt, cap;
};

static size_t keep_body(char *p, size_t sz, size_t nm, void *ud)
{
	struct poller *q = ud;
	size_t n = sz * nm, room = sizeof(q->body) - 1 - q->len;
	memcpy(q->body + q->len, p, n < room ? n : room);
	q->len += n < room ? n : room;
	q->body[q->len] = '\0';
	return n;
}

/* Polls GET /api/v1/runs/{id} back to back from before the POST until the sample's figure
 * appears (10 s at most). */
static void *poll_loop(void *ud)
{
	struct poller *q = ud;
	while (!atomic_load(&q->go))
		;
	long long end = (long long)jst__mono_ns() + 10000000000ll;
	q->seen = 0;
	while ((long long)jst__mono_ns() < end) {
		long long ack_before = atomic_load(&q->ack);
		q->len = 0;
		q->body[0] = '\0';
		long code = 0;
		q->polls++;
		long long g0 = (long long)jst__mono_ns();
		if (curl_easy_perform(q->c) == CURLE_OK)
			curl_easy_getinfo(q->c, CURLINFO_RESPONSE_CODE, &code);
		if (q->nrtt < q->cap)
			q->rtt[q->nrtt++] = (double)((long long)jst__mono_ns() - g0) / 1e6;
		if (code == 200 && strstr(q->body, q->want)) {
			q->seen = (long long)jst__mono_ns();
			break;
		}
		if (ack_before)
			q->late++;
	}
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* One batch of bs samples: bs - 1 for a filler run and, in the middle, the one sample of run
 * LATRUN<trial> with energy 1000 + trial J. */
static char *latency_batch(unsigned trial, size_t bs, size_t *len)
{
	struct jst_jbuf j;
	jst__jbuf_init(&j, 16u << 20);
	for (size_t s = 0; s < bs; s++) {
		int mine = s == bs / 2;
		jst__jbuf_printf(&j, "{\"v\":1,\"id\":\"LAT%c%022u-%zu\",\"type\":\"sample\",\"ts_ns\":%llu,"
		                 "\"run\":\"LAT%c%022u\",\"host\":\"node1\",\"zone\":\"gpu0\",\"zone_index\":0,"
		                 "\"kind\":\"gpu\",\"source\":\"nvml\",\"estimate\":false,\"dt_s\":0.1,"
		                 "\"energy_j\":%u,\"power_w\":250,\"share\":1}\n",
		                 mine ? 'R' : 'F', trial, s, 1732170000000000000ull + (unsigned long long)s * 100000000ull,
		                 mine ? 'R' : 'F', trial, mine ? 1000 + trial : 10);
	}
	*len = j.len;
	return j.p;
}

/* trials batches of bs samples through serve (--threads 2: a GET is served while a POST is
 * being stored) into db, each with a poller thread on its own connection. */
static int latency(const char *jst, const char *db, unsigned trials, size_t bs)
{
	char auth[256], rauth[256], url[128], tok[128];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", make_token(jst, db, "agent", tok));
	snprintf(rauth, sizeof(rauth), "Authorization: Bearer %s", make_token(jst, db, "admin", tok));
	unsigned port;
	pid_t pid = start_serve(jst, db, "2", &port);
	if (pid < 0 || !port)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/events", port);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(curl_slist_append(NULL, auth), "Expect:");
	struct curl_slist *rh = curl_slist_append(NULL, rauth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_body);
	struct poller *q = calloc(1, sizeof(*q));
	q->c = curl_easy_init();
	q->cap = 1000000;
	q->rtt = calloc(q->cap, sizeof(double));
	curl_easy_setopt(q->c, CURLOPT_HTTPHEADER, rh);
	curl_easy_setopt(q->c, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(q->c, CURLOPT_WRITEDATA, q);
	double *post = calloc(trials, sizeof(double)), *vis = calloc(trials, sizeof(double));
	double *after = calloc(trials, sizeof(double));
	unsigned bad = 0, late = 0, before_ack = 0, polls = 0;
	for (unsigned t = 0; t < trials; t++) {
		size_t len;
		char *b = latency_batch(t, bs, &len);
		snprintf(q->url, sizeof(q->url), "http://127.0.0.1:%u/api/v1/runs/LATR%022u", port, t);
		snprintf(q->want, sizeof(q->want), "\"energy_j\":%u", 1000 + t);
		curl_easy_setopt(q->c, CURLOPT_URL, q->url);
		atomic_store(&q->go, 0);
		atomic_store(&q->ack, 0);
		q->late = q->polls = 0;
		pthread_t th;
		pthread_create(&th, NULL, poll_loop, q);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		long long t0 = (long long)jst__mono_ns();
		atomic_store(&q->go, 1);
		long code = 0;
		if (curl_easy_perform(c) != CURLE_OK || curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
		    code != 200)
			bad++;
		long long ack = (long long)jst__mono_ns();
		atomic_store(&q->ack, ack);
		pthread_join(th, NULL);
		if (!q->seen)
			bad++;
		post[t] = (double)(ack - t0) / 1e6;
		vis[t] = (double)((q->seen ? q->seen : ack) - t0) / 1e6;
		after[t] = vis[t] - post[t];
		late += q->late;
		polls += q->polls;
		before_ack += q->seen && q->seen < ack;
		free(b);
	}
	qsort(post, trials, sizeof(double), cmp_d);
	qsort(vis, trials, sizeof(double), cmp_d);
	qsort(after, trials, sizeof(double), cmp_d);
	printf("| from the POST's start, ms | p50 | p99 | max |\n|---|---:|---:|---:|\n");
	printf("| POST acknowledged (200 read) | %.2f | %.2f | %.2f |\n", pct(post, trials, .5), pct(post, trials, .99),
	       post[trials - 1]);
	printf("| sample visible in GET /api/v1/runs/{id} | %.2f | %.2f | %.2f |\n", pct(vis, trials, .5),
	       pct(vis, trials, .99), vis[trials - 1]);
	printf("| visible minus acknowledged | %.2f | %.2f | %.2f |\n", pct(after, trials, .5),
	       pct(after, trials, .99), after[trials - 1]);
	if (q->nrtt) {
		qsort(q->rtt, q->nrtt, sizeof(double), cmp_d);
		printf("| one GET's round trip (all polls; not from the POST's start) | %.2f | %.2f | %.2f |\n",
		       pct(q->rtt, q->nrtt, .5), pct(q->rtt, q->nrtt, .99), q->rtt[q->nrtt - 1]);
	}
	printf("\n%u trials of one POST of %zu samples; %u GETs in all; the sample was seen before the ack was read "
	       "in %u trials; GETs sent after the ack that did not show it: %u; failures: %u.\n",
	       trials, bs, polls, before_ack, late, bad);
	curl_easy_cleanup(q->c);
	free(q->rtt);
	free(q);
	free(post);
	free(vis);
	free(after);
	curl_slist_free_all(h);
	curl_slist_free_all(rh);
	curl_easy_cleanup(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return bad || late ? 1 : 0;
}

/* The PostgreSQL leg: the bare COPY, then serve into the same server; markdown on stdout. */
static int pg_leg(const char *jst, const char *url, pid_t pm, char **b, size_t *lens, size_t nb, unsigned batch,
                  size_t bytes)
{
	double n = (double)nb * (double)batch, srv, cli, wall;
	if (bare_pg(url, pm, b, lens, nb, &srv, &cli, &wall) < 0)
		return 1;
	double http_cpu = 0, pg_cpu = 0, http_wall = 0;
	int bad = via_http(jst, url, pm, b, lens, nb, &http_cpu, &pg_cpu, &http_wall);
	if (bad < 0)
		return 1;
	double all = http_cpu + pg_cpu;
	printf("| path | samples/s per core (CPU) | samples/s (wall) | ratio to bare COPY (per core) |\n"
	       "|---|---:|---:|---:|\n");
	printf("| bare COPY of the same ev_log rows (postgres CPU) | %.0f | %.0f | 1.00 |\n", n / srv, n / wall);
	printf("| **HTTP NDJSON -> serve -> aggregation -> PostgreSQL** (serve + postgres CPU) | **%.0f** | %.0f | "
	       "**%.2f** |\n", n / all, n / http_wall, (n / all) / (n / srv));
	printf("\nCPU seconds: bare COPY %.2f in postgres (+ %.2f in the client that sent it, not counted); "
	       "through serve %.2f in serve + %.2f in postgres. %.0f samples in %zu batches of %u (%.1f MB of NDJSON); "
	       "%d batch%s refused.\n",
	       srv, cli, http_cpu, pg_cpu, n, nb, batch, (double)bytes / 1e6, bad, bad == 1 ? "" : "es");
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	free(b);
	free(lens);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *jst = NULL, *tmp = NULL, *mode = "sqlite", *pg_url = NULL, *db = NULL;
	uint64_t samples = 400000, batch = 5000, pg_pid = 0, trials = 200;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--mode") == 0)
			mode = argv[i + 1];
		else if (strcmp(argv[i], "--pg-url") == 0)
			pg_url = argv[i + 1];
		else if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--pg-pid") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &pg_pid);
		else if (strcmp(argv[i], "--trials") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &trials);
		else if (strcmp(argv[i], "--jst") == 0)
			jst = argv[i + 1];
		else if (strcmp(argv[i], "--tmp") == 0)
			tmp = argv[i + 1];
		else if (strcmp(argv[i], "--samples") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &samples);
		else if (strcmp(argv[i], "--batch") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &batch);
	}
	if (jst && db && trials && strcmp(mode, "latency") == 0)
		return latency(jst, db, (unsigned)trials, 100) < 0 ? 1 : 0;
	int pg = strcmp(mode, "pg") == 0;
	if (!jst || !tmp || !batch || (pg && (!pg_url || !pg_pid)) || (!pg && strcmp(mode, "sqlite") != 0)) {
		fprintf(stderr, "usage: bench_ingest [--mode sqlite] --jst PROGRAM --tmp DIR [--samples N] [--batch N]\n"
		                "       bench_ingest --mode pg --pg-url URL --pg-pid POSTMASTER --jst PROGRAM --tmp DIR "
		                "[--samples N] [--batch N]\n"
		                "       bench_ingest --mode latency --db PATH|URL --jst PROGRAM [--trials N]\n");
		return 2;
	}
	size_t nb = (size_t)(samples / batch);
	size_t *lens = calloc(nb, sizeof(*lens));
	char **b = make_batches(nb, (size_t)batch, lens);
	size_t bytes = 0;
	for (size_t i = 0; i < nb; i++)
		bytes += lens[i];
	double n = (double)nb * (double)batch;
	if (pg)
		return pg_leg(jst, pg_url, (pid_t)pg_pid, b, lens, nb, (unsigned)batch, bytes);
	char path[1024];
	snprintf(path, sizeof(path), "%s/bare.db", tmp);
	double bare_wall, bare = bare_sqlite(path, b, lens, nb, &bare_wall);
	double parse_cpu = 0, store_cpu = 0;
	in_process(tmp, b, lens, nb, &parse_cpu, &store_cpu);
	double http_cpu = 0, http_wall = 0, none;
	snprintf(path, sizeof(path), "%s/serve.db", tmp);
	int bad = via_http(jst, path, 0, b, lens, nb, &http_cpu, &none, &http_wall);
	printf("| path | samples/s per core (CPU) | samples/s (wall) | ratio to bare SQLite (per core) |\n"
	       "|---|---:|---:|---:|\n");
	printf("| bare SQLite insert of the same ev_log rows | %.0f | %.0f | 1.00 |\n", n / bare, n / bare_wall);
	printf("| in-process: NDJSON parse + validation only | %.0f | | |\n", n / parse_cpu);
	printf("| in-process: store ingest (dedupe + aggregation + SQLite) | %.0f | | %.2f |\n", n / store_cpu,
	       (n / store_cpu) / (n / bare));
	printf("| **HTTP NDJSON -> serve -> aggregation -> SQLite** | **%.0f** | %.0f | **%.2f** |\n", n / http_cpu,
	       n / http_wall, (n / http_cpu) / (n / bare));
	printf("\n%.0f samples in %zu batches of %llu (%.1f MB of NDJSON, %.0f bytes a sample); %d batch%s refused.\n",
	       n, nb, (unsigned long long)batch, (double)bytes / 1e6, (double)bytes / n, bad, bad == 1 ? "" : "es");
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	free(b);
	free(lens);
	return bad ? 1 : 0;
}
