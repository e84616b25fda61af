/* `joulestream show RUN [--format text|json|html|csv|model-card|boamps] [--data VERSION]`: a stored
 * run's report again. RUN is an id, a unique prefix of one, or "last". The JSON and HTML timeline is
 * rebuilt from the stored samples. Carbon and water are the newest result kept for the run
 * (reprocessing adds results), or the one of --data VERSION; reports name the version. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/carbon_cli.h"
#include "cli/cli.h"
#include "cli/trust_cli.h"
#include "joulestream/gpupower.h"
#include "joulestream/report.h"
#include "joulestream/store.h"
#include "joulestream/train.h"

int cli_show(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'}, {"format", required_argument, 0, 'f'},
		{"data", required_argument, 0, 'D'}, {"zone", required_argument, 0, 'z'},
		{"training-type", required_argument, 0, 'T'},
		{"key", required_argument, 0, 'K'}, {"subject", required_argument, 0, 'S'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	const char *db = NULL, *format = "text", *data = NULL, *training = NULL, *key = NULL;
	const char *zone = NULL;
	struct jst_subject subjects[8]; /* --subject: attested artefacts (attest_cli.c) */
	size_t nsubjects = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hf:", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'f': format = optarg; break;
		case 'D': data = optarg; break;
		case 'z':
			zone = optarg;
			if (cli_nonempty("show", "--zone", optarg))
				return 2;
			break;
		case 'T': training = optarg; break;
		case 'K': key = optarg; break;
		case 'S':
			if (nsubjects == 8 || jst_subject_parse(optarg, &subjects[nsubjects++]) < 0) {
				fprintf(stderr, "joulestream show: bad --subject '%s': NAME=sha256:HEX (64 hex), "
				        "at most 8\n", optarg);
				return 2;
			}
			break;
		case 'h':
			cli_show_usage(stdout);
			return 0;
		default: return 2;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html") && strcmp(format, "csv") &&
	    strcmp(format, "model-card") && strcmp(format, "boamps") && strcmp(format, "attestation")) {
		fprintf(stderr, "joulestream show: unknown --format '%s' (text, json, html, csv, model-card, "
		        "boamps or attestation)\n", format);
		return 2;
	}
	if (training && strcmp(training, "pre-training") && strcmp(training, "fine-tuning")) {
		fprintf(stderr, "joulestream show: --training-type is pre-training or fine-tuning\n");
		return 2;
	}
	if (optind != argc - 1) {
		cli_show_usage(stderr);
		return 2;
	}
	char path[1024];
	struct jst_store *s = cli_open_store(db, false, path, sizeof(path));
	if (!s)
		return 1;
	struct jst_run *run = malloc(sizeof(*run));
	struct jst_train *train = NULL;
	struct jst_gpu_power *gpu = NULL;
	int rc = 1;
	if (!run)
		goto out;
	int r = jst_store_load(s, argv[optind], run);
	if (r < 0) {
		fprintf(stderr, "joulestream show: %s\n", jst_store_errmsg(s));
		goto out;
	}
	if ((rc = cli_pick_result(run, data, zone)) != 0)
		goto out;
	train = jst_train_new(); /* phases, epochs, metrics: when the run marked them */
	if (train && jst_store_load_train(s, run, train) == 0)
		run->train = train;
	gpu = malloc(sizeof(*gpu)); /* GPU power limits: when the run managed them */
	if (gpu && jst_store_load_gpu_power(s, run, gpu) == 0)
		run->gpu_power = gpu;
	if (strcmp(format, "text") == 0) {
		char tilde[1100];
		jst_report_text(stdout, run, cli_tilde(path, tilde, sizeof(tilde)));
	} else if (strcmp(format, "attestation") == 0) {
		rc = cli_show_attestation(s, run, key, subjects, nsubjects);
	} else if (strcmp(format, "model-card") == 0) {
		jst_report_model_card(stdout, run, training);
	} else if (strcmp(format, "boamps") == 0) {
		jst_report_boamps(stdout, run, training && strcmp(training, "fine-tuning") == 0
		                                   ? "finetuning" : "training");
	} else if (strcmp(format, "csv") == 0) {
		jst_report_csv_header(stdout);
		jst_report_csv_row(stdout, run);
	} else {
		struct jst_timeline tl;
		if (jst_timeline_init(&tl, run->nzones) < 0 || jst_store_timeline(s, run, &tl) < 0) {
			fprintf(stderr, "joulestream show: cannot read the samples: %s\n", jst_store_errmsg(s));
			rc = 1;
		}
		if (strcmp(format, "html") == 0)
			jst_report_html(stdout, run, &tl);
		else
			jst_report_json(stdout, run, &tl);
		jst_timeline_release(&tl);
	}
out:
	free(train);
	free(gpu);
	free(run);
	jst_store_close(s);
	return rc;
}
