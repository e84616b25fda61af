/* `joulestream diff RUN_A RUN_B [--db URL] [--db-b URL] [--all] [--format text|json]`: what
 * differs between two stored runs: their inputs (command, zone, PUE, WUE, sensors and sensor
 * zones, the digests of their configuration and of each bundled data table), their figures
 * (energy, CO2e, water, data version) and their provenance. RUN_B may be read from another
 * store (--db-b), e.g. a run's copy on a server. Numbers equal to 1e-9 relative count as the
 * same. Exit status as diff(1): 0 the same, 1 some field differs, 2 trouble. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/jsonw.h"
#include "core/util.h"
#include "joulestream/report.h"
#include "joulestream/store.h"

#define ROWS_MAX 64

struct row {
	char field[40];
	char a[1024], b[1024]; /* a run's sensor zones fit */
};

struct cmp {
	struct row rows[ROWS_MAX];
	size_t n, same;
	bool all;
};

static void text_row(struct cmp *c, const char *field, const char *a, const char *b)
{
	if (strcmp(a, b) == 0 && !c->all) {
		c->same++;
		return;
	}
	if (strcmp(a, b) == 0)
		c->same++;
	if (c->n == ROWS_MAX)
		return;
	struct row *r = &c->rows[c->n++];
	jst__strlcpy(r->field, field, sizeof(r->field));
	jst__strlcpy(r->a, a, sizeof(r->a));
	jst__strlcpy(r->b, b, sizeof(r->b));
}

static void num_row(struct cmp *c, const char *field, double a, double b)
{
	char x[40], y[40];
	snprintf(x, sizeof(x), "%.10g", a);
	snprintf(y, sizeof(y), "%.10g", b);
	if (fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)))
		snprintf(y, sizeof(y), "%s", x); /* the same to rounding */
	text_row(c, field, x, y);
}

/* "k1=v1 k2=v2": the value of key, or "" when absent. */
static void part_of(const char *parts, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	out[0] = '\0';
	for (const char *p = parts; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(out, n, "%.*s", (int)(len - kl - 1), p + kl + 1);
			return;
		}
		p = end ? end + 1 : NULL;
	}
}

/* Each part of a "k=v k=v" field as a row of its own, keys of either run. */
static void parts_rows(struct cmp *c, const char *prefix, const char *a, const char *b)
{
	char keys[2][sizeof(((struct jst_run *)0)->prov.data_tables)];
	jst__strlcpy(keys[0], a, sizeof(keys[0]));
	jst__strlcpy(keys[1], b, sizeof(keys[1]));
	for (int side = 0; side < 2; side++) {
		for (char *save = NULL, *k = strtok_r(keys[side], " ", &save); k;
		     k = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(k, '=');
			char va[80], vb[80], field[40];
			if (!eq)
				continue;
			*eq = '\0';
			part_of(a, k, va, sizeof(va));
			part_of(b, k, vb, sizeof(vb));
			if (side == 1 && va[0]) /* listed already from a */
				continue;
			snprintf(field, sizeof(field), "%s.%s", prefix, k);
			text_row(c, field, va[0] ? va : "(not used)", vb[0] ? vb : "(not used)");
		}
	}
}

static void zones_text(const struct jst_run *run, char *out, size_t n)
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < run->nzones && off < n; i++) {
		const struct jst_zone *z = &run->zones[i].zone;
		int w = snprintf(out + off, n - off, "%s%s%s", i ? "," : "", z->name,
				 (z->flags & JST_ZONE_COUNTED) ? "" : "(part)");
		off += w > 0 ? (size_t)w : 0;
	}
}

static void compare(struct cmp *c, const struct jst_run *a, const struct jst_run *b)
{
	char za[1024], zb[1024];
	text_row(c, "command", a->meta.command, b->meta.command);
	text_row(c, "host", a->meta.host, b->meta.host);
	text_row(c, "git_commit", a->meta.git_commit, b->meta.git_commit);
	text_row(c, "zone", a->site.zone_code, b->site.zone_code);
	text_row(c, "zone_origin", jst_zone_origin_name(a->site.zone_origin),
		 jst_zone_origin_name(b->site.zone_origin));
	text_row(c, "cloud", a->site.cloud, b->site.cloud);
	text_row(c, "site", a->site.name, b->site.name);
	num_row(c, "pue", a->site.pue, b->site.pue);
	num_row(c, "wue_l_per_kwh", a->site.wue_l_per_kwh, b->site.wue_l_per_kwh);
	num_row(c, "interval_s", a->interval_s, b->interval_s);
	text_row(c, "sensors", a->meta.sensors, b->meta.sensors);
	zones_text(a, za, sizeof(za));
	zones_text(b, zb, sizeof(zb));
	text_row(c, "sensor_zones", za, zb);
	text_row(c, "config_sha256", a->prov.config_sha256, b->prov.config_sha256);
	parts_rows(c, "config", a->prov.config_parts, b->prov.config_parts);
	text_row(c, "data_sha256", a->prov.data_sha256, b->prov.data_sha256);
	parts_rows(c, "data", a->prov.data_tables, b->prov.data_tables);
	text_row(c, "data_version", a->result.data_version, b->result.data_version);
	num_row(c, "duration_s", a->duration_s, b->duration_s);
	num_row(c, "energy_j", a->run_j, b->run_j);
	num_row(c, "host_energy_j", a->host_j, b->host_j);
	num_row(c, "co2e_g", a->result.footprint.co2e_g, b->result.footprint.co2e_g);
	num_row(c, "water_l", a->result.footprint.water_l, b->result.footprint.water_l);
}

static void print_json(const struct cmp *c, const struct jst_run *a, const struct jst_run *b)
{
	printf("{\"a\":");
	jst__json_string(stdout, a->id);
	printf(",\"b\":");
	jst__json_string(stdout, b->id);
	printf(",\"same\":%zu,\"rows\":[", c->same);
	for (size_t i = 0; i < c->n; i++) {
		printf(i ? ",{\"field\":" : "{\"field\":");
		jst__json_string(stdout, c->rows[i].field);
		printf(",\"a\":");
		jst__json_string(stdout, c->rows[i].a);
		printf(",\"b\":");
		jst__json_string(stdout, c->rows[i].b);
		printf(",\"differ\":%s}", strcmp(c->rows[i].a, c->rows[i].b) ? "true" : "false");
	}
	printf("]}\n");
}

static void print_text(const struct cmp *c, const struct jst_run *a, const struct jst_run *b)
{
	size_t differ = 0;
	printf("%-22s %-30s %s\n", "", a->id, b->id);
	for (size_t i = 0; i < c->n; i++) {
		bool d = strcmp(c->rows[i].a, c->rows[i].b) != 0;
		differ += d;
		printf("%c %-20s %-30s %s\n", d ? '!' : ' ', c->rows[i].field, c->rows[i].a,
		       c->rows[i].b);
	}
	printf("%zu field%s differ, %zu the same\n", differ, differ == 1 ? "" : "s", c->same);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: joulestream diff RUN_A RUN_B [--db URL] [--db-b URL] [--all] [--format text|json]\n"
		"What differs between two stored runs: inputs, the digests of their configuration and\n"
		"of each bundled data table, figures and data version. RUN is an id, a prefix or last.\n"
		"  --db URL        the store (default: the local one)\n"
		"  --db-b URL      read RUN_B from this store instead (a run's copy on a server)\n"
		"  --all           list the fields that are the same too\n"
		"Exit status: 0 the same, 1 some field differs, 2 trouble.\n");
}

static struct jst_run *load(const char *db, const char *id)
{
	struct jst_store *s = cli_open_store(db, false, NULL, 0);
	struct jst_run *run = s ? malloc(sizeof(*run)) : NULL;
	if (run && jst_store_load(s, id, run) < 0) {
		fprintf(stderr, "joulestream diff: %s\n", jst_store_errmsg(s));
		free(run);
		run = NULL;
	}
	jst_store_close(s);
	return run;
}

int cli_diff(int argc, char **argv)
{
	static const struct option lo[] = {
		{"db", required_argument, 0, 'd'},     {"db-b", required_argument, 0, 'b'},
		{"format", required_argument, 0, 'f'}, {"all", no_argument, 0, 'a'},
		{"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
	};
	const char *db = NULL, *db_b = NULL, *format = "text";
	static struct cmp c;
	int opt;
	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'd': db = optarg; break;
		case 'b': db_b = optarg; break;
		case 'f': format = optarg; break;
		case 'a': c.all = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 2 || (strcmp(format, "text") && strcmp(format, "json"))) {
		usage(stderr);
		return 2;
	}
	struct jst_run *a = load(db, argv[optind]),
		       *b = a ? load(db_b ? db_b : db, argv[optind + 1]) : NULL;
	int rc = 2;
	if (a && b) {
		compare(&c, a, b);
		if (strcmp(format, "json") == 0)
			print_json(&c, a, b);
		else
			print_text(&c, a, b);
		rc = 0;
		for (size_t i = 0; i < c.n; i++)
			if (strcmp(c.rows[i].a, c.rows[i].b) != 0)
				rc = 1;
	}
	free(a);
	free(b);
	return rc;
}
