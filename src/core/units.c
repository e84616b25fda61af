/* Human-readable units (units.h): three significant digits, the unit scaled to the size of the
 * number (J/kJ/MJ/GJ, g/kg/t, mL/L/m³), durations, and ISO 8601 UTC times. Used by reports,
 * the training record's messages and attestations alike, hence in core. */
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "joulestream/units.h"

/* value in base unit; units[i] is 1000^i of it */
static void scaled(double v, const char *const *units, size_t nunits, char *out, size_t n)
{
	size_t i = 0;
	double a = fabs(v);
	while (i + 1 < nunits && a >= 1000) {
		a /= 1000;
		v /= 1000;
		i++;
	}
	int prec = a == 0 || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
	snprintf(out, n, "%.*f %s", prec, v, units[i]);
}

void jst_format_joules(double j, char *out, size_t n)
{
	static const char *const u[] = {"J", "kJ", "MJ", "GJ", "TJ"};
	scaled(j, u, 5, out, n);
}

void jst_format_kwh(double kwh, char *out, size_t n)
{
	double a = kwh < 0 ? -kwh : kwh;
	if (a >= 100)
		snprintf(out, n, "%.0f kWh", kwh);
	else if (a >= 0.1)
		snprintf(out, n, "%.3f kWh", kwh);
	else if (a >= 1e-4)
		snprintf(out, n, "%.3g Wh", kwh * 1e3);
	else
		snprintf(out, n, "%.3g mWh", kwh * 1e6);
}

void jst_format_grams(double g, char *out, size_t n)
{
	static const char *const u[] = {"gCO2e", "kgCO2e", "tCO2e", "ktCO2e"};
	if (g != 0 && g < 1 && g > -1) {
		snprintf(out, n, "%.3g mgCO2e", g * 1e3);
		return;
	}
	scaled(g, u, 4, out, n);
}

void jst_format_litres(double l, char *out, size_t n)
{
	if (l < 1 && l > -1) {
		snprintf(out, n, l * 1000 >= 100 || l == 0 ? "%.0f mL" : "%.3g mL", l * 1000);
		return;
	}
	static const char *const u[] = {"L", "m³", "ML"};
	scaled(l, u, 3, out, n);
}

void jst_format_utc(uint64_t ns, char *out, size_t n)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, n, "?");
}

void jst_format_duration(double s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	if (s < 60) {
		snprintf(out, n, "%.1fs", s);
		return;
	}
	unsigned long t = (unsigned long)(s + 0.5);
	if (t < 3600)
		snprintf(out, n, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(out, n, "%luh%02lum%02lus", t / 3600, t / 60 % 60, t % 60);
}
