/* `joulestream serve`: the ingest server and query API (include/joulestream/server.h) until
 * INT or TERM. It prints "listening on http://ADDR:PORT" on stdout once ready (port 0 picks a
 * free port: tests read it there). `joulestream replay` rebuilds every aggregate from the raw
 * events of the same store. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "joulestream/ingest.h"
#include "joulestream/server.h"
#include "joulestream/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream serve [--listen ADDR:PORT] [--db PATH|postgresql://…] [--threads N]\n"
	           "                         [--body-max BYTES] [--batch-max N]\n"
	           "Ingests events (POST /api/v1/events, NDJSON, Authorization: Bearer TOKEN) and answers\n"
	           "the query API (docs/api.md) until INT or TERM.\n\n"
	           "  --listen ADDR:PORT   IPv4 address and port (default 127.0.0.1:8080; port 0: a free port)\n"
	           "  --db PATH            the store (default $XDG_DATA_HOME/joulestream/joulestream.db)\n"
	           "  --store URI          the same; postgresql://USER@HOST:PORT/DB for PostgreSQL\n"
	           "  --threads N          HTTP worker threads (default 2)\n"
	           "  --body-max BYTES     largest request body (default 8388608)\n"
	           "  --batch-max N        most events per batch (default 10000)\n"
	           "Tokens: joulestream token create --role agent|reader|admin.\n");
}

static int count_token(const struct jst_token_info *t, void *ud)
{
	if (!t->revoked_ns)
		(*(int *)ud)++;
	return 0;
}

int cli_serve(int argc, char **argv)
{
	static const struct option lo[] = {
		{"listen", required_argument, 0, 'l'}, {"db", required_argument, 0, 'd'}, {"store", required_argument, 0, 'd'},
		{"threads", required_argument, 0, 't'}, {"body-max", required_argument, 0, 'b'},
		{"batch-max", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct jst_server_opts o = {.listen = "127.0.0.1:8080"};
	const char *db = NULL;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'd': db = optarg; break;
		case 't':
			if (cli_parse_number(optarg, 1, 64, &v) < 0)
				goto bad;
			o.threads = (unsigned)v;
			break;
		case 'b':
			if (cli_parse_number(optarg, 1024, 1 << 30, &v) < 0)
				goto bad;
			o.body_max = (size_t)v;
			break;
		case 'n':
			if (cli_parse_number(optarg, 1, 1000000, &v) < 0)
				goto bad;
			o.batch_max = (size_t)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	char path[1024];
	struct jst_store *st = cli_open_store(db, true, path, sizeof(path));
	if (!st)
		return 1;
	int ntok = 0;
	jst_store_tokens(st, count_token, &ntok);
	jst_store_close(st);
	if (ntok == 0)
		fprintf(stderr, "joulestream serve: no tokens yet: every request will be refused; create one with "
		                "joulestream token create --role agent --db %s\n", path);
	o.db = path;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL); /* before the threads start, so they inherit it */
	signal(SIGPIPE, SIG_IGN);
	struct jst_server *srv;
	char err[600];
	if (jst_server_start(&srv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream serve: %s\n", err);
		return 1;
	}
	char host[64];
	const char *colon = strrchr(o.listen, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(colon - o.listen), o.listen);
	printf("joulestream serve: listening on http://%s:%u (store %s)\n", host, jst_server_port(srv), path);
	fflush(stdout);
	int sig = 0;
	sigwait(&sigs, &sig);
	jst_server_stop(srv);
	fprintf(stderr, "joulestream serve: stopped (signal %d)\n", sig);
	return 0;
bad:
	fprintf(stderr, "joulestream serve: bad number '%s' (see joulestream serve --help)\n", optarg);
	return 2;
}

int cli_replay(int argc, char **argv)
{
	static const struct option lo[] = {{"db", required_argument, 0, 'd'}, {"store", required_argument, 0, 'd'},
	                                   {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *db = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'd')
			db = optarg;
		else {
			fprintf(c == 'h' ? stdout : stderr, "usage: joulestream replay [--db PATH|postgresql://…]\n"
			        "Deletes every aggregate of the event log and rebuilds them from the raw events.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	struct jst_store *st = cli_open_store(db, false, NULL, 0);
	if (!st)
		return 1;
	uint64_t n = 0;
	int r = jst_store_rebuild(st, &n);
	if (r < 0)
		fprintf(stderr, "joulestream replay: %s; nothing changed\n", jst_store_errmsg(st));
	else
		printf("joulestream replay: %llu events replayed, aggregates rebuilt\n", (unsigned long long)n);
	jst_store_close(st);
	return r < 0 ? 1 : 0;
}
