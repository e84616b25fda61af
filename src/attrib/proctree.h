/* Internals of the process tree that the tests reach (the static library exports them): the
 * rescan interval and the budget of stat files kept open. Not part of the public API. */
#ifndef JST_ATTRIB_PROCTREE_H
#define JST_ATTRIB_PROCTREE_H

#include <stdint.h>

#include "joulestream/attrib.h"

/* Default minimum interval between two full /proc rescans (CLOCK_MONOTONIC ns). */
#define JST__RESCAN_NS 100000000ull

/* Sets the minimum interval between full rescans: 0 rescans at every sample. */
void jst__proctree_set_rescan_ns(struct jst_proctree *t, uint64_t ns);

/* Sets how many /proc/PID/stat files may stay open; the others are opened at each read. */
void jst__proctree_set_fd_max(struct jst_proctree *t, unsigned n);

/* How many stat files are open now. */
unsigned jst__proctree_open_fds(const struct jst_proctree *t);

#endif
