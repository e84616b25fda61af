/* The monitor: the sampling loop's body, one tick at a time. Each tick reads every sensor zone,
 * refreshes the run's shares (CPU time from the process tree, GPU use from the driver), adds
 * the interval's energy to the per-zone totals, the bounded timeline and the pending samples
 * that the caller stores. Nothing here allocates after jst_monitor_new(); the fork, signals and
 * timers of `joulestream run` are in src/cli/run.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "joulestream/intensity.h"
#include "joulestream/run.h"
#include "run/monitor.h"
#include "trust/integrity.h"

#define GPU_PROCS_MAX 64
#define SHARE_REFRESH_NS 100000000u /* GPU process lists are re-read at most every 100 ms */
#define TREE_REFRESH_NS 10000000u   /* process CPU times at most every 10 ms (a clock tick) */

struct jst_monitor {
	struct jst_monitor_opts opts;
	struct jst_run *run;
	struct jst_sensors *sensors;
	struct jst_proctree *tree;
	struct jst_reading *readings; /* [nzones] */
	struct jst_share *shares;     /* [nzones] current run share per zone */
	double *tick_host, *tick_run; /* [nzones] scratch for the timeline */
	struct jst_share cpu_share;
	struct jst_gpu_proc gpu_procs[GPU_PROCS_MAX];
	struct jst_timeline timeline;
	struct jst_sample *pending;
	size_t npending, pending_max;
	unsigned long dropped;
	uint64_t start_ns, last_ns, last_gpu_ns, last_tree_ns;
	unsigned long ticks;
	double last_reaped_s;
	struct jst__trainer *trainer; /* phases, epochs, metrics: from the first mark on */
	pid_t root;                   /* the attached process: still alive at the end in-process */
	const struct jst_series *series; /* intensity series for the live integration, or NULL */
	struct jst_carbon_acc carbon;    /* carbon and water integrated tick by tick */
	struct jst__integrity *integrity; /* the run's flags (src/trust/integrity.c) */
};

int jst_monitor_new(struct jst_monitor **out, const struct jst_monitor_opts *opts, struct jst_run *run)
{
	struct jst_monitor *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->opts = *opts;
	m->run = run;
	struct jst_sensor_opts so = {opts->roots, opts->sensors, opts->no_estimate};
	int r = jst_sensors_open(&m->sensors, &so);
	if (r < 0)
		goto fail;
	size_t nz = jst_sensors_count(m->sensors);
	size_t n1 = nz ? nz : 1;
	/* room for twice the samples of one drain period (the caller drains every 250 ms) */
	uint64_t ticks = 500000000u / (opts->interval_ns ? opts->interval_ns : 1000000000u) + 1;
	m->pending_max = opts->pending_max ? opts->pending_max : 256 + (size_t)ticks * n1;
	m->readings = calloc(n1, sizeof(*m->readings));
	m->shares = calloc(n1, sizeof(*m->shares));
	m->tick_host = calloc(n1, sizeof(double));
	m->tick_run = calloc(n1, sizeof(double));
	m->pending = calloc(m->pending_max, sizeof(*m->pending));
	r = -ENOMEM;
	if (!m->readings || !m->shares || !m->tick_host || !m->tick_run || !m->pending)
		goto fail;
	r = jst_timeline_init(&m->timeline, nz);
	if (r < 0 || (r = jst__integrity_new(&m->integrity, nz, (double)opts->interval_ns / 1e9)) < 0)
		goto fail;

	run->nzones = nz;
	run->scope = opts->scope;
	run->interval_s = (double)opts->interval_ns / 1e9;
	size_t off = 0;
	run->meta.sensors[0] = '\0';
	for (size_t i = 0; i < nz; i++) {
		memset(&run->zones[i], 0, sizeof(run->zones[i]));
		run->zones[i].zone = *jst_sensors_zone(m->sensors, i);
	}
	for (size_t b = 0; b < jst_sensors_backend_count(m->sensors); b++) {
		const struct jst_backend_status *st = jst_sensors_backend(m->sensors, b);
		if (st->state != JST_BACKEND_ACTIVE)
			continue;
		if (st->why[0])
			jst_run_note(run, "%s: %s", st->name, st->why);
		int w = snprintf(run->meta.sensors + off, sizeof(run->meta.sensors) - off, "%s%s",
		                 off ? "," : "", st->name);
		if (w > 0 && (size_t)w < sizeof(run->meta.sensors) - off)
			off += (size_t)w;
	}
	jst_sensors_drivers(m->sensors, run->meta.gpu_driver, sizeof(run->meta.gpu_driver));
	if (nz == 0)
		jst_run_note(run, "no energy sensor and no estimate available: energy is unknown");
	*out = m;
	return 0;
fail:
	jst_monitor_free(m);
	return r;
}

void jst_monitor_free(struct jst_monitor *m)
{
	if (!m)
		return;
	jst_sensors_close(m->sensors);
	jst_proctree_free(m->tree);
	jst_timeline_release(&m->timeline);
	jst__trainer_free(m->trainer);
	jst__integrity_free(m->integrity);
	free(m->readings);
	free(m->shares);
	free(m->tick_host);
	free(m->tick_run);
	free(m->pending);
	free(m);
}

struct jst_sensors *jst_monitor_sensors(struct jst_monitor *m)
{
	return m->sensors;
}

const struct jst_timeline *jst_monitor_timeline(const struct jst_monitor *m)
{
	return &m->timeline;
}

void jst_monitor_start(struct jst_monitor *m, uint64_t now_ns)
{
	m->start_ns = m->last_ns = now_ns;
	m->last_gpu_ns = 0;
	m->last_tree_ns = 0;
	m->cpu_share = (struct jst_share){0, 0, 1};
	m->run->start_ns = jst__wall_ns();
	jst_carbon_acc_for_site(&m->carbon, &m->run->site, m->series);
	jst__integrity_start(m->integrity, now_ns, m->run->start_ns);
	/* Restart every zone's baseline now: what the sensors counted while the run was being
	 * set up is not the run's. */
	jst_sensors_read(m->sensors, now_ns, m->readings);
}

int jst_monitor_attach(struct jst_monitor *m, pid_t root, pid_t reaper)
{
	if (m->opts.scope == JST_SCOPE_HOST || root <= 0)
		return 0;
	int r = jst_proctree_new(&m->tree, m->opts.roots.procfs, root, reaper);
	m->root = root;
	if (r < 0)
		jst_run_note(m->run, "cannot follow the command's processes (%s): CPU shares unknown",
		             jst_strerror(r));
	return r;
}

/* The run's share of zone i for this interval. */
static void zone_share(struct jst_monitor *m, size_t i, uint64_t now_ns, bool gpu_due)
{
	const struct jst_zone *z = &m->run->zones[i].zone;
	struct jst_share *sh = &m->shares[i];
	if (m->opts.scope == JST_SCOPE_HOST) {
		*sh = (struct jst_share){1, 0, 0};
		return;
	}
	if (z->flags & JST_ZONE_BY_CPU) {
		*sh = m->cpu_share;
		return;
	}
	if (z->flags & JST_ZONE_BY_GPU) {
		if (!gpu_due)
			return; /* keep the last GPU share between refreshes */
		int n = jst_sensors_gpu_procs(m->sensors, i, m->gpu_procs, GPU_PROCS_MAX);
		if (n >= 0) {
			jst_share_gpu(m->gpu_procs, (size_t)n, m->tree, sh);
		} else {
			/* the driver cannot tell who uses it: the GPU is the run's only when
			 * the run owns the machine; say so once */
			*sh = (struct jst_share){0, 1, 0};
			if (m->ticks == 1)
				jst_run_note(m->run, "%s: no per-process information, not charged to the run "
				             "(use --scope host on a dedicated node)", z->name);
		}
		(void)now_ns;
		return;
	}
	*sh = (struct jst_share){0, 1, 0}; /* other devices: host only */
}

static void add_pending(struct jst_monitor *m, const struct jst_sample *s)
{
	if (m->npending == m->pending_max) {
		if (m->dropped++ == 0)
			jst_run_note(m->run, "sample buffer full: some samples were not stored "
			             "(totals are complete)");
		return;
	}
	m->pending[m->npending++] = *s;
}

void jst_monitor_tick(struct jst_monitor *m, uint64_t now_ns, double reaped_s)
{
	struct jst_run *run = m->run;
	size_t nz = run->nzones;
	double t_s = (double)(m->last_ns - m->start_ns) / 1e9;
	double dt = (double)(now_ns - m->last_ns) / 1e9;
	m->ticks++;
	run->samples++;
	m->last_reaped_s = reaped_s;
	jst_sensors_read(m->sensors, now_ns, m->readings);
	jst__integrity_tick(m->integrity, run, now_ns, jst__wall_ns(), m->readings);
	/* CPU times in /proc move in clock ticks (10 ms): reading them faster only costs */
	if (m->tree && (m->last_tree_ns == 0 ||
	                now_ns + m->opts.interval_ns / 2 >= m->last_tree_ns + TREE_REFRESH_NS)) {
		struct jst_cpu_times ct;
		m->last_tree_ns = now_ns;
		if (jst_proctree_sample(m->tree, reaped_s, &ct) == 0) {
			run->cpu_s += ct.run_s;
			struct jst_share prev = m->cpu_share;
			jst_share_cpu(&ct, &prev, &m->cpu_share);
		}
	}
	/* refresh at most every SHARE_REFRESH_NS, or every tick when ticks are slower; half a
	 * tick of slack so timer jitter does not skip a refresh */
	uint64_t period = m->opts.interval_ns > SHARE_REFRESH_NS ? m->opts.interval_ns : SHARE_REFRESH_NS;
	bool gpu_due = m->last_gpu_ns == 0 || now_ns + m->opts.interval_ns / 2 >= m->last_gpu_ns + period;
	if (gpu_due)
		m->last_gpu_ns = now_ns;
	for (size_t i = 0; i < nz; i++) {
		const struct jst_reading *rd = &m->readings[i];
		struct jst_zone_total *zt = &run->zones[i];
		zone_share(m, i, now_ns, gpu_due);
		m->tick_host[i] = m->tick_run[i] = 0;
		if (rd->flags & JST_READ_WRAP)
			zt->wraps++;
		if (rd->flags & JST_READ_BACKWARDS)
			zt->backwards++;
		if ((rd->flags & JST_READ_GONE) && !zt->gone) {
			zt->gone = true;
			jst_run_note(run, "%s (%s) disappeared %.1f s into the run", zt->zone.name,
			             zt->zone.source, t_s + dt);
		}
		if (!(rd->flags & JST_READ_ENERGY)) {
			zt->failed++;
			continue;
		}
		struct jst_sample s = {t_s, dt, (uint32_t)i, rd->flags, rd->energy_j, rd->energy_j * m->shares[i].run,
		                       rd->power_w, rd->energy_j * m->shares[i].idle};
		jst_zone_total_add(zt, &s);
		m->tick_host[i] = s.host_j;
		m->tick_run[i] = s.run_j;
		add_pending(m, &s);
		if (m->carbon.series && (zt->zone.flags & JST_ZONE_COUNTED))
			jst_carbon_acc_add(&m->carbon, run->start_ns, t_s, dt, s.run_j);
	}
	if (m->trainer)
		jst__trainer_tick(m->trainer, run, now_ns, m->tick_run);
	jst_timeline_add(&m->timeline, t_s, dt, m->tick_host, m->tick_run);
	m->last_ns = now_ns;
}

const struct jst_sample *jst_monitor_pending(const struct jst_monitor *m, size_t *n)
{
	*n = m->npending;
	return m->pending;
}

void jst_monitor_drained(struct jst_monitor *m)
{
	m->npending = 0;
	if (m->trainer)
		jst__trainer_drained(m->trainer);
}

size_t jst_monitor_descendants(const struct jst_monitor *m)
{
	pid_t pids[64];
	size_t n = m->tree ? jst_proctree_alive(m->tree, pids, JST_ARRAY_LEN(pids)) : 0, own = 0;
	for (size_t i = 0; i < n && i < JST_ARRAY_LEN(pids); i++)
		own += pids[i] == m->root; /* the attached process, or the tracker's own */
	return n - own;
}

/* The processes of the run still alive at its end, by pid and name ("4242 (sleep)"), in a note:
 * the command's descendants that outlived it (measured until then), or the tracker's. */
static void alive_note(const struct jst_monitor *m, struct jst_run *run)
{
	pid_t pids[64];
	size_t n = m->tree ? jst_proctree_alive(m->tree, pids, JST_ARRAY_LEN(pids)) : 0;
	size_t left = 0, listed = 0, off = 0;
	char list[200] = "";
	for (size_t i = 0; i < n; i++) {
		if (i < JST_ARRAY_LEN(pids) && pids[i] == m->root)
			continue; /* the tracker's own process (tracker.h) is still running, as it should */
		left++;
		if (i >= JST_ARRAY_LEN(pids) || off >= sizeof(list) - 48)
			continue;
		char path[4200], comm[32] = "?";
		if (jst__path(path, sizeof(path), m->opts.roots.procfs, "/proc/%d/comm", (int)pids[i]) == 0)
			(void)jst__read_file(path, comm, sizeof(comm));
		int w = snprintf(list + off, sizeof(list) - off, "%s%d (%s)", off ? ", " : "", (int)pids[i], comm);
		if (w > 0 && (size_t)w < sizeof(list) - off) {
			off += (size_t)w;
			listed++;
		}
	}
	if (left)
		jst_run_note(run, "%zu process%s started by the command still ran when it exited: %s%s; "
		             "measured until then (run --wait-descendants waits for them)", left,
		             left == 1 ? "" : "es", list, listed < left ? ", …" : "");
}

void jst_monitor_finish(struct jst_monitor *m, uint64_t now_ns)
{
	struct jst_run *run = m->run;
	run->end_ns = jst__wall_ns();
	run->duration_s = (double)(now_ns - m->start_ns) / 1e9;
	run->finished = true;
	struct jst_cpu_times ct; /* the CPU time since the last refresh, for cpu_s */
	if (m->tree && jst_proctree_sample(m->tree, m->last_reaped_s, &ct) == 0)
		run->cpu_s += ct.run_s;
	for (size_t b = 0; b < jst_sensors_backend_count(m->sensors); b++) {
		const struct jst_backend_status *st = jst_sensors_backend(m->sensors, b);
		if (st->failures > 0)
			jst_run_note(run, "%s: %lu failed reads%s%s", st->name, st->failures,
			             st->why[0] ? ": " : "", st->why);
	}
	for (size_t i = 0; i < run->nzones; i++) {
		const struct jst_zone_total *zt = &run->zones[i];
		if (zt->backwards)
			jst_run_note(run, "%s: counter went backwards %lu times with no known range; "
			             "those intervals are missing from the total", zt->zone.name, zt->backwards);
	}
	if (m->dropped)
		jst_run_note(run, "%lu samples not stored (buffer full)", m->dropped);
	alive_note(m, run);
	jst__integrity_finish(m->integrity, run, now_ns, m->dropped);
	if (m->trainer)
		jst__trainer_finish(m->trainer, run, now_ns);
	jst_run_finish_totals(run);
	jst_run_yearly_result(run,
			      &run->result); /* totals, and the footprint at the yearly average */
	if (m->carbon.series)
		jst_carbon_acc_result(&m->carbon, &run->result);
	jst_run_sci(run, &run->result);
}

void jst_monitor_set_series(struct jst_monitor *m, const struct jst_series *series)
{
	m->series = series;
	jst_carbon_acc_for_site(&m->carbon, &m->run->site, series);
}

struct jst__trainer **jst__monitor_training(struct jst_monitor *m, struct jst_run **run,
                                            uint64_t *start_ns, uint64_t *last_ns)
{
	*run = m->run;
	*start_ns = m->start_ns;
	*last_ns = m->last_ns;
	return &m->trainer;
}

struct jst__trainer *jst__monitor_trainer(const struct jst_monitor *m)
{
	return m->trainer;
}
