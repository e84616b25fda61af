/* Parsing and validating one event of schema v1 (docs/schema.md). A pure function over
 * (p, n): the line is checked for UTF-8 first (cJSON accepts any byte in strings), parsed
 * with cJSON, and every field checked for type, range and length. ts_ns is read from the text
 * itself, because a double holds only 53 bits and epoch nanoseconds need 61. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/util.h"
#include "event/jbuf.h"
#include "joulestream/event.h"

static const char *const type_names[] = {"run_start", "sample", "phase", "metric", "run_end", "heartbeat"};
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

/* A string field: absent is fine unless required; longer than size-1 is an error. */
static int get_str(const cJSON *o, const char *key, bool req, char *dst, size_t size, char *err, size_t el)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!it)
		return req ? bad(err, el, "missing \"%s\"", key) : 0;
	if (!cJSON_IsString(it) || !it->valuestring)
		return bad(err, el, "\"%s\" must be a string", key);
	if (!jst__strlcpy(dst, it->valuestring, size))
		return bad(err, el, "\"%s\" is longer than %zu bytes", key, size - 1);
	return 0;
}

/* A finite number in [lo, hi]; *found tells whether it was there. */
static int get_num(const cJSON *o, const char *key, bool req, double lo, double hi, double *out,
                   bool *found, char *err, size_t el)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (found)
		*found = it != NULL;
	if (!it)
		return req ? bad(err, el, "missing \"%s\"", key) : 0;
	if (!cJSON_IsNumber(it))
		return bad(err, el, "\"%s\" must be a number", key);
	double v = it->valuedouble;
	if (!isfinite(v))
		return bad(err, el, "\"%s\" is not finite", key);
	if (v < lo || v > hi)
		return bad(err, el, "\"%s\" is %g, outside [%g, %g]", key, v, lo, hi);
	*out = v;
	return 0;
}

static int get_int(const cJSON *o, const char *key, bool req, double lo, double hi, int64_t *out,
                   bool *found_out, char *err, size_t el)
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

static int get_bool(const cJSON *o, const char *key, bool *out, char *err, size_t el)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!it)
		return 0;
	if (!cJSON_IsBool(it))
		return bad(err, el, "\"%s\" must be true or false", key);
	*out = cJSON_IsTrue(it);
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

static int parse_ts(const cJSON *o, const char *p, size_t n, struct jst_event *ev, char *err, size_t el)
{
	double approx = 0;
	int r = get_num(o, "ts_ns", true, 0, 1.8446744073709552e19, &approx, NULL, err, el);
	if (r < 0)
		return r;
	size_t len = 0;
	const char *t = top_number(p, n, "ts_ns", &len);
	uint64_t v;
	if (!t || len == 0 || t[0] < '0' || t[0] > '9' || jst__parse_u64(t, len, &v) < 0)
		return bad(err, el, "\"ts_ns\" must be written as a plain non-negative integer");
	ev->ts_ns = v;
	return 0;
}

static int parse_run_start(const cJSON *o, struct jst_event *ev, char *err, size_t el)
{
	int r;
	char scope[16] = "";
	if ((r = get_str(o, "user", false, ev->user, sizeof(ev->user), err, el)) < 0 ||
	    (r = get_str(o, "model", false, ev->model, sizeof(ev->model), err, el)) < 0 ||
	    (r = get_str(o, "project", false, ev->project, sizeof(ev->project), err, el)) < 0 ||
	    (r = get_str(o, "zone", false, ev->zone_code, sizeof(ev->zone_code), err, el)) < 0 ||
	    (r = get_str(o, "scope", false, scope, sizeof(scope), err, el)) < 0 ||
	    (r = get_num(o, "interval_s", true, 1e-9, 86400, &ev->interval_s, NULL, err, el)) < 0 ||
	    (r = get_num(o, "pue", false, 1, 10, &ev->pue, NULL, err, el)) < 0 ||
	    (r = get_num(o, "wue_l_per_kwh", false, 0, 100, &ev->wue_l_per_kwh, NULL, err, el)) < 0)
		return r;
	if (scope[0] && strcmp(scope, "process") != 0 && strcmp(scope, "host") != 0)
		return bad(err, el, "\"scope\" must be \"process\" or \"host\", not \"%s\"", scope);
	ev->scope_host = strcmp(scope, "host") == 0;
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "command");
	if (!cmd)
		return bad(err, el, "missing \"command\"");
	if (!cJSON_IsArray(cmd))
		return bad(err, el, "\"command\" must be an array of strings");
	const cJSON *it;
	cJSON_ArrayForEach(it, cmd) if (!cJSON_IsString(it)) return bad(err, el, "\"command\" must be an array of strings");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "meta");
	if (meta && !cJSON_IsObject(meta))
		return bad(err, el, "\"meta\" must be an object");
	return 0;
}

static int parse_sample(const cJSON *o, struct jst_event *ev, char *err, size_t el)
{
	int r;
	int64_t zi = 0;
	char kind[16] = "";
	bool has_power = false;
	if ((r = get_str(o, "zone", true, ev->zone, sizeof(ev->zone), err, el)) < 0 ||
	    (r = get_int(o, "zone_index", true, 0, JST_EVENT_ZONES_MAX - 1, &zi, NULL, err, el)) < 0 ||
	    (r = get_str(o, "kind", true, kind, sizeof(kind), err, el)) < 0 ||
	    (r = get_str(o, "source", true, ev->source, sizeof(ev->source), err, el)) < 0 ||
	    (r = get_bool(o, "estimate", &ev->estimate, err, el)) < 0 ||
	    (r = get_num(o, "dt_s", true, 1e-9, 86400, &ev->dt_s, NULL, err, el)) < 0 ||
	    (r = get_num(o, "energy_j", true, 0, 1e12, &ev->energy_j, NULL, err, el)) < 0 ||
	    (r = get_num(o, "power_w", false, 0, 1e9, &ev->power_w, &has_power, err, el)) < 0 ||
	    (r = get_num(o, "share", true, 0, 1, &ev->share, NULL, err, el)) < 0)
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
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(o, "flags"), *it;
	if (fl && !cJSON_IsArray(fl))
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

static int parse_other(const cJSON *o, struct jst_event *ev, char *err, size_t el)
{
	int r = 0;
	int64_t v = 0;
	char edge[8] = "";
	const cJSON *vals, *it;
	switch (ev->type) {
	case JST_EV_PHASE:
		if ((r = get_str(o, "name", true, ev->name, sizeof(ev->name), err, el)) < 0 ||
		    (r = get_str(o, "edge", true, edge, sizeof(edge), err, el)) < 0)
			return r;
		if (!ev->name[0])
			return bad(err, el, "\"name\" is empty");
		if (strcmp(edge, "begin") != 0 && strcmp(edge, "end") != 0)
			return bad(err, el, "\"edge\" must be \"begin\" or \"end\"");
		ev->begin = edge[0] == 'b';
		return 0;
	case JST_EV_METRIC:
		ev->step = ev->epoch = -1;
		if ((r = get_int(o, "step", false, 0, 9e15, &ev->step, NULL, err, el)) < 0 ||
		    (r = get_int(o, "epoch", false, 0, 9e15, &ev->epoch, NULL, err, el)) < 0)
			return r;
		vals = cJSON_GetObjectItemCaseSensitive(o, "values");
		if (!cJSON_IsObject(vals))
			return bad(err, el, "\"values\" must be an object of numbers");
		cJSON_ArrayForEach(it, vals)
		{
			if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
				return bad(err, el, "\"values\".\"%s\" must be a finite number", it->string);
			if (++ev->nvalues > JST_EVENT_VALUES_MAX)
				return bad(err, el, "\"values\" has more than %d entries", JST_EVENT_VALUES_MAX);
		}
		return 0;
	case JST_EV_RUN_END:
		ev->samples = -1;
		if ((r = get_int(o, "exit", true, -2147483648.0, 2147483647.0, &v, NULL, err, el)) < 0)
			return r;
		ev->exit_code = (int)v;
		v = 0;
		if ((r = get_int(o, "signal", false, 0, 1024, &v, NULL, err, el)) < 0 ||
		    (r = get_num(o, "duration_s", true, 0, 1e10, &ev->duration_s, NULL, err, el)) < 0 ||
		    (r = get_int(o, "samples", false, 0, 9e15, &ev->samples, NULL, err, el)) < 0)
			return r;
		ev->exit_signal = (int)v;
		return 0;
	default:
		return 0;
	}
}

/* The common fields. */
static int parse_head(const cJSON *o, const char *p, size_t n, struct jst_event *ev, char *err, size_t el)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
	if (!v)
		return bad(err, el, "missing \"v\" (the schema version, 1)");
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
		return bad(err, el, "\"v\" must be an integer");
	if (v->valuedouble != 1) {
		snprintf(err, el, "unsupported schema version v=%g: this server reads v1 only", v->valuedouble);
		return -EPROTONOSUPPORT;
	}
	char type[16] = "";
	int r;
	if ((r = get_str(o, "id", true, ev->id, sizeof(ev->id), err, el)) < 0)
		return r;
	if (!ev->id[0] || !id_chars(ev->id))
		return bad(err, el, "\"id\" must be 1-64 characters of [0-9A-Za-z_-]");
	if ((r = get_str(o, "type", true, type, sizeof(type), err, el)) < 0)
		return r;
	size_t t = 0;
	while (t < JST_ARRAY_LEN(type_names) && strcmp(type, type_names[t]) != 0)
		t++;
	if (t == JST_ARRAY_LEN(type_names))
		return bad(err, el, "unknown \"type\" \"%s\"", type);
	ev->type = (enum jst_event_type)t;
	if ((r = parse_ts(o, p, n, ev, err, el)) < 0 ||
	    (r = get_str(o, "host", true, ev->host, sizeof(ev->host), err, el)) < 0 ||
	    (r = get_str(o, "run", ev->type != JST_EV_HEARTBEAT, ev->run, sizeof(ev->run), err, el)) < 0)
		return r;
	if (ev->type != JST_EV_HEARTBEAT && (!ev->run[0] || !id_chars(ev->run)))
		return bad(err, el, "\"run\" must be 1-64 characters of [0-9A-Za-z_-]");
	return 0;
}

int jst_event_parse(const char *p, size_t n, struct jst_event *ev, char *err, size_t errlen)
{
	memset(ev, 0, sizeof(*ev));
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
	cJSON *o = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (!o)
		return bad(err, errlen, "malformed JSON near byte %zu",
		           end && end >= p ? (size_t)(end - p) : (size_t)0);
	int r = 0;
	for (const char *q = end; q < p + n; q++)
		if (*q != ' ' && *q != '\t' && *q != '\r') {
			r = bad(err, errlen, "text after the event's object at byte %zu", (size_t)(q - p));
			break;
		}
	if (r == 0 && !cJSON_IsObject(o))
		r = bad(err, errlen, "an event must be a JSON object");
	if (r == 0)
		r = parse_head(o, p, n, ev, err, errlen);
	if (r == 0 && ev->type == JST_EV_RUN_START)
		r = parse_run_start(o, ev, err, errlen);
	else if (r == 0 && ev->type == JST_EV_SAMPLE)
		r = parse_sample(o, ev, err, errlen);
	else if (r == 0)
		r = parse_other(o, ev, err, errlen);
	cJSON_Delete(o);
	return r;
}
