/* libcurl (libcurl.so.4), loaded on first use (dl.h): the live intensity sources
 * (carbon/live.c) and the http sink (sink/http.c) call it through jst__curl, whose members
 * have the names and types of the functions they point to. Call jst__curl_load() first.
 * The header's type-checking macros are turned off: they would rename `jst__curl.curl_x(`. */
#ifndef JST_CORE_DL_CURL_H
#define JST_CORE_DL_CURL_H

#include <stddef.h>

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct jst__curl_api {
	__typeof__(curl_global_init) *curl_global_init;
	__typeof__(curl_global_cleanup) *curl_global_cleanup;
	__typeof__(curl_easy_init) *curl_easy_init;
	__typeof__(curl_easy_setopt) *curl_easy_setopt;
	__typeof__(curl_easy_perform) *curl_easy_perform;
	__typeof__(curl_easy_getinfo) *curl_easy_getinfo;
	__typeof__(curl_easy_cleanup) *curl_easy_cleanup;
	__typeof__(curl_easy_strerror) *curl_easy_strerror;
	__typeof__(curl_slist_append) *curl_slist_append;
	__typeof__(curl_slist_free_all) *curl_slist_free_all;
};

/* Filled by jst__curl_load(); read-only after. */
extern struct jst__curl_api jst__curl;

/* Loads libcurl (or $JOULESTREAM_CURL_LIB) and runs curl_global_init, once per process, before
 * any thread can use it. 0, or a negative errno with a message naming the package in err. */
int jst__curl_load(char *err, size_t errlen);

#endif
