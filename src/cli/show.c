/* `joulestream show RUN [--format text|json|csv]`: a stored run's report again. RUN is an id,
 * a unique prefix of one, or "last". The JSON timeline is rebuilt from the stored samples. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "joulestream/report.h"
#include "joulestream/store.h"

int cli_show(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'}, {"format", required_argument, 0, 'f'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *db = NULL, *format = "text";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hf:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': format = optarg; break;
		case 'h':
			printf("usage: joulestream show RUN|last [--format text|json|csv] [--db PATH]\n");
			return 0;
		default: return 2;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv")) {
		fprintf(stderr, "joulestream show: unknown --format '%s' (text, json or csv)\n", format);
		return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: joulestream show RUN|last [--format text|json|csv] [--db PATH]\n");
		return 2;
	}
	char path[1024];
	struct jst_store *s = cli_open_store(db, false, path, sizeof(path));
	if (!s)
		return 1;
	struct jst_run *run = malloc(sizeof(*run));
	int rc = 1;
	if (!run)
		goto out;
	int r = jst_store_load(s, argv[optind], run);
	if (r < 0) {
		fprintf(stderr, "joulestream show: %s\n", jst_store_errmsg(s));
		goto out;
	}
	rc = 0;
	if (strcmp(format, "text") == 0) {
		char tilde[1100];
		jst_report_text(stdout, run, cli_tilde(path, tilde, sizeof(tilde)));
	} else if (strcmp(format, "csv") == 0) {
		jst_report_csv_header(stdout);
		jst_report_csv_row(stdout, run);
	} else {
		struct jst_timeline tl;
		if (jst_timeline_init(&tl, run->nzones) < 0 || jst_store_timeline(s, run, &tl) < 0) {
			fprintf(stderr, "joulestream show: cannot read the samples: %s\n", jst_store_errmsg(s));
			rc = 1;
		}
		jst_report_json(stdout, run, &tl);
		jst_timeline_release(&tl);
	}
out:
	free(run);
	jst_store_close(s);
	return rc;
}
