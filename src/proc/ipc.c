/* Master <-> worker framing: read buffer popped frame by frame, write queue behind EV_WRITE. */
#include "autoconf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proc/ipc.h"

static void	ipc_read_cb(struct ev_loop *, ev_io *, int);
static void	ipc_write_cb(struct ev_loop *, ev_io *, int);

static const char *const ipc_names[MSG_TYPE_END] = {
	[MSG_HELLO] = "HELLO",
	[MSG_STATS] = "STATS",
	[MSG_SHUTDOWN] = "SHUTDOWN",
	[MSG_DRAIN] = "DRAIN",
	[MSG_RESUME] = "RESUME",
	[MSG_DEVICE_QUERY] = "DEVICE_QUERY",
	[MSG_DEVICE_REPLY] = "DEVICE_REPLY",
	[MSG_CLAIM] = "CLAIM",
	[MSG_CLAIM_REPLY] = "CLAIM_REPLY",
	[MSG_LOG_LEVEL] = "LOG_LEVEL",
	[MSG_BACKLOG] = "BACKLOG",
};

const char *
ipc_type_name(uint32_t type)
{
	if (type == 0 || type >= MSG_TYPE_END)
		return "unknown";
	return ipc_names[type];
}

void
ipc_init(struct ipc_chan *c, struct ev_loop *loop, int fd,
    ipc_dispatch_cb *dispatch, ipc_closed_cb *closed, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->ic_loop = loop;
	c->ic_fd = fd;
	c->ic_dispatch = dispatch;
	c->ic_closed = closed;
	c->ic_arg = arg;
	buf_init(&c->ic_rbuf);
	buf_init(&c->ic_wbuf);
	ev_io_init(&c->ic_rev, ipc_read_cb, fd, EV_READ);
	ev_io_init(&c->ic_wev, ipc_write_cb, fd, EV_WRITE);
	c->ic_rev.data = c;
	c->ic_wev.data = c;
	if (loop != NULL && fd != -1)
		ev_io_start(loop, &c->ic_rev);
}

static void
ipc_release(struct ipc_chan *c)
{
	buf_free(&c->ic_rbuf);
	buf_free(&c->ic_wbuf);
	c->ic_woff = 0;
	c->ic_dead = 0;
}

void
ipc_close(struct ipc_chan *c)
{
	if (c->ic_loop != NULL) {
		ev_io_stop(c->ic_loop, &c->ic_rev);
		ev_io_stop(c->ic_loop, &c->ic_wev);
	}
	if (c->ic_fd != -1) {
		close(c->ic_fd);
		c->ic_fd = -1;
	}
	if (c->ic_busy)
		c->ic_dead = 1;
	else
		ipc_release(c);
}

int
ipc_check_hdr(const struct ipc_hdr *h)
{
	if (h->ih_type == 0 || h->ih_type >= MSG_TYPE_END)
		return -1;
	if (h->ih_len < IPC_HDR_LEN || h->ih_len > IPC_MAX_FRAME)
		return -1;
	return 0;
}

size_t
ipc_queued(const struct ipc_chan *c)
{
	return c->ic_wbuf.b_len - c->ic_woff;
}

int
ipc_compose(struct ipc_chan *c, enum ipc_type type, uint32_t slot,
    uint32_t pid, const void *payload, size_t len)
{
	struct ipc_hdr	h;

	if (len > IPC_MAX_FRAME - IPC_HDR_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->ic_fd == -1) {
		errno = EPIPE;
		return -1;
	}
	if (ipc_queued(c) + IPC_HDR_LEN + len > IPC_MAX_QUEUE) {
		errno = ENOBUFS;
		return -1;
	}
	h.ih_type = type;
	h.ih_len = (uint32_t)(IPC_HDR_LEN + len);
	h.ih_slot = slot;
	h.ih_pid = pid;
	if (buf_append(&c->ic_wbuf, &h, sizeof(h)) == -1 ||
	    buf_append(&c->ic_wbuf, payload, len) == -1)
		return -1;
	if (c->ic_loop != NULL)
		ev_io_start(c->ic_loop, &c->ic_wev);
	return 0;
}

/* Write what the socket takes; 0 when the queue is empty, -1 otherwise. */
int
ipc_flush(struct ipc_chan *c)
{
	ssize_t	n;

	while (ipc_queued(c) > 0) {
		n = write(c->ic_fd, c->ic_wbuf.b_data + c->ic_woff,
		    ipc_queued(c));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		c->ic_woff += (size_t)n;
	}
	buf_reset(&c->ic_wbuf);
	c->ic_woff = 0;
	return 0;
}

static void
ipc_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ipc_chan	*c = w->data;

	(void)revents;
	if (ipc_flush(c) == 0) {
		ev_io_stop(loop, w);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return;
	ev_io_stop(loop, w);
	c->ic_closed(c, errno, c->ic_arg);
}

/* Pop and dispatch whole frames from the front of the read buffer. */
static int
ipc_pop(struct ipc_chan *c)
{
	struct buf	*b = &c->ic_rbuf;
	struct ipc_hdr	 h;
	size_t		 off = 0;
	int		 rc = 0;

	c->ic_busy = 1;
	while (b->b_len - off >= IPC_HDR_LEN) {
		memcpy(&h, b->b_data + off, sizeof(h));
		if (ipc_check_hdr(&h) == -1) {
			rc = -1;
			break;
		}
		if (b->b_len - off < h.ih_len)
			break;
		rc = c->ic_dispatch(c, &h, b->b_data + off + IPC_HDR_LEN,
		    h.ih_len - IPC_HDR_LEN, c->ic_arg);
		off += h.ih_len;
		if (rc == -1 || c->ic_dead)
			break;
	}
	c->ic_busy = 0;
	if (c->ic_dead) {
		ipc_release(c);
		return rc;
	}
	if (off > 0) {
		memmove(b->b_data, b->b_data + off, b->b_len - off);
		b->b_len -= off;
	}
	if (rc == -1)
		errno = EPROTO;
	return rc;
}

int
ipc_feed(struct ipc_chan *c, const void *data, size_t len)
{
	if (buf_append(&c->ic_rbuf, data, len) == -1)
		return -1;
	return ipc_pop(c);
}

static void
ipc_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ipc_chan	*c = w->data;
	ssize_t		 n;
	int		 error;

	(void)revents;
	for (;;) {
		if (buf_reserve(&c->ic_rbuf, IPC_MAX_FRAME) == -1) {
			error = errno;
			break;
		}
		n = read(c->ic_fd, c->ic_rbuf.b_data + c->ic_rbuf.b_len,
		    IPC_MAX_FRAME);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			error = n == 0 ? 0 : errno;
			break;
		}
		c->ic_rbuf.b_len += (size_t)n;
		if (ipc_pop(c) == -1) {
			error = EPROTO;
			break;
		}
		if (c->ic_fd == -1)	/* closed by a dispatch callback */
			return;
	}
	if (loop != NULL)
		ev_io_stop(loop, w);
	c->ic_closed(c, error, c->ic_arg);
}

void
ipc_read_pending(struct ipc_chan *c)
{
	if (c->ic_fd != -1)
		ipc_read_cb(c->ic_loop, &c->ic_rev, EV_READ);
}
