/* The on-disk spool of the HTTP sink (spool.h): one append-only NDJSON file per live sink,
 * truncated once everything in it has been delivered, kept (and adopted by the next sink
 * that opens the same directory) when its owner exits with data still in it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/spool.h"

static int mkdirs(const char *dir)
{
	char p[512];
	size_t n = strlen(dir);
	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (char *q = p + 1; *q; q++)
		if (*q == '/') {
			*q = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -errno;
			*q = '/';
		}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Moves the content of an orphaned spool file (its owner is gone: the lock is free) into ours.
 * All or nothing: when ours cannot take it all (the ceiling), the file stays for a later sink.
 * A torn last line (its writer died inside a write) is left out, or it would run into the
 * first line we append and the server would refuse that whole batch. */
static void adopt(struct jst__spool *sp, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* a live sink owns it */
		return;
	}
	char buf[65536];
	ssize_t r;
	uint64_t start = sp->size, start_lines = sp->lines, tail = 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (jst__spool_append(sp, buf, (size_t)r) < 0)
			break;
		const char *nl = memrchr(buf, '\n', (size_t)r);
		tail = nl ? (uint64_t)(buf + r - nl - 1) : tail + (uint64_t)r;
	}
	if (r == 0) {
		sp->size -= tail;
		unlink(path);
	} else {
		sp->size = start;
		sp->lines = start_lines;
	}
	/* nothing past size may stay in the file: a later adopter would read it */
	int rc = ftruncate(sp->fd, (off_t)sp->size);
	(void)rc;
	close(fd);
}

static void adopt_orphans(struct jst__spool *sp, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 8 || strcmp(e->d_name + l - 7, ".ndjson") != 0)
			continue;
		char p[1024];
		int w = snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (w > 0 && (size_t)w < sizeof(p) && strcmp(p, sp->path) != 0)
			adopt(sp, p);
	}
	closedir(d);
}

int jst__spool_default_dir(char *out, size_t n)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int w = xdg && *xdg == '/' ? snprintf(out, n, "%s/joulestream/spool", xdg)
	                           : snprintf(out, n, "%s/.local/share/joulestream/spool", home && *home ? home : "/tmp");
	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

int jst__spool_open(struct jst__spool *sp, const char *dir, size_t max, char *err, size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	sp->max = max;
	char def[512];
	if (!dir || !*dir) {
		if (jst__spool_default_dir(def, sizeof(def)) < 0) {
			snprintf(err, errlen, "spool directory path too long");
			return -ENAMETOOLONG;
		}
		dir = def;
	}
	int r = mkdirs(dir);
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned)getpid();
	int w = snprintf(sp->path, sizeof(sp->path), "%s/%d-%08x.ndjson", dir, (int)getpid(), rnd);
	if (r == 0 && (w < 0 || (size_t)w >= sizeof(sp->path)))
		r = -ENAMETOOLONG;
	if (r == 0 && (sp->fd = open(sp->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		r = -errno;
	if (r == 0 && flock(sp->fd, LOCK_EX | LOCK_NB) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "cannot create the spool in %s: %s (pass --spool DIR)", dir, strerror(-r));
		if (sp->fd >= 0)
			close(sp->fd);
		sp->fd = -1;
		return r;
	}
	adopt_orphans(sp, dir);
	return 0;
}

void jst__spool_close(struct jst__spool *sp)
{
	if (sp->fd < 0)
		return;
	if (!jst__spool_pending(sp))
		unlink(sp->path);
	close(sp->fd);
	sp->fd = -1;
}

int jst__spool_append(struct jst__spool *sp, const char *p, size_t n)
{
	if (sp->size - sp->read_off + n > sp->max)
		return -ENOSPC;
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(sp->fd, p + done, n - done, (off_t)(sp->size + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		done += (size_t)w;
	}
	sp->size += n;
	sp->lines += count_lines(p, n);
	return 0;
}

size_t jst__spool_peek(struct jst__spool *sp, char *buf, size_t cap)
{
	while (cap > 0 && sp->read_off < sp->size) {
		uint64_t left = sp->size - sp->read_off;
		size_t want = left < cap ? (size_t)left : cap;
		ssize_t r = pread(sp->fd, buf, want, (off_t)sp->read_off);
		if (r <= 0)
			return 0;
		size_t n = (size_t)r;
		if (sp->skipping) {
			const char *nl = memchr(buf, '\n', n);
			sp->skipping = nl == NULL;
			sp->skipped += nl != NULL;
			jst__spool_consume(sp, nl ? (size_t)(nl - buf) + 1 : n, nl != NULL);
			continue;
		}
		while (n > 0 && buf[n - 1] != '\n')
			n--;
		if (n > 0 || (size_t)r < cap)
			return n;
		sp->skipping = true; /* a full buffer, no newline: the line is longer than cap */
	}
	return 0;
}

void jst__spool_consume(struct jst__spool *sp, size_t n, uint64_t lines)
{
	sp->read_off += n;
	sp->lines = sp->lines > lines ? sp->lines - lines : 0;
	if (sp->read_off >= sp->size) {
		sp->skipping = false; /* all read: no line left to skip the rest of */
		if (ftruncate(sp->fd, 0) == 0)
			sp->size = sp->read_off = 0;
	}
}

bool jst__spool_pending(const struct jst__spool *sp)
{
	return sp->fd >= 0 && sp->size > sp->read_off;
}

uint64_t jst__spool_lines(const struct jst__spool *sp)
{
	return sp->lines;
}

uint64_t jst__spool_skipped(const struct jst__spool *sp)
{
	return sp->skipped;
}
