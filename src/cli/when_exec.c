/* `joulestream when --exec`: the wait until the chosen start and the hand-over to
 * `joulestream run`. The countdown goes to stderr: a line at once and one a minute, or one
 * line updated every second when stderr is a terminal, then a final line naming the command.
 * INT, TERM and HUP (those not ignored, as nohup's HUP) are blocked and taken with
 * sigtimedwait, so an interruption during the wait is a message and 128 + N with nothing
 * started; the mask is restored before exec. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/sched_cli.h"
#include "core/isotime.h"
#include "core/util.h"

#define NS 1000000000LL

static void countdown(bool tty, int64_t left_ns, const char *at)
{
	char left[32];
	cli_span_text((left_ns + NS - 1) / NS * NS, left, sizeof(left));
	if (tty)
		fprintf(stderr, "\r\033[Kjoulestream when: starting in %s, at %s (Ctrl-C cancels)", left, at);
	else
		fprintf(stderr, "joulestream when: starting in %s, at %s\n", left, at);
	fflush(stderr);
}

/* An argument as a shell would need it: 'quoted' when it holds anything but safe characters. */
static void shell_word(const char *s)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_", *p);
	if (plain) {
		fputs(s, stderr);
		return;
	}
	fputc('\'', stderr);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stderr);
		else
			fputc(*s, stderr);
	}
	fputc('\'', stderr);
}

static void final_line(const struct when_exec *x, bool tty, const char *at)
{
	fprintf(stderr, "%sjoulestream when: starting now (%s): joulestream", tty ? "\r\033[K" : "", at);
	for (size_t i = 1; x->argv[i]; i++) {
		fputc(' ', stderr);
		shell_word(x->argv[i]);
	}
	fputc('\n', stderr);
	fflush(stderr);
}

/* Waits until end (monotonic ns); 0, or the signal that came. */
static int wait_until(uint64_t end, const sigset_t *set, bool tty, const char *at)
{
	for (;;) {
		uint64_t now = jst__mono_ns();
		if (now >= end)
			return 0;
		int64_t left = (int64_t)(end - now);
		countdown(tty, left, at);
		/* a terminal line each second (on the second of the countdown), else a line a minute */
		int64_t step = tty ? (left % NS ? left % NS : NS) : 60 * NS;
		if (step > left)
			step = left;
		struct timespec ts = {(time_t)(step / NS), (long)(step % NS)};
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

int cli_when_exec(const struct when_exec *x)
{
	sigset_t set, old;
	char at[32];
	bool tty = isatty(STDERR_FILENO);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;
		/* one ignored on purpose (nohup's HUP) stays ignored: blocked, it would be queued */
		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
			sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &set, &old);
	jst__format_iso8601(x->start_ns, at, sizeof(at));
	int sig = x->delay_ns > 0 ? wait_until(jst__mono_ns() + (uint64_t)x->delay_ns, &set, tty, at) : 0;
	if (sig != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (sig < 0) {
			fprintf(stderr, "%sjoulestream when: the wait failed (%s): nothing was started\n",
			        tty ? "\n" : "", strerror(-sig));
			return 1;
		}
		fprintf(stderr, "%sjoulestream when: %s while waiting for %s: nothing was started\n",
		        tty ? "\n" : "", sig == SIGINT ? "interrupted (SIGINT)" : sig == SIGTERM
		        ? "terminated (SIGTERM)" : "hung up (SIGHUP)", at);
		return 128 + sig;
	}
	final_line(x, tty, at);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (strchr(x->argv[0], '/'))
		execv(x->argv[0], x->argv);
	else
		execvp(x->argv[0], x->argv);
	fprintf(stderr, "joulestream when: cannot run %s: %s\n", x->argv[0], strerror(errno));
	return 127;
}
