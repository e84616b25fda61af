/* The engine's half of the event chain (evchain.h): the digest of a stored event, the list of
 * a batch's digests that becomes one ev_chain entry, the entry's hash, and the walk of verify
 * that compares the chain with the log row by row and names each event edited, inserted or
 * deleted. SHA-256 is libsodium's crypto_hash_sha256; the dialects own the SQL. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/sha256.h"
#include "core/util.h"
#include "store/evchain.h"
#include "store/store.h"
#include "store/stream.h"

#define EVENT_TAG "joulestream.event/1"
#define ENTRY_TAG "joulestream.evchain/1\n"

static void put_be64(unsigned char *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void h_u64(crypto_hash_sha256_state *h, uint64_t v)
{
	unsigned char b[8];
	put_be64(b, v);
	crypto_hash_sha256_update(h, b, sizeof(b));
}

static void h_str(crypto_hash_sha256_state *h, const char *p, size_t n)
{
	h_u64(h, n);
	if (n)
		crypto_hash_sha256_update(h, (const unsigned char *)p, n);
}

void jst__evchain_digest(const struct jst_evrow *r, unsigned char out[JST_EVCHAIN_DIGEST])
{
	crypto_hash_sha256_state h;
	unsigned char d[32];
	crypto_hash_sha256_init(&h);
	/* the tag with its NUL */
	crypto_hash_sha256_update(&h, (const unsigned char *)EVENT_TAG, sizeof(EVENT_TAG));
	h_u64(&h, (uint64_t)r->seq);
	h_u64(&h, (uint64_t)r->batch);
	h_str(&h, r->body, r->body_len);
	crypto_hash_sha256_final(&h, d);
	memcpy(out, d, JST_EVCHAIN_DIGEST);
}

/* LEB128: 7 bits a byte, the low ones first; at most 10 bytes. */
static size_t put_varint(unsigned char *o, uint64_t v)
{
	size_t n = 0;
	do {
		o[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* The number at p (before end) into *v; its length, 0 when malformed. */
static size_t get_varint(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (size_t n = 0; n < 10 && p + n < end; n++) {
		*v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80))
			return n + 1;
	}
	return 0;
}

int jst__evchain_add(struct jst_evchain_build *b, const struct jst_evrow *r)
{
	size_t idl = strlen(r->id);
	if (idl > JST_EVENT_ID_MAX || (b->events && r->seq <= b->last_seq))
		return -EINVAL;
	size_t need = 10 + JST_EVCHAIN_DIGEST + 1 + idl;
	if (b->len + need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + need)
			cap *= 2;
		if (cap > JST_EVCHAIN_MAX)
			return -ENOMEM;
		unsigned char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	unsigned char *o = b->p + b->len;
	size_t k = put_varint(o, (uint64_t)(r->seq - (b->events ? b->last_seq : 0)));
	jst__evchain_digest(r, o + k);
	k += JST_EVCHAIN_DIGEST;
	o[k++] = (unsigned char)idl;
	memcpy(o + k, r->id, idl);
	b->len += k + idl;
	b->events++;
	b->last_seq = r->seq;
	return 0;
}

void jst__evchain_reset(struct jst_evchain_build *b)
{
	b->len = 0;
	b->events = 0;
	b->last_seq = 0;
}

void jst__evchain_release(struct jst_evchain_build *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void jst__evchain_entry_hash(const struct jst_evchain_entry *e, char out[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[32];
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)ENTRY_TAG, sizeof(ENTRY_TAG) - 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)e->prev_hash, strlen(e->prev_hash));
	crypto_hash_sha256_update(&h, (const unsigned char *)"\n", 1);
	h_u64(&h, (uint64_t)e->n);
	h_u64(&h, (uint64_t)e->batch);
	h_u64(&h, (uint64_t)e->events);
	h_str(&h, e->origin, strlen(e->origin));
	h_str(&h, (const char *)e->digests, e->digests_len);
	crypto_hash_sha256_final(&h, d);
	jst__hex(d, 32, out);
}

struct walk {
	const struct jst_evchain_scan *sc;
	jst_events_verify_fn fn;
	void *ud;
	struct jst_events_report *rep;
	struct jst_evrow row;
	int have; /* 1: row holds the next log row; 0: the log is read; < 0: error */
	struct jst_event *ev; /* a row's body parsed again */
};

static void say(struct walk *w, int64_t seq, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void say(struct walk *w, int64_t seq, const char *id, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->rep->problems++;
	if (w->fn)
		w->fn(w->ud, seq, id ? id : "", msg);
}

static void next_row(struct walk *w)
{
	w->have = w->sc->next_event(w->sc->ud, &w->row);
	if (w->have > 0)
		w->rep->events++;
}

/* Log rows below seq (all when seq < 0) that no entry lists. */
static void inserted_before(struct walk *w, int64_t seq)
{
	while (w->have > 0 && (seq < 0 || w->row.seq < seq)) {
		say(w, w->row.seq, w->row.id,
		    "event %s (seq %lld) is not in the event chain: it was inserted outside joulestream",
		    w->row.id, (long long)w->row.seq);
		next_row(w);
	}
}

/* The columns that repeat fields of the body (id, type, run, ts_ns: what the queries filter
 * on) against the body parsed again: the first that differs, or NULL. */
static const char *columns_differ(struct walk *w)
{
	char err[160];
	const struct jst_evrow *r = &w->row;
	if (jst_event_parse(r->body, r->body_len, w->ev, err, sizeof(err)) < 0)
		return "body";
	if (strcmp(w->ev->id, r->id) != 0)
		return "id";
	const char *type = jst_event_type_name(w->ev->type);
	if (!type || strcmp(type, r->type) != 0)
		return "type";
	if (w->ev->run[0] ? !r->run || strcmp(w->ev->run, r->run) != 0 : r->run != NULL)
		return "run";
	if ((int64_t)w->ev->ts_ns != r->ts_ns)
		return "ts_ns";
	return NULL;
}

/* One chained event against the log. */
static void check_event(struct walk *w, const struct jst_evchain_entry *e, int64_t seq,
			const unsigned char *d, const char *id)
{
	inserted_before(w, seq);
	if (w->have <= 0 || w->row.seq != seq) {
		say(w, seq, id, "event %s (seq %lld, chained in entry %lld) was deleted", id,
		    (long long)seq, (long long)e->n);
		return;
	}
	unsigned char now[JST_EVCHAIN_DIGEST];
	jst__evchain_digest(&w->row, now);
	const char *col = NULL;
	if (strcmp(w->row.id, id) != 0)
		say(w, seq, w->row.id,
		    "event %s (seq %lld) was chained as %s in entry %lld: the row was replaced",
		    w->row.id, (long long)seq, id, (long long)e->n);
	else if (sodium_memcmp(now, d, JST_EVCHAIN_DIGEST) != 0)
		say(w, seq, id, "event %s (seq %lld) was edited after it was chained (entry %lld)",
		    id, (long long)seq, (long long)e->n);
	else if ((col = columns_differ(w)) != NULL) /* the body chained: the columns must be its */
		say(w, seq, id,
		    "event %s (seq %lld) was edited after it was chained (entry %lld): its %s column"
		    " no longer matches its body",
		    id, (long long)seq, (long long)e->n, col);
	next_row(w);
}

/* The events an entry lists, each against its row. */
static void check_entry_events(struct walk *w, const struct jst_evchain_entry *e)
{
	const unsigned char *p = e->digests, *end = e->digests + e->digests_len;
	int64_t count = 0, prev = 0;
	while (p < end) {
		uint64_t delta;
		size_t k = get_varint(p, end, &delta), left = (size_t)(end - p);
		if (!k || left < k + JST_EVCHAIN_DIGEST + 1 ||
		    left < k + JST_EVCHAIN_DIGEST + 1 + p[k + JST_EVCHAIN_DIGEST] ||
		    (count && delta == 0)) {
			say(w, 0, "",
			    "entry %lld: its event list is malformed: the entry was edited",
			    (long long)e->n);
			return;
		}
		int64_t seq = prev + (int64_t)delta;
		size_t idl = p[k + JST_EVCHAIN_DIGEST];
		char id[256];
		memcpy(id, p + k + JST_EVCHAIN_DIGEST + 1, idl);
		id[idl] = '\0';
		check_event(w, e, seq, p + k, id);
		if (w->have < 0)
			return;
		prev = seq;
		count++;
		p += k + JST_EVCHAIN_DIGEST + 1 + idl;
	}
	if (count != e->events)
		say(w, 0, "", "entry %lld says %lld events and lists %lld: the entry was edited",
		    (long long)e->n, (long long)e->events, (long long)count);
}

int jst__evchain_walk(const struct jst_evchain_scan *sc, jst_events_verify_fn fn, void *ud,
		      struct jst_events_report *rep)
{
	if (sodium_init() < 0)
		return -EIO;
	memset(rep, 0, sizeof(*rep));
	struct walk w = {
		.sc = sc, .fn = fn, .ud = ud, .rep = rep, .ev = malloc(sizeof(struct jst_event))};
	if (!w.ev)
		return -ENOMEM;
	char expect[65], h[65];
	memset(expect, '0', 64);
	expect[64] = '\0';
	int64_t last = 0;
	struct jst_evchain_entry e;
	int r = 0;
	next_row(&w);
	while (w.have >= 0 && (r = sc->next_entry(sc->ud, &e)) > 0) {
		rep->entries++;
		if (e.n > last + 1)
			say(&w, 0, "",
			    "chain entries %lld to %lld are missing: deleted from the event chain",
			    (long long)last + 1, (long long)e.n - 1);
		else if (e.n <= last)
			say(&w, 0, "", "entry %lld comes after entry %lld: an entry was inserted",
			    (long long)e.n, (long long)last);
		else if (strcmp(e.prev_hash, expect) != 0)
			say(&w, 0, "",
			    "entry %lld does not link to entry %lld (previous hash differs): an entry was"
			    " edited or replaced",
			    (long long)e.n, (long long)last);
		jst__evchain_entry_hash(&e, h);
		if (strcmp(h, e.hash) != 0)
			say(&w, 0, "",
			    "entry %lld (batch %lld): its hash does not match its content: the entry was"
			    " edited",
			    (long long)e.n, (long long)e.batch);
		if (strcmp(e.origin, "migration") == 0)
			rep->migrated += (size_t)e.events;
		check_entry_events(&w, &e);
		jst__strlcpy(expect, e.hash, sizeof(expect));
		last = e.n > last ? e.n : last;
	}
	if (w.have >= 0 && r >= 0)
		inserted_before(&w, -1);
	free(w.ev);
	if (w.have < 0)
		return w.have;
	if (r < 0)
		return r;
	jst__strlcpy(rep->head, rep->entries ? expect : "", sizeof(rep->head));
	if (sc->highest_n > last)
		say(&w, 0, "",
		    "chain entries %lld to %lld are missing: the newest entries were deleted",
		    (long long)last + 1, (long long)sc->highest_n);
	return 0;
}

int jst_store_events_verify(struct jst_store *s, jst_events_verify_fn fn, void *ud,
			    struct jst_events_report *out)
{
	memset(out, 0, sizeof(*out));
	if (!s->ops->stream || !s->ops->stream->events_verify) {
		snprintf(s->errmsg, sizeof(s->errmsg), "the %s store keeps no event chain",
			 s->ops->scheme);
		return -ENOTSUP;
	}
	return s->ops->stream->events_verify(s, fn, ud, out);
}
