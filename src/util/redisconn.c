/* One way to open an async Redis connection on a libev loop, with AUTH and SELECT. */
#include "autoconf.h"

#include <stdio.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>

#include "util/redisconn.h"
#include "util/redisguard.h"
#include "util/redisurl.h"

/* AUTH and SELECT, each with its reply deadline. */
static void
redisconn_login_guarded(redisAsyncContext *ac, const struct redis_addr *ra,
    redisCallbackFn *authcb, void *data, struct rguard *g)
{
	if (ra->ra_password[0] != '\0' && ra->ra_user[0] != '\0')
		rguard_command(g, ac, authcb, data, "AUTH", "AUTH %s %s",
		    ra->ra_user, ra->ra_password);
	else if (ra->ra_password[0] != '\0')
		rguard_command(g, ac, authcb, data, "AUTH", "AUTH %s",
		    ra->ra_password);
	if (ra->ra_db != 0)
		rguard_command(g, ac, authcb, data, "SELECT", "SELECT %d",
		    ra->ra_db);
}

redisAsyncContext *
redisconn_open(struct ev_loop *loop, const struct redis_addr *ra,
    redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect,
    redisCallbackFn *authcb, void *data, struct rguard *g, char *err,
    size_t errlen)
{
	redisAsyncContext	*ac;

	ac = ra->ra_path[0] ? redisAsyncConnectUnix(ra->ra_path) :
	    redisAsyncConnect(ra->ra_host, ra->ra_port);
	if (ac == NULL || ac->err) {
		snprintf(err, errlen, "%s", ac ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return NULL;
	}
	ac->data = data;
	redisLibevAttach(loop, ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (g != NULL) {
		rguard_connecting(g);
		redisconn_login_guarded(ac, ra, authcb, data, g);
		return ac;
	}
	/* queued now, sent first once connected */
	if (ra->ra_password[0] != '\0' && ra->ra_user[0] != '\0')
		redisAsyncCommand(ac, authcb, data, "AUTH %s %s", ra->ra_user,
		    ra->ra_password);
	else if (ra->ra_password[0] != '\0')
		redisAsyncCommand(ac, authcb, data, "AUTH %s", ra->ra_password);
	if (ra->ra_db != 0)
		redisAsyncCommand(ac, authcb, data, "SELECT %d", ra->ra_db);
	return ac;
}
