/* `joulestream token create|list|revoke`: API tokens of `serve`. create prints the new token
 * once on stdout (only its hash is stored: it cannot be shown again); list shows ids,
 * prefixes, roles and users; revoke takes an id or a prefix. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/isotime.h"
#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/audit.h"
#include "joulestream/ingest.h"
#include "server/auth.h"

/* token.create / token.revoke rows (joulestream/audit.h): who ran the command on this machine,
 * the token's id, role, user and label; never the token, its hash or a secret given by mistake. */
static void audit(struct jst_store *st, const char *action, const char *object, const char *detail, int r)
{
	struct jst_audit_entry e;
	jst_audit_local(&e, action, object, r == 0 ? "ok" : "error");
	jst__strlcpy(e.detail, detail, sizeof(e.detail));
	if (jst_store_audit_add(st, &e) < 0)
		fprintf(stderr, "joulestream token: warning: not written to the audit log: %s\n", jst_store_errmsg(st));
}

static void created(struct jst_store *st, const struct jst_token_info *t, int64_t id, int r)
{
	char detail[512], object[32];
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, detail, sizeof(detail));
	jst__jbuf_str(&b, "{\"role\":");
	jst__jbuf_jstr(&b, jst_role_name(t->role));
	jst__jbuf_str(&b, ",\"user\":");
	jst__jbuf_jstr(&b, t->user);
	jst__jbuf_printf(&b, ",\"all_users\":%s,\"hosts\":", t->all_users ? "true" : "false");
	jst__jbuf_jstr(&b, t->hosts);
	jst__jbuf_str(&b, ",\"label\":");
	jst__jbuf_jstr(&b, t->label);
	jst__jbuf_str(&b, "}");
	snprintf(object, sizeof(object), r == 0 ? "token:%lld" : "token", (long long)id);
	audit(st, "token.create", object, b.full ? "{}" : detail, r);
}

/* The active tokens a revoke of arg will touch, by id, as "token:1,token:4". */
struct match {
	const char *arg;
	char ids[200];
};

static int match_token(const struct jst_token_info *t, void *ud)
{
	struct match *m = ud;
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	if (t->revoked_ns || (strcmp(id, m->arg) != 0 && strcmp(t->prefix, m->arg) != 0))
		return 0;
	size_t n = strlen(m->ids);
	snprintf(m->ids + n, sizeof(m->ids) - n, "%stoken:%s", n ? "," : "", id);
	return 0;
}

static void revoked(struct jst_store *st, const struct match *m, int r)
{
	char detail[160];
	struct jst_jbuf b;
	jst__jbuf_fixed(&b, detail, sizeof(detail));
	/* a whole token pasted instead of its id or prefix is a secret: never written down */
	bool secret = strncmp(m->arg, "jst_", 4) == 0 && strlen(m->arg) > 16;
	jst__jbuf_str(&b, "{\"given\":");
	jst__jbuf_jstr(&b, secret ? "(a whole token: not logged)" : m->arg);
	jst__jbuf_str(&b, "}");
	audit(st, "token.revoke", m->ids[0] ? m->ids : "token", b.full ? "{}" : detail, r);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream token create --role admin|agent|reader [--user U] [--all-users]\n"
	           "                                [--host H[,H…]] [--label TEXT] [--db PATH]\n"
	           "       joulestream token list [--db PATH]\n"
	           "       joulestream token revoke ID|PREFIX [--db PATH]\n"
	           "Roles: agent sends events; reader reads its --user's runs (every user's with --all-users);\n"
	           "admin does everything. An agent token is bound to what it speaks for: --host the hosts its\n"
	           "events may name (a node's agent: its own), --user the user its runs may name (a person's\n"
	           "run --sink); serve refuses the rest with 403. The token is printed once; only its hash is kept.\n"
	           "create and revoke are written to the store's audit log as local:USER (joulestream audit).\n");
}

static int print_token(const struct jst_token_info *t, void *ud)
{
	char when[40];
	(void)ud;
	jst__format_iso8601((int64_t)t->created_ns, when, sizeof(when));
	printf("%-4lld %-13s %-7s %-16s %-9s %-20s %s%s\n", (long long)t->id, t->prefix, jst_role_name(t->role),
	       t->user[0] ? t->user : "-", t->all_users ? "all-users" : "-", t->hosts[0] ? t->hosts : "-", when,
	       t->revoked_ns ? " revoked" : "");
	return 0;
}

int cli_token(int argc, char **argv)
{
	static const struct option lo[] = {
		{"role", required_argument, 0, 'r'}, {"user", required_argument, 0, 'u'},
		{"all-users", no_argument, 0, 'a'}, {"label", required_argument, 0, 'l'},
		{"db", required_argument, 0, 'd'}, {"host", required_argument, 0, 'H'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *sub = argv[1], *role = NULL, *user = "", *label = "", *db = NULL, *hosts = "";
	bool all = false;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': role = optarg; break;
		case 'u': user = optarg; break;
		case 'a': all = true; break;
		case 'l': label = optarg; break;
		case 'H': hosts = optarg; break;
		case 'd': db = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	bool create = strcmp(sub, "create") == 0;
	if (!create && strcmp(sub, "list") != 0 && strcmp(sub, "revoke") != 0) {
		fprintf(stderr, "joulestream token: unknown action '%s': create, list or revoke\n", sub);
		return 2;
	}
	int ro = role ? jst_role_parse(role) : -1;
	if (create && ro < 0) {
		fprintf(stderr, "joulestream token create: --role admin, agent or reader is required\n");
		return 2;
	}
	if (create && ro == JST_ROLE_READER && !user[0] && !all) {
		fprintf(stderr, "joulestream token create: a reader needs --user U (or --all-users)\n");
		return 2;
	}
	if (create && hosts[0] && ro != JST_ROLE_AGENT) {
		fprintf(stderr, "joulestream token create: --host binds an agent token (--role agent)\n");
		return 2;
	}
	if (create && (strlen(hosts) >= sizeof(((struct jst_token_info *)0)->hosts) || strstr(hosts, ",,") ||
	               hosts[0] == ',' || (hosts[0] && hosts[strlen(hosts) - 1] == ','))) {
		fprintf(stderr, "joulestream token create: --host takes host names separated by commas (at most 255 "
		                "bytes), e.g. --host node1,node2\n");
		return 2;
	}
	if (create && ro == JST_ROLE_AGENT && !hosts[0] && !user[0])
		fprintf(stderr, "joulestream token create: note: this agent token may speak for any host and user; bind "
		                "it with --host (a node's agent) or --user (a person's run --sink)\n");
	if (strcmp(sub, "revoke") == 0 && optind >= argc) {
		fprintf(stderr, "joulestream token revoke: give the token's id or prefix (joulestream token list)\n");
		return 2;
	}
	struct jst_store *st = cli_open_store(db, create, NULL, 0);
	if (!st)
		return 1;
	int r = 0;
	char msg[512] = ""; /* the store's message, before an audit row may replace it */
	if (create) {
		struct jst_token_info t;
		memset(&t, 0, sizeof(t));
		char tok[JST_TOKEN_LEN + 1];
		t.role = (enum jst_role)ro;
		t.all_users = all;
		t.created_ns = jst__wall_ns();
		jst__strlcpy(t.user, user, sizeof(t.user));
		jst__strlcpy(t.label, label, sizeof(t.label));
		jst__strlcpy(t.hosts, hosts, sizeof(t.hosts));
		int64_t id = 0;
		if ((r = jst__token_new(tok, &t)) == 0 && (r = jst_store_token_add(st, &t, &id)) == 0) {
			printf("%s\n", tok);
			fprintf(stderr, "joulestream token: created token %lld (%s, role %s); it is shown only now\n",
			        (long long)id, t.prefix, jst_role_name(t.role));
		}
		jst__strlcpy(msg, jst_store_errmsg(st), sizeof(msg));
		created(st, &t, id, r);
	} else if (strcmp(sub, "list") == 0) {
		printf("%-4s %-13s %-7s %-16s %-9s %-20s %s\n", "id", "prefix", "role", "user", "grant", "hosts",
		       "created");
		r = jst_store_tokens(st, print_token, NULL);
		jst__strlcpy(msg, jst_store_errmsg(st), sizeof(msg));
	} else {
		struct match m = {argv[optind], ""};
		jst_store_tokens(st, match_token, &m);
		r = jst_store_token_revoke(st, argv[optind], jst__wall_ns());
		jst__strlcpy(msg, jst_store_errmsg(st), sizeof(msg));
		revoked(st, &m, r);
		if (r == 0)
			fprintf(stderr, "joulestream token: revoked %s (servers stop accepting it within 1 s)\n", argv[optind]);
	}
	if (r < 0)
		fprintf(stderr, "joulestream token: %s\n", msg);
	jst_store_close(st);
	return r < 0 ? 1 : 0;
}
