/* Encoding events of schema v1 as NDJSON lines: from a run record and its samples (what
 * `joulestream run --sink` and the agent send) and from parsed events. Ids are deterministic
 * so that a resent event is stored once: RUNID-b, RUNID-s-SEQ-ZONE, RUNID-p-SEQ (phase),
 * RUNID-m-SEQ (metric), RUNID-e, AGENT-h-SEQ. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "core/jbuf.h"
#include "event/record.h"
#include "joulestream/gpupower.h"
#include "record/gpupower.h"
#include "joulestream/event.h"

static int done(struct jst_jbuf *b)
{
	jst__jbuf_put(b, "}", 1);
	return b->full ? -ENOSPC : (int)b->len;
}

static void head(struct jst_jbuf *b, const char *id, const char *suffix, const char *type,
                 uint64_t ts_ns, const char *run, const char *host)
{
	jst__jbuf_str(b, "{\"v\":1,\"id\":");
	char full[JST_EVENT_ID_MAX + 1];
	size_t il = strlen(id), sl = strlen(suffix);
	if (il + sl > JST_EVENT_ID_MAX) {
		b->full = true;
		return;
	}
	memcpy(full, id, il);
	memcpy(full + il, suffix, sl + 1);
	jst__jbuf_jstr(b, full);
	jst__jbuf_key(b, "type");
	jst__jbuf_jstr(b, type);
	jst__jbuf_key(b, "ts_ns");
	jst__jbuf_u64(b, ts_ns);
	if (run) {
		jst__jbuf_key(b, "run");
		jst__jbuf_jstr(b, run);
	}
	jst__jbuf_key(b, "host");
	jst__jbuf_jstr(b, host);
}

static void zones_array(struct jst_jbuf *b, const struct jst_run *run)
{
	jst__jbuf_put(b, "[", 1);
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone *z = &run->zones[i].zone;
		jst__jbuf_str(b, i ? ",{" : "{");
		jst__jbuf_key(b, "name");
		jst__jbuf_jstr(b, z->name);
		jst__jbuf_key(b, "label");
		jst__jbuf_jstr(b, z->label);
		jst__jbuf_key(b, "uid");
		jst__jbuf_jstr(b, z->uid);
		jst__jbuf_key(b, "kind");
		jst__jbuf_jstr(b, jst_zone_kind_name(z->kind));
		jst__jbuf_key(b, "source");
		jst__jbuf_jstr(b, z->source ? z->source : "");
		jst__jbuf_printf(b, ",\"estimate\":%s,\"counted\":%s}",
		                 (z->flags & JST_ZONE_ESTIMATE) ? "true" : "false",
		                 (z->flags & JST_ZONE_COUNTED) ? "true" : "false");
	}
	jst__jbuf_put(b, "]", 1);
}

static void meta_object(struct jst_jbuf *b, const struct jst_run *run)
{
	const struct jst_meta *m = &run->meta;
	const char *keys[] = {"kernel", "cpu_model", "gpus", "gpu_driver", "git_commit", "container",
	                      "joulestream_version", "sensors"};
	const char *vals[] = {m->kernel, m->cpu_model, m->gpus, m->gpu_driver, m->git_commit,
	                      m->container, m->version, m->sensors};
	jst__jbuf_put(b, "{", 1);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		jst__jbuf_key(b, keys[i]);
		jst__jbuf_jstr(b, vals[i]);
	}
	jst__jbuf_printf(b, ",\"cpu_count\":%u", m->cpu_count);
	jst__jbuf_key(b, "ram_gb");
	jst__jbuf_jnum(b, m->ram_gb);
	if (m->git_dirty >= 0)
		jst__jbuf_printf(b, ",\"git_dirty\":%s", m->git_dirty ? "true" : "false");
	jst__jbuf_key(b, "zones");
	zones_array(b, run);
	jst__jbuf_put(b, "}", 1);
}

int jst_event_encode_run_start(const struct jst_run *run, const char *model, int argc,
                               char *const *argv, char *out, size_t n)
{
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	head(&b, run->id, "-b", "run_start", run->start_ns, run->id, run->meta.host);
	const char *keys[] = {"user", "model", "project", "cwd", "zone", "zone_origin"};
	const char *vals[] = {run->meta.user,      model ? model : "",
			      run->meta.project,   run->meta.cwd,
			      run->site.zone_code, jst_zone_origin_name(run->site.zone_origin)};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		jst__jbuf_key(&b, keys[i]);
		jst__jbuf_jstr(&b, vals[i]);
	}
	jst__jbuf_str(&b, ",\"command\":[");
	for (int i = 0; i < argc; i++) {
		if (i)
			jst__jbuf_put(&b, ",", 1);
		jst__jbuf_jstr(&b, argv[i]);
	}
	jst__jbuf_put(&b, "]", 1);
	jst__jbuf_key(&b, "interval_s");
	jst__jbuf_jnum(&b, run->interval_s);
	jst__jbuf_key(&b, "scope");
	jst__jbuf_jstr(&b, run->scope == JST_SCOPE_HOST ? "host" : "process");
	if (run->host_series)
		jst__jbuf_str(&b, ",\"series\":\"host\"");
	if (run->site.pue >= 1) {
		jst__jbuf_key(&b, "pue");
		jst__jbuf_jnum(&b, run->site.pue);
	}
	if (run->site.wue_l_per_kwh >= 0) {
		jst__jbuf_key(&b, "wue_l_per_kwh");
		jst__jbuf_jnum(&b, run->site.wue_l_per_kwh);
	}
	jst__jbuf_key(&b, "meta");
	meta_object(&b, run);
	jst__rec_write(&b, run, jst__rec_start, jst__rec_nstart);
	return done(&b);
}

int jst_event_encode_sample(const struct jst_run *run, const struct jst_sample *s, uint64_t seq,
                            char *out, size_t n)
{
	if (s->zone >= run->nzones)
		return -EINVAL;
	const struct jst_zone *z = &run->zones[s->zone].zone;
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[48];
	snprintf(suffix, sizeof(suffix), "-s-%llu-%u", (unsigned long long)seq, s->zone);
	double end_s = s->t_s + s->dt_s;
	/* rounded, not truncated: t_s + dt_s is the monotonic time since the start in ns / 1e9, so
	 * the nearest integer is that time exactly, the one marks are dated on */
	head(&b, run->id, suffix, "sample", run->start_ns + (uint64_t)(end_s > 0 ? llround(end_s * 1e9) : 0),
	     run->id, run->meta.host);
	jst__jbuf_key(&b, "zone");
	jst__jbuf_jstr(&b, z->name);
	jst__jbuf_printf(&b, ",\"zone_index\":%u", s->zone);
	jst__jbuf_key(&b, "kind");
	jst__jbuf_jstr(&b, jst_zone_kind_name(z->kind));
	jst__jbuf_key(&b, "source");
	jst__jbuf_jstr(&b, z->source ? z->source : "");
	jst__jbuf_printf(&b, ",\"estimate\":%s", (z->flags & JST_ZONE_ESTIMATE) ? "true" : "false");
	double share = s->host_j > 0 ? s->run_j / s->host_j : 0;
	share = share < 0 ? 0 : share > 1 ? 1 : share;
	jst__jbuf_key(&b, "dt_s");
	jst__jbuf_jnum(&b, s->dt_s > 0 ? s->dt_s : 1e-9);
	jst__jbuf_key(&b, "energy_j");
	jst__jbuf_jnum(&b, s->host_j > 0 ? s->host_j : 0);
	jst__jbuf_key(&b, "power_w");
	jst__jbuf_jnum(&b, s->power_w > 0 ? s->power_w : 0);
	jst__jbuf_key(&b, "share");
	jst__jbuf_jnum(&b, share);
	if (s->idle_j > 0 && s->host_j > 0) {
		double idle = s->idle_j / s->host_j;
		jst__jbuf_key(&b, "idle_share");
		jst__jbuf_jnum(&b, idle > 1 ? 1 : idle);
	}
	if (s->flags & (JST_READ_WRAP | JST_READ_BACKWARDS | JST_READ_FAILED | JST_READ_GONE)) {
		const char *names[] = {"wrap", "backwards", "failed", "gone"};
		unsigned bits[] = {JST_READ_WRAP, JST_READ_BACKWARDS, JST_READ_FAILED, JST_READ_GONE};
		jst__jbuf_str(&b, ",\"flags\":[");
		for (size_t i = 0, k = 0; i < 4; i++)
			if (s->flags & bits[i]) {
				jst__jbuf_str(&b, k++ ? ",\"" : "\"");
				jst__jbuf_str(&b, names[i]);
				jst__jbuf_put(&b, "\"", 1);
			}
		jst__jbuf_put(&b, "]", 1);
	}
	return done(&b);
}

int jst_event_encode_run_end(const struct jst_run *run, char *out, size_t n)
{
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	head(&b, run->id, "-e", "run_end", run->end_ns, run->id, run->meta.host);
	jst__jbuf_printf(&b, ",\"exit\":%d,\"signal\":%d", run->exit_code, run->exit_signal);
	jst__jbuf_key(&b, "duration_s");
	jst__jbuf_jnum(&b, run->duration_s);
	jst__jbuf_printf(&b, ",\"samples\":%lu,\"notes\":[", run->samples);
	for (size_t i = 0; i < run->nnotes; i++) {
		if (i)
			jst__jbuf_put(&b, ",", 1);
		jst__jbuf_jstr(&b, run->notes[i]);
	}
	jst__jbuf_put(&b, "]", 1);
	jst__rec_write(&b, run, jst__rec_end, jst__rec_nend);
	jst__rec_write_end_extra(&b, run);
	if (run->gpu_power) { /* issue 18: the power limit profile and choice */
		jst__jbuf_key(&b, "gpu_power_limit");
		jst__gpu_power_json(&b, run->gpu_power);
	}
	return done(&b);
}

int jst_event_encode_mark(const struct jst_run *run, const struct jst_mark *mk, uint64_t ts_ns, bool late,
                          uint64_t seq, char *out, size_t n)
{
	struct jst_mark m = *mk;
	char text[JST_MARK_MSG_MAX + 1];
	m.t_ns = 0; /* the time is the event's */
	int len = jst_mark_format(&m, text, sizeof(text));
	if (len < 0)
		return len;
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-k-%llu", (unsigned long long)seq);
	head(&b, run->id, suffix, "mark", ts_ns, run->id, run->meta.host);
	jst__jbuf_key(&b, "mark");
	jst__jbuf_jstr(&b, text);
	if (late)
		jst__jbuf_str(&b, ",\"late\":true");
	return done(&b);
}

int jst_event_encode_heartbeat(const char *agent_id, uint64_t seq, const char *host, double uptime_s,
                               double interval_s, char *out, size_t n)
{
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-h-%llu", (unsigned long long)seq);
	head(&b, agent_id, suffix, "heartbeat", jst__wall_ns(), NULL, host);
	jst__jbuf_key(&b, "agent_version");
	jst__jbuf_jstr(&b, jst_version());
	jst__jbuf_key(&b, "uptime_s");
	jst__jbuf_jnum(&b, uptime_s);
	if (interval_s > 0) {
		jst__jbuf_key(&b, "interval_s");
		jst__jbuf_jnum(&b, interval_s);
	}
	return done(&b);
}

int jst_event_encode_phase(const struct jst_run *run, const char *path, bool begin, uint64_t ts_ns,
                           uint64_t seq, char *out, size_t n)
{
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-p-%llu", (unsigned long long)seq);
	head(&b, run->id, suffix, "phase", ts_ns, run->id, run->meta.host);
	jst__jbuf_key(&b, "name");
	jst__jbuf_jstr(&b, path);
	jst__jbuf_str(&b, begin ? ",\"edge\":\"begin\"" : ",\"edge\":\"end\"");
	return done(&b);
}

int jst_event_encode_metric(const struct jst_run *run, const struct jst_mark *mk, int64_t step,
                            int64_t epoch, uint64_t ts_ns, uint64_t seq, char *out, size_t n)
{
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-m-%llu", (unsigned long long)seq);
	head(&b, run->id, suffix, "metric", ts_ns, run->id, run->meta.host);
	if (step >= 0)
		jst__jbuf_printf(&b, ",\"step\":%lld", (long long)step);
	if (epoch >= 0)
		jst__jbuf_printf(&b, ",\"epoch\":%lld", (long long)epoch);
	jst__jbuf_str(&b, ",\"values\":{");
	size_t k = 0;
	for (size_t i = 0; i < mk->nvalues; i++) {
		if (!isfinite(mk->values[i].value))
			continue; /* JSON has no literal for it; the local report keeps it */
		if (k++)
			jst__jbuf_put(&b, ",", 1);
		jst__jbuf_jstr(&b, mk->values[i].name);
		jst__jbuf_put(&b, ":", 1);
		jst__jbuf_jnum(&b, mk->values[i].value);
	}
	if (k == 0)
		return -EINVAL;
	jst__jbuf_put(&b, "}", 1);
	return done(&b);
}

int jst_event_encode_intensity(const struct jst_run *run, const struct jst_series *s, size_t i,
			       size_t end, bool late, uint64_t seq, size_t *next, char *out,
			       size_t n)
{
	if (!s || i >= s->n || i >= end || s->pts[i].t_ns < 0)
		return -EINVAL;
	/* one step: the time point i holds; the points after it join while they keep it */
	int64_t t0 = s->pts[i].t_ns, step = jst_series_end(s, i) - t0;
	size_t j = i + 1;
	while (j < s->n && j < end && j - i < JST_INTENSITY_VALUES_MAX &&
	       s->pts[j].t_ns - s->pts[j - 1].t_ns == step &&
	       jst_series_end(s, j) - s->pts[j].t_ns == step)
		j++;
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	char suffix[32];
	snprintf(suffix, sizeof(suffix), "-i-%llu", (unsigned long long)seq);
	head(&b, run->id, suffix, "intensity", (uint64_t)t0, run->id, run->meta.host);
	jst__jbuf_key(&b, "zone");
	jst__jbuf_jstr(&b, s->zone);
	char src[128];
	jst__strlcpy(src, s->source ? s->source : "", sizeof(src));
	jst__jbuf_key(&b, "source");
	jst__jbuf_jstr(&b, src);
	jst__jbuf_key(&b, "data_version");
	jst__jbuf_jstr(&b, s->version && *s->version ? s->version : "unknown");
	jst__jbuf_key(&b, "step_s");
	jst__jbuf_jnum(&b, (double)step / 1e9);
	jst__jbuf_str(&b, ",\"ci_g_per_kwh\":[");
	for (size_t k = i; k < j; k++) {
		if (k > i)
			jst__jbuf_put(&b, ",", 1);
		jst__jbuf_jnum(&b, s->pts[k].ci_g_per_kwh);
	}
	jst__jbuf_put(&b, "]", 1);
	if (late)
		jst__jbuf_str(&b, ",\"late\":true");
	*next = j;
	return done(&b);
}

static void encode_fields(struct jst_jbuf *b, const struct jst_event *ev)
{
	static const char *const kinds[] = {"package", "core", "uncore", "dram", "psys", "gpu", "other"};
	switch (ev->type) {
	case JST_EV_RUN_START:
		jst__jbuf_key(b, "user");
		jst__jbuf_jstr(b, ev->user);
		jst__jbuf_key(b, "model");
		jst__jbuf_jstr(b, ev->model);
		jst__jbuf_key(b, "project");
		jst__jbuf_jstr(b, ev->project);
		jst__jbuf_key(b, "zone");
		jst__jbuf_jstr(b, ev->zone_code);
		jst__jbuf_str(b, ",\"command\":[],\"interval_s\":");
		jst__jbuf_jnum(b, ev->interval_s);
		jst__jbuf_str(b, ev->scope_host ? ",\"scope\":\"host\"" : ",\"scope\":\"process\"");
		if (ev->pue >= 1) {
			jst__jbuf_key(b, "pue");
			jst__jbuf_jnum(b, ev->pue);
		}
		if (ev->wue_l_per_kwh >= 0) {
			jst__jbuf_key(b, "wue_l_per_kwh");
			jst__jbuf_jnum(b, ev->wue_l_per_kwh);
		}
		break;
	case JST_EV_SAMPLE:
		jst__jbuf_key(b, "zone");
		jst__jbuf_jstr(b, ev->zone);
		jst__jbuf_printf(b, ",\"zone_index\":%u,\"kind\":\"%s\"", ev->zone_index,
		                 (unsigned)ev->kind < 7 ? kinds[ev->kind] : "other");
		jst__jbuf_key(b, "source");
		jst__jbuf_jstr(b, ev->source);
		jst__jbuf_printf(b, ",\"estimate\":%s,\"dt_s\":", ev->estimate ? "true" : "false");
		jst__jbuf_jnum(b, ev->dt_s);
		jst__jbuf_key(b, "energy_j");
		jst__jbuf_jnum(b, ev->energy_j);
		jst__jbuf_key(b, "power_w");
		jst__jbuf_jnum(b, ev->power_w);
		jst__jbuf_key(b, "share");
		jst__jbuf_jnum(b, ev->share);
		if (ev->idle_share > 0) {
			jst__jbuf_key(b, "idle_share");
			jst__jbuf_jnum(b, ev->idle_share);
		}
		break;
	case JST_EV_PHASE:
		jst__jbuf_key(b, "name");
		jst__jbuf_jstr(b, ev->name);
		jst__jbuf_str(b, ev->begin ? ",\"edge\":\"begin\"" : ",\"edge\":\"end\"");
		break;
	case JST_EV_METRIC:
		if (ev->step >= 0)
			jst__jbuf_printf(b, ",\"step\":%lld", (long long)ev->step);
		if (ev->epoch >= 0)
			jst__jbuf_printf(b, ",\"epoch\":%lld", (long long)ev->epoch);
		jst__jbuf_str(b, ",\"values\":{}");
		break;
	case JST_EV_RUN_END:
		jst__jbuf_printf(b, ",\"exit\":%d,\"signal\":%d,\"duration_s\":", ev->exit_code, ev->exit_signal);
		jst__jbuf_jnum(b, ev->duration_s);
		if (ev->samples >= 0)
			jst__jbuf_printf(b, ",\"samples\":%lld", (long long)ev->samples);
		break;
	case JST_EV_HEARTBEAT:
		if (ev->interval_s > 0) {
			jst__jbuf_key(b, "interval_s");
			jst__jbuf_jnum(b, ev->interval_s);
		}
		break;
	case JST_EV_INTENSITY: break; /* not encoded from a parsed event (jst_event_encode) */
	case JST_EV_MARK:
		jst__jbuf_key(b, "mark");
		jst__jbuf_jstr(b, ev->mark);
		if (ev->late)
			jst__jbuf_str(b, ",\"late\":true");
		break;
	}
}

int jst_event_encode(const struct jst_event *ev, char *out, size_t n)
{
	const char *type = jst_event_type_name(ev->type);
	if (!type || ev->type == JST_EV_INTENSITY) /* its values are not kept in struct jst_event */
		return -EINVAL;
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, out, n);
	head(&b, ev->id, "", type, ev->ts_ns, ev->type == JST_EV_HEARTBEAT && !ev->run[0] ? NULL : ev->run,
	     ev->host);
	encode_fields(&b, ev);
	return done(&b);
}
