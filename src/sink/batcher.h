/* The sender every queued sink shares (http, store): jst_sink_write() only copies a line into
 * a bounded memory queue; a sender thread takes the queue in batches and hands each to the
 * transport's deliver(). A batch that cannot be delivered now (server down, database
 * unreachable) goes to an on-disk spool and is retried with exponential backoff (0.25 s
 * doubling to 30 s), spool first, so order is kept; one the far end refuses for good is
 * counted as rejected with its reason. Spool files left by a dead process are taken over at
 * start. The transport owns nothing of this: it only says OK, RETRY or REJECTED. */
#ifndef JST_SINK_BATCHER_H
#define JST_SINK_BATCHER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/jbuf.h"
#include "joulestream/sink.h"
#include "sink/spool.h"

enum jst__deliver { JST_DELIVER_OK, JST_DELIVER_RETRY, JST_DELIVER_REJECTED };

/* Called on the sender thread only, with n bytes of '\n'-terminated NDJSON; why (size
 * whylen) says what went wrong when the answer is not OK. */
typedef enum jst__deliver (*jst__deliver_fn)(void *ctx, const char *p, size_t n, char *why, size_t whylen);

struct jst__batcher {
	struct jst_sink_opts o;
	jst__deliver_fn deliver;
	void *ctx;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t idle_cv; /* signalled when a batch is done (jst__batcher_flush waits on it) */
	bool inflight;          /* the sender holds a batch taken from the queue */
	struct jst_jbuf q; /* queued lines, '\n'-terminated; guarded by mu */
	uint64_t q_first_ns;
	bool closing, flush;
	uint64_t deadline_ns;
	struct jst_sink_stats st; /* guarded by mu */
	/* the sender's own */
	struct jst_jbuf batch;
	struct jst__spool spool;
	unsigned backoff_ms;
	uint64_t next_try_ns;
};

/* Opens the spool (in o->spool_dir) and starts the sender thread, which blocks every signal.
 * Returns 0, or a negative errno with err set; on failure nothing is left to release. */
int jst__batcher_start(struct jst__batcher *b, const struct jst_sink_opts *o, jst__deliver_fn deliver,
                       void *ctx, char *err, size_t errlen);
/* Queues one line (no newline); never blocks on I/O. 0, or -ENOBUFS when dropped (counted). */
int jst__batcher_write(struct jst__batcher *b, const char *line, size_t n);
/* Asks the sender to deliver what is queued now instead of waiting for the linger time, and
 * waits at most wait_ms (0: not at all) until it has been handled (delivered, refused or
 * spooled). */
void jst__batcher_flush(struct jst__batcher *b, unsigned wait_ms);
void jst__batcher_stats(struct jst__batcher *b, struct jst_sink_stats *st);
/* Delivers what is queued for at most timeout_ms, keeps the rest in the spool, fills st and
 * stops the thread. */
void jst__batcher_stop(struct jst__batcher *b, unsigned timeout_ms, struct jst_sink_stats *st);

#endif
