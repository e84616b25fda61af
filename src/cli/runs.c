/* `joulestream runs`: the stored runs, newest first, one line each (id, start, duration,
 * status, energy, CO2e, command). `--limit N`, `--db PATH`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/report.h"
#include "joulestream/store.h"

static int print_run(const struct jst_run *run, void *ud)
{
	(void)ud;
	char t[40], dur[32], e[32], g[32], status[24];
	jst_format_utc(run->start_ns, t, sizeof(t));
	jst_format_duration(run->duration_s, dur, sizeof(dur));
	jst_format_kwh(run->footprint.it_kwh, e, sizeof(e));
	/* the newest result kept (a reprocessing may have replaced the run-time figure) */
	const struct jst_run_result *res = run->nresults ? &run->results[0] : NULL;
	jst_format_grams(res ? res->co2e_g : run->footprint.co2e_g, g, sizeof(g));
	if (!run->finished)
		snprintf(status, sizeof(status), "running?");
	else
		snprintf(status, sizeof(status), "exit %d", run->exit_code);
	printf("%-26s  %-20s  %9s  %-8s  %11s%s  %10s %-6s  %.60s\n", run->id, t, dur, status, e,
	       run->estimated ? "*" : " ", g, res ? res->zone_code : run->zone_code, run->meta.command);
	return 0;
}

int cli_runs(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'}, {"limit", required_argument, 0, 'n'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *db = NULL;
	double limit = 50;
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
		case 'h':
			printf("usage: joulestream runs [--limit N (default 50, 0 = all)] [--db PATH]\n");
			return 0;
		default: return 2;
		}
	}
	struct jst_store *s = cli_open_store(db, false, NULL, 0);
	if (!s)
		return 1;
	printf("%-26s  %-20s  %9s  %-8s  %12s  %10s %-6s  %s\n", "run", "start (UTC)", "duration",
	       "status", "IT energy", "CO2e", "zone", "command");
	int n = jst_store_list(s, (size_t)limit, print_run, NULL);
	if (n < 0)
		fprintf(stderr, "joulestream runs: %s\n", jst_store_errmsg(s));
	else if (n == 0)
		printf("(no runs yet: joulestream run -- CMD)\n");
	else
		printf("(* estimate: no sensor measured some zones)\n");
	jst_store_close(s);
	return n < 0 ? 1 : 0;
}
