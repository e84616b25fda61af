/* The carbon parts of a run's reports that say where each figure comes from: the intensity
 * line (yearly average or series, with its range and the energy outside it), warnings for a
 * guessed or unknown zone and for a live source that was not used, SCI, the data version and
 * the results of every data version kept; printed by text.c and json.c. */
#ifndef JST_REPORT_CARBON_REPORT_H
#define JST_REPORT_CARBON_REPORT_H

#include <stdio.h>

#include "joulestream/record.h"

/* The "carbon" line and the warnings under it. co2 is the formatted figure, est the estimate
 * marker ("" or "  [estimate]"). */
void jst__report_carbon_text(FILE *f, const struct jst_run *run, const char *co2, const char *est);

/* SCI, data version and results by data version (after the water line). */
void jst__report_sci_text(FILE *f, const struct jst_run *run);

/* JSON members, each starting with a comma: "carbon" (provenance and series), "sci",
 * "results". */
void jst__report_carbon_json(FILE *f, const struct jst_run *run);

/* How the zone was chosen, in words: "config site", "guessed from time zone". */
const char *jst__origin_words(const struct jst_run *run);

/* A location in words for sharing: "Germany (DE)", "aws:eu-central-1, Germany (DE)". */
void jst__report_location(const struct jst_run *run, char *out, size_t n);

#endif
