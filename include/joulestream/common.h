/* Things every public header of libjoulestream shares: the export macro, error codes, the
 * configurable /sys and /proc roots. Errors are 0 or a negative errno value (-ENOENT, -EACCES…);
 * jst_strerror() turns one into a lower-case message. Nothing here allocates. */
#ifndef JOULESTREAM_COMMON_H
#define JOULESTREAM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define JST_API __attribute__((visibility("default")))

/* Where /sys and /proc are: "/" on a plain host, the mount point of the host's trees in a
 * container, a fixture tree in tests. NULL or "" means "/". Borrowed, never freed. */
struct jst_roots {
	const char *sysfs;
	const char *procfs;
};

/* A message for a 0-or-negative-errno return code; static storage. */
JST_API const char *jst_strerror(int err);

/* The library's version string, "0.1.0". */
JST_API const char *jst_version(void);

#endif
