/* Picks the sink backend from the target's prefix and forwards the calls. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sink/sink.h"

static const struct jst_sink_ops *const sinks[] = {
	&jst__sink_file,
	&jst__sink_http,
	&jst__sink_https,
	&jst__sink_kafka,
	&jst__sink_sqlite,
	&jst__sink_postgres,
	NULL,
};

int jst_sink_open(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
                  size_t errlen)
{
	static const struct jst_sink_opts none;
	for (size_t i = 0; sinks[i]; i++)
		if (strncmp(target, sinks[i]->prefix, strlen(sinks[i]->prefix)) == 0) {
			int r = sinks[i]->open(out, target, o ? o : &none, err, errlen);
			if (r == 0)
				(*out)->ops = sinks[i];
			return r;
		}
	snprintf(err, errlen, "unknown sink '%s': use file:PATH, http://HOST:PORT, kafka://HOST:PORT/TOPIC, sqlite:PATH or postgresql://…",
	         target);
	return -EINVAL;
}

int jst_sink_write(struct jst_sink *s, const char *line, size_t n)
{
	return s->ops->write(s, line, n);
}

void jst_sink_flush(struct jst_sink *s, unsigned wait_ms)
{
	if (s && s->ops->flush)
		s->ops->flush(s, wait_ms);
}

void jst_sink_stats(struct jst_sink *s, struct jst_sink_stats *st)
{
	memset(st, 0, sizeof(*st));
	s->ops->stats(s, st);
}

void jst_sink_close(struct jst_sink *s, unsigned timeout_ms, struct jst_sink_stats *st)
{
	struct jst_sink_stats local;
	if (!s)
		return;
	memset(&local, 0, sizeof(local));
	s->ops->close(s, timeout_ms, st ? st : &local);
}
