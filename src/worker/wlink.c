/* The worker's end of the master link: HELLO, periodic stats, master commands. */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire/control_msg.h"
#include "util/exitcodes.h"
#include "util/fault.h"
#include "proc/ipc.h"
#include "util/log.h"
#include "util/procstat.h"
#include "wire/metrics.h"
#include "worker/wlink.h"

#define WLINK_STATS_INTERVAL	0.5	/* seconds */

static struct {
	struct ev_loop		*wl_loop;
	struct ipc_chan		 wl_chan;
	ev_timer		 wl_timer;
	struct worker_stats	*wl_stats;
	struct wlink_cb		 wl_cb;
	uint32_t		 wl_slot;
	uint32_t		 wl_pid;
	int			 wl_running;
	uint64_t		 wl_batches;	/* ws_batches at the last snapshot */
	ev_check		 wl_check;	/* after each loop iteration */
	int			 wl_behind;	/* as the last snapshot said */
} wlink;

/*
 * The process's own numbers go into every snapshot.  The last commit's time
 * is when a snapshot first saw ws_batches grow: the pipeline counts commits
 * but keeps no clock, so the time is late by at most one stats interval.
 */
static void
wlink_sample(struct worker_stats *ws)
{
	struct procstat	ps;
	struct timespec	now;

	ws->ws_version = METRICS_VERSION;
	if (procstat_self(&ps) == 0) {
		ws->ws_rss_bytes = ps.ps_rss_bytes;
		ws->ws_open_fds = ps.ps_open_fds;
		ws->ws_cpu_seconds = ps.ps_cpu_seconds;
		ws->ws_start_time = ps.ps_start_time;
	}
	if (ws->ws_batches != wlink.wl_batches) {
		wlink.wl_batches = ws->ws_batches;
		clock_gettime(CLOCK_REALTIME, &now);
		ws->ws_last_commit_ms = (int64_t)now.tv_sec * 1000 +
		    now.tv_nsec / 1000000;
	}
}

static void
wlink_call(void (*fn)(void *))
{
	if (fn != NULL)
		fn(wlink.wl_cb.wc_arg);
}

/* Control socket requests relayed by the master: answer from our state. */
static int
wlink_control(const struct ipc_hdr *h, const void *payload, size_t len)
{
	struct control_msg_device_query	q;
	struct control_msg_device_reply	r;
	struct control_msg_claim		cl;
	struct control_msg_log_level		ll;
	struct control_msg_backlog		bl;

	if (h->ih_type == MSG_LOG_LEVEL && len == sizeof(ll)) {
		memcpy(&ll, payload, sizeof(ll));
		if (ll.ll_level > LOG_LVL_ERROR) {
			log_error("master sent LOG_LEVEL with level %u",
			    ll.ll_level);
			return -1;
		}
		/* said at the new level: above info the change is silent */
		log_setlevel((enum log_level)ll.ll_level);
		log_info("log level set to %s by the master",
		    log_level_name((enum log_level)ll.ll_level));
		return 0;
	}
	if (h->ih_type == MSG_BACKLOG && len == sizeof(bl)) {
		memcpy(&bl, payload, sizeof(bl));
		if (wlink.wl_cb.wc_backlog != NULL)	/* evaluators pace by it */
			wlink.wl_cb.wc_backlog(wlink.wl_cb.wc_arg,
			    bl.bl_behind != 0, bl.bl_age_ms);
		return 0;
	}
	if (h->ih_type == MSG_DEVICE_QUERY && len == sizeof(q)) {
		memcpy(&q, payload, sizeof(q));
		q.dq_device[sizeof(q.dq_device) - 1] = '\0';
		memset(&r, 0, sizeof(r));
		if (wlink.wl_cb.wc_device != NULL)
			wlink.wl_cb.wc_device(wlink.wl_cb.wc_arg, q.dq_device, &r);
		r.dr_id = q.dq_id;
		if (ipc_compose(&wlink.wl_chan, MSG_DEVICE_REPLY, wlink.wl_slot,
		    wlink.wl_pid, &r, sizeof(r)) == -1)
			log_warn("cannot queue a device reply for the master");
		return 0;
	}
	if (h->ih_type == MSG_CLAIM && len == sizeof(cl)) {
		memcpy(&cl, payload, sizeof(cl));
		if (wlink.wl_cb.wc_claim != NULL)
			wlink.wl_cb.wc_claim(wlink.wl_cb.wc_arg, cl.cl_id,
			    cl.cl_idle_ms);
		else
			wlink_claim_done(cl.cl_id, 0, 0);
		return 0;
	}
	log_error("master sent %s with %zu payload bytes",
	    ipc_type_name(h->ih_type), len);
	return -1;
}

void
wlink_claim_done(uint32_t id, int ok, uint64_t claimed)
{
	struct control_msg_claim_reply	r;

	if (!wlink.wl_running)
		return;
	memset(&r, 0, sizeof(r));
	r.cr_id = id;
	r.cr_ok = ok != 0;
	r.cr_claimed = claimed;
	if (ipc_compose(&wlink.wl_chan, MSG_CLAIM_REPLY, wlink.wl_slot,
	    wlink.wl_pid, &r, sizeof(r)) == -1)
		log_warn("cannot queue a claim reply for the master");
}

static int
wlink_dispatch(struct ipc_chan *c, const struct ipc_hdr *h,
    const void *payload, size_t len, void *arg)
{
	(void)c;
	(void)arg;
	if (h->ih_type == MSG_DEVICE_QUERY || h->ih_type == MSG_CLAIM ||
	    h->ih_type == MSG_LOG_LEVEL || h->ih_type == MSG_BACKLOG)
		return wlink_control(h, payload, len);
	if (len != 0) {
		log_error("master sent %s with %zu payload bytes",
		    ipc_type_name(h->ih_type), len);
		return -1;
	}
	switch (h->ih_type) {
	case MSG_SHUTDOWN:
		log_info("master asked to shut down");
		wlink_call(wlink.wl_cb.wc_shutdown);
		return 0;
	case MSG_DRAIN:
		wlink_call(wlink.wl_cb.wc_drain);
		return 0;
	case MSG_RESUME:
		wlink_call(wlink.wl_cb.wc_resume);
		return 0;
	default:
		log_error("master sent unexpected %s",
		    ipc_type_name(h->ih_type));
		return -1;
	}
}

static void
wlink_closed(struct ipc_chan *c, int error, void *arg)
{
	(void)arg;
	if (error == 0)
		log_warnx("master link closed: master is gone");
	else
		log_error("master link broken: %s", strerror(error));
	ev_timer_stop(wlink.wl_loop, &wlink.wl_timer);
	ev_check_stop(wlink.wl_loop, &wlink.wl_check);
	ipc_close(c);
	wlink.wl_running = 0;
	wlink_call(wlink.wl_cb.wc_master_gone);
}

void
wlink_flush_stats(void)
{
	if (!wlink.wl_running)
		return;
	/* Absolute snapshots: skipping one while the master is slow loses nothing. */
	if (ipc_queued(&wlink.wl_chan) > 0)
		return;
	wlink_sample(wlink.wl_stats);
	if (ipc_compose(&wlink.wl_chan, MSG_STATS, wlink.wl_slot, wlink.wl_pid,
	    wlink.wl_stats, sizeof(*wlink.wl_stats)) == -1)
		log_warn("cannot queue stats for the master");
}

/*
 * A read that finds the worker behind the stream, or caught up again, is
 * sent at once rather than with the next snapshot: the evaluators pace by
 * it, and a drain lasts seconds.
 */
static void
wlink_check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	int	behind;

	(void)loop;
	(void)w;
	(void)revents;
	behind = wlink.wl_stats->ws_read_age_ms > METRICS_BEHIND_MS;
	if (behind == wlink.wl_behind)
		return;
	wlink.wl_behind = behind;
	wlink_flush_stats();
}

static void
wlink_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	wlink_flush_stats();
}

static void
wlink_fault(void)
{
	if (fault_active("crash_on_start")) {
		log_warnx("fault injection: crash_on_start");
		abort();
	}
	if (fault_active("exit_permanent")) {
		log_error("fault injection: exit_permanent");
		exit(WORKER_EXIT_PERMANENT);
	}
}

int
wlink_start(struct ev_loop *loop, int fd, int slot, const char *consumer,
    struct worker_stats *stats, const struct wlink_cb *cb)
{
	struct ipc_hello	hello;

	if (fd == -1)
		return 0;
	wlink_fault();
	memset(&wlink, 0, sizeof(wlink));
	wlink.wl_loop = loop;
	wlink.wl_stats = stats;
	wlink.wl_cb = *cb;
	wlink.wl_slot = (uint32_t)slot;
	wlink.wl_pid = (uint32_t)getpid();
	ipc_init(&wlink.wl_chan, loop, fd, wlink_dispatch, wlink_closed, NULL);
	wlink.wl_running = 1;

	memset(&hello, 0, sizeof(hello));
	hello.hl_version = IPC_HELLO_VERSION;
	strncpy(hello.hl_consumer, consumer, sizeof(hello.hl_consumer) - 1);
	wlink_sample(stats);
	if (ipc_compose(&wlink.wl_chan, MSG_HELLO, wlink.wl_slot,
	    wlink.wl_pid, &hello, sizeof(hello)) == -1 ||
	    ipc_compose(&wlink.wl_chan, MSG_STATS, wlink.wl_slot,
	    wlink.wl_pid, stats, sizeof(*stats)) == -1) {
		wlink_stop();
		return -1;
	}
	ev_timer_init(&wlink.wl_timer, wlink_timer_cb, WLINK_STATS_INTERVAL,
	    WLINK_STATS_INTERVAL);
	ev_timer_start(loop, &wlink.wl_timer);
	ev_check_init(&wlink.wl_check, wlink_check_cb);
	ev_check_start(loop, &wlink.wl_check);
	return 0;
}

void
wlink_stop(void)
{
	if (!wlink.wl_running)
		return;
	ev_timer_stop(wlink.wl_loop, &wlink.wl_timer);
	ev_check_stop(wlink.wl_loop, &wlink.wl_check);
	/* Final numbers, so the master's totals count the last batch. */
	wlink_sample(wlink.wl_stats);
	(void)ipc_compose(&wlink.wl_chan, MSG_STATS, wlink.wl_slot,
	    wlink.wl_pid, wlink.wl_stats, sizeof(*wlink.wl_stats));
	(void)ipc_flush(&wlink.wl_chan);
	ipc_close(&wlink.wl_chan);
	wlink.wl_running = 0;
}
