/* Trust pieces of other subcommands (docs/integrity.md): the signed attestation of `show
 * --format attestation` (attest_cli.c). */
#ifndef JST_CLI_TRUST_CLI_H
#define JST_CLI_TRUST_CLI_H

#include <stddef.h>

#include "joulestream/trust.h"

struct jst_store;

/* Prints the DSSE envelope of run's in-toto statement, signed with key (NULL: the default
 * private key). Returns the exit status. */
int cli_show_attestation(struct jst_store *s, struct jst_run *run, const char *key,
			 const struct jst_subject *subjects, size_t n);

#endif
