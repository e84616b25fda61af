/* The node agent (include/joulestream/agent.h). Each tick runs the monitor over the whole host
 * (scope host), scans /proc for workloads, and adds to the counters that /metrics exposes:
 * per zone (joules, watts, wraps), per workload (joules of the counted CPU zones, shared by
 * CPU time as Kepler does: a workload gets E × its CPU time / the host's total CPU time, so
 * idle and the host's own processes stay the host's and Σ workloads ≤ host by construction;
 * joules of GPU zones by the processes the driver lists on each GPU, as `run` shares them),
 * and the agent's own CPU time, RSS and sensor read time. Labels are bounded: the first `top`
 * workloads seen keep their own label for the agent's life (a counter must not move between
 * labels), every later one adds to workload="other". The host's and each workload's CO2e and
 * water counters are their counted joules through the footprint of the agent's zone (yearly
 * average intensity, PUE, WUE: constant for the agent's life, so the counters only grow). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "attrib/workload.h"
#include "run/session.h"
#include "core/util.h"
#include "joulestream/agent.h"
#include "joulestream/event.h"
#include "joulestream/run.h"
#include "joulestream/train.h"
#include "server/httpd.h"

#define USES_MAX 4096
#define HEARTBEAT_NS 60000000000ull
#define GPU_PROCS_MAX 64

struct wl {
	char key[JST_WORKLOAD_KEY];
	double joules;
	double gpu_joules; /* the part of joules from GPU zones */
};

struct jst_agent {
	struct jst_agent_opts o;
	struct jst_run *run;
	struct jst_monitor *mon;
	struct jst_workloads *wls;
	struct jst_workload_use *uses;
	struct jst_httpd *http;
	struct jst__session ses; /* the host series' sinks (--sink), as a run's (src/run/session.c) */
	bool mu_init;
	pthread_mutex_t mu; /* guards everything below, read by /metrics */
	double zone_j[JST_ZONES_MAX], zone_w[JST_ZONES_MAX];
	double counted_j; /* the counted zones' joules: the host's footprint */
	struct wl *wl;
	size_t nwl;
	double other_j, other_gpu_j;
	struct jst_gpu_proc gpu_procs[GPU_PROCS_MAX];
	double read_s_sum;
	uint64_t reads, workload_scan_errors;
	uint64_t started_ns, last_heartbeat_ns, heartbeats;
};

static void add_workload(struct jst_agent *a, const char *key, double j, double gpu_j)
{
	for (size_t i = 0; i < a->nwl; i++)
		if (strcmp(a->wl[i].key, key) == 0) {
			a->wl[i].joules += j + gpu_j;
			a->wl[i].gpu_joules += gpu_j;
			return;
		}
	if (a->nwl == a->o.top) {
		a->other_j += j + gpu_j;
		a->other_gpu_j += gpu_j;
		return;
	}
	jst__strlcpy(a->wl[a->nwl].key, key, sizeof(a->wl[a->nwl].key));
	a->wl[a->nwl].gpu_joules = gpu_j;
	a->wl[a->nwl++].joules = j + gpu_j;
}

/* A GPU zone's energy of this tick among the workloads of the processes on it, by their SM
 * utilisation when the driver gives it, else evenly (jst_share_gpu's rule); the part of
 * processes with no workload, and of an idle GPU, stays the host's. Needs the scan of /proc
 * made just before (attribute()). */
static void attribute_gpu(struct jst_agent *a, size_t zone, double gpu_j)
{
	int n = jst_sensors_gpu_procs(jst_monitor_sensors(a->mon), zone, a->gpu_procs, GPU_PROCS_MAX);
	if (n <= 0 || !(gpu_j > 0))
		return;
	bool by_util = true;
	double all = 0;
	for (int i = 0; i < n; i++) {
		by_util = by_util && a->gpu_procs[i].util_known;
		all += a->gpu_procs[i].sm_util > 100 ? 100 : a->gpu_procs[i].sm_util;
	}
	by_util = by_util && all > 0;
	for (int i = 0; i < n; i++) {
		const char *key = jst__workloads_key(a->wls, a->gpu_procs[i].pid);
		if (!key[0])
			continue;
		unsigned u = a->gpu_procs[i].sm_util > 100 ? 100 : a->gpu_procs[i].sm_util;
		add_workload(a, key, 0, gpu_j * (by_util ? u / all : 1.0 / n));
	}
}

/* Workload shares of this tick's counted CPU-zone energy. 0, or -1 when /proc could not be
 * scanned (the GPU split then waits for the next tick too). */
static int attribute(struct jst_agent *a, double cpu_zone_j)
{
	size_t n = 0;
	double total_s = 0, busy_s = 0;
	if (jst__workloads_scan(a->wls, a->uses, USES_MAX, &n, &total_s, &busy_s) < 0) {
		a->workload_scan_errors++;
		return -1;
	}
	if (total_s <= 0 || n == 0)
		return 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += a->uses[i].cpu_s;
	/* clock-tick rounding can make the processes' sum pass the host's busy time */
	double scale = sum > busy_s && sum > 0 ? busy_s / sum : 1;
	for (size_t i = 0; i < n; i++)
		add_workload(a, a->uses[i].key, cpu_zone_j * a->uses[i].cpu_s * scale / total_s, 0);
	return 0;
}

void jst_agent_tick(struct jst_agent *a, uint64_t now_ns)
{
	uint64_t t0 = jst__mono_ns();
	jst_monitor_tick(a->mon, now_ns, 0);
	double read_s = (double)(jst__mono_ns() - t0) / 1e9;
	size_t n;
	const struct jst_sample *v = jst_monitor_pending(a->mon, &n);
	pthread_mutex_lock(&a->mu);
	a->reads++;
	a->read_s_sum += read_s;
	double cpu_j = 0;
	for (size_t i = 0; i < n; i++) {
		const struct jst_zone *z = &a->run->zones[v[i].zone].zone;
		a->zone_j[v[i].zone] += v[i].host_j;
		a->zone_w[v[i].zone] = v[i].power_w;
		if (z->flags & JST_ZONE_COUNTED)
			a->counted_j += v[i].host_j;
		if ((z->flags & JST_ZONE_COUNTED) && (z->flags & JST_ZONE_BY_CPU))
			cpu_j += v[i].host_j;
	}
	if (attribute(a, cpu_j) == 0)
		for (size_t i = 0; i < n; i++) {
			const struct jst_zone *z = &a->run->zones[v[i].zone].zone;
			if ((z->flags & JST_ZONE_COUNTED) && (z->flags & JST_ZONE_BY_GPU))
				attribute_gpu(a, v[i].zone, v[i].host_j);
		}
	pthread_mutex_unlock(&a->mu);
	jst__session_drain(&a->ses, a->mon);
	if (a->ses.sink.sink && now_ns - a->last_heartbeat_ns >= HEARTBEAT_NS) {
		a->last_heartbeat_ns = now_ns;
		int len = jst_event_encode_heartbeat(a->run->id, a->heartbeats++, a->run->meta.host,
		                                     (double)(now_ns - a->started_ns) / 1e9, HEARTBEAT_NS / 1e9,
		                                     a->ses.sink.line, sizeof(a->ses.sink.line));
		if (len > 0)
			jst_sink_write(a->ses.sink.sink, a->ses.sink.line, (size_t)len);
	}
}

static void metric_head(struct jst_jbuf *b, const char *name, const char *type, const char *help)
{
	jst__jbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value escaped for the exposition format (\\, \", \n). */
static void label(struct jst_jbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			jst__jbuf_put(b, "\\", 1);
		if (*v == '\n')
			jst__jbuf_put(b, "\\n", 2);
		else
			jst__jbuf_put(b, v, 1);
	}
}

static void self_metrics(struct jst_agent *a, struct jst_jbuf *b)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	             (double)ru.ru_stime.tv_usec / 1e6;
	char buf[256];
	double rss = 0;
	if (jst__read_file("/proc/self/statm", buf, sizeof(buf)) > 0) {
		const char *p = buf, *end = buf + strlen(buf);
		uint64_t size, res;
		if (jst__next_u64(&p, end, &size) == 0 && jst__next_u64(&p, end, &res) == 0)
			rss = (double)res * (double)sysconf(_SC_PAGESIZE);
	}
	metric_head(b, "joulestream_process_cpu_seconds_total", "counter", "CPU time the agent itself used.");
	jst__jbuf_printf(b, "joulestream_process_cpu_seconds_total %.6f\n", cpu);
	metric_head(b, "joulestream_process_resident_memory_bytes", "gauge", "Resident memory of the agent.");
	jst__jbuf_printf(b, "joulestream_process_resident_memory_bytes %.0f\n", rss);
	metric_head(b, "joulestream_sensor_read_seconds", "summary", "Time to read every sensor and update the shares, per tick.");
	jst__jbuf_printf(b, "joulestream_sensor_read_seconds_sum %.9f\njoulestream_sensor_read_seconds_count %llu\n",
	                 a->read_s_sum, (unsigned long long)a->reads);
	metric_head(b, "joulestream_workload_scan_errors_total", "counter", "Failed scans of /proc for workloads.");
	jst__jbuf_printf(b, "joulestream_workload_scan_errors_total %llu\n", (unsigned long long)a->workload_scan_errors);
}

/* One counter per workload and for "other": name{workload="…"}, their joules' CO2e (what 0)
 * or water (what 1) with the host's factors. */
static void footprint_series(struct jst_agent *a, struct jst_jbuf *b, const char *name, int what)
{
	struct jst_footprint f;
	for (size_t i = 0; i <= a->nwl; i++) {
		jst_train_footprint(a->run, i < a->nwl ? a->wl[i].joules : a->other_j, &f);
		jst__jbuf_printf(b, "%s{workload=\"", name);
		label(b, i < a->nwl ? a->wl[i].key : "other");
		jst__jbuf_printf(b, "\"} %.9g\n", what ? f.water_l : f.co2e_g);
	}
}

/* CO2e and water next to the joules, labelled with where the factors come from. */
static void footprint_metrics(struct jst_agent *a, struct jst_jbuf *b)
{
	struct jst_footprint f;
	const struct jst_run *r = a->run;
	jst_train_footprint(r, a->counted_j, &f);
	metric_head(b, "joulestream_host_co2e_grams_total", "counter",
	            "CO2e of the host's counted zones since the agent started: energy x PUE x the grid zone's "
	            "yearly average intensity (labels: zone, intensity year and source, PUE).");
	jst__jbuf_str(b, "joulestream_host_co2e_grams_total{grid_zone=\"");
	label(b, r->site.zone_code);
	jst__jbuf_printf(b, "\",ci_year=\"%d\",ci_source=\"", r->site.ci_year);
	label(b, r->site.ci_source);
	jst__jbuf_printf(b, "\",pue=\"%.3g\"} %.9g\n", r->site.pue, f.co2e_g);
	metric_head(b, "joulestream_host_water_liters_total", "counter",
	            "Water of the host's counted zones since the agent started: on site (WUE) and in the grid's "
	            "generation (EWIF), in litres.");
	jst__jbuf_str(b, "joulestream_host_water_liters_total{grid_zone=\"");
	label(b, r->site.zone_code);
	jst__jbuf_printf(b, "\",wue=\"%.3g\"} %.9g\n", r->site.wue_l_per_kwh, f.water_l);
	metric_head(b, "joulestream_workload_co2e_grams_total", "counter",
	            "CO2e of joulestream_workload_joules_total, with the host's factors.");
	footprint_series(a, b, "joulestream_workload_co2e_grams_total", 0);
	metric_head(b, "joulestream_workload_water_liters_total", "counter",
	            "Water of joulestream_workload_joules_total, with the host's factors.");
	footprint_series(a, b, "joulestream_workload_water_liters_total", 1);
}

char *jst_agent_metrics(struct jst_agent *a)
{
	struct jst_jbuf b;
	jst__jbuf_init(&b, 16u << 20);
	pthread_mutex_lock(&a->mu);
	const char *heads[][3] = {
		{"joulestream_zone_joules_total", "counter", "Energy a sensor zone measured since the agent started, in joules."},
		{"joulestream_zone_watts", "gauge", "Average power of a zone over the last interval, in watts."},
		{"joulestream_zone_wraps_total", "counter", "Hardware energy counter wraps handled."},
	};
	for (int m = 0; m < 3; m++) {
		metric_head(&b, heads[m][0], heads[m][1], heads[m][2]);
		for (size_t i = 0; i < a->run->nzones; i++) {
			const struct jst_zone *z = &a->run->zones[i].zone;
			jst__jbuf_printf(&b, "%s{zone=\"", heads[m][0]);
			label(&b, z->name);
			jst__jbuf_str(&b, "\",source=\"");
			label(&b, z->source ? z->source : "");
			jst__jbuf_printf(&b, "\",kind=\"%s\"} ", jst_zone_kind_name(z->kind));
			double v = m == 0 ? a->zone_j[i] : m == 1 ? a->zone_w[i] : (double)a->run->zones[i].wraps;
			jst__jbuf_printf(&b, "%.9g\n", v);
		}
	}
	metric_head(&b, "joulestream_workload_joules_total", "counter",
	            "Energy of the counted zones attributed to a workload (container:ID, pod:UID, run:ID, "
	            "other): CPU zones by CPU time, GPU zones by the processes on the GPU.");
	for (size_t i = 0; i < a->nwl; i++) {
		jst__jbuf_str(&b, "joulestream_workload_joules_total{workload=\"");
		label(&b, a->wl[i].key);
		jst__jbuf_printf(&b, "\"} %.9g\n", a->wl[i].joules);
	}
	jst__jbuf_printf(&b, "joulestream_workload_joules_total{workload=\"other\"} %.9g\n", a->other_j);
	metric_head(&b, "joulestream_workload_gpu_joules_total", "counter",
	            "The part of joulestream_workload_joules_total from GPU zones.");
	for (size_t i = 0; i < a->nwl; i++) {
		jst__jbuf_str(&b, "joulestream_workload_gpu_joules_total{workload=\"");
		label(&b, a->wl[i].key);
		jst__jbuf_printf(&b, "\"} %.9g\n", a->wl[i].gpu_joules);
	}
	jst__jbuf_printf(&b, "joulestream_workload_gpu_joules_total{workload=\"other\"} %.9g\n",
	                 a->other_gpu_j);
	footprint_metrics(a, &b);
	self_metrics(a, &b);
	pthread_mutex_unlock(&a->mu);
	if (b.full) {
		jst__jbuf_release(&b);
		return NULL;
	}
	return b.p;
}

static bool metrics_precheck(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	(void)ud;
	if (strcmp(req->path, "/metrics") == 0 && strcmp(req->method, "GET") == 0)
		return false;
	jst__httpd_error(resp, 404, 0, "only GET /metrics here");
	return true;
}

static void metrics_handle(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	(void)req;
	char *text = jst_agent_metrics(ud);
	if (!text) {
		jst__httpd_error(resp, 500, 0, "metrics too large");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	jst__jbuf_str(&resp->body, text);
	free(text);
}

int jst_agent_new(struct jst_agent **out, const struct jst_agent_opts *o, char *err, size_t errlen)
{
	struct jst_agent *a = calloc(1, sizeof(*a));
	if (!a || !(a->run = calloc(1, sizeof(*a->run))) || !(a->uses = calloc(USES_MAX, sizeof(*a->uses)))) {
		snprintf(err, errlen, "out of memory");
		jst_agent_free(a, 0, NULL);
		return -ENOMEM;
	}
	a->o = *o;
	if (!a->o.top)
		a->o.top = 20;
	pthread_mutex_init(&a->mu, NULL);
	a->mu_init = true;
	int r = -ENOMEM;
	if (!(a->wl = calloc(a->o.top, sizeof(*a->wl))))
		goto fail;
	char *argv[] = {(char *)(uintptr_t)"joulestream", (char *)(uintptr_t)"agent"};
	jst_run_id_new(a->run->id);
	a->run->host_series = true; /* the host's energy, never a job's (docs/schema.md) */
	jst_meta_collect(&a->run->meta, o->roots.procfs, 2, argv);
	jst_meta_collect_finish(&a->run->meta);
	if ((r = jst_run_set_site(a->run, o->zone, NULL, -1, -1, err, errlen)) < 0)
		goto fail;
	struct jst_monitor_opts mo = {o->roots, o->sensors, o->no_estimate, JST_SCOPE_HOST, o->interval_ns, 0};
	if ((r = jst_monitor_new(&a->mon, &mo, a->run)) < 0) {
		snprintf(err, errlen, "cannot open the sensors: %s", jst_strerror(r));
		goto fail;
	}
	if ((r = jst__workloads_new(&a->wls, o->roots.procfs)) < 0)
		goto fail;
	if (jst__session_open(&a->ses, "joulestream agent", a->run, o->sink, o->spool, o->ca) != 0) {
		snprintf(err, errlen, "the sink could not be opened (see above)");
		r = -EINVAL;
		goto fail;
	}
	if (o->listen) {
		struct jst_httpd_opts ho = {o->listen, 4096, 1, a, metrics_precheck, metrics_handle, NULL,
		                            o->tls_cert, o->tls_key, 0, 0, 0};
		if ((r = jst__httpd_start(&a->http, &ho, err, errlen)) < 0)
			goto fail;
	}
	a->started_ns = a->last_heartbeat_ns = jst__mono_ns();
	jst_monitor_start(a->mon, a->started_ns);
	char *cmd[] = {argv[0], argv[1]};
	jst__session_begin(&a->ses, a->started_ns, NULL, 2, cmd);
	*out = a;
	return 0;
fail:
	jst_agent_free(a, 0, NULL);
	return r;
}

unsigned jst_agent_port(const struct jst_agent *a)
{
	return a->http ? jst__httpd_port(a->http) : 0;
}

void jst_agent_free(struct jst_agent *a, unsigned timeout_ms, struct jst_sink_stats *st)
{
	if (!a)
		return;
	jst__httpd_stop(a->http);
	if (a->mon && a->ses.sink.sink) {
		uint64_t now = jst__mono_ns();
		jst_monitor_finish(a->mon, now);
		a->ses.close_ms = timeout_ms;
		jst__session_finish(&a->ses);
		for (size_t i = 0; i < a->run->nnotes; i++) /* what the sink could not deliver */
			if (strstr(a->run->notes[i], "--sink"))
				fprintf(stderr, "joulestream agent: %s\n", a->run->notes[i]);
	}
	if (st)
		memset(st, 0, sizeof(*st));
	jst__session_close(&a->ses);
	jst_monitor_free(a->mon);
	jst__workloads_free(a->wls);
	free(a->wl);
	free(a->uses);
	free(a->run);
	if (a->mu_init)
		pthread_mutex_destroy(&a->mu);
	free(a);
}
