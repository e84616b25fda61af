/* The fleet benchmark of issue 12 (bench/fleet drives it): simulated node agents produce
 * their GPUs' samples to a Kafka topic (librdkafka's mock cluster, tests/kafka_mock.c), one
 * message per event keyed by the node's series as the kafka sink sends them; `joulestream
 * serve --source` instances of one consumer group store them in PostgreSQL. Two modes:
 *   produce   HOSTS x GPUS samples per simulated second for SECONDS simulated seconds, as fast
 *             as the producer goes (a backlog for the drain measure); prints the count.
 *   realtime  the same paced in real time (one simulated second per second, as agents at a
 *             1 s interval), while it reads the store's newest sequence number every 0.25 s:
 *             prints the events/s stored, the lag (events produced but not yet stored,
 *             divided by the production rate, in seconds: p50, p99, max) and the CPU seconds
 *             of the PIDS given (serve instances, the postmaster and its children).
 *   watch     reads the store until EXPECT events are stored (or TIMEOUT s without
 *             progress); prints the drain rate and the CPU of PIDS over it.
 * Each prints one line of key=value pairs on stdout; bench/fleet makes the table.
 * The nodes' series are TAG followed by the node's number (26 characters), so each measure's
 * events are told apart from the others' in one store (--tag, 4 letters or digits).
 *   bench_fleet produce  --tag TAG --bootstrap B --topic T --hosts H --gpus G --seconds S
 *   bench_fleet realtime --tag TAG --bootstrap B --topic T --hosts H --gpus G --seconds S --pg URL --pids P,P
 *   bench_fleet watch    --tag TAG --pg URL --expect N --pids P,P [--timeout S] */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#define BASE_NS 1764547200000000000ull /* 2025-12-01T00:00:00Z */
#define PIDS_MAX 16

struct opts {
	const char *mode, *bootstrap, *topic, *pg, *pids, *tag;
	unsigned hosts, gpus, seconds;
	long long expect;
	double timeout_s;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of one process, in seconds; 0 when it is gone. */
static double proc_cpu(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command may hold spaces */
	unsigned long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU of every PID in the list and of each one's children (the postmaster's backends). */
static double pids_cpu(const char *list)
{
	long pids[PIDS_MAX];
	int n = 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *t = strtok(buf, ","); t && n < PIDS_MAX; t = strtok(NULL, ","))
		pids[n++] = atol(t);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += proc_cpu(pids[i]);
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300], sb[1024];
		snprintf(path, sizeof(path), "/proc/%.16s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t m = fread(sb, 1, sizeof(sb) - 1, f);
		fclose(f);
		sb[m] = '\0';
		char *p = strrchr(sb, ')');
		long ppid = 0;
		if (!p || sscanf(p + 2, "%*c %ld", &ppid) != 1)
			continue;
		for (int i = 0; i < n; i++)
			if (ppid == pids[i])
				sum += proc_cpu(atol(e->d_name));
	}
	if (d)
		closedir(d);
	return sum;
}

static rd_kafka_t *producer(const struct opts *o)
{
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *kv[][2] = {{"bootstrap.servers", o->bootstrap}, {"linger.ms", "20"},
	                       {"queue.buffering.max.messages", "1000000"},
	                       {"queue.buffering.max.kbytes", "1048576"}};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
			fprintf(stderr, "bench_fleet: %s\n", err);
			exit(2);
		}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "bench_fleet: %s\n", err);
		exit(2);
	}
	return rk;
}

/* One simulated second of every node: a sample per GPU, keyed by the node's series. */
static long long produce_second(rd_kafka_t *rk, const struct opts *o, unsigned sec)
{
	char line[640], run[32], host[32];
	long long n = 0;
	for (unsigned h = 0; h < o->hosts; h++) {
		snprintf(run, sizeof(run), "%.4s%022u", o->tag, h);
		snprintf(host, sizeof(host), "node%05u", h);
		for (unsigned g = 0; g < o->gpus; g++) {
			double w = 250 + (double)((h * 31 + g * 7 + sec) % 400);
			int len = snprintf(line, sizeof(line),
			                   "{\"v\":1,\"id\":\"%s-s-%u-%u\",\"type\":\"sample\",\"ts_ns\":%llu,"
			                   "\"run\":\"%s\",\"host\":\"%s\",\"zone\":\"gpu%u\",\"zone_index\":%u,"
			                   "\"kind\":\"gpu\",\"source\":\"nvml\",\"estimate\":false,\"dt_s\":1,"
			                   "\"energy_j\":%.1f,\"power_w\":%.1f,\"share\":1}",
			                   run, sec, g, BASE_NS + (unsigned long long)sec * 1000000000ull, run, host, g,
			                   g, w, w);
			for (;;) {
				rd_kafka_resp_err_t e =
					rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_KEY(run, strlen(run)),
				                          RD_KAFKA_V_VALUE(line, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				                          RD_KAFKA_V_END);
				if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
					break;
				if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
					fprintf(stderr, "bench_fleet: produce: %s\n", rd_kafka_err2str(e));
					exit(1);
				}
				rd_kafka_poll(rk, 10);
			}
			n++;
		}
		rd_kafka_poll(rk, 0);
	}
	return n;
}

static PGconn *pg_open(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_fleet: %s", PQerrorMessage(c));
		exit(2);
	}
	return c;
}

/* Events of this measure stored so far: the log's rows whose series starts with the tag (a
 * range of the (run, ts_ns) index; the newest sequence number would count the numbers that
 * duplicates skipped by the id's ON CONFLICT take too). */
static long long stored(PGconn *c, const char *tag)
{
	char lo[8], hi[8];
	snprintf(lo, sizeof(lo), "%.4s", tag);
	snprintf(hi, sizeof(hi), "%.4s~", tag);
	const char *p[2] = {lo, hi};
	PGresult *r = PQexecParams(c, "SELECT count(*) FROM ev_log WHERE run >= $1 AND run < $2", 2, NULL, p,
	                           NULL, NULL, 0);
	long long n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : -1;
	PQclear(r);
	return n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int mode_produce(const struct opts *o)
{
	rd_kafka_t *rk = producer(o);
	double t0 = now_s();
	long long n = 0;
	for (unsigned s = 0; s < o->seconds; s++)
		n += produce_second(rk, o, s);
	rd_kafka_flush(rk, 120000);
	double t = now_s() - t0;
	int left = rd_kafka_outq_len(rk);
	rd_kafka_destroy(rk);
	printf("produced=%lld seconds=%.3f rate=%.0f undelivered=%d\n", n, t, (double)n / t, left);
	return left ? 1 : 0;
}

static int mode_realtime(const struct opts *o)
{
	rd_kafka_t *rk = producer(o);
	PGconn *c = pg_open(o->pg);
	long long base = stored(c, o->tag), produced = 0;
	double rate = (double)o->hosts * o->gpus; /* events per second */
	size_t nl = 0, cap = (size_t)o->seconds * 4 + 64;
	double *lag = calloc(cap, sizeof(double));
	double cpu0 = pids_cpu(o->pids), t0 = now_s();
	for (unsigned s = 0; s < o->seconds; s++) {
		produced += produce_second(rk, o, s);
		/* until the next simulated second is due: read the store every 0.25 s */
		for (;;) {
			double due = t0 + (double)(s + 1), t = now_s();
			long long got = stored(c, o->tag) - base;
			if (nl < cap && s >= 2) /* after a 2 s warm-up */
				lag[nl++] = (double)(produced - got) / rate;
			if (t >= due)
				break;
			double w = due - t < 0.25 ? due - t : 0.25;
			rd_kafka_poll(rk, (int)(w * 1000));
		}
	}
	rd_kafka_flush(rk, 60000);
	/* the tail: how long the last second takes to be stored */
	double tail0 = now_s();
	while (stored(c, o->tag) - base < produced && now_s() - tail0 < 120)
		usleep(50000);
	double wall = now_s() - t0, cpu = pids_cpu(o->pids) - cpu0;
	long long got = stored(c, o->tag) - base;
	qsort(lag, nl, sizeof(double), cmp_d);
	double p50 = nl ? lag[nl / 2] : 0, p99 = nl ? lag[(nl * 99) / 100] : 0, mx = nl ? lag[nl - 1] : 0;
	printf("produced=%lld stored=%lld rate=%.0f wall=%.2f lag_p50=%.2f lag_p99=%.2f lag_max=%.2f "
	       "tail=%.2f cpu=%.2f cpu_per_1000_hosts=%.3f\n",
	       produced, got, rate, wall, p50, p99, mx, now_s() - tail0, cpu,
	       cpu / wall / ((double)o->hosts / 1000.0));
	free(lag);
	PQfinish(c);
	rd_kafka_destroy(rk);
	return got == produced ? 0 : 1;
}

static int mode_watch(const struct opts *o)
{
	PGconn *c = pg_open(o->pg);
	double cpu0 = pids_cpu(o->pids), t0 = now_s(), last_t = t0;
	long long n = stored(c, o->tag), last = n, first = -1;
	double t_first = t0;
	while (n < o->expect) {
		usleep(100000);
		n = stored(c, o->tag);
		double t = now_s();
		if (first < 0 && n > 0) {
			first = n;
			t_first = t;
		}
		if (n != last) {
			last = n;
			last_t = t;
		} else if (t - last_t > o->timeout_s) {
			break;
		}
	}
	double t = now_s(), cpu = pids_cpu(o->pids) - cpu0;
	/* the rate from the first stored event on: serve's start-up and group join are not in it */
	double span = t - t_first;
	printf("stored=%lld expect=%lld wall=%.2f rate=%.0f cpu=%.2f cpu_per_event_us=%.2f\n", n, o->expect,
	       t - t0, span > 0 ? (double)(n - (first > 0 ? first : 0)) / span : 0, cpu,
	       n > 0 ? cpu / (double)n * 1e6 : 0);
	PQfinish(c);
	return n >= o->expect ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o = {.hosts = 1000, .gpus = 8, .seconds = 30, .timeout_s = 30, .tag = "FLT0"};
	if (argc < 2) {
		fprintf(stderr, "usage: bench_fleet produce|realtime|watch OPTIONS (see the source)\n");
		return 2;
	}
	o.mode = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--bootstrap"))
			o.bootstrap = v;
		else if (!strcmp(k, "--topic"))
			o.topic = v;
		else if (!strcmp(k, "--pg"))
			o.pg = v;
		else if (!strcmp(k, "--tag"))
			o.tag = v;
		else if (!strcmp(k, "--pids"))
			o.pids = v;
		else if (!strcmp(k, "--hosts"))
			o.hosts = (unsigned)atoi(v);
		else if (!strcmp(k, "--gpus"))
			o.gpus = (unsigned)atoi(v);
		else if (!strcmp(k, "--seconds"))
			o.seconds = (unsigned)atoi(v);
		else if (!strcmp(k, "--expect"))
			o.expect = atoll(v);
		else if (!strcmp(k, "--timeout"))
			o.timeout_s = atof(v);
		else {
			fprintf(stderr, "bench_fleet: unknown option %s\n", k);
			return 2;
		}
	}
	if (!strcmp(o.mode, "produce") && o.bootstrap && o.topic)
		return mode_produce(&o);
	if (!strcmp(o.mode, "realtime") && o.bootstrap && o.topic && o.pg)
		return mode_realtime(&o);
	if (!strcmp(o.mode, "watch") && o.pg && o.expect > 0)
		return mode_watch(&o);
	fprintf(stderr, "bench_fleet: missing options for %s\n", o.mode);
	return 2;
}
