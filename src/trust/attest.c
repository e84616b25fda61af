/* The in-toto v1 statement of a run (docs/integrity.md, "Attestations"): subject the run (its
 * record's content hash) or the model artefacts the user names, predicate the energy, carbon
 * and water with their sources and data version, the sensors, estimate and integrity flags,
 * the idle floor and the run's metadata. The run's digest is its event digest (sha256 over its
 * events in log order, jst_store_event_digest), named by content_hash_of. Built with cJSON as compact JSON; jst_attest_parse
 * reads the few fields verify needs back and checks the statement's shape (fuzzed with the
 * envelope: tests/fuzz/envelope.c). Signing is dsse.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/util.h"
#include "joulestream/units.h"
#include "joulestream/trust.h"

static bool hex64(const char *s)
{
	size_t i = 0;
	for (; s[i] && i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64 && s[64] == '\0';
}

int jst_subject_parse(const char *s, struct jst_subject *out)
{
	const char *eq = strrchr(s, '=');
	memset(out, 0, sizeof(*out));
	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(out->name))
		return -EINVAL;
	memcpy(out->name, s, (size_t)(eq - s));
	const char *d = eq + 1;
	if (strncmp(d, "sha256:", 7) == 0)
		d += 7;
	char low[65];
	size_t n = strlen(d);
	if (n != 64)
		return -EINVAL;
	for (size_t i = 0; i < 64; i++)
		low[i] = (char)(d[i] >= 'A' && d[i] <= 'F' ? d[i] + 32 : d[i]);
	low[64] = '\0';
	if (!hex64(low))
		return -EINVAL;
	memcpy(out->sha256, low, sizeof(low));
	return 0;
}

static void subject(cJSON *arr, const char *name, const char *sha)
{
	cJSON *s = cJSON_CreateObject(), *d = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "name", name);
	cJSON_AddStringToObject(d, "sha256", sha);
	cJSON_AddItemToObject(s, "digest", d);
	cJSON_AddItemToArray(arr, s);
}

static cJSON *energy(const struct jst_run *run)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "energy_j", run->run_j);
	cJSON_AddNumberToObject(e, "host_energy_j", run->host_j);
	cJSON_AddNumberToObject(e, "idle_energy_j", run->idle_j);
	cJSON_AddNumberToObject(e, "it_kwh", run->result.footprint.it_kwh);
	cJSON_AddNumberToObject(e, "facility_kwh", run->result.footprint.facility_kwh);
	cJSON_AddNumberToObject(e, "pue", run->site.pue);
	cJSON_AddStringToObject(e, "pue_source", run->site.pue_source);
	cJSON_AddBoolToObject(e, "estimate", run->estimated);
	cJSON_AddStringToObject(e, "sensors", run->meta.sensors);
	if (run->floor.known) {
		cJSON_AddNumberToObject(e, "dynamic_energy_j", run->floor.dynamic_j);
		cJSON_AddNumberToObject(e, "idle_floor_j", run->floor.floor_j);
	}
	cJSON *zones = cJSON_AddArrayToObject(e, "zones");
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", z->zone.name);
		cJSON_AddStringToObject(o, "label", z->zone.label);
		cJSON_AddStringToObject(o, "kind", jst_zone_kind_name(z->zone.kind));
		cJSON_AddStringToObject(o, "source", z->zone.source ? z->zone.source : "");
		cJSON_AddBoolToObject(o, "estimate", (z->zone.flags & JST_ZONE_ESTIMATE) != 0);
		cJSON_AddBoolToObject(o, "counted", (z->zone.flags & JST_ZONE_COUNTED) != 0);
		cJSON_AddNumberToObject(o, "energy_j", z->host_j);
		cJSON_AddNumberToObject(o, "run_energy_j", z->run_j);
		cJSON_AddItemToArray(zones, o);
	}
	return e;
}

static cJSON *carbon_water(const struct jst_run *run, cJSON **water)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "co2e_g", run->result.footprint.co2e_g);
	cJSON_AddStringToObject(c, "zone", run->site.zone_code);
	cJSON_AddStringToObject(c, "zone_origin", jst_zone_origin_name(run->site.zone_origin));
	cJSON_AddNumberToObject(c, "ci_avg_g_per_kwh",
				run->result.ci_avg_g_per_kwh > 0 ? run->result.ci_avg_g_per_kwh :
								   run->site.ci_g_per_kwh);
	cJSON_AddStringToObject(c, "ci_source",
				run->result.ci_series[0] ? run->result.ci_series :
							   run->site.ci_source);
	cJSON_AddStringToObject(c, "data_version", run->result.data_version);
	cJSON_AddNumberToObject(c, "embodied_g", run->result.embodied_g);
	cJSON_AddNumberToObject(c, "sci_g", run->result.sci_g);
	cJSON *w = cJSON_CreateObject();
	cJSON_AddNumberToObject(w, "water_l", run->result.footprint.water_l);
	cJSON_AddNumberToObject(w, "wue_l_per_kwh", run->site.wue_l_per_kwh);
	cJSON_AddStringToObject(w, "wue_source", run->site.wue_source);
	if (run->site.ewif_l_per_kwh >= 0)
		cJSON_AddNumberToObject(w, "ewif_l_per_kwh", run->site.ewif_l_per_kwh);
	else
		cJSON_AddNullToObject(w, "ewif_l_per_kwh");
	cJSON_AddStringToObject(w, "ewif_source", run->site.ewif_source);
	*water = w;
	return c;
}

static cJSON *integrity(const struct jst_run *run)
{
	cJSON *g = cJSON_CreateObject();
	cJSON_AddBoolToObject(g, "flagged", run->nflags > 0);
	cJSON *flags = cJSON_AddArrayToObject(g, "flags");
	for (size_t i = 0; i < run->nflags; i++) {
		const struct jst_run_flag *f = &run->flags[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", jst_flag_name(f->kind));
		cJSON_AddStringToObject(o, "zone", f->zone);
		cJSON_AddNumberToObject(o, "count", (double)f->count);
		cJSON_AddNumberToObject(o, "seconds", f->seconds);
		cJSON_AddStringToObject(o, "reason", f->reason);
		cJSON_AddItemToArray(flags, o);
	}
	return g;
}

static cJSON *metadata(const struct jst_run *run)
{
	const struct jst_meta *m = &run->meta;
	char t[40];
	cJSON *o = cJSON_CreateObject();
	jst_format_utc(run->start_ns, t, sizeof(t));
	cJSON_AddStringToObject(o, "start", t);
	jst_format_utc(run->end_ns, t, sizeof(t));
	cJSON_AddStringToObject(o, "end", t);
	cJSON_AddNumberToObject(o, "duration_s", run->duration_s);
	cJSON_AddNumberToObject(o, "interval_s", run->interval_s);
	cJSON_AddNumberToObject(o, "samples", (double)run->samples);
	cJSON_AddStringToObject(o, "scope", run->scope == JST_SCOPE_HOST ? "host" : "process");
	cJSON_AddNumberToObject(o, "exit_code", run->exit_code);
	static const struct {
		const char *k;
		size_t off;
	} strs[] = {
		{"host", offsetof(struct jst_meta, host)},
		{"user", offsetof(struct jst_meta, user)},
		{"command", offsetof(struct jst_meta, command)},
		{"kernel", offsetof(struct jst_meta, kernel)},
		{"cpu_model", offsetof(struct jst_meta, cpu_model)},
		{"gpus", offsetof(struct jst_meta, gpus)},
		{"gpu_driver", offsetof(struct jst_meta, gpu_driver)},
		{"git_commit", offsetof(struct jst_meta, git_commit)},
		{"container", offsetof(struct jst_meta, container)},
		{"project", offsetof(struct jst_meta, project)},
		{"joulestream_version", offsetof(struct jst_meta, version)},
	};
	for (size_t i = 0; i < JST_ARRAY_LEN(strs); i++)
		cJSON_AddStringToObject(o, strs[i].k, (const char *)m + strs[i].off);
	if (m->git_dirty >= 0)
		cJSON_AddBoolToObject(o, "git_dirty", m->git_dirty);
	return o;
}

int jst_attest_statement(const struct jst_run *run, const char *content_hash, bool sealed,
			 const char *chain_head, const struct jst_subject *subjects, size_t n,
			 char **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!hex64(content_hash)) {
		snprintf(err, errlen, "run %s has no content hash", run->id);
		return -EINVAL;
	}
	cJSON *st = cJSON_CreateObject(), *water = NULL;
	cJSON_AddStringToObject(st, "_type", JST_INTOTO_TYPE);
	cJSON *subj = cJSON_AddArrayToObject(st, "subject");
	char name[64];
	snprintf(name, sizeof(name), "joulestream-run:%s", run->id);
	if (n == 0)
		subject(subj, name, content_hash);
	for (size_t i = 0; i < n; i++)
		subject(subj, subjects[i].name, subjects[i].sha256);
	cJSON_AddStringToObject(st, "predicateType", JST_PREDICATE_TYPE);
	cJSON *pred = cJSON_AddObjectToObject(st, "predicate");
	cJSON *r = cJSON_AddObjectToObject(pred, "run");
	cJSON_AddStringToObject(r, "id", run->id);
	cJSON_AddStringToObject(r, "content_hash", content_hash);
	cJSON_AddStringToObject(r, "content_hash_of", "joulestream.run-events/1");
	cJSON_AddBoolToObject(r, "sealed", sealed);
	cJSON_AddStringToObject(r, "store_chain_head", chain_head ? chain_head : "");
	cJSON_AddItemToObject(pred, "energy", energy(run));
	cJSON_AddItemToObject(pred, "carbon", carbon_water(run, &water));
	cJSON_AddItemToObject(pred, "water", water);
	cJSON_AddItemToObject(pred, "integrity", integrity(run));
	cJSON_AddItemToObject(pred, "metadata", metadata(run));
	cJSON_AddStringToObject(pred, "generator", "joulestream " JST_VERSION);
	*out = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	if (!*out) {
		snprintf(err, errlen, "out of memory while writing the statement");
		return -ENOMEM;
	}
	return 0;
}

static int reject(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "not a joulestream statement: %s", what);
	return -EINVAL;
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *k, bool *ok)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v)) {
		*ok = false;
		return 0;
	}
	return v->valuedouble;
}

static int parse_subjects(const cJSON *subj, struct jst_attest_info *info, char *err, size_t errlen)
{
	const cJSON *s;
	if (!cJSON_IsArray(subj) || cJSON_GetArraySize(subj) == 0)
		return reject(err, errlen, "subject must be a non-empty array");
	if (cJSON_GetArraySize(subj) > (int)JST_ARRAY_LEN(info->subjects))
		return reject(err, errlen, "more than 8 subjects");
	cJSON_ArrayForEach(s, subj)
	{
		const char *name = str_at(s, "name");
		const char *sha = str_at(cJSON_GetObjectItemCaseSensitive(s, "digest"), "sha256");
		struct jst_subject *o = &info->subjects[info->nsubjects++];
		if (!name || !sha || !hex64(sha) || strlen(name) >= sizeof(o->name))
			return reject(err, errlen,
				      "each subject needs a name and a sha256 digest (64 hex)");
		memcpy(o->name, name, strlen(name) + 1);
		memcpy(o->sha256, sha, 65);
	}
	return 0;
}

int jst_attest_parse(const char *p, size_t n, struct jst_attest_info *info, char *err,
		     size_t errlen)
{
	memset(info, 0, sizeof(*info));
	cJSON *j = cJSON_ParseWithLength(p, n);
	if (!j)
		return reject(err, errlen, "invalid JSON");
	int r = -EINVAL;
	const char *type = str_at(j, "_type"), *ptype = str_at(j, "predicateType");
	const cJSON *pred = cJSON_GetObjectItemCaseSensitive(j, "predicate");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(pred, "run");
	const char *id = str_at(run, "id"), *hash = str_at(run, "content_hash");
	bool ok = true;
	if (!type || strcmp(type, JST_INTOTO_TYPE) != 0)
		reject(err, errlen, "_type is not " JST_INTOTO_TYPE);
	else if (!ptype || strcmp(ptype, JST_PREDICATE_TYPE) != 0)
		reject(err, errlen, "predicateType is not " JST_PREDICATE_TYPE);
	else if (!id || strlen(id) >= sizeof(info->run_id) || !hash || !hex64(hash))
		reject(err, errlen, "predicate.run needs an id and a content_hash");
	else if (parse_subjects(cJSON_GetObjectItemCaseSensitive(j, "subject"), info, err,
				errlen) == 0)
		r = 0;
	if (r == 0) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(pred, "energy");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(pred, "carbon");
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(pred, "water");
		const cJSON *flags = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(pred, "integrity"), "flags");
		const char *dv = str_at(c, "data_version");
		memcpy(info->run_id, id, strlen(id) + 1);
		memcpy(info->content_hash, hash, 65);
		info->energy_j = num_at(e, "energy_j", &ok);
		info->host_energy_j = num_at(e, "host_energy_j", &ok);
		info->co2e_g = num_at(c, "co2e_g", &ok);
		info->water_l = num_at(w, "water_l", &ok);
		info->nflags = cJSON_IsArray(flags) ? (size_t)cJSON_GetArraySize(flags) : 0;
		if (!ok || !dv || strlen(dv) >= sizeof(info->data_version) || !cJSON_IsArray(flags))
			r = reject(err, errlen,
				   "predicate needs energy, carbon, water and integrity figures");
		else
			memcpy(info->data_version, dv, strlen(dv) + 1);
	}
	cJSON_Delete(j);
	return r;
}
