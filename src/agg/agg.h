/* Real-time aggregation (DESIGN.md §1): a batch of new events turned into changes of the
 * derived views — per-run totals, per-run-and-zone totals, 1-minute windows per run and zone
 * (energy, CO2e, water, average, max and p50/p90/p99 power from a log-bucket sketch), and
 * totals per user, model, host, grid zone and phase per window, and each host's newest
 * heartbeat. A run whose log holds the intensity values its carbon used (intensity events)
 * gets each sample's CO2e from them, through the run's own integration (integrate.c), so the
 * server's figures are the run's, also when the values come after the samples (settle.c).
 * Pure logic: the store loads the rows a batch touches through the callbacks and writes back
 * the result, in the same transaction as the raw events. Replaying the log batch by batch
 * through the same code gives the same figures bit for bit. */
#ifndef JST_AGG_AGG_H
#define JST_AGG_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/event.h"
#include "joulestream/intensity.h"

#define JST_AGG_WINDOW_NS 60000000000ull /* 1-minute windows */
#define JST_SKETCH_MAX 128               /* buckets kept per sketch (lowest merged beyond) */

/* Power distribution of one window: log buckets of ratio 1.02 (1 % relative error). */
struct jst_sketch {
	uint32_t n;         /* distinct buckets */
	uint64_t count;     /* values added */
	int32_t idx[JST_SKETCH_MAX];
	uint32_t cnt[JST_SKETCH_MAX];
};

void jst__sketch_add(struct jst_sketch *s, double v);
double jst__sketch_quantile(const struct jst_sketch *s, double q);
/* (de)serialisation for the store: 8 bytes per bucket, little endian. */
size_t jst__sketch_encode(const struct jst_sketch *s, unsigned char *out, size_t n);
int jst__sketch_decode(struct jst_sketch *s, const unsigned char *p, size_t n);

struct jst_agg_run {
	char run[JST_EVENT_ID_MAX + 1];
	char host[256], user[64], model[128], project[128], zone[32], phase[256];
	double ci_g_per_kwh, pue, wue, ewif, interval_s;
	bool has_start, scope_host, finished;
	bool series_host;                  /* an agent's host series (hier.h), not a job */
	uint64_t start_ns, end_ns, last_ns;
	int exit_code;
	double duration_s;
	int64_t samples;                   /* sample events received */
	double energy_j, host_energy_j, co2e_g, water_l;
	int64_t gaps, failed;
	bool exists;                       /* loaded from the store (else new) */
	/* the intensity values the run's carbon uses (its intensity events; none: the yearly
	 * ci_g_per_kwh), held for the batch only: reloaded with the run's row */
	struct jst_ci_point *ci;
	size_t nci, cap_ci, ci_hint;
	int64_t ci_last_ns;
	bool ci_sorted;
	/* values that came after samples they change (settle.c): the batch recomputes the CO2e
	 * of the minutes after redo_lo; the run's phases were derived again (phases_redo) */
	int64_t ci_last_t;                 /* the latest value's time (its event sets ci_last_ns) */
	bool redo, phases_redo;
	uint64_t redo_lo;
};

struct jst_agg_zone {
	size_t run;                        /* index into the batch's runs */
	char zone[64], kind[8], source[32];
	uint64_t last_ts_ns;
	int64_t samples, gaps;
	double energy_j, host_energy_j;
	bool exists;
};

struct jst_agg_window {
	size_t run;
	char zone[64];
	uint64_t win;                      /* window start, ns since the epoch */
	int64_t samples;
	double energy_j, host_energy_j, co2e_g, water_l, dt_s, max_w;
	struct jst_sketch sketch;
	bool exists;
};

/* The last heartbeat of a host (for the silent-host flag): the newest wins. */
struct jst_agg_host {
	char host[256];
	char agent[JST_EVENT_ID_MAX + 1]; /* the heartbeat's run, "" when it had none */
	uint64_t last_ns;
	double interval_s;                /* announced; 0 when the heartbeat did not say */
};

/* project is read from the host hierarchy's rows (hier.h) only: no ev_totals row has it */
enum jst_agg_dim { JST_DIM_USER, JST_DIM_MODEL, JST_DIM_HOST, JST_DIM_ZONE, JST_DIM_PHASE, JST_DIM_PROJECT, JST_DIM_N };

/* An additive change of a (dim, key, window) total. */
struct jst_agg_total {
	enum jst_agg_dim dim;
	char key[336];
	uint64_t win;
	int64_t samples;
	double energy_j, co2e_g, water_l;
};

/* Loads existing rows; each returns 1 when found (out filled), 0 when not, <0 on error. */
struct jst_agg_loader {
	void *ud;
	int (*run)(void *ud, const char *run, struct jst_agg_run *out);
	int (*zone)(void *ud, const char *run, const char *zone, struct jst_agg_zone *out);
	int (*window)(void *ud, const char *run, const char *zone, uint64_t win, struct jst_agg_window *out);
	/* optional (NULL: none): the run's stored events of type (NULL: all) from batches up to
	 * max_batch and dated from from_ns on, in log order, each body to fn until it returns
	 * non-zero (< 0: an error, returned) */
	int (*events)(void *ud, const char *run, const char *type, int64_t max_batch, uint64_t from_ns,
		      int (*fn)(int64_t seq, const char *body, size_t len, void *arg), void *arg);
	/* optional (NULL: none): the end of the run's newest stored sample (0: none) */
	int (*last_sample)(void *ud, const char *run, uint64_t *ts_ns);
	int64_t batch; /* the batch being aggregated: the loaders read nothing later */
};

struct jst_agg {
	struct jst_agg_run *runs;
	struct jst_agg_zone *zones;
	struct jst_agg_window *wins;
	struct jst_agg_total *totals;
	struct jst_agg_host *hosts;
	size_t nruns, nzones, nwins, ntotals, nhosts;
	size_t cruns, czones, cwins, ctotals, chosts;
	int err;
};

const char *jst__agg_dim_name(enum jst_agg_dim d);
/* -1 when unknown. */
int jst__agg_dim_parse(const char *name);

void jst__agg_init(struct jst_agg *a);
void jst__agg_reset(struct jst_agg *a);
void jst__agg_release(struct jst_agg *a);
/* Adds one new event (already known not to be a duplicate). 0 or a negative errno. */
int jst__agg_add(struct jst_agg *a, const struct jst_agg_loader *ld, const struct jst_event *ev);

/* The batch's events are all in (settle.c): values that came after the samples they cover
 * give those minutes their CO2e again, and a finished run with training marks gets its
 * phases from its record's view (runview.c). Before the rows are written; the same in a
 * replay, which reads no later batch. 0 or a negative errno. */
int jst__agg_settle(struct jst_agg *a, const struct jst_agg_loader *ld);

/* For settle.c: the (run, zone, minute) window, loaded or new (its index, or < 0); a change
 * of a (dim, key, window) total; a sample's CO2e with the run's series. */
long jst__agg_window(struct jst_agg *a, const struct jst_agg_loader *ld, size_t run, const char *zone,
		     uint64_t win);
int jst__agg_total(struct jst_agg *a, enum jst_agg_dim dim, const char *key, uint64_t win, int64_t samples,
		   double e, double co2e, double water);
double jst__agg_sample_co2e(struct jst_agg_run *r, const struct jst_event *ev, double run_j);
/* The totals a counted sample of run ri adds to in window win (user, model, host, zone, and
 * the run's current phase, "(none)" outside any), each by these amounts. */
int jst__agg_run_totals(struct jst_agg *a, size_t ri, uint64_t win, int64_t samples, double run_j, double co2e,
			double water);

/* True for the zone kinds that add to IT energy (not core, uncore, psys: parts or supersets
 * of others; sensor.h's JST_ZONE_COUNTED). */
bool jst__agg_counted(enum jst_zone_kind k);

#endif
