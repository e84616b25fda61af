/* joulestream: the command-line program. main() picks the subcommand and hands over to its
 * file in src/cli/; everything that measures, stores or computes lives in libjoulestream. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "joulestream/common.h"

static const struct cli_command commands[] = {
	{"run", "measure a command: joulestream run [OPTIONS] -- CMD [ARGS...]", cli_run},
	{"gpu", "GPU power limits: gpu profile -- CMD (the table of --gpu-power-limit), gpu restore",
	 cli_gpu},
	{"sensors", "list the energy sensors, what each found and why any is unavailable",
	 cli_sensors},
	{"runs", "list the stored runs", cli_runs},
	{"show", "a stored run's report: show RUN [--format text|json|html|csv|model-card|boamps]",
	 cli_show},
	{"zones", "search grid zones and their carbon and water figures", cli_zones},
	{"intensity", "the carbon intensity of a zone at a time, and its source", cli_intensity},
	{"diff", "what differs between two stored runs: inputs, config and data digests, figures",
	 cli_diff},
	{"reprocess", "recompute stored runs' carbon and water with other data (the replay)",
	 cli_reprocess},
	{"sites", "rank the configured sites by carbon and water, with scheduler hints: sites rank",
	 cli_sites},
	{"when", "the cleanest time to start a job in a forecast, and --exec to run it then",
	 cli_when},
	{"serve", "ingest events and answer the query API: serve [--listen ADDR:PORT] [--db PATH]",
	 cli_serve},
	{"replay", "rebuild every aggregate of the event log from the raw events", cli_replay},
	{"token", "API tokens for serve: token create|list|revoke", cli_token},
	{"agent", "measure this host continuously: /metrics, events to --sink", cli_agent},
	{"verify", "check the store's record chain, or a signed attestation: verify [FILE]",
	 cli_verify},
	{"calibrate", "measure this host's idle power per zone and check its sensors under load",
	 cli_calibrate},
	{"key", "the Ed25519 key that signs attestations: key create [--out DIR]", cli_key},
	{"audit", "who did what to the store: ingests, deletions, reprocessing, tokens", cli_audit},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->help);
	fprintf(f, "\n'joulestream COMMAND --help' for a command's options; --version for the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("joulestream %s\n", jst_version());
		return 0;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (strcmp(argv[1], c->name) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "joulestream: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
