/* The training-marks socket of `joulestream run`: created before the command starts, read in
 * the poll loop next to the timer and the signals, removed at exit. Datagrams hold one mark
 * per line (src/run/markparse.c); bad ones are counted by the monitor and named in the report,
 * never fatal. Only the run's user can connect (mode 0600 from the umask at bind). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/marksock.h"
#include "core/util.h"
#include "joulestream/train.h"

#define READS_PER_CALL 1024
#define DGRAM_MAX 8192

static bool usable_dir(const char *dir)
{
	struct stat sb;
	return dir && dir[0] == '/' && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	       access(dir, W_OK | X_OK) == 0;
}

void marksock_open(struct marksock *s, struct jst_run *run)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *dir = usable_dir(xdg) ? xdg : "/tmp";
	int w = snprintf(s->path, sizeof(s->path), "%s/joulestream-%s.sock", dir, run->id);
	if (w < 0 || (size_t)w >= sizeof(s->path))
		w = snprintf(s->path, sizeof(s->path), "/tmp/joulestream-%s.sock", run->id);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	jst__strlcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		jst_run_note(run, "no socket for training marks: %s", strerror(errno));
		return;
	}
	mode_t old = umask(0177); /* the socket file: 0600 */
	int r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0) {
		jst_run_note(run, "no socket for training marks at %s: %s", s->path, strerror(e));
		close(fd);
		return;
	}
	int rcv = 1 << 20; /* room for bursts while the store is written; best effort */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	s->fd = fd;
	snprintf(s->env, sizeof(s->env), "JOULESTREAM_SOCKET=%s", s->path);
}

void marksock_read(struct marksock *s, struct jst_monitor *m,
                   void (*on_mark)(const struct jst_mark *mk, uint64_t mono_ns, void *ud), void *ud)
{
	static char buf[DGRAM_MAX];
	if (s->fd < 0 || !m)
		return;
	for (int i = 0; i < READS_PER_CALL; i++) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		uint64_t now = jst__mono_ns();
		if (!on_mark) {
			jst_monitor_mark_text(m, buf, (size_t)n, now);
			continue;
		}
		/* line by line, so that each mark the monitor accepted reaches on_mark */
		for (size_t off = 0; off < (size_t)n;) {
			const char *line = buf + off;
			const char *nl = memchr(line, '\n', (size_t)n - off);
			size_t len = nl ? (size_t)(nl - line) : (size_t)n - off;
			struct jst_mark mk;
			if (len && jst_monitor_mark_text(m, line, len, now) == 0 &&
			    jst_mark_parse(line, len, &mk, NULL) == 0)
				on_mark(&mk, now, ud);
			off += len + (nl != NULL);
		}
	}
}

void marksock_say(struct marksock *s, const struct jst_monitor *m, bool quiet)
{
	char buf[4096];
	if (!m || jst_monitor_messages(m, &s->said, buf, sizeof(buf)) == 0)
		return;
	for (const char *line = buf; !quiet && *line;) { /* one or more lines */
		size_t len = strcspn(line, "\n");
		fprintf(stderr, "joulestream: %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

void marksock_close(struct marksock *s)
{
	if (s->fd < 0)
		return;
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
}
