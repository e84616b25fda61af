/* The CodeCarbon-compatible row: exactly the columns of CodeCarbon's emissions.csv, in its
 * order and units (duration s, emissions kg, power W, energy kWh, water L), so notebooks that
 * read CodeCarbon's file read ours. As CodeCarbon does (emissions_tracker.py), the energy
 * columns include the PUE, country_iso_code is ISO 3166-1 alpha-3 and region the sub-national
 * region; where we differ is in docs/methodology.md. Fields CodeCarbon fills from Python
 * (python_version) or from geolocation (longitude) stay empty rather than invented. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "joulestream/carbon.h"
#include "joulestream/report.h"

static const char header[] =
	"timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
	"gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
	"country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
	"codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
	"ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
	"ram_utilization_percent,ram_used_gb,on_cloud,pue,wue";

int jst_report_csv_header(FILE *f)
{
	fprintf(f, "%s\n", header);
	return ferror(f) ? -1 : 0;
}

static void field(FILE *f, const char *s, int comma)
{
	if (comma)
		fputc(',', f);
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void num(FILE *f, double v)
{
	fprintf(f, ",%.9g", v);
}

/* Run energy (J) of the counted zones of one kind group. */
static double part_j(const struct jst_run *run, int want)
{
	double j = 0;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		if (!(z->zone.flags & JST_ZONE_COUNTED))
			continue;
		int group = z->zone.kind == JST_KIND_GPU ? 1 : z->zone.kind == JST_KIND_DRAM ? 2 :
		            z->zone.kind == JST_KIND_PACKAGE ? 0 : 3;
		if (group == want)
			j += z->run_j;
	}
	return j;
}

static unsigned gpu_count(const struct jst_run *run)
{
	unsigned n = 0;
	for (size_t i = 0; i < run->nzones; i++)
		n += run->zones[i].zone.kind == JST_KIND_GPU;
	return n;
}

/* CodeCarbon's region: for a cloud region the state (else the city) of its location, as in
 * its cloud table ("Ashburn, Virginia, US" -> "Virginia"); else the sub-national zone's name in
 * lower case, as its geolocation gives it ("US-TX" -> "texas"); "" for a whole country. */
static void region_of(const struct jst_run *run, const char *provider, const char *cloud_region,
                      char *out, size_t n)
{
	const struct jst_cloud_region *cr = provider[0] ? jst_cloud_find(provider, cloud_region) : NULL;
	out[0] = '\0';
	if (cr && cr->location) {
		const char *end = strrchr(cr->location, ','); /* the country after it */
		if (!end)
			return;
		const char *start = cr->location;
		for (const char *p = start; p < end; p++)
			if (*p == ',')
				start = p + 1;
		while (*start == ' ')
			start++;
		snprintf(out, n, "%.*s", (int)(end - start), start);
		return;
	}
	if (!strchr(run->site.zone_code, '-'))
		return;
	snprintf(out, n, "%s", run->site.zone_name);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

int jst_report_csv_row(FILE *f, const struct jst_run *run)
{
	char prov[16], region[128];
	const char *iso3 = "";
	char t[40];
	const struct jst_footprint *fp = &run->result.footprint;
	double d = run->duration_s > 0 ? run->duration_s : 1;
	double cpu = part_j(run, 0), gpu = part_j(run, 1), ram = part_j(run, 2);
	jst_format_utc(run->end_ns ? run->end_ns : run->start_ns, t, sizeof(t));
	field(f, t, 0);
	field(f, run->meta.project[0] ? run->meta.project : "joulestream", 1);
	field(f, run->id, 1);
	field(f, "", 1);
	num(f, run->duration_s);
	num(f, fp->co2e_g / 1000);
	num(f, fp->co2e_g / 1000 / d);
	num(f, cpu / d);
	num(f, gpu / d);
	num(f, ram / d);
	double pue = run->site.pue >= 1 ? run->site.pue : 1; /* CodeCarbon's energies are facility energies */
	num(f, cpu / 3.6e6 * pue);
	num(f, gpu / 3.6e6 * pue);
	num(f, ram / 3.6e6 * pue);
	num(f, fp->facility_kwh);
	num(f, fp->water_l);
	const struct jst_grid_zone *country = jst_grid_zone_country(run->site.zone_code, &iso3);
	const char *colon = strchr(run->site.cloud, ':');
	snprintf(prov, sizeof(prov), "%.*s", colon ? (int)(colon - run->site.cloud) : 0, run->site.cloud);
	region_of(run, prov, colon ? colon + 1 : "", region, sizeof(region));
	field(f, country ? country->name : "", 1);
	field(f, iso3, 1);
	field(f, region, 1);
	field(f, prov, 1);
	field(f, colon ? colon + 1 : "", 1);
	field(f, run->meta.kernel, 1);
	field(f, "", 1); /* python_version */
	field(f, "", 1); /* codecarbon_version */
	fprintf(f, ",%u", run->meta.cpu_count);
	field(f, run->meta.cpu_model, 1);
	fprintf(f, ",%u", gpu_count(run));
	field(f, run->meta.gpus, 1);
	field(f, "", 1); /* longitude */
	field(f, "", 1); /* latitude */
	num(f, run->meta.ram_gb);
	field(f, run->scope == JST_SCOPE_HOST ? "machine" : "process", 1);
	field(f, "", 1); /* cpu_utilization_percent */
	field(f, "", 1); /* gpu_utilization_percent */
	field(f, "", 1); /* ram_utilization_percent */
	field(f, "", 1); /* ram_used_gb */
	field(f, run->site.cloud[0] ? "Y" : "N", 1);
	num(f, run->site.pue);
	num(f, run->site.wue_l_per_kwh);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

int jst_report_csv_append(const char *path, const struct jst_run *run)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return -errno;
	int r = 0;
	if (ftell(f) == 0)
		r = jst_report_csv_header(f);
	if (r == 0)
		r = jst_report_csv_row(f, run);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r < 0 ? (r == -1 ? -EIO : r) : 0;
}
