/* The trust parts of a run's reports (docs/integrity.md): its integrity flags with their
 * reasons, the dynamic energy above the host's calibrated idle floor, and the record's content
 * hash; printed by text.c and json.c. */
#ifndef JST_REPORT_TRUST_REPORT_H
#define JST_REPORT_TRUST_REPORT_H

#include <stdio.h>

#include "joulestream/record.h"

/* "  idle floor ..." and "  flag: ..." lines; nothing when there is nothing to say. */
void jst__report_trust_text(FILE *f, const struct jst_run *run);

/* JSON members, each starting with a comma: "integrity" (flags, content hash) and "floor". */
void jst__report_trust_json(FILE *f, const struct jst_run *run);

#endif
