/* The footprint of an amount of IT energy (docs/methodology.md has the formulas and why):
 * facility energy = IT × PUE, carbon = facility × CI, on-site water = IT × WUE (The Green
 * Grid's definition: per IT kWh), grid water = facility × EWIF. Pure arithmetic: choosing the
 * zone, PUE and WUE (and saying which defaults were used) is the caller's job. */
#include <math.h>

#include "joulestream/carbon.h"

#define J_PER_KWH 3.6e6

/* A factor that is not a finite number >= 0 (an unknown WUE or EWIF is -1) contributes
 * nothing rather than a negative or NaN figure; a PUE below 1, which cannot be, counts as 1. */
static double usable(double v)
{
	return isfinite(v) && v >= 0 ? v : 0;
}

void jst_footprint(const struct jst_footprint_in *in, struct jst_footprint *out)
{
	const struct jst_grid_zone *zone = in->zone ? in->zone : jst_grid_world();
	double pue = isfinite(in->pue) && in->pue >= 1 ? in->pue : 1;
	double ci = zone ? usable(zone->ci_g_per_kwh) : 0;
	double ewif = zone ? usable(zone->ewif_l_per_kwh) : 0; /* unknown (-1) counts as 0 */

	out->it_kwh = usable(in->it_energy_j) / J_PER_KWH;
	out->facility_kwh = out->it_kwh * pue;
	out->co2e_g = out->facility_kwh * ci;
	out->water_site_l = out->it_kwh * usable(in->wue_l_per_kwh);
	out->water_grid_l = out->facility_kwh * ewif;
	out->water_l = out->water_site_l + out->water_grid_l;
}
