/* placeholder: `joulestream zones` is being written */
#include "cli/cli.h"
int cli_zones(int argc, char **argv) { (void)argc; (void)argv; return 1; }
