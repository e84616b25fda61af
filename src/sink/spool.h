/* The HTTP sink's on-disk spool: NDJSON batches that could not be delivered, appended to one
 * file per sink (locked with flock while its owner lives) and read back oldest first. A
 * ceiling in bytes bounds it; when full, new batches are refused (the caller counts them as
 * dropped) and the oldest are kept. Files of dead owners are adopted at open. Only the sink's
 * sender thread calls these after open. */
#ifndef JST_SINK_SPOOL_H
#define JST_SINK_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jst__spool {
	int fd;
	char path[512];
	size_t max;
	uint64_t size, read_off, lines;
	uint64_t skipped; /* lines dropped because they could never be sent (longer than a read) */
	bool skipping;    /* the reader is inside such a line */
};

/* The default spool directory: $XDG_DATA_HOME/joulestream/spool (or
 * ~/.local/share/joulestream/spool). 0 or -ENAMETOOLONG. */
int jst__spool_default_dir(char *out, size_t n);
/* dir NULL: the default spool directory. */
int jst__spool_open(struct jst__spool *sp, const char *dir, size_t max, char *err, size_t errlen);
void jst__spool_close(struct jst__spool *sp);
/* 0, or -ENOSPC when the ceiling would be passed, -EIO on a write error. */
int jst__spool_append(struct jst__spool *sp, const char *p, size_t n);
/* Copies up to cap bytes of whole lines from the oldest unsent data; 0 when none. A line
 * longer than cap can never be sent: it is skipped (counted in skipped) instead of blocking
 * the spool for ever. */
size_t jst__spool_peek(struct jst__spool *sp, char *buf, size_t cap);
/* Marks n bytes (as returned by peek) as sent. */
void jst__spool_consume(struct jst__spool *sp, size_t n, uint64_t lines);
bool jst__spool_pending(const struct jst__spool *sp);
uint64_t jst__spool_lines(const struct jst__spool *sp);
/* Lines dropped by peek so far (see above). */
uint64_t jst__spool_skipped(const struct jst__spool *sp);

#endif
