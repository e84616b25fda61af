/* A BoAmps report (Boavizta, "AI power measures sharing", format 1.1.0, model/report_schema.json
 * of github.com/Boavizta/BoAmps): header, task, measures, system, software, infrastructure
 * (components with their share), environment and quality. Only what the run knows is filled:
 * the task's family, algorithms and datasets are the user's to complete (placeholders say so),
 * and BoAmps has no field for emissions or water, which the other reports carry. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/jsonw.h"
#include "joulestream/report.h"
#include "report/carbon_report.h"

static void kv(FILE *f, const char *k, const char *v, int comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", k);
	jst__json_string(f, v);
}

static void kn(FILE *f, const char *k, double v)
{
	fprintf(f, ",\"%s\":", k);
	jst__json_number(f, v);
}

/* "YYYY-MM-DD HH:MM:SS" (UTC), the format the schema asks for. */
static void boamps_time(uint64_t ns, char *out, size_t n)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, n, "1970-01-01 00:00:00");
}

/* A UUID-shaped report id from the run id, stable for a run. */
static void report_id(const struct jst_run *run, char *out, size_t n)
{
	unsigned char h[16] = {0};
	for (size_t i = 0; run->id[i]; i++)
		h[i % 16] = (unsigned char)(h[i % 16] * 31 + (unsigned char)run->id[i]);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0],
	         h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
	         h[15]);
}

/* Components: CPU, each GPU model with its count and the run's share, RAM. */
static void components(FILE *f, const struct jst_run *run)
{
	double cpu_h = 0, cpu_r = 0, gpu_h = 0, gpu_r = 0;
	unsigned ngpu = 0, npkg = 0;
	const char *gpu_label = "";
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		if (z->zone.kind == JST_KIND_GPU) {
			ngpu++;
			gpu_h += z->host_j;
			gpu_r += z->run_j;
			gpu_label = z->zone.label;
		} else if (z->zone.kind == JST_KIND_PACKAGE) {
			npkg++;
			cpu_h += z->host_j;
			cpu_r += z->run_j;
		}
	}
	bool host = run->scope == JST_SCOPE_HOST;
	fputs("\"components\":[{\"componentType\":\"cpu\"", f);
	kv(f, "componentName", run->meta.cpu_model, 1);
	fprintf(f, ",\"nbComponent\":%u", npkg ? npkg : 1);
	kn(f, "share", host ? 1 : cpu_h > 0 ? cpu_r / cpu_h : 0);
	fputc('}', f);
	if (ngpu) {
		fputs(",{\"componentType\":\"gpu\"", f);
		kv(f, "componentName", gpu_label, 1);
		fprintf(f, ",\"nbComponent\":%u", ngpu);
		kn(f, "share", host ? 1 : gpu_h > 0 ? gpu_r / gpu_h : 0);
		fputc('}', f);
	}
	fprintf(f, ",{\"componentType\":\"ram\",\"nbComponent\":1,\"memorySize\":%.0f}]", run->meta.ram_gb);
}

static void measures(FILE *f, const struct jst_run *run)
{
	char t[32];
	bool rapl = strstr(run->meta.sensors, "rapl") != NULL, nvml = strstr(run->meta.sensors, "nvml") != NULL;
	boamps_time(run->start_ns, t, sizeof(t));
	fputs(",\"measures\":[{", f);
	kv(f, "measurementMethod", "joulestream", 0);
	kv(f, "version", run->meta.version[0] ? run->meta.version : jst_version(), 1);
	kv(f, "cpuTrackingMode", rapl ? "rapl" : run->estimated ? "estimate" : run->meta.sensors, 1);
	kv(f, "gpuTrackingMode", nvml ? "nvml" : "none", 1);
	kn(f, "powerConsumption", run->result.footprint.it_kwh);
	kn(f, "measurementDuration", run->duration_s);
	kv(f, "measurementDateTime", t, 1);
	fputs("}]", f);
}

int jst_report_boamps(FILE *f, const struct jst_run *run, const char *task_stage)
{
	char t[32], id[40], loc[256];
	const char *cmd = run->meta.command;
	bool python = strncmp(cmd, "python", 6) == 0 || strstr(cmd, "/python") != NULL;
	boamps_time(run->end_ns ? run->end_ns : run->start_ns, t, sizeof(t));
	report_id(run, id, sizeof(id));
	fputs("{\"header\":{", f);
	kv(f, "formatVersion", "1.1.0", 0);
	kv(f, "formatVersionSpecificationUri", "https://github.com/Boavizta/BoAmps/tree/main/model", 1);
	kv(f, "reportId", id, 1);
	kv(f, "reportDatetime", t, 1);
	kv(f, "reportStatus", "draft", 1);
	fputs(",\"publisher\":{", f);
	kv(f, "projectName", run->meta.project[0] ? run->meta.project : run->id, 0);
	kv(f, "confidentialityLevel", "public", 1);
	fputs("}},\"task\":{", f);
	kv(f, "taskStage", task_stage && *task_stage ? task_stage : "training", 0);
	kv(f, "taskFamily", "unspecified: complete before publishing", 1);
	fputs(",\"algorithms\":[{}],\"dataset\":[{\"dataUsage\":\"input\",\"dataType\":\"other\"}]", f);
	kv(f, "taskDescription", cmd, 1);
	fputc('}', f);
	measures(f, run);
	fputs(",\"system\":{", f);
	kv(f, "os", "linux", 0);
	kv(f, "distributionVersion", run->meta.kernel, 1);
	fputs("},\"software\":{", f);
	kv(f, "language", python ? "python" : "other", 0);
	fputs("},\"infrastructure\":{", f);
	kv(f, "infraType", run->site.cloud[0] ? "publicCloud" : "onPremise", 0);
	if (run->site.cloud[0]) {
		char prov[16];
		snprintf(prov, sizeof(prov), "%.*s", (int)strcspn(run->site.cloud, ":"),
			 run->site.cloud);
		kv(f, "cloudProvider", prov, 1);
	}
	fputc(',', f);
	components(f, run);
	jst__report_location(run, loc, sizeof(loc));
	/* the country of a sub-national zone: the code before its first '-' */
	char cc[8];
	snprintf(cc, sizeof(cc), "%.*s", (int)strcspn(run->site.zone_code, "-"),
		 run->site.zone_code);
	const struct jst_grid_zone *country =
		strchr(run->site.zone_code, '-') ? jst_grid_zone_find(cc) : NULL;
	fputs("},\"environment\":{", f);
	kv(f, "country",
	   run->site.zone_origin == JST_ORIGIN_NONE ? "unknown" :
	   country                                  ? country->name :
						      run->site.zone_name,
	   0);
	kv(f, "location", loc, 1);
	kv(f, "powerSupplierType", "public", 1);
	kn(f, "powerSourceCarbonIntensity",
	   run->result.ci_series[0] ? run->result.ci_avg_g_per_kwh : run->site.ci_g_per_kwh);
	fputc('}', f);
	/* integrity flags (docs/integrity.md) lower a measured run's quality */
	kv(f, "quality", run->estimated ? "low" : run->nflags ? "medium" : "high", 1);
	fputs("}\n", f);
	return ferror(f) ? -1 : 0;
}
