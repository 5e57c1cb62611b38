/* Master-only HTTP: /metrics, /healthz, /readyz on libmicrohttpd, driven by the master's loop. */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "util/buf.h"
#include "master/http.h"
#include "util/log.h"
#include "master/prom.h"

/* A connection and when its current request began. */
struct http_conn {
	struct http_conn	*hc_next;
	struct http_conn	*hc_prev;
	int			 hc_fd;
	int			 hc_cut;	/* shut down at the deadline */
	ev_tstamp		 hc_since;
};

static struct {
	struct MHD_Daemon	*h_daemon;
	struct ev_loop		*h_loop;
	ev_io			 h_io;
	ev_timer		 h_timer;
	ev_timer		 h_deadline;
	struct http_conn	*h_conns;
	struct http_cb		 h_cb;
} http;

static void
http_log(void *arg, const char *fmt, va_list ap)
{
	char	msg[512];
	size_t	n;

	(void)arg;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

static enum MHD_Result
http_reply(struct MHD_Connection *conn, unsigned int status,
    const char *type, const char *body, size_t len)
{
	struct MHD_Response	*r;
	enum MHD_Result		 rc;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
http_text(struct MHD_Connection *conn, unsigned int status, const char *s)
{
	return http_reply(conn, status, "text/plain; charset=utf-8", s,
	    strlen(s));
}

static enum MHD_Result
http_metrics(struct MHD_Connection *conn)
{
	struct buf	b;
	enum MHD_Result	rc;

	buf_init(&b);
	if (http.h_cb.hc_metrics(&b, http.h_cb.hc_arg) == -1)
		rc = http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot render metrics\n");
	else
		rc = http_reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE,
		    b.b_data, b.b_len);
	buf_free(&b);
	return rc;
}

static enum MHD_Result
http_readyz(struct MHD_Connection *conn)
{
	struct buf	 reason, body;
	char		 esc[512];
	unsigned int	 status;
	enum MHD_Result	 rc;

	buf_init(&reason);
	buf_init(&body);
	if (http.h_cb.hc_ready(&reason, http.h_cb.hc_arg)) {
		buf_puts(&body, "{\"ready\":true}\n");
		status = MHD_HTTP_OK;
	} else {
		log_json_escape(esc, sizeof(esc), reason.b_data ?
		    reason.b_data : "", reason.b_len);
		buf_printf(&body, "{\"ready\":false,\"reason\":\"%s\"}\n", esc);
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	}
	rc = http_reply(conn, status, "application/json",
	    body.b_data ? body.b_data : "", body.b_len);
	buf_free(&reason);
	buf_free(&body);
	return rc;
}

static enum MHD_Result
http_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *uploadlen, void **state)
{
	(void)cls;
	(void)version;
	(void)upload;
	(void)uploadlen;
	(void)state;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return http_metrics(conn);
	if (strcmp(url, "/healthz") == 0)
		return http_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0)
		return http_readyz(conn);
	return http_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* Re-arm the timer MHD asks for after each run (connection timeouts, pending work). */
static void
http_arm(void)
{
	MHD_UNSIGNED_LONG_LONG	ms;

	ev_timer_stop(http.h_loop, &http.h_timer);
	if (MHD_get_timeout(http.h_daemon, &ms) != MHD_YES)
		return;
	ev_timer_set(&http.h_timer, (double)ms / 1000.0, 0.);
	ev_timer_start(http.h_loop, &http.h_timer);
}

static void
http_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	MHD_run(http.h_daemon);
	http_arm();
}

static void
http_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	MHD_run(http.h_daemon);
	http_arm();
}

/*
 * libmicrohttpd's CONNECTION_TIMEOUT only measures inactivity: a client
 * that sends one byte every few seconds keeps its slot for ever, and a few
 * such clients from two addresses hold every slot (slowloris).  So each
 * request also has an absolute deadline; past it the socket is shut down,
 * and MHD, reading end of file, closes the connection and frees the slot.
 */
static void
http_notify(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo	*ci;
	struct http_conn		*hc;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (hc = calloc(1, sizeof(*hc))) == NULL)
			return;
		hc->hc_fd = ci->connect_fd;
		hc->hc_since = ev_now(http.h_loop);
		hc->hc_next = http.h_conns;
		if (http.h_conns != NULL)
			http.h_conns->hc_prev = hc;
		http.h_conns = hc;
		*ctx = hc;
		return;
	}
	if ((hc = *ctx) == NULL)
		return;
	if (hc->hc_prev != NULL)
		hc->hc_prev->hc_next = hc->hc_next;
	else
		http.h_conns = hc->hc_next;
	if (hc->hc_next != NULL)
		hc->hc_next->hc_prev = hc->hc_prev;
	free(hc);
	*ctx = NULL;
}

/* A request answered: the next one on the connection has its own deadline. */
static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo	*ci;
	struct http_conn		*hc;

	(void)cls;
	(void)con_cls;
	(void)toe;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && (hc = ci->socket_context) != NULL)
		hc->hc_since = ev_now(http.h_loop);
}

static void
http_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct http_conn	*hc;
	ev_tstamp		 now = ev_now(loop);

	(void)t;
	(void)revents;
	for (hc = http.h_conns; hc != NULL; hc = hc->hc_next) {
		if (hc->hc_cut || now - hc->hc_since < HTTP_DEADLINE_SEC)
			continue;
		hc->hc_cut = 1;
		log_debug("http: request past its %d s deadline; closing",
		    HTTP_DEADLINE_SEC);
		shutdown(hc->hc_fd, SHUT_RDWR);
	}
	MHD_run(http.h_daemon);
	http_arm();
}

/* Split host:port; host may be [v6], empty or "*" for any address. */
static int
http_resolve(const char *listen, struct sockaddr_storage *ss)
{
	struct addrinfo	 hints, *res;
	char		 host[256];
	const char	*colon, *h;
	size_t		 hlen;

	if ((colon = strrchr(listen, ':')) == NULL)
		return -1;
	h = listen;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(hlen == 0 || strcmp(host, "*") == 0 ? NULL : host,
	    colon + 1, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/*
 * Bind the listening socket here rather than in libmicrohttpd, whose
 * MHD_start_daemon loses the errno of a failed bind(2): the caller has to
 * tell "address in use" from "permission denied".
 */
static int
http_listen(const struct sockaddr_storage *ss)
{
	socklen_t	len;
	int		fd, on = 1, saved;

	len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)ss, len) == -1 ||
	    listen(fd, 64) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
http_start(struct ev_loop *loop, const char *listen, const struct http_cb *cb)
{
	const union MHD_DaemonInfo	*info;
	struct sockaddr_storage		 ss;
	unsigned int			 flags;
	int				 fd;

	memset(&ss, 0, sizeof(ss));
	if (http_resolve(listen, &ss) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = http_listen(&ss)) == -1)
		return -1;
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	http.h_loop = loop;
	http.h_cb = *cb;
	http.h_daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_handler,
	    NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_SEC,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
	    MHD_OPTION_END);
	if (http.h_daemon == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	info = MHD_get_daemon_info(http.h_daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		MHD_stop_daemon(http.h_daemon);
		http.h_daemon = NULL;
		errno = ENOTSUP;
		return -1;
	}
	ev_io_init(&http.h_io, http_io_cb, info->epoll_fd, EV_READ);
	ev_io_start(loop, &http.h_io);
	ev_timer_init(&http.h_timer, http_timer_cb, 0., 0.);
	ev_timer_init(&http.h_deadline, http_deadline_cb, 1., 1.);
	ev_timer_start(loop, &http.h_deadline);
	http_arm();
	return 0;
}

void
http_stop(void)
{
	if (http.h_daemon == NULL)
		return;
	ev_io_stop(http.h_loop, &http.h_io);
	ev_timer_stop(http.h_loop, &http.h_timer);
	ev_timer_stop(http.h_loop, &http.h_deadline);
	MHD_stop_daemon(http.h_daemon);	/* notifies CLOSED: frees h_conns */
	http.h_daemon = NULL;
}

int
http_running(void)
{
	return http.h_daemon != NULL;
}
