/* The audit log's backend-independent part (joulestream/audit.h): the calls forwarded to the
 * store's stream vtable, the row hash both backends chain with, the walk that verifies the
 * chain, the local actor, and the page cursor. The tables are in sqlite_audit.c and
 * postgres_audit.c; docs/audit.md says what is logged and why. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sha256.h"
#include "core/util.h"
#include "store/ingest.h"
#include "store/store.h"
#include "store/stream.h"

static const struct jst_stream_ops *audit_ops(struct jst_store *s, bool need)
{
	const struct jst_stream_ops *o = s->ops->stream;
	if (!o || !need) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store keeps no audit log",
			 s->ops->scheme);
		return NULL;
	}
	return o;
}

void jst_store_set_ingest_audit(struct jst_store *s, jst_ingest_audit_fn fn, void *ud)
{
	s->ingest_audit = fn;
	s->ingest_audit_ud = ud;
}

int jst__audit_ingest_row(struct jst_store *s, const struct jst_event_batch *b,
			  const struct jst_ingest_result *res, struct jst_audit_entry **out)
{
	*out = NULL;
	if (!s->ingest_audit)
		return 0;
	struct jst_audit_entry *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory for the audit row");
		return -ENOMEM;
	}
	if (!s->ingest_audit(s->ingest_audit_ud, b, res, e)) {
		free(e);
		return 0;
	}
	e->ts_ns = e->ts_ns ? e->ts_ns : jst__wall_ns();
	if (!e->detail[0])
		jst__strlcpy(e->detail, "{}", sizeof(e->detail));
	*out = e;
	return 1;
}

/* A row in a write transaction of its own, exclusive of every other writer (an ingest's row
 * is appended in the ingest's, ingest.c), so the rows of every writer form one chain. */
int jst_store_audit_add(struct jst_store *s, struct jst_audit_entry *e)
{
	const struct jst_stream_ops *o = s->ops->stream;
	if (!audit_ops(s, o != NULL))
		return -ENOTSUP;
	if (!e->ts_ns)
		e->ts_ns = jst__wall_ns();
	if (!e->detail[0])
		jst__strlcpy(e->detail, "{}", sizeof(e->detail));
	int r = o->log->begin(s);
	if (r < 0)
		return r;
	r = o->log->audit_append(s, e);
	if (r == 0)
		r = o->log->commit(s);
	if (r < 0)
		o->log->rollback(s);
	return r;
}

int jst_store_audit_list(struct jst_store *s, const struct jst_audit_query *q,
			 int (*fn)(const struct jst_audit_entry *, void *), void *ud)
{
	const struct jst_stream_ops *o = s->ops->stream;
	if (!audit_ops(s, o && o->audit_list))
		return -ENOTSUP;
	return o->audit_list(s, q, false, 0, fn, ud);
}

struct scan {
	int (*fn)(const struct jst_audit_entry *, void *);
	void *ud;
	int64_t last;
	bool stop;
};

static int scan_row(const struct jst_audit_entry *e, void *ud)
{
	struct scan *sc = ud;
	sc->last = e->id;
	sc->stop = sc->fn(e, sc->ud) != 0;
	return sc->stop;
}

int jst_store_audit_scan(struct jst_store *s, int64_t after_id,
			 int (*fn)(const struct jst_audit_entry *, void *), void *ud)
{
	const struct jst_stream_ops *o = s->ops->stream;
	if (!audit_ops(s, o && o->audit_list))
		return -ENOTSUP;
	/* pages of 1000, so that a long log is never held whole in memory */
	struct scan sc = {fn, ud, after_id, false};
	struct jst_audit_query q = {.limit = 1000};
	int total = 0, n;
	do {
		int64_t from = sc.last;
		n = o->audit_list(s, &q, true, from, scan_row, &sc);
		if (n < 0)
			return n;
		total += n;
	} while (n == (int)q.limit && !sc.stop);
	return total;
}

struct hbuf {
	char *p;
	size_t len, cap;
};

/* "LEN:VALUE\n": no field can run into the next, whatever it holds. */
static void put(struct hbuf *b, const char *v)
{
	char len[24];
	size_t n = strlen(v);
	int w = snprintf(len, sizeof(len), "%zu:", n);
	if (b->len + (size_t)w + n + 1 > b->cap)
		return; /* cannot happen: the buffer holds every field at its maximum */
	memcpy(b->p + b->len, len, (size_t)w);
	memcpy(b->p + b->len + w, v, n);
	b->len += (size_t)w + n;
	b->p[b->len++] = '\n';
}

void jst_audit_hash(const struct jst_audit_entry *e, char out[65])
{
	char mem[sizeof(*e) + 512], id[24], ts[24];
	struct hbuf b = {mem, 0, sizeof(mem)};
	snprintf(id, sizeof(id), "%lld", (long long)e->id);
	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)e->ts_ns);
	const char *f[] = {"joulestream.audit/1",
			   e->prev_hash,
			   id,
			   ts,
			   e->actor,
			   e->role,
			   e->user,
			   e->action,
			   e->object,
			   e->detail,
			   e->outcome,
			   e->client};
	for (size_t i = 0; i < JST_ARRAY_LEN(f); i++)
		put(&b, f[i]);
	jst__sha256_hex(b.p, b.len, out, 64);
}

struct walk {
	void (*fn)(void *ud, int64_t id, const char *what);
	void *ud;
	struct jst_audit_report *out;
	int64_t last_id;
	char prev[65];
};

static void problem(struct walk *w, int64_t id, const char *what)
{
	w->out->problems++;
	if (w->fn)
		w->fn(w->ud, id, what);
}

static int check_row(const struct jst_audit_entry *e, void *ud)
{
	struct walk *w = ud;
	char h[65], what[200];
	long long id = (long long)e->id;
	w->out->rows++;
	if (e->id != w->last_id + 1) {
		if (e->id > w->last_id + 1)
			snprintf(what, sizeof(what),
				 "audit rows before row %lld are missing (deleted)", id);
		else
			snprintf(what, sizeof(what), "audit row %lld is out of order (inserted)",
				 id);
		problem(w, e->id, what);
	}
	if (strcmp(e->prev_hash, w->prev) != 0) {
		snprintf(what, sizeof(what),
			 "audit row %lld does not link to the row before it: rows were "
			 "deleted, inserted or edited",
			 id);
		problem(w, e->id, what);
	}
	jst_audit_hash(e, h);
	if (strcmp(h, e->hash) != 0) {
		snprintf(what, sizeof(what),
			 "audit row %lld was edited after it was written (its hash does "
			 "not match)",
			 id);
		problem(w, e->id, what);
	}
	if (strcmp(e->action, "run.delete") == 0 && strcmp(e->outcome, "ok") == 0)
		w->out->deletions++;
	w->last_id = e->id;
	jst__strlcpy(w->prev, e->hash, sizeof(w->prev));
	return 0;
}

int jst_store_audit_verify(struct jst_store *s, void (*fn)(void *ud, int64_t id, const char *what),
			   void *ud, struct jst_audit_report *out)
{
	memset(out, 0, sizeof(*out));
	struct walk w = {fn, ud, out, 0, ""};
	int r = jst_store_audit_scan(s, 0, check_row, &w);
	if (r < 0)
		return r;
	jst__strlcpy(out->head, w.prev, sizeof(out->head));
	return 0;
}

void jst_audit_local(struct jst_audit_entry *e, const char *action, const char *object,
		     const char *outcome)
{
	char name[64];
	struct passwd *pw = getpwuid(geteuid());
	if (pw && pw->pw_name)
		jst__strlcpy(name, pw->pw_name, sizeof(name));
	else
		snprintf(name, sizeof(name), "uid%u", (unsigned)geteuid());
	memset(e, 0, sizeof(*e));
	snprintf(e->actor, sizeof(e->actor), "local:%s", name);
	jst__strlcpy(e->user, name, sizeof(e->user));
	jst__strlcpy(e->action, action, sizeof(e->action));
	jst__strlcpy(e->object, object, sizeof(e->object));
	jst__strlcpy(e->outcome, outcome, sizeof(e->outcome));
}

int jst_audit_cursor_parse(const char *p, size_t n, int64_t *before_id)
{
	int64_t v;
	if (n < 2 || p[0] != 'a' || p[1] < '0' || p[1] > '9' ||
	    jst__parse_i64(p + 1, n - 1, &v) < 0 || v < 1)
		return -EINVAL;
	*before_id = v;
	return 0;
}
