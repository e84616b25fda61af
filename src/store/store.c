/* Picks the store backend from the target ("sqlite:PATH" or a plain path) and forwards the
 * calls; also the default location of the local database and the timeline rebuilt from
 * stored samples. A new database is a new file and one line in the table below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "agg/runview.h"
#include "core/sha256.h"
#include "core/util.h"
#include "joulestream/ingest.h"
#include "joulestream/gpupower.h"
#include "joulestream/intensity.h"
#include "joulestream/trust.h"
#include "store/store.h"
#include "store/stream.h"

static const struct jst_store_ops *const stores[] = {
	&jst__store_sqlite,
	&jst__store_postgres,
	NULL,
};

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int jst_store_default_path(char *out, size_t n, bool make)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int w;
	if (xdg && *xdg == '/')
		w = snprintf(out, n, "%s/joulestream", xdg);
	else if (home && *home)
		w = snprintf(out, n, "%s/.local/share/joulestream", home);
	else
		return -ENOENT;
	if (w < 0 || (size_t)w + sizeof("/joulestream.db") > n)
		return -ENAMETOOLONG;
	if (make) {
		int r = mkdirs(out);
		if (r < 0)
			return r;
	}
	strcat(out, "/joulestream.db");
	return 0;
}

int jst_store_open(struct jst_store **out, const char *target, char *err, size_t errlen)
{
	/* "scheme:rest" or "scheme://rest" for a known scheme; anything else is a SQLite path */
	const struct jst_store_ops *ops = &jst__store_sqlite;
	for (size_t i = 0; stores[i]; i++) {
		size_t l = strlen(stores[i]->scheme);
		if (strncmp(target, stores[i]->scheme, l) == 0 && target[l] == ':') {
			ops = stores[i];
			target += l + 1;
			if (strncmp(target, "//", 2) == 0)
				target += 2;
			break;
		}
	}
	if (!*target) {
		snprintf(err, errlen, "empty store location");
		return -EINVAL;
	}
	int r = ops->open(out, target, err, errlen);
	if (r == 0)
		(*out)->ops = ops;
	return r;
}

void jst_store_close(struct jst_store *s)
{
	if (s)
		s->ops->close(s);
}

const char *jst_store_errmsg(const struct jst_store *s)
{
	return s->errmsg;
}

int jst_store_run_end(struct jst_store *s, const struct jst_run *run)
{
	int r = 0;
	if (run->finished && s->ops->add_result) { /* the run-time figure, by data version */
		struct jst_run_result res;
		jst_run_result_from_run(run, "run", &res);
		r = s->ops->add_result(s, run->id, &res);
	}
	return r;
}

int jst_store_add_result(struct jst_store *s, const char *run_id, const struct jst_run_result *res)
{
	if (!s->ops->add_result) {
		snprintf(s->errmsg, sizeof(s->errmsg), "this store keeps no results by data version");
		return -ENOTSUP;
	}
	return s->ops->add_result(s, run_id, res);
}

struct replay {
	const struct jst_run *run;
	struct jst_carbon_acc *acc;
	int used;
};

static int replay_sample(const struct jst_sample *v, void *ud)
{
	struct replay *rp = ud;
	if (v->zone < rp->run->nzones && (rp->run->zones[v->zone].zone.flags & JST_ZONE_COUNTED)) {
		jst_carbon_acc_add(rp->acc, rp->run->start_ns, v->t_s, v->dt_s, v->run_j);
		rp->used++;
	}
	return 0;
}

int jst_store_replay(struct jst_store *s, const struct jst_run *run, struct jst_carbon_acc *a)
{
	struct replay rp = {run, a, 0};
	int r = jst_store_samples(s, run->id, replay_sample, &rp);
	return r < 0 ? r : rp.used;
}

/* ---- the run's event digest (docs/integrity.md) ------------------------------------------- */

#define DIGEST_TAG "joulestream.run-events/1\n"

/* sha256(tag, then each of the run's events in log order: its stored body, length-prefixed as
 * 8 big-endian bytes). The body holds the event's id, type, time and run; the log position is
 * left out, so the same events give the same digest in every store. */
static void digest_init(crypto_hash_sha256_state *h)
{
	crypto_hash_sha256_init(h);
	crypto_hash_sha256_update(h, (const unsigned char *)DIGEST_TAG, sizeof(DIGEST_TAG) - 1);
}

static void digest_add(crypto_hash_sha256_state *h, const char *body, size_t len)
{
	unsigned char b[8];
	uint64_t v = len;
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	crypto_hash_sha256_update(h, b, sizeof(b));
	crypto_hash_sha256_update(h, (const unsigned char *)body, len);
}

static void digest_hex(crypto_hash_sha256_state *h, char out[65])
{
	unsigned char d[32];
	crypto_hash_sha256_final(h, d);
	jst__hex(d, sizeof(d), out);
}

struct digest_walk {
	crypto_hash_sha256_state h;
	int64_t last;
	size_t n;
};

static int digest_event(int64_t seq, const char *body, size_t len, void *ud)
{
	struct digest_walk *w = ud;
	w->last = seq;
	w->n++;
	digest_add(&w->h, body, len);
	return 0;
}

int jst_store_event_digest(struct jst_store *s, const char *run_id, char out[65])
{
	struct digest_walk w = {.last = 0, .n = 0};
	out[0] = '\0';
	if (sodium_init() < 0) {
		snprintf(s->errmsg, sizeof(s->errmsg), "libsodium could not be initialised");
		return -EIO;
	}
	digest_init(&w.h);
	for (;;) {
		size_t before = w.n;
		int r = jst_store_run_events(s, run_id, NULL, w.last, 4096, digest_event, &w);
		if (r < 0)
			return r;
		if (w.n == before)
			break;
	}
	if (!w.n) {
		snprintf(s->errmsg, sizeof(s->errmsg), "no events of run %s in the log", run_id);
		return -ENOENT;
	}
	digest_hex(&w.h, out);
	return 0;
}

/* A run's view being read from the log, the log position reached and the digest so far. */
struct log_view {
	struct jst__runview v;
	int64_t last;
	crypto_hash_sha256_state h;
};

static int fold_event(int64_t seq, const char *body, size_t len, void *ud)
{
	struct log_view *f = ud;
	f->last = seq;
	if (!f->v.light)
		digest_add(&f->h, body, len);
	jst__runview_event(&f->v, body, len);
	return 0;
}

static int fold_carbon(int64_t seq, const char *body, size_t len, void *ud)
{
	struct log_view *f = ud;
	f->last = seq;
	return jst__runview_carbon_sample(&f->v, body, len);
}

/* The second pass of a run whose log holds the intensity values its carbon used: its samples
 * again, through the (run, type) index, integrated with them as the run did. */
static int carbon_pass(struct jst_store *s, const char *id, struct log_view *f)
{
	int64_t after = 0;
	jst__runview_carbon_begin(&f->v);
	for (f->last = 0;; after = f->last) {
		int r = jst_store_run_events(s, id, "sample", after, 4096, fold_carbon, f);
		if (r < 0 || f->last == after)
			return r;
	}
}

/* Reads the view: every event of the run in log order, or (sum given) only its run_start and
 * run_end, the totals of a run still going taken from its summary. */
static int read_view(struct jst_store *s, const char *id, const struct jst_run_summary *sum, struct log_view *f)
{
	struct jst_run *run = f->v.run;
	int r;
	if (sum) {
		f->v.light = true;
		r = jst_store_run_events(s, id, "run_start", 0, 1, fold_event, f);
		if (r >= 0)
			r = jst_store_run_events(s, id, "run_end", 0, 1, fold_event, f);
		if (r >= 0 && !f->v.ended) {
			run->run_j = sum->energy_j;
			run->host_j = sum->host_energy_j;
		}
		return r;
	}
	for (;;) {
		unsigned long before = f->v.events + f->v.bad;
		if ((r = jst_store_run_events(s, id, NULL, f->last, 4096, fold_event, f)) < 0 ||
		    f->v.events + f->v.bad == before)
			break;
	}
	if (r >= 0 && jst__runview_wants_samples(&f->v))
		r = carbon_pass(s, id, f);
	return r;
}

/* A run's record as the view of its events (src/agg/runview.c): all of them, or with sum only
 * its start and end (a listed run). With train, its training record too (copied there: the
 * view's is freed); otherwise what the dialect keeps beside the log (results by data version)
 * and the idle floor of the run's host. A full read also gives the run's event digest
 * (content_hash). */
static int view_from_log(struct jst_store *s, const char *id, const struct jst_run_summary *sum,
                         struct jst_run *run, struct jst_train *train, struct jst_gpu_power *gpu)
{
	struct log_view *f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	jst__runview_init(&f->v, run);
	f->last = 0;
	if (sodium_init() < 0) {
		free(f);
		return -EIO;
	}
	digest_init(&f->h);
	int r = read_view(s, id, sum, f);
	if (r >= 0)
		r = jst__runview_finish(&f->v);
	if (r >= 0 && !sum) /* the digest of what was read is the run's: attestations sign it */
		digest_hex(&f->h, run->prov.content_hash);
	if (r == 0 && train) {
		if (run->train)
			memcpy(train, run->train, sizeof(*train));
		else
			r = -ENOENT; /* the run had no training marks */
	}
	run->train = NULL;
	if (r == 0 && gpu) /* the GPU power limits (issue 18): copied, the view's is freed */
		r = run->gpu_power ? (*gpu = *run->gpu_power, 0) : -ENOENT;
	run->gpu_power = NULL;
	jst__runview_release(&f->v);
	free(f);
	if (r == 0 && !train && s->ops->load_extras)
		s->ops->load_extras(s, run);
	if (r == 0 && !train && s->ops->calibration_load)
		jst_store_floor(s, run); /* the idle floor of the run's host, when calibrated */
	return r;
}

/* "last", a full id or a prefix of at least 4 characters (case does not matter) to the run id
 * of the event log; 0, -ENOENT, -EEXIST or -EINVAL with the message set. */
static int resolve(struct jst_store *s, const char *id, char *out, size_t n)
{
	bool last = strcmp(id, "last") == 0, shorter = !last && strlen(id) < 4;
	char pat[2 * JST_EVENT_ID_MAX + 2];
	size_t k = 0;
	for (const char *p = id; !last && *p && k + 2 < sizeof(pat); p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p; /* ids are upper case */
		if (c == '%' || c == '_' || c == '\\')
			pat[k++] = '\\';
		pat[k++] = c;
	}
	pat[k] = '\0';
	int r = s->ops->resolve(s, last ? NULL : pat, out, n);
	if (shorter && (r == -EEXIST || (r == 0 && strcmp(out, pat) != 0))) {
		/* a short id names only the run of exactly that id, never a prefix */
		snprintf(s->errmsg, sizeof(s->errmsg), "run id '%s' is too short: give at least 4 characters", id);
		return -EINVAL;
	}
	if (r == -ENOENT)
		snprintf(s->errmsg, sizeof(s->errmsg), "no run matches '%s'", id);
	else if (r == -EEXIST)
		snprintf(s->errmsg, sizeof(s->errmsg), "'%s' matches several runs: give more of the id", id);
	return r;
}

int jst_store_load(struct jst_store *s, const char *id, struct jst_run *run)
{
	char rid[JST_EVENT_ID_MAX + 1];
	int r = resolve(s, id, rid, sizeof(rid));
	return r == 0 ? view_from_log(s, rid, NULL, run, NULL, NULL) : r;
}

struct id_list {
	char (*id)[JST_EVENT_ID_MAX + 1];
	size_t n, cap, want;
	struct jst_run_summary *sum; /* parallel to id: the running totals */
};

static int collect_id(const struct jst_run_summary *r, void *ud)
{
	struct id_list *l = ud;
	if (!r->has_start)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *a = realloc(l->id, cap * sizeof(*l->id)), *b = a ? realloc(l->sum, cap * sizeof(*l->sum)) : NULL;
		if (a)
			l->id = a;
		if (!a || !b)
			return -ENOMEM;
		l->sum = b;
		l->cap = cap;
	}
	jst__strlcpy(l->id[l->n], r->run, sizeof(l->id[0]));
	l->sum[l->n++] = *r;
	return l->want && l->n >= l->want;
}

/* Runs newest first from the event log's run summaries. */
static int list_from_log(struct jst_store *s, size_t limit, int (*fn)(const struct jst_run *, void *), void *ud)
{
	struct id_list l = {.want = limit};
	struct jst_run_query q = {.sort = JST_SORT_START, .limit = 1000};
	char cursor[256] = "", next[256];
	int r;
	do {
		q.cursor = cursor[0] ? cursor : NULL;
		next[0] = '\0';
		if ((r = jst_store_query_runs(s, &q, collect_id, &l, next, sizeof(next))) < 0)
			break;
		jst__strlcpy(cursor, next, sizeof(cursor));
	} while (next[0] && (!limit || l.n < limit));
	struct jst_run *run = r >= 0 ? malloc(sizeof(*run)) : NULL;
	int n = 0;
	if (r >= 0 && !run)
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < l.n && (!limit || (size_t)n < limit); i++) {
		if (view_from_log(s, l.id[i], &l.sum[i], run, NULL, NULL) < 0)
			continue;
		n++;
		if (fn(run, ud))
			break;
	}
	free(run);
	free(l.id);
	free(l.sum);
	return r < 0 ? r : n;
}

int jst_store_list(struct jst_store *s, size_t limit, int (*fn)(const struct jst_run *, void *), void *ud)
{
	return list_from_log(s, limit, fn, ud);
}

/* A run's samples read back from its sample events (the store's event log), in log order. */
struct log_samples {
	uint64_t start_ns; /* the run_start's ts_ns */
	bool started;
	int64_t last_seq;
	int n, stop;
	int (*fn)(const struct jst_sample *, void *);
	void *ud;
	struct jst_event ev;
};

static int log_start(int64_t seq, const char *body, size_t len, void *ud)
{
	struct log_samples *ls = ud;
	char err[128];
	(void)seq;
	if (jst_event_parse(body, len, &ls->ev, err, sizeof(err)) == 0) {
		ls->start_ns = ls->ev.ts_ns;
		ls->started = true;
	}
	return 1;
}

static int log_sample(int64_t seq, const char *body, size_t len, void *ud)
{
	struct log_samples *ls = ud;
	char err[128];
	ls->last_seq = seq;
	if (jst_event_parse(body, len, &ls->ev, err, sizeof(err)) < 0)
		return 0; /* stored events were validated at ingest */
	const struct jst_event *e = &ls->ev;
	uint32_t flags = JST_READ_ENERGY;
	flags |= (e->flags & JST_EVF_WRAP) ? JST_READ_WRAP : 0;
	flags |= (e->flags & JST_EVF_BACKWARDS) ? JST_READ_BACKWARDS : 0;
	flags |= (e->flags & JST_EVF_GONE) ? JST_READ_GONE : 0;
	double end_s = e->ts_ns > ls->start_ns ? (double)(e->ts_ns - ls->start_ns) / 1e9 : 0;
	struct jst_sample v = {end_s - e->dt_s, e->dt_s, e->zone_index, flags, e->energy_j, e->energy_j * e->share,
	                       e->power_w, e->energy_j * e->idle_share};
	ls->n++;
	return (ls->stop = ls->fn(&v, ls->ud)) != 0;
}

/* The number of the run's samples, or a negative errno. */
static int samples_from_log(struct jst_store *s, const char *run_id, struct log_samples *ls)
{
	int r = jst_store_run_events(s, run_id, "run_start", 0, 1, log_start, ls);
	if (r < 0 || !ls->started)
		return r;
	for (;;) {
		int before = ls->n;
		if ((r = jst_store_run_events(s, run_id, "sample", ls->last_seq, 4096, log_sample, ls)) < 0)
			return r;
		if (ls->stop || ls->n == before)
			break;
	}
	return ls->n;
}

int jst_store_samples(struct jst_store *s, const char *run_id,
                      int (*fn)(const struct jst_sample *, void *), void *ud)
{
	struct log_samples *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	ls->fn = fn;
	ls->ud = ud;
	int r = samples_from_log(s, run_id, ls);
	free(ls);
	return r;
}

/* The training record rebuilt from the run's mark events (-ENOENT: the run had none). */
int jst_store_load_train(struct jst_store *s, const struct jst_run *run, struct jst_train *t)
{
	struct jst_run *scratch = malloc(sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	int r = view_from_log(s, run->id, NULL, scratch, t, NULL);
	free(scratch);
	return r;
}

int jst_store_load_gpu_power(struct jst_store *s, const struct jst_run *run, struct jst_gpu_power *g)
{
	struct jst_run *scratch = malloc(sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	int r = view_from_log(s, run->id, NULL, scratch, NULL, g);
	free(scratch);
	return r;
}

/* Samples come zone by zone within a tick; a tick ends when the time moves on. */
struct tl_build {
	struct jst_timeline *tl;
	double t_s, dt_s;
	double *host, *run;
	bool open;
};

static void tl_flush(struct tl_build *b)
{
	if (!b->open)
		return;
	jst_timeline_add(b->tl, b->t_s, b->dt_s, b->host, b->run);
	memset(b->host, 0, b->tl->nzones * sizeof(double));
	memset(b->run, 0, b->tl->nzones * sizeof(double));
	b->open = false;
}

static int tl_sample(const struct jst_sample *s, void *ud)
{
	struct tl_build *b = ud;
	if (s->zone >= b->tl->nzones)
		return 0;
	if (b->open && s->t_s != b->t_s)
		tl_flush(b);
	if (!b->open) {
		b->open = true;
		b->t_s = s->t_s;
		b->dt_s = s->dt_s;
	}
	b->host[s->zone] += s->host_j;
	b->run[s->zone] += s->run_j;
	return 0;
}

int jst_store_timeline(struct jst_store *s, const struct jst_run *run, struct jst_timeline *tl)
{
	size_t nz = tl->nzones ? tl->nzones : 1;
	struct tl_build b = {tl, 0, 0, calloc(nz, sizeof(double)), calloc(nz, sizeof(double)), false};
	int r = -ENOMEM;
	if (b.host && b.run) {
		r = jst_store_samples(s, run->id, tl_sample, &b);
		tl_flush(&b);
	}
	free(b.host);
	free(b.run);
	return r;
}

int jst_store_chain_head(struct jst_store *s, char out[65])
{
	out[0] = '\0';
	if (!s->ops->chain_head) {
		snprintf(s->errmsg, sizeof(s->errmsg), "this store keeps no event chain");
		return -ENOTSUP;
	}
	return s->ops->chain_head(s, out);
}

/* ---- calibrations and the idle floor: through the dialect's calibration ops ---------------- */

int jst_store_trust_check(struct jst_store *s, const char *what)
{
	if (s->ops->calibration_add && s->ops->chain_head)
		return 0;
	snprintf(s->errmsg, sizeof(s->errmsg), "%s is not supported by %s stores (no calibrations or no event"
	         " chain)", what, s->ops->scheme);
	return -ENOTSUP;
}

int jst_store_add_calibration(struct jst_store *s, const struct jst_calibration *c)
{
	if (!s->ops->calibration_add)
		return jst_store_trust_check(s, "storing a calibration");
	return s->ops->calibration_add(s, c);
}

int jst_store_calibration(struct jst_store *s, const char *host, uint64_t before_ns, struct jst_calibration *out)
{
	if (!s->ops->calibration_load)
		return jst_store_trust_check(s, "reading calibrations");
	int r = s->ops->calibration_load(s, host, before_ns, out);
	if (r == -ENOENT)
		snprintf(s->errmsg, sizeof(s->errmsg), "no calibration of host %s: joulestream calibrate", host);
	return r;
}

int jst_store_floor(struct jst_store *s, struct jst_run *run)
{
	memset(&run->floor, 0, sizeof(run->floor));
	if (!s->ops->calibration_load)
		return jst_store_trust_check(s, "the idle floor");
	if (!run->meta.host[0])
		return -ENOENT;
	struct jst_calibration *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	/* the newest calibration made before the run ended, else the first made after it */
	uint64_t end = run->end_ns ? run->end_ns : run->start_ns;
	int r = s->ops->calibration_load(s, run->meta.host, end ? end : 1, c);
	bool after = false;
	if (r == -ENOENT) {
		r = s->ops->calibration_load(s, run->meta.host, 0, c);
		after = true;
	}
	if (r == 0) {
		jst_floor_compute(c, run);
		run->floor.after = after;
	}
	free(c);
	return r < 0 ? r : run->floor.known ? 0 : -ENOENT;
}

bool jst_store_can_calibrate(const struct jst_store *s)
{
	return s->ops->calibration_add != NULL;
}
