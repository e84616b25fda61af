/* Shared libraries loaded on first use (dlopen), so that a command maps only what it uses:
 * `joulestream run -- true` must not pay for libcurl, libpq and libmicrohttpd (and the TLS,
 * Kerberos and LDAP libraries they bring) at every exec. Each library has a small file next
 * to this one (dl_curl.c, dl_pq.c, dl_mhd.c) with its table of function pointers, filled once
 * under pthread_once by jst__dl_load(). NVML has its own loader (sensor/nvml.c): its symbols
 * are optional one by one, these are all required. */
#ifndef JST_CORE_DL_H
#define JST_CORE_DL_H

#include <stddef.h>

struct jst__dl_sym {
	const char *name;
	void **slot; /* where the address goes: a member of the library's table */
};

struct jst__dl_lib {
	const char *soname;  /* "libpq.so.5": what dlopen looks for */
	const char *env;     /* "JOULESTREAM_PQ_LIB": a path used instead when set (tests) */
	const char *package; /* the Debian package that ships soname, named in the error */
	const struct jst__dl_sym *syms;
	size_t nsyms;
};

/* Opens the library and resolves every symbol. 0, or -ENOENT (the library cannot be loaded)
 * or -ENOSYS (a symbol is missing: too old) with a message in err that names the package to
 * install. Not thread-safe by itself: each library calls it from its pthread_once. */
int jst__dl_load(const struct jst__dl_lib *lib, char *err, size_t errlen);

#endif
