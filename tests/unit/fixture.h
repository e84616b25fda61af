/* Fixture trees for sensor tests: a fresh temporary copy of tests/fixtures/NAME (JST_FIXTURES)
 * that a test can rewrite between reads, the way the kernel would change a counter (same
 * inode), and as_nobody() to run a check without root's privilege. Header-only like check.h;
 * one copy at a time, in tmp. */
#ifndef JST_TESTS_FIXTURE_H
#define JST_TESTS_FIXTURE_H

#include <dirent.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char tmp[256]; /* the current fixture copy */

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void copy_file(const char *src, const char *dst)
{
	char buf[4096];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || out < 0)
		die(src);
	ssize_t r;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r)
			die(dst);
	close(in);
	close(out);
}

static void copy_tree(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	if (!d)
		die(src);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char s[1024], t[1024];
		snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
		snprintf(t, sizeof(t), "%s/%s", dst, e->d_name);
		struct stat sb;
		if (lstat(s, &sb) < 0)
			die(s);
		if (S_ISDIR(sb.st_mode)) {
			if (mkdir(t, 0755) < 0)
				die(t);
			copy_tree(s, t);
		} else if (S_ISREG(sb.st_mode)) {
			copy_file(s, t);
		}
	}
	closedir(d);
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		struct stat sb;
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

/* A fresh temporary root holding a copy of the fixture (or nothing, for NULL). */
static void fresh(const char *fixture)
{
	if (tmp[0])
		remove_tree(tmp);
	snprintf(tmp, sizeof(tmp), "/tmp/jst-fixture-XXXXXX");
	if (!mkdtemp(tmp))
		die("mkdtemp");
	chmod(tmp, 0755); /* the unprivileged child must be able to walk it */
	if (!fixture)
		return;
	const char *base = getenv("JST_FIXTURES");
	char src[512];
	snprintf(src, sizeof(src), "%s/%s", base ? base : "tests/fixtures", fixture);
	copy_tree(src, tmp);
}

static void tpath(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", tmp, rel);
}

/* Rewrites a file in place (same inode, as the kernel's counter would change). */
static void put(const char *rel, const char *text)
{
	char p[512];
	tpath(p, sizeof(p), rel);
	FILE *f = fopen(p, "w");
	if (!f)
		die(p);
	fprintf(f, "%s\n", text);
	fclose(f);
}

/* Runs fn as an unprivileged user: in a child that drops to 65534 when we are root (root
 * reads a mode-000 file anyway), in this process otherwise. Returns false if it could not. */
static bool as_nobody(void (*fn)(void))
{
	if (geteuid() != 0) {
		fn();
		return true;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(77);
		check_failed = 0;
		fn();
		fflush(NULL);
		_exit(check_failed ? 1 : 0);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr,
			"note: cannot drop privileges here; unreadable-counter case not run\n");
		return false;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return true;
}

#endif
