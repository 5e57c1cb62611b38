/* The worker's end of the master link: HELLO, periodic stats, master commands. */
#ifndef PROCESSOR_WLINK_H
#define PROCESSOR_WLINK_H

#include <stdint.h>

#include <ev.h>

struct worker_stats;
struct control_msg_device_reply;

/*
 * Callbacks run on the worker's loop when the master says so.  Any may be
 * NULL.  wc_master_gone is called once on EOF or a broken link (the master
 * died or sent garbage): stop reading, settle what is in flight, exit.
 */
struct wlink_cb {
	void	(*wc_shutdown)(void *);		/* MSG_SHUTDOWN: drain, ACK, exit 0 */
	void	(*wc_drain)(void *);		/* MSG_DRAIN: stop reading new entries */
	void	(*wc_resume)(void *);		/* MSG_RESUME: read again */
	void	(*wc_master_gone)(void *);
	/* control socket: fill *out for MSG_DEVICE_QUERY (dr_found 0: unknown) */
	void	(*wc_device)(void *, const char *device,
		    struct control_msg_device_reply *out);
	/* MSG_CLAIM: sweep now, then wlink_claim_done(id, ...) */
	void	(*wc_claim)(void *, uint32_t id, uint32_t idle_ms);
	/* MSG_BACKLOG: the workers are (1) or are no longer (0) behind */
	void	(*wc_backlog)(void *, int behind, int64_t age_ms);
	void	*wc_arg;
};

/*
 * Start the link on the worker's own loop.  fd is the worker's end of the
 * socketpair (worker_main's ipc_fd); with fd == -1 (no master) nothing is
 * done and 0 is returned.  Sends MSG_HELLO with the consumer name at once,
 * then a MSG_STATS snapshot of *stats every 500 ms.  The worker keeps
 * updating *stats in place (ws_flags included: WS_REDIS_UP | WS_PG_UP |
 * WS_CONSUMING make the master call it ready); stats must stay valid until
 * wlink_stop.  cb is copied.  Returns 0, or -1 if the link cannot start.
 * There is one link per process.
 *
 * With FAULT_INJECTION compiled in, PROCESSOR_FAULT=crash_on_start makes
 * wlink_start abort() and PROCESSOR_FAULT=exit_permanent makes it exit with
 * WORKER_EXIT_PERMANENT (tests of the master's supervision policy).
 */
int	wlink_start(struct ev_loop *, int fd, int slot, const char *consumer,
	    struct worker_stats *stats, const struct wlink_cb *cb);
/* Send a stats snapshot now (e.g. right after a state change or before exit). */
void	wlink_flush_stats(void);
/* The claim sweep asked for by MSG_CLAIM id is over: tell the master. */
void	wlink_claim_done(uint32_t id, int ok, uint64_t claimed);
/* Send a final snapshot (best effort, without the loop), stop watchers, close fd. */
void	wlink_stop(void);

#endif
