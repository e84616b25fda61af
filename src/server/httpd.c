/* The HTTP server wrapper (httpd.h). libmicrohttpd calls the access handler first with the
 * headers, then with each piece of the body, then once more with none: the first call runs the
 * caller's precheck (which may refuse the request from its headers: the body is then read up
 * to the ceiling and dropped, never stored, so that the client, still sending, reads the
 * answer instead of a broken pipe), the middle calls copy the body up to the ceiling, the last
 * runs the handler.
 *
 * Slow clients: libmicrohttpd's own timeout is an idle one, which a client sending a byte now
 * and then extends for ever. So each connection also has deadlines of its own, kept here: its
 * headers within header_timeout_s of its start (or of its previous request's end), its body
 * within body_timeout_s of its headers. A watchdog thread shuts down the socket of a
 * connection past its deadline (shutdown(2), not close: libmicrohttpd still owns the
 * descriptor, sees the end of the stream and closes it itself), and libmicrohttpd caps the
 * connections of one client address. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/dl_mhd.h"

#include "core/util.h"
#include "server/httpd.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

#define PEM_MAX (1u << 20)

#define HEADER_TIMEOUT_S 30u
#define BODY_TIMEOUT_S 120u
#define PER_CLIENT_MAX 64u
#define WATCH_NS 250000000ull /* how often the watchdog looks */

/* A connection's deadline (the socket context): in the daemon's list while it is open. */
struct sock {
	struct sock *prev, *next;
	int fd;
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none (its answer is being sent) */
	bool cut;             /* shut down by the watchdog */
};

struct jst_httpd {
	struct MHD_Daemon *d;
	struct jst_httpd_opts o;
	unsigned port;
	char *cert, *key; /* PEM, NUL-terminated, for HTTPS; NULL for plain HTTP */
	bool starting;    /* on_log keeps MHD's message in why */
	char why[512];
	uint64_t header_ns, body_ns;
	pthread_mutex_t mu; /* guards socks and stop */
	pthread_cond_t cv;
	pthread_t watchdog;
	bool watching, stop;
	struct sock socks; /* list head */
};

struct conn {
	struct jst_httpd_req req;
	struct jst_jbuf body;
	struct jst_httpd_resp early; /* precheck's answer, sent once the body is in */
	bool refused;   /* precheck answered: the body is read and dropped */
	bool answered;  /* a response was queued */
	bool too_big;
	bool prechecked;
};

static void set_deadline(struct jst_httpd *h, struct MHD_Connection *c, uint64_t after_ns)
{
	const union MHD_ConnectionInfo *ci = jst__mhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct sock *k = ci ? ci->socket_context : NULL;
	if (!k)
		return;
	pthread_mutex_lock(&h->mu);
	k->deadline_ns = after_ns ? jst__mono_ns() + after_ns : 0;
	pthread_mutex_unlock(&h->mu);
}

/* The connection's life: into the watchdog's list when it opens (its headers due within
 * header_timeout_s), out of it before libmicrohttpd closes the descriptor. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct jst_httpd *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			jst__mhd.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct sock *k = ci ? calloc(1, sizeof(*k)) : NULL;
		if (!k)
			return; /* no deadline of our own: libmicrohttpd's idle timeout still holds */
		k->fd = ci->connect_fd;
		k->deadline_ns = jst__mono_ns() + h->header_ns;
		pthread_mutex_lock(&h->mu);
		k->next = h->socks.next;
		k->prev = &h->socks;
		h->socks.next->prev = k;
		h->socks.next = k;
		pthread_mutex_unlock(&h->mu);
		*socket_context = k;
		return;
	}
	struct sock *k = *socket_context;
	if (!k)
		return;
	pthread_mutex_lock(&h->mu);
	k->prev->next = k->next;
	k->next->prev = k->prev;
	pthread_mutex_unlock(&h->mu);
	free(k);
	*socket_context = NULL;
}

static void *watchdog(void *arg)
{
	struct jst_httpd *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->stop) {
		uint64_t now = jst__mono_ns();
		for (struct sock *k = h->socks.next; k != &h->socks; k = k->next)
			if (!k->cut && k->deadline_ns && now >= k->deadline_ns) {
				shutdown(k->fd, SHUT_RDWR); /* under mu: the descriptor is still libmicrohttpd's */
				k->cut = true;
			}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t t = (uint64_t)ts.tv_nsec + WATCH_NS;
		ts.tv_sec += (time_t)(t / 1000000000u);
		ts.tv_nsec = (long)(t % 1000000000u);
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

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
	return jst__mhd.MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

void jst__httpd_client(const struct jst_httpd_req *r, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		r->conn ? jst__mhd.MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)n);
}

static MHD_Result_t answer(struct MHD_Connection *c, struct jst_httpd_resp *resp)
{
	if (resp->body.full) {
		jst__jbuf_release(&resp->body);
		jst__jbuf_init(&resp->body, 4096);
		jst__httpd_error(resp, 500, 0, "the answer is too large: narrow the query (limit, from, to)");
	}
	static char empty[1];
	struct MHD_Response *r = jst__mhd.MHD_create_response_from_buffer(resp->body.len, resp->body.p ? resp->body.p : empty,
	                                                         MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	jst__mhd.MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
	if (resp->retry_after_s) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", resp->retry_after_s);
		jst__mhd.MHD_add_response_header(r, "Retry-After", ra);
	}
	MHD_Result_t ok = jst__mhd.MHD_queue_response(c, (unsigned)resp->status, r);
	jst__mhd.MHD_destroy_response(r);
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
		k->req.auth = jst__mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		const char *cl = jst__mhd.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		uint64_t n = 0;
		if (cl && jst__parse_u64(cl, strlen(cl), &n) == 0)
			k->req.content_length = (size_t)n;
		jst__jbuf_init(&k->body, h->o.body_max + 1);
		set_deadline(h, c, h->body_ns); /* the headers are in: now the body */
		struct jst_httpd_resp *resp = &k->early;
		jst__jbuf_init(&resp->body, 1 << 20);
		k->prechecked = true;
		if (h->o.precheck && h->o.precheck(h->o.ud, &k->req, resp)) {
			/* An announced body over the ceiling is not worth reading: answer now (the
			 * client may see its pipe break, but it was told the size in advance). */
			if (k->req.content_length <= h->o.body_max) {
				k->refused = true;
				return MHD_YES;
			}
			k->answered = true;
			set_deadline(h, c, 0);
			return answer(c, resp);
		}
		jst__jbuf_release(&resp->body);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!k->answered && !k->too_big && !k->refused) {
			if (k->body.len + *upload_size > h->o.body_max)
				k->too_big = true;
			else
				jst__jbuf_put(&k->body, upload, *upload_size);
		} else if (k->refused && !k->answered) { /* dropped, up to the ceiling */
			k->req.body_len += *upload_size;
			if (k->req.body_len > h->o.body_max) {
				k->answered = true;
				set_deadline(h, c, 0);
				*upload_size = 0;
				return answer(c, &k->early);
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->answered)
		return MHD_YES;
	k->answered = true;
	set_deadline(h, c, 0);
	if (k->refused)
		return answer(c, &k->early);
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
	if (k->refused && !k->answered)
		jst__jbuf_release(&k->early.body);
	set_deadline(h, c, h->header_ns); /* kept alive: the next request's headers are due */
	jst__jbuf_release(&k->body);
	free(k);
	*ptr = NULL;
}

/* Reads a PEM file of at most 1 MiB into a NUL-terminated buffer, checking that it holds a
 * block whose BEGIN line contains marker. GnuTLS checks the rest when the daemon starts.
 * NULL with err set. */
static char *read_pem(const char *flag, const char *path, const char *what, const char *marker, char *err,
                      size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot read %s %s: %s", flag, path, strerror(errno));
		return NULL;
	}
	char *p = malloc(PEM_MAX + 1);
	size_t n = p ? fread(p, 1, PEM_MAX + 1, f) : 0;
	bool rerr = ferror(f);
	fclose(f);
	if (!p || rerr || n > PEM_MAX) {
		snprintf(err, errlen, "cannot read %s %s: %s", flag, path,
		         !p ? "out of memory" : rerr ? "read error" : "larger than 1 MiB: not a PEM file");
		free(p);
		return NULL;
	}
	p[n] = '\0';
	if (!strstr(p, marker) || strlen(p) != n) {
		snprintf(err, errlen, "%s %s holds no PEM %s (no '%s' line): give the %s in PEM form", flag, path,
		         what, marker, what);
		free(p);
		return NULL;
	}
	return p;
}

/* --tls-cert/--tls-key: both or neither; loads them into h when given. */
static int tls_setup(struct jst_httpd *h, const struct jst_httpd_opts *o, char *err, size_t errlen)
{
	if (!o->tls_cert && !o->tls_key)
		return 0;
	if (!o->tls_cert || !o->tls_key) {
		snprintf(err, errlen, "%s given without %s: HTTPS needs both the certificate and its private key",
		         o->tls_cert ? "--tls-cert" : "--tls-key", o->tls_cert ? "--tls-key" : "--tls-cert");
		return -EINVAL;
	}
	if (jst__mhd.MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "this libmicrohttpd was built without TLS: install Debian's libmicrohttpd12"
		         " (built with GnuTLS), or serve plain HTTP behind a TLS proxy");
		return -ENOTSUP;
	}
	/* a key's line may be BEGIN PRIVATE KEY, BEGIN EC PRIVATE KEY or BEGIN RSA PRIVATE KEY */
	if (!(h->cert = read_pem("--tls-cert", o->tls_cert, "certificate", "-----BEGIN CERTIFICATE-----", err,
	                         errlen)) ||
	    !(h->key = read_pem("--tls-key", o->tls_key, "private key", "PRIVATE KEY-----", err, errlen)))
		return -EINVAL;
	return 0;
}

/* MHD's messages: collected while the daemon starts (they say why it did not), then on
 * stderr. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
	struct jst_httpd *h = cls;
	if (h->starting) {
		size_t n = strlen(h->why);
		if (n && n + 2 < sizeof(h->why))
			n += (size_t)snprintf(h->why + n, sizeof(h->why) - n, "; ");
		vsnprintf(h->why + n, sizeof(h->why) - n, fmt, ap);
		h->why[n + strcspn(h->why + n, "\n")] = '\0';
		return;
	}
	fputs("joulestream: http server: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void free_httpd(struct jst_httpd *h)
{
	if (h->watching) {
		pthread_mutex_lock(&h->mu);
		h->stop = true;
		pthread_cond_signal(&h->cv);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->watchdog, NULL);
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h->cert);
	free(h->key);
	free(h);
}

static struct MHD_Daemon *start_daemon(struct jst_httpd *h, const struct sockaddr_in *sa)
{
	unsigned threads = h->o.threads ? h->o.threads : 2; /* a pool of 1 is no pool: MHD wants 0 then */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	unsigned per_client = h->o.per_client_max ? h->o.per_client_max : PER_CLIENT_MAX;
	/* the TLS options come last: with no TLS, MHD_OPTION_END ends the list before them. TLS
	 * 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996). */
	return jst__mhd.MHD_start_daemon(flags | (h->cert ? MHD_USE_TLS : 0u), 0, NULL, NULL, on_request, h,
	                                 MHD_OPTION_EXTERNAL_LOGGER, on_log, h, /* first, MHD wants */
	                                 MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
	                                 MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
	                                 MHD_OPTION_CONNECTION_LIMIT, 512u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
	                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client,
	                                 MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
	                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	                                 h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
	                                 MHD_OPTION_HTTPS_MEM_KEY, h->key,
	                                 MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	                                 MHD_OPTION_END);
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
	int r = jst__mhd_load(err, errlen); /* libmicrohttpd is mapped only by those who serve */
	if (r < 0)
		return r;
	struct jst_httpd *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->socks.next = h->socks.prev = &h->socks;
	h->header_ns = (uint64_t)(o->header_timeout_s ? o->header_timeout_s : HEADER_TIMEOUT_S) * 1000000000u;
	h->body_ns = (uint64_t)(o->body_timeout_s ? o->body_timeout_s : BODY_TIMEOUT_S) * 1000000000u;
	if ((r = tls_setup(h, o, err, errlen)) < 0) {
		free_httpd(h);
		return r;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	memcpy(&sa.sin_addr.s_addr, a, 4);
	h->starting = true;
	errno = 0;
	h->d = start_daemon(h, &sa);
	int e = errno;
	h->starting = false;
	if (!h->d && h->cert && (strstr(h->why, "certificate") || strstr(h->why, "TLS"))) {
		snprintf(err, errlen, "--tls-cert %s and --tls-key %s are not a valid certificate and its private"
		         " key (%s): give the certificate and the key it was made for", o->tls_cert, o->tls_key,
		         h->why);
		free_httpd(h);
		return -EINVAL;
	}
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s: %s (address in use, or not this machine's)", o->listen,
		         h->why[0] ? h->why : strerror(e ? e : EADDRINUSE));
		free_httpd(h);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info = jst__mhd.MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	if ((r = -pthread_create(&h->watchdog, NULL, watchdog, h)) < 0) {
		snprintf(err, errlen, "cannot start the connection watchdog: %s", strerror(-r));
		jst__mhd.MHD_stop_daemon(h->d);
		free_httpd(h);
		return r;
	}
	h->watching = true;
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
	jst__mhd.MHD_stop_daemon(h->d); /* closes every connection: the list is empty after */
	free_httpd(h);
}
