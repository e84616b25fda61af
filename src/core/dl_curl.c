/* libcurl loaded on first use (dl_curl.h). curl_global_init runs in the same pthread_once as
 * the dlopen: it is not thread-safe in every libcurl, and every user goes through here first. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/dl.h"
#include "core/dl_curl.h"
#include "core/util.h"

struct jst__curl_api jst__curl;

#define SYM(f) {#f, (void **)&jst__curl.f, false}
static const struct jst__dl_sym syms[] = {
	SYM(curl_global_init), SYM(curl_global_cleanup), SYM(curl_easy_init),
	SYM(curl_easy_setopt), SYM(curl_easy_perform), SYM(curl_easy_getinfo),
	SYM(curl_easy_cleanup), SYM(curl_easy_strerror), SYM(curl_slist_append),
	SYM(curl_slist_free_all),
};
#undef SYM

static const struct jst__dl_lib lib = {"libcurl.so.4", "JOULESTREAM_CURL_LIB", "libcurl4", syms,
                                       JST_ARRAY_LEN(syms), NULL, NULL};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[512];

static void load(void)
{
	load_rc = jst__dl_load(&lib, load_err, sizeof(load_err));
	if (load_rc < 0)
		return;
	if (jst__curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_err, sizeof(load_err), "libcurl failed to initialise (out of memory?)");
		load_rc = -ENOMEM;
		return;
	}
	atexit(jst__curl.curl_global_cleanup);
}

int jst__curl_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (load_rc < 0)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}
