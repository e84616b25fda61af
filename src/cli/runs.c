/* `joulestream runs`: the stored runs, newest first, one line each (id, start, duration,
 * status, energy, CO2e, command). `--limit N`, `--db PATH`; `--flagged`: only runs with
 * integrity flags, each followed by its flags and their reasons (docs/integrity.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/report.h"
#include "joulestream/store.h"
#include "joulestream/trust.h"

struct list_opts {
	bool flagged;         /* --flagged: only runs with integrity flags, with them */
	size_t limit, printed;
};

static int print_run(const struct jst_run *run, void *ud)
{
	struct list_opts *lo = ud;
	if (lo->flagged && run->nflags == 0)
		return 0;
	char t[40], dur[32], e[32], g[32], status[24];
	jst_format_utc(run->start_ns, t, sizeof(t));
	jst_format_duration(run->duration_s, dur, sizeof(dur));
	jst_format_kwh(run->result.footprint.it_kwh, e, sizeof(e));
	/* the newest result kept (a reprocessing may have replaced the run-time figure) */
	const struct jst_run_result *res = run->nresults ? &run->results[0] : NULL;
	jst_format_grams(res ? res->footprint.co2e_g : run->result.footprint.co2e_g, g, sizeof(g));
	if (!run->finished)
		snprintf(status, sizeof(status), "running?");
	else
		snprintf(status, sizeof(status), "exit %d", run->exit_code);
	printf("%-26s  %-20s  %9s  %-8s  %11s%s  %10s %-6s  %.60s\n", run->id, t, dur, status, e,
	       run->estimated ? "*" : " ", g, res ? res->zone_code : run->site.zone_code,
	       run->meta.command);
	for (size_t i = 0; lo->flagged && i < run->nflags; i++)
		printf("    flag %s%s%s: %s\n", jst_flag_name(run->flags[i].kind),
		       run->flags[i].zone[0] ? " " : "", run->flags[i].zone, run->flags[i].reason);
	lo->printed++;
	return lo->limit && lo->printed >= lo->limit;
}

int cli_runs(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'}, {"limit", required_argument, 0, 'n'},
		{"flagged", no_argument, 0, 'F'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *db = NULL;
	double limit = 50;
	struct list_opts lo_ = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hn:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'n':
			if (cli_parse_number(optarg, 0, 1e9, &limit) < 0) {
				fprintf(stderr, "joulestream runs: bad --limit '%s'\n", optarg);
				return 2;
			}
			break;
		case 'F': lo_.flagged = true; break;
		case 'h':
			printf("usage: joulestream runs [--limit N (default 50, 0 = all)] [--flagged] [--db PATH]\n"
			       "  --flagged   only runs with integrity flags, each with its flags and why\n");
			return 0;
		default: return 2;
		}
	}
	struct jst_store *s = cli_open_store(db, false, NULL, 0);
	if (!s)
		return 1;
	printf("%-26s  %-20s  %9s  %-8s  %12s  %10s %-6s  %s\n", "run", "start (UTC)", "duration",
	       "status", "IT energy", "CO2e", "zone", "command");
	lo_.limit = (size_t)limit;
	int n = jst_store_list(s, lo_.flagged ? 0 : (size_t)limit, print_run, &lo_);
	if (n < 0)
		fprintf(stderr, "joulestream runs: %s\n", jst_store_errmsg(s));
	else if (n == 0)
		printf("(no runs yet: joulestream run -- CMD)\n");
	else if (lo_.flagged && lo_.printed == 0)
		printf("(no flagged run among %d)\n", n);
	else
		printf("(* estimate: no sensor measured some zones)\n");
	jst_store_close(s);
	return n < 0 ? 1 : 0;
}
