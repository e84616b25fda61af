/* `joulestream run [OPTIONS] -- CMD [ARGS...]`: measures one command from start to exit.
 * The command is sacred: its stdin, stdout and stderr are untouched, INT, TERM and HUP sent to
 * joulestream are forwarded to it, and its exit status is passed through (128+N when it dies of
 * signal N). Nothing that fails here (a sensor, the store, an output file) stops or slows it;
 * the report says what went wrong. The loop waits on a timerfd and a signalfd, so a tick costs
 * no allocation and the command's exit is seen at once. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "cli/marksock.h"
#include "run/session.h"
#include "core/util.h"
#include "joulestream/report.h"
#include "joulestream/run.h"
#include "joulestream/store.h"
#include "joulestream/train.h"
#include "joulestream/trust.h"

#define DRAIN_NS 250000000u /* samples go to the store every 250 ms */

struct run_opts {
	const char *zone, *cloud, *db, *json, *csv, *sensors, *project;
	const char *sink, *spool, *model, *ca; /* --sink, --spool, --model, --ca (run_sink.c) */
	struct jst_roots roots;
	double pue, wue;
	uint64_t interval_ns;
	enum jst_scope scope;
	bool quiet, no_store, no_estimate;
	struct run_carbon_opts carbon; /* --intensity, --live, --site, --config, SCI (carbon_opts.c) */
};

struct run_state {
	struct run_opts o;
	struct jst_run *run;
	struct jst_monitor *mon;
	struct jst__session ses; /* the run's store and sinks (src/run/session.c) */
	FILE *json;
	pid_t child;
	int status;
	bool exited;
	sigset_t sigs;    /* blocked, read from a signalfd: CHLD and those forwarded (FORWARDED) */
	sigset_t oldmask; /* the mask the command gets back */
	struct marksock sock; /* training marks from the command (JOULESTREAM_SOCKET) */
	struct run_carbon carbon; /* configuration, intensity series, live source (run_carbon.c) */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: joulestream run [OPTIONS] [--] CMD [ARGS...]\n"
	        "Runs CMD, measures its energy with the machine's sensors, prints its energy, carbon and\n"
	        "water footprint on stderr at exit and stores the run. CMD's exit status is passed through.\n\n"
	        "  --zone CODE          grid zone: ISO 3166 country (DE, FR, US) or a region code (US-CAL-CISO)\n"
	        "  --cloud P:REGION     cloud region (aws:eu-central-1, gcp:europe-west4, azure:westeurope):\n"
	        "                       its grid zone, PUE and WUE\n"
	        "  --pue X              power usage effectiveness, >= 1 (default %.2f, or the cloud's)\n"
	        "  --wue L              on-site water, L per IT kWh (default %.1f, or the cloud's)\n"
	        "  --interval DUR       sampling interval, 1ms..1h (default 1s): 10ms, 0.5s, 2m\n"
	        "  --scope process|host charge the command's share (default) or the whole machine\n"
	        "  --db PATH            SQLite store (default $XDG_DATA_HOME/joulestream/joulestream.db)\n"
	        "  --no-store           do not store the run\n"
	        "  --json FILE          write the whole run record as JSON\n"
	        "  --csv FILE           append a CodeCarbon-compatible emissions.csv row\n"
	        "  --project NAME       a label for the run (CodeCarbon's project_name)\n"
	        "  --sensors LIST       only these backends (rapl,nvml,hwmon,estimate)\n"
	        "  --no-estimate        never estimate; unmeasured zones are left out\n"
	        "  --sysfs-root DIR     where /sys is (containers, tests); default /\n"
	        "  --procfs-root DIR    where /proc is; default /\n"
	        "  --sink TARGET        stream the run as events: file:PATH (NDJSON) or\n"
	        "                       http[s]://HOST:PORT (joulestream serve; token in JOULESTREAM_TOKEN)\n"
	        "                       or kafka://HOST:PORT[,HOST:PORT…]/TOPIC (key: the run id);\n"
	        "                       the command's training marks go too (phases, metrics)\n"
	        "  --ca FILE            trust the CA or self-signed certificate in FILE (PEM) for an\n"
	        "                       https:// sink, instead of the system's CAs\n"
	        "  --spool DIR          where --sink http/kafka keeps undelivered events (default\n"
	        "                       $XDG_DATA_HOME/joulestream/spool, at most 64 MiB)\n"
	        "  --model NAME         the model trained, for the server's per-model totals\n"
	        "  --quiet              no summary on stderr\n",
	        JST_DEFAULT_PUE, JST_DEFAULT_WUE_L_PER_KWH);
	cli_run_carbon_usage(f);
	fprintf(f, "\nCMD gets JOULESTREAM_RUN_ID and JOULESTREAM_SOCKET: training phases, steps, epochs and\n"
	           "metrics sent there (the Python package does it, docs/python.md) are split out in the report.\n");
}

static int bad(const char *what, const char *val)
{
	fprintf(stderr, "joulestream run: bad %s '%s' (see joulestream run --help)\n", what, val);
	return 2;
}

/* Returns -1 when the options are good (argv[*cmd] starts the command), else an exit status. */
static int parse(int argc, char **argv, struct run_opts *o, int *cmd)
{
	enum { O_ZONE = 256, O_CLOUD, O_PUE, O_WUE, O_INTERVAL, O_SCOPE, O_DB, O_NOSTORE, O_JSON,
	       O_CSV, O_PROJECT, O_SENSORS, O_NOEST, O_SYSFS, O_PROCFS, O_QUIET, O_SINK, O_SPOOL, O_MODEL, O_CA };
	static const struct option lo[] = {
		{"zone", required_argument, 0, O_ZONE}, {"cloud", required_argument, 0, O_CLOUD},
		{"pue", required_argument, 0, O_PUE}, {"wue", required_argument, 0, O_WUE},
		{"interval", required_argument, 0, O_INTERVAL}, {"scope", required_argument, 0, O_SCOPE},
		{"db", required_argument, 0, O_DB}, {"no-store", no_argument, 0, O_NOSTORE},
		{"json", required_argument, 0, O_JSON}, {"csv", required_argument, 0, O_CSV},
		{"project", required_argument, 0, O_PROJECT}, {"sensors", required_argument, 0, O_SENSORS},
		{"no-estimate", no_argument, 0, O_NOEST}, {"sysfs-root", required_argument, 0, O_SYSFS},
		{"procfs-root", required_argument, 0, O_PROCFS}, {"quiet", no_argument, 0, O_QUIET},
		{"sink", required_argument, 0, O_SINK}, {"spool", required_argument, 0, O_SPOOL},
		{"model", required_argument, 0, O_MODEL}, {"ca", required_argument, 0, O_CA},
		CLI_RUN_CARBON_OPTIONS,
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	*o = (struct run_opts){.pue = -1, .wue = -1, .interval_ns = 1000000000u};
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+hq", lo, NULL)) != -1) {
		switch (c) {
		case O_ZONE:
		case O_CLOUD:
			if (cli_nonempty("run", c == O_ZONE ? "--zone" : "--cloud", optarg))
				return 2;
			*(c == O_ZONE ? &o->zone : &o->cloud) = optarg;
			break;
		case O_PUE:
			if (cli_parse_number(optarg, 1.0, 5.0, &o->pue) < 0)
				return bad("--pue (a number from 1 to 5)", optarg);
			break;
		case O_WUE:
			if (cli_parse_number(optarg, 0.0, 100.0, &o->wue) < 0)
				return bad("--wue (litres per kWh, 0 to 100)", optarg);
			break;
		case O_INTERVAL:
			if (cli_parse_duration(optarg, &o->interval_ns) < 0 || o->interval_ns < 1000000u ||
			    o->interval_ns > 3600000000000u)
				return bad("--interval (from 1ms to 1h)", optarg);
			break;
		case O_SCOPE:
			if (strcmp(optarg, "process") == 0)
				o->scope = JST_SCOPE_PROCESS;
			else if (strcmp(optarg, "host") == 0)
				o->scope = JST_SCOPE_HOST;
			else
				return bad("--scope (process or host)", optarg);
			break;
		case O_DB: o->db = optarg; break;
		case O_NOSTORE: o->no_store = true; break;
		case O_JSON: o->json = optarg; break;
		case O_CSV: o->csv = optarg; break;
		case O_PROJECT: o->project = optarg; break;
		case O_SENSORS: o->sensors = optarg; break;
		case O_NOEST: o->no_estimate = true; break;
		case O_SYSFS: o->roots.sysfs = optarg; break;
		case O_PROCFS: o->roots.procfs = optarg; break;
		case 'q':
		case O_QUIET: o->quiet = true; break;
		case O_SINK: o->sink = optarg; break;
		case O_SPOOL: o->spool = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case 'h': usage(stdout); return 0;
		default: {
			int r = cli_run_carbon_option(c, optarg, argc, argv, &optind, &o->carbon);
			if (r == 1)
				break;
			if (r == 0)
				usage(stderr);
			return 2;
		}
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "joulestream run: no command given: joulestream run [OPTIONS] -- CMD [ARGS...]\n");
		return 2;
	}
	if (cli_roots(&o->roots, "joulestream run") < 0)
		return 2;
	*cmd = optind;
	return -1;
}

/* Output files are opened before the command starts, so a typo fails now, not after hours. */
static int open_outputs(struct run_state *st)
{
	if (st->o.json && !(st->json = fopen(st->o.json, "w"))) {
		fprintf(stderr, "joulestream run: cannot write --json %s: %s\n", st->o.json, strerror(errno));
		return 2;
	}
	if (st->o.csv) {
		FILE *f = fopen(st->o.csv, "a");
		if (!f) {
			fprintf(stderr, "joulestream run: cannot write --csv %s: %s\n", st->o.csv, strerror(errno));
			return 2;
		}
		fclose(f);
	}
	return 0;
}

static void drain(struct run_state *st)
{
	jst__session_drain(&st->ses, st->mon);
}

/* A mark the monitor accepted: streamed as a phase or metric event to the run's sinks. */
static void sink_mark(const struct jst_mark *mk, uint64_t mono_ns, void *ud)
{
	struct run_state *st = ud;
	jst__session_mark(&st->ses, st->mon, mk, mono_ns);
}

/* Starts the command. Returns 0, or the exit status to give (126/127) when it cannot run. */
static int spawn(struct run_state *st, char **cmd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("joulestream run: pipe");
		return 127;
	}
	char id_env[64];
	snprintf(id_env, sizeof(id_env), "JOULESTREAM_RUN_ID=%s", st->run->id);
	pid_t pid = fork();
	if (pid < 0) {
		perror("joulestream run: fork");
		return 127;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_SETMASK, &st->oldmask, NULL);
		putenv(id_env);
		/* the sink's secret stays with joulestream: the measured command (any script) must
		 * not be able to read the fleet or post events as someone else */
		unsetenv("JOULESTREAM_TOKEN");
		if (st->sock.fd >= 0)
			putenv(st->sock.env);
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(p[1]);
	int e = 0;
	ssize_t r;
	while ((r = read(p[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(p[0]);
	st->child = pid;
	if (r == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		fprintf(stderr, "joulestream run: cannot run '%s': %s\n", cmd[0], strerror(e));
		return e == ENOENT ? 127 : 126;
	}
	return 0;
}

static double reaped_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void reap(struct run_state *st)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == st->child) {
			st->status = status;
			st->exited = true;
		} else {
			jst_meta_child_exited(pid, status);
		}
	}
}

/* A signal for the command. A terminal's ^C, ^\ or ^Z already reached it (same process
 * group: si_code SI_KERNEL); one sent to joulestream alone is passed on. A terminal's ^Z also
 * stops joulestream, so that the shell gets its prompt back (a blocked TSTP would leave it
 * waiting for a job that never stops); the shell's CONT wakes both. */
static void forward(struct run_state *st, int sig, int code)
{
	if (code != SI_KERNEL && !st->exited)
		kill(st->child, sig);
	else if (sig == SIGTSTP && code == SI_KERNEL)
		raise(SIGSTOP);
}

static void on_signal(struct run_state *st, int sfd)
{
	struct signalfd_siginfo si;
	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(st);
		else
			forward(st, (int)si.ssi_signo, si.ssi_code);
	}
}

/* Waits for the command without measuring (no sensors, or no timer), forwarding signals the
 * same way as the loop does. */
static void wait_unmeasured(struct run_state *st)
{
	while (!st->exited) {
		siginfo_t si;
		int sig = sigwaitinfo(&st->sigs, &si);
		if (sig == SIGCHLD)
			reap(st);
		else if (sig > 0)
			forward(st, sig, si.si_code);
	}
}

/* Ticks until the command exits. */
static void loop(struct run_state *st)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	int sfd = signalfd(-1, &st->sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	struct itimerspec its = {
		{(time_t)(st->o.interval_ns / 1000000000u), (long)(st->o.interval_ns % 1000000000u)},
		{(time_t)(st->o.interval_ns / 1000000000u), (long)(st->o.interval_ns % 1000000000u)},
	};
	if (tfd < 0 || sfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
		jst_run_note(st->run, "timer setup failed (%s): only start and end were measured", strerror(errno));
		wait_unmeasured(st);
	}
	uint64_t last_drain = jst__mono_ns();
	reap(st); /* a command that exited before the signalfd existed */
	while (!st->exited && tfd >= 0 && sfd >= 0) {
		struct pollfd pfd[3] = {{tfd, POLLIN, 0}, {sfd, POLLIN, 0}, {st->sock.fd, POLLIN, 0}};
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents & POLLIN)
			marksock_read(&st->sock, st->mon, sink_mark, st);
		if (pfd[1].revents & POLLIN)
			on_signal(st, sfd);
		if (pfd[0].revents & POLLIN) {
			uint64_t expirations;
			if (read(tfd, &expirations, sizeof(expirations)) < 0)
				continue;
			uint64_t now = jst__mono_ns();
			jst_monitor_tick(st->mon, now, reaped_cpu_s());
			marksock_say(&st->sock, st->mon, st->o.quiet);
			if (now - last_drain >= DRAIN_NS) {
				drain(st);
				last_drain = now;
			}
		}
	}
	if (tfd >= 0)
		close(tfd);
	if (sfd >= 0)
		close(sfd);
}

static int exit_status(struct run_state *st)
{
	if (WIFSIGNALED(st->status)) {
		st->run->exit_signal = WTERMSIG(st->status);
		return 128 + WTERMSIG(st->status);
	}
	return WIFEXITED(st->status) ? WEXITSTATUS(st->status) : 1;
}

/* The files and the report, once the session has stored the record. */
static void outputs(struct run_state *st)
{
	struct jst_run *run = st->run;
	if (st->o.csv) {
		int r = jst_report_csv_append(st->o.csv, run);
		if (r < 0)
			jst_run_note(run, "--csv %s not written: %s", st->o.csv, jst_strerror(r));
	}
	if (st->json) {
		jst_report_json(st->json, run, jst_monitor_timeline(st->mon));
		if (fclose(st->json) != 0)
			jst_run_note(run, "--json %s not written: %s", st->o.json, strerror(errno));
		st->json = NULL;
	}
	if (!st->o.quiet) {
		char tilde[1100], where[1200] = "";
		if (st->ses.store && !st->ses.store_failed)
			snprintf(where, sizeof(where), "%s", cli_tilde(st->ses.store_path, tilde, sizeof(tilde)));
		jst_report_text(stderr, run, where);
	}
}

static void fill_gpu_meta(struct jst_run *run)
{
	unsigned n = 0;
	const char *label = "";
	for (size_t i = 0; i < run->nzones; i++)
		if (run->zones[i].zone.kind == JST_KIND_GPU) {
			n++;
			label = run->zones[i].zone.label;
		}
	if (n)
		snprintf(run->meta.gpus, sizeof(run->meta.gpus), "%u x %s", n, label);
}

/* The digests of the run's configuration and bundled data (record.h), in run_start's record:
 * the zones are known once the monitor has opened the sensors. */
static void record_digests(struct run_state *st)
{
	char intensity[48] = "";
	if (st->carbon.live)
		snprintf(intensity, sizeof(intensity), "live:%.40s",
			 st->carbon.provider[0] ? st->carbon.provider : st->carbon.cfg.live);
	else if (st->carbon.series)
		snprintf(intensity, sizeof(intensity), "file");
	struct jst_config_in in = {
		&st->carbon.cfg,   st->o.zone,        st->o.cloud,
		st->o.carbon.site, st->o.pue,         st->o.wue,
		st->o.sensors,     st->o.no_estimate, intensity[0] ? intensity : NULL};
	jst_run_digests(st->run, &in);
}

int cli_run_check(int argc, char **argv)
{
	struct run_opts *o = calloc(1, sizeof(*o));
	int cmd = 0;
	if (!o)
		return 1;
	int rc = parse(argc, argv, o, &cmd);
	free(o);
	return rc < 0 ? 0 : rc == 0 ? 2 : rc;
}

int cli_run(int argc, char **argv)
{
	struct run_state st = {0};
	st.sock.fd = -1; /* no socket until marksock_open */
	int cmd = 0;
	int rc = parse(argc, argv, &st.o, &cmd);
	if (rc >= 0)
		return rc;
	st.run = calloc(1, sizeof(*st.run));
	if (!st.run) {
		fprintf(stderr, "joulestream run: out of memory\n");
		return 127;
	}
	struct jst_run *run = st.run;
	/* zone, PUE, WUE (options, site, time-zone guess), intensity series: before the command */
	if ((rc = run_carbon_prepare(&st.carbon, &st.o.carbon, st.o.zone, st.o.cloud, st.o.pue,
	                             st.o.wue, run)) != 0 ||
	    (rc = open_outputs(&st)) != 0 ||
	    (rc = jst__session_open(&st.ses, "joulestream run", run, st.o.sink, st.o.spool, st.o.ca)) != 0) {
		run_carbon_release(&st.carbon);
		free(run);
		return rc;
	}
	jst_run_id_new(run->id);
	jst_meta_collect(&run->meta, st.o.roots.procfs, argc - cmd, argv + cmd);
	if (st.o.project)
		jst__strlcpy(run->meta.project, st.o.project, sizeof(run->meta.project));
	struct jst_monitor_opts mo = {st.o.roots, st.o.sensors, st.o.no_estimate, st.o.scope,
	                              st.o.interval_ns, 0};
	if (jst_monitor_new(&st.mon, &mo, run) < 0) {
		fprintf(stderr, "joulestream run: cannot set up the sensors; running the command unmeasured\n");
		st.mon = NULL;
	}
	fill_gpu_meta(run);
	record_digests(&st);
	if (!st.o.no_store)
		jst__session_store(&st.ses, st.o.db, st.o.spool);
	run_carbon_start(&st.carbon, st.mon);
	/* the series' values go into the log as the samples use them */
	jst__session_series(&st.ses, st.carbon.series);

	/* Signals are read from a signalfd: block them here, the child restores the mask. Every
	 * catchable signal a user or a scheduler sends (SLURM's --signal sends USR1; QUIT, ALRM,
	 * job control) goes on to the command, and joulestream survives it to write the record. */
	static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
	                                SIGALRM, SIGWINCH, SIGTSTP, SIGCONT};
	sigemptyset(&st.sigs);
	sigaddset(&st.sigs, SIGCHLD);
	for (size_t i = 0; i < JST_ARRAY_LEN(forwarded); i++)
		sigaddset(&st.sigs, forwarded[i]);
	sigprocmask(SIG_BLOCK, &st.sigs, &st.oldmask);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	uint64_t t0 = jst__mono_ns(); /* the run's clock */
	if (st.mon) {
		marksock_open(&st.sock, run);
		jst_monitor_start(st.mon, t0);
	}
	if ((rc = spawn(&st, argv + cmd)) != 0)
		goto out;
	if (st.mon) {
		jst_monitor_attach(st.mon, st.child, getpid());
		jst__session_begin(&st.ses, t0, st.o.model, argc - cmd, argv + cmd);
		loop(&st);
		/* marks the command sent just before it exited */
		marksock_read(&st.sock, st.mon, sink_mark, &st);
		uint64_t t1 = jst__mono_ns();
		jst_monitor_tick(st.mon, t1, reaped_cpu_s());
		jst_monitor_finish(st.mon, t1);
		marksock_say(&st.sock, st.mon, st.o.quiet);
	} else {
		wait_unmeasured(&st);
	}
	rc = exit_status(&st);
	run->exit_code = rc;
	jst_meta_collect_finish(&run->meta);
	if (st.mon) {
		drain(&st);
		/* the samples are read back from the store's log by the live source's replay */
		jst__session_sync(&st.ses, 0);
		/* a live source is asked only now that the command has ended */
		run_carbon_finish(&st.carbon, run, st.ses.store && !st.ses.store_failed ? st.ses.store : NULL,
		                  jst_monitor_timeline(st.mon));
		if (st.carbon.live) /* its values before run_end, which has its figure */
			jst__session_series(&st.ses, st.carbon.series);
		jst__session_finish(&st.ses);
		outputs(&st);
	}
out:
	jst__session_close(&st.ses); /* sinks still open only when the command did not start */
	run_carbon_release(&st.carbon);
	marksock_close(&st.sock);
	if (st.json)
		fclose(st.json);
	jst_monitor_free(st.mon);
	free(run);
	return rc;
}
