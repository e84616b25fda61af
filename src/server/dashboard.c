/* The web dashboard of `serve` (docs/api.md, "Dashboard"): the files of web/ embedded into the
 * program at build time, answered for GET without a token (they hold no data; the pages ask
 * the API with the token the user gives them). "/" is index.html. Nothing is read from disk
 * and nothing is fetched from elsewhere at run time. */
#include <string.h>

#include "server/server.h"
#include "server/web_files.h"

bool jst__dashboard_get(const char *path, struct jst_httpd_resp *resp)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (const struct jst_web_file *f = jst_web_files; f->path; f++) {
		if (strcmp(f->path, path) != 0)
			continue;
		resp->status = 200;
		resp->content_type = f->type;
		jst__jbuf_reset(&resp->body);
		jst__jbuf_put(&resp->body, (const char *)f->data, f->len);
		return true;
	}
	return false;
}
