/*
 * A deadline for every wait on one async Redis connection.  hiredis 0.14 has
 * no command timeout and no async connect timeout, so a Redis that stops
 * answering (SIGSTOP, a black-holed route, a listener that accepts and says
 * nothing) would hold a reply callback, and the entries behind it, forever.
 */
#ifndef PROCESSOR_REDISGUARD_H
#define PROCESSOR_REDISGUARD_H

#include <stddef.h>

#include <hiredis/async.h>

struct ev_loop;
struct rguard;

/*
 * A deadline passed: what names the wait ("EXEC of 2 dead letters ...",
 * "connect"), waited how long it has lasted.  The guard has logged it; the
 * owner drops the connection (redisAsyncFree, so every pending callback
 * gets its NULL reply) and reconnects as after any other failure.
 */
typedef void	rguard_expired_fn(void *arg, const char *what, double waited);

/* timeout_s: per command; connect_s: from rguard_connecting to rguard_ready. */
struct rguard	*rguard_new(struct ev_loop *, double timeout_s, double connect_s,
		    rguard_expired_fn *, void *arg);
/* Free the connection first: its callbacks release the guard's records. */
void		 rguard_free(struct rguard *);

/* A connection attempt starts now: it must be ready within connect_s. */
void		 rguard_connecting(struct rguard *);
/* The connection is ready (handshake done) or gone: no connect deadline. */
void		 rguard_ready(struct rguard *);

/*
 * redisAsyncCommandArgv with a deadline: the reply is due timeout_s after
 * Redis can start on the command (after the commands ahead of it, a BLOCK
 * included), plus extra_s (this command's own BLOCK).  what (copied) names
 * it in the log.  REDIS_OK or REDIS_ERR as hiredis says; fn is then called
 * exactly once, as with hiredis.
 */
int		 rguard_argv(struct rguard *, redisAsyncContext *,
		    redisCallbackFn *, void *priv, double extra_s,
		    const char *what, int argc, const char **argv,
		    const size_t *argvlen);
/* The same with a format, as redisAsyncCommand. */
int		 rguard_command(struct rguard *, redisAsyncContext *,
		    redisCallbackFn *, void *priv, const char *what,
		    const char *fmt, ...);

/* Commands sent and not answered yet (for tests and the log). */
size_t		 rguard_outstanding(const struct rguard *);

#endif
