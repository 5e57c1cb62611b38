/* IPC framing: split reads, many frames per read, bad frames, socketpair round trip. */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proc/ipc.h"
#include "wire/metrics.h"
#include "tap.h"

struct seen {
	int		 n;
	uint32_t	 type[64];
	size_t		 len[64];
	uint32_t	 first_word[64];
	int		 closed;
	int		 error;
	int		 refuse;	/* dispatch returns -1 for this type */
};

static int
dispatch(struct ipc_chan *c, const struct ipc_hdr *h, const void *p,
    size_t len, void *arg)
{
	struct seen	*s = arg;

	(void)c;
	if (s->n < 64) {
		s->type[s->n] = h->ih_type;
		s->len[s->n] = len;
		s->first_word[s->n] = 0;
		if (len >= 4)
			memcpy(&s->first_word[s->n], p, 4);
		s->n++;
	}
	return (int)h->ih_type == s->refuse ? -1 : 0;
}

static void
closed(struct ipc_chan *c, int error, void *arg)
{
	struct seen	*s = arg;

	s->closed++;
	s->error = error;
	ipc_close(c);
}

/* A frame as raw bytes. */
static size_t
frame(unsigned char *out, uint32_t type, uint32_t len, const void *payload,
    size_t plen)
{
	struct ipc_hdr	h = { type, len, 1, 42 };

	memcpy(out, &h, sizeof(h));
	if (plen > 0)
		memcpy(out + sizeof(h), payload, plen);
	return sizeof(h) + plen;
}

static void
test_split_and_batch(void)
{
	struct ipc_chan	 c;
	struct seen	 s;
	unsigned char	 raw[4096];
	uint32_t	 word = 0xdeadbeef;
	size_t		 n = 0, i;
	int		 rc = 0;

	memset(&s, 0, sizeof(s));
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	n += frame(raw + n, MSG_SHUTDOWN, 16, NULL, 0);
	n += frame(raw + n, MSG_DRAIN, 20, &word, 4);
	n += frame(raw + n, MSG_RESUME, 16, NULL, 0);
	for (i = 0; i < n && rc == 0; i++)
		rc = ipc_feed(&c, raw + i, 1);
	is_int(rc, 0, "byte-by-byte feed accepted");
	is_int(s.n, 3, "three frames popped from single-byte reads");
	ok(s.type[0] == MSG_SHUTDOWN && s.type[1] == MSG_DRAIN &&
	    s.type[2] == MSG_RESUME, "frames arrive in order");
	ok(s.len[1] == 4 && s.first_word[1] == 0xdeadbeef,
	    "payload length and bytes intact across splits");
	is_int((long long)c.ic_rbuf.b_len, 0, "nothing left in the buffer");

	memset(&s, 0, sizeof(s));
	n = 0;
	for (i = 0; i < 50; i++)
		n += frame(raw + n, MSG_SHUTDOWN, 16, NULL, 0);
	n += frame(raw + n, MSG_DRAIN, 20, &word, 2);	/* 2 of 4 payload bytes */
	rc = ipc_feed(&c, raw, n);
	ok(rc == 0 && s.n == 50, "50 frames in one read, partial 51st kept "
	    "(%d)", s.n);
	rc = ipc_feed(&c, (unsigned char *)&word + 2, 2);
	ok(rc == 0 && s.n == 51 && s.type[50] == MSG_DRAIN,
	    "partial frame completes with the next read");
	ipc_close(&c);
}

static void
test_rejects(void)
{
	struct ipc_chan	 c;
	struct seen	 s;
	unsigned char	 raw[64];
	size_t		 n;
	int		 rc;

	memset(&s, 0, sizeof(s));
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	n = frame(raw, MSG_STATS, IPC_MAX_FRAME + 1, NULL, 0);
	rc = ipc_feed(&c, raw, n);
	ok(rc == -1 && errno == EPROTO && s.n == 0,
	    "oversize length rejected before any payload arrives");
	ipc_close(&c);

	memset(&s, 0, sizeof(s));
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	n = frame(raw, MSG_STATS, 15, NULL, 0);
	rc = ipc_feed(&c, raw, n);
	ok(rc == -1 && s.n == 0, "length shorter than the header rejected");
	ipc_close(&c);

	memset(&s, 0, sizeof(s));
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	n = frame(raw, MSG_TYPE_END, 16, NULL, 0);
	rc = ipc_feed(&c, raw, n);
	ok(rc == -1 && s.n == 0, "unknown type rejected");
	n = frame(raw, 0, 16, NULL, 0);
	ipc_close(&c);
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	ok(ipc_feed(&c, raw, n) == -1, "type 0 rejected");
	ipc_close(&c);

	memset(&s, 0, sizeof(s));
	s.refuse = MSG_DRAIN;
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	n = frame(raw, MSG_DRAIN, 16, NULL, 0);
	n += frame(raw + n, MSG_SHUTDOWN, 16, NULL, 0);
	rc = ipc_feed(&c, raw, n);
	ok(rc == -1 && s.n == 1, "a frame the receiver refuses stops the "
	    "loop (payload size/version checks live there)");
	ipc_close(&c);

	memset(&s, 0, sizeof(s));
	ipc_init(&c, NULL, -1, dispatch, closed, &s);
	c.ic_fd = 99;	/* compose refuses by size before touching the fd */
	rc = ipc_compose(&c, MSG_STATS, 0, 0, raw,
	    IPC_MAX_FRAME - IPC_HDR_LEN + 1);
	ok(rc == -1 && errno == EMSGSIZE, "compose refuses a payload over the cap");
	ok(ipc_compose(&c, MSG_STATS, 0, 0, raw, 8) == 0 &&
	    ipc_queued(&c) == 24, "compose queues header + payload");
	c.ic_fd = -1;
	ipc_close(&c);
}

static int	rt_fd_closed;

static void
rt_closed(struct ipc_chan *c, int error, void *arg)
{
	struct seen	*s = arg;

	s->closed++;
	s->error = error;
	ipc_close(c);
	rt_fd_closed = 1;
}

static void
rt_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
test_roundtrip(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct ipc_chan		 a, b;
	struct seen		 sa, sb;
	struct worker_stats	 ws;
	ev_timer		 deadline;
	int			 sp[2], i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sp) == -1)
		bail("socketpair: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	ipc_init(&a, loop, sp[0], dispatch, rt_closed, &sa);
	ipc_init(&b, loop, sp[1], dispatch, rt_closed, &sb);
	memset(&ws, 0, sizeof(ws));
	ws.ws_version = METRICS_VERSION;
	/* ~100 frames of ~1 KiB: more than one socket read's worth. */
	for (i = 0; i < 40; i++)
		if (ipc_compose(&a, MSG_STATS, 1, 42, &ws, sizeof(ws)) == -1)
			bail("compose: %s", strerror(errno));
	ipc_compose(&a, MSG_SHUTDOWN, 1, 42, NULL, 0);
	ok(ipc_queued(&a) > 0 && ev_is_active(&a.ic_wev),
	    "EV_WRITE on while the queue is non-empty");
	ev_timer_init(&deadline, rt_timeout, 10., 0.);
	ev_timer_start(loop, &deadline);
	while (sb.n < 41 && ev_is_active(&deadline))
		ev_run(loop, EVRUN_ONCE);
	is_int(sb.n, 41, "all frames crossed the socketpair");
	ok(sb.type[40] == MSG_SHUTDOWN && sb.len[0] == sizeof(ws),
	    "STATS payload size and final SHUTDOWN intact");
	ok(!ev_is_active(&a.ic_wev), "EV_WRITE off once the queue drained");
	ipc_close(&a);
	while (!rt_fd_closed && ev_is_active(&deadline))
		ev_run(loop, EVRUN_ONCE);
	ok(sb.closed == 1 && sb.error == 0, "peer close reported as EOF");
	ev_timer_stop(loop, &deadline);
	ev_loop_destroy(loop);
}

int
main(void)
{
	plan(19);
	test_split_and_batch();
	test_rejects();
	test_roundtrip();
	return tap_done();
}
