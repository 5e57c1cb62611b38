/* Control socket internals shared by control.c, control_redis.c and control_work.c: requests in progress. */
#ifndef PROCESSOR_CONTROL_OP_H
#define PROCESSOR_CONTROL_OP_H

#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "control/control.h"
#include "wire/control_msg.h"
#include "wire/ctlproto.h"

struct config;

/* Set by control_start; the master's config is updated in place on reload. */
struct control_env {
	struct ev_loop		*ce_loop;
	const struct config	*ce_cf;
	struct control_master	 ce_m;
};
extern struct control_env	control_env;

/* o_n[] of a dlq replay */
#define N_REPLAYED	0
#define N_SKIPPED	1
#define N_FAILED	2

struct control_conn;

/*
 * One request in progress.  It lives until its reply is sent (o_done) and
 * no Redis callback still holds it (o_refs); a reply whose client went away
 * is dropped.  Workers' answers are matched by o_id.
 */
struct control_op {
	struct control_op	*o_next;
	struct control_conn	*o_conn;	/* NULL once the client went away */
	struct ctlproto_req	 o_req;
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
	struct control_msg_device_reply o_best;
	ev_timer	 o_timer;
};

/* control.c: record the first failure; send the final reply; free when possible */
void	control_fail(struct control_op *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	control_op_reply(struct control_op *, json_t *);
void	control_op_settle(struct control_op *);

/* control_redis.c: commands answered by Redis (the master's own connection) */
void	control_pending(struct control_op *);
void	control_dlq_list(struct control_op *);
void	control_dlq_show(struct control_op *);
void	control_dlq_replay(struct control_op *);
void	control_dlq_purge(struct control_op *);
void	control_consumers(struct control_op *);
void	control_consumers_delete(struct control_op *);
void	control_redis_stop(void);

/* control_work.c: commands answered by the master and its workers */
void	control_work_start(void);
void	control_work_stop(void);
json_t	*control_status(int full);
json_t	*control_reload(void);
json_t	*control_config(void);
json_t	*control_stage(long stage);
json_t	*control_log_level(const char *level);
void	control_log_level_up(struct worker *);
json_t	*control_drain(int on);
int	control_draining(void);
void	control_claim(struct control_op *);
void	control_device(struct control_op *);
void	control_device_complete(struct control_op *);

#endif
