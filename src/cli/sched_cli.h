/* What `sites rank` and `when` share on the command line: lengths of time with days
 * ("7d", "6h", "90m"), instants ("now", ISO 8601 with Z or an offset, "+12h" from now), the
 * printing of a length ("1h30m"), and `when --exec`'s wait and hand-over to `joulestream run`
 * (when_exec.c). The planning itself is libjoulestream's (include/joulestream/sched.h). */
#ifndef JST_CLI_SCHED_CLI_H
#define JST_CLI_SCHED_CLI_H

#include <stddef.h>
#include <stdint.h>

/* "45s", "90m", "6h", "7d", "1.5h" (also cli_parse_duration's units) into ns > 0; 0 or -EINVAL. */
int cli_parse_span(const char *s, int64_t *ns);
/* "now" (now_ns), "+DUR" (now_ns + DUR) or an ISO 8601 instant; 0, or -EINVAL with why set. */
int cli_parse_instant(const char *s, int64_t now_ns, int64_t *ns, const char **why);
/* "6h", "1h30m", "2d4h", "45s" into out. */
void cli_span_text(int64_t ns, char *out, size_t n);

struct when_exec {
	int64_t delay_ns;     /* how long to wait; <= 0: start at once */
	int64_t start_ns;     /* the chosen start (UTC), for the messages */
	char *const *argv;    /* `joulestream run ...` to exec, NULL-terminated */
};

/* Waits delay_ns with a countdown on stderr (a line a minute, in place on a terminal), then
 * execs argv with the signal mask restored. INT, TERM or HUP during the wait: a message and
 * 128 + the signal, nothing started. Returns only on an interruption or a failed exec (127). */
int cli_when_exec(const struct when_exec *x);

#endif
