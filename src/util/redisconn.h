/* One way to open an async Redis connection on a libev loop, with AUTH and SELECT. */
#ifndef PROCESSOR_REDISCONN_H
#define PROCESSOR_REDISCONN_H

#include <stddef.h>

#include <hiredis/async.h>

struct ev_loop;
struct redis_addr;
struct rguard;

/*
 * Start connecting to ra on loop, attach the connection to the loop, set the
 * connect and disconnect callbacks, and queue AUTH and SELECT when ra asks
 * for them (their replies go to authcb with priv, which should log a
 * refusal).  data becomes ac->data.  With a guard g, the attempt gets its
 * connect deadline (rguard_connecting) and AUTH/SELECT their reply
 * deadlines.  NULL with err filled when the connection cannot even start.
 */
redisAsyncContext *redisconn_open(struct ev_loop *, const struct redis_addr *,
	    redisConnectCallback *, redisDisconnectCallback *,
	    redisCallbackFn *authcb, void *data, struct rguard *g, char *err,
	    size_t errlen);

#endif
