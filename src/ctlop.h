/* Control socket internals shared by control.c, ctlredis.c and ctlwork.c: requests in progress. */
#ifndef PROCESSOR_CTLOP_H
#define PROCESSOR_CTLOP_H

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "control.h"
#include "ctlipc.h"
#include "ctlproto.h"

struct config;

/* Set by control_start; the master's config is updated in place on reload. */
struct ctl_env {
	struct ev_loop		*ce_loop;
	const struct config	*ce_cf;
	struct control_master	 ce_m;
};
extern struct ctl_env	ctl_env;

/* o_n[] of a dlq replay */
#define N_REPLAYED	0
#define N_SKIPPED	1
#define N_FAILED	2

struct ctl_conn;

/*
 * One request in progress.  It lives until its reply is sent (o_done) and
 * no Redis callback still holds it (o_refs); a reply whose client went away
 * is dropped.  Workers' answers are matched by o_id.
 */
struct ctl_op {
	struct ctl_op	*o_next;
	struct ctl_conn	*o_conn;	/* NULL once the client went away */
	struct ctl_req	 o_req;
	uint32_t	 o_id;
	int		 o_refs;	/* Redis callbacks outstanding */
	int		 o_waiting;	/* workers yet to answer */
	int		 o_asked;	/* workers asked */
	int		 o_done;	/* reply sent (or dropped) */
	int		 o_timedout;
	char		 o_err[256];	/* first failure */
	json_t		*o_reply;	/* {"ok":true,...} being filled */
	json_t		*o_list;	/* the array the callbacks append to */
	uint64_t	 o_n[4];	/* per-action counters */
	struct ctl_ipc_device_reply o_best;
	ev_timer	 o_timer;
};

/* control.c: record the first failure; send the final reply; free when possible */
void	ctl_fail(struct ctl_op *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	ctl_op_reply(struct ctl_op *, json_t *);
void	ctl_op_settle(struct ctl_op *);

/* ctlredis.c: commands answered by Redis (the master's own connection) */
void	ctl_pending(struct ctl_op *);
void	ctl_dlq_list(struct ctl_op *);
void	ctl_dlq_show(struct ctl_op *);
void	ctl_dlq_replay(struct ctl_op *);
void	ctl_dlq_purge(struct ctl_op *);
void	ctl_redis_stop(void);

/* ctlwork.c: commands answered by the master and its workers */
void	ctl_work_start(void);
void	ctl_work_stop(void);
json_t	*ctl_status(int full);
json_t	*ctl_reload(void);
json_t	*ctl_drain(int on);
int	ctl_draining(void);
void	ctl_claim(struct ctl_op *);
void	ctl_device(struct ctl_op *);
void	ctl_device_complete(struct ctl_op *);

#endif
