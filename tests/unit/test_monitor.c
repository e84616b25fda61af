/* The monitor, tick by tick, on a RAPL fixture tree whose counters the test advances: exact
 * per-zone and total energy, the bounded timeline and the pending samples agree with the
 * totals, --scope host charges everything, and a tick allocates nothing once warm (checked
 * with mallinfo2 over a thousand ticks; the process tree's own test checks its part). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/run.h"

static char root[256];

static void set_uj(const char *zone, unsigned long long v)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/sys/class/powercap/%s/energy_uj", root, zone);
	FILE *f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(1);
	}
	fprintf(f, "%llu\n", v);
	fclose(f);
}

static double zone_j(const struct jst_run *run, const char *name, int runpart)
{
	for (size_t i = 0; i < run->nzones; i++)
		if (strcmp(run->zones[i].zone.name, name) == 0)
			return runpart ? run->zones[i].run_j : run->zones[i].host_j;
	return -1;
}

static void one_run(enum jst_scope scope)
{
	static struct jst_run run;
	memset(&run, 0, sizeof(run));
	strcpy(run.id, "01JDTESTTESTTESTTESTTESTTE");
	char msg[128];
	CHECK_INT(jst_run_set_site(&run, "DE", NULL, 1.5, 0.5, msg, sizeof(msg)), 0);
	struct jst_monitor_opts o = {{root, NULL}, "rapl", true, scope, 10000000u, 0};
	struct jst_monitor *m;
	CHECK_INT(jst_monitor_new(&m, &o, &run), 0);
	CHECK_INT(run.nzones, 4);
	/* package-0 is intel-rapl:1 in this fixture; start both packages from 0 */
	set_uj("intel-rapl:1", 0);
	set_uj("intel-rapl:0", 0);
	uint64_t t = 1000000000000u;
	jst_monitor_start(m, t);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	CHECK_INT(jst_monitor_attach(m, child, 0), 0);
	/* the tree rescans /proc on the real clock; host processes that come and go around this
	 * test may grow its cache of outsiders, which is not a per-tick cost */
	size_t npend;
	struct mallinfo2 before = {0};
	for (int k = 1; k <= 1100; k++) {
		set_uj("intel-rapl:1", (unsigned long long)k * 1000000u); /* 1 J per tick */
		set_uj("intel-rapl:0", (unsigned long long)k * 500000u);  /* 0.5 J per tick */
		jst_monitor_tick(m, t + (uint64_t)k * 10000000u, 0);
		if (k % 25 == 0) {
			jst_monitor_pending(m, &npend);
			CHECK_INT(npend, 25 * 4);
			jst_monitor_drained(m);
		}
		if (k == 100)
			before = mallinfo2();
	}
	struct mallinfo2 after = mallinfo2();
	if (scope == JST_SCOPE_HOST) { /* no process tree: nothing may allocate per tick */
		CHECK_INT(after.uordblks, before.uordblks);
		CHECK_INT(after.hblkhd, before.hblkhd);
	}
	jst_monitor_finish(m, t + (uint64_t)1100 * 10000000u);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	CHECK_NEAR(zone_j(&run, "package-0", 0), 1100.0, 1e-6);
	CHECK_NEAR(zone_j(&run, "package-1", 0), 550.0, 1e-6);
	CHECK_NEAR(run.host_j, 1650.0, 1e-6);
	CHECK_NEAR(run.duration_s, 11.0, 1e-9);
	CHECK_INT(run.samples, 1100);
	CHECK(run.run_j <= run.host_j + 1e-9);
	for (size_t i = 0; i < run.nzones; i++)
		CHECK(run.zones[i].run_j <= run.zones[i].host_j + 1e-9);
	if (scope == JST_SCOPE_HOST) {
		CHECK_NEAR(run.run_j, run.host_j, 1e-9);
	} else {
		/* a paused child uses no CPU: almost nothing is the run's */
		CHECK(run.run_j < 0.05 * run.host_j);
	}
	/* the bounded timeline holds the same energy */
	const struct jst_timeline *tl = jst_monitor_timeline(m);
	double sum = 0, dt = 0;
	for (size_t p = 0; p < tl->npoints; p++) {
		dt += tl->dt_s[p];
		for (size_t z = 0; z < tl->nzones; z++)
			sum += tl->host_j[p * tl->nzones + z];
	}
	CHECK_NEAR(sum, 1650.0, 1e-6);
	CHECK_NEAR(dt, 11.0, 1e-9);
	/* the footprint follows from the totals: E x PUE x CI */
	CHECK_NEAR(run.result.footprint.facility_kwh, run.run_j / 3.6e6 * 1.5, 1e-12);
	CHECK_NEAR(run.result.footprint.co2e_g,
		   run.result.footprint.facility_kwh * run.site.ci_g_per_kwh, 1e-9);
	jst_monitor_free(m);
}

int main(void)
{
	const char *fx = getenv("JST_FIXTURES");
	if (!fx) {
		fprintf(stderr, "JST_FIXTURES is not set\n");
		return 1;
	}
	char tmpl[] = "/tmp/jst-monitor-XXXXXX", cmd[1024];
	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(root, sizeof(root), "%s/root", tmpl);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/sysfs-2socket' '%s'", fx, root);
	CHECK_INT(system(cmd), 0);
	one_run(JST_SCOPE_PROCESS);
	one_run(JST_SCOPE_HOST);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
