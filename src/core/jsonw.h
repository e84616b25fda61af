/* Writing JSON: strings escaped per RFC 8259 (control characters as \u00XX, invalid UTF-8
 * replaced by U+FFFD so the output always parses) and numbers that stay valid JSON (NaN and
 * infinities become null). Parsing JSON is another module's job. */
#ifndef JST_CORE_JSONW_H
#define JST_CORE_JSONW_H

#include <stdio.h>

void jst__json_string(FILE *f, const char *s);
void jst__json_number(FILE *f, double v);

#endif
