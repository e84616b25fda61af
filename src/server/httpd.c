/* The HTTP server wrapper (httpd.h). libmicrohttpd calls the access handler first with the
 * headers, then with each piece of the body, then once more with none: the first call runs the
 * caller's precheck (which may answer at once, so an unauthorised or oversized upload is never
 * read), the middle calls copy the body up to the ceiling, the last runs the handler. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "core/util.h"
#include "server/httpd.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

struct jst_httpd {
	struct MHD_Daemon *d;
	struct jst_httpd_opts o;
	unsigned port;
};

struct conn {
	struct jst_httpd_req req;
	struct jst_jbuf body;
	bool answered;  /* a response was queued */
	bool too_big;
	bool prechecked;
};

int jst__parse_listen(const char *s, unsigned char addr[4], unsigned *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -EINVAL;
	char host[64];
	size_t hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	uint64_t p;
	struct in_addr in;
	if (jst__parse_u64(colon + 1, strlen(colon + 1), &p) < 0 || p > 65535 || inet_pton(AF_INET, host, &in) != 1)
		return -EINVAL;
	memcpy(addr, &in.s_addr, 4);
	*port = (unsigned)p;
	return 0;
}

void jst__httpd_error(struct jst_httpd_resp *resp, int status, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp->status = status;
	jst__jbuf_reset(&resp->body);
	jst__jbuf_str(&resp->body, "{\"error\":");
	jst__jbuf_jstr(&resp->body, msg);
	if (line)
		jst__jbuf_printf(&resp->body, ",\"line\":%zu", line);
	jst__jbuf_str(&resp->body, "}\n");
}

const char *jst__httpd_arg(const struct jst_httpd_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static MHD_Result_t answer(struct MHD_Connection *c, struct jst_httpd_resp *resp)
{
	if (resp->body.full) {
		jst__jbuf_release(&resp->body);
		jst__jbuf_init(&resp->body, 4096);
		jst__httpd_error(resp, 500, 0, "the answer is too large: narrow the query (limit, from, to)");
	}
	static char empty[1];
	struct MHD_Response *r = MHD_create_response_from_buffer(resp->body.len, resp->body.p ? resp->body.p : empty,
	                                                         MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
	if (resp->retry_after_s) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", resp->retry_after_s);
		MHD_add_response_header(r, "Retry-After", ra);
	}
	MHD_Result_t ok = MHD_queue_response(c, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	jst__jbuf_release(&resp->body);
	return ok;
}

static MHD_Result_t on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **ptr)
{
	struct jst_httpd *h = cls;
	struct conn *k = *ptr;
	(void)version;
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k)
			return MHD_NO;
		*ptr = k;
		k->req = (struct jst_httpd_req){.method = method, .path = url, .conn = c};
		k->req.auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		uint64_t n = 0;
		if (cl && jst__parse_u64(cl, strlen(cl), &n) == 0)
			k->req.content_length = (size_t)n;
		jst__jbuf_init(&k->body, h->o.body_max + 1);
		struct jst_httpd_resp resp = {0};
		jst__jbuf_init(&resp.body, 1 << 20);
		k->prechecked = true;
		if (h->o.precheck && h->o.precheck(h->o.ud, &k->req, &resp)) {
			k->answered = true;
			return answer(c, &resp);
		}
		jst__jbuf_release(&resp.body);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!k->answered && !k->too_big) {
			if (k->body.len + *upload_size > h->o.body_max)
				k->too_big = true;
			else
				jst__jbuf_put(&k->body, upload, *upload_size);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->answered)
		return MHD_YES;
	k->answered = true;
	struct jst_httpd_resp resp = {0};
	jst__jbuf_init(&resp.body, 64u << 20);
	if (k->too_big || k->body.full) {
		jst__httpd_error(&resp, 413, 0, "body larger than %zu bytes: send smaller batches", h->o.body_max);
	} else {
		k->req.body = k->body.p ? k->body.p : "";
		k->req.body_len = k->body.len;
		h->o.handle(h->o.ud, &k->req, &resp);
	}
	return answer(c, &resp);
}

static void on_done(void *cls, struct MHD_Connection *c, void **ptr, enum MHD_RequestTerminationCode why)
{
	struct jst_httpd *h = cls;
	struct conn *k = *ptr;
	(void)c;
	(void)why;
	if (!k)
		return;
	if (k->prechecked && h->o.done)
		h->o.done(h->o.ud, &k->req);
	jst__jbuf_release(&k->body);
	free(k);
	*ptr = NULL;
}

int jst__httpd_start(struct jst_httpd **out, const struct jst_httpd_opts *o, char *err, size_t errlen)
{
	unsigned char a[4];
	unsigned port;
	if (jst__parse_listen(o->listen, a, &port) < 0) {
		snprintf(err, errlen, "bad --listen '%s': give ADDR:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)",
		         o->listen);
		return -EINVAL;
	}
	struct jst_httpd *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	memcpy(&sa.sin_addr.s_addr, a, 4);
	unsigned threads = o->threads ? o->threads : 2; /* a pool of 1 is no pool: MHD wants 0 then */
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	                        on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
	                        MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_done, h, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s: %s (address in use, or not this machine's)", o->listen,
		         strerror(errno ? errno : EADDRINUSE));
		free(h);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return 0;
}

unsigned jst__httpd_port(const struct jst_httpd *h)
{
	return h->port;
}

void jst__httpd_stop(struct jst_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
