/* `joulestream zones [QUERY]` and `joulestream zones --cloud [QUERY]`: search the bundled grid
 * zones (carbon intensity, water intensity, their sources) and cloud regions (grid zone, PUE,
 * WUE), as a table or as JSON. Only argument parsing and printing live here; the data and the
 * lookups are libjoulestream's (src/carbon/). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "carbon/carbon_data.h"
#include "cli/cli.h"
#include "core/jsonw.h"
#include "joulestream/carbon.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: joulestream zones [--json] [QUERY]\n"
	        "       joulestream zones --cloud [--json] [QUERY]\n"
	        "\n"
	        "Lists the bundled grid zones whose code or name contains QUERY (any case; an ISO\n"
	        "3166 alpha-2 or alpha-3 code finds its country), with the yearly carbon intensity\n"
	        "(gCO2e/kWh), its year and source, and the water consumed per kWh generated (EWIF).\n"
	        "With --cloud, lists the cloud regions (provider, region or location containing\n"
	        "QUERY, or exactly PROVIDER:REGION) with their grid zone, PUE and WUE.\n"
	        "\n"
	        "options:\n"
	        "  --cloud   cloud regions instead of grid zones\n"
	        "  --json    one JSON array instead of a table\n"
	        "  -h, --help\n"
	        "\n"
	        "Sources and licences of the data: data/SOURCES.md; formulas: docs/methodology.md.\n");
}

/* Case-insensitive (ASCII) substring test; an empty needle matches. */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *h = hay; n == 0 || *h; h++) {
		size_t i = 0;
		while (i < n && h[i]) {
			char a = h[i], b = needle[i];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
			i++;
		}
		if (i == n)
			return true;
	}
	return false;
}

/* Prints s in a column of width terminal cells (UTF-8 aware), cut with '~' if too long. */
static void cell(const char *s, size_t width)
{
	size_t cells = 0, i = 0;
	for (size_t j = 0; s[j]; j++)
		cells += ((unsigned char)s[j] & 0xC0) != 0x80;
	if (cells > width) {
		size_t shown = 0;
		while (s[i] && shown < width - 1) {
			i++;
			while (((unsigned char)s[i] & 0xC0) == 0x80)
				i++;
			shown++;
		}
		printf("%.*s~", (int)i, s);
		cells = width;
	} else {
		fputs(s, stdout);
	}
	for (; cells < width; cells++)
		putchar(' ');
}

static bool zone_matches(const struct jst_grid_zone *z, const char *q)
{
	return !q || contains(z->code, q) || contains(z->name, q) || jst_grid_zone_find(q) == z;
}

static void zone_json(const struct jst_grid_zone *z, bool first)
{
	printf("%s\n  {\"code\": ", first ? "" : ",");
	jst__json_string(stdout, z->code);
	printf(", \"name\": ");
	jst__json_string(stdout, z->name);
	printf(", \"ci_g_per_kwh\": ");
	jst__json_number(stdout, z->ci_g_per_kwh);
	printf(", \"year\": %d, \"ci_source\": ", z->year);
	jst__json_string(stdout, z->ci_source);
	printf(", \"ewif_l_per_kwh\": ");
	if (z->ewif_l_per_kwh < 0)
		printf("null");
	else
		jst__json_number(stdout, z->ewif_l_per_kwh);
	printf(", \"ewif_source\": ");
	jst__json_string(stdout, z->ewif_source);
	printf("}");
}

static void zone_line(const struct jst_grid_zone *z)
{
	cell(z->code, 14);
	putchar(' ');
	cell(z->name, 30);
	printf(" %9.2f  %4d  ", z->ci_g_per_kwh, z->year);
	if (z->ewif_l_per_kwh < 0)
		printf("%10s  ", "-");
	else
		printf("%10.3f  ", z->ewif_l_per_kwh);
	printf("%s\n", z->ci_source);
}

static int list_zones(const char *q, bool json)
{
	size_t n = jst_grid_zone_count(), shown = 0;
	const struct jst_grid_zone *world = jst_grid_world();
	if (!world) {
		fprintf(stderr, "joulestream: the bundled grid data did not load: %s\n",
		        jst__carbon_data_error());
		return 1;
	}
	/* an exact code (alpha-2, alpha-3, sub-national) comes first, then every other match */
	const struct jst_grid_zone *exact = q ? jst_grid_zone_find(q) : NULL;
	for (size_t i = 0; i <= n + 1; i++) {
		const struct jst_grid_zone *z = i == 0 ? exact : i <= n ? jst_grid_zone_at(i - 1) : world;
		if (!z || (i > 0 && z == exact) || !zone_matches(z, q))
			continue;
		if (json) {
			zone_json(z, shown == 0);
		} else {
			if (shown == 0)
				printf("%-14s %-30s %9s  %4s  %10s  %s\n", "CODE", "NAME", "gCO2e/kWh",
				       "YEAR", "EWIF L/kWh", "SOURCE");
			zone_line(z);
		}
		shown++;
	}
	if (shown == 0) {
		fprintf(stderr, "joulestream: no zone matches '%s'\n", q);
		return 1;
	}
	if (json)
		printf("\n]\n");
	else
		printf("\nEWIF: water consumed per kWh generated; a sub-national zone has its "
		       "country's.\n--json gives the source of every figure.\n");
	return 0;
}

static bool region_matches(const struct jst_cloud_region *r, const char *q)
{
	if (!q)
		return true;
	if (strchr(q, ':'))
		return jst_cloud_find(NULL, q) == r;
	return contains(r->provider, q) || contains(r->region, q) || contains(r->zone, q) ||
	       contains(r->location, q);
}

static void region_json(const struct jst_cloud_region *r, const struct jst_grid_zone *z,
			bool first)
{
	printf("%s\n  {\"provider\": ", first ? "" : ",");
	jst__json_string(stdout, r->provider);
	printf(", \"region\": ");
	jst__json_string(stdout, r->region);
	printf(", \"zone\": ");
	jst__json_string(stdout, r->zone);
	printf(", \"location\": ");
	jst__json_string(stdout, r->location);
	printf(", \"pue\": ");
	jst__json_number(stdout, r->pue);
	printf(", \"wue_l_per_kwh\": ");
	if (r->wue_l_per_kwh < 0)
		printf("null");
	else
		jst__json_number(stdout, r->wue_l_per_kwh);
	printf(", \"source\": ");
	jst__json_string(stdout, r->source);
	printf(", \"ci_g_per_kwh\": ");
	jst__json_number(stdout, z ? z->ci_g_per_kwh : -1);
	printf("}");
}

static void region_line(const struct jst_cloud_region *r, const struct jst_grid_zone *z)
{
	printf("%-6s ", r->provider);
	cell(r->region, 24);
	putchar(' ');
	cell(r->zone, 13);
	putchar(' ');
	cell(r->location, 28);
	printf(" %5.2f ", r->pue);
	if (r->wue_l_per_kwh < 0)
		printf("%9s ", "-");
	else
		printf("%9.2f ", r->wue_l_per_kwh);
	printf("%9.0f\n", z ? z->ci_g_per_kwh : 0.0);
}

static int list_cloud(const char *q, bool json)
{
	size_t n = jst_cloud_count(), shown = 0;
	if (n == 0) {
		fprintf(stderr, "joulestream: the bundled cloud data did not load: %s\n",
		        jst__cloud_data_error());
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct jst_cloud_region *r = jst_cloud_at(i);
		const struct jst_grid_zone *z = jst_grid_zone_find(r->zone);
		if (!region_matches(r, q))
			continue;
		if (json) {
			region_json(r, z, shown == 0);
		} else {
			if (shown == 0)
				printf("%-6s %-24s %-13s %-28s %5s %9s %9s\n", "CLOUD", "REGION", "ZONE",
				       "LOCATION", "PUE", "WUE L/kWh", "gCO2e/kWh");
			region_line(r, z);
		}
		shown++;
	}
	if (shown == 0) {
		char near[200];
		jst_cloud_nearest(q, near, sizeof(near));
		fprintf(stderr, "joulestream: no cloud region matches '%s' (nearest: %s)\n", q, near);
		return 1;
	}
	if (json)
		printf("\n]\n");
	else
		printf("\nPUE and WUE are the provider's published fleet figures (WUE '-': none "
		       "published);\n--json gives their source.\n");
	return 0;
}

int cli_zones(int argc, char **argv)
{
	bool json = false, cloud = false;
	const char *query = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--cloud") == 0) {
			cloud = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "joulestream zones: unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		} else if (query) {
			fprintf(stderr, "joulestream zones: one QUERY at most ('%s' and '%s')\n", query, a);
			return 2;
		} else {
			query = a;
		}
	}
	if (json)
		printf("[");
	int r = cloud ? list_cloud(query, json) : list_zones(query, json);
	if (json && r != 0)
		printf("]\n");
	return r;
}
