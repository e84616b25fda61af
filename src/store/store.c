/* Picks the store backend from the target ("sqlite:PATH" or a plain path) and forwards the
 * calls; also the default location of the local database and the timeline rebuilt from
 * stored samples. A new database is a new file and one line in the table below. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "joulestream/intensity.h"
#include "store/store.h"

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

int jst_store_run_begin(struct jst_store *s, const struct jst_run *run)
{
	return s->ops->run_begin(s, run);
}

int jst_store_add_samples(struct jst_store *s, const char *run_id, const struct jst_sample *v, size_t n)
{
	return n ? s->ops->add_samples(s, run_id, v, n) : 0;
}

int jst_store_run_end(struct jst_store *s, const struct jst_run *run)
{
	int r = s->ops->run_end(s, run);
	if (r == 0 && run->finished && s->ops->add_result) { /* the run-time figure, by data version */
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

int jst_store_load(struct jst_store *s, const char *id, struct jst_run *run)
{
	return s->ops->load(s, id, run);
}

int jst_store_list(struct jst_store *s, size_t limit, int (*fn)(const struct jst_run *, void *), void *ud)
{
	return s->ops->list(s, limit, fn, ud);
}

int jst_store_samples(struct jst_store *s, const char *run_id,
                      int (*fn)(const struct jst_sample *, void *), void *ud)
{
	return s->ops->samples(s, run_id, fn, ud);
}

int jst_store_add_metrics(struct jst_store *s, const char *run_id, const struct jst_metric *v, size_t n,
                          const char (*names)[JST_MARK_NAME_MAX], size_t nnames)
{
	return n ? s->ops->add_metrics(s, run_id, v, n, names, nnames) : 0;
}

int jst_store_load_train(struct jst_store *s, const struct jst_run *run, struct jst_train *t)
{
	return s->ops->load_train(s, run, t);
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
