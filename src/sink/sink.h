/* The sink backend interface: one const vtable per transport, picked by the target's scheme
 * in sink.c (a new transport is a new file and one line in its table). Each backend's struct
 * starts with struct jst_sink. */
#ifndef JST_SINK_SINK_H
#define JST_SINK_SINK_H

#include "joulestream/sink.h"

struct jst_sink_ops {
	const char *prefix; /* "file:", "http://" */
	int (*open)(struct jst_sink **out, const char *target, const struct jst_sink_opts *o, char *err,
	            size_t errlen);
	int (*write)(struct jst_sink *s, const char *line, size_t n);
	void (*flush)(struct jst_sink *s, unsigned wait_ms); /* optional: deliver what is queued now */
	void (*stats)(struct jst_sink *s, struct jst_sink_stats *st);
	void (*close)(struct jst_sink *s, unsigned timeout_ms, struct jst_sink_stats *st);
};

struct jst_sink {
	const struct jst_sink_ops *ops;
};

extern const struct jst_sink_ops jst__sink_file;
extern const struct jst_sink_ops jst__sink_http;
extern const struct jst_sink_ops jst__sink_https;
extern const struct jst_sink_ops jst__sink_kafka; /* kafka.c */
extern const struct jst_sink_ops jst__sink_sqlite;   /* store.c */
extern const struct jst_sink_ops jst__sink_postgres; /* store.c */

#endif
