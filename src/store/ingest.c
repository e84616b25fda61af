/* The ingest engine (ingest.h): what every store does with a batch, once. In one transaction
 * of the dialect: the batch's events into ev_log (an id once), their ev_chain entry, the new
 * events of runs without a tombstone through src/agg/, the aggregate rows written back, a log
 * source's offsets and the audit row; commit, or roll back and report nothing stored. The
 * rebuild and the deletion of a run replay ev_log batch by batch through the same aggregation,
 * so their figures are those of the ingests, bit for bit. No SQL here: the dialects own it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/ingest.h"
#include "store/stream.h"

/* One ingest, rebuild or deletion. */
struct tx {
	struct jst_store *s;
	const struct jst_log_ops *o;
	struct jst_agg agg;
	struct jst_agg_loader ld;
	char run[JST_EVENT_ID_MAX + 1]; /* the run whose tombstone was looked up last */
	bool deleted;
	int64_t batch;    /* replay: the batch being aggregated, -1 before the first */
	uint64_t *events; /* replay: events read */
	struct jst__hier_batch hier; /* the (host, window)s to recount (ingest_hier.c) */
};

static void tx_init(struct tx *t, struct jst_store *s, const struct jst_log_ops *o)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->o = o;
	jst__agg_init(&t->agg);
	t->ld = (struct jst_agg_loader){s, o->load_run, o->load_zone, o->load_window, o->load_events,
	                                o->load_last_sample, 0};
	t->batch = -1;
}

static void tx_release(struct tx *t)
{
	jst__agg_release(&t->agg);
	jst__hier_batch_release(&t->hier);
}

static int oom(struct jst_store *s)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
	return -ENOMEM;
}

/* A deleted run's later events are kept in the log but change no view (DELETE /api/v1/runs);
 * the answer for the last run asked is kept, since a batch's events come run by run. */
static int is_deleted(struct tx *t, const char *run, bool *out)
{
	*out = false;
	if (!run[0])
		return 0;
	if (strcmp(run, t->run) != 0) {
		int r = t->o->deleted(t->s, run);
		if (r < 0)
			return r;
		t->deleted = r > 0;
		jst__strlcpy(t->run, run, sizeof(t->run));
	}
	*out = t->deleted;
	return 0;
}

/* The batch settled (late values, a finished run's phases: agg.h), then the phase totals its
 * runs' records replace deleted. */
static int settle(struct tx *t)
{
	int r = jst__agg_settle(&t->agg, &t->ld);
	if (r == -ENOMEM)
		return oom(t->s);
	for (size_t i = 0; r == 0 && i < t->agg.nruns; i++)
		if (t->agg.runs[i].phases_redo)
			r = t->o->drop_phases(t->s, t->agg.runs[i].run);
	return r;
}

/* The aggregate rows the events changed, kind by kind; the aggregation starts afresh. */
static int write_agg(struct tx *t)
{
	const struct jst_agg *a = &t->agg;
	const struct jst_log_ops *o = t->o;
	int r = settle(t);
	if (r < 0)
		return r;
	if ((a->nruns && (r = o->put_runs(t->s, a)) < 0) || (a->nzones && (r = o->put_zones(t->s, a)) < 0) ||
	    (a->nwins && (r = o->put_windows(t->s, a)) < 0) || (a->ntotals && (r = o->put_totals(t->s, a)) < 0) ||
	    (a->nhosts && (r = o->put_hosts(t->s, a)) < 0) || (r = jst__hier_write(t->s, o, a, &t->hier)) < 0)
		return r;
	jst__agg_reset(&t->agg);
	return 0;
}

struct by_seq {
	int64_t seq;
	size_t i;
};

static int cmp_seq(const void *a, const void *b)
{
	int64_t x = ((const struct by_seq *)a)->seq, y = ((const struct by_seq *)b)->seq;
	return x < y ? -1 : x > y;
}

/* The batch's new events (seq[i] > 0) in seq order, chained into one ev_chain entry; counts
 * them and the duplicates in res. */
static int chain(struct tx *t, const struct jst_event_batch *b, int64_t batch, const int64_t *seq,
                 struct jst_ingest_result *res)
{
	struct by_seq *v = malloc((b->n + 1) * sizeof(*v));
	if (!v)
		return oom(t->s);
	size_t n = 0;
	bool sorted = true;
	for (size_t i = 0; i < b->n; i++) {
		if (!seq[i]) {
			res->duplicates++;
			continue;
		}
		res->accepted++;
		sorted = sorted && (!n || v[n - 1].seq < seq[i]);
		v[n++] = (struct by_seq){seq[i], i};
	}
	if (!sorted) /* PostgreSQL numbers a batch's rows in no promised order */
		qsort(v, n, sizeof(*v), cmp_seq);
	struct jst_evchain_build c = {0};
	int r = 0;
	for (size_t k = 0; r == 0 && k < n; k++) {
		const struct jst_event *ev = &b->ev[v[k].i];
		struct jst_evrow row = {v[k].seq,     batch, (int64_t)ev->ts_ns, ev->id, jst_event_type_name(ev->type),
		                        ev->run[0] ? ev->run : NULL, ev->line, ev->line_len};
		r = jst__evchain_add(&c, &row);
		if (r < 0)
			snprintf(t->s->errmsg, sizeof(t->s->errmsg), "chaining event %s: %s", ev->id,
			         r == -EINVAL ? "its id is too long" : "out of memory");
	}
	free(v);
	if (r == 0 && c.events)
		r = t->o->chain_append(t->s, batch, "ingest", &c);
	jst__evchain_release(&c);
	return r;
}

/* The row of the store's ingest hook, if any, commits with the batch. */
static int audit(struct tx *t, const struct jst_event_batch *b, const struct jst_ingest_result *res)
{
	struct jst_audit_entry *e;
	int r = jst__audit_ingest_row(t->s, b, res, &e);
	if (r > 0)
		r = t->o->audit_append(t->s, e);
	free(e);
	return r;
}

static int ingest_tx(struct tx *t, const struct jst_event_batch *b, const struct jst_source_batch *src,
                     int64_t *seq, struct jst_ingest_result *res)
{
	int64_t batch = 0;
	int r = t->o->insert(t->s, b, &batch, seq);
	t->ld.batch = batch;
	if (r == 0)
		r = chain(t, b, batch, seq, res);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		bool gone = false;
		if (!seq[i])
			continue;
		r = is_deleted(t, b->ev[i].run, &gone);
		if (r == 0 && !gone)
			r = jst__agg_add(&t->agg, &t->ld, &b->ev[i]);
		if (r == 0 && !gone)
			r = jst__hier_note(&t->hier, &b->ev[i]);
	}
	if (r == 0)
		r = write_agg(t);
	if (r == 0 && src)
		r = t->o->source_write(t->s, src);
	if (r == 0)
		r = audit(t, b, res);
	return r;
}

/* Ends what begin opened: commit when r is 0, else roll back. */
static int finish(struct tx *t, int r)
{
	if (r == 0)
		r = t->o->commit(t->s);
	if (r < 0)
		t->o->rollback(t->s);
	return r;
}

int jst__ingest(struct jst_store *s, const struct jst_log_ops *o, const struct jst_event_batch *b,
                const struct jst_source_batch *src, struct jst_ingest_result *res)
{
	memset(res, 0, sizeof(*res));
	int64_t *seq = calloc(b->n + 1, sizeof(*seq));
	if (!seq)
		return oom(s);
	struct tx t;
	tx_init(&t, s, o);
	int r = o->begin(s);
	if (r == 0)
		r = finish(&t, ingest_tx(&t, b, src, seq, res));
	if (r < 0)
		memset(res, 0, sizeof(*res));
	tx_release(&t);
	free(seq);
	return r;
}

/* One event of the log, as ingest aggregated it: the rows of a batch are written before the
 * next batch's events are added, as each ingest wrote its own. */
static int replay_one(void *ud, int64_t batch, const char *body, size_t len)
{
	struct tx *t = ud;
	struct jst_event ev;
	char err[256];
	int r = 0;
	if (batch != t->batch && t->batch >= 0)
		r = write_agg(t);
	t->batch = t->ld.batch = batch;
	if (r == 0 && jst_event_parse(body, len, &ev, err, sizeof(err)) < 0) {
		snprintf(t->s->errmsg, sizeof(t->s->errmsg), "a stored event no longer parses (%.200s)", err);
		r = -EIO;
	}
	if (r == 0)
		r = jst__agg_add(&t->agg, &t->ld, &ev);
	if (r == 0)
		r = jst__hier_note(&t->hier, &ev);
	(*t->events)++;
	return r;
}

/* Inside the transaction: every aggregate deleted and replayed from the log. */
static int reaggregate(struct tx *t, uint64_t *events)
{
	t->events = events;
	int r = t->o->clear(t->s);
	if (r == 0)
		r = t->o->replay(t->s, replay_one, t);
	return r < 0 ? r : write_agg(t);
}

int jst__ingest_rebuild(struct jst_store *s, const struct jst_log_ops *o, uint64_t *events)
{
	struct tx t;
	tx_init(&t, s, o);
	*events = 0;
	int r = o->begin(s);
	if (r == 0)
		r = finish(&t, reaggregate(&t, events));
	tx_release(&t);
	return r;
}

int jst__ingest_reaggregate(struct jst_store *s, const struct jst_log_ops *o, uint64_t *events)
{
	struct tx t;
	tx_init(&t, s, o);
	*events = 0;
	int r = reaggregate(&t, events);
	tx_release(&t);
	return r;
}

static int delete_tx(struct tx *t, const char *run, uint64_t now_ns, uint64_t *events)
{
	int r = t->o->run_exists(t->s, run);
	if (r == 0) {
		snprintf(t->s->errmsg, sizeof(t->s->errmsg), "no run '%.200s' (or it was deleted already)", run);
		return -ENOENT;
	}
	if (r > 0)
		r = t->o->tombstone(t->s, run, now_ns);
	return r < 0 ? r : reaggregate(t, events);
}

/* The tombstone and the rebuild without the run commit together: no view ever shows half. */
int jst__ingest_run_delete(struct jst_store *s, const struct jst_log_ops *o, const char *run, uint64_t now_ns,
                           uint64_t *events)
{
	struct tx t;
	tx_init(&t, s, o);
	*events = 0;
	int r = o->begin(s);
	if (r == 0)
		r = finish(&t, delete_tx(&t, run, now_ns, events));
	tx_release(&t);
	return r;
}
