/* Carbon options shared by the subcommands: the configuration file, live source specs,
 * functional units, and fetching a run's time range from a live source. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "core/util.h"

int cli_load_config(const char *path, struct jst_config *cfg, const char *prog)
{
	char err[600];
	if (jst_config_load(path, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream %s: %s\n", prog, err);
		return 2;
	}
	return 0;
}

bool cli_live_spec(const char *spec, char *provider, size_t pn, char *region, size_t rn)
{
	provider[0] = region[0] = '\0';
	if (!spec || strncmp(spec, "live", 4) != 0 || (spec[4] != '\0' && spec[4] != ':'))
		return false;
	if (spec[4] == ':') {
		const char *p = spec + 5, *colon = strchr(p, ':');
		size_t l = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(provider, pn, "%.*s", (int)l, p);
		if (colon)
			snprintf(region, rn, "%s", colon + 1);
	}
	return true;
}

static bool good_unit(const char *u)
{
	size_t n = strlen(u);
	if (n == 0 || n > 47)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == '"')
			return false;
	return true;
}

int cli_functional_unit(const char *arg, int argc, char **argv, int *next, double *n, char *unit,
                        size_t un, const char *prog)
{
	const char *sp = strchr(arg, ' ');
	size_t nl = sp ? (size_t)(sp - arg) : strlen(arg);
	const char *u = sp ? sp + 1 : NULL;
	while (u && *u == ' ')
		u++;
	if (!u && *next < argc && argv[*next][0] != '-')
		u = argv[(*next)++];
	if (jst__parse_double(arg, nl, n) < 0 || !isfinite(*n) || *n <= 0 || !u || !good_unit(u)) {
		fprintf(stderr, "joulestream %s: bad --functional-unit '%s': give a number > 0 and a unit, "
		        "e.g. --functional-unit 1000 samples\n", prog, arg);
		return -EINVAL;
	}
	snprintf(unit, un, "%s", u);
	return 0;
}

int cli_fetch_live(const struct jst_config *cfg, const char *provider, const char *region,
                   const struct jst_run *run, struct jst_ci_file **out, char *why, size_t whylen)
{
	struct jst_live_opts lo;
	const char *prov = provider && *provider ? provider : cfg->live[0] && strcmp(cfg->live, "off") != 0
	                   ? cfg->live : "electricitymaps";
	jst_live_opts_init(&lo, prov, region, cfg);
	if (run->site.zone_origin == JST_ORIGIN_NONE && strcmp(prov, "watttime") != 0) {
		snprintf(why, whylen, "%s: the run has no zone to ask for (pass --zone, --cloud or --site)", prov);
		return -EINVAL;
	}
	uint64_t end = run->end_ns ? run->end_ns : jst__wall_ns();
	return jst_live_fetch(&lo, jst_zone_series_code(run->site.zone_code),
			      (int64_t)run->start_ns, (int64_t)end, out, why, whylen);
}

int cli_run_carbon_option(int c, const char *arg, int argc, char **argv, int *next,
                          struct run_carbon_opts *o)
{
	switch (c) {
	case CLI_O_INTENSITY: o->intensity = arg; return 1;
	case CLI_O_LIVE: o->live = true; return 1;
	case CLI_O_SITE: o->site = arg; return cli_nonempty("run", "--site", arg) ? 2 : 1;
	case CLI_O_CONFIG: o->config = arg; return 1;
	case CLI_O_FUNIT:
		return cli_functional_unit(arg, argc, argv, next, &o->functional_units, o->functional_unit,
		                           sizeof(o->functional_unit), "run") < 0 ? 2 : 1;
	case CLI_O_EMBODIED:
		if (cli_parse_number(arg, 0.001, 1e7, &o->embodied_kg) < 0) {
			fprintf(stderr, "joulestream run: bad --embodied '%s': kgCO2e of the machine, > 0\n", arg);
			return 2;
		}
		return 1;
	case CLI_O_LIFETIME:
		if (cli_parse_number(arg, 0.1, 50, &o->lifetime_years) < 0) {
			fprintf(stderr, "joulestream run: bad --lifetime '%s': years, 0.1 to 50\n", arg);
			return 2;
		}
		return 1;
	default: return 0;
	}
}

void cli_run_carbon_usage(FILE *f)
{
	fprintf(f,
	        "carbon and water (docs/methodology.md):\n"
	        "  --site NAME          a site of the configuration file: zone or cloud, PUE, WUE\n"
	        "  --config FILE        configuration file (default ~/.config/joulestream/config)\n"
	        "  --intensity FILE     intensity over time: CSV datetime,zone,ci_g_per_kwh, or the JSON\n"
	        "                       of Electricity Maps (history, forecast, latest) or WattTime v3\n"
	        "  --intensity live:electricitymaps | live:watttime[:REGION]\n"
	        "                       fetch the run's hours after the command ends (timeouts, cache);\n"
	        "                       the yearly average, said so, when the service fails\n"
	        "  --live               the configured live source ([default] live), else Electricity Maps\n"
	        "  --functional-unit N UNIT   the run did N UNIT (e.g. 1000 samples): SCI per one UNIT,\n"
	        "                       (operational + embodied) / N, instead of per run\n"
	        "  --embodied KG        embodied kgCO2e of the machine for SCI (default: data/embodied.csv)\n"
	        "  --lifetime YEARS     its lifetime (default: per device, data/embodied.csv)\n"
	        "With no --zone, --cloud or --site, the configuration's default site is used, else a zone\n"
	        "guessed from the time zone (the report says so), else the world average (said loudly).\n");
}

static bool result_matches(const struct jst_run_result *r, const char *version, const char *zone,
                           bool exact)
{
	if (zone && jst__strcasecmp(r->zone_code, zone) != 0)
		return false;
	if (!version)
		return true;
	return exact ? strcmp(r->data_version, version) == 0
	             : strncmp(r->data_version, version, strlen(version)) == 0;
}

/* The results matching --data (exactly, else as a prefix) and --zone, newest first; *distinct
 * counts the different (data version, zone) pairs among them. */
static const struct jst_run_result *find_result(const struct jst_run *run, const char *version,
                                                const char *zone, size_t *distinct)
{
	for (int exact = 1; exact >= 0; exact--) {
		const struct jst_run_result *hit = NULL;
		*distinct = 0;
		for (size_t i = 0; i < run->nresults; i++) {
			const struct jst_run_result *r = &run->results[i];
			if (!result_matches(r, version, zone, exact))
				continue;
			bool seen = false;
			for (size_t k = 0; k < i && !seen; k++)
				seen = result_matches(&run->results[k], version, zone, exact) &&
				       strcmp(run->results[k].data_version, r->data_version) == 0 &&
				       strcmp(run->results[k].zone_code, r->zone_code) == 0;
			*distinct += !seen;
			hit = hit ? hit : r;
		}
		if (hit || !version)
			return hit;
	}
	return NULL;
}

int cli_pick_result(struct jst_run *run, const char *version, const char *zone)
{
	size_t distinct = 0;
	if (!version && !zone) {
		if (run->nresults)
			jst_run_apply_result(run, &run->results[0]);
		return 0;
	}
	const struct jst_run_result *hit = find_result(run, version, zone, &distinct);
	if (hit && (distinct == 1 || !version)) { /* --zone alone: that zone's newest result */
		jst_run_apply_result(run, hit);
		return 0;
	}
	char what[256];
	snprintf(what, sizeof(what), "%s%s%s%s%s", version ? "data version '" : "", version ? version : "",
	         version ? "'" : "", version && zone ? " and " : "", zone ? "zone " : "");
	if (hit) /* one version for two zones, or a prefix of two versions */
		fprintf(stderr, "joulestream show: more than one result of run %s for %s%s: give %s; its "
		        "results:\n", run->id, what, zone ? zone : "",
		        zone ? "the whole data version" : "--zone CODE, or the whole --data VERSION");
	else
		fprintf(stderr, "joulestream show: no result of run %s for %s%s; its results:\n", run->id,
		        what, zone ? zone : "");
	for (size_t i = 0; i < run->nresults; i++)
		fprintf(stderr, "  %s (%s)\n", run->results[i].data_version, run->results[i].zone_code);
	return 1;
}

void cli_show_usage(FILE *f)
{
	fprintf(f, "usage: joulestream show RUN|last [--format text|json|html|csv|model-card|boamps|attestation]\n"
	           "                        [--data VERSION] [--zone CODE]\n"
	           "                        [--training-type pre-training|fine-tuning]\n"
	           "                        [--db PATH]\n"
	           "  html         one self-contained page with SVG charts (no network): > report.html\n"
	           "  csv          a CodeCarbon emissions.csv row (with its header)\n"
	           "  model-card   the Hugging Face model card co2_eq_emissions block (YAML)\n"
	           "  boamps       a BoAmps (Boavizta) energy report (JSON)\n"
	           "  --data V     carbon and water of data version V (default: the newest result)\n"
	           "  --zone CODE  that zone's newest result (reprocess --zone adds one per zone); with\n"
	           "               one data version for two zones, --data alone is refused as ambiguous\n"
	           "  attestation  an in-toto statement in a DSSE envelope, signed with --key FILE (default:\n"
	           "               joulestream key create's); --subject NAME=sha256:HEX attests a model\n"
	           "               artefact instead of the run (repeatable); check with joulestream verify\n");
}
