/* The accounting hierarchy (DESIGN.md §9): host ⊇ runs. For one host and one 1-minute window,
 * the counted figures of each series seen there (an agent's host series, host-scope and
 * process-scope runs) become the rows the fleet's totals add up: the host's energy once, each
 * run's claim on it by user, model, project and grid zone, and the part no run claims
 * (unattributed: idle and other processes). Pure logic: the engine (src/store/hier.c) loads
 * the claims of a (host, window) the batch touched and writes back the rows, in the batch's
 * transaction; the result depends only on the stored windows, so a rebuild gives the same.
 * The rule, in docs/methodology.md ("Hosts, runs and what is unattributed"):
 * - H, the host's energy: the agent's series where one has samples in the window; else the
 *   larger of the host-scope runs' energy and the sum of the process-scope runs' energy. The
 *   host-scope runs' energy is scaled by U / T when their sampled seconds T add up to more
 *   than U, the time their spans cover together in the window (each span from its first
 *   sample's end to one interval past its last event, as samples count in the window of their
 *   end), so overlapping host-scope runs count the host once.
 * - process-scope runs claim their share, scaled down together if they exceed H; host-scope
 *   runs share what is left of H, at most their own (overlap-scaled) energy, in proportion to
 *   their energy; the rest is unattributed (only with an agent: without one nothing is left).
 * - CO2e and water follow each run's energy through the same factor, each at the run's own
 *   intensity and PUE; the unattributed part at the agent's. */
#ifndef JST_AGG_HIER_H
#define JST_AGG_HIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg/agg.h"

#define JST_HIER_WINDOW_S ((double)JST_AGG_WINDOW_NS / 1e9)
#define JST_HIER_UNATTRIBUTED "(unattributed)" /* the key of the unattributed group in the API */

/* One series' counted figures in one (host, window): the sums over its counted zones. */
struct jst_hier_claim {
	char run[JST_EVENT_ID_MAX + 1];
	char user[64], model[128], project[128], zone[32];
	bool series_host, scope_host;
	int64_t samples;
	double energy_j, co2e_g, water_l;
	double secs; /* sampled seconds: the largest of its zones' */
	uint64_t start_ns, last_ns; /* the run's start and newest event (ev_runs) */
	double interval_s;          /* its sampling interval (0: unknown) */
};

/* A row of the hierarchy: dim is JST_DIM_HOST, _USER, _MODEL, _PROJECT or _ZONE; unattributed
 * rows (user, model, project) have key "". Their sums over a range are the API's groups. */
struct jst_hier_row {
	enum jst_agg_dim dim;
	bool unattributed;
	char key[256];
	int64_t samples;
	double energy_j, co2e_g, water_l;
};

struct jst_hier_rows {
	struct jst_hier_row *row;
	size_t n, cap;
};

void jst__hier_rows_release(struct jst_hier_rows *r);
/* The rows of host's window from its n claims (any order; sorted by run inside, so the sums
 * do not depend on it), replacing out's. 0 or -ENOMEM. */
int jst__hier_split(const char *host, uint64_t win, struct jst_hier_claim *c, size_t n, struct jst_hier_rows *out);

#endif
