/* `joulestream verify [--db PATH]`: recomputes the event chain and names every event of the
 * log (every run's record) edited, inserted or deleted after it was chained, walks the archived
 * record chain of an upgraded store and the audit log (exit 1 when a chain is broken).
 * `joulestream verify FILE [--pub KEYFILE] [--db PATH]`: checks a signed attestation (`show
 * --format attestation`): the DSSE signature, the statement's shape and, when its run is in
 * the local store, that the record and figures it states are the store's. docs/integrity.md. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/audit.h"
#include "joulestream/ingest.h"
#include "joulestream/store.h"
#include "joulestream/trust.h"
#include "joulestream/units.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: joulestream verify [--db PATH]\n"
		"       joulestream verify FILE [--pub KEYFILE] [--db PATH]\n"
		"Without FILE: recomputes the event chain over the store's event log (every run's\n"
		"events): an edited, inserted or deleted event is named by its id and seq; exits 1\n"
		"when a chain is broken.\n"
		"With FILE: checks a signed attestation (joulestream show RUN --format attestation):\n"
		"its signature with KEYFILE (default: the public key of 'joulestream key create'),\n"
		"and, when its run is in the store (--db: SQLite or PostgreSQL), that the run's event\n"
		"digest and figures are the statement's.\n"
		"Without FILE it also walks the store's audit log chain (docs/audit.md): an edited,\n"
		"inserted or deleted audit row is named; run deletions made through the API are\n"
		"recorded rows, counted, not breaks. A SQLite store upgraded from a release before\n"
		"issue 11 keeps that release's record chain as an archive: walked, and its head\n"
		"compared with the one the upgrade recorded.\n");
}

static void finding(void *ud, bool problem, const char *run_id, long long seq, const char *what)
{
	(void)ud;
	(void)run_id;
	(void)seq;
	printf("%s: %s\n", problem ? "BROKEN" : "warning", what);
}

static void audit_finding(void *ud, int64_t id, const char *what)
{
	(void)ud;
	(void)id;
	printf("BROKEN: %s\n", what);
}

/* The record chain that SQLite stores kept before issue 11, an archive since their runs became
 * events; 0 read (problems added), 1 not kept by this store, -1 failed. */
static int verify_records(struct jst_store *s, const char *path, size_t *problems)
{
	struct jst_chain_report rep;
	int r = jst_store_verify(s, finding, NULL, &rep);
	if (r == -ENOTSUP)
		return 1;
	if (r < 0) {
		fprintf(stderr, "joulestream verify: %s\n", jst_store_errmsg(s));
		return -1;
	}
	char tilde[1100], when[40];
	if (rep.migrated_ns) {
		jst_format_utc(rep.migrated_ns, when, sizeof(when));
		printf("%s: record chain of the earlier release: %zu entr%s, head sha256:%s; %zu run%s"
		       " turned into events on %s (head recorded then: sha256:%s)\n",
		       cli_tilde(path, tilde, sizeof(tilde)), rep.entries, rep.entries == 1 ? "y" : "ies",
		       rep.head[0] ? rep.head : "(none)", rep.migrated, rep.migrated == 1 ? "" : "s", when,
		       rep.recorded[0] ? rep.recorded : "(none)");
	} else if (rep.entries) {
		printf("%s: record chain: %zu entr%s, head sha256:%s\n", cli_tilde(path, tilde, sizeof(tilde)),
		       rep.entries, rep.entries == 1 ? "y" : "ies", rep.head);
	}
	if (rep.problems)
		printf("verify: the record chain is BROKEN: %zu problem%s\n", rep.problems,
		       rep.problems == 1 ? "" : "s");
	*problems += rep.problems;
	return 0;
}

static void event_finding(void *ud, int64_t seq, const char *id, const char *what)
{
	(void)ud;
	(void)seq;
	(void)id;
	printf("BROKEN: %s\n", what);
}

/* The event chain over the event log of serve (docs/integrity.md); same return values. */
static int verify_events(struct jst_store *s, size_t *problems)
{
	struct jst_events_report er;
	int r = jst_store_events_verify(s, event_finding, NULL, &er);
	if (r == -ENOTSUP) {
		printf("event log: not kept by this store\n");
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "joulestream verify: the event log: %s\n", jst_store_errmsg(s));
		return -1;
	}
	printf("event log: %zu event%s, %zu chain entr%s", er.events, er.events == 1 ? "" : "s",
	       er.entries, er.entries == 1 ? "y" : "ies");
	if (er.migrated)
		printf(", %zu event%s chained when the chain was added (stored before it)",
		       er.migrated, er.migrated == 1 ? "" : "s");
	printf("\n");
	if (er.head[0])
		printf("event chain head: sha256:%s\n", er.head);
	if (er.problems)
		printf("verify: the event log is BROKEN: %zu problem%s\n", er.problems,
		       er.problems == 1 ? "" : "s");
	*problems += er.problems;
	return 0;
}

/* The audit log's hash chain (docs/audit.md); same return values. */
static int verify_audit(struct jst_store *s, size_t *problems)
{
	struct jst_audit_report ar;
	int r = jst_store_audit_verify(s, audit_finding, NULL, &ar);
	if (r == -ENOTSUP) {
		printf("audit log: not kept by this store\n");
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "joulestream verify: the audit log: %s\n", jst_store_errmsg(s));
		return -1;
	}
	printf("audit log: %zu row%s, %zu recorded run deletion%s (deleted through the API, not tampering)\n",
	       ar.rows, ar.rows == 1 ? "" : "s", ar.deletions, ar.deletions == 1 ? "" : "s");
	if (ar.head[0])
		printf("audit head: sha256:%s\n", ar.head);
	if (ar.problems)
		printf("verify: the audit log is BROKEN: %zu problem%s\n", ar.problems,
		       ar.problems == 1 ? "" : "s");
	*problems += ar.problems;
	return 0;
}

static int verify_store(const char *db)
{
	char path[1024];
	struct jst_store *s = cli_open_store(db, false, path, sizeof(path));
	if (!s)
		return 2;
	size_t problems = 0;
	int a = verify_records(s, path, &problems);
	int e = a < 0 ? -1 : verify_events(s, &problems);
	int b = e < 0 ? -1 : verify_audit(s, &problems);
	jst_store_close(s);
	if (a < 0 || b < 0 || e < 0)
		return 2;
	if (a == 1 && b == 1 && e == 1) {
		fprintf(stderr,
			"joulestream verify: this store keeps no record chain, event chain or audit log\n");
		return 2;
	}
	if (!problems)
		printf("verify: ok\n");
	return problems ? 1 : 0;
}

/* The whole file, at most JST_ENVELOPE_MAX bytes, NUL-terminated. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "joulestream verify: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(JST_ENVELOPE_MAX + 1);
	*n = buf ? fread(buf, 1, JST_ENVELOPE_MAX + 1, f) : 0;
	bool bad = !buf || ferror(f) || *n > JST_ENVELOPE_MAX;
	fclose(f);
	if (bad) {
		fprintf(stderr, "joulestream verify: cannot read %s (or larger than 16 MiB)\n",
			path);
		free(buf);
		return NULL;
	}
	buf[*n] = '\0';
	return buf;
}

static int load_pub(const char *pub, struct jst_key *k)
{
	char path[4200], dir[4096], err[600];
	if (!pub) {
		if (jst_key_default_dir(dir, sizeof(dir)) < 0 ||
		    snprintf(path, sizeof(path), "%s/joulestream.pub", dir) >= (int)sizeof(path)) {
			fprintf(stderr, "joulestream verify: no public key: pass --pub KEYFILE\n");
			return -1;
		}
		pub = path;
	}
	if (jst_key_load(pub, k, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream verify: %s%s\n", err,
			pub == path ? " (pass --pub KEYFILE)" : "");
		return -1;
	}
	return 0;
}

/* Figures travel as JSON numbers (cJSON prints 15 significant digits when they read back within
 * a rounding error): equal within 1e-12 relative. The record hash is the exact check. */
static bool same(double a, double b)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
	return fabs(a - b) <= 1e-12 * m;
}

/* The statement against the local store's record of its run; 0 same, 1 differs, -1 not there. */
static int against_store(const char *db, const struct jst_attest_info *info)
{
	char path[1024];
	struct stat sb;
	if (!db && (jst_store_default_path(path, sizeof(path), false) < 0 || stat(path, &sb) < 0)) {
		printf("content: no local store: signature and statement checked, events not compared\n");
		return -1;
	}
	struct jst_store *s = cli_open_store(db, false, NULL, 0);
	struct jst_run *run = malloc(sizeof(*run));
	int rc = -1;
	char now[65];
	if (!s || !run || jst_store_load(s, info->run_id, run) < 0 ||
	    strcmp(run->id, info->run_id) != 0) {
		printf("content: run %s is not in the store: its events not compared\n",
		       info->run_id);
		goto out;
	}
	rc = 1;
	if (jst_store_event_digest(s, run->id, now) < 0 || strcmp(now, info->content_hash) != 0) {
		printf("content: DIFFERS: the events of run %s in the store digest to sha256:%s, the "
		       "statement says sha256:%s\n",
		       run->id, now, info->content_hash);
		goto out;
	}
	if (!same(run->run_j, info->energy_j) || !same(run->host_j, info->host_energy_j)) {
		printf("content: DIFFERS: energy %.17g J (host %.17g J) in the store, %.17g J (host %.17g J) "
		       "stated\n",
		       run->run_j, run->host_j, info->energy_j, info->host_energy_j);
		goto out;
	}
	const struct jst_run_result *res = NULL;
	for (size_t i = 0; i < run->nresults && !res; i++)
		if (strcmp(run->results[i].data_version, info->data_version) == 0)
			res = &run->results[i];
	if (res && !same(res->footprint.co2e_g, info->co2e_g)) {
		printf("content: DIFFERS: %.17g gCO2e with data %s in the store, %.17g stated\n",
		       res->footprint.co2e_g, info->data_version, info->co2e_g);
		goto out;
	}
	printf("content: matches the store (events sha256:%s, energy%s)\n", now,
	       res ? " and carbon" : "; carbon data version not in the store");
	rc = 0;
out:
	free(run);
	jst_store_close(s);
	return rc;
}

static int verify_file(const char *file, const char *pub, const char *db)
{
	size_t n;
	char err[600];
	struct jst_key k;
	struct jst_dsse env;
	struct jst_attest_info info;
	char *text = slurp(file, &n);
	if (!text)
		return 2;
	if (jst_dsse_parse(text, n, &env, err, sizeof(err)) < 0) {
		printf("%s: %s\n", file, err);
		free(text);
		return 1;
	}
	free(text);
	int rc = 1;
	size_t which = 0;
	if (load_pub(pub, &k) < 0) {
		rc = 2;
	} else if (strcmp(env.payload_type, JST_INTOTO_PAYLOAD_TYPE) != 0) {
		printf("%s: payloadType is '%s', not %s\n", file, env.payload_type,
		       JST_INTOTO_PAYLOAD_TYPE);
	} else if (jst_dsse_verify(&env, &k, &which) < 0) {
		printf("signature: BAD: no signature verifies with key %.16s…\n", k.keyid);
	} else if (jst_attest_parse((const char *)env.payload, env.payload_n, &info, err,
				    sizeof(err)) < 0) {
		printf("signature: good (key %.16s…)\nstatement: BAD: %s\n", k.keyid, err);
	} else {
		printf("signature: good (key %.16s…)\n", k.keyid);
		printf("statement: run %s, events sha256:%s, %zu integrity flag%s\n", info.run_id,
		       info.content_hash, info.nflags, info.nflags == 1 ? "" : "s");
		for (size_t i = 0; i < info.nsubjects; i++)
			printf("subject: %s sha256:%s\n", info.subjects[i].name,
			       info.subjects[i].sha256);
		rc = against_store(db, &info) > 0 ? 1 : 0;
	}
	printf("verify: %s\n", rc == 0 ? "ok" : "FAILED");
	jst_dsse_release(&env);
	return rc;
}

int cli_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'},
		{"pub", required_argument, 0, 'p'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *db = NULL, *pub = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'p': pub = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc)
		return pub ? (usage(stderr), 2) : verify_store(db);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	return verify_file(argv[optind], pub, db);
}
