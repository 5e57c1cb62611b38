/* wlink, the worker's end of the link: HELLO, periodic STATS, commands, master gone. */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proc/ipc.h"
#include "util/log.h"
#include "wire/control_msg.h"
#include "wire/metrics.h"
#include "tap.h"
#include "worker/wlink.h"

static struct {
	int			 hello, stats, closed;
	char			 consumer[IPC_CONSUMER_MAX];
	uint32_t		 slot, pid;
	struct worker_stats	 last;
	int			 shutdown, drain, resume, gone;
} st;

static int
master_dispatch(struct ipc_chan *c, const struct ipc_hdr *h, const void *p,
    size_t len, void *arg)
{
	struct ipc_hello	hello;

	(void)c;
	(void)arg;
	st.slot = h->ih_slot;
	st.pid = h->ih_pid;
	if (h->ih_type == MSG_HELLO && len == sizeof(hello)) {
		memcpy(&hello, p, sizeof(hello));
		memcpy(st.consumer, hello.hl_consumer, sizeof(st.consumer));
		st.hello++;
	} else if (h->ih_type == MSG_STATS && len == sizeof(st.last)) {
		memcpy(&st.last, p, sizeof(st.last));
		st.stats++;
	} else
		return -1;
	return 0;
}

static void
master_closed(struct ipc_chan *c, int error, void *arg)
{
	(void)error;
	(void)arg;
	st.closed++;
	ipc_close(c);
}

static void on_shutdown(void *a) { (void)a; st.shutdown++; }
static void on_drain(void *a) { (void)a; st.drain++; }
static void on_resume(void *a) { (void)a; st.resume++; }
static void on_gone(void *a) { (void)a; st.gone++; }

static void
deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
}

/* Run the loop until *flag >= want or 10 s passed. */
static int
run_until(struct ev_loop *loop, const int *flag, int want)
{
	ev_timer	deadline;

	ev_timer_init(&deadline, deadline_cb, 10., 0.);
	ev_timer_start(loop, &deadline);
	while (*flag < want && ev_is_active(&deadline))
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &deadline);
	return *flag >= want;
}

int
main(void)
{
	struct ev_loop		*loop = ev_loop_new(EVFLAG_AUTO);
	struct worker_stats	 ws;
	struct ipc_chan		 m;
	struct wlink_cb		 cb = { .wc_shutdown = on_shutdown,
				    .wc_drain = on_drain, .wc_resume = on_resume,
				    .wc_master_gone = on_gone };
	struct control_msg_log_level	 ll;
	int			 sp[2];

	plan(16);
	memset(&ll, 0, sizeof(ll));
	memset(&ws, 0, sizeof(ws));
	is_int(wlink_start(loop, -1, 0, "x-0", &ws, &cb), 0,
	    "fd -1: no master, nothing to do");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1)
		bail("socketpair: %s", strerror(errno));
	ipc_init(&m, loop, sp[0], master_dispatch, master_closed, NULL);
	is_int(wlink_start(loop, sp[1], 3, "host-3", &ws, &cb), 0,
	    "wlink_start");
	ok(run_until(loop, &st.hello, 1), "HELLO arrives");
	is_string(st.consumer, "host-3", "with the consumer name");
	ok(st.slot == 3 && st.pid == (uint32_t)getpid(),
	    "frames carry slot and pid");
	ws.ws_consumed = 42;
	ws.ws_flags = WS_REDIS_UP | WS_PG_UP | WS_CONSUMING;
	ok(run_until(loop, &st.stats, 2) && st.last.ws_consumed == 42,
	    "periodic STATS carry the current snapshot");
	is_int(st.last.ws_version, METRICS_VERSION, "versioned");
	ws.ws_consumed = 43;
	wlink_flush_stats();
	ok(run_until(loop, &st.stats, 3) && st.last.ws_consumed == 43,
	    "wlink_flush_stats sends at once");

	ll.ll_level = LOG_LVL_ERROR;
	ipc_compose(&m, MSG_LOG_LEVEL, 3, 0, &ll, sizeof(ll));
	ipc_compose(&m, MSG_DRAIN, 3, 0, NULL, 0);
	ok(run_until(loop, &st.drain, 1), "LOG_LEVEL, then DRAIN");
	is_int(log_getlevel(), LOG_LVL_ERROR, "LOG_LEVEL sets the level");
	ll.ll_level = LOG_LVL_INFO;
	ipc_compose(&m, MSG_LOG_LEVEL, 3, 0, &ll, sizeof(ll));
	ipc_compose(&m, MSG_RESUME, 3, 0, NULL, 0);
	ipc_compose(&m, MSG_SHUTDOWN, 3, 0, NULL, 0);
	ok(run_until(loop, &st.shutdown, 1) && st.drain == 1 &&
	    st.resume == 1, "DRAIN, RESUME, SHUTDOWN reach the callbacks");
	is_int(log_getlevel(), LOG_LVL_INFO, "and back to info");

	ipc_close(&m);
	ok(run_until(loop, &st.gone, 1), "EOF: wc_master_gone");
	wlink_stop();
	is_int(st.gone, 1, "called once");

	/* wlink_stop sends a final snapshot. */
	memset(&st, 0, sizeof(st));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1)
		bail("socketpair: %s", strerror(errno));
	ipc_init(&m, loop, sp[0], master_dispatch, master_closed, NULL);
	wlink_start(loop, sp[1], 1, "host-1", &ws, &cb);
	ws.ws_consumed = 99;
	wlink_stop();
	ok(run_until(loop, &st.closed, 1), "link closed by wlink_stop");
	ok(st.last.ws_consumed == 99 && st.hello == 1,
	    "after the final STATS snapshot");
	ipc_close(&m);
	ev_loop_destroy(loop);
	return tap_done();
}
