/* `joulestream intensity ZONE [--at TIME] [--intensity FILE|live:PROVIDER[:REGION]]`: the
 * carbon intensity in force in a zone at an instant, and where it comes from: the bundled
 * yearly average, the value of a series file in force then, or a live service's answer. A time
 * outside a series falls back to the yearly average, and the output says so. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "core/util.h"

struct answer {
	const struct jst_grid_zone *z;
	int64_t at;
	double ci;
	const char *source, *version;
	bool in_series;
	int64_t from, to; /* validity of the series value */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream intensity ZONE|PROVIDER:REGION [--at TIME] [--intensity FILE|"
	           "live:electricitymaps|live:watttime[:REGION]] [--json] [--config FILE]\n"
	           "The carbon intensity (gCO2e/kWh) in force in ZONE at TIME (ISO 8601 with Z or an\n"
	           "offset, default now), with its source: the bundled yearly average, a series file's\n"
	           "value, or a live service's (Electricity Maps: latest, history of the last 24 h,\n"
	           "forecast; WattTime: marginal emissions of a region). Outside a series: the yearly\n"
	           "average, said so.\n");
}

static void print(const struct answer *a, bool json)
{
	char at[32], f0[32], f1[32];
	jst__format_iso8601(a->at, at, sizeof(at));
	jst__format_iso8601(a->from, f0, sizeof(f0));
	jst__format_iso8601(a->to, f1, sizeof(f1));
	if (json) {
		printf("{\"zone\":");
		jst__json_string(stdout, a->z->code);
		printf(",\"at\":\"%s\",\"ci_g_per_kwh\":", at);
		jst__json_number(stdout, a->ci);
		printf(",\"source\":");
		jst__json_string(stdout, a->source);
		printf(",\"data_version\":");
		jst__json_string(stdout, a->version);
		printf(",\"in_series\":%s", a->in_series ? "true" : "false");
		if (a->in_series)
			printf(",\"valid_from\":\"%s\",\"valid_to\":\"%s\"", f0, f1);
		printf("}\n");
		return;
	}
	printf("%s (%s) at %s: %.1f gCO2e/kWh\n", a->z->code, a->z->name, at, a->ci);
	if (a->in_series)
		printf("  source: %s, value in force from %s to %s\n", a->source, f0, f1);
	else
		printf("  source: %s (the yearly average)\n", a->source);
	printf("  data version: %s\n", a->version);
}

/* The value of f's series for the zone at a->at, or the yearly average with a note. */
static int from_file(struct answer *a, const struct jst_ci_file *f, const char *what)
{
	const struct jst_series *s = jst_ci_select(f, a->z->code);
	if (!s) {
		fprintf(stderr, "joulestream intensity: %s has no values for zone %s\n", what, a->z->code);
		return 1;
	}
	ssize_t i = jst_series_find(s, a->at, NULL);
	if (i < 0) {
		char t0[32], t1[32];
		jst__format_iso8601(s->pts[0].t_ns, t0, sizeof(t0));
		jst__format_iso8601(jst_series_end(s, s->n - 1), t1, sizeof(t1));
		fprintf(stderr, "joulestream intensity: the time is outside %s (%s to %s): the yearly "
		        "average is used\n", s->source, t0, t1);
		return 0;
	}
	a->ci = s->pts[i].ci_g_per_kwh;
	a->source = s->source;
	a->version = s->version;
	a->in_series = true;
	a->from = s->pts[i].t_ns;
	a->to = jst_series_end(s, (size_t)i);
	return 0;
}

static const struct jst_grid_zone *zone_arg(const char *arg)
{
	const struct jst_cloud_region *cr = strchr(arg, ':') ? jst_cloud_find(NULL, arg) : NULL;
	return jst_grid_zone_find(cr ? cr->zone : arg);
}

/* Fills a from a series file or a live answer; *keep holds what a's strings point into. */
static int lookup(struct answer *a, const char *spec, const char *config, bool now,
                  struct jst_ci_file **keep)
{
	char prov[32], region[64], err[600];
	*keep = NULL;
	if (cli_live_spec(spec, prov, sizeof(prov), region, sizeof(region))) {
		struct jst_config cfg;
		struct jst_live_opts lo;
		int rc = cli_load_config(config, &cfg, "intensity");
		if (rc != 0)
			return rc;
		jst_live_opts_init(&lo, prov[0] ? prov : cfg.live[0] && strcmp(cfg.live, "off") ? cfg.live
		                                                      : "electricitymaps", region, &cfg);
		int64_t hour = 3600 * (int64_t)1000000000;
		if (jst_live_fetch(&lo, jst_zone_series_code(a->z->code), a->at - hour, now ? 0 : a->at,
		                   keep, err, sizeof(err)) < 0) {
			fprintf(stderr, "joulestream intensity: %s: the yearly average is used\n", err);
			return 0;
		}
	} else if (jst_ci_load(spec, keep, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream intensity: %s\n", err);
		return 1;
	}
	return from_file(a, *keep, spec);
}

int cli_intensity(int argc, char **argv)
{
	static const struct option lo[] = {
		{"at", required_argument, 0, 'a'}, {"intensity", required_argument, 0, 'i'},
		{"config", required_argument, 0, 'c'}, {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *at = NULL, *spec = NULL, *config = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 'i': spec = optarg; break;
		case 'c': config = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	struct answer a = {zone_arg(argv[optind]), (int64_t)jst__wall_ns(), 0, NULL, JST_DATA_VERSION, false, 0, 0};
	const char *why = NULL;
	if (!a.z) {
		fprintf(stderr, "joulestream intensity: unknown zone '%s' (see 'joulestream zones %s')\n",
		        argv[optind], argv[optind]);
		return 1;
	}
	if (at && strcmp(at, "now") != 0 && jst__parse_iso8601(at, strlen(at), &a.at, &why) < 0) {
		fprintf(stderr, "joulestream intensity: bad --at '%s': %s\n", at, why);
		return 2;
	}
	a.ci = a.z->ci_g_per_kwh;
	a.source = a.z->ci_source;
	struct jst_ci_file *f = NULL;
	int rc = spec ? lookup(&a, spec, config, !at || strcmp(at, "now") == 0, &f) : 0;
	if (rc == 0)
		print(&a, json);
	jst_ci_free(f);
	return rc;
}
