/* The ingest benchmark of issue "Streaming pipeline": samples per second per core through
 * `joulestream serve` (HTTP NDJSON -> parse -> aggregation -> SQLite, committed with
 * synchronous=FULL), as a ratio to a bare SQLite insert of the same rows (the ev_log rows:
 * id, batch, type, run, ts_ns, body) with the same pragmas and the same batches, measured in
 * the same run. Server CPU comes from /proc/PID/stat of the serve process, so the client's
 * cost is not counted; in-process parse and store figures say where the time goes.
 *   bench_ingest --jst PROGRAM --tmp DIR [--samples N] [--batch N]   markdown on stdout */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "attrib/procstat.h"
#include "core/util.h"
#include "event/jbuf.h"
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
static pid_t start_serve(const char *jst, const char *db, unsigned *port)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(jst, jst, "serve", "--listen", "127.0.0.1:0", "--db", db, "--threads", "1", "--body-max",
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

static char *make_token(const char *jst, const char *db)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s' token create --role agent --db '%s' 2>/dev/null", jst, db);
	FILE *f = popen(cmd, "r");
	static char tok[128];
	tok[0] = '\0';
	if (f && fgets(tok, sizeof(tok), f))
		tok[strcspn(tok, "\n")] = '\0';
	if (f)
		pclose(f);
	return tok;
}

static int via_http(const char *jst, const char *tmp, char **batches, size_t *lens, size_t nb, double *cpu,
                    double *wall)
{
	char db[1024], auth[256], url[128];
	snprintf(db, sizeof(db), "%s/serve.db", tmp);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", make_token(jst, db));
	unsigned port;
	pid_t pid = start_serve(jst, db, &port);
	if (pid < 0 || !port)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/events", port);
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_body);
	double c0 = cpu_of(pid), w0 = (double)jst__mono_ns() / 1e9;
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

int main(int argc, char **argv)
{
	const char *jst = NULL, *tmp = NULL;
	uint64_t samples = 400000, batch = 5000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--jst") == 0)
			jst = argv[i + 1];
		else if (strcmp(argv[i], "--tmp") == 0)
			tmp = argv[i + 1];
		else if (strcmp(argv[i], "--samples") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &samples);
		else if (strcmp(argv[i], "--batch") == 0)
			jst__parse_u64(argv[i + 1], strlen(argv[i + 1]), &batch);
	}
	if (!jst || !tmp || !batch) {
		fprintf(stderr, "usage: bench_ingest --jst PROGRAM --tmp DIR [--samples N] [--batch N]\n");
		return 2;
	}
	size_t nb = (size_t)(samples / batch);
	size_t *lens = calloc(nb, sizeof(*lens));
	char **b = make_batches(nb, (size_t)batch, lens);
	size_t bytes = 0;
	for (size_t i = 0; i < nb; i++)
		bytes += lens[i];
	double n = (double)nb * (double)batch;
	char path[1024];
	snprintf(path, sizeof(path), "%s/bare.db", tmp);
	double bare_wall, bare = bare_sqlite(path, b, lens, nb, &bare_wall);
	double parse_cpu = 0, store_cpu = 0;
	in_process(tmp, b, lens, nb, &parse_cpu, &store_cpu);
	double http_cpu = 0, http_wall = 0;
	int bad = via_http(jst, tmp, b, lens, nb, &http_cpu, &http_wall);
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
