/* `joulestream when`: the start time within a deadline that minimises a job's emissions in a
 * forecast (a file, or a live service), the saving against starting now, or the cleanest
 * chunks of an interruptible job; with --exec, waits for that time and runs the command under
 * `joulestream run` (when_exec.c). Options and printing only: the plan is libjoulestream's
 * jst_when_plan() (src/sched/window.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "cli/sched_cli.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "core/util.h"
#include "joulestream/sched.h"

#define NS 1000000000LL

struct when_opts {
	const char *zone, *cloud, *site, *config, *forecast, *deadline_arg;
	char live_provider[32], live_region[64];
	bool live, json, interruptible, chunk_given;
	double pue, energy_kwh;
	int64_t now_ns, duration_ns, deadline_ns, chunk_ns;
	char **cmd; /* --exec -- CMD...: NULL when not asked */
	char **run_opts; /* --exec RUN-OPTIONS -- CMD: options for `joulestream run` */
	size_t nrun_opts;
};

struct when_state {
	struct jst_config cfg;
	struct jst_sched_site site;
	struct jst_ci_file *file;
	const struct jst_series *series;
	struct jst_when plan;
	char forecast_name[256];
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: joulestream when --duration DUR (--zone Z | --cloud P:R | --site NAME)\n"
	        "         (--forecast FILE | --forecast live[:electricitymaps|:watttime[:REGION]] | --live)\n"
	        "         [--deadline TIME] [--now TIME] [--energy KWH] [--pue X] [--config FILE]\n"
	        "         [--interruptible [--chunk DUR]] [--json]\n"
	        "         [--exec [RUN-OPTIONS] -- CMD [ARGS...]]\n\n"
	        "The start time that minimises the job's emissions: the lowest average intensity over a\n"
	        "window of --duration in the forecast, windows starting now and then one forecast step\n"
	        "apart (the Carbon Aware SDK's rule), ending by --deadline (default: the forecast's end);\n"
	        "equal averages: the earliest. Prints the saving against starting now in percent and in\n"
	        "gCO2e for --energy KWH of IT energy (per kWh without it; PUE included).\n"
	        "  --interruptible    split the job into chunks of --chunk (default 1h): the cleanest\n"
	        "                     before the deadline, greedily, without overlap, in time order\n"
	        "                     (--chunk without --interruptible is refused)\n"
	        "  --exec [RUN-OPTIONS] -- CMD\n"
	        "                     wait for the start (a countdown on stderr; Ctrl-C cancels) and run\n"
	        "                     CMD under 'joulestream run' with the same zone or site, and the\n"
	        "                     run options given (--db PATH --json FILE --csv FILE ...; checked\n"
	        "                     before the wait; where and the intensity are when's own options)\n"
	        "Forecasts: CSV datetime,zone,ci_g_per_kwh, Electricity Maps or WattTime forecast JSON.\n"
	        "Times: ISO 8601 with Z or an offset, 'now', or +DUR from now (--deadline +12h). A\n"
	        "forecast with missing points says so: no window may overlap a gap. docs/scheduling.md.\n");
}

static int bad(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "joulestream when: bad %s '%s': %s\n", opt, val, want);
	return 2;
}

static int option(int c, const char *arg, struct when_opts *o)
{
	const char *why = NULL;
	switch (c) {
	case 'z': o->zone = arg; return cli_nonempty("when", "--zone", arg);
	case 'C': o->cloud = arg; return cli_nonempty("when", "--cloud", arg);
	case 's': o->site = arg; return cli_nonempty("when", "--site", arg);
	case 'c': o->config = arg; return 0;
	case 'f':
		if (cli_live_spec(arg, o->live_provider, sizeof(o->live_provider), o->live_region,
		                  sizeof(o->live_region)))
			o->live = true;
		else
			o->forecast = arg;
		return 0;
	case 'l': o->live = true; return 0;
	case 'd':
		return cli_parse_span(arg, &o->duration_ns) < 0 ? bad("--duration", arg, "a length: 6h, 90m, 2d") : 0;
	case 'D': o->deadline_arg = arg; return 0;
	case 'n':
		return cli_parse_instant(arg, o->now_ns, &o->now_ns, &why) < 0 ? bad("--now", arg, why) : 0;
	case 'i': o->interruptible = true; return 0;
	case 'k':
		o->chunk_given = true;
		return cli_parse_span(arg, &o->chunk_ns) < 0 ? bad("--chunk", arg, "a length: 1h, 30m") : 0;
	case 'e':
		return cli_parse_number(arg, 0, 1e9, &o->energy_kwh) < 0 || o->energy_kwh <= 0
		       ? bad("--energy", arg, "kWh of IT energy, > 0") : 0;
	case 'p':
		return cli_parse_number(arg, 1, 5, &o->pue) < 0 ? bad("--pue", arg, "a number from 1 to 5") : 0;
	case 'j': o->json = true; return 0;
	default: return 2;
	}
}

/* Returns -1 to go on, else the exit status. --exec takes the rest after "--". */
static int parse(int argc, char **argv, struct when_opts *o)
{
	static const struct option lo[] = {
		{"zone", required_argument, 0, 'z'}, {"cloud", required_argument, 0, 'C'},
		{"site", required_argument, 0, 's'}, {"config", required_argument, 0, 'c'},
		{"forecast", required_argument, 0, 'f'}, {"live", no_argument, 0, 'l'},
		{"duration", required_argument, 0, 'd'}, {"deadline", required_argument, 0, 'D'},
		{"now", required_argument, 0, 'n'}, {"interruptible", no_argument, 0, 'i'},
		{"chunk", required_argument, 0, 'k'}, {"energy", required_argument, 0, 'e'},
		{"pue", required_argument, 0, 'p'}, {"json", no_argument, 0, 'j'},
		{"exec", no_argument, 0, 'x'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int c;
	bool exec = false;
	memset(o, 0, sizeof(*o));
	o->now_ns = (int64_t)jst__wall_ns();
	o->pue = -1;
	optind = 1;
	while (!exec && (c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'x') {
			exec = true;
			continue;
		}
		if (c == '?' || option(c, optarg, o) != 0) {
			if (c == '?')
				usage(stderr);
			return 2;
		}
	}
	if (exec) {
		/* `--exec --db x.db --json r.json -- CMD`: options for run up to "--"; a first word
		 * that is no option starts the command (`--exec CMD`, as before) */
		if (optind < argc && argv[optind][0] == '-' && strcmp(argv[optind], "--") != 0) {
			int dd = optind;
			while (dd < argc && strcmp(argv[dd], "--") != 0)
				dd++;
			if (dd == argc) {
				fprintf(stderr, "joulestream when: options for run after --exec end with --: "
				        "--exec --db PATH --json FILE -- CMD [ARGS...]\n");
				return 2;
			}
			o->run_opts = argv + optind;
			o->nrun_opts = (size_t)(dd - optind);
			optind = dd;
		}
		if (optind < argc && strcmp(argv[optind], "--") == 0)
			optind++;
		if (optind >= argc) {
			fprintf(stderr, "joulestream when: --exec needs a command: --exec -- CMD [ARGS...] "
			        "(options go before --exec)\n");
			return 2;
		}
		o->cmd = argv + optind;
	} else if (optind != argc) {
		fprintf(stderr, "joulestream when: unexpected argument '%s' (a command goes after --exec --)\n",
		        argv[optind]);
		return 2;
	}
	return -1;
}

/* The checks between options; then the deadline, relative to --now wherever it was given. */
static int check(struct when_opts *o)
{
	const char *why = NULL;
	if (o->duration_ns <= 0) {
		fprintf(stderr, "joulestream when: give the job's length: --duration 6h\n");
		return 2;
	}
	if (!o->forecast && !o->live) {
		fprintf(stderr, "joulestream when: give a forecast: --forecast FILE, --forecast "
		        "live:electricitymaps, or --live\n");
		return 2;
	}
	if (o->forecast && o->live) {
		fprintf(stderr, "joulestream when: give either --forecast FILE or a live source, not both\n");
		return 2;
	}
	if (o->chunk_given && !o->interruptible) {
		fprintf(stderr, "joulestream when: --chunk sets the length of the chunks of an "
		        "--interruptible job: give --interruptible too, or drop --chunk\n");
		return 2;
	}
	if (o->interruptible && o->chunk_ns == 0)
		o->chunk_ns = 3600 * NS;
	for (size_t i = 0; i < o->nrun_opts; i++) {
		static const char *const own[] = {"--zone", "--cloud", "--site", "--config", "--pue",
		                                  "--live", "--intensity"};
		const char *a = o->run_opts[i];
		for (size_t k = 0; k < JST_ARRAY_LEN(own); k++) {
			size_t l = strlen(own[k]);
			if (strncmp(a, own[k], l) == 0 && (a[l] == '\0' || a[l] == '=')) {
				fprintf(stderr, "joulestream when: give %s to when, before --exec: the run takes "
				        "the place and intensity the plan was made for\n", own[k]);
				return 2;
			}
		}
	}
	if (o->interruptible && o->cmd) {
		fprintf(stderr, "joulestream when: --exec runs the job in one piece and cannot follow "
		        "--interruptible chunks: hand the chunks to your scheduler, or drop --interruptible\n");
		return 2;
	}
	if (o->deadline_arg && cli_parse_instant(o->deadline_arg, o->now_ns, &o->deadline_ns, &why) < 0)
		return bad("--deadline", o->deadline_arg, why ? why : "an ISO 8601 time or +DUR");
	return 0;
}

/* ---- where, and the forecast ------------------------------------------------------------ */

static int where(struct when_state *st, const struct when_opts *o)
{
	struct jst_site_cfg sc;
	char err[400];
	const struct jst_site_cfg *base = NULL;
	const char *name = o->site ? o->site : !o->zone && !o->cloud ? st->cfg.default_site : "";
	if (name[0] && !(base = jst_config_site(&st->cfg, name))) {
		fprintf(stderr, "joulestream when: unknown site '%s' (%s)\n", name,
		        st->cfg.path[0] ? st->cfg.path : "no configuration file: pass --config FILE");
		return 2;
	}
	if (base) {
		sc = *base;
	} else {
		memset(&sc, 0, sizeof(sc));
		sc.pue = sc.wue = sc.embodied_kg = sc.lifetime_years = sc.capacity = -1;
	}
	if (o->zone || o->cloud) {
		jst__strlcpy(sc.zone, o->zone ? o->zone : "", sizeof(sc.zone));
		jst__strlcpy(sc.cloud, o->cloud ? o->cloud : "", sizeof(sc.cloud));
	}
	if (!base)
		jst__strlcpy(sc.name, o->zone ? o->zone : o->cloud ? o->cloud : "", sizeof(sc.name));
	if (!sc.zone[0] && !sc.cloud[0]) {
		fprintf(stderr, "joulestream when: say where the job runs: --zone CODE, --cloud P:REGION "
		        "or --site NAME\n");
		return 2;
	}
	if (jst_sched_site_init(&st->site, &sc, st->cfg.path, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream when: %s\n", err);
		return 2;
	}
	if (o->pue >= 1) {
		st->site.pue = o->pue;
		snprintf(st->site.pue_source, sizeof(st->site.pue_source), "given");
	}
	return 0;
}

static int forecast(struct when_state *st, const struct when_opts *o)
{
	char err[600];
	const char *code = jst_zone_series_code(st->site.zone);
	if (o->live) {
		struct jst_live_opts lo;
		const char *prov = o->live_provider[0] ? o->live_provider
		                   : st->cfg.live[0] && strcmp(st->cfg.live, "off") != 0 ? st->cfg.live
		                                                                        : "electricitymaps";
		jst_live_opts_init(&lo, prov, o->live_region, &st->cfg);
		int64_t to = o->deadline_ns > o->now_ns ? o->deadline_ns : o->now_ns + 72 * 3600 * NS;
		if (jst_live_fetch(&lo, code, o->now_ns, to, &st->file, err, sizeof(err)) < 0) {
			fprintf(stderr, "joulestream when: no forecast: %s\n", err);
			return 1;
		}
		snprintf(st->forecast_name, sizeof(st->forecast_name), "live %s", prov);
	} else {
		if (jst_ci_load(o->forecast, &st->file, err, sizeof(err)) < 0) {
			fprintf(stderr, "joulestream when: %s\n", err);
			return 2;
		}
		snprintf(st->forecast_name, sizeof(st->forecast_name), "%.250s", o->forecast);
	}
	st->series = jst_ci_select(st->file, code);
	if (!st->series) {
		fprintf(stderr, "joulestream when: %s has no values for zone %s (its zones:",
		        st->forecast_name, st->site.zone);
		for (size_t i = 0; i < jst_ci_count(st->file) && i < 10; i++)
			fprintf(stderr, " %s", jst_ci_at(st->file, i)->zone);
		fprintf(stderr, "%s)\n", jst_ci_count(st->file) > 10 ? " ..." : "");
		return 2;
	}
	return 0;
}

/* ---- the saving ---------------------------------------------------------------------------- */

struct saving {
	bool known;          /* there is a window starting now to compare with */
	double now_ci, plan_ci, pct, per_kwh_g; /* per kWh of IT energy, PUE included */
	double kwh;          /* --energy, or 1 */
	double now_g, plan_g, saved_g;
};

static void saving_of(const struct when_state *st, const struct when_opts *o, struct saving *s)
{
	const struct jst_when *w = &st->plan;
	memset(s, 0, sizeof(*s));
	s->plan_ci = w->nchunks ? w->chunks_ci : w->best.ci;
	s->kwh = o->energy_kwh > 0 ? o->energy_kwh : 1;
	s->plan_g = s->kwh * st->site.pue * s->plan_ci;
	if (!w->has_now)
		return;
	s->known = true;
	s->now_ci = w->now.ci;
	s->pct = s->now_ci > 0 ? (s->now_ci - s->plan_ci) / s->now_ci * 100 : 0;
	s->per_kwh_g = st->site.pue * (s->now_ci - s->plan_ci);
	s->now_g = s->kwh * st->site.pue * s->now_ci;
	s->saved_g = s->now_g - s->plan_g;
}

/* ---- printing -------------------------------------------------------------------------------- */

static void t(int64_t ns, char *out)
{
	jst__format_iso8601(ns, out, 32);
}

static void print_notes(const struct when_state *st, const struct when_opts *o)
{
	const struct jst_when *w = &st->plan;
	char a[32], b[32], step[32];
	cli_span_text(w->step_ns, step, sizeof(step));
	if (w->ngaps) {
		cli_span_text(w->gap_ns, a, sizeof(a));
		printf("gaps: the forecast misses points for its %s step in %zu place%s (%s in all):\n",
		       step, w->ngaps, w->ngaps == 1 ? "" : "s", a);
		for (size_t i = 0; i < w->ngaps && i < JST_WHEN_GAPS_MAX; i++) {
			t(w->gaps[i].from_ns, a);
			t(w->gaps[i].to_ns, b);
			printf("  %s to %s\n", a, b);
		}
		printf("  a window that overlaps a gap is not a candidate (%zu left out)\n", w->in_gaps);
	}
	if (w->first_ns > o->now_ns) {
		t(w->first_ns, a);
		printf("note: the forecast starts at %s, after now: the earliest start considered; no "
		       "saving against now can be given\n", a);
	} else if (!w->has_now) {
		printf("note: the window starting now overlaps a gap: no saving against now can be given\n");
	}
	if (o->deadline_ns > w->end_ns) {
		t(w->end_ns, a);
		printf("note: the forecast ends at %s, before the deadline: later starts are unknown\n", a);
	}
}

/* "834.0 gCO2e", "52.42 kgCO2e", "1.25 tCO2e" */
static const char *mass(double g, char *out, size_t n)
{
	if (g >= 1e6 || g <= -1e6)
		snprintf(out, n, "%.2f tCO2e", g / 1e6);
	else if (g >= 1e4 || g <= -1e4)
		snprintf(out, n, "%.2f kgCO2e", g / 1e3);
	else
		snprintf(out, n, "%.1f gCO2e", g);
	return out;
}

static void print_saving(const struct when_state *st, const struct saving *s, bool energy)
{
	char a[32], b[32], c[32];
	if (!s->known)
		return;
	printf("saving against starting now: %.1f %% (%.1f -> %.1f gCO2e/kWh)\n", s->pct, s->now_ci,
	       s->plan_ci);
	if (energy)
		printf("  for %g kWh of IT energy at PUE %.2f (%s): %s now, %s as planned, %s saved\n",
		       s->kwh, st->site.pue, st->site.pue_source, mass(s->now_g, a, sizeof(a)),
		       mass(s->plan_g, b, sizeof(b)), mass(s->saved_g, c, sizeof(c)));
	else
		printf("  %.1f gCO2e per kWh of IT energy at PUE %.2f (%s); --energy KWH for the job's total\n",
		       s->per_kwh_g, st->site.pue, st->site.pue_source);
}

static void print_text(const struct when_state *st, const struct when_opts *o)
{
	const struct jst_when *w = &st->plan;
	const struct jst_series *s = st->series;
	char a[32], b[32], d[32], step[32], now[32];
	struct saving sv;
	cli_span_text(o->duration_ns, d, sizeof(d));
	cli_span_text(w->step_ns, step, sizeof(step));
	t(o->now_ns, now);
	t(w->latest_end_ns, b);
	printf("job: %s in %s (%s), now %s, to end by %s\n", d, st->site.zone, st->site.zone_name, now, b);
	t(w->first_ns, a);
	t(w->end_ns, b);
	printf("forecast: %s (%s), %zu values every %s, %s to %s\n", s->source, s->version, s->n, step, a, b);
	print_notes(st, o);
	if (w->has_best) {
		t(w->best.start_ns, a);
		t(w->best.end_ns, b);
		printf("best start: %s (ends %s): %.1f gCO2e/kWh on average\n", a, b, w->best.ci);
		printf("  %zu start%s compared, %s apart (the forecast's step); ", w->candidates,
		       w->candidates == 1 ? "" : "s", step);
		if (w->ties > 1)
			printf("%zu have that average: the earliest is chosen\n", w->ties);
		else
			printf("no other as good\n");
	}
	if (w->nchunks) {
		cli_span_text(o->chunk_ns, d, sizeof(d));
		printf("interruptible: %zu chunk%s of %s, the cleanest first, shown in time order%s:\n",
		       w->nchunks, w->nchunks == 1 ? "" : "s", d,
		       w->chunks_aligned ? " (on whole chunks from the earliest start)" : "");
		for (size_t i = 0; i < w->nchunks; i++) {
			t(w->chunks[i].start_ns, a);
			t(w->chunks[i].end_ns, b);
			printf("  %s to %s  %.1f gCO2e/kWh\n", a, b, w->chunks[i].ci);
		}
		cli_span_text((int64_t)w->nchunks * o->chunk_ns, d, sizeof(d));
		printf("  total %s: %.1f gCO2e/kWh on average\n", d, w->chunks_ci);
	}
	if (w->has_now)
		printf("starting now: %.1f gCO2e/kWh on average\n", w->now.ci);
	saving_of(st, o, &sv);
	print_saving(st, &sv, o->energy_kwh > 0);
}

static void json_window_obj(const struct jst_window *win)
{
	char a[32], b[32];
	t(win->start_ns, a);
	t(win->end_ns, b);
	printf("{\"start\": \"%s\", \"end\": \"%s\", \"ci_g_per_kwh\": ", a, b);
	jst__json_number(stdout, win->ci);
	printf("}");
}

static void json_window(const char *key, const struct jst_window *win, bool ok)
{
	printf(", \"%s\": ", key);
	if (ok)
		json_window_obj(win);
	else
		printf("null");
}

static void json_forecast(const struct when_state *st)
{
	const struct jst_when *w = &st->plan;
	char a[32], b[32];
	printf(", \"forecast\": {\"source\": ");
	jst__json_string(stdout, st->series->source);
	printf(", \"data_version\": ");
	jst__json_string(stdout, st->series->version);
	t(w->first_ns, a);
	t(w->end_ns, b);
	printf(", \"values\": %zu, \"step_s\": %lld, \"from\": \"%s\", \"to\": \"%s\", \"gaps\": [",
	       st->series->n, (long long)(w->step_ns / NS), a, b);
	for (size_t i = 0; i < w->ngaps && i < JST_WHEN_GAPS_MAX; i++) {
		t(w->gaps[i].from_ns, a);
		t(w->gaps[i].to_ns, b);
		printf("%s{\"from\": \"%s\", \"to\": \"%s\"}", i ? ", " : "", a, b);
	}
	printf("], \"gap_count\": %zu, \"gap_s\": %lld, \"windows_in_gaps\": %zu}", w->ngaps,
	       (long long)(w->gap_ns / NS), w->in_gaps);
}

static void print_json(const struct when_state *st, const struct when_opts *o)
{
	const struct jst_when *w = &st->plan;
	char now[32], end[32], first[32];
	struct saving sv;
	saving_of(st, o, &sv);
	t(o->now_ns, now);
	t(w->latest_end_ns, end);
	t(w->earliest_ns, first);
	printf("{\"zone\": ");
	jst__json_string(stdout, st->site.zone);
	printf(", \"site\": ");
	if (jst_config_site(&st->cfg, st->site.name) && !o->zone && !o->cloud)
		jst__json_string(stdout, st->site.name);
	else
		printf("null");
	printf(", \"now\": \"%s\", \"duration_s\": %lld, \"earliest_start\": \"%s\", \"latest_end\": \"%s\"",
	       now, (long long)(o->duration_ns / NS), first, end);
	json_forecast(st);
	json_window("best", &w->best, w->has_best);
	printf(", \"candidates\": %zu, \"ties\": %zu", w->candidates, w->ties);
	json_window("now_window", &w->now, w->has_now);
	printf(", \"chunks\": ");
	if (w->nchunks) {
		printf("[");
		for (size_t i = 0; i < w->nchunks; i++) {
			printf("%s", i ? ", " : "");
			json_window_obj(&w->chunks[i]);
		}
		printf("], \"chunk_s\": %lld, \"chunks_ci_g_per_kwh\": ", (long long)(o->chunk_ns / NS));
		jst__json_number(stdout, w->chunks_ci);
	} else {
		printf("null");
	}
	printf(", \"pue\": ");
	jst__json_number(stdout, st->site.pue);
	printf(", \"pue_source\": ");
	jst__json_string(stdout, st->site.pue_source);
	printf(", \"energy_kwh\": ");
	o->energy_kwh > 0 ? jst__json_number(stdout, o->energy_kwh) : (void)printf("null");
	printf(", \"saving\": ");
	if (!sv.known) {
		printf("null}\n");
		return;
	}
	printf("{\"percent\": ");
	jst__json_number(stdout, sv.pct);
	printf(", \"ci_g_per_kwh\": ");
	jst__json_number(stdout, sv.now_ci - sv.plan_ci);
	printf(", \"co2e_g_per_it_kwh\": ");
	jst__json_number(stdout, sv.per_kwh_g);
	printf(", \"co2e_g\": ");
	jst__json_number(stdout, sv.saved_g);
	printf(", \"now_co2e_g\": ");
	jst__json_number(stdout, sv.now_g);
	printf(", \"planned_co2e_g\": ");
	jst__json_number(stdout, sv.plan_g);
	printf("}}\n");
}

/* ---- --exec -------------------------------------------------------------------------------- */

/* `joulestream run` with the zone or site this plan was made for, then -- CMD. Every string
 * before the command is a copy (nfixed of them, freed by the caller if exec fails). */
static int push(char **v, size_t *k, const char *s)
{
	return (v[*k] = strdup(s)) ? (int)++*k : -1;
}

static char **run_argv(const struct when_state *st, const struct when_opts *o, size_t *nfixed)
{
	char self[PATH_MAX], pue[32];
	size_t ncmd = 0, k = 0;
	int r = 0;
	while (o->cmd[ncmd])
		ncmd++;
	char **v = calloc(ncmd + o->nrun_opts + 16, sizeof(*v));
	if (!v)
		return NULL;
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[l > 0 ? (size_t)l : 0] = '\0';
	r |= push(v, &k, l > 0 ? self : "joulestream");
	r |= push(v, &k, "run");
	if (o->config) {
		r |= push(v, &k, "--config");
		r |= push(v, &k, o->config);
	}
	if (o->site || (!o->zone && !o->cloud && st->cfg.default_site[0])) {
		r |= push(v, &k, "--site");
		r |= push(v, &k, o->site ? o->site : st->cfg.default_site);
	}
	if (o->zone || o->cloud) {
		r |= push(v, &k, o->zone ? "--zone" : "--cloud");
		r |= push(v, &k, o->zone ? o->zone : o->cloud);
	}
	if (o->pue >= 1) {
		snprintf(pue, sizeof(pue), "%g", o->pue);
		r |= push(v, &k, "--pue");
		r |= push(v, &k, pue);
	}
	if (o->live)
		r |= push(v, &k, "--live");
	for (size_t i = 0; i < o->nrun_opts; i++)
		r |= push(v, &k, o->run_opts[i]);
	r |= push(v, &k, "--");
	*nfixed = k;
	if (r < 0) {
		for (size_t i = 0; i < k; i++)
			free(v[i]);
		free(v);
		return NULL;
	}
	memcpy(&v[k], o->cmd, ncmd * sizeof(*v));
	return v;
}

static int exec_plan(const struct when_state *st, const struct when_opts *o)
{
	size_t nfixed = 0, n = 0;
	char **argv = run_argv(st, o, &nfixed);
	if (!argv) {
		fprintf(stderr, "joulestream when: out of memory\n");
		return 1;
	}
	while (argv[n])
		n++;
	int bad_opts = o->nrun_opts ? cli_run_check((int)n - 1, argv + 1) : 0; /* before the wait */
	if (bad_opts) {
		fprintf(stderr, "joulestream when: the options after --exec are not good options of run; "
		        "nothing started\n");
		for (size_t i = 0; i < nfixed; i++)
			free(argv[i]);
		free(argv);
		return bad_opts;
	}
	fflush(stdout);
	struct when_exec x = {st->plan.best.start_ns - o->now_ns, st->plan.best.start_ns, argv};
	int rc = cli_when_exec(&x);
	for (size_t i = 0; i < nfixed; i++)
		free(argv[i]);
	free(argv);
	return rc;
}

int cli_when(int argc, char **argv)
{
	struct when_opts o;
	char err[600];
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if ((rc = check(&o)) != 0)
		return rc;
	struct when_state *st = calloc(1, sizeof(*st));
	if (!st)
		return 1;
	rc = cli_load_config(o.config, &st->cfg, "when");
	if (rc == 0)
		rc = where(st, &o);
	if (rc == 0)
		rc = forecast(st, &o);
	if (rc == 0) {
		struct jst_when_in in = {st->series, o.now_ns, o.duration_ns, o.deadline_ns,
		                         o.interruptible ? o.chunk_ns : 0};
		int r = jst_when_plan(&in, &st->plan, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "joulestream when: %s\n", r == -ENOMEM ? "out of memory" : err);
			rc = r == -EINVAL ? 2 : 1;
		}
	}
	if (rc == 0) {
		if (o.json)
			print_json(st, &o);
		else
			print_text(st, &o);
		if (o.cmd)
			rc = exec_plan(st, &o);
	}
	jst_when_release(&st->plan);
	jst_ci_free(st->file);
	free(st);
	return rc;
}
