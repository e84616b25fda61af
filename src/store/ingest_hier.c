/* The engine's part of the accounting hierarchy (agg/hier.h): after a batch's aggregate rows
 * are written, each (host, window) it touched is counted again from every series stored there
 * and its rows replace the old ones, in the same transaction. Touched: the windows the batch
 * changed, and every window of a run whose run_start came in the batch (its user, scope or
 * series may be new). A rebuild replays batch by batch through the same path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/ingest.h"

struct jst__hier_key {
	char host[256];
	uint64_t win;
};

static int oom(struct jst_store *s)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
	return -ENOMEM;
}

int jst__hier_note(struct jst__hier_batch *b, const struct jst_event *ev)
{
	if (ev->type != JST_EV_RUN_START)
		return 0;
	if (b->nruns == b->capruns) {
		size_t cap = b->capruns ? b->capruns * 2 : 8;
		void *p = realloc(b->runs, cap * sizeof(*b->runs));
		if (!p)
			return -ENOMEM;
		b->runs = p;
		b->capruns = cap;
	}
	jst__strlcpy(b->runs[b->nruns++], ev->run, sizeof(b->runs[0]));
	return 0;
}

void jst__hier_batch_release(struct jst__hier_batch *b)
{
	free(b->keys);
	free(b->runs);
	memset(b, 0, sizeof(*b));
}

static int touch(struct jst__hier_batch *b, const char *host, uint64_t win)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		void *p = realloc(b->keys, cap * sizeof(*b->keys));
		if (!p)
			return -ENOMEM;
		b->keys = p;
		b->cap = cap;
	}
	jst__strlcpy(b->keys[b->n].host, host, sizeof(b->keys[0].host));
	b->keys[b->n++].win = win;
	return 0;
}

struct run_touch {
	struct jst__hier_batch *b;
	const char *host;
};

static int touch_win(uint64_t win, void *ud)
{
	struct run_touch *t = ud;
	return touch(t->b, t->host, win);
}

static int cmp_key(const void *x, const void *y)
{
	const struct jst__hier_key *a = x, *b = y;
	int c = strcmp(a->host, b->host);
	return c ? c : a->win < b->win ? -1 : a->win > b->win;
}

struct claims {
	struct jst_hier_claim *c;
	size_t n, cap;
};

static int take_claim(const struct jst_hier_claim *c, void *ud)
{
	struct claims *l = ud;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->c, cap * sizeof(*l->c));
		if (!p)
			return -ENOMEM;
		l->c = p;
		l->cap = cap;
	}
	l->c[l->n++] = *c;
	return 0;
}

/* Every touched (host, window) once, in order: its claims read, split and written back. */
static int recount(struct jst_store *s, const struct jst_log_ops *o, struct jst__hier_batch *b)
{
	if (b->n == 0) /* nothing touched (qsort may not be given a null array) */
		return 0;
	qsort(b->keys, b->n, sizeof(*b->keys), cmp_key);
	struct claims l = {0};
	struct jst_hier_rows rows = {0};
	int r = 0;
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		if (i && cmp_key(&b->keys[i - 1], &b->keys[i]) == 0)
			continue;
		l.n = 0;
		r = o->hier_claims(s, b->keys[i].host, b->keys[i].win, take_claim, &l);
		if (r == -ENOMEM)
			oom(s);
		if (r == 0 && (r = jst__hier_split(b->keys[i].host, b->keys[i].win, l.c, l.n, &rows)) < 0)
			oom(s);
		if (r == 0)
			r = o->hier_put(s, b->keys[i].host, b->keys[i].win, &rows);
	}
	free(l.c);
	jst__hier_rows_release(&rows);
	return r;
}

int jst__hier_write(struct jst_store *s, const struct jst_log_ops *o, const struct jst_agg *a,
                    struct jst__hier_batch *b)
{
	int r = 0;
	if (!o->hier_put)
		goto done;
	for (size_t i = 0; r == 0 && i < a->nwins; i++)
		r = touch(b, a->runs[a->wins[i].run].host, a->wins[i].win);
	for (size_t k = 0; r == 0 && k < b->nruns; k++) {
		for (size_t i = 0; i < a->nruns; i++) {
			if (strcmp(a->runs[i].run, b->runs[k]) != 0)
				continue;
			struct run_touch t = {b, a->runs[i].host};
			r = o->run_wins(s, b->runs[k], touch_win, &t);
			break;
		}
	}
	if (r == -ENOMEM)
		oom(s);
	if (r == 0)
		r = recount(s, o, b);
done:
	b->n = b->nruns = 0;
	return r;
}
