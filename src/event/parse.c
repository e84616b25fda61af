/* Parsing and validating one event of schema v1 (docs/schema.md). A pure function over
 * (p, n): the line is checked for UTF-8 first (cJSON accepts any byte in strings), then read
 * into a view of its members, and every field checked for type, range and length. The view
 * comes from the flat scanner (flat.h: no allocation, the usual sample line) or, for anything
 * else, from cJSON; the checks are the same code for both. ts_ns is read from the text
 * itself, because a double holds only 53 bits and epoch nanoseconds need 61. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/util.h"
#include "event/flat.h"
#include "core/jbuf.h"
#include "event/parse.h"
#include "joulestream/event.h"

static const char *const type_names[] = {"run_start", "sample",    "phase", "metric",
					 "run_end",   "heartbeat", "mark",  "intensity"};
static const char *const kind_names[] = {"package", "core", "uncore", "dram", "psys", "gpu", "other"};
static const char *const flag_names[] = {"wrap", "backwards", "failed", "gone"};

const char *jst_event_type_name(enum jst_event_type t)
{
	return (unsigned)t < JST_ARRAY_LEN(type_names) ? type_names[t] : NULL;
}

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool id_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

/* The event's members: cJSON's tree, or the flat scanner's (flat.h), never both. */
struct view {
	const cJSON *o;
	const struct jst_flat *f;
};

enum vkind { V_STR, V_NUM, V_BOOL, V_NULL, V_ARRAY, V_OBJECT, V_OTHER };

struct val {
	enum vkind kind;
	const char *s; /* V_STR: the bytes (NUL-terminated only from cJSON), slen of them */
	size_t slen;
	double num;        /* V_NUM */
	bool truth;        /* V_BOOL */
	const cJSON *item; /* cJSON's item (NULL from the flat scanner, which has no arrays) */
};

static bool get(const struct view *w, const char *key, struct val *v)
{
	*v = (struct val){.kind = V_OTHER};
	if (w->f) {
		const struct jst_flat_member *m = jst__flat_get(w->f, key);
		if (!m)
			return false;
		v->s = m->val;
		v->slen = m->vlen;
		switch (m->kind) {
		case JST_FLAT_STR: v->kind = V_STR; break;
		case JST_FLAT_NUM:
			v->kind = V_NUM;
			v->num = jst__flat_number(m);
			break;
		case JST_FLAT_NULL: v->kind = V_NULL; break;
		default:
			v->kind = V_BOOL;
			v->truth = m->kind == JST_FLAT_TRUE;
		}
		return true;
	}
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(w->o, key);
	if (!it)
		return false;
	v->item = it;
	if (cJSON_IsString(it) && it->valuestring) {
		v->kind = V_STR;
		v->s = it->valuestring;
		v->slen = strlen(it->valuestring);
	} else if (cJSON_IsNumber(it)) {
		v->kind = V_NUM;
		v->num = it->valuedouble;
	} else if (cJSON_IsBool(it)) {
		v->kind = V_BOOL;
		v->truth = cJSON_IsTrue(it);
	} else {
		v->kind = cJSON_IsNull(it)   ? V_NULL
			  : cJSON_IsArray(it)  ? V_ARRAY
			  : cJSON_IsObject(it) ? V_OBJECT
					       : V_OTHER;
	}
	return true;
}

/* A string field: absent is fine unless required; longer than size-1 is an error. */
static int get_str(const struct view *w, const char *key, bool req, char *dst, size_t size,
		   char *err, size_t el)
{
	struct val v;
	if (!get(w, key, &v))
		return req ? bad(err, el, "missing \"%s\"", key) : 0;
	if (v.kind != V_STR)
		return bad(err, el, "\"%s\" must be a string", key);
	if (v.slen >= size)
		return bad(err, el, "\"%s\" is longer than %zu bytes", key, size - 1);
	memcpy(dst, v.s, v.slen);
	dst[v.slen] = '\0';
	return 0;
}

/* A finite number in [lo, hi]; *found tells whether it was there. */
static int get_num(const struct view *w, const char *key, bool req, double lo, double hi,
		   double *out, bool *found, char *err, size_t el)
{
	struct val it;
	bool there = get(w, key, &it);
	if (found)
		*found = there;
	if (!there)
		return req ? bad(err, el, "missing \"%s\"", key) : 0;
	if (it.kind != V_NUM)
		return bad(err, el, "\"%s\" must be a number", key);
	double v = it.num;
	if (!isfinite(v))
		return bad(err, el, "\"%s\" is not finite", key);
	if (v < lo || v > hi)
		return bad(err, el, "\"%s\" is %g, outside [%g, %g]", key, v, lo, hi);
	*out = v;
	return 0;
}

static int get_int(const struct view *o, const char *key, bool req, double lo, double hi,
		   int64_t *out, bool *found_out, char *err, size_t el)
{
	double v = 0;
	bool found = false;
	int r = get_num(o, key, req, lo, hi, &v, &found, err, el);
	if (found_out)
		*found_out = found;
	if (r < 0 || !found)
		return r;
	if (v != floor(v))
		return bad(err, el, "\"%s\" must be an integer", key);
	*out = (int64_t)v; /* callers' ranges stay within int64 */
	return 0;
}

static int get_bool(const struct view *w, const char *key, bool *out, char *err, size_t el)
{
	struct val v;
	if (!get(w, key, &v))
		return 0;
	if (v.kind != V_BOOL)
		return bad(err, el, "\"%s\" must be true or false", key);
	*out = v.truth;
	return 0;
}

/* The text of the number after the top-level key `key`, or NULL. Tracks strings and depth so
 * that a key inside a string or a nested object is not taken. */
static const char *top_number(const char *p, size_t n, const char *key, size_t *len)
{
	size_t kl = strlen(key);
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			size_t s = i + 1, j = s;
			while (j < n && p[j] != '"')
				j += p[j] == '\\' ? 2 : 1;
			if (j >= n)
				return NULL;
			i = j;
			if (depth != 1 || j - s != kl || memcmp(p + s, key, kl) != 0)
				continue;
			size_t k = j + 1;
			while (k < n && (p[k] == ' ' || p[k] == '\t'))
				k++;
			if (k >= n || p[k] != ':')
				continue; /* a value equal to the key, not the key */
			k++;
			while (k < n && (p[k] == ' ' || p[k] == '\t'))
				k++;
			size_t e = k;
			while (e < n && p[e] != ',' && p[e] != '}' && p[e] != ' ' && p[e] != '\t')
				e++;
			*len = e - k;
			return p + k;
		}
	}
	return NULL;
}

static int parse_ts(const struct view *w, const char *p, size_t n, struct jst_event *ev, char *err,
		    size_t el)
{
	double approx = 0;
	int r = get_num(w, "ts_ns", true, 0, 1.8446744073709552e19, &approx, NULL, err, el);
	if (r < 0)
		return r;
	size_t len = 0;
	const char *t;
	const struct jst_flat_member *m = w->f ? jst__flat_get(w->f, "ts_ns") : NULL;
	if (m) /* the same text top_number finds: a flat line has no nesting and no escapes */
		t = m->val, len = m->vlen;
	else
		t = top_number(p, n, "ts_ns", &len);
	uint64_t v;
	if (!t || len == 0 || t[0] < '0' || t[0] > '9' || jst__parse_u64(t, len, &v) < 0)
		return bad(err, el, "\"ts_ns\" must be written as a plain non-negative integer");
	if (v >= JST_EVENT_TS_MAX)
		return bad(err, el, "\"ts_ns\" %llu is not a plausible time: UTC nanoseconds since the epoch, "
		           "before 2100-01-01 (%llu)", (unsigned long long)v, (unsigned long long)JST_EVENT_TS_MAX);
	ev->ts_ns = v;
	return 0;
}

/* An array or object member's presence and kind: absent, or *item (cJSON's; NULL from the flat
 * scanner, which gives up on any array or object, so there it is always another kind). */
static bool get_nested(const struct view *w, const char *key, enum vkind kind, const cJSON **item,
		       bool *other)
{
	struct val v;
	*item = NULL;
	*other = false;
	if (!get(w, key, &v))
		return false;
	if (v.kind == kind)
		*item = v.item;
	else
		*other = true;
	return true;
}

static int parse_run_start(const struct view *w, struct jst_event *ev, char *err, size_t el)
{
	int r;
	char scope[16] = "", series[16] = "";
	if ((r = get_str(w, "series", false, series, sizeof(series), err, el)) < 0 ||
	    (r = get_str(w, "user", false, ev->user, sizeof(ev->user), err, el)) < 0 ||
	    (r = get_str(w, "model", false, ev->model, sizeof(ev->model), err, el)) < 0 ||
	    (r = get_str(w, "project", false, ev->project, sizeof(ev->project), err, el)) < 0 ||
	    (r = get_str(w, "zone", false, ev->zone_code, sizeof(ev->zone_code), err, el)) < 0 ||
	    (r = get_str(w, "scope", false, scope, sizeof(scope), err, el)) < 0 ||
	    (r = get_num(w, "interval_s", true, 1e-9, 86400, &ev->interval_s, NULL, err, el)) < 0 ||
	    (r = get_num(w, "pue", false, 1, 10, &ev->pue, NULL, err, el)) < 0 ||
	    (r = get_num(w, "wue_l_per_kwh", false, 0, 100, &ev->wue_l_per_kwh, NULL, err, el)) < 0)
		return r;
	if (scope[0] && strcmp(scope, "process") != 0 && strcmp(scope, "host") != 0)
		return bad(err, el, "\"scope\" must be \"process\" or \"host\", not \"%s\"", scope);
	ev->scope_host = strcmp(scope, "host") == 0;
	if (series[0] && strcmp(series, "run") != 0 && strcmp(series, "host") != 0)
		return bad(err, el, "\"series\" must be \"run\" or \"host\", not \"%s\"", series);
	ev->series_host = strcmp(series, "host") == 0;
	const cJSON *cmd, *meta, *it;
	bool other;
	if (!get_nested(w, "command", V_ARRAY, &cmd, &other))
		return bad(err, el, "missing \"command\"");
	if (other)
		return bad(err, el, "\"command\" must be an array of strings");
	cJSON_ArrayForEach(it, cmd) if (!cJSON_IsString(it)) return bad(err, el, "\"command\" must be an array of strings");
	if (!series[0] && ev->scope_host) /* an agent before "series": its run_start's command */
		ev->series_host = cJSON_GetArraySize(cmd) == 2 &&
		                  strcmp(cJSON_GetArrayItem(cmd, 0)->valuestring, "joulestream") == 0 &&
		                  strcmp(cJSON_GetArrayItem(cmd, 1)->valuestring, "agent") == 0;
	if (get_nested(w, "meta", V_OBJECT, &meta, &other) && other)
		return bad(err, el, "\"meta\" must be an object");
	return 0;
}

static int parse_sample(const struct view *w, struct jst_event *ev, char *err, size_t el)
{
	int r;
	int64_t zi = 0;
	char kind[16] = "";
	bool has_power = false;
	if ((r = get_str(w, "zone", true, ev->zone, sizeof(ev->zone), err, el)) < 0 ||
	    (r = get_int(w, "zone_index", true, 0, JST_EVENT_ZONES_MAX - 1, &zi, NULL, err, el)) < 0 ||
	    (r = get_str(w, "kind", true, kind, sizeof(kind), err, el)) < 0 ||
	    (r = get_str(w, "source", true, ev->source, sizeof(ev->source), err, el)) < 0 ||
	    (r = get_bool(w, "estimate", &ev->estimate, err, el)) < 0 ||
	    (r = get_num(w, "dt_s", true, 1e-9, 86400, &ev->dt_s, NULL, err, el)) < 0 ||
	    (r = get_num(w, "energy_j", true, 0, 1e12, &ev->energy_j, NULL, err, el)) < 0 ||
	    (r = get_num(w, "power_w", false, 0, 1e9, &ev->power_w, &has_power, err, el)) < 0 ||
	    (r = get_num(w, "share", true, 0, 1, &ev->share, NULL, err, el)) < 0 ||
	    (r = get_num(w, "idle_share", false, 0, 1, &ev->idle_share, NULL, err, el)) < 0)
		return r;
	if (!ev->zone[0])
		return bad(err, el, "\"zone\" is empty");
	ev->zone_index = (unsigned)zi;
	size_t k = 0;
	while (k < JST_ARRAY_LEN(kind_names) && strcmp(kind, kind_names[k]) != 0)
		k++;
	if (k == JST_ARRAY_LEN(kind_names))
		return bad(err, el, "\"kind\" \"%s\" is not one of package, core, uncore, dram, psys, gpu, other", kind);
	ev->kind = (enum jst_zone_kind)k;
	if (!has_power)
		ev->power_w = ev->energy_j / ev->dt_s;
	if (ev->power_w > 1e9) /* the derived power obeys the range of the written one */
		return bad(err, el, "energy_j / dt_s is %g W, above 1e9 W: check dt_s",
			   ev->power_w);
	const cJSON *fl, *it;
	bool other;
	if (get_nested(w, "flags", V_ARRAY, &fl, &other) && other)
		return bad(err, el, "\"flags\" must be an array");
	cJSON_ArrayForEach(it, fl)
	{
		size_t f = 0;
		while (cJSON_IsString(it) && f < JST_ARRAY_LEN(flag_names) && strcmp(it->valuestring, flag_names[f]) != 0)
			f++;
		if (!cJSON_IsString(it) || f == JST_ARRAY_LEN(flag_names))
			return bad(err, el, "\"flags\" may hold only wrap, backwards, failed, gone");
		ev->flags |= 1u << f;
	}
	return 0;
}

static int parse_metric(const struct view *w, struct jst_event *ev, char *err, size_t el)
{
	int r;
	const cJSON *vals, *it;
	bool other;
	ev->step = ev->epoch = -1;
	if ((r = get_int(w, "step", false, 0, 9e15, &ev->step, NULL, err, el)) < 0 ||
	    (r = get_int(w, "epoch", false, 0, 9e15, &ev->epoch, NULL, err, el)) < 0)
		return r;
	if (!get_nested(w, "values", V_OBJECT, &vals, &other) || other)
		return bad(err, el, "\"values\" must be an object of numbers");
	cJSON_ArrayForEach(it, vals)
	{
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
			return bad(err, el, "\"values\".\"%s\" must be a finite number", it->string);
		if (++ev->nvalues > JST_EVENT_VALUES_MAX)
			return bad(err, el, "\"values\" has more than %d entries", JST_EVENT_VALUES_MAX);
	}
	return 0;
}

/* The values in force from ts_ns on, one per step_s: bounded, finite, in the range a series
 * file may hold (series.c). */
static int parse_intensity(const struct view *w, struct jst_event *ev, char *err, size_t el)
{
	int r;
	const cJSON *vals, *it;
	bool other;
	if ((r = get_str(w, "zone", false, ev->zone_code, sizeof(ev->zone_code), err, el)) < 0 ||
	    (r = get_str(w, "data_version", true, ev->name, 160, err, el)) < 0 ||
	    (r = get_str(w, "source", false, ev->model, sizeof(ev->model), err, el)) < 0 ||
	    (r = get_num(w, "step_s", true, 1e-9, 3.2e7, &ev->dt_s, NULL, err, el)) < 0 ||
	    (r = get_bool(w, "late", &ev->late, err, el)) < 0)
		return r;
	if (!ev->name[0])
		return bad(err, el, "\"data_version\" is empty");
	if (!get_nested(w, "ci_g_per_kwh", V_ARRAY, &vals, &other) || other)
		return bad(err, el, "\"ci_g_per_kwh\" must be an array of numbers");
	cJSON_ArrayForEach(it, vals)
	{
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0 ||
		    it->valuedouble > 5000)
			return bad(err, el,
				   "\"ci_g_per_kwh\" values must be numbers from 0 to 5000");
		if (++ev->nvalues > JST_INTENSITY_VALUES_MAX)
			return bad(err, el, "\"ci_g_per_kwh\" has more than %d values",
				   JST_INTENSITY_VALUES_MAX);
	}
	if (ev->nvalues == 0)
		return bad(err, el, "\"ci_g_per_kwh\" is empty");
	return 0;
}

static int parse_other(const struct view *w, struct jst_event *ev, char *err, size_t el)
{
	int r = 0;
	int64_t v = 0;
	char edge[8] = "";
	switch (ev->type) {
	case JST_EV_PHASE:
		if ((r = get_str(w, "name", true, ev->name, sizeof(ev->name), err, el)) < 0 ||
		    (r = get_str(w, "edge", true, edge, sizeof(edge), err, el)) < 0)
			return r;
		if (!ev->name[0])
			return bad(err, el, "\"name\" is empty");
		if (strcmp(edge, "begin") != 0 && strcmp(edge, "end") != 0)
			return bad(err, el, "\"edge\" must be \"begin\" or \"end\"");
		ev->begin = edge[0] == 'b';
		return 0;
	case JST_EV_METRIC:
		return parse_metric(w, ev, err, el);
	case JST_EV_RUN_END:
		ev->samples = -1;
		if ((r = get_int(w, "exit", true, -2147483648.0, 2147483647.0, &v, NULL, err, el)) < 0)
			return r;
		ev->exit_code = (int)v;
		v = 0;
		if ((r = get_int(w, "signal", false, 0, 1024, &v, NULL, err, el)) < 0 ||
		    (r = get_num(w, "duration_s", true, 0, 1e10, &ev->duration_s, NULL, err, el)) < 0 ||
		    (r = get_int(w, "samples", false, 0, 9e15, &ev->samples, NULL, err, el)) < 0)
			return r;
		ev->exit_signal = (int)v;
		return 0;
	case JST_EV_HEARTBEAT: /* the agent's announced period, for the silent-host flag */
		return get_num(w, "interval_s", false, 1e-3, 86400, &ev->interval_s, NULL, err, el);
	case JST_EV_MARK: { /* the message must be a mark the training record can take */
		struct jst_mark mk;
		const char *why = "not a training mark";
		if ((r = get_str(w, "mark", true, ev->mark, sizeof(ev->mark), err, el)) < 0 ||
		    (r = get_bool(w, "late", &ev->late, err, el)) < 0)
			return r;
		if (jst_mark_parse(ev->mark, strlen(ev->mark), &mk, &why) < 0)
			return bad(err, el, "\"mark\": %s", why);
		return 0;
	}
	case JST_EV_INTENSITY: return parse_intensity(w, ev, err, el);
	default:
		return 0;
	}
}

/* The common fields. */
static int parse_head(const struct view *w, const char *p, size_t n, struct jst_event *ev,
		      char *err, size_t el)
{
	struct val v;
	if (!get(w, "v", &v))
		return bad(err, el, "missing \"v\" (the schema version, 1)");
	if (v.kind != V_NUM || v.num != floor(v.num))
		return bad(err, el, "\"v\" must be an integer");
	if (v.num != 1) {
		snprintf(err, el, "unsupported schema version v=%g: this server reads v1 only", v.num);
		return -EPROTONOSUPPORT;
	}
	char type[16] = "";
	int r;
	if ((r = get_str(w, "id", true, ev->id, sizeof(ev->id), err, el)) < 0)
		return r;
	if (!ev->id[0] || !id_chars(ev->id))
		return bad(err, el, "\"id\" must be 1-64 characters of [0-9A-Za-z_-]");
	if ((r = get_str(w, "type", true, type, sizeof(type), err, el)) < 0)
		return r;
	size_t t = 0;
	while (t < JST_ARRAY_LEN(type_names) && strcmp(type, type_names[t]) != 0)
		t++;
	if (t == JST_ARRAY_LEN(type_names))
		return bad(err, el, "unknown \"type\" \"%s\"", type);
	ev->type = (enum jst_event_type)t;
	if ((r = parse_ts(w, p, n, ev, err, el)) < 0 ||
	    (r = get_str(w, "host", true, ev->host, sizeof(ev->host), err, el)) < 0 ||
	    (r = get_str(w, "run", ev->type != JST_EV_HEARTBEAT, ev->run, sizeof(ev->run), err, el)) < 0)
		return r;
	/* a heartbeat may name no run, but a run it names is checked like any other */
	if ((ev->type != JST_EV_HEARTBEAT || ev->run[0]) && (!ev->run[0] || !id_chars(ev->run)))
		return bad(err, el, "\"run\" must be 1-64 characters of [0-9A-Za-z_-]");
	return 0;
}

static int parse_fields(const struct view *w, const char *p, size_t n, struct jst_event *ev, char *err,
			size_t el)
{
	int r = parse_head(w, p, n, ev, err, el);
	if (r == 0 && ev->type == JST_EV_RUN_START)
		r = parse_run_start(w, ev, err, el);
	else if (r == 0 && ev->type == JST_EV_SAMPLE)
		r = parse_sample(w, ev, err, el);
	else if (r == 0)
		r = parse_other(w, ev, err, el);
	return r;
}

/* Spaces, tabs and '\r' may follow the object; anything else is an error. */
static int check_tail(const char *p, size_t n, const char *end, char *err, size_t errlen)
{
	for (const char *q = end; q < p + n; q++)
		if (*q != ' ' && *q != '\t' && *q != '\r')
			return bad(err, errlen, "text after the event's object at byte %zu", (size_t)(q - p));
	return 0;
}

/* JSON leaves duplicate member names to the reader (RFC 8259 §4): cJSON and the flat scanner
 * would take the first, another reader the last, so the log could say two things at once.
 * Refused, at every depth. The flat scanner's first member of a duplicated name, or NULL. */
static const struct jst_flat_member *flat_dup(const struct jst_flat *f)
{
	for (size_t i = 1; i < f->n; i++)
		for (size_t j = 0; j < i; j++)
			if (f->m[i].klen == f->m[j].klen && memcmp(f->m[i].key, f->m[j].key, f->m[i].klen) == 0)
				return &f->m[i];
	return NULL;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The same for cJSON's tree (names unescaped, so "a" and "\u0061" are one); -ENOMEM. */
static int json_dup(const cJSON *o, const char **dup)
{
	size_t k = 0;
	for (const cJSON *c = o->child; c; c = c->next) {
		k++;
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			int r = json_dup(c, dup);
			if (r != 0)
				return r;
		}
	}
	if (!cJSON_IsObject(o) || k < 2)
		return 0;
	const char **names = malloc(k * sizeof(*names));
	if (!names)
		return -ENOMEM;
	k = 0;
	for (const cJSON *c = o->child; c; c = c->next)
		names[k++] = c->string ? c->string : "";
	qsort(names, k, sizeof(*names), cmp_name);
	for (size_t i = 1; i < k && !*dup; i++)
		if (strcmp(names[i], names[i - 1]) == 0)
			*dup = names[i];
	free(names);
	return *dup ? 1 : 0;
}

/* A \u0000 escape: cJSON would end the string there and keep the rest of it out of sight.
 * A backslash is only ever inside a string in JSON, so no quote tracking is needed. */
static bool nul_escape(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\\') {
			if (p[i + 1] == 'u' && i + 5 < n && memcmp(p + i + 2, "0000", 4) == 0)
				return true;
			i++; /* the escaped character */
		}
	return false;
}

int jst__event_parse_with(const char *p, size_t n, struct jst_event *ev, char *err, size_t errlen,
			  bool flat)
{
	memset(ev, 0, offsetof(struct jst_event, mark));
	ev->mark[0] = '\0';
	ev->pue = ev->wue_l_per_kwh = -1;
	ev->line = p;
	ev->line_len = n;
	if (n > JST_EVENT_LINE_MAX)
		return bad(err, errlen, "event longer than %d bytes", JST_EVENT_LINE_MAX);
	if (!jst__utf8_valid(p, n))
		return bad(err, errlen, "invalid UTF-8");
	if (memchr(p, '\0', n))
		return bad(err, errlen, "NUL byte in the event");
	const char *end = NULL;
	struct jst_flat f;
	if (flat && jst__flat_scan(p, n, &f, &end)) {
		struct view w = {NULL, &f};
		int r = check_tail(p, n, end, err, errlen);
		const struct jst_flat_member *dup = r < 0 ? NULL : flat_dup(&f);
		if (dup) /* the message of the cJSON path below */
			return bad(err, errlen, "duplicate member \"%.*s\"", (int)(dup->klen < 60 ? dup->klen : 60), dup->key);
		return r < 0 ? r : parse_fields(&w, p, n, ev, err, errlen);
	}
	if (nul_escape(p, n))
		return bad(err, errlen, "\\u0000 (NUL) in a string");
	cJSON *o = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (!o)
		return bad(err, errlen, "malformed JSON near byte %zu",
		           end && end >= p ? (size_t)(end - p) : (size_t)0);
	struct view w = {o, NULL};
	int r = check_tail(p, n, end, err, errlen);
	if (r == 0 && !cJSON_IsObject(o))
		r = bad(err, errlen, "an event must be a JSON object");
	const char *dup = NULL;
	if (r == 0 && (r = json_dup(o, &dup)) > 0)
		r = bad(err, errlen, "duplicate member \"%.60s\"", dup);
	if (r == 0)
		r = parse_fields(&w, p, n, ev, err, errlen);
	cJSON_Delete(o);
	return r;
}

int jst_event_parse(const char *p, size_t n, struct jst_event *ev, char *err, size_t errlen)
{
	return jst__event_parse_with(p, n, ev, err, errlen, true);
}
