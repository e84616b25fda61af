/* Run metadata from the system: host, user, working directory, kernel, CPU model and count,
 * RAM, container id (from the cgroup path), git commit and dirty flag of the working directory.
 * The commit is read from .git directly; the dirty flag needs `git status`, which is started in
 * the background here and collected at the end so the job never waits for it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "joulestream/run.h"

static pid_t git_pid;
static int git_fd = -1;
static int git_status;
static bool git_reaped;

/* The command line, words quoted where a shell would need it. */
static void join_command(char *out, size_t n, int argc, char **argv)
{
	size_t off = 0;
	out[0] = '\0';
	for (int i = 0; i < argc && off + 4 < n; i++) {
		const char *a = argv[i];
		bool plain = *a != '\0' && strpbrk(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") == NULL;
		if (i)
			out[off++] = ' ';
		if (!plain)
			out[off++] = '\'';
		for (; *a && off + 6 < n; a++) {
			if (*a == '\'' && !plain) {
				memcpy(out + off, "'\\''", 4);
				off += 4;
			} else {
				out[off++] = *a;
			}
		}
		if (!plain)
			out[off++] = '\'';
		out[off] = '\0';
	}
}

static void cpu_info(struct jst_meta *m, const char *procfs)
{
	char path[512], buf[8192];
	m->cpu_count = 0;
	if (jst__path(path, sizeof(path), procfs, "/proc/cpuinfo") == 0 &&
	    jst__read_file(path, buf, sizeof(buf)) > 0) {
		for (char *line = buf; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (strncmp(line, "processor", 9) == 0)
				m->cpu_count++;
			if (!m->cpu_model[0] && strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c)
					jst__strlcpy(m->cpu_model, c + 1 + (c[1] == ' '), sizeof(m->cpu_model));
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 0 && (m->cpu_count == 0 || !procfs || !*procfs || strcmp(procfs, "/") == 0))
		m->cpu_count = (unsigned)n;
	if (jst__path(path, sizeof(path), procfs, "/proc/meminfo") == 0 &&
	    jst__read_file(path, buf, sizeof(buf)) > 0 && strncmp(buf, "MemTotal:", 9) == 0) {
		const char *p = buf + 9;
		uint64_t kb;
		if (jst__next_u64(&p, buf + strlen(buf), &kb) == 0)
			m->ram_gb = (double)kb / (1024.0 * 1024.0);
	}
}

/* A container id: a 64-hex-digit segment of the cgroup path (docker, containerd, cri-o). */
static void container_id(struct jst_meta *m, const char *procfs)
{
	char path[512], buf[4096];
	if (jst__path(path, sizeof(path), procfs, "/proc/self/cgroup") < 0 ||
	    jst__read_file(path, buf, sizeof(buf)) <= 0)
		return;
	size_t run = 0;
	for (size_t i = 0;; i++) {
		char c = buf[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (hex) {
			run++;
			continue;
		}
		if (run == 64) {
			memcpy(m->container, buf + i - 64, 64);
			m->container[64] = '\0';
			return;
		}
		run = 0;
		if (!c)
			return;
	}
}

/* Finds the .git directory at or above dir. */
static bool find_git_dir(const char *dir, char *out, size_t n)
{
	char cur[1024];
	if (!jst__strlcpy(cur, dir, sizeof(cur)))
		return false;
	for (;;) {
		struct stat st;
		if (snprintf(out, n, "%s/.git", strcmp(cur, "/") ? cur : "") < (int)n &&
		    stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		char *slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			return false;
		*slash = '\0';
	}
}

static void git_commit(struct jst_meta *m)
{
	char gd[1100], path[1200], buf[512];
	if (!find_git_dir(m->cwd, gd, sizeof(gd)))
		return;
	snprintf(path, sizeof(path), "%s/HEAD", gd);
	if (jst__read_file(path, buf, sizeof(buf)) <= 0)
		return;
	if (strncmp(buf, "ref: ", 5) != 0) {
		jst__strlcpy(m->git_commit, buf, sizeof(m->git_commit));
		return;
	}
	const char *ref = buf + 5;
	char val[128];
	if (snprintf(path, sizeof(path), "%s/%s", gd, ref) < (int)sizeof(path) &&
	    jst__read_file(path, val, sizeof(val)) > 0) {
		jst__strlcpy(m->git_commit, val, sizeof(m->git_commit));
		return;
	}
	/* a packed ref: "<sha> <ref>" lines */
	static char packed[65536];
	snprintf(path, sizeof(path), "%s/packed-refs", gd);
	if (jst__read_file(path, packed, sizeof(packed)) <= 0)
		return;
	size_t rl = strlen(ref);
	for (char *line = packed; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *sp = strchr(line, ' ');
		if (sp && sp - line < 64 && strlen(sp + 1) == rl && strcmp(sp + 1, ref) == 0) {
			*sp = '\0';
			jst__strlcpy(m->git_commit, line, sizeof(m->git_commit));
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* Starts `git status --porcelain --untracked-files=no` with its output on a pipe. */
static void git_status_start(const char *cwd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		dup2(p[1], 1);
		if (chdir(cwd) == 0)
			execlp("git", "git", "status", "--porcelain", "--untracked-files=no", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	git_pid = pid;
	git_reaped = false;
	git_fd = p[0];
}

void jst_meta_collect(struct jst_meta *m, const char *procfs, int argc, char **argv)
{
	struct utsname u;
	if (uname(&u) == 0) {
		jst__strlcpy(m->host, u.nodename, sizeof(m->host));
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname, u.release, u.machine);
	}
	/* in a container, uname gives the pod's name: the node's comes from the environment
	 * (Kubernetes' downward API, spec.nodeName; deploy/kubernetes/agent-daemonset.yaml) */
	const char *host = getenv("JOULESTREAM_HOST");
	if (host && host[0])
		jst__strlcpy(m->host, host, sizeof(m->host));
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : getenv("USER");
	jst__strlcpy(m->user, user ? user : "?", sizeof(m->user));
	if (!getcwd(m->cwd, sizeof(m->cwd)))
		m->cwd[0] = '\0';
	join_command(m->command, sizeof(m->command), argc, argv);
	jst__strlcpy(m->version, jst_version(), sizeof(m->version));
	cpu_info(m, procfs);
	container_id(m, procfs);
	m->git_dirty = -1;
	if (m->cwd[0]) {
		git_commit(m);
		if (m->git_commit[0])
			git_status_start(m->cwd);
	}
}

void jst_meta_child_exited(pid_t pid, int status)
{
	if (pid == git_pid && git_pid > 0) {
		git_status = status;
		git_reaped = true;
	}
}

void jst_meta_collect_finish(struct jst_meta *m)
{
	if (git_pid <= 0)
		return;
	/* Any output means a tracked file differs. Wait at most 3 s for the first byte or EOF. */
	struct pollfd pfd = {git_fd, POLLIN, 0};
	char c;
	ssize_t got = -1;
	if (poll(&pfd, 1, 3000) > 0)
		got = read(git_fd, &c, 1);
	if (got != 0)
		kill(git_pid, SIGKILL);
	if (!git_reaped && waitpid(git_pid, &git_status, 0) == git_pid)
		git_reaped = true;
	if (got == 1)
		m->git_dirty = 1;
	else if (got == 0 && git_reaped && WIFEXITED(git_status) && WEXITSTATUS(git_status) == 0)
		m->git_dirty = 0;
	close(git_fd);
	git_fd = -1;
	git_pid = 0;
}
