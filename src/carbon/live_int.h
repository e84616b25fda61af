/* Internals of the live sources shared by live.c (HTTP through libcurl, the on-disk cache)
 * and live_api.c (the Electricity Maps and WattTime requests). Not exported. */
#ifndef JST_CARBON_LIVE_INT_H
#define JST_CARBON_LIVE_INT_H

#include <stddef.h>

#include "joulestream/intensity.h"

struct jst__http {
	char *body; /* NUL-terminated, malloc'd */
	size_t len;
};

/* GET url; what names the request in reasons ("electricitymaps history DE"). 0 with res
 * filled on HTTP 200, else a negative errno and why. */
int jst__http_get(const struct jst_live_opts *o, const char *what, const char *url,
                  const char *auth_header, const char *userpwd, struct jst__http *res, char *why,
                  size_t whylen);

/* The cache directory (created, mode 0700). */
int jst__cache_dir(const struct jst_live_opts *o, char *out, size_t n);
char *jst__cache_read(const char *path, double ttl_s, size_t *len);
void jst__cache_write(const char *path, const char *p, size_t n);

#endif
