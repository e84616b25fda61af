/* Fuzz target: planning a start time (jst_when_plan, src/sched/window.c) on any intensity series
 * jst_ci_parse accepts, with the job's length, the chunk and "now" taken from the input's size.
 * Checks: the best window lies between the earliest start and the latest end and has the job's
 * length; chunks are whole, sorted, disjoint and inside the same bounds; an error says why and
 * leaves nothing to release. */
#include <errno.h>

#include "fuzz.h"
#include "joulestream/sched.h"

#define NS 1000000000LL

static void check(const struct jst_when_in *in, int r, const struct jst_when *w, const char *err)
{
	if (r < 0) {
		FUZZ_ASSERT(err[0] && w->chunks == NULL);
		return;
	}
	FUZZ_ASSERT(w->step_ns > 0 && w->earliest_ns >= in->now_ns &&
		    w->latest_end_ns <= w->end_ns);
	if (w->has_best) {
		FUZZ_ASSERT(w->best.start_ns >= w->earliest_ns &&
			    w->best.end_ns <= w->latest_end_ns);
		FUZZ_ASSERT(w->best.end_ns - w->best.start_ns == in->duration_ns);
		FUZZ_ASSERT(w->ties >= 1 && w->ties <= w->candidates);
	}
	if (in->chunk_ns == 0) {
		FUZZ_ASSERT(w->has_best && w->chunks == NULL);
		return;
	}
	FUZZ_ASSERT((int64_t)w->nchunks * in->chunk_ns == in->duration_ns);
	for (size_t i = 0; i < w->nchunks; i++) {
		const struct jst_window *c = &w->chunks[i];
		FUZZ_ASSERT(c->end_ns - c->start_ns == in->chunk_ns);
		FUZZ_ASSERT(c->start_ns >= w->earliest_ns && c->end_ns <= w->latest_end_ns);
		FUZZ_ASSERT(i == 0 || w->chunks[i - 1].end_ns <= c->start_ns);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	struct jst_ci_file *f = NULL;
	char err[512] = "";
	if (!p)
		return 0;
	if (jst_ci_parse(p, size, "fuzz", NULL, &f, err, sizeof(err)) == 0) {
		const struct jst_series *s = jst_ci_at(f, 0);
		struct jst_when_in in = {s, s->pts[0].t_ns + (int64_t)(size % 7) * 600 * NS,
					 (int64_t)(size % 3 + 1) * 3600 * NS, 0,
					 size % 2 ? 0 : 1800 * NS};
		struct jst_when w;
		err[0] = '\0';
		int r = jst_when_plan(&in, &w, err, sizeof(err));
		check(&in, r, &w, err);
		jst_when_release(&w);
	}
	jst_ci_free(f);
	free(p);
	return 0;
}
