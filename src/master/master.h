/* The master process: start-up, signals, readiness, reload, shutdown. */
#ifndef PROCESSOR_MASTER_H
#define PROCESSOR_MASTER_H

#include "util/log.h"

struct config;

/*
 * Run the daemon with an already loaded and validated configuration, which
 * the master takes over (and frees).  path is what SIGHUP re-reads (NULL:
 * the default).  level_forced: -d was given, reloads keep debug logging.
 * child_main is what a new worker process runs (main.c passes worker_main:
 * the master knows the worker only as this entry point, as nginx's
 * ngx_spawn_process runs the proc it is given).  Returns the process exit
 * status (EXIT_* in exitcodes.h).
 */
int	master_run(struct config *, const char *path, enum log_level,
	    int level_forced,
	    int (*child_main)(const struct config *, int slot, int ipc_fd));

#endif
