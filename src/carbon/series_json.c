/* The JSON intensity formats, parsed with cJSON: Electricity Maps v3 (`history`, `forecast`
 * and `data` arrays of {carbonIntensity, datetime}, or the single `latest` object) and
 * WattTime v3 ({data: [{point_time, value}], meta: {units, region, signal_type,
 * data_point_period_seconds}}, MOER in lbs/MWh). Errors name the JSON path of the bad value. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "carbon/series_int.h"
#include "core/isotime.h"
#include "core/util.h"

#define LBS_PER_MWH_TO_G_PER_KWH 0.45359237 /* 1 lb = 453.59237 g; per MWh = per 1000 kWh */

/* "invalid JSON at line L, column C" from the parse end position. */
static int syntax_error(struct jst__ci_builder *b, const char *p, size_t n, const char *at)
{
	size_t line = 1, col = 1;
	size_t off = at && at >= p && at <= p + n ? (size_t)(at - p) : 0;
	for (size_t i = 0; i < off; i++) {
		if (p[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return jst__ci_fail(b, "invalid JSON at line %zu, column %zu", line, col);
}

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A zone code from the response: upper case, letters, digits, '-' and '_'. */
static int zone_of(struct jst__ci_builder *b, const cJSON *root, char *zone, size_t zn)
{
	const char *z = str_item(root, "zone");
	zone[0] = '\0';
	if (!z)
		return 0;
	if (!jst__strlcpy(zone, z, zn) || !*zone)
		return jst__ci_fail(b, "$.zone: not a zone code");
	for (char *c = zone; *c; c++) {
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			return jst__ci_fail(b, "$.zone: bad zone code '%s'", z);
	}
	return 0;
}

/* One {value, time} item at path[i]. */
static int point(struct jst__ci_builder *b, const cJSON *it, const char *path, size_t i,
                 const char *zone, const char *vkey, const char *tkey, double scale)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, vkey);
	const char *t = str_item(it, tkey), *why = NULL;
	int64_t ns;
	if (!cJSON_IsObject(it))
		return jst__ci_fail(b, "%s[%zu]: not an object", path, i);
	if (!cJSON_IsNumber(v))
		return jst__ci_fail(b, "%s[%zu].%s: %s", path, i, vkey,
		                    cJSON_IsNull(v) ? "null (no value for this time)" : "missing or not a number");
	if (!t)
		return jst__ci_fail(b, "%s[%zu].%s: missing or not a string", path, i, tkey);
	if (jst__parse_iso8601(t, strlen(t), &ns, &why) < 0)
		return jst__ci_fail(b, "%s[%zu].%s: bad datetime '%.40s': %s", path, i, tkey, t, why);
	int r = jst__ci_push(b, zone, ns, v->valuedouble * scale, i);
	if (r == -ERANGE)
		return jst__ci_fail(b, "%s[%zu].%s: %g is not an intensity (0 to 5000 gCO2e/kWh)", path, i,
		                    vkey, v->valuedouble * scale);
	if (r == -E2BIG)
		return jst__ci_fail(b, "%s: more than %d values", path, JST_SERIES_MAX_POINTS);
	return r;
}

static int points(struct jst__ci_builder *b, const cJSON *arr, const char *path, const char *zone,
                  const char *vkey, const char *tkey, double scale)
{
	size_t i = 0;
	const cJSON *it;
	b->json = path;
	cJSON_ArrayForEach(it, arr) {
		int r = point(b, it, path, i++, zone, vkey, tkey, scale);
		if (r < 0)
			return r;
	}
	return i ? 0 : jst__ci_fail(b, "%s: an empty array", path);
}

/* The factor from meta.units to g/kWh. */
static int wt_units(struct jst__ci_builder *b, const cJSON *meta, double *scale, const char **units)
{
	*units = meta ? str_item(meta, "units") : NULL;
	*scale = LBS_PER_MWH_TO_G_PER_KWH;
	if (!*units)
		return 0; /* v3 MOER is in lbs_co2_per_mwh */
	if (strcmp(*units, "lbs_co2_per_mwh") == 0 || strcmp(*units, "lbs/MWh") == 0)
		return 0;
	if (strcmp(*units, "g_co2_per_kwh") == 0 || strcmp(*units, "kg_co2_per_mwh") == 0) {
		*scale = 1;
		return 0;
	}
	return jst__ci_fail(b, "$.meta.units: unknown unit '%.40s' (expected lbs_co2_per_mwh)", *units);
}

static int watttime(struct jst__ci_builder *b, const cJSON *root, const cJSON *data, char *src,
                    size_t srcn)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
	const char *region = meta ? str_item(meta, "region") : NULL;
	const char *signal = meta ? str_item(meta, "signal_type") : NULL;
	const char *units;
	double scale;
	if (meta && !cJSON_IsObject(meta))
		return jst__ci_fail(b, "$.meta: not an object");
	if (signal && strncmp(signal, "co2", 3) != 0)
		return jst__ci_fail(b, "$.meta.signal_type: '%.40s' is not a CO2 signal", signal);
	if (wt_units(b, meta, &scale, &units) < 0)
		return -EINVAL;
	const cJSON *per = meta ? cJSON_GetObjectItemCaseSensitive(meta, "data_point_period_seconds") : NULL;
	double secs = per && cJSON_IsNumber(per) ? per->valuedouble : 0;
	if (secs > 0 && secs <= 86400)
		b->period_ns = (int64_t)(secs * 1e9);
	snprintf(src, srcn, "WattTime v3 %.20s %.40s (%s)", signal ? signal : "co2_moer",
	         region ? region : "region not stated",
	         signal && strcmp(signal, "co2_aoer") == 0 ? "average emissions" : "marginal emissions");
	b->source = src;
	return points(b, data, "$.data", "", "value", "point_time", scale);
}

static int electricitymaps(struct jst__ci_builder *b, const cJSON *root, char *src, size_t srcn)
{
	static const char *const arrays[] = {"history", "forecast", "data"};
	char zone[32];
	if (zone_of(b, root, zone, sizeof(zone)) < 0)
		return -EINVAL;
	const char *eft = str_item(root, "emissionFactorType");
	for (size_t i = 0; i < JST_ARRAY_LEN(arrays); i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, arrays[i]);
		if (!arr)
			continue;
		char path[32];
		snprintf(path, sizeof(path), "$.%s", arrays[i]);
		if (!cJSON_IsArray(arr))
			return jst__ci_fail(b, "%s: not an array", path);
		snprintf(src, srcn, "Electricity Maps %s%s%s", i == 2 ? "past-range" : arrays[i],
		         zone[0] ? " " : "", zone);
		b->source = src;
		return points(b, arr, i == 0 ? "$.history" : i == 1 ? "$.forecast" : "$.data", zone,
		              "carbonIntensity", "datetime", 1);
	}
	/* the latest value: a single object */
	snprintf(src, srcn, "Electricity Maps latest%s%s%s%s", zone[0] ? " " : "", zone,
	         eft ? ", " : "", eft ? eft : "");
	b->source = src;
	b->json = "$";
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "carbonIntensity");
	const char *t = str_item(root, "datetime"), *why = NULL;
	int64_t ns;
	if (!cJSON_IsNumber(v))
		return jst__ci_fail(b, "$.carbonIntensity: missing or not a number");
	if (!t || jst__parse_iso8601(t, strlen(t), &ns, &why) < 0)
		return jst__ci_fail(b, "$.datetime: %s", t ? why : "missing or not a string");
	int r = jst__ci_push(b, zone, ns, v->valuedouble, 0);
	return r == -ERANGE ? jst__ci_fail(b, "$.carbonIntensity: %g is not an intensity", v->valuedouble) : r;
}

static int dispatch(struct jst__ci_builder *b, const cJSON *root, char *src, size_t srcn)
{
	if (!cJSON_IsObject(root))
		return jst__ci_fail(b, "$: expected a JSON object from Electricity Maps or WattTime");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const char *err = str_item(root, "error");
	const char *msg = str_item(root, "message");
	if (!data && !cJSON_GetObjectItemCaseSensitive(root, "history") &&
	    !cJSON_GetObjectItemCaseSensitive(root, "forecast") &&
	    !cJSON_GetObjectItemCaseSensitive(root, "carbonIntensity")) {
		if (err || msg)
			return jst__ci_fail(b, "the service answered with an error: %.200s", err ? err : msg);
		return jst__ci_fail(b, "$: neither Electricity Maps (history, forecast, data, "
		                    "carbonIntensity) nor WattTime (data, meta)");
	}
	if (data && !cJSON_IsArray(data))
		return jst__ci_fail(b, "$.data: not an array");
	const cJSON *first = data ? cJSON_GetArrayItem(data, 0) : NULL;
	if (data && (cJSON_GetObjectItemCaseSensitive(root, "meta") ||
	             cJSON_GetObjectItemCaseSensitive(first, "point_time")))
		return watttime(b, root, data, src, srcn);
	return electricitymaps(b, root, src, srcn);
}

int jst__ci_parse_json(struct jst__ci_builder *b, const char *p, size_t n, char *src, size_t srcn)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(p, n, &end, 0);
	if (!root)
		return syntax_error(b, p, n, end);
	while (end && end < p + n && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
		end++;
	int r = end && end < p + n && *end ? syntax_error(b, p, n, end) : dispatch(b, root, src, srcn);
	cJSON_Delete(root);
	return r;
}
