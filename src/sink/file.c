/* The file sink: appends each event as one NDJSON line to PATH (`file:PATH`). Lines go
 * through stdio's buffer and are flushed at close; a write error is counted as dropped and
 * said once in last_error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/sink.h"

struct file_sink {
	struct jst_sink base;
	FILE *f;
	char path[512];
	struct jst_sink_stats st;
};

static int file_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
                     size_t errlen)
{
	(void)o;
	const char *path = target + strlen("file:");
	struct file_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (!*path || strlen(path) >= sizeof(s->path) || !(s->f = fopen(path, "a"))) {
		int e = *path ? errno : EINVAL;
		snprintf(err, errlen, "cannot write the sink file '%s': %s", path, strerror(e));
		free(s);
		return -e;
	}
	memcpy(s->path, path, strlen(path) + 1);
	*out = &s->base;
	return 0;
}

static int file_write(struct jst_sink *base, const char *line, size_t n)
{
	struct file_sink *s = (struct file_sink *)base;
	s->st.written++;
	if (fwrite(line, 1, n, s->f) != n || fputc('\n', s->f) == EOF) {
		if (!s->st.dropped++)
			snprintf(s->st.last_error, sizeof(s->st.last_error), "writing %.160s: %.80s", s->path, strerror(errno));
		return -ENOBUFS;
	}
	s->st.delivered++;
	return 0;
}

static void file_stats(struct jst_sink *base, struct jst_sink_stats *st)
{
	*st = ((struct file_sink *)base)->st;
}

static void file_close(struct jst_sink *base, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct file_sink *s = (struct file_sink *)base;
	(void)timeout_ms;
	if (fclose(s->f) != 0 && !s->st.dropped) {
		s->st.dropped = s->st.delivered;
		s->st.delivered = 0;
		snprintf(s->st.last_error, sizeof(s->st.last_error), "closing %.160s: %.80s", s->path, strerror(errno));
	}
	*st = s->st;
	free(s);
}

const struct jst_sink_ops jst__sink_file = {"file:", file_open, file_write, NULL, file_stats, file_close};
