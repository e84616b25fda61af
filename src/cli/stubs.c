#include <stdio.h>
#include "cli/cli.h"
int cli_run(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cli_sensors(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cli_runs(int argc, char **argv) { (void)argc; (void)argv; return 1; }
int cli_show(int argc, char **argv) { (void)argc; (void)argv; return 1; }
