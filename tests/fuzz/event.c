/* Fuzz target: what `serve` reads from POST /api/v1/events: an NDJSON batch of schema v1 events
 * (jst_event_batch_parse, src/event/ndjson.c, over jst_event_parse, src/event/parse.c). Checks:
 * a rejected batch holds nothing and names its line; every accepted event is in range (the
 * fields the aggregation and the store trust without looking again) and its line lies inside
 * the input; an accepted event encoded again (jst_event_encode) parses back to the same fields;
 * the fast path of the parser (src/event/flat.c) and cJSON give the same answer, error text
 * included, for every line. */
#include <errno.h>
#include <math.h>

#include "event/parse.h"
#include "fuzz.h"
#include "joulestream/event.h"

#define BATCH_MAX 1000 /* serve's own ceiling is larger; the checks are the same */

static bool id_ok(const char *s, bool empty_ok)
{
	if (!*s)
		return empty_ok;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static void check_ranges(const struct jst_event *e, const char *p, size_t n)
{
	FUZZ_ASSERT(e->line >= p && e->line_len <= n && (size_t)(e->line - p) <= n - e->line_len);
	FUZZ_ASSERT(e->line_len <= JST_EVENT_LINE_MAX && jst_event_type_name(e->type));
	FUZZ_ASSERT(id_ok(e->id, false) && id_ok(e->run, e->type == JST_EV_HEARTBEAT));
	switch (e->type) {
	case JST_EV_RUN_START:
		FUZZ_ASSERT(e->interval_s > 0 && e->interval_s <= 86400);
		FUZZ_ASSERT(e->pue == -1 || (e->pue >= 1 && e->pue <= 10));
		FUZZ_ASSERT(e->wue_l_per_kwh == -1 ||
			    (e->wue_l_per_kwh >= 0 && e->wue_l_per_kwh <= 100));
		break;
	case JST_EV_SAMPLE:
		FUZZ_ASSERT(e->zone[0] && e->zone_index < JST_EVENT_ZONES_MAX &&
			    (unsigned)e->kind <= 6);
		FUZZ_ASSERT(e->dt_s > 0 && e->dt_s <= 86400 && e->energy_j >= 0 &&
			    e->energy_j <= 1e12);
		FUZZ_ASSERT(isfinite(e->power_w) && e->power_w >= 0 && e->share >= 0 &&
			    e->share <= 1);
		FUZZ_ASSERT(e->flags < 16);
		break;
	case JST_EV_PHASE: FUZZ_ASSERT(e->name[0]); break;
	case JST_EV_METRIC:
		FUZZ_ASSERT(e->step >= -1 && e->epoch >= -1 && e->nvalues <= JST_EVENT_VALUES_MAX);
		break;
	case JST_EV_RUN_END:
		FUZZ_ASSERT(e->duration_s >= 0 && e->samples >= -1 && e->exit_signal >= 0);
		break;
	case JST_EV_HEARTBEAT: break;
	case JST_EV_MARK: FUZZ_ASSERT(e->mark[0] && strlen(e->mark) <= JST_MARK_MSG_MAX); break;
	case JST_EV_INTENSITY:
		FUZZ_ASSERT(e->name[0] && e->dt_s > 0 && e->nvalues >= 1 &&
			    e->nvalues <= JST_INTENSITY_VALUES_MAX);
		break;
	}
}

/* The fields jst_event_encode writes come back unchanged (bit for bit: numbers are written in
 * a form that reads back as the same double). */
static void check_roundtrip(const struct jst_event *e)
{
	static char line[JST_EVENT_LINE_MAX];
	struct jst_event b;
	char err[256];
	int n = jst_event_encode(e, line, sizeof(line));
	if (e->type == JST_EV_INTENSITY) { /* its values are not kept in struct jst_event */
		FUZZ_ASSERT(n == -EINVAL);
		return;
	}
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(jst_event_parse(line, (size_t)n, &b, err, sizeof(err)) == 0);
	FUZZ_ASSERT(b.type == e->type && b.ts_ns == e->ts_ns && strcmp(b.id, e->id) == 0 &&
		    strcmp(b.run, e->run) == 0 && strcmp(b.host, e->host) == 0);
	switch (e->type) {
	case JST_EV_RUN_START:
		FUZZ_ASSERT(strcmp(b.user, e->user) == 0 && strcmp(b.model, e->model) == 0 &&
			    strcmp(b.project, e->project) == 0 &&
			    strcmp(b.zone_code, e->zone_code) == 0 &&
			    b.interval_s == e->interval_s && b.pue == e->pue &&
			    b.wue_l_per_kwh == e->wue_l_per_kwh && b.scope_host == e->scope_host);
		break;
	case JST_EV_SAMPLE:
		FUZZ_ASSERT(strcmp(b.zone, e->zone) == 0 && strcmp(b.source, e->source) == 0 &&
			    b.zone_index == e->zone_index && b.kind == e->kind &&
			    b.estimate == e->estimate && b.dt_s == e->dt_s &&
			    b.energy_j == e->energy_j && b.power_w == e->power_w &&
			    b.share == e->share && b.idle_share == e->idle_share);
		break;
	case JST_EV_PHASE: FUZZ_ASSERT(strcmp(b.name, e->name) == 0 && b.begin == e->begin); break;
	case JST_EV_METRIC: FUZZ_ASSERT(b.step == e->step && b.epoch == e->epoch); break;
	case JST_EV_RUN_END:
		FUZZ_ASSERT(b.exit_code == e->exit_code && b.exit_signal == e->exit_signal &&
			    b.duration_s == e->duration_s && b.samples == e->samples);
		break;
	case JST_EV_HEARTBEAT: break;
	case JST_EV_MARK: FUZZ_ASSERT(strcmp(b.mark, e->mark) == 0); break;
	case JST_EV_INTENSITY: break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_copy(data, size);
	if (!p)
		return 0;
	struct jst_event_batch b = {0};
	size_t bad_line = 0;
	char err[512] = "";
	int r = jst_event_batch_parse(p, size, BATCH_MAX, &b, &bad_line, err, sizeof(err));
	if (r == 0) {
		FUZZ_ASSERT(bad_line == 0 && b.n <= BATCH_MAX);
		for (size_t i = 0; i < b.n; i++) {
			check_ranges(&b.ev[i], p, size);
			FUZZ_ASSERT(i == 0 || b.ev[i].line > b.ev[i - 1].line);
			check_roundtrip(&b.ev[i]);
		}
	} else {
		FUZZ_ASSERT(r < 0 && b.n == 0 && bad_line >= 1 && err[0]);
	}
	jst_event_batch_release(&b);
	/* the whole input as one event, through both paths of the parser */
	static struct jst_event e, slow;
	char err2[512] = "";
	err[0] = '\0';
	r = jst_event_parse(p, size, &e, err, sizeof(err));
	int r2 = jst__event_parse_with(p, size, &slow, err2, sizeof(err2), false);
	FUZZ_ASSERT(r == r2 && memcmp(&e, &slow, sizeof(e)) == 0);
	if (r == 0) {
		check_ranges(&e, p, size);
		check_roundtrip(&e);
	} else {
		FUZZ_ASSERT((r == -EINVAL || r == -EPROTONOSUPPORT) && err[0] &&
			    strcmp(err, err2) == 0);
	}
	free(p);
	return 0;
}
