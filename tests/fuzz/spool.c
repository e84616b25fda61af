/* Fuzz target: the agent's on-disk spool as its reader sees it (src/sink/spool.c): a spool file
 * left by a dead sink, with any content, adopted by jst__spool_open, a batch appended after it,
 * then everything read back with jst__spool_peek / jst__spool_consume as the HTTP sink does.
 * The first input byte picks the read size (24 to 151 bytes, room for our batch) and, with its
 * top bit, a ceiling one byte too small for the file; the rest is the file. Checks, against a
 * model of the rules in spool.h: what comes back is the file's whole lines that fit in a read,
 * in order, then our batch intact (a torn last line never runs into it); longer lines are
 * counted as skipped and never block what follows; a file over the ceiling stays where it
 * was; nothing is left. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sink/spool.h"

#define OURS "{\"v\":1,\"id\":\"ours\"}\n"

static char dir[512];

static void remove_dir(void)
{
	rmdir(dir); /* empty after every input: both files are gone */
}

/* One folder per process, under $TMPDIR (or /tmp), removed at exit. */
static const char *spool_dir(void)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/jst-fuzz-spool-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		FUZZ_ASSERT(mkdtemp(dir) != NULL);
		atexit(remove_dir);
	}
	return dir;
}

static void write_orphan(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(n == 0 || write(fd, p, n) == (ssize_t)n);
	close(fd);
}

/* The model: the file's '\n'-terminated lines of at most cap bytes, in order; *skipped counts
 * the longer ones; a last line without '\n' is left out. */
static size_t expected(const uint8_t *p, size_t n, size_t cap, char *out, uint64_t *skipped)
{
	size_t o = 0, i = 0;
	*skipped = 0;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (p + i)) + 1;
		if (len <= cap) {
			memcpy(out + o, p + i, len);
			o += len;
		} else {
			(*skipped)++;
		}
		i += len;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = 24 + (data[0] & 0x7f), n = size - 1;
	bool tight = data[0] & 0x80; /* a ceiling the orphan does not fit under */
	const uint8_t *file = data + 1;
	char orphan[600], err[256];
	snprintf(orphan, sizeof(orphan), "%s/dead-owner.ndjson", spool_dir());
	write_orphan(orphan, file, n);
	struct jst__spool sp;
	size_t ceiling = tight && n ? n - 1 : n;
	FUZZ_ASSERT(jst__spool_open(&sp, spool_dir(), ceiling, err, sizeof(err)) == 0);
	bool adopted = access(orphan, F_OK) != 0;
	FUZZ_ASSERT(adopted == (!tight || n == 0));
	sp.max = n + sizeof(OURS); /* room for our batch whatever happened */
	FUZZ_ASSERT(jst__spool_append(&sp, OURS, strlen(OURS)) == 0);

	char *want = malloc(n + sizeof(OURS)), *got = malloc(n + sizeof(OURS)), *buf = malloc(cap);
	FUZZ_ASSERT(want && got && buf);
	uint64_t skipped = 0;
	size_t wn = adopted ? expected(file, n, cap, want, &skipped) : 0;
	memcpy(want + wn, OURS, strlen(OURS));
	wn += strlen(OURS);
	size_t gn = 0, k;
	while ((k = jst__spool_peek(&sp, buf, cap)) > 0) {
		FUZZ_ASSERT(k <= cap && buf[k - 1] == '\n' && gn + k <= wn);
		uint64_t lines = 0;
		for (size_t i = 0; i < k; i++)
			lines += buf[i] == '\n';
		memcpy(got + gn, buf, k);
		gn += k;
		jst__spool_consume(&sp, k, lines);
	}
	FUZZ_ASSERT(gn == wn && memcmp(got, want, wn) == 0);
	FUZZ_ASSERT(jst__spool_skipped(&sp) == skipped && !jst__spool_pending(&sp));
	FUZZ_ASSERT(jst__spool_lines(&sp) == 0);
	jst__spool_close(&sp);
	unlink(orphan);
	free(want);
	free(got);
	free(buf);
	return 0;
}
