/* `joulestream show RUN --format attestation [--key FILE] [--subject NAME=sha256:HEX]`: the
 * run's in-toto statement in a DSSE envelope signed with the user's Ed25519 key. The subject
 * is the run (its event digest: sha256 over its events in log order, computed by the store's
 * engine, so the same on SQLite and PostgreSQL) or the model artefacts named; the predicate
 * carries the figures, flags, provenance and the event chain's head. */
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
	char now[65], err[600], head[65];
	if (load_key(key, &k) < 0)
		return 1;
	if (jst_store_event_digest(s, run->id, now) < 0) {
		fprintf(stderr, "joulestream show: cannot digest the events of run %s: %s\n", run->id,
			jst_store_errmsg(s));
		return 1;
	}
	if (strcmp(now, run->prov.content_hash) !=
	    0) { /* the log changed between the view and now */
		fprintf(stderr, "joulestream show: run %s changed while it was read: try again\n", run->id);
		return 1;
	}
	if (!run->finished)
		fprintf(stderr, "joulestream show: warning: run %s is not finished\n", run->id);
	jst_store_chain_head(s, head);
	char *statement = NULL, *env = NULL;
	int rc = 1;
	if (jst_attest_statement(run, now, run->finished, head, subjects, n, &statement, err,
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
