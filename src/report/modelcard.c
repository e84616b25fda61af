/* The Hugging Face model-card block: `co2_eq_emissions` with emissions in grams, source,
 * training_type, geographical_location and hardware_used, to paste into the YAML front matter
 * of a model's README.md (https://huggingface.co/docs/hub/model-cards-co2). Strings are YAML
 * double-quoted scalars; nothing unknown is invented: a training type not given stays a
 * comment that says how to give it. */
#include <stdio.h>
#include <string.h>

#include "joulestream/report.h"
#include "joulestream/trust.h"
#include "report/carbon_report.h"

/* A YAML double-quoted scalar (escapes \ " and control characters; UTF-8 passes). */
static void yaml_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void hardware(const struct jst_run *run, char *out, size_t n)
{
	const char *cpu = run->meta.cpu_model[0] ? run->meta.cpu_model : "unknown CPU";
	if (run->meta.gpus[0])
		snprintf(out, n, "%s; CPU: %s", run->meta.gpus, cpu);
	else
		snprintf(out, n, "CPU: %s (%u threads)", cpu, run->meta.cpu_count);
}

int jst_report_model_card(FILE *f, const struct jst_run *run, const char *training_type)
{
	char src[768], loc[256], hw[512];
	snprintf(src, sizeof(src),
		 "joulestream %s, %s energy (%s); intensity: %s; PUE %.2f; data %s%s",
		 run->meta.version[0] ? run->meta.version : jst_version(),
		 run->estimated ? "partly estimated" : "measured",
		 run->meta.sensors[0] ? run->meta.sensors : "no sensor",
		 run->result.ci_series[0] ? run->result.ci_series : run->site.ci_source,
		 run->site.pue, run->result.data_version[0] ? run->result.data_version : "bundled",
		 run->site.zone_origin == JST_ORIGIN_NONE ? "; zone unknown: world average" : "");
	if (run->nflags) { /* integrity flags travel with the figure (docs/integrity.md) */
		char flags[256];
		size_t l = strlen(src);
		jst_flags_summary(run, flags, sizeof(flags));
		snprintf(src + l, sizeof(src) - l, "; integrity flags: %s", flags);
	}
	jst__report_location(run, loc, sizeof(loc));
	hardware(run, hw, sizeof(hw));
	fprintf(f,
		"co2_eq_emissions:\n  emissions: %.6g\n  source: ", run->result.footprint.co2e_g);
	yaml_str(f, src);
	if (training_type && *training_type) {
		fputs("\n  training_type: ", f);
		yaml_str(f, training_type);
	} else {
		fputs("\n  # training_type: \"pre-training\" or \"fine-tuning\" (joulestream show "
		      "--training-type)", f);
	}
	fputs("\n  geographical_location: ", f);
	yaml_str(f, loc);
	fputs("\n  hardware_used: ", f);
	yaml_str(f, hw);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
