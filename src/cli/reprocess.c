/* `joulestream reprocess [RUN...] [--intensity FILE|live:... | --data VERSION] [--zone CODE]`:
 * the Kappa replay. Each stored run's carbon and water are computed again from its raw
 * samples with the data asked for, by the same integration the run used live, and the result
 * is kept next to the data version that produced it (run_results); the run as recorded is
 * never overwritten, and `show` reports the newest result unless told another. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "core/jsonw.h"
#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/audit.h"
#include "joulestream/report.h"

struct opts {
	const char *db, *intensity, *data, *zone, *config;
	double fu_n;
	char fu_unit[48];
	bool json, live;
	char provider[32], region[64];
	struct jst_config cfg;
	struct jst_ci_file *file;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream reprocess [RUN...] [--intensity FILE|live:electricitymaps|"
	           "live:watttime[:REGION]]\n"
	           "                             [--data VERSION] [--zone CODE] [--functional-unit N UNIT]\n"
	           "                             [--db PATH] [--config FILE] [--json]\n"
	           "Computes stored runs' carbon and water again from their samples (every run when no\n"
	           "RUN is given) and keeps the result next to its data version; 'joulestream show'\n"
	           "reports the newest. --data %s (or bundled) uses the bundled yearly averages.\n"
	           "A zone or functional unit given once stays: a later reprocess without --zone or\n"
           "--functional-unit uses those of the run's newest result.\n"
           "Each run reprocessed is a row of the store's audit log (joulestream audit).\n",
	           JST_DATA_VERSION);
}

/* --zone: the grid zone changes, PUE and WUE (and their sources) stay the run's. */
static int move_zone(struct jst_run *run, const char *zone, char *msg, size_t n)
{
	char ps[sizeof(run->site.pue_source)], ws[sizeof(run->site.wue_source)],
		cloud[sizeof(run->site.cloud)];
	memcpy(ps, run->site.pue_source, sizeof(ps));
	memcpy(ws, run->site.wue_source, sizeof(ws));
	memcpy(cloud, run->site.cloud, sizeof(cloud));
	int r = jst_run_set_site(run, zone, NULL, run->site.pue, run->site.wue_l_per_kwh, msg, n);
	memcpy(run->site.pue_source, ps, sizeof(ps));
	memcpy(run->site.wue_source, ws, sizeof(ws));
	memcpy(run->site.cloud, cloud, sizeof(cloud));
	run->site.tz_guess[0] = '\0';
	return r;
}

/* The series for the run, NULL for the bundled yearly average; -1 on failure (printed). */
static int series_for(struct opts *o, const struct jst_run *run, const struct jst_series **s,
                      struct jst_ci_file **live)
{
	char why[400];
	*s = NULL;
	if (o->file) {
		if (!(*s = jst_ci_select(o->file, run->site.zone_code))) {
			fprintf(stderr,
				"joulestream reprocess: %s: %s has no values for zone %s; skipped\n",
				run->id, o->intensity, run->site.zone_code);
			return -1;
		}
	} else if (o->live) {
		if (cli_fetch_live(&o->cfg, o->provider, o->region, run, live, why, sizeof(why)) < 0) {
			fprintf(stderr, "joulestream reprocess: %s: %s; not reprocessed\n", run->id, why);
			return -1;
		}
		*s = jst_ci_select(*live, run->site.zone_code);
	}
	return 0;
}

static void report(const struct opts *o, const struct jst_run *run, double before, bool first)
{
	char a[32], b[32], w[32];
	if (o->json) {
		printf("%s{\"run\":\"%s\",\"data_version\":", first ? "" : ",\n ", run->id);
		jst__json_string(stdout, run->result.data_version);
		printf(",\"zone\":\"%s\",\"co2e_g\":", run->site.zone_code);
		jst__json_number(stdout, run->result.footprint.co2e_g);
		printf(",\"water_l\":");
		jst__json_number(stdout, run->result.footprint.water_l);
		printf(",\"outside_series_kwh\":");
		jst__json_number(stdout, run->result.outside_kwh);
		printf(",\"sci_g\":");
		jst__json_number(stdout, run->result.sci_g);
		printf(",\"co2e_g_recorded\":");
		jst__json_number(stdout, before);
		printf("}");
		return;
	}
	jst_format_grams(before, b, sizeof(b));
	jst_format_grams(run->result.footprint.co2e_g, a, sizeof(a));
	jst_format_litres(run->result.footprint.water_l, w, sizeof(w));
	printf("%s %-8s %12s -> %-12s water %-9s %s\n", run->id, run->site.zone_code, b, a, w,
	       run->result.data_version);
	if (run->result.outside_kwh > 0 && run->result.footprint.it_kwh > 0)
		printf("  %.1f %% of the energy fell outside the series: yearly average used for it\n",
		       100 * run->result.outside_kwh / run->result.footprint.it_kwh);
}

/* What the run was last corrected to: the zone and functional unit of its newest result (a
 * reprocess --zone or --functional-unit), unless this reprocess gives them again. */
static const char *last_zone(const struct opts *o, const struct jst_run *run)
{
	if (o->zone)
		return o->zone;
	if (run->nresults && run->results[0].zone_code[0] &&
	    strcmp(run->results[0].zone_code, run->site.zone_code) != 0)
		return run->results[0].zone_code;
	return NULL;
}

static void last_unit(const struct opts *o, struct jst_run *run)
{
	if (o->fu_n > 0) {
		run->result.functional_units = o->fu_n;
		jst__strlcpy(run->result.functional_unit, o->fu_unit, sizeof(run->result.functional_unit));
	} else if (run->nresults && run->results[0].functional_units > 0) {
		run->result.functional_units = run->results[0].functional_units;
		jst__strlcpy(run->result.functional_unit, run->results[0].functional_unit,
		             sizeof(run->result.functional_unit));
	}
}

static int one(struct opts *o, struct jst_store *st, struct jst_run *run, bool first)
{
	char msg[256];
	double before = run->result.footprint.co2e_g;
	const char *zone = last_zone(o, run);
	if (zone && move_zone(run, zone, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "joulestream reprocess: %s\n", msg);
		return -1;
	}
	const struct jst_series *s;
	struct jst_ci_file *live = NULL;
	if (series_for(o, run, &s, &live) < 0)
		return -1;
	jst_run_finish_totals(run);
	jst_run_yearly_result(run, &run->result); /* totals from the zones; the yearly figures */
	if (s) {
		struct jst_carbon_acc acc;
		jst_carbon_acc_for_site(&acc, &run->site, s);
		int n = jst_store_replay(st, run, &acc);
		if (n <= 0) {
			fprintf(stderr, "joulestream reprocess: %s: no stored samples (%s); skipped\n", run->id,
			        n < 0 ? jst_store_errmsg(st) : "the run was not sampled");
			jst_ci_free(live);
			return -1;
		}
		jst_carbon_acc_result(&acc, &run->result);
	}
	jst_ci_free(live);
	last_unit(o, run);
	jst_run_sci(run, &run->result);
	struct jst_run_result res;
	jst_run_result_from_run(run, "reprocess", &res);
	if (jst_store_add_result(st, run->id, &res) < 0) {
		fprintf(stderr, "joulestream reprocess: %s: %s\n", run->id, jst_store_errmsg(st));
		return -1;
	}
	report(o, run, before, first);
	return 0;
}

/* A run's figures before reprocessing, for the audit row's from -> to. */
struct before {
	char data_version[160], zone[32];
	double co2e_g, water_l;
};

static void pair_str(struct jst_jbuf *b, const char *key, const char *from, const char *to)
{
	jst__jbuf_key(b, key);
	jst__jbuf_str(b, "{\"from\":");
	jst__jbuf_jstr(b, from);
	jst__jbuf_str(b, ",\"to\":");
	jst__jbuf_jstr(b, to);
	jst__jbuf_str(b, "}");
}

static void pair_num(struct jst_jbuf *b, const char *key, double from, double to)
{
	jst__jbuf_key(b, key);
	jst__jbuf_str(b, "{\"from\":");
	jst__jbuf_jnum(b, from);
	jst__jbuf_str(b, ",\"to\":");
	jst__jbuf_jnum(b, to);
	jst__jbuf_str(b, "}");
}

/* One run.reprocess row per run (joulestream/audit.h), by the local user. */
static void audit(struct jst_store *st, const char *id, const struct before *was, const struct jst_run *run, bool ok)
{
	struct jst_audit_entry e;
	struct jst_jbuf b;
	jst_audit_local(&e, "run.reprocess", id, ok ? "ok" : "error");
	jst__jbuf_fixed(&b, e.detail, sizeof(e.detail));
	jst__jbuf_str(&b, "{");
	if (ok) {
		pair_str(&b, "data_version", was->data_version, run->result.data_version);
		pair_str(&b, "zone", was->zone, run->site.zone_code);
		pair_num(&b, "co2e_g", was->co2e_g, run->result.footprint.co2e_g);
		pair_num(&b, "water_l", was->water_l, run->result.footprint.water_l);
	} else {
		jst__jbuf_key(&b, "error");
		jst__jbuf_jstr(&b, "not reprocessed (the reason was printed)");
	}
	jst__jbuf_str(&b, "}");
	if (b.full)
		jst__strlcpy(e.detail, "{}", sizeof(e.detail));
	if (jst_store_audit_add(st, &e) < 0)
		fprintf(stderr, "joulestream reprocess: warning: not written to the audit log: %s\n",
		        jst_store_errmsg(st));
}

struct ids {
	char (*v)[JST_RUN_ID_LEN + 1];
	size_t n, cap;
};

static int collect(const struct jst_run *run, void *ud)
{
	struct ids *ids = ud;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		char (*v)[JST_RUN_ID_LEN + 1] = realloc(ids->v, cap * sizeof(*v));
		if (!v)
			return 1;
		ids->v = v;
		ids->cap = cap;
	}
	jst__strlcpy(ids->v[ids->n++], run->id, JST_RUN_ID_LEN + 1);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'}, {"intensity", required_argument, 0, 'i'},
		{"data", required_argument, 0, 'D'}, {"zone", required_argument, 0, 'z'},
		{"config", required_argument, 0, 'c'}, {"functional-unit", required_argument, 0, 'u'},
		{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'i': o->intensity = optarg; break;
		case 'D': o->data = optarg; break;
		case 'z':
			o->zone = optarg;
			if (cli_nonempty("reprocess", "--zone", optarg))
				return 2;
			break;
		case 'c': o->config = optarg; break;
		case 'j': o->json = true; break;
		case 'u':
			if (cli_functional_unit(optarg, argc, argv, &optind, &o->fu_n, o->fu_unit,
			                        sizeof(o->fu_unit), "reprocess") < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o->intensity && o->data) {
		fprintf(stderr, "joulestream reprocess: give --intensity or --data, not both\n");
		return 2;
	}
	if (o->data && strcmp(o->data, "bundled") != 0 && strcmp(o->data, JST_DATA_VERSION) != 0) {
		fprintf(stderr, "joulestream reprocess: unknown data version '%s': this joulestream bundles "
		        "%s; for a series, pass --intensity FILE\n", o->data, JST_DATA_VERSION);
		return 2;
	}
	return -1;
}

/* The series file or live source, once for all runs. */
static int prepare(struct opts *o)
{
	char err[600];
	int rc = cli_load_config(o->config, &o->cfg, "reprocess");
	if (rc)
		return rc;
	if (o->intensity && cli_live_spec(o->intensity, o->provider, sizeof(o->provider), o->region,
	                                  sizeof(o->region))) {
		o->live = true;
	} else if (o->intensity && jst_ci_load(o->intensity, &o->file, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream reprocess: %s\n", err);
		return 2;
	}
	if (o->zone && !jst_grid_zone_find(o->zone)) {
		fprintf(stderr, "joulestream reprocess: unknown zone '%s' (see 'joulestream zones %s')\n",
		        o->zone, o->zone);
		return 2;
	}
	return 0;
}

int cli_reprocess(int argc, char **argv)
{
	struct opts o = {0};
	struct ids ids = {0};
	int rc = parse(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if ((rc = prepare(&o)) != 0) {
		jst_ci_free(o.file);
		return rc;
	}
	struct jst_store *st = cli_open_store(o.db, false, NULL, 0);
	struct jst_run *run = malloc(sizeof(*run));
	rc = 1;
	if (!st || !run)
		goto out;
	for (int i = optind; i < argc; i++) {
		if (jst_store_load(st, argv[i], run) < 0) {
			fprintf(stderr, "joulestream reprocess: %s\n", jst_store_errmsg(st));
			goto out;
		}
		collect(run, &ids);
	}
	if (optind == argc && jst_store_list(st, 0, collect, &ids) < 0) {
		fprintf(stderr, "joulestream reprocess: %s\n", jst_store_errmsg(st));
		goto out;
	}
	size_t ok = 0, failed = 0;
	if (o.json)
		printf("[");
	for (size_t i = 0; i < ids.n; i++) {
		struct before was = {"", "", 0, 0};
		bool done = jst_store_load(st, ids.v[i], run) == 0;
		if (done) {
			jst__strlcpy(was.data_version, run->result.data_version,
				     sizeof(was.data_version));
			jst__strlcpy(was.zone, run->site.zone_code, sizeof(was.zone));
			was.co2e_g = run->result.footprint.co2e_g;
			was.water_l = run->result.footprint.water_l;
			done = one(&o, st, run, ok == 0) == 0;
		}
		audit(st, ids.v[i], &was, run, done);
		if (done)
			ok++;
		else
			failed++;
	}
	if (o.json)
		printf("]\n");
	else
		fprintf(stderr, "joulestream reprocess: %zu run%s reprocessed%s", ok, ok == 1 ? "" : "s",
		        failed ? "" : "\n");
	if (!o.json && failed)
		fprintf(stderr, ", %zu not\n", failed);
	rc = failed || ids.n == 0 ? 1 : 0;
out:
	free(ids.v);
	free(run);
	jst_ci_free(o.file);
	jst_store_close(st);
	return rc;
}
