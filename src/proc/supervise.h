/* Worker table: fork, reap, classify exits, respawn pacing, crash-loop guard. */
#ifndef PROCESSOR_SUPERVISE_H
#define PROCESSOR_SUPERVISE_H

#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "proc/ipc.h"
#include "wire/metrics.h"

#define SUPERVISE_STALE_MS		5000	/* no stats this long: unresponsive */

enum wstate {
	W_IDLE = 0,	/* no process (before start, after stop) */
	W_STARTING,	/* forked, no HELLO yet */
	W_RUNNING,	/* HELLO received */
	W_STOPPING,	/* MSG_SHUTDOWN sent */
	W_BACKOFF	/* died, respawn timer running */
};

enum wretire {
	W_KEEP = 0,	/* respawn when it dies */
	W_REPLACE,	/* rolling reload: respawn at once with the new config */
	W_REMOVE,	/* slot no longer configured: do not respawn */
	W_HALT		/* master is stopping: do not respawn */
};

struct worker {
	int			 w_slot;
	pid_t			 w_pid;
	enum wstate		 w_state;
	enum wretire		 w_retire;
	struct ipc_chan		 w_chan;
	ev_timer		 w_timer;	/* respawn backoff */
	uint64_t		 w_started_ms;
	uint64_t		 w_last_stats_ms;
	unsigned		 w_gen;		/* config generation it was started with */
	unsigned		 w_restarts;	/* respawns of this slot */
	unsigned		 w_crashes;	/* consecutive unexpected deaths */
	unsigned		 w_stalls;	/* lives ended by supervise_kill_stalled */
	uint64_t		 w_killed_ms;	/* SIGKILLed as stalled then; 0 not */
	int			 w_hello;
	int			 w_have_stats;
	char			 w_consumer[IPC_CONSUMER_MAX];
	struct worker_stats	 w_stats;	/* last snapshot of the current life */
	struct worker_stats	 w_past;	/* counters of the slot's earlier lives */
};

/* What the supervisor needs of the configuration. */
struct supervise_conf {
	int	 sc_workers;		/* slots wanted */
	int	 sc_max_restarts;	/* respawns allowed ... */
	int	 sc_restart_window_ms;	/* ... within this window */
};

/*
 * The policy the machinery calls (the master's), never by name: the
 * supervisor includes neither the master, the control socket nor the worker
 * (openiked proc.c takes its dispatch table the same way).  All are
 * required.  child_main runs in the new child after fork and returns its
 * exit status; atfork runs first, in the child, before the master's loop is
 * destroyed.  msg gets every frame the supervisor does not handle itself
 * (control replies); it returns 0, or -1 when the frame is malformed.
 */
struct supervise_cb {
	void	(*up)(struct worker *);		/* HELLO received */
	void	(*stats)(struct worker *);	/* STATS received */
	void	(*gone)(void);			/* a worker was reaped */
	void	(*fail)(int exitcode);		/* stop everything, exit so */
	void	(*atfork)(void);
	int	(*msg)(struct worker *, const struct ipc_hdr *,
		    const void *payload, size_t len);
	int	(*child_main)(int slot, int fd);
};

/*
 * The table (master only).  A slot's counters are cumulative over its lives
 * (w_past + w_stats); slots dropped by a reload go to supervise_retired().
 * conf and cb are copied.
 */
int	supervise_init(struct ev_loop *, const struct supervise_conf *,
	    const struct supervise_cb *);
void	supervise_free(void);
int	supervise_start(void);
int	supervise_reconfigure(const struct supervise_conf *);
/* Queue one frame to a running worker that said hello: 0, or -1. */
int	supervise_send(struct worker *, enum ipc_type, const void *, size_t);
/* supervise_send to every such worker; returns how many took the frame. */
int	supervise_broadcast(enum ipc_type, const void *, size_t);
int	supervise_roll_next(void);
void	supervise_stop(void);
void	supervise_kill(void);
int	supervise_live(void);
int	supervise_slots(void);		/* table length: iterate, skip NULL */
int	supervise_wanted(void);		/* configured slots 0..n-1 */
struct worker *supervise_worker(int slot);
const struct worker_stats *supervise_retired(void);
void	supervise_cumulative(const struct worker *, struct worker_stats *);
int	supervise_worker_ready(const struct worker *, uint64_t now_ms,
	    const char **why);
/*
 * SIGKILL every running worker that sent no stats for stall_ms; the reaper
 * respawns it as after a crash.  Returns how many are stuck: killed more
 * than stall_ms ago and still not reaped.
 */
int	supervise_kill_stalled(uint64_t stall_ms);

#endif
