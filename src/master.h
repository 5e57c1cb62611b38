/* The master process: start-up, signals, readiness, reload, shutdown. */
#ifndef PROCESSOR_MASTER_H
#define PROCESSOR_MASTER_H

#include "log.h"

struct config;
struct worker;

/*
 * Run the daemon with an already loaded and validated configuration, which
 * the master takes over (and frees).  path is what SIGHUP re-reads (NULL:
 * the default).  level_forced: -d was given, reloads keep debug logging.
 * Returns the process exit status (EXIT_* in exitcodes.h).
 */
int	master_run(struct config *, const char *path, enum log_level,
	    int level_forced);

/* Events from the supervisor. */
void	master_worker_up(struct worker *);	/* HELLO received */
void	master_worker_stats(struct worker *);	/* STATS received */
void	master_worker_gone(void);		/* a worker was reaped */
void	master_fail(int exitcode);		/* stop everything, exit with this */
/* In a new worker, before the master's loop is destroyed: detach its signals. */
void	master_atfork_child(void);

#endif
