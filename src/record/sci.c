/* The Software Carbon Intensity of a run: SCI = (E·I + M) / R. E·I is the run's operational
 * carbon (footprint.co2e_g, PUE included); M charges each device the run used its embodied
 * emissions × (run duration / device lifetime) × the run's share of that device's measured
 * energy (1 with --scope host); R is the user's functional unit, or one run. The rows come
 * from data/embodied.csv (embodied.c), or from --embodied/--lifetime for the whole machine. */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/record.h"

#define SECONDS_PER_YEAR (365.25 * 86400)

struct parts {
	char text[256];
	size_t off;
};

/* "gpu0 (share 1.00): nvidia-h100 164 kg over 6 y, pcf" */
static void add_part(struct parts *p, const char *what, double share, const struct jst_embodied *e,
                     double life)
{
	if (p->off >= sizeof(p->text))
		return;
	int w = snprintf(p->text + p->off, sizeof(p->text) - p->off, "%s%s (share %.2f): %s %.0f kg over %g y, %s",
	                 p->off ? "; " : "", what, share, e->name, e->kg_co2e, life, e->basis);
	p->off += w > 0 ? (size_t)w : 0;
}

static double share_of(const struct jst_run *run, const struct jst_zone_total *z)
{
	if (run->scope == JST_SCOPE_HOST)
		return 1;
	return z->host_j > 0 ? z->run_j / z->host_j : 0;
}

/* The run's share of the machine without its GPUs: its share of the CPU and memory energy. */
static double host_share(const struct jst_run *run)
{
	double h = 0, r = 0;
	if (run->scope == JST_SCOPE_HOST)
		return 1;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		if ((z->zone.flags & JST_ZONE_COUNTED) && z->zone.kind != JST_KIND_GPU) {
			h += z->host_j;
			r += z->run_j;
		}
	}
	if (h <= 0) /* no CPU zone measured: the run's share of everything */
		return run->host_j > 0 ? run->run_j / run->host_j : 0;
	return r / h;
}

/* M from data/embodied.csv: each GPU, then the server around them. */
static double from_data(const struct jst_run *run, double years, struct parts *p)
{
	double m = 0;
	unsigned ngpu = 0;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *z = &run->zones[i];
		if (z->zone.kind != JST_KIND_GPU)
			continue;
		ngpu++;
		const struct jst_embodied *e = jst_embodied_match("gpu", z->zone.label);
		double sh = share_of(run, z);
		if (!e)
			continue;
		double life = run->site.lifetime_years_opt > 0 ? run->site.lifetime_years_opt :
								 e->lifetime_years;
		m += e->kg_co2e * 1000 * years / life * sh;
		add_part(p, z->zone.name, sh, e, life);
	}
	const struct jst_embodied *srv = jst_embodied_match(ngpu ? "gpu-server" : "server", NULL);
	if (srv) {
		double sh = host_share(run);
		double life = run->site.lifetime_years_opt > 0 ? run->site.lifetime_years_opt :
								 srv->lifetime_years;
		m += srv->kg_co2e * 1000 * years / life * sh;
		add_part(p, "server", sh, srv, life);
	}
	return m;
}

void jst_run_sci(const struct jst_run *run, struct jst_run_result *res)
{
	struct parts p = {{0}, 0};
	double years = run->duration_s > 0 ? run->duration_s / SECONDS_PER_YEAR : 0;
	const struct jst_run_site *site = &run->site;
	if (site->embodied_kg_opt > 0) {
		double life = site->lifetime_years_opt > 0 ? site->lifetime_years_opt : 4;
		double sh = run->scope == JST_SCOPE_HOST ? 1 : run->host_j > 0 ? run->run_j / run->host_j : 0;
		res->embodied_g = site->embodied_kg_opt * 1000 * years / life * sh;
		snprintf(res->embodied_source, sizeof(res->embodied_source),
			 "the machine, given: %.0f kg over %.1f y, run share %.2f",
			 site->embodied_kg_opt, life, sh);
	} else {
		res->embodied_g = from_data(run, years, &p);
		snprintf(res->embodied_source, sizeof(res->embodied_source), "%s",
			 p.off ? p.text : "no device with an embodied figure");
	}
	if (!res->functional_unit[0] || res->functional_units <= 0) {
		res->functional_units = 0;
		snprintf(res->functional_unit, sizeof(res->functional_unit), "run");
	}
	double r = res->functional_units > 0 ? res->functional_units : 1;
	res->sci_g = (res->footprint.co2e_g + res->embodied_g) / r;
}
