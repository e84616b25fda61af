/* Inside the event parser (parse.c), for its tests: the same parse with the flat fast path
 * (flat.h) allowed or not, so that a test can check both paths give the same answer. */
#ifndef JST_EVENT_PARSE_H
#define JST_EVENT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/event.h"

/* jst_event_parse() with flat false: every line through cJSON. */
int jst__event_parse_with(const char *p, size_t n, struct jst_event *ev, char *err, size_t errlen,
			  bool flat);

#endif
