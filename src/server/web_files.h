/* The dashboard's files as the build embeds them (scripts/embed-web.cmake writes the table
 * from web/src/ and uPlot's dist files): URL path, content type, bytes. The table ends with a
 * NULL path. */
#ifndef JST_SERVER_WEB_FILES_H
#define JST_SERVER_WEB_FILES_H

#include <stddef.h>

struct jst_web_file {
	const char *path; /* "/index.html", "/vendor/uPlot.iife.min.js" */
	const char *type; /* "text/html; charset=utf-8" */
	const unsigned char *data;
	size_t len;
};

extern const struct jst_web_file jst_web_files[];
extern const int jst_web_has_uplot; /* 0 when npm was unavailable: the page draws SVG itself */

#endif
