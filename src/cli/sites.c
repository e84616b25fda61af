/* `joulestream sites rank`: the configuration's sites ranked by carbon, water or both per IT
 * kWh, with the yearly data, intensity files or a live source averaged over a window, printed
 * as a table, JSON, or scheduler hints (Nomad, Kubernetes, SLURM). Options, data loading and
 * printing only: the ranking and the hints are libjoulestream's (src/sched/). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "cli/sched_cli.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "core/util.h"
#include "joulestream/sched.h"

#define FILES_MAX 8
#define PICK_MAX 32

enum fmt { F_TABLE, F_JSON, F_NOMAD, F_K8S, F_SLURM };

struct sites_opts {
	const char *config, *files[FILES_MAX], *picks[PICK_MAX], *accel, *nomad_attr, *label_key;
	size_t nfiles, npicks;
	char live_provider[32], live_region[64];
	bool live, ahead, weights; /* weights: --weights given */
	struct jst_rank_opts rank;
	int64_t window_ns, now_ns;
	double min_capacity;
	long top;
	enum fmt fmt;
	char attr[96];
};

struct excluded {
	char name[64];
	char why[160];
};

struct sites_state {
	struct jst_config cfg;
	struct jst_sched_site sites[JST_CONFIG_SITES_MAX];
	size_t n;
	struct excluded out[JST_CONFIG_SITES_MAX];
	size_t nout;
	int64_t from_ns, to_ns;
	const char *kind; /* "yearly", "file" or "live" */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: joulestream sites rank [--config FILE] [--by carbon|water|both] [--weights C,W]\n"
	        "         [--intensity FILE]... | [--live | --intensity live:electricitymaps]\n"
	        "         [--window 7d] [--ahead] [--now TIME] [--site NAME]... [--accelerator TYPE]\n"
	        "         [--min-capacity N] [--top N] [--format table|json|nomad|k8s|slurm]\n"
	        "         [--nomad-attribute node.datacenter|meta.KEY] [--nomad-min W] [--label-key KEY]\n\n"
	        "Ranks the [site NAME] sections of the configuration, best first:\n"
	        "  carbon   gCO2e per IT kWh = CI x PUE (default)\n"
	        "  water    litres per IT kWh = WUE + PUE x EWIF\n"
	        "  both     weighted sum of the two, each normalised min-max across the sites (0 best,\n"
	        "           1 worst); --weights C,W, default 0.5,0.5 (only with --by both)\n"
	        "CI is the zone's yearly average, or with --intensity FILE (CSV with a zone column or\n"
	        "Electricity Maps JSON; repeat for more files) or --live the mean over the window: the\n"
	        "last --window (default 7d) before --now (default the current time), or the next one\n"
	        "with --ahead (forecasts). Each figure names its source and window.\n"
	        "Formats: table, json, or hints to paste: nomad (affinity stanzas, weights 100 for the\n"
	        "best to --nomad-min, default 0, for the worst, linear as AI4EOSC's GreenDirector),\n"
	        "k8s (preferred node affinity on --label-key, default topology.kubernetes.io/region,\n"
	        "= the site's label, cloud region or name; weights 100 to 1), slurm (--partition=a,b,c).\n"
	        "Site keys: zone or cloud, pue, wue, capacity, accelerators, label, partition\n"
	        "(docs/scheduling.md).\n");
}

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "joulestream sites rank: bad %s '%s': %s\n", opt, val, want);
	return 2;
}

/* "0.7,0.3" */
static int parse_weights(const char *s, struct jst_rank_opts *r)
{
	const char *comma = strchr(s, ',');
	if (!comma || jst__parse_double(s, (size_t)(comma - s), &r->w_carbon) < 0 ||
	    jst__parse_double(comma + 1, strlen(comma + 1), &r->w_water) < 0 ||
	    !(r->w_carbon >= 0) || !(r->w_water >= 0) || r->w_carbon + r->w_water <= 0 ||
	    !isfinite(r->w_carbon + r->w_water))
		return bad("--weights", s, "two numbers >= 0, not both 0, e.g. 0.7,0.3");
	return 0;
}

/* node.datacenter, meta.site or ${...} itself: attribute names are letters, digits, '.', '_', '-'. */
static int parse_attr(const char *s, struct sites_opts *o)
{
	size_t n = strlen(s);
	const char *p = s;
	if (n > 3 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}') {
		p = s + 2;
		n -= 3;
	}
	bool ok = n > 0 && n < 80;
	for (size_t i = 0; ok && i < n; i++)
		ok = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		     (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '_' || p[i] == '-';
	if (!ok || (strncmp(p, "node.", 5) != 0 && strncmp(p, "meta.", 5) != 0 &&
	            strncmp(p, "attr.", 5) != 0))
		return bad("--nomad-attribute", s, "node.datacenter, meta.KEY or ${...}");
	snprintf(o->attr, sizeof(o->attr), "${%.*s}", (int)n, p);
	o->nomad_attr = o->attr;
	return 0;
}

static int parse_format(const char *s, enum fmt *f)
{
	static const char *const names[] = {"table", "json", "nomad", "k8s", "slurm"};
	for (size_t i = 0; i < JST_ARRAY_LEN(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum fmt)i;
			return 0;
		}
	if (strcmp(s, "kubernetes") == 0) {
		*f = F_K8S;
		return 0;
	}
	return bad("--format", s, "table, json, nomad, k8s or slurm");
}

static int parse_by(const char *s, enum jst_rank_by *by)
{
	if (strcmp(s, "carbon") == 0)
		*by = JST_RANK_CARBON;
	else if (strcmp(s, "water") == 0)
		*by = JST_RANK_WATER;
	else if (strcmp(s, "both") == 0)
		*by = JST_RANK_BOTH;
	else
		return bad("--by", s, "carbon, water or both");
	return 0;
}

static int intensity_opt(const char *s, struct sites_opts *o)
{
	if (cli_live_spec(s, o->live_provider, sizeof(o->live_provider), o->live_region,
	                  sizeof(o->live_region))) {
		o->live = true;
		return 0;
	}
	if (o->nfiles == FILES_MAX)
		return bad("--intensity", s, "at most 8 files");
	o->files[o->nfiles++] = s;
	return 0;
}

/* Label keys: [prefix/]name of letters, digits, '-', '_', '.' (Kubernetes' syntax). */
static int parse_label_key(const char *s, struct sites_opts *o)
{
	size_t n = strlen(s), slashes = 0;
	bool ok = n > 0 && n <= 253;
	for (size_t i = 0; ok && i < n; i++) {
		slashes += s[i] == '/';
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		     (s[i] >= '0' && s[i] <= '9') || strchr("-_./", s[i]);
	}
	if (!ok || slashes > 1 || s[n - 1] == '/' || s[0] == '/')
		return bad("--label-key", s, "a Kubernetes label key such as topology.kubernetes.io/region");
	o->label_key = s;
	return 0;
}

static int option(int c, const char *arg, struct sites_opts *o)
{
	const char *why;
	double v;
	switch (c) {
	case 'c': o->config = arg; return 0;
	case 'b': return parse_by(arg, &o->rank.by);
	case 'w': o->weights = true; return parse_weights(arg, &o->rank);
	case 'i': return intensity_opt(arg, o);
	case 'l': o->live = true; return 0;
	case 'W':
		return cli_parse_span(arg, &o->window_ns) < 0 ? bad("--window", arg, "a length: 7d, 24h, 90m") : 0;
	case 'a': o->ahead = true; return 0;
	case 'n':
		return cli_parse_instant(arg, o->now_ns, &o->now_ns, &why) < 0 ? bad("--now", arg, why) : 0;
	case 's':
		if (o->npicks == PICK_MAX)
			return bad("--site", arg, "at most 32 sites");
		o->picks[o->npicks++] = arg;
		return 0;
	case 'A': o->accel = arg; return 0;
	case 'C':
		return cli_parse_number(arg, 0, 1e7, &o->min_capacity) < 0 ? bad("--min-capacity", arg, "a number >= 0") : 0;
	case 't':
		if (cli_parse_number(arg, 1, 1000, &v) < 0 || v != floor(v))
			return bad("--top", arg, "a whole number from 1");
		o->top = (long)v;
		return 0;
	case 'f': return parse_format(arg, &o->fmt);
	case 'N': return parse_attr(arg, o);
	case 'M':
		if (cli_parse_number(arg, -100, 99, &v) < 0 || v != floor(v))
			return bad("--nomad-min", arg, "a whole number from -100 to 99");
		o->rank.nomad_min = (int)v;
		return 0;
	case 'K': return parse_label_key(arg, o);
	default: return 2;
	}
}

static int parse(int argc, char **argv, struct sites_opts *o)
{
	static const struct option lo[] = {
		{"config", required_argument, 0, 'c'}, {"by", required_argument, 0, 'b'},
		{"weights", required_argument, 0, 'w'}, {"intensity", required_argument, 0, 'i'},
		{"live", no_argument, 0, 'l'}, {"window", required_argument, 0, 'W'},
		{"ahead", no_argument, 0, 'a'}, {"now", required_argument, 0, 'n'},
		{"site", required_argument, 0, 's'}, {"accelerator", required_argument, 0, 'A'},
		{"min-capacity", required_argument, 0, 'C'}, {"top", required_argument, 0, 't'},
		{"format", required_argument, 0, 'f'}, {"nomad-attribute", required_argument, 0, 'N'},
		{"nomad-min", required_argument, 0, 'M'}, {"label-key", required_argument, 0, 'K'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int c;
	memset(o, 0, sizeof(*o));
	o->window_ns = 7 * 86400 * 1000000000LL;
	o->now_ns = (int64_t)jst__wall_ns();
	o->min_capacity = -1;
	o->nomad_attr = "${node.datacenter}";
	o->label_key = "topology.kubernetes.io/region";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?' || option(c, optarg, o) != 0) {
			if (c == '?')
				usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "joulestream sites rank: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (o->live && o->nfiles) {
		fprintf(stderr, "joulestream sites rank: give either --intensity FILE or a live source, not both\n");
		return 2;
	}
	if (o->weights && o->rank.by != JST_RANK_BOTH) {
		fprintf(stderr, "joulestream sites rank: --weights weighs carbon against water and needs "
		        "--by both (the ranking is by %s alone)\n",
		        o->rank.by == JST_RANK_WATER ? "water" : "carbon");
		return 2;
	}
	return -1;
}

/* ---- the candidates ---------------------------------------------------------------------- */

static bool has_accel(const char *list, const char *want)
{
	size_t wl = strlen(want);
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == wl && strncasecmp(p, want, l) == 0)
			return true;
		p += l + (comma ? 1 : 0);
	}
	return false;
}

static void exclude(struct sites_state *st, const char *name, const char *why)
{
	struct excluded *e = &st->out[st->nout++];
	jst__strlcpy(e->name, name, sizeof(e->name));
	jst__strlcpy(e->why, why, sizeof(e->why));
}

static bool picked(const struct sites_opts *o, const char *name)
{
	if (o->npicks == 0)
		return true;
	for (size_t i = 0; i < o->npicks; i++)
		if (strcmp(o->picks[i], name) == 0)
			return true;
	return false;
}

/* The configuration's sites, filtered; 0 or the exit status after a message. */
static int candidates(struct sites_state *st, const struct sites_opts *o)
{
	char err[400], why[160];
	int rc = cli_load_config(o->config, &st->cfg, "sites rank");
	if (rc)
		return rc;
	for (size_t i = 0; i < o->npicks; i++)
		if (!jst_config_site(&st->cfg, o->picks[i])) {
			fprintf(stderr, "joulestream sites rank: --site %s: no [site %s] in %s\n", o->picks[i],
			        o->picks[i], st->cfg.path[0] ? st->cfg.path : "the configuration (none found)");
			return 2;
		}
	for (size_t i = 0; i < st->cfg.nsites; i++) {
		const struct jst_site_cfg *s = &st->cfg.sites[i];
		if (!picked(o, s->name))
			continue;
		if (o->accel && !has_accel(s->accelerators, o->accel)) {
			snprintf(why, sizeof(why), "no %.40s in its accelerators (%.40s)", o->accel,
			         s->accelerators[0] ? s->accelerators : "none listed");
			exclude(st, s->name, why);
			continue;
		}
		if (o->min_capacity >= 0 && s->capacity < o->min_capacity) {
			if (s->capacity < 0)
				snprintf(why, sizeof(why), "capacity not given");
			else
				snprintf(why, sizeof(why), "capacity %g < %g", s->capacity, o->min_capacity);
			exclude(st, s->name, why);
			continue;
		}
		if (jst_sched_site_init(&st->sites[st->n], s, st->cfg.path, (int)i, err, sizeof(err)) < 0) {
			fprintf(stderr, "joulestream sites rank: %s\n", err);
			return 2;
		}
		st->n++;
	}
	if (st->n == 0) {
		fprintf(stderr, "joulestream sites rank: no site to rank: %s\n",
		        st->cfg.nsites == 0 ? "the configuration has no [site NAME] sections "
		                              "(docs/scheduling.md shows one)" : "every site was left out");
		for (size_t i = 0; i < st->nout; i++)
			fprintf(stderr, "  %s: %s\n", st->out[i].name, st->out[i].why);
		return 1;
	}
	return 0;
}

/* ---- intensity over the window ------------------------------------------------------------ */

static int use_files(struct sites_state *st, const struct sites_opts *o)
{
	struct jst_ci_file *f[FILES_MAX] = {0};
	char err[600];
	int rc = 0;
	for (size_t k = 0; k < o->nfiles && rc == 0; k++) {
		if (jst_ci_load(o->files[k], &f[k], err, sizeof(err)) < 0) {
			fprintf(stderr, "joulestream sites rank: %s\n", err);
			rc = 2;
		} else if (jst_ci_count(f[k]) == 1 && jst_ci_at(f[k], 0)->zone[0] == '\0') {
			fprintf(stderr, "joulestream sites rank: %s names no zone (a WattTime answer): a "
			        "ranking needs each site's zone; use a CSV datetime,zone,ci_g_per_kwh\n", o->files[k]);
			rc = 2;
		}
	}
	for (size_t i = 0; i < st->n && rc == 0; i++) {
		struct jst_sched_site *s = &st->sites[i];
		const struct jst_series *ser = NULL;
		for (size_t k = 0; k < o->nfiles && !ser; k++)
			ser = jst_ci_select(f[k], s->zone);
		char zone[sizeof(s->zone)];
		memcpy(zone, s->zone, sizeof(zone)); /* gcc -O0 -Wrestrict: not from the same object */
		if (ser)
			jst_sched_site_use_series(s, ser, st->from_ns, st->to_ns);
		else
			snprintf(s->note, sizeof(s->note), "no values for zone %s in the --intensity file%s: "
			         "yearly average used", zone, o->nfiles > 1 ? "s" : "");
	}
	for (size_t k = 0; k < o->nfiles; k++)
		jst_ci_free(f[k]);
	return rc;
}

/* One zone's live series, asked on its own thread. */
struct live_job {
	const struct jst_live_opts *lo;
	const char *code;
	int64_t from_ns, to_ns;
	struct jst_ci_file *f;
	int rc;
	char why[400];
};

static void *live_job_run(void *arg)
{
	struct live_job *j = arg;
	j->rc = jst_live_fetch(j->lo, j->code, j->from_ns, j->to_ns, &j->f, j->why, sizeof(j->why));
	return NULL;
}

/* Every zone is asked at once, one thread each (sites of one zone share it), so a hanging
 * service costs the whole ranking one timeout (the [http] timeouts), not one per site. */
static int use_live(struct sites_state *st, const struct sites_opts *o)
{
	struct jst_live_opts lo;
	static struct live_job jobs[JST_CONFIG_SITES_MAX];
	pthread_t tid[JST_CONFIG_SITES_MAX];
	bool started[JST_CONFIG_SITES_MAX] = {false};
	size_t site_job[JST_CONFIG_SITES_MAX], njobs = 0;
	const char *prov = o->live_provider[0] ? o->live_provider
	                   : st->cfg.live[0] && strcmp(st->cfg.live, "off") != 0 ? st->cfg.live
	                                                                        : "electricitymaps";
	if (strcmp(prov, "electricitymaps") != 0) {
		fprintf(stderr, "joulestream sites rank: live source '%s': ranking sites needs each zone's "
		        "series, which only Electricity Maps gives (WattTime regions are not grid zones); "
		        "use --intensity live:electricitymaps or files\n", prov);
		return 2;
	}
	jst_live_opts_init(&lo, prov, NULL, &st->cfg);
	for (size_t i = 0; i < st->n; i++) {
		const char *code = jst_zone_series_code(st->sites[i].zone);
		size_t k = 0;
		while (k < njobs && strcmp(jobs[k].code, code) != 0)
			k++;
		if (k == njobs)
			jobs[njobs++] = (struct live_job){&lo, code, st->from_ns, st->to_ns, NULL, 0, ""};
		site_job[i] = k;
	}
	for (size_t k = 0; k < njobs; k++)
		started[k] = pthread_create(&tid[k], NULL, live_job_run, &jobs[k]) == 0;
	for (size_t k = 0; k < njobs; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			live_job_run(&jobs[k]); /* no thread to be had: asked here */
	}
	for (size_t i = 0; i < st->n; i++) {
		struct jst_sched_site *s = &st->sites[i];
		const struct live_job *j = &jobs[site_job[i]];
		if (j->rc < 0) {
			snprintf(s->note, sizeof(s->note), "%.220s: yearly average used", j->why);
			continue;
		}
		const struct jst_series *ser = jst_ci_select(j->f, j->code);
		if (ser)
			jst_sched_site_use_series(s, ser, st->from_ns, st->to_ns);
	}
	for (size_t k = 0; k < njobs; k++)
		jst_ci_free(jobs[k].f);
	return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

static const char *by_name(enum jst_rank_by by)
{
	return by == JST_RANK_CARBON ? "carbon" : by == JST_RANK_WATER ? "water" : "both";
}

/* One line saying how the ranking was made, for tables and the hints' comments. */
static void describe(const struct sites_state *st, const struct sites_opts *o, char *out, size_t n)
{
	char w[32], a[32], b[32], by[96];
	double sum = o->rank.w_carbon + o->rank.w_water;
	double wc = sum > 0 ? o->rank.w_carbon / sum : 0.5;
	cli_span_text(o->window_ns, w, sizeof(w));
	jst__format_iso8601(st->from_ns, a, sizeof(a));
	jst__format_iso8601(st->to_ns, b, sizeof(b));
	if (o->rank.by == JST_RANK_CARBON)
		snprintf(by, sizeof(by), "carbon, gCO2e per IT kWh = CI x PUE");
	else if (o->rank.by == JST_RANK_WATER)
		snprintf(by, sizeof(by), "water, L per IT kWh = WUE + PUE x EWIF");
	else
		snprintf(by, sizeof(by), "%.2f x carbon + %.2f x water, each min-max normalised", wc, 1 - wc);
	if (strcmp(st->kind, "yearly") == 0)
		snprintf(out, n, "joulestream sites rank by %s; CI: yearly averages (%s)", by, JST_DATA_VERSION);
	else
		snprintf(out, n, "joulestream sites rank by %s; CI: %s, mean over %s from %s to %s", by,
		         strcmp(st->kind, "file") == 0 ? "--intensity files" : "live", w, a, b);
}

static void json_str_field(const char *key, const char *v, bool comma)
{
	printf("%s\"%s\": ", comma ? ", " : "", key);
	jst__json_string(stdout, v);
}

static void json_num_field(const char *key, double v, bool comma)
{
	printf("%s\"%s\": ", comma ? ", " : "", key);
	jst__json_number(stdout, v);
}

static void json_site(const struct jst_sched_site *s)
{
	printf("    {\"rank\": %d", s->rank);
	json_str_field("name", s->name, true);
	json_str_field("zone", s->zone, true);
	json_str_field("zone_name", s->zone_name, true);
	json_str_field("cloud", s->cloud, true);
	json_num_field("pue", s->pue, true);
	json_str_field("pue_source", s->pue_source, true);
	json_num_field("wue_l_per_kwh", s->wue, true);
	json_str_field("wue_source", s->wue_source, true);
	json_num_field("ci_g_per_kwh", s->ci, true);
	json_str_field("ci_source", s->ci_source, true);
	printf(", \"ci_window_mean\": %s", s->ci_series ? "true" : "false");
	json_num_field("window_coverage", s->coverage, true);
	json_str_field("data_version", s->data_version, true);
	json_str_field("note", s->note, true);
	printf(", \"ewif_l_per_kwh\": ");
	s->ewif < 0 ? (void)printf("null") : jst__json_number(stdout, s->ewif);
	json_num_field("carbon_g_per_it_kwh", s->carbon, true);
	printf(", \"water_l_per_it_kwh\": ");
	s->water < 0 ? (void)printf("null") : jst__json_number(stdout, s->water);
	printf(", \"score\": ");
	s->known ? jst__json_number(stdout, s->score) : (void)printf("null");
	printf(", \"nomad_weight\": %d, \"k8s_weight\": %d", s->nomad_weight, s->k8s_weight);
	json_str_field("label", s->label, true);
	json_str_field("partition", s->partition, true);
	json_str_field("accelerators", s->accelerators, true);
	printf(", \"capacity\": ");
	s->capacity < 0 ? (void)printf("null") : jst__json_number(stdout, s->capacity);
	printf("}");
}

static void print_json(const struct sites_state *st, const struct sites_opts *o, size_t n)
{
	char a[32], b[32];
	double sum = o->rank.w_carbon + o->rank.w_water, wc = sum > 0 ? o->rank.w_carbon / sum : 0.5;
	printf("{\"by\": \"%s\", \"weights\": {\"carbon\": ", by_name(o->rank.by));
	jst__json_number(stdout, o->rank.by == JST_RANK_BOTH ? wc : o->rank.by == JST_RANK_CARBON);
	printf(", \"water\": ");
	jst__json_number(stdout, o->rank.by == JST_RANK_BOTH ? 1 - wc : o->rank.by == JST_RANK_WATER);
	printf("}");
	json_str_field("config", st->cfg.path, true);
	json_str_field("intensity", st->kind, true);
	if (strcmp(st->kind, "yearly") != 0) {
		jst__format_iso8601(st->from_ns, a, sizeof(a));
		jst__format_iso8601(st->to_ns, b, sizeof(b));
		printf(", \"window\": {\"from\": \"%s\", \"to\": \"%s\", \"seconds\": %lld, \"ahead\": %s}", a,
		       b, (long long)(o->window_ns / 1000000000LL), o->ahead ? "true" : "false");
	} else {
		printf(", \"window\": null");
	}
	printf(",\n  \"sites\": [\n");
	for (size_t i = 0; i < n; i++) {
		json_site(&st->sites[i]);
		printf("%s\n", i + 1 < n ? "," : "");
	}
	printf("  ],\n  \"excluded\": [");
	for (size_t i = 0; i < st->nout; i++) {
		printf("%s{", i ? ", " : "");
		json_str_field("name", st->out[i].name, false);
		json_str_field("why", st->out[i].why, true);
		printf("}");
	}
	printf("]}\n");
}

static void print_table(const struct sites_state *st, const struct sites_opts *o, size_t n)
{
	char head[400];
	describe(st, o, head, sizeof(head));
	printf("%s\n\n%-4s %-14s %-12s %5s %9s %10s %11s %6s %5s %4s  %-12s %s\n", head, "RANK", "SITE",
	       "ZONE", "PUE", "CI g/kWh", "gCO2e/kWh", "WATER L/kWh",
	       o->rank.by == JST_RANK_BOTH ? "SCORE" : "", "NOMAD", "K8S", "PARTITION", "ACCELERATORS");
	for (size_t i = 0; i < n; i++) {
		const struct jst_sched_site *s = &st->sites[i];
		char water[16], score[16] = "";
		if (s->water < 0)
			snprintf(water, sizeof(water), "unknown");
		else
			snprintf(water, sizeof(water), "%.2f", s->water);
		if (o->rank.by == JST_RANK_BOTH)
			snprintf(score, sizeof(score), "%.3f", s->score);
		printf("%-4d %-14.14s %-12.12s %5.2f %9.1f %10.1f %11s %6s %5d %4d  %-12.12s %s\n", s->rank,
		       s->name, s->zone, s->pue, s->ci, s->carbon, water, score, s->nomad_weight,
		       s->k8s_weight, s->partition[0] ? s->partition : "-",
		       s->accelerators[0] ? s->accelerators : "-");
	}
	printf("\nCI of each site (gCO2e/kWh of grid electricity), PUE and WUE:\n");
	for (size_t i = 0; i < n; i++) {
		const struct jst_sched_site *s = &st->sites[i];
		printf("  %s: %s%s (%s)", s->name, s->ci_source, s->ci_series ? ", mean over the window" : "",
		       s->data_version);
		if (s->ci_series && s->coverage < 0.9995)
			printf(", %.1f %% of the window covered", s->coverage * 100);
		if (strcmp(s->pue_source, s->wue_source) == 0)
			printf("; PUE and WUE %s", s->pue_source);
		else
			printf("; PUE %s; WUE %s", s->pue_source, s->wue_source);
		printf("%s%s\n", s->note[0] ? "\n    " : "", s->note);
	}
	for (size_t i = 0; i < st->nout; i++)
		printf("  left out: %s (%s)\n", st->out[i].name, st->out[i].why);
}

static int print_hints(const struct sites_state *st, const struct sites_opts *o, size_t n)
{
	char head[400];
	describe(st, o, head, sizeof(head));
	if (o->fmt == F_NOMAD) {
		char c[600];
		snprintf(c, sizeof(c), "%s\nNomad affinities: paste into the job or a group; best site "
		         "weight 100, worst %d", head, o->rank.nomad_min);
		jst_hints_nomad(stdout, st->sites, n, o->nomad_attr, c);
	} else if (o->fmt == F_K8S) {
		char c[600];
		snprintf(c, sizeof(c), "%s\nKubernetes: paste under the pod spec (spec.template.spec for "
		         "a Deployment or Job); nodes need the label %s", head, o->label_key);
		jst_hints_k8s(stdout, st->sites, n, o->label_key, c);
	} else {
		size_t skipped = 0;
		if (jst_hints_slurm(stdout, st->sites, n, &skipped) < 0) {
			fprintf(stderr, "joulestream sites rank: no site has a partition: add 'partition = "
			        "NAME' to the [site NAME] sections\n");
			return 1;
		}
		if (skipped)
			fprintf(stderr, "joulestream sites rank: %zu site%s without a partition left out of "
			        "the list\n", skipped, skipped == 1 ? "" : "s");
	}
	return 0;
}

int cli_sites(int argc, char **argv)
{
	struct sites_opts o;
	if (argc < 2 || strcmp(argv[1], "rank") != 0) {
		bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	int rc = parse(argc - 1, argv + 1, &o);
	if (rc >= 0)
		return rc;
	struct sites_state *st = calloc(1, sizeof(*st));
	if (!st)
		return 1;
	st->from_ns = o.ahead ? o.now_ns : o.now_ns - o.window_ns;
	st->to_ns = o.ahead ? o.now_ns + o.window_ns : o.now_ns;
	st->kind = o.nfiles ? "file" : o.live ? "live" : "yearly";
	rc = candidates(st, &o);
	if (rc == 0 && o.nfiles)
		rc = use_files(st, &o);
	else if (rc == 0 && o.live)
		rc = use_live(st, &o);
	if (rc == 0) {
		jst_sched_rank(st->sites, st->n, &o.rank);
		size_t n = o.top > 0 && (size_t)o.top < st->n ? (size_t)o.top : st->n;
		if (o.fmt == F_TABLE)
			print_table(st, &o, n);
		else if (o.fmt == F_JSON)
			print_json(st, &o, n);
		else
			rc = print_hints(st, &o, n);
	}
	free(st);
	return rc;
}
