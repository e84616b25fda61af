/* The monitor's side of training marks: it creates the training state at the first mark,
 * takes marks as structs or as messages (one per line), and counts the bad ones with an
 * example for the report instead of failing: a training job's marks are never fatal to its
 * measurement. The accounting itself is in train.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "run/monitor.h"

static struct jst__trainer *trainer(struct jst_monitor *m, struct jst_run **run, uint64_t *now_ns)
{
	uint64_t start, last;
	struct jst__trainer **tp = jst__monitor_training(m, run, &start, &last);
	if (!*tp) {
		if (jst__trainer_new(tp, *run, start, last) < 0)
			return NULL;
		(*run)->train = jst__trainer_record(*tp);
	}
	if (*now_ns < last)
		*now_ns = last;
	return *tp;
}

/* Counts a bad mark and keeps the first as an example: its text (printable bytes only, cut
 * at 60) and why. */
static void bad(struct jst_train *rec, const char *p, size_t n, const char *why)
{
	if (rec->bad_marks++)
		return;
	char text[64];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 60; i++)
		text[k++] = (unsigned char)p[i] >= 0x20 && p[i] != 0x7f ? p[i] : '?';
	text[k] = '\0';
	snprintf(rec->bad_example, sizeof(rec->bad_example), "'%s%s': %s", text, n > 60 ? "…" : "", why);
}

int jst_monitor_mark(struct jst_monitor *m, const struct jst_mark *mark, uint64_t now_ns)
{
	struct jst_run *run;
	struct jst__trainer *tr = trainer(m, &run, &now_ns);
	if (!tr)
		return -ENOMEM;
	const char *why = "refused";
	int r = jst__trainer_mark(tr, run, mark, now_ns, &why);
	if (r < 0) {
		char text[JST_MARK_MSG_MAX + 1];
		int len = jst_mark_format(mark, text, sizeof(text));
		bad(jst__trainer_record(tr), len > 0 ? text : "?", len > 0 ? (size_t)len : 1, why);
	}
	return r;
}

int jst_monitor_mark_text(struct jst_monitor *m, const char *p, size_t n, uint64_t now_ns)
{
	struct jst_run *run;
	struct jst__trainer *tr = trainer(m, &run, &now_ns);
	if (!tr)
		return -ENOMEM;
	int r = 0;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		if (len > 0) {
			struct jst_mark mk;
			const char *why = "bad message";
			if (jst_mark_parse(p, len, &mk, &why) < 0 ||
			    jst__trainer_mark(tr, run, &mk, now_ns, &why) < 0) {
				bad(jst__trainer_record(tr), p, len, why);
				r = -EINVAL;
			}
		}
		p += nl ? len + 1 : len;
		n -= nl ? len + 1 : len;
	}
	return r;
}

const struct jst_metric *jst_monitor_pending_metrics(const struct jst_monitor *m, size_t *n)
{
	const struct jst__trainer *tr = jst__monitor_trainer(m);
	*n = 0;
	return tr ? jst__trainer_pending(tr, n) : NULL;
}

size_t jst_monitor_messages(const struct jst_monitor *m, unsigned *seen, char *buf, size_t n)
{
	const struct jst__trainer *tr = jst__monitor_trainer(m);
	if (n)
		buf[0] = '\0';
	return tr ? jst__trainer_messages(tr, seen, buf, n) : 0;
}
