/* The configured sites of GET /api/v1/zones (sites_json.c). */
#ifndef JST_SERVER_SITES_JSON_H
#define JST_SERVER_SITES_JSON_H

#include "core/util.h"
#include "core/jbuf.h"
#include "joulestream/config.h"

/* Appends ,"config":PATH,"sites":[…] for c (NULL: "" and []). */
void jst__sites_json(struct jst_jbuf *b, const struct jst_config *c);

#endif
