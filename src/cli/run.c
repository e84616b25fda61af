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
#include <regex.h>
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
#include "run/powerlimit.h"
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
	bool quiet, no_store, no_estimate, wait_descendants;
	struct run_carbon_opts carbon; /* --intensity, --live, --site, --config, SCI (carbon_opts.c) */
	const char *gpu_limit;   /* --gpu-power-limit auto[:GOAL] */
	const char *step_regex;  /* --step-regex RE: a step per matching line of CMD's stdout */
	struct jst__plim_opts plim;
	bool profile;            /* `joulestream gpu profile`: profile only, then stop CMD */
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
	bool stop_waiting;  /* INT, TERM or HUP after the command exited: stop --wait-descendants */
	uint64_t exited_ns; /* when the loop saw the command exit */
	size_t waited_for;  /* descendants alive then (--wait-descendants) */
	sigset_t sigs;    /* blocked, read from a signalfd: CHLD and those forwarded (FORWARDED) */
	sigset_t oldmask; /* the mask the command gets back */
	struct marksock sock; /* training marks from the command (JOULESTREAM_SOCKET) */
	struct run_carbon carbon; /* configuration, intensity series, live source (run_carbon.c) */
	struct jst__plim *plim;   /* --gpu-power-limit (src/run/powerlimit.c), NULL without */
	struct jst_gpu_power gpower;
	regex_t step_re;
	int out_fd;               /* --step-regex: CMD's stdout, passed through; -1 without */
	char line[4096];
	size_t line_n;
	bool stopped;             /* profile only: CMD was told to stop */
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
	        "  --wait-descendants   after CMD exits, go on measuring until the processes it started\n"
	        "                       (daemons, setsid, double forks) have exited too (INT or TERM stops\n"
	        "                       the wait); without it they are measured until CMD exits and named\n"
	        "                       in the report\n"
	        "  --quiet              no summary on stderr\n"
	        "  --gpu-power-limit auto[:GOAL]\n"
	        "                       profile the job's steps under lower GPU power limits, then set the\n"
	        "                       best for the rest of the run and restore the old one at the end;\n"
	        "                       GOAL: energy (default), time, cost:ETA (ETA*energy +\n"
	        "                       (1-ETA)*max power*time), slowdown:F (least energy at most F x the\n"
	        "                       time of the maximum limit). Needs root; else advice only\n"
	        "  --step-regex RE      a training step per line of CMD's stdout matching RE (POSIX\n"
	        "                       extended), for jobs without the Python package's step marks;\n"
	        "                       CMD's stdout then goes through a pipe\n"
	        "  --gpu-warmup N       steps before profiling (default 10)\n"
	        "  --gpu-window N       steps measured per candidate limit (default 20)\n"
	        "  --gpu-limit-step W   watts between candidate limits (default 25)\n",
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
	       O_CSV, O_PROJECT, O_SENSORS, O_NOEST, O_SYSFS, O_PROCFS, O_QUIET, O_SINK, O_SPOOL, O_MODEL, O_CA,
	       O_GPULIM, O_STEPRE, O_GWARM, O_GWIN, O_GSTEP, O_WAITDESC };
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
		{"wait-descendants", no_argument, 0, O_WAITDESC},
		{"gpu-power-limit", required_argument, 0, O_GPULIM},
		{"step-regex", required_argument, 0, O_STEPRE},
		{"gpu-warmup", required_argument, 0, O_GWARM},
		{"gpu-window", required_argument, 0, O_GWIN},
		{"gpu-limit-step", required_argument, 0, O_GSTEP},
		CLI_RUN_CARBON_OPTIONS,
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	bool profile = o->profile;
	*o = (struct run_opts){.pue = -1, .wue = -1, .interval_ns = 1000000000u, .profile = profile};
	jst__plim_parse("auto", &o->plim);
	double warmup = -1, window = -1, gstep = -1;
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
		case O_WAITDESC: o->wait_descendants = true; break;
		case O_SINK: o->sink = optarg; break;
		case O_SPOOL: o->spool = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_GPULIM:
			if (jst__plim_parse(optarg, &o->plim) < 0)
				return bad("--gpu-power-limit (auto, auto:energy, auto:time, auto:cost:ETA with "
				           "ETA 0..1, auto:slowdown:F with F >= 1)", optarg);
			o->gpu_limit = optarg;
			break;
		case O_STEPRE: o->step_regex = optarg; break;
		case O_GWARM:
			if (cli_parse_number(optarg, 0, 1e6, &warmup) < 0 || warmup != (unsigned)warmup)
				return bad("--gpu-warmup (a whole number of steps)", optarg);
			break;
		case O_GWIN:
			if (cli_parse_number(optarg, 1, 1e6, &window) < 0 || window != (unsigned)window)
				return bad("--gpu-window (a whole number of steps >= 1)", optarg);
			break;
		case O_GSTEP:
			if (cli_parse_number(optarg, 1, 1000, &gstep) < 0)
				return bad("--gpu-limit-step (watts, 1 to 1000)", optarg);
			break;
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
	if (warmup >= 0)
		o->plim.warmup = (unsigned)warmup;
	if (window >= 0)
		o->plim.window = (unsigned)window;
	if (gstep > 0)
		o->plim.step_w = gstep;
	o->plim.profile = o->profile;
	if (o->profile && !o->gpu_limit)
		o->gpu_limit = "auto";
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

/* A training step began at t_ns: to the power limit profiler. Profile only: once it is done,
 * the command is asked to stop (TERM to its process group, then to it). */
static void step(struct run_state *st, uint64_t t_ns)
{
	if (!st->plim)
		return;
	if (jst__plim_step(st->plim, t_ns) && st->o.profile && !st->stopped && st->child > 0) {
		st->stopped = true;
		kill(st->child, SIGTERM);
	}
}

/* --step-regex: CMD's stdout goes on to ours unchanged; each whole line that matches is a
 * step, dated when it arrives. A line longer than the buffer is matched on its start. */
static void read_output(struct run_state *st)
{
	char buf[4096];
	ssize_t n = read(st->out_fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(st->out_fd);
			st->out_fd = -1;
		}
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += w;
	}
	uint64_t now = jst__mono_ns();
	for (ssize_t i = 0; i < n; i++) {
		bool nl = buf[i] == '\n';
		if (!nl && st->line_n < sizeof(st->line) - 1)
			st->line[st->line_n++] = buf[i];
		if (!nl)
			continue;
		st->line[st->line_n] = '\0';
		if (regexec(&st->step_re, st->line, 0, NULL, 0) == 0)
			step(st, now);
		st->line_n = 0;
	}
}

/* A mark the monitor accepted: streamed as a phase or metric event to the run's sinks. */
static void sink_mark(const struct jst_mark *mk, uint64_t mono_ns, void *ud)
{
	struct run_state *st = ud;
	jst__session_mark(&st->ses, st->mon, mk, mono_ns);
	if (mk->kind == JST_MARK_STEP && !st->o.step_regex)
		step(st, mk->t_ns ? mk->t_ns : mono_ns);
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
	int out[2] = {-1, -1};
	if (st->o.step_regex) {
		if (pipe2(out, O_CLOEXEC) < 0) {
			perror("joulestream run: pipe");
			return 127;
		}
		st->out_fd = out[0];
	}
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
		if (st->out_fd >= 0) {
			dup2(out[1], STDOUT_FILENO);
			close(out[1]);
		}
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(p[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(p[1]);
	if (out[1] >= 0) {
		close(out[1]);
		fcntl(st->out_fd, F_SETFL, O_NONBLOCK);
	}
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
	else if (st->exited && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP))
		st->stop_waiting = true; /* --wait-descendants: the user ends the wait */
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

/* After the command exited: whether --wait-descendants keeps the loop measuring (processes
 * it started are alive, and no INT or TERM said to stop). */
static bool waiting(struct run_state *st)
{
	if (!st->o.wait_descendants || st->stop_waiting || !st->mon)
		return false;
	if (!st->exited_ns) {
		/* a tick now: the tree as it is after the exit (the command may have ended before
		 * the first tick found what it started) */
		st->exited_ns = jst__mono_ns();
		jst_monitor_tick(st->mon, st->exited_ns, reaped_cpu_s());
		st->waited_for = jst_monitor_descendants(st->mon);
		return st->waited_for > 0;
	}
	return jst_monitor_descendants(st->mon) > 0;
}

/* Ticks until the command exits (and, with --wait-descendants, the processes it started). */
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
	while ((!st->exited || waiting(st)) && tfd >= 0 && sfd >= 0) {
		struct pollfd pfd[4] = {{tfd, POLLIN, 0}, {sfd, POLLIN, 0}, {st->sock.fd, POLLIN, 0},
		                        {st->out_fd, POLLIN, 0}};
		if (poll(pfd, 4, -1) < 0 && errno != EINTR)
			break;
		if (pfd[3].revents & (POLLIN | POLLHUP))
			read_output(st);
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

/* Before the command: limits a killed run left behind go back (any run; one stat when there
 * are none); with --gpu-power-limit, the profiler takes the GPUs. Returns 0, or the exit
 * status of a `gpu profile` that cannot set limits. */
static int gpu_limits_start(struct run_state *st)
{
	char msg[JST_NOTE_LEN];
	jst__plim_restore_left(msg, sizeof(msg));
	if (msg[0]) {
		jst_run_note(st->run, "%s", msg);
		fprintf(stderr, "joulestream run: %s\n", msg);
	}
	if (!st->o.gpu_limit)
		return 0;
	int r = jst__plim_new(&st->plim, &st->o.plim, st->run->meta.command, &st->gpower);
	st->run->gpu_power = &st->gpower;
	bool advice = strcmp(st->gpower.mode, "advice") == 0;
	if (st->gpower.why[0]) {
		jst_run_note(st->run, "GPU power limit: %s%s", st->gpower.why,
		             advice ? "; advice only" : "");
		fprintf(stderr, "joulestream %s: %s%s\n", st->o.profile ? "gpu profile" : "run",
		        st->gpower.why, advice && !st->o.profile ? "; running with advice only" : "");
	}
	if (st->o.profile && (r < 0 || advice || jst__plim_done(st->plim)))
		return 1;
	return 0;
}

/* After the command: what is still in --step-regex's pipe. */
static void drain_output(struct run_state *st)
{
	while (st->out_fd >= 0) {
		struct pollfd pfd = {st->out_fd, POLLIN, 0};
		if (poll(&pfd, 1, 0) <= 0)
			break;
		read_output(st);
	}
	if (st->out_fd >= 0)
		close(st->out_fd);
	st->out_fd = -1;
}

static int run_main(int argc, char **argv, bool profile)
{
	struct run_state st = {0};
	st.sock.fd = -1; /* no socket until marksock_open */
	st.out_fd = -1;
	st.o.profile = profile;
	int cmd = 0;
	int rc = parse(argc, argv, &st.o, &cmd);
	if (rc >= 0)
		return rc;
	if (profile) {
		st.o.no_store = true;
		st.o.quiet = true;
	}
	if (st.o.step_regex) {
		int e = regcomp(&st.step_re, st.o.step_regex, REG_EXTENDED | REG_NOSUB);
		if (e != 0) {
			char m[160];
			regerror(e, &st.step_re, m, sizeof(m));
			fprintf(stderr, "joulestream run: bad --step-regex '%s': %s\n", st.o.step_regex, m);
			return 2;
		}
	}
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
	if ((rc = gpu_limits_start(&st)) != 0)
		goto out;
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
		drain_output(&st);
		jst__plim_restore(st.plim); /* at once: the job is over */
		uint64_t t1 = jst__mono_ns();
		if (st.waited_for)
			jst_run_note(run, "waited %.1f s after the command exited for the %zu process%s it "
			             "started%s", (double)(t1 - st.exited_ns) / 1e9, st.waited_for,
			             st.waited_for == 1 ? "" : "es", st.stop_waiting ? " (stopped by a signal)" : "");
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
		jst__plim_account(st.plim, run);
		jst__session_finish(&st.ses);
		outputs(&st);
	}
	if (profile) {
		jst__plim_table(stdout, &st.gpower);
		rc = strcmp(st.gpower.state, "chosen") == 0 ? 0 : 1;
		if (rc)
			fprintf(stderr, "joulestream gpu profile: the command ended before profiling did "
			        "(%lu steps seen; it needs --gpu-warmup + a --gpu-window per candidate)\n",
			        st.gpower.steps);
	}
out:
	jst__plim_free(st.plim); /* restores what is still set */
	if (st.o.step_regex)
		regfree(&st.step_re);
	jst__session_close(&st.ses); /* sinks still open only when the command did not start */
	run_carbon_release(&st.carbon);
	marksock_close(&st.sock);
	if (st.json)
		fclose(st.json);
	jst_monitor_free(st.mon);
	free(run);
	return rc;
}

int cli_run(int argc, char **argv)
{
	return run_main(argc, argv, false);
}

/* `joulestream gpu profile|restore`: the profiling of --gpu-power-limit alone, or putting back
 * the limits a killed run left behind. */
int cli_gpu(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "profile") == 0)
		return run_main(argc - 1, argv + 1, true);
	if (strcmp(sub, "restore") == 0) {
		char msg[JST_NOTE_LEN];
		int r = jst__plim_restore_left(msg, sizeof(msg));
		fprintf(stderr, "joulestream gpu restore: %s\n", msg[0] ? msg : "no limit to restore");
		return r < 0 ? 1 : 0;
	}
	FILE *f = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ? stdout : stderr;
	fprintf(f, "usage: joulestream gpu profile [OPTIONS] -- CMD [ARGS...]\n"
	           "       joulestream gpu restore\n"
	           "profile: runs CMD only until its steps have been measured under each candidate GPU\n"
	           "power limit (the profiling of joulestream run --gpu-power-limit), stops it, restores\n"
	           "the limits and prints the table; the options are joulestream run's (--gpu-power-limit\n"
	           "auto:GOAL picks the goal marked, --step-regex, --gpu-warmup, --gpu-window,\n"
	           "--gpu-limit-step). Needs root. The profile is saved for advice-only runs.\n"
	           "restore: puts back the limits a killed run left behind ($XDG_STATE_HOME/joulestream/\n"
	           "gpu-limits).\n");
	return f == stdout ? 0 : 2;
}
