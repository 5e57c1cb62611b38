/* A worker: one consumer in the group, one libev loop, the whole data path. */
#ifndef PROCESSOR_WORKER_H
#define PROCESSOR_WORKER_H

struct config;

/*
 * Run worker `slot` until told to stop (or the master goes away).  ipc_fd is
 * the worker's end of the socketpair to the master, or -1 when running
 * without a master.  Called in the child right after fork; builds its own
 * loop.  Returns a WORKER_EXIT_* code.
 */
int	worker_main(const struct config *, int slot, int ipc_fd);

#endif
