/* `joulestream calibrate [--duration 60s] [--load cpu|gpu|both|none] ...`: measures this host's
 * idle power per zone (keep it otherwise idle meanwhile), runs the reference workload, prints
 * the figures and the verdict, and stores them for the host, so that reports split a run's
 * energy into dynamic energy and idle floor. Exit 0, or 1 when a sensor failed the check. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "joulestream/report.h"
#include "joulestream/store.h"
#include "joulestream/trust.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: joulestream calibrate [--duration DUR] [--load cpu|gpu|both|none]\n"
		"                             [--load-duration DUR] [--threads N] [--interval DUR]\n"
		"                             [--db PATH] [--sensors LIST] [--no-estimate]\n"
		"                             [--sysfs-root DIR] [--procfs-root DIR]\n"
		"Measures this host's idle power per zone over --duration (default 60s; keep the\n"
		"host idle), then runs a reference workload: --load cpu (default) spins --threads\n"
		"(default: one per CPU) for --load-duration (default 10s) and checks that each CPU\n"
		"package's power rises at least x%.1f; a GPU load needs a CUDA build and is skipped.\n"
		"Stores the result for this host: reports then show dynamic energy and idle floor.\n",
		JST_CALIB_LOAD_FACTOR);
}

static void progress(void *ud, const char *phase, double done, double total)
{
	bool tty = *(bool *)ud;
	fprintf(stderr, "%scalibrate: %s %.0f/%.0f s%s", tty ? "\r" : "", phase, done, total,
		tty ? "   " : "\n");
	if (tty && done >= total)
		fputc('\n', stderr);
}

static int parse_dur(const char *what, const char *v, double *out)
{
	uint64_t ns;
	if (cli_parse_duration(v, &ns) < 0 || ns == 0) {
		fprintf(stderr, "joulestream calibrate: bad %s '%s' (10s, 2m, 500ms)\n", what, v);
		return -1;
	}
	*out = (double)ns / 1e9;
	return 0;
}

static void print(const struct jst_calibration *c)
{
	char t[40];
	jst_format_utc(c->calibrated_ns, t, sizeof(t));
	printf("host %s, calibrated %s over %.0f s (sensors: %s)\n", c->host, t, c->duration_s,
	       c->sensors);
	printf("  %-16s %-9s %10s %10s %8s\n", "zone", "source", "idle W", "load W", "ratio");
	for (size_t i = 0; i < c->nzones; i++) {
		const struct jst_calib_zone *z = &c->zones[i];
		printf("  %-16s %-9s %10.2f %10.2f %8.2f%s%s\n", z->zone, z->source, z->idle_w,
		       z->load_w, z->ratio, z->estimate ? "  estimate" : "",
		       z->samples ? "" : "  (no valid reading)");
	}
	printf("  reference: %s\n  %s\n", c->result,
	       c->ref_ok ? "sensors respond as expected" :
			   "WARNING: the reference check did not pass");
}

int cli_calibrate(int argc, char **argv)
{
	static const struct option lo[] = {
		{"duration", required_argument, 0, 'D'},
		{"load", required_argument, 0, 'L'},
		{"load-duration", required_argument, 0, 'T'},
		{"threads", required_argument, 0, 'n'},
		{"interval", required_argument, 0, 'i'},
		{"db", required_argument, 0, 'd'},
		{"sensors", required_argument, 0, 's'},
		{"no-estimate", no_argument, 0, 'E'},
		{"sysfs-root", required_argument, 0, 'S'},
		{"procfs-root", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	bool tty = isatty(2);
	struct jst_calib_opts o = {.progress = progress, .ud = &tty};
	const char *db = NULL;
	double threads = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'D': bad = parse_dur("--duration", optarg, &o.duration_s); break;
		case 'T': bad = parse_dur("--load-duration", optarg, &o.load_s); break;
		case 'i': bad = parse_dur("--interval", optarg, &o.interval_s); break;
		case 'L': o.load = optarg; break;
		case 'n':
			bad = cli_parse_number(optarg, 1, 256, &threads);
			if (bad)
				fprintf(stderr,
					"joulestream calibrate: bad --threads '%s' (1 to 256)\n",
					optarg);
			o.threads = (unsigned)threads;
			break;
		case 'd': db = optarg; break;
		case 's': o.sensors = optarg; break;
		case 'E': o.no_estimate = true; break;
		case 'S': o.roots.sysfs = optarg; break;
		case 'P': o.roots.procfs = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cli_roots(&o.roots, "joulestream calibrate") < 0)
		return 2;
	struct jst_calibration *cal = malloc(sizeof(*cal));
	char err[600];
	int rc = 1;
	struct jst_store *s = cli_open_store(db, true, NULL, 0);
	if (!s || !cal)
		goto out;
	if (!jst_store_can_calibrate(s) && jst_store_trust_check(s, "calibrate") < 0) { /* before measuring */
		fprintf(stderr, "joulestream calibrate: %s\n", jst_store_errmsg(s));
		rc = 2;
		goto out;
	}
	if (jst_calibrate(&o, cal, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream calibrate: %s\n", err);
		rc = 2;
		goto out;
	}
	print(cal);
	if (jst_store_add_calibration(s, cal) < 0) {
		fprintf(stderr, "joulestream calibrate: %s\n", jst_store_errmsg(s));
		goto out;
	}
	printf("  stored for host %s: runs on it now show their dynamic energy and idle floor\n",
	       cal->host);
	rc = cal->ref_ok || strcmp(cal->load, "none") == 0 || strcmp(cal->load, "gpu") == 0 ? 0 : 1;
out:
	free(cal);
	jst_store_close(s);
	return rc;
}
