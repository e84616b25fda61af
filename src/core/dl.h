/* The one library loader: shared libraries loaded on first use (dlopen), so that a command maps
 * only what it uses: `joulestream run -- true` must not pay for libcurl, libpq and
 * libmicrohttpd (and the TLS, Kerberos and LDAP libraries they bring) at every exec, and the
 * same binary runs with and without an NVIDIA driver. libcurl, libpq and libmicrohttpd have a
 * small file next to this one (dl_curl.c, dl_pq.c, dl_mhd.c) with their table of function
 * pointers, filled once under pthread_once by jst__dl_load(); librdkafka's is sink/rdkafka.c.
 * NVML (sensor/nvml.c) opens and closes its own handle with jst__dl_open() and has optional
 * symbols. Every message names the Debian package and the environment override. */
#ifndef JST_CORE_DL_H
#define JST_CORE_DL_H

#include <stdbool.h>
#include <stddef.h>

struct jst__dl_sym {
	const char *name;
	void **slot;   /* where the address goes: a member of the library's table */
	bool optional; /* may be missing: *slot is then NULL (the caller skips what needs it) */
};

struct jst__dl_lib {
	const char *soname;  /* "libpq.so.5": what dlopen looks for */
	const char *env;     /* "JOULESTREAM_PQ_LIB": a path used instead when set (tests) */
	const char *package; /* the Debian package that ships soname, named in the error */
	const struct jst__dl_sym *syms;
	size_t nsyms;
	const char *absent;  /* said after "SONAME not found" (" (no NVIDIA driver)"), or NULL */
	const char *newer;   /* what to install when a symbol is missing, after the package name
	                        (NULL: "from Debian 12 or later") */
};

/* Opens the library (the path in lib->env when that is set and not empty, else lib->soname)
 * with RTLD_NOW | RTLD_LOCAL and resolves its symbols. 0 with *handle set, or -ENOENT (the
 * library cannot be loaded) or -ENOSYS (a required symbol is missing: too old) with a message
 * in err that names the package to install and the override; on failure nothing stays open.
 * Not thread-safe by itself when the slots are shared: callers use pthread_once or their own
 * tables. */
int jst__dl_open(const struct jst__dl_lib *lib, void **handle, char *err, size_t errlen);

/* Closes a handle from jst__dl_open() (NULL is fine). Function pointers into it are invalid
 * afterwards. */
void jst__dl_close(void *handle);

/* jst__dl_open() for a library that stays loaded until exit. */
int jst__dl_load(const struct jst__dl_lib *lib, char *err, size_t errlen);

#endif
