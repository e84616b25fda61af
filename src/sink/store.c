/* The store sink: `sqlite:PATH` and `postgresql://…` targets. Events are ingested into the
 * store's event log exactly as `joulestream serve` ingests them (same validation, same
 * aggregates, one transaction per batch), so a local run and a fleet keep one data model.
 * Delivery is the shared sender's (batcher.c): the store is opened on the sender thread, and
 * while it cannot be opened or written (database down, locked) batches wait in an on-disk
 * spool of their own (a directory per target, so no other sink adopts them) and are retried.
 * A batch the store refuses as invalid is counted as rejected, never retried. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/ingest.h"
#include "sink/batcher.h"
#include "sink/sink.h"
#include "sink/spool.h"

struct store_sink {
	struct jst_sink base;
	struct jst__batcher b;
	char target[1024];
	/* the sender thread's own */
	struct jst_store *store;
	struct jst_event_batch batch;
};

static enum jst__deliver ingest(void *ctx, const char *p, size_t n, char *why, size_t whylen)
{
	struct store_sink *s = ctx;
	char err[512];
	size_t bad = 0;
	if (jst_event_batch_parse(p, n, 0, &s->batch, &bad, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "event %zu of a batch is not valid: %.200s", bad, err);
		return JST_DELIVER_REJECTED;
	}
	if (!s->store && jst_store_open(&s->store, s->target, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "cannot open the store: %.200s", err);
		s->store = NULL;
		return JST_DELIVER_RETRY;
	}
	struct jst_ingest_result res;
	int r = jst_store_ingest(s->store, &s->batch, &res);
	if (r == 0)
		return JST_DELIVER_OK;
	snprintf(why, whylen, "storing events: %.200s", jst_store_errmsg(s->store));
	if (r == -EINVAL)
		return JST_DELIVER_REJECTED;
	/* locked, disconnected, disk full: a new connection at the next try */
	jst_store_close(s->store);
	s->store = NULL;
	return JST_DELIVER_RETRY;
}

/* The spool of a target: DIR/store-HASH, DIR being --spool or the default spool directory. */
static int spool_dir(const char *dir, const char *target, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const char *p = target; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	char def[512];
	if (!dir || !*dir) {
		if (jst__spool_default_dir(def, sizeof(def)) < 0)
			return -ENAMETOOLONG;
		dir = def;
	}
	int w = snprintf(out, n, "%s/store-%016llx", dir, (unsigned long long)h);
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static void free_sink(struct store_sink *s)
{
	jst_event_batch_release(&s->batch);
	jst_store_close(s->store);
	free(s);
}

static int store_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
                      size_t errlen)
{
	struct store_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	char dir[600];
	struct jst_sink_opts so = *o;
	if (strlen(target) >= sizeof(s->target) || spool_dir(o->spool_dir, target, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "store location or spool directory too long");
		free(s);
		return -ENAMETOOLONG;
	}
	jst__strlcpy(s->target, target, sizeof(s->target));
	so.spool_dir = dir;
	if (!so.linger_ms)
		so.linger_ms = 250; /* a local store is cheap to write: stay close to live */
	int r = jst__batcher_start(&s->b, &so, ingest, s, err, errlen);
	if (r < 0) {
		free(s);
		return r;
	}
	*out = &s->base;
	return 0;
}

static int store_write(struct jst_sink *base, const char *line, size_t n)
{
	return jst__batcher_write(&((struct store_sink *)base)->b, line, n);
}

static void store_flush(struct jst_sink *base, unsigned wait_ms)
{
	jst__batcher_flush(&((struct store_sink *)base)->b, wait_ms);
}

static void store_stats(struct jst_sink *base, struct jst_sink_stats *st)
{
	jst__batcher_stats(&((struct store_sink *)base)->b, st);
}

static void store_close(struct jst_sink *base, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct store_sink *s = (struct store_sink *)base;
	jst__batcher_stop(&s->b, timeout_ms, st);
	free_sink(s);
}

const struct jst_sink_ops jst__sink_sqlite = {"sqlite:", store_open, store_write, store_flush, store_stats,
                                              store_close};
const struct jst_sink_ops jst__sink_postgres = {"postgresql://", store_open, store_write, store_flush,
                                                store_stats, store_close};
