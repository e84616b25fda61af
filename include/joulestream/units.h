/* Human units for reports and messages: three significant digits with the unit scaled to the
 * size of the number ("41.2 kJ", "0.113 kWh", "61 gCO2e", "0.54 L"), durations ("12m04s") and
 * ISO 8601 UTC times. Pure formatting (src/core/units.c): no state, no allocation; out always
 * gets a terminated string when n > 0. report.h and record.h include this header. */
#ifndef JOULESTREAM_UNITS_H
#define JOULESTREAM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"

JST_API void jst_format_joules(double j, char *out, size_t n);
JST_API void jst_format_kwh(double kwh, char *out, size_t n);
JST_API void jst_format_grams(double g, char *out, size_t n);
JST_API void jst_format_litres(double l, char *out, size_t n);
/* ISO 8601 UTC with seconds: "2026-11-21T05:39:53Z". */
JST_API void jst_format_utc(uint64_t ns, char *out, size_t n);
/* Formats a duration as "12m04s", "3.2s", "1h02m". */
JST_API void jst_format_duration(double s, char *out, size_t n);

#endif
