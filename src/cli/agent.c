/* `joulestream agent`: measures this host continuously (include/joulestream/agent.h) on a
 * timerfd, serves /metrics, streams the host's events to --sink, until INT or TERM. It prints
 * "metrics on http[s]://ADDR:PORT/metrics" on stdout once ready (port 0: a free port). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/agent.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream agent [--listen ADDR:PORT] [--interval DUR] [--sink TARGET] [--spool DIR]\n"
	           "                         [--zone CODE] [--top N] [--sensors LIST] [--no-estimate]\n"
	           "                         [--sysfs-root DIR] [--procfs-root DIR] [--ca FILE]\n"
	           "                         [--tls-cert FILE --tls-key FILE]\n"
	           "Measures the whole host continuously: Prometheus metrics at /metrics (zones, workloads:\n"
	           "containers, Kubernetes pods, joulestream runs; the agent's own cost) and the host's events\n"
	           "to --sink (file:PATH, http[s]://HOST:PORT with the token in JOULESTREAM_TOKEN, or\n"
	           "kafka://HOST:PORT[,HOST:PORT…]/TOPIC keyed by run id, the host's for host events).\n"
	           "The events are the host's series (\"series\":\"host\"): serve counts them as the host's\n"
	           "energy, once, and the runs on the host as parts of it, never added to it.\n\n"
	           "  --listen ADDR:PORT   /metrics address (default 127.0.0.1:9464; port 0: a free port)\n"
	           "  --interval DUR       sampling interval (default 1s)\n"
	           "  --top N              workloads with their own label; later ones count as \"other\" (20)\n"
	           "  --zone CODE          the host's grid zone, sent with its events and used for the CO2e and\n"
	           "                       water counters (default $JOULESTREAM_ZONE: systemd, a ConfigMap)\n"
	           "  --tls-cert FILE      serve /metrics over HTTPS with this PEM certificate (chain)...\n"
	           "  --tls-key FILE       ...and its PEM private key (both or neither)\n"
	           "  --ca FILE            trust the CA or self-signed certificate in FILE (PEM) for an\n"
	           "                       https:// sink, instead of the system's CAs\n");
}

int cli_agent(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_INTERVAL, O_SINK, O_SPOOL, O_ZONE, O_TOP, O_SENSORS, O_NOEST, O_SYSFS, O_PROCFS,
	       O_TLS_CERT, O_TLS_KEY, O_CA };
	static const struct option lo[] = {
		{"listen", required_argument, 0, O_LISTEN}, {"interval", required_argument, 0, O_INTERVAL},
		{"sink", required_argument, 0, O_SINK}, {"spool", required_argument, 0, O_SPOOL},
		{"zone", required_argument, 0, O_ZONE}, {"top", required_argument, 0, O_TOP},
		{"sensors", required_argument, 0, O_SENSORS}, {"no-estimate", no_argument, 0, O_NOEST},
		{"sysfs-root", required_argument, 0, O_SYSFS}, {"procfs-root", required_argument, 0, O_PROCFS},
		{"tls-cert", required_argument, 0, O_TLS_CERT}, {"tls-key", required_argument, 0, O_TLS_KEY},
		{"ca", required_argument, 0, O_CA}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct jst_agent_opts o = {.interval_ns = 1000000000u, .listen = "127.0.0.1:9464"};
	double top;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_LISTEN: o.listen = optarg; break;
		case O_INTERVAL:
			if (cli_parse_duration(optarg, &o.interval_ns) < 0 || o.interval_ns < 10000000u ||
			    o.interval_ns > 3600000000000u) {
				fprintf(stderr, "joulestream agent: bad --interval '%s' (10ms to 1h)\n", optarg);
				return 2;
			}
			break;
		case O_SINK: o.sink = optarg; break;
		case O_SPOOL: o.spool = optarg; break;
		case O_ZONE:
			o.zone = optarg;
			if (cli_nonempty("agent", "--zone", optarg))
				return 2;
			break;
		case O_TOP:
			if (cli_parse_number(optarg, 1, 1000, &top) < 0) {
				fprintf(stderr, "joulestream agent: bad --top '%s' (1 to 1000)\n", optarg);
				return 2;
			}
			o.top = (size_t)top;
			break;
		case O_SENSORS: o.sensors = optarg; break;
		case O_NOEST: o.no_estimate = true; break;
		case O_SYSFS: o.roots.sysfs = optarg; break;
		case O_PROCFS: o.roots.procfs = optarg; break;
		case O_TLS_CERT: o.tls_cert = optarg; break;
		case O_TLS_KEY: o.tls_key = optarg; break;
		case O_CA: o.ca = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (cli_roots(&o.roots, "joulestream agent") < 0)
		return 2;
	if (!o.zone && getenv("JOULESTREAM_ZONE") && getenv("JOULESTREAM_ZONE")[0])
		o.zone = getenv("JOULESTREAM_ZONE");
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct jst_agent *a;
	char err[600];
	if (jst_agent_new(&a, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream agent: %s\n", err);
		return 1;
	}
	char host[64];
	const char *colon = strrchr(o.listen, ':');
	snprintf(host, sizeof(host), "%.*s", (int)(colon - o.listen), o.listen);
	printf("joulestream agent: metrics on %s://%s:%u/metrics\n", o.tls_cert ? "https" : "http", host,
	       jst_agent_port(a));
	fflush(stdout);
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	struct timespec iv = {(time_t)(o.interval_ns / 1000000000u), (long)(o.interval_ns % 1000000000u)};
	struct itimerspec its = {iv, iv};
	if (tfd < 0 || sfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
		fprintf(stderr, "joulestream agent: timer setup failed: %s\n", strerror(errno));
		jst_agent_free(a, 0, NULL);
		return 1;
	}
	for (;;) {
		struct pollfd pfd[2] = {{tfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN)
			break;
		uint64_t exp;
		if ((pfd[0].revents & POLLIN) && read(tfd, &exp, sizeof(exp)) == (ssize_t)sizeof(exp))
			jst_agent_tick(a, jst__mono_ns());
	}
	close(tfd);
	close(sfd);
	jst_agent_free(a, 3000, NULL);
	fprintf(stderr, "joulestream agent: stopped\n");
	return 0;
}
