/* `joulestream audit [--db PATH|--store URI] [--since T] [--until T] [--action A] [--actor X]
 * [--limit N] [--json]`: the store's audit log read locally, newest first (docs/audit.md).
 * T is ISO 8601 with a zone or a duration back from now (90s, 2h). The chain is checked by
 * `joulestream verify`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/isotime.h"
#include "core/jsonw.h"
#include "core/util.h"
#include "joulestream/audit.h"
#include "joulestream/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: joulestream audit [--db PATH|--store postgresql://…] [--since T] [--until T]\n"
		"                         [--action A] [--actor X] [--limit N] [--json]\n"
		"The store's audit log, newest first: who ingested, deleted, reprocessed, rebuilt or\n"
		"changed tokens, and refused attempts. T: ISO 8601 with a zone, or a duration back from\n"
		"now (90s, 2h). --action token. matches every token.* action. --limit: 1 to 1000\n"
		"(default 50). 'joulestream verify' checks the log's hash chain.\n");
}

static int time_opt(const char *v, uint64_t *ns)
{
	int64_t t;
	uint64_t back;
	const char *why = NULL;
	if (jst__parse_iso8601(v, strlen(v), &t, &why) == 0 && t >= 0) {
		*ns = (uint64_t)t;
		return 0;
	}
	uint64_t now = jst__wall_ns();
	if (cli_parse_duration(v, &back) == 0 && back < now) {
		*ns = now - back;
		return 0;
	}
	fprintf(stderr,
		"joulestream audit: bad time '%s': give ISO 8601 with a zone (2026-03-01T12:00:00Z) or "
		"a duration back from now (90s, 2h)\n",
		v);
	return -1;
}

static int print_row(const struct jst_audit_entry *e, void *ud)
{
	bool json = *(bool *)ud;
	char iso[40];
	jst__format_iso8601((int64_t)e->ts_ns, iso, sizeof(iso));
	if (json) {
		const char *k[] = {"actor",   "role",   "user",   "action",
				   "outcome", "object", "client", "hash"};
		const char *v[] = {e->actor,   e->role,   e->user,   e->action,
				   e->outcome, e->object, e->client, e->hash};
		printf("{\"id\":%lld,\"time\":\"%s\"", (long long)e->id, iso);
		for (size_t i = 0; i < JST_ARRAY_LEN(k); i++) {
			printf(",\"%s\":", k[i]);
			jst__json_string(stdout, v[i]);
		}
		printf(",\"detail\":%s}\n", e->detail[0] == '{' ? e->detail : "{}");
		return 0;
	}
	printf("%-5lld %-24s %-18s %-7s %-18s %-7s %-15s %s %s\n", (long long)e->id, iso, e->actor,
	       e->role[0] ? e->role : "-", e->action, e->outcome, e->client[0] ? e->client : "-",
	       e->object, e->detail);
	return 0;
}

int cli_audit(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'},     {"store", required_argument, 0, 'd'},
		{"since", required_argument, 0, 's'},  {"until", required_argument, 0, 'u'},
		{"action", required_argument, 0, 'a'}, {"actor", required_argument, 0, 'A'},
		{"limit", required_argument, 0, 'n'},  {"json", no_argument, 0, 'j'},
		{"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
	};
	struct jst_audit_query q = {.limit = 50};
	const char *db = NULL;
	bool json = false;
	double v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 's':
			if (time_opt(optarg, &q.from_ns) < 0)
				return 2;
			break;
		case 'u':
			if (time_opt(optarg, &q.to_ns) < 0)
				return 2;
			break;
		case 'a': q.action = optarg; break;
		case 'A': q.actor = optarg; break;
		case 'j': json = true; break;
		case 'n':
			if (cli_parse_number(optarg, 1, 1000, &v) < 0 || v != (double)(size_t)v) {
				fprintf(stderr,
					"joulestream audit: bad --limit '%s': a whole number from 1 to 1000\n",
					optarg);
				return 2;
			}
			q.limit = (size_t)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	struct jst_store *st = cli_open_store(db, false, NULL, 0);
	if (!st)
		return 1;
	if (!json)
		printf("%-5s %-24s %-18s %-7s %-18s %-7s %-15s %s\n", "id", "time", "actor", "role",
		       "action", "outcome", "client", "object detail");
	int r = jst_store_audit_list(st, &q, print_row, &json);
	if (r < 0)
		fprintf(stderr, "joulestream audit: %s\n", jst_store_errmsg(st));
	jst_store_close(st);
	return r < 0 ? 1 : 0;
}
