/* Worker table: fork, reap, classify exits, respawn pacing, crash-loop guard. */
#ifndef PROCESSOR_SUPERVISE_H
#define PROCESSOR_SUPERVISE_H

#include <stdint.h>
#include <sys/types.h>

#include <ev.h>

#include "ipc.h"
#include "metrics.h"

struct config;

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
	int			 w_hello;
	int			 w_have_stats;
	char			 w_consumer[IPC_CONSUMER_MAX];
	struct worker_stats	 w_stats;	/* last snapshot of the current life */
	struct worker_stats	 w_past;	/* counters of the slot's earlier lives */
};

/*
 * The table (master only).  A slot's counters are cumulative over its lives
 * (w_past + w_stats); slots dropped by a reload go to supervise_retired().
 */
int	supervise_init(struct ev_loop *, const struct config *);
void	supervise_free(void);
int	supervise_start(void);
int	supervise_reconfigure(const struct config *);
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

#endif
