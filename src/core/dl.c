/* The dlopen/dlsym part of every run-time loaded library (dl.h). The library is opened with
 * RTLD_NOW, so that a broken installation fails here with dlerror's reason rather than at the
 * first call, and RTLD_LOCAL, so that its symbols do not leak into later lookups. Messages
 * say what failed, the Debian package to install and the environment override to use. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/dl.h"

static void not_loaded(const struct jst__dl_lib *lib, const char *path, bool from_env, char *err,
                       size_t errlen)
{
	const char *why = dlerror();
	if (!why)
		why = "unknown error";
	if (from_env)
		snprintf(err, errlen, "cannot load %s=%s (%s), the library named by %s: unset it to use"
		         " the system's %s, from the Debian package %s (apt install %s)", lib->env, path,
		         why, lib->env, lib->soname, lib->package, lib->package);
	else
		snprintf(err, errlen, "%s not found%s: it comes from the Debian package %s (apt install"
		         " %s), or set %s to its path (%s)", lib->soname, lib->absent ? lib->absent : "",
		         lib->package, lib->package, lib->env, why);
}

int jst__dl_open(const struct jst__dl_lib *lib, void **handle, char *err, size_t errlen)
{
	const char *env = getenv(lib->env);
	bool from_env = env && *env;
	const char *path = from_env ? env : lib->soname;
	*handle = NULL;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		not_loaded(lib, path, from_env, err, errlen);
		return -ENOENT;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		/* Writing a dlsym() result through a void ** is the POSIX idiom for functions. */
		*lib->syms[i].slot = dlsym(h, lib->syms[i].name);
		if (!*lib->syms[i].slot && !lib->syms[i].optional) {
			snprintf(err, errlen, "%s lacks %s (too old?): install %s %s", path,
			         lib->syms[i].name, lib->package,
			         lib->newer ? lib->newer : "from Debian 12 or later");
			dlclose(h);
			return -ENOSYS;
		}
	}
	*handle = h;
	return 0;
}

void jst__dl_close(void *handle)
{
	if (handle)
		dlclose(handle);
}

int jst__dl_load(const struct jst__dl_lib *lib, char *err, size_t errlen)
{
	void *h;
	return jst__dl_open(lib, &h, err, errlen);
}
