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
int cli_gpu(int argc, char **argv);
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

#include "joulestream/common.h"

struct jst_store;

/* Parses "10ms", "1s", "0.5", "2m", "1h", "250us" into nanoseconds. 0 or -EINVAL. */
int cli_parse_duration(const char *s, uint64_t *ns);
/* Parses a plain decimal number in [lo, hi]. */
int cli_parse_number(const char *s, double lo, double hi, double *out);
/* Opens --db PATH or the default database; prints the error and returns NULL on failure.
 * path_out (may be NULL) receives the path used. */
struct jst_store *cli_open_store(const char *db, bool create, char *path_out, size_t n);
/* --sysfs-root/--procfs-root as given: the folder that holds sys/ (proc/), or the mounted
 * folder itself when it is named sys (proc), as node_exporter's --path.sysfs and Kepler take
 * it (then its parent becomes the root). A folder holding neither, or a mount of another name,
 * is an error printed after who: -EINVAL. */
int cli_roots(struct jst_roots *r, const char *who);
/* 0 when arg (the value of option opt of command prog) is non-empty, else prints why an empty
 * one is refused (it would silently mean "none given": the world average for a zone) and
 * returns 2, the usage exit status. */
int cli_nonempty(const char *prog, const char *opt, const char *arg);
/* Checks a `joulestream run` command line (argv[0] "run") as `run` would parse it, without
 * running anything: 0 when good, else the exit status `run` would give (its message printed). */
int cli_run_check(int argc, char **argv);
/* Replaces a leading $HOME with ~ for printing. */
const char *cli_tilde(const char *path, char *buf, size_t n);

#endif
