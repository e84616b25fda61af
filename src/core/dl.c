/* The dlopen/dlsym part of the on-first-use loaders (dl.h). The library is opened with
 * RTLD_NOW, so that a broken installation fails here with dlerror's reason rather than at
 * the first call, and RTLD_LOCAL, so that its symbols do not leak into later lookups. A
 * library, once loaded, stays loaded until exit. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/dl.h"

int jst__dl_load(const struct jst__dl_lib *lib, char *err, size_t errlen)
{
	const char *env = getenv(lib->env);
	const char *path = env && *env ? env : lib->soname;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		if (env && *env)
			snprintf(err, errlen, "cannot load %s, named by %s (%s): unset %s to use the"
			         " system's %s, from the Debian package %s (apt install %s)", path, lib->env,
			         why ? why : "unknown error", lib->env, lib->soname, lib->package, lib->package);
		else
			snprintf(err, errlen, "this needs %s, from the Debian package %s, which cannot be"
			         " loaded (%s): install it with `apt install %s`", lib->soname, lib->package,
			         why ? why : "unknown error", lib->package);
		return -ENOENT;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		/* Writing a dlsym() result through a void ** is the POSIX idiom for functions. */
		*lib->syms[i].slot = dlsym(h, lib->syms[i].name);
		if (!*lib->syms[i].slot) {
			snprintf(err, errlen, "%s lacks %s (too old?): install %s from Debian 12 or later",
			         path, lib->syms[i].name, lib->package);
			dlclose(h);
			return -ENOSYS;
		}
	}
	return 0;
}
