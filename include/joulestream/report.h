/* Reports of a run: the text summary printed at exit, the whole record as JSON, and a row with
 * exactly the columns of CodeCarbon's emissions.csv. Every estimated figure says `estimate`,
 * and every carbon and water figure names its source and year. */
#ifndef JOULESTREAM_REPORT_H
#define JOULESTREAM_REPORT_H

#include <stdio.h>

#include "joulestream/common.h"
#include "joulestream/record.h"
#include "joulestream/units.h" /* the formatters were declared here */

/* The human summary. stored: where the run was stored ("" or NULL when it was not). */
JST_API int jst_report_text(FILE *f, const struct jst_run *run, const char *stored);

/* The whole record: metadata, site, per-zone totals and shares, notes, and the timeline (may
 * be NULL). One JSON object followed by a newline. */
JST_API int jst_report_json(FILE *f, const struct jst_run *run, const struct jst_timeline *tl);

/* CodeCarbon emissions.csv: the header line, and one row for a run. */
JST_API int jst_report_csv_header(FILE *f);
JST_API int jst_report_csv_row(FILE *f, const struct jst_run *run);
/* Appends a row to path, writing the header first when the file is new or empty. */
JST_API int jst_report_csv_append(const char *path, const struct jst_run *run);

/* The Hugging Face model-card `co2_eq_emissions:` YAML block (emissions in grams, source,
 * training_type, geographical_location, hardware_used). training_type may be NULL. */
JST_API int jst_report_model_card(FILE *f, const struct jst_run *run, const char *training_type);

/* A BoAmps (Boavizta) energy report, format 1.1.0, as one JSON object. task_stage: "training",
 * "finetuning", "inference"... (NULL: "training"). */
JST_API int jst_report_boamps(FILE *f, const struct jst_run *run, const char *task_stage);

/* One self-contained HTML page of the run (inline CSS, SVG charts drawn here, no script, no
 * network): totals with sources, zones, power over time from tl (may be NULL), phases, metrics
 * against cumulative energy, metadata, flags and notes. */
JST_API int jst_report_html(FILE *f, const struct jst_run *run, const struct jst_timeline *tl);

#endif
