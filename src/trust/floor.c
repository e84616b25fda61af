/* The idle floor of a run: the calibrated idle power of the host's counted zones times the
 * run's duration, and the dynamic energy above it (docs/integrity.md, "Calibration"). Zones
 * are matched by name and source; a counted zone the calibration lacks is left out of both
 * figures and counted in `missing`. Pure: the store finds the calibration. */
#include <string.h>

#include "joulestream/trust.h"

void jst_floor_compute(const struct jst_calibration *c, struct jst_run *run)
{
	struct jst_floor *f = &run->floor;
	memset(f, 0, sizeof(*f));
	f->calibrated_ns = c->calibrated_ns;
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *zt = &run->zones[i];
		if (!(zt->zone.flags & JST_ZONE_COUNTED))
			continue;
		const struct jst_calib_zone *cz = NULL;
		for (size_t k = 0; k < c->nzones && !cz; k++)
			if (strcmp(c->zones[k].zone, zt->zone.name) == 0 &&
			    strcmp(c->zones[k].source, zt->zone.source ? zt->zone.source : "") == 0)
				cz = &c->zones[k];
		if (!cz || cz->samples == 0) {
			f->missing++;
			continue;
		}
		f->zones++;
		f->idle_w += cz->idle_w;
		f->covered_j += zt->host_j;
	}
	if (f->zones == 0)
		return;
	f->known = true;
	f->floor_j = f->idle_w * run->duration_s;
	f->dynamic_j = f->covered_j - f->floor_j;
	if (f->dynamic_j < 0) {
		f->below = true;
		f->dynamic_j = 0;
	}
}
