/* The subcommands of the joulestream program, one file each in src/cli/. Each takes the
 * arguments after "joulestream" (argv[0] is the subcommand's name) and returns the exit status. */
#ifndef JST_CLI_CLI_H
#define JST_CLI_CLI_H

struct cli_command {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

int cli_run(int argc, char **argv);
int cli_sensors(int argc, char **argv);
int cli_runs(int argc, char **argv);
int cli_show(int argc, char **argv);
int cli_zones(int argc, char **argv);

#endif
