/* The socket `joulestream run` advertises to its command (JOULESTREAM_SOCKET) for training
 * marks: a unix datagram socket, mode 0600, named after the run id, read in the run loop and
 * removed at exit. Senders never block on it (the Python package sends with MSG_DONTWAIT). */
#ifndef JST_CLI_MARKSOCK_H
#define JST_CLI_MARKSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/run.h"
#include "joulestream/train.h"

struct marksock {
	int fd;                  /* -1 when there is no socket */
	char path[108];          /* sizeof(sun_path) */
	char env[160];           /* "JOULESTREAM_SOCKET=<path>", for putenv in the child */
	unsigned said;           /* prediction lines printed so far */
};

/* Creates the socket in $XDG_RUNTIME_DIR, else /tmp. On failure fd is -1 and a note on the run
 * says why; the command runs anyway. */
void marksock_open(struct marksock *s, struct jst_run *run);

/* Reads the datagrams waiting (at most 1024 per call, so ticks are not starved) into the
 * monitor; on_mark (may be NULL) gets each mark the monitor accepted, with the time it was
 * received (CLOCK_MONOTONIC), e.g. for `run --sink`. */
void marksock_read(struct marksock *s, struct jst_monitor *m,
                   void (*on_mark)(const struct jst_mark *mk, uint64_t mono_ns, void *ud), void *ud);

/* Prints a new prediction line from the monitor on stderr unless quiet. */
void marksock_say(struct marksock *s, const struct jst_monitor *m, bool quiet);

/* Closes and removes the socket. */
void marksock_close(struct marksock *s);

#endif
