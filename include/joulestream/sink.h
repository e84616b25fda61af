/* Sinks: where events go (DESIGN.md §1). `file:PATH` appends NDJSON; `http://HOST:PORT/…`
 * posts NDJSON batches to `joulestream serve` from a sender thread, so that writing an event
 * never waits for the network: when the server is down, batches go to an on-disk spool
 * (bounded) and are replayed, oldest first, once it answers; ids make replays idempotent.
 * `kafka://HOST:PORT[,…]/TOPIC` produces one message per event (key: its run id) and spools
 * what its delivery reports say was not delivered (librdkafka, loaded on first use).
 * `sqlite:PATH` and `postgresql://…` ingest the events into a store's event log directly
 * (`joulestream run` writes its own store this way), spooling while the database is away.
 * Backends are const vtables in src/sink/ (sink.h). */
#ifndef JOULESTREAM_SINK_H
#define JOULESTREAM_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"

struct jst_sink;

struct jst_sink_opts {
	const char *token;     /* bearer token for http (JOULESTREAM_TOKEN), NULL for none */
	const char *spool_dir; /* NULL: $XDG_DATA_HOME/joulestream/spool */
	size_t spool_max;      /* bytes kept on disk while the server is down (0: 64 MiB) */
	size_t mem_max;        /* bytes queued in memory for the sender (0: 8 MiB) */
	unsigned linger_ms;    /* longest wait before a partial batch is sent (0: 500 ms) */
	const char *ca_file;   /* https: PEM file of the CA(s) or certificate to trust instead of
	                        * the system's CAs (NULL: the system's); the server is verified */
};

struct jst_sink_stats {
	uint64_t written;    /* events handed to the sink */
	uint64_t delivered;  /* acknowledged by the server (or written to the file) */
	uint64_t spooled;    /* events that went through the spool */
	uint64_t in_spool;   /* events still in the spool (not yet delivered) */
	uint64_t rejected;   /* refused for good (malformed, too large): not retried, kept in refused_path */
	uint64_t dropped;    /* lost: memory queue and spool both full */
	uint64_t retries;    /* failed attempts that were retried */
	char spool_path[512];
	char last_error[256];
	char refused_path[520]; /* where the refused events are kept ("" when none) */
};

/* target: "file:PATH", "http://…", "https://…", "kafka://…", or a store: "sqlite:PATH" or
 * "postgresql://…" (the events are ingested into its event log, as `serve` would; the store
 * is opened by the sender, so an unreachable database spools instead of failing). err says
 * what is wrong. */
JST_API int jst_sink_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o,
                          char *err, size_t errlen);
/* Queues one event line (no newline). Never blocks on I/O; 0, or -ENOBUFS when it was
 * dropped (counted). */
JST_API int jst_sink_write(struct jst_sink *s, const char *line, size_t n);
/* Asks a queued sink to deliver what it holds now rather than after its linger time (a no-op
 * for the others, and for NULL), and waits at most wait_ms (0: not at all) until that is
 * handled: delivered, refused, or spooled for later. */
JST_API void jst_sink_flush(struct jst_sink *s, unsigned wait_ms);
JST_API void jst_sink_stats(struct jst_sink *s, struct jst_sink_stats *st);
/* Sends what is queued, for at most timeout_ms, keeps the rest in the spool, fills st (may be
 * NULL) and frees the sink. */
JST_API void jst_sink_close(struct jst_sink *s, unsigned timeout_ms, struct jst_sink_stats *st);

#endif
