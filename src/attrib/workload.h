/* Workloads of the agent: which container, Kubernetes pod or joulestream run a process belongs
 * to, and the CPU time each workload used since the previous scan. The key comes from
 * /proc/PID/cgroup (cgroup v1 and v2: "pod:UID" when the path says kubepods, else
 * "container:ID" with the first 12 hex digits, as `docker ps` shows them) or, for processes of
 * `joulestream run`, from JOULESTREAM_RUN_ID in /proc/PID/environ ("run:ID"); environ is
 * readable only for our own user's processes unless the agent runs as root. A process with no
 * key is the host's. Internal to src/attrib/ and the agent. */
#ifndef JST_ATTRIB_WORKLOAD_H
#define JST_ATTRIB_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JST_WORKLOAD_KEY 80

/* Parses /proc/PID/cgroup content; 1 with key set, 0 when the process is in no container. */
int jst__cgroup_workload(const char *p, size_t n, char *key, size_t keylen);
/* Finds JOULESTREAM_RUN_ID=… in /proc/PID/environ content (NUL-separated); 1 with key
 * "run:ID", 0 when absent. */
int jst__environ_run(const char *p, size_t n, char *key, size_t keylen);

struct jst_workloads;

struct jst_workload_use {
	char key[JST_WORKLOAD_KEY];
	double cpu_s; /* CPU time in the last interval */
};

int jst__workloads_new(struct jst_workloads **out, const char *procfs_root);
void jst__workloads_free(struct jst_workloads *w);
/* Scans /proc: per-workload CPU time since the last scan (at most max entries written to out,
 * *n set), and the host's total CPU time (busy + idle, all CPUs) over the same interval. */
int jst__workloads_scan(struct jst_workloads *w, struct jst_workload_use *out, size_t max, size_t *n,
                        double *host_total_s, double *host_busy_s);
/* The workload key of pid as of the last scan: "" for the host's processes and for pids the
 * scan did not see (another PID namespace, started since). */
const char *jst__workloads_key(const struct jst_workloads *w, pid_t pid);

#endif
