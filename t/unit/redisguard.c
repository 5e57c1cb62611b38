/*
 * util/redisguard against a real socket that accepts TCP connections and
 * never answers (the kernel completes the handshake into the listen queue):
 * the connect deadline, a command's deadline, a command queued behind a
 * BLOCK read, and every callback called once when the connection is freed.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "util/log.h"
#include "util/redisconn.h"
#include "util/redisguard.h"
#include "util/redisurl.h"
#include "tap.h"

#define CMD_S		0.2
#define CONNECT_S	0.3
#define BLOCK_S		0.4
#define SLACK_S		0.3	/* the loop's own latency on a busy machine */

struct run {
	struct ev_loop		*r_loop;
	struct rguard		*r_guard;
	redisAsyncContext	*r_ac;
	int			 r_ready_on_connect;	/* call rguard_ready once connected */
	int			 r_expired;
	char			 r_what[128];
	double			 r_waited;
	int			 r_nulls;	/* callbacks run with a NULL reply */
	int			 r_replies;	/* ... with a reply */
	ev_timer		 r_limit;
};

static struct run	run;

static void
on_expired(void *arg, const char *what, double waited)
{
	struct run	*r = arg;

	r->r_expired++;
	snprintf(r->r_what, sizeof(r->r_what), "%s", what);
	r->r_waited = waited;
	if (r->r_ac != NULL) {
		redisAsyncContext *ac = r->r_ac;

		r->r_ac = NULL;
		redisAsyncFree(ac);	/* what an owner does */
	}
	ev_break(r->r_loop, EVBREAK_ALL);
}

static void
on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct run	*r = priv;

	(void)ac;
	if (reply == NULL)
		r->r_nulls++;
	else
		r->r_replies++;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	if (status == REDIS_OK && run.r_ready_on_connect)
		rguard_ready(run.r_guard);
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;
	run.r_ac = NULL;
}

static void
on_limit(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);	/* the guard never fired: the test fails */
}

/* A loopback socket that listens and never accepts; its port in *port. */
static int
silent_listener(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Open a guarded connection to the listener and run fill, then the loop. */
static double
run_case(int port, int ready_on_connect, void (*fill)(void))
{
	struct redis_addr	ra;
	char			url[64], err[256];
	double			t0;

	memset(&run, 0, sizeof(run));
	run.r_loop = ev_loop_new(EVFLAG_AUTO);
	run.r_guard = rguard_new(run.r_loop, CMD_S, CONNECT_S, on_expired, &run);
	run.r_ready_on_connect = ready_on_connect;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	if (redisurl_parse(url, &ra, err, sizeof(err)) == -1)
		diag("redisurl_parse: %s", err);
	run.r_ac = redisconn_open(run.r_loop, &ra, on_connect, on_disconnect,
	    on_reply, &run, run.r_guard, err, sizeof(err));
	if (run.r_ac == NULL)
		diag("redisconn_open: %s", err);
	if (fill != NULL)
		fill();
	ev_timer_init(&run.r_limit, on_limit, 5.0, 0.);
	ev_timer_start(run.r_loop, &run.r_limit);
	ev_now_update(run.r_loop);
	t0 = ev_now(run.r_loop);
	ev_run(run.r_loop, 0);
	ev_now_update(run.r_loop);
	ev_timer_stop(run.r_loop, &run.r_limit);
	if (run.r_ac != NULL)
		redisAsyncFree(run.r_ac);
	return ev_now(run.r_loop) - t0;
}

static void
end_case(void)
{
	rguard_free(run.r_guard);
	ev_loop_destroy(run.r_loop);
}

static void
fill_ping(void)
{
	rguard_command(run.r_guard, run.r_ac, on_reply, &run, "PING", "PING");
}

/* A read that may wait BLOCK_S, and an XACK queued behind it. */
static void
fill_block(void)
{
	const char	*read[] = { "XREADGROUP", "GROUP", "g", "c", "BLOCK",
	    "400", "STREAMS", "s", ">" };
	const char	*ack[] = { "XACK", "s", "g", "1-0" };

	rguard_argv(run.r_guard, run.r_ac, on_reply, &run, BLOCK_S,
	    "XREADGROUP BLOCK 400", 9, read, NULL);
	rguard_argv(run.r_guard, run.r_ac, on_reply, &run, 0, "XACK of 1 entry",
	    4, ack, NULL);
}

int
main(void)
{
	double	took;
	int	fd, port;

	signal(SIGPIPE, SIG_IGN);
	log_init(LOG_LVL_CRIT, "redisguard-t");	/* the guard's error lines: not here */
	plan(15);
	if ((fd = silent_listener(&port)) == -1) {
		ok(0, "a silent listener");
		return tap_done();
	}

	/* no handshake ever completes: the connect deadline, not a command's */
	took = run_case(port, 0, NULL);
	is_int(run.r_expired, 1, "connect: the guard fired once");
	is_string(run.r_what, "connect", "connect: it names the connect");
	ok(took >= CONNECT_S - 0.01 && took <= CONNECT_S + SLACK_S,
	    "connect: after connect_s (%.3f s)", took);
	end_case();

	/* connected (ready), a PING never answered: its deadline */
	took = run_case(port, 1, fill_ping);
	is_int(run.r_expired, 1, "command: the guard fired once");
	is_string(run.r_what, "PING", "command: it names the command");
	ok(took >= CMD_S - 0.01 && took <= CMD_S + SLACK_S,
	    "command: after timeout_s, not connect_s (%.3f s)", took);
	ok(run.r_waited >= CMD_S - 0.01, "command: waited_s %.3f", run.r_waited);
	is_int(run.r_nulls, 1, "command: its callback ran once, with NULL");
	is_int(run.r_replies, 0, "command: and never with a reply");
	is_int((long long)rguard_outstanding(run.r_guard), 0,
	    "command: nothing outstanding once the connection is freed");
	end_case();

	/* a BLOCK read first: its deadline is BLOCK + timeout, the XACK waits behind */
	took = run_case(port, 1, fill_block);
	is_int(run.r_expired, 1, "block: the guard fired once");
	is_string(run.r_what, "XREADGROUP BLOCK 400", "block: on the read, the oldest");
	ok(took >= BLOCK_S + CMD_S - 0.01 && took <= BLOCK_S + CMD_S + SLACK_S,
	    "block: after BLOCK + timeout_s (%.3f s)", took);
	is_int(run.r_nulls, 2, "block: both callbacks ran, with NULL");
	is_int((long long)rguard_outstanding(run.r_guard), 0,
	    "block: nothing outstanding");
	end_case();
	close(fd);
	return tap_done();
}
