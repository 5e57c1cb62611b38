/* The master's control socket: peer-checked Unix socket, one JSON request and reply per line. */
#ifndef PROCESSOR_CONTROL_H
#define PROCESSOR_CONTROL_H

#include <stddef.h>

#include <ev.h>

struct buf;
struct config;
struct ipc_hdr;
struct worker;

/* What the control socket asks of the master (its state lives in master.c). */
struct group_stats;

struct control_master {
	int		(*cm_ready)(struct buf *reason);	/* 1 ready, else 0 + why */
	const char	*(*cm_phase)(void);	/* starting, running, reloading, stopping */
	void		(*cm_group)(struct group_stats *);	/* the last lag poll */
};

/*
 * Listen on cf_control_socket (its directory must exist).  A stale socket
 * nobody answers on is replaced; one another process answers on is left
 * alone and -1 is returned, as for any other failure (errno set, nothing
 * logged: the caller logs once).  cf must stay valid (the master's struct,
 * updated in place on reload); m is copied.
 */
int	control_start(struct ev_loop *, const struct config *,
	    const struct control_master *);
/* Close every connection, unlink the socket we created. */
void	control_stop(void);
/* A worker said hello: a drained master drains it too; a log-level is repeated. */
void	control_worker_up(struct worker *);
/* A worker frame the supervisor does not know (MSG_*_REPLY): 0, or -1 if malformed. */
int	control_worker_msg(struct worker *, const struct ipc_hdr *,
	    const void *payload, size_t len);

#endif
