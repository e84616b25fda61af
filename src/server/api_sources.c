/* GET /api/v1/sources (admins): what serve's log sources (serve --source kafka://…) have stored:
 * the next offset of every (group, topic, partition) and the refused messages, newest first,
 * read from the store, so every serve of a group answers the same. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/isotime.h"
#include "core/util.h"
#include "joulestream/ingest.h"
#include "server/server.h"

#define REFUSALS_SHOWN 100

struct src_out {
	struct jst_jbuf *offsets, refusals;
	size_t noff, nref;
};

static void when(struct jst_jbuf *b, uint64_t ns)
{
	char iso[40];
	jst__format_iso8601((int64_t)ns, iso, sizeof(iso));
	jst__jbuf_str(b, ",\"at\":");
	jst__jbuf_jstr(b, iso);
}

static void place(struct jst_jbuf *b, size_t *n, const char *group, const char *topic, int32_t part)
{
	jst__jbuf_str(b, (*n)++ ? ",{\"group\":" : "{\"group\":");
	jst__jbuf_jstr(b, group);
	jst__jbuf_str(b, ",\"topic\":");
	jst__jbuf_jstr(b, topic);
	jst__jbuf_printf(b, ",\"partition\":%d", (int)part);
}

static int each_offset(const struct jst_source_state *o, void *ud)
{
	struct src_out *out = ud;
	place(out->offsets, &out->noff, o->group, o->topic, o->partition);
	jst__jbuf_printf(out->offsets, ",\"next_offset\":%lld", (long long)o->next_offset);
	when(out->offsets, o->updated_ns);
	jst__jbuf_put(out->offsets, "}", 1);
	return 0;
}

static int each_refusal(const struct jst_source_refusal *j, void *ud)
{
	struct src_out *out = ud;
	struct jst_jbuf *b = &out->refusals;
	place(b, &out->nref, j->group, j->topic, j->partition);
	jst__jbuf_printf(b, ",\"offset\":%lld", (long long)j->offset);
	when(b, j->ts_ns);
	jst__jbuf_str(b, ",\"error\":");
	jst__jbuf_jstr(b, j->error);
	jst__jbuf_put(b, "}", 1);
	return 0;
}

void jst__api_sources(struct jst_server *s, struct jst_httpd_req *req, struct jst_httpd_resp *resp)
{
	const struct jst_req_state *st = req->state;
	if (st->who.role != JST_ROLE_ADMIN) {
		jst__httpd_error(resp, 403, 0, "the sources' offsets and refused messages are for admin tokens only");
		return;
	}
	struct src_out out = {&resp->body, {0}, 0, 0};
	jst__jbuf_init(&out.refusals, 1u << 20);
	int64_t refused = 0;
	char err[400] = "";
	jst__jbuf_str(&resp->body, "{\"offsets\":[");
	pthread_mutex_lock(&s->read_mu);
	int r = jst_store_sources(s->reader, REFUSALS_SHOWN, each_offset, each_refusal, &out, &refused);
	if (r < 0)
		jst__strlcpy(err, jst_store_errmsg(s->reader), sizeof(err));
	pthread_mutex_unlock(&s->read_mu);
	if (r < 0) {
		jst__jbuf_release(&out.refusals);
		jst__httpd_error(resp, r == -ENOTSUP ? 501 : 503, 0, "the store could not list its sources (%s)", err);
		return;
	}
	jst__jbuf_str(&resp->body, "],\"refusals\":[");
	jst__jbuf_put(&resp->body, out.refusals.p ? out.refusals.p : "", out.refusals.len);
	jst__jbuf_printf(&resp->body, "],\"refused\":%lld}\n", (long long)refused);
	jst__jbuf_release(&out.refusals);
	resp->status = 200;
}
