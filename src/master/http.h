/* Master-only HTTP: /metrics, /healthz, /readyz on libmicrohttpd, driven by the master's loop. */
#ifndef PROCESSOR_HTTP_H
#define PROCESSOR_HTTP_H

#include <ev.h>

struct buf;

struct http_cb {
	/* Fill the Prometheus text; 0, or -1 for a 500. */
	int	(*hc_metrics)(struct buf *, void *);
	/* 1 when ready; else 0 with a short reason in the buffer. */
	int	(*hc_ready)(struct buf *reason, void *);
	void	*hc_arg;
};

#define HTTP_MAX_CONNECTIONS	64
#define HTTP_MAX_PER_IP		32
#define HTTP_TIMEOUT_SEC	10	/* inactivity */
#define HTTP_DEADLINE_SEC	10	/* absolute, per request: a byte every few seconds does not keep a slot */
#define HTTP_MEMORY_LIMIT	(32 * 1024)	/* per connection: request line + headers */

/*
 * Listen on "host:port", "[v6addr]:port" or ":port"/"*:port" (any address).
 * Returns 0, or -1 with errno (EINVAL for a bad address, else bind(2)'s,
 * EADDRINUSE among them).  The callbacks run
 * on the loop, inside http's I/O handling.
 */
int	http_start(struct ev_loop *, const char *listen, const struct http_cb *);
void	http_stop(void);
int	http_running(void);

#endif
