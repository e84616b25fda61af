/* NDJSON batches: one event per line, blank lines skipped, the whole batch validated before
 * any of it is accepted, so that a store never holds part of a rejected batch. The bad line's
 * number goes back to the sender with the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joulestream/event.h"

void jst_event_batch_release(struct jst_event_batch *b)
{
	free(b->ev);
	*b = (struct jst_event_batch){0};
}

static int grow(struct jst_event_batch *b)
{
	size_t cap = b->cap ? b->cap * 2 : 64;
	struct jst_event *ev = realloc(b->ev, cap * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	b->ev = ev;
	b->cap = cap;
	return 0;
}

int jst_event_batch_parse(const char *p, size_t n, size_t max_events, struct jst_event_batch *b,
                          size_t *bad_line, char *err, size_t errlen)
{
	b->n = 0;
	*bad_line = 0;
	size_t line = 0;
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		size_t len = (size_t)(le - p);
		size_t k = 0;
		while (k < len && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
			k++;
		if (k < len) {
			if (max_events && b->n == max_events) {
				snprintf(err, errlen, "more than %zu events in one batch: split it", max_events);
				*bad_line = line;
				b->n = 0;
				return -E2BIG;
			}
			if (b->n == b->cap && grow(b) < 0) {
				snprintf(err, errlen, "out of memory reading the batch");
				*bad_line = line;
				b->n = 0;
				return -ENOMEM;
			}
			int r = jst_event_parse(p, len, &b->ev[b->n], err, errlen);
			if (r < 0) {
				*bad_line = line;
				b->n = 0;
				return r;
			}
			b->n++;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
