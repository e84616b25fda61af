/* Scheduler hints from a ranking of sites, ready to paste: Nomad `affinity` stanzas (HCL),
 * a Kubernetes `affinity.nodeAffinity` block of preferred terms (YAML) and a SLURM
 * `--partition=` list. The weights were set by jst_sched_rank(); this file only writes them,
 * quoting every value so that the output parses whatever a site is called. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "joulestream/sched.h"

static void comment_lines(FILE *f, const char *comment)
{
	if (!comment)
		return;
	for (const char *p = comment; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(f, "# %.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

/* An HCL string: quotes and backslashes escaped, "${" and "%{" doubled so that they are not
 * taken as interpolation or a template directive. */
static void hcl_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((*s == '$' || *s == '%') && s[1] == '{')
			fputc(*s, f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void jst_hints_nomad(FILE *f, const struct jst_sched_site *v, size_t n, const char *attribute,
                     const char *comment)
{
	comment_lines(f, comment);
	for (size_t i = 0; i < n; i++) {
		if (v[i].nomad_weight == 0) {
			fprintf(f, "%s# %s: weight 0, no preference (Nomad refuses an affinity of weight 0)\n",
			        i ? "\n" : "", v[i].name);
			continue;
		}
		fprintf(f, "%saffinity {\n  attribute = \"%s\"\n  value     = ", i ? "\n" : "", attribute);
		hcl_string(f, v[i].name);
		fprintf(f, "\n  weight    = %d\n}\n", v[i].nomad_weight);
	}
}

/* A YAML double-quoted scalar. */
static void yaml_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void jst_hints_k8s(FILE *f, const struct jst_sched_site *v, size_t n, const char *label_key,
                   const char *comment)
{
	comment_lines(f, comment);
	fprintf(f, "affinity:\n  nodeAffinity:\n    preferredDuringSchedulingIgnoredDuringExecution:\n");
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(v[j].label, v[i].label) == 0;
		if (seen) {
			fprintf(f, "    # %s: label %s already preferred for a better site\n", v[i].name,
			        v[i].label);
			continue;
		}
		fprintf(f, "    - weight: %d  # %s\n      preference:\n        matchExpressions:\n"
		           "          - key: ", v[i].k8s_weight, v[i].name);
		yaml_string(f, label_key);
		fprintf(f, "\n            operator: In\n            values: [");
		yaml_string(f, v[i].label);
		fprintf(f, "]\n");
	}
}

int jst_hints_slurm(FILE *f, const struct jst_sched_site *v, size_t n, size_t *skipped)
{
	size_t first = n, none = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].partition[0]) {
			none++;
			continue;
		}
		if (first == n)
			first = i;
	}
	if (skipped)
		*skipped = none;
	if (first == n)
		return -ENOENT;
	fputs("--partition=", f);
	for (size_t i = first; i < n; i++) {
		bool seen = !v[i].partition[0];
		for (size_t j = first; j < i && !seen; j++)
			seen = strcmp(v[j].partition, v[i].partition) == 0;
		if (!seen)
			fprintf(f, "%s%s", i == first ? "" : ",", v[i].partition);
	}
	fputc('\n', f);
	return 0;
}
