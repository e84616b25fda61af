/* `joulestream serve`: the ingest server and query API (include/joulestream/server.h) until
 * INT or TERM. It prints "listening on http://ADDR:PORT" on stdout once ready (port 0 picks a
 * free port: tests read it there). `joulestream replay` rebuilds every aggregate from the raw
 * events of the same store. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "joulestream/audit.h"
#include "joulestream/ingest.h"
#include "joulestream/server.h"
#include "joulestream/store.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream serve [--listen ADDR:PORT] [--db PATH|postgresql://…] [--threads N]\n"
	           "                         [--body-max BYTES] [--batch-max N] [--tls-cert FILE --tls-key FILE]\n"
	           "                         [--source kafka://BROKERS/TOPIC [--group NAME]] [--config FILE]\n"
	           "                         [--header-timeout S] [--body-timeout S] [--per-client N]\n"
	           "Ingests events (POST /api/v1/events, NDJSON, Authorization: Bearer TOKEN) and answers\n"
	           "the query API (docs/api.md) until INT or TERM.\n\n"
	           "  --listen ADDR:PORT   IPv4 address and port (default 127.0.0.1:8080; port 0: a free port)\n"
	           "  --db PATH            the store (default $XDG_DATA_HOME/joulestream/joulestream.db)\n"
	           "  --store URI          the same; postgresql://USER@HOST:PORT/DB for PostgreSQL\n"
	           "  --threads N          HTTP worker threads (default 2)\n"
	           "  --body-max BYTES     largest request body (default 8388608)\n"
	           "  --batch-max N        most events per batch (default 10000)\n"
	           "  --header-timeout S   a request's headers are due within S seconds of its connection\n"
	           "                       (or of its previous request), or it is cut (default 30)\n"
	           "  --body-timeout S     its body within S seconds of its headers (default 120)\n"
	           "  --per-client N       open connections of one client address (default 64)\n"
	           "  --tls-cert FILE      serve HTTPS only (TLS 1.2 or 1.3), with this PEM certificate (chain)...\n"
	           "  --tls-key FILE       ...and its PEM private key (both or neither; docs/api.md)\n"
	           "  --source kafka://HOST:PORT[,HOST:PORT…]/TOPIC\n"
	           "                       also consume events from this Kafka topic, as a member of --group:\n"
	           "                       several serve share its partitions; offsets are kept in the store,\n"
	           "                       in the same transaction as the events (exactly once; docs/api.md)\n"
	           "  --group NAME         the consumer group (default joulestream-serve)\n"
	           "  --config FILE        the configuration whose [site NAME] sections the dashboard's Zones\n"
	           "                       page lists (default $JOULESTREAM_CONFIG, else\n"
	           "                       ~/.config/joulestream/config; read once at start)\n"
	           "  --source-batch N     messages per store transaction (default 1000)\n"
	           "  --source-linger MS   longest wait to fill a batch (default 200)\n"
	           "  --source-session-timeout MS\n"
	           "                       a member silent this long is dead: its partitions move (default 10000)\n"
	           "Tokens: joulestream token create --role agent|reader|admin.\n"
	           "Admins also read the audit log (GET /api/v1/audit) and delete runs (DELETE\n"
	           "/api/v1/runs/ID); every batch, deletion and refused attempt is logged (docs/audit.md).\n");
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
		{"batch-max", required_argument, 0, 'n'}, {"tls-cert", required_argument, 0, 'c'},
		{"tls-key", required_argument, 0, 'k'}, {"source", required_argument, 0, 'S'},
		{"group", required_argument, 0, 'G'}, {"source-batch", required_argument, 0, 'B'},
		{"source-linger", required_argument, 0, 'L'}, {"source-session-timeout", required_argument, 0, 'T'},
		{"config", required_argument, 0, 'C'}, {"header-timeout", required_argument, 0, 'H'},
		{"body-timeout", required_argument, 0, 'Y'}, {"per-client", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	static struct jst_config cfg; /* read by the server until it stops */
	const char *config = NULL;
	struct jst_server_opts o = {.listen = "127.0.0.1:8080"};
	const char *db = NULL;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'd': db = optarg; break;
		case 'c': o.tls_cert = optarg; break;
		case 'k': o.tls_key = optarg; break;
		case 'S': o.source = optarg; break;
		case 'G': o.group = optarg; break;
		case 'C': config = optarg; break;
		case 'B':
			if (cli_parse_number(optarg, 1, 100000, &v) < 0)
				goto bad;
			o.source_batch = (size_t)v;
			break;
		case 'L':
			if (cli_parse_number(optarg, 1, 60000, &v) < 0)
				goto bad;
			o.source_linger_ms = (unsigned)v;
			break;
		case 'T':
			if (cli_parse_number(optarg, 1000, 3600000, &v) < 0)
				goto bad;
			o.source_session_ms = (unsigned)v;
			break;
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
		case 'H':
		case 'Y':
			if (cli_parse_number(optarg, 1, 3600, &v) < 0)
				goto bad;
			*(c == 'H' ? &o.header_timeout_s : &o.body_timeout_s) = (unsigned)v;
			break;
		case 'P':
			if (cli_parse_number(optarg, 1, 512, &v) < 0)
				goto bad;
			o.per_client_max = (unsigned)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o.group && !o.source) {
		fprintf(stderr, "joulestream serve: --group needs --source kafka://HOST:PORT/TOPIC\n");
		return 2;
	}
	if (!o.tls_cert && strncmp(o.listen, "127.", 4) != 0)
		fprintf(stderr, "joulestream serve: warning: listening on %s without TLS: tokens and events cross the "
		                "network in clear; give --tls-cert and --tls-key (docs/api.md), or listen on 127.0.0.1 "
		                "behind a TLS proxy\n", o.listen);
	if (cli_load_config(config, &cfg, "serve"))
		return 2;
	o.config = &cfg;
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
	printf("joulestream serve: listening on %s://%s:%u (store %s)\n", o.tls_cert ? "https" : "http", host,
	       jst_server_port(srv), path);
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
	struct jst_audit_entry e; /* who rebuilt the views, in the store's audit log */
	jst_audit_local(&e, "aggregates.rebuild", "every aggregate", r < 0 ? "error" : "ok");
	snprintf(e.detail, sizeof(e.detail), "{\"events_replayed\":%llu}", (unsigned long long)n);
	if (jst_store_audit_add(st, &e) < 0 && r == 0)
		fprintf(stderr, "joulestream replay: warning: not written to the audit log: %s\n", jst_store_errmsg(st));
	jst_store_close(st);
	return r < 0 ? 1 : 0;
}
