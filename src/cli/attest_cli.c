/* `joulestream show RUN --format attestation [--key FILE] [--subject NAME=sha256:HEX]`: the
 * run's in-toto statement in a DSSE envelope signed with the user's Ed25519 key. The subject
 * is the run (its record's content hash, recomputed now and compared with the sealed one) or
 * the model artefacts named; the predicate carries the figures, flags and provenance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trust_cli.h"
#include "joulestream/store.h"

static int load_key(const char *key, struct jst_key *k)
{
	char dir[4096], path[4200], err[600];
	if (!key) {
		if (jst_key_default_dir(dir, sizeof(dir)) < 0 ||
		    snprintf(path, sizeof(path), "%s/joulestream.key", dir) >= (int)sizeof(path)) {
			fprintf(stderr, "joulestream show: no signing key: pass --key FILE\n");
			return -1;
		}
		key = path;
	}
	if (jst_key_load(key, k, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream show: %s%s\n", err,
			key == path ? " (make one with: joulestream key create)" : "");
		return -1;
	}
	if (!k->has_secret) {
		fprintf(stderr,
			"joulestream show: %s is a public key: signing needs the private one\n",
			key);
		return -1;
	}
	return 0;
}

int cli_show_attestation(struct jst_store *s, struct jst_run *run, const char *key,
			 const struct jst_subject *subjects, size_t n)
{
	struct jst_key k;
	char now[65], sealed[65] = "", err[600];
	if (load_key(key, &k) < 0)
		return 1;
	if (jst_store_record_hash(s, run->id, now) < 0) {
		fprintf(stderr, "joulestream show: cannot hash run %s: %s\n", run->id,
			jst_store_errmsg(s));
		return 1;
	}
	bool is_sealed = jst_store_content_hash(s, run->id, sealed) == 0;
	if (is_sealed && strcmp(sealed, now) != 0) {
		fprintf(stderr,
			"joulestream show: run %s was edited after it was sealed: not signing "
			"(joulestream verify)\n",
			run->id);
		return 1;
	}
	if (!run->finished)
		fprintf(stderr, "joulestream show: warning: run %s is not finished\n", run->id);
	char head[65];
	jst_store_chain_head(s, head);
	char *statement = NULL, *env = NULL;
	int rc = 1;
	if (jst_attest_statement(run, now, is_sealed, head, subjects, n, &statement, err,
				 sizeof(err)) < 0 ||
	    jst_dsse_sign(JST_INTOTO_PAYLOAD_TYPE, (const unsigned char *)statement,
			  strlen(statement), &k, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream show: %s\n", err);
	} else {
		fputs(env, stdout);
		rc = 0;
	}
	free(statement);
	free(env);
	return rc;
}
