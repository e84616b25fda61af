/* The parts of a run record that travel in its run_start and run_end events (docs/schema.md,
 * the `record` objects): one table of fields per event, used by the encoder here and by the
 * view that rebuilds the record from the log (src/agg/runview.c), so that a field added to the
 * table is written and read back with nothing else to change. Figures that the samples give
 * (per-zone energy, peaks, counter wraps) are not here: the view derives them. */
#ifndef JST_EVENT_RECORD_H
#define JST_EVENT_RECORD_H

#include <stddef.h>

#include "core/jbuf.h"
#include "joulestream/record.h"

enum jst__rec_type { JST_REC_TEXT, JST_REC_DOUBLE, JST_REC_INT, JST_REC_BOOL, JST_REC_ORIGIN };

struct jst__rec_field {
	const char *name;
	enum jst__rec_type type;
	size_t off, size; /* in struct jst_run */
};

/* What is known when the command starts (site, carbon inputs, SCI inputs). */
extern const struct jst__rec_field jst__rec_start[];
extern const size_t jst__rec_nstart;
/* What the run knows at its end (totals, carbon result with its data version, late meta). */
extern const struct jst__rec_field jst__rec_end[];
extern const size_t jst__rec_nend;

/* Writes ,"record":{…} with the fields of the table. */
void jst__rec_write(struct jst_jbuf *b, const struct jst_run *run, const struct jst__rec_field *f, size_t n);
/* Writes ,"zone_failed":[…],"zone_backwards":[…],"zone_gone":[…],"flags":[…]: per-zone counts
 * that no sample carries (a read with no value sends none) and the integrity flags. */
void jst__rec_write_end_extra(struct jst_jbuf *b, const struct jst_run *run);

#endif
