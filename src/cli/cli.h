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
int cli_reprocess(int argc, char **argv);
int cli_diff(int argc, char **argv);
int cli_intensity(int argc, char **argv);
int cli_sites(int argc, char **argv);
int cli_when(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_replay(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_agent(int argc, char **argv);
int cli_verify(int argc, char **argv);    /* trust (docs/integrity.md): verify.c */
int cli_key(int argc, char **argv);       /* key.c */
int cli_calibrate(int argc, char **argv); /* calibrate.c */
int cli_audit(int argc, char **argv);     /* the audit log (docs/audit.md): audit.c */

/* Shared by the subcommands (common.c). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jst_store;

/* Parses "10ms", "1s", "0.5", "2m", "1h", "250us" into nanoseconds. 0 or -EINVAL. */
int cli_parse_duration(const char *s, uint64_t *ns);
/* Parses a plain decimal number in [lo, hi]. */
int cli_parse_number(const char *s, double lo, double hi, double *out);
/* Opens --db PATH or the default database; prints the error and returns NULL on failure.
 * path_out (may be NULL) receives the path used. */
struct jst_store *cli_open_store(const char *db, bool create, char *path_out, size_t n);
/* Replaces a leading $HOME with ~ for printing. */
const char *cli_tilde(const char *path, char *buf, size_t n);

#endif
