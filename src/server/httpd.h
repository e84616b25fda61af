/* A small HTTP server over libmicrohttpd for `serve` and the agent's /metrics: it binds an
 * IPv4 address (127.0.0.1 unless told otherwise; port 0 picks a free one), reads request
 * bodies up to a ceiling, lets the caller reject a request from its headers alone (auth, size,
 * overload) without storing its body, and sends the caller's answer; slow clients are cut at
 * deadlines they cannot stretch, and one client's connections are capped. Handlers run on the
 * daemon's thread pool. With a certificate and key it speaks HTTPS only (GnuTLS, inside
 * libmicrohttpd), loaded on first use like libmicrohttpd itself (core/dl_mhd.h). */
#ifndef JST_SERVER_HTTPD_H
#define JST_SERVER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jbuf.h"

struct MHD_Connection;

struct jst_httpd_req {
	const char *method, *path;
	const char *auth; /* the Authorization header, or NULL */
	const char *body;
	size_t body_len;
	size_t content_length; /* announced, 0 when unknown */
	struct MHD_Connection *conn;
	void *state;       /* the caller's, set by precheck, given back to handle and done */
};

struct jst_httpd_resp {
	int status;
	struct jst_jbuf body;
	const char *content_type; /* NULL: application/json */
	unsigned retry_after_s;   /* 429 and 503: Retry-After */
};

struct jst_httpd_opts {
	const char *listen;   /* "ADDR:PORT" */
	size_t body_max;      /* larger bodies are answered 413 */
	unsigned threads;
	void *ud;
	/* Called once the headers are in; returns true with resp filled to refuse the request:
	 * its body is then read and dropped (up to body_max, so that the client reads the answer)
	 * and resp is sent; a body announced over body_max is not read. May set req->state. */
	bool (*precheck)(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
	void (*handle)(void *ud, struct jst_httpd_req *req, struct jst_httpd_resp *resp);
	/* Called when a request that passed precheck is finished (answered or aborted). */
	void (*done)(void *ud, struct jst_httpd_req *req);
	/* HTTPS: PEM files of the server's certificate (chain) and its private key, both or
	 * neither (NULL: plain HTTP). Read and checked before listening. */
	const char *tls_cert, *tls_key;
	/* Deadlines a slow client cannot stretch (0: the defaults, 30 s and 120 s): a
	 * connection's request headers within header_timeout_s of its start (or of the end of
	 * its previous request), its body within body_timeout_s of its headers; past one, the
	 * connection is cut. per_client_max: open connections of one client address (0: 64). */
	unsigned header_timeout_s, body_timeout_s, per_client_max;
};

struct jst_httpd;

int jst__httpd_start(struct jst_httpd **out, const struct jst_httpd_opts *o, char *err, size_t errlen);
unsigned jst__httpd_port(const struct jst_httpd *h);
void jst__httpd_stop(struct jst_httpd *h);

/* A query-string argument, or NULL. */
const char *jst__httpd_arg(const struct jst_httpd_req *r, const char *key);
/* The client's IP address as text into out ("" when unknown). */
void jst__httpd_client(const struct jst_httpd_req *r, char *out, size_t n);

/* resp = {"error": msg} (and "line" when line > 0). */
void jst__httpd_error(struct jst_httpd_resp *resp, int status, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Parses "ADDR:PORT" (IPv4, port 0-65535). */
int jst__parse_listen(const char *s, unsigned char addr[4], unsigned *port);

#endif
