/* A deadline for every wait on one async Redis connection (see redisguard.h). */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "util/log.h"
#include "util/redisguard.h"

#define RGUARD_WHAT_MAX	128

/* One command sent and not answered yet; the guard keeps them in send order. */
struct rguard_cmd {
	struct rguard		*rc_guard;
	struct rguard_cmd	*rc_next;
	redisCallbackFn		*rc_fn;
	void			*rc_priv;
	double			 rc_sent;	/* loop time it was sent */
	double			 rc_start;	/* when Redis can start on it */
	double			 rc_extra;	/* its own BLOCK */
	double			 rc_deadline;
	char			 rc_what[RGUARD_WHAT_MAX];
};

struct rguard {
	struct ev_loop		*rg_loop;
	double			 rg_timeout;
	double			 rg_connect;
	rguard_expired_fn	*rg_expired;
	void			*rg_arg;
	struct rguard_cmd	*rg_head;	/* oldest outstanding */
	struct rguard_cmd	*rg_tail;
	size_t			 rg_n;
	double			 rg_connect_at;	/* attempt start; 0 when none */
	ev_timer		 rg_cmd_timer;
	ev_timer		 rg_connect_timer;
};

/* Redis answers in order: the head's deadline is the earliest one. */
static void
rguard_arm(struct rguard *g)
{
	ev_timer_stop(g->rg_loop, &g->rg_cmd_timer);
	if (g->rg_head == NULL)
		return;
	ev_timer_set(&g->rg_cmd_timer, g->rg_head->rc_deadline -
	    ev_now(g->rg_loop), 0.);
	ev_timer_start(g->rg_loop, &g->rg_cmd_timer);
}

static void
rguard_log(const char *what, double waited, double limit)
{
	struct log_fields	f;

	log_fields_init(&f);
	log_fields_str(&f, "event", "redis_timeout");
	log_fields_str(&f, "command", what);
	log_fields_num(&f, "waited_s", waited);
	log_emit(LOG_LVL_ERROR, log_fields_get(&f), "Redis: no reply to %s "
	    "within %.1f s (waited %.1f s): dropping the connection; what was "
	    "not acknowledged stays pending and is read again", what, limit,
	    waited);
}

static void
rguard_cmd_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rguard		*g = w->data;
	struct rguard_cmd	*h = g->rg_head;
	char			 what[RGUARD_WHAT_MAX];
	double			 now = ev_now(loop);

	(void)revents;
	if (h == NULL)
		return;
	if (h->rc_deadline > now) {	/* re-armed late: not yet */
		rguard_arm(g);
		return;
	}
	/* copied: dropping the connection frees h */
	snprintf(what, sizeof(what), "%s", h->rc_what);
	rguard_log(what, now - h->rc_sent, h->rc_deadline - h->rc_sent);
	g->rg_expired(g->rg_arg, what, now - h->rc_sent);
}

static void
rguard_connect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rguard		*g = w->data;
	struct log_fields	 f;
	double			 waited = ev_now(loop) - g->rg_connect_at;

	(void)revents;
	g->rg_connect_at = 0;
	log_fields_init(&f);
	log_fields_str(&f, "event", "redis_connect_timeout");
	log_fields_num(&f, "waited_s", waited);
	log_emit(LOG_LVL_ERROR, log_fields_get(&f), "Redis: connection not "
	    "ready within %.1f s (connect, AUTH, SELECT, group check): giving "
	    "up on this attempt", g->rg_connect);
	g->rg_expired(g->rg_arg, "connect", waited);
}

struct rguard *
rguard_new(struct ev_loop *loop, double timeout_s, double connect_s,
    rguard_expired_fn *expired, void *arg)
{
	struct rguard	*g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->rg_loop = loop;
	g->rg_timeout = timeout_s;
	g->rg_connect = connect_s;
	g->rg_expired = expired;
	g->rg_arg = arg;
	ev_timer_init(&g->rg_cmd_timer, rguard_cmd_cb, 0., 0.);
	g->rg_cmd_timer.data = g;
	ev_timer_init(&g->rg_connect_timer, rguard_connect_cb, 0., 0.);
	g->rg_connect_timer.data = g;
	return g;
}

void
rguard_free(struct rguard *g)
{
	struct rguard_cmd	*c, *next;

	if (g == NULL)
		return;
	ev_timer_stop(g->rg_loop, &g->rg_cmd_timer);
	ev_timer_stop(g->rg_loop, &g->rg_connect_timer);
	/* only if a connection outlives its guard; its callbacks then find none */
	for (c = g->rg_head; c != NULL; c = next) {
		next = c->rc_next;
		c->rc_guard = NULL;
	}
	free(g);
}

void
rguard_connecting(struct rguard *g)
{
	g->rg_connect_at = ev_now(g->rg_loop);
	ev_timer_stop(g->rg_loop, &g->rg_connect_timer);
	ev_timer_set(&g->rg_connect_timer, g->rg_connect, 0.);
	ev_timer_start(g->rg_loop, &g->rg_connect_timer);
}

void
rguard_ready(struct rguard *g)
{
	g->rg_connect_at = 0;
	ev_timer_stop(g->rg_loop, &g->rg_connect_timer);
}

size_t
rguard_outstanding(const struct rguard *g)
{
	return g->rg_n;
}

/*
 * The head's predecessor answered: Redis works on the head now.  Its
 * deadline, reckoned when it was sent behind a BLOCK read that may have
 * ended early, becomes no later than now + its own wait.  Only the head
 * moves, so deadlines stay in order.
 */
static void
rguard_tighten(struct rguard *g)
{
	struct rguard_cmd	*h = g->rg_head;
	double			 d;

	if (h == NULL)
		return;
	d = ev_now(g->rg_loop) + h->rc_extra + g->rg_timeout;
	if (d < h->rc_deadline)
		h->rc_deadline = d;
}

/* Unlink c, wherever it is (the head, but for a failed send the tail). */
static void
rguard_unlink(struct rguard *g, struct rguard_cmd *c)
{
	struct rguard_cmd	**pp, *prev = NULL;
	int			 was_head = g->rg_head == c;

	for (pp = &g->rg_head; *pp != NULL; prev = *pp, pp = &(*pp)->rc_next) {
		if (*pp != c)
			continue;
		*pp = c->rc_next;
		if (g->rg_tail == c)
			g->rg_tail = prev;
		g->rg_n--;
		break;
	}
	if (was_head)
		rguard_tighten(g);
	rguard_arm(g);
}

/* hiredis calls this once per command: with the reply, or NULL when the connection goes. */
static void
rguard_reply_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rguard_cmd	*c = priv;

	if (c->rc_guard != NULL)
		rguard_unlink(c->rc_guard, c);
	if (c->rc_fn != NULL)
		c->rc_fn(ac, reply, c->rc_priv);
	free(c);
}

static struct rguard_cmd *
rguard_push(struct rguard *g, redisCallbackFn *fn, void *priv, double extra_s,
    const char *what)
{
	struct rguard_cmd	*c;
	double			 now = ev_now(g->rg_loop);

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->rc_guard = g;
	c->rc_fn = fn;
	c->rc_priv = priv;
	c->rc_sent = now;
	c->rc_extra = extra_s;
	/* a command queued behind a BLOCK read waits that read out first */
	c->rc_start = now;
	if (g->rg_tail != NULL &&
	    g->rg_tail->rc_start + g->rg_tail->rc_extra > now)
		c->rc_start = g->rg_tail->rc_start + g->rg_tail->rc_extra;
	c->rc_deadline = c->rc_start + extra_s + g->rg_timeout;
	snprintf(c->rc_what, sizeof(c->rc_what), "%s", what);
	if (g->rg_tail != NULL)
		g->rg_tail->rc_next = c;
	else
		g->rg_head = c;
	g->rg_tail = c;
	if (g->rg_n++ == 0)
		rguard_arm(g);
	return c;
}

/* hiredis refused the command: it will never call back. */
static int
rguard_sent(struct rguard *g, struct rguard_cmd *c, int rc)
{
	if (rc != REDIS_OK) {
		rguard_unlink(g, c);
		free(c);
	}
	return rc;
}

int
rguard_argv(struct rguard *g, redisAsyncContext *ac, redisCallbackFn *fn,
    void *priv, double extra_s, const char *what, int argc, const char **argv,
    const size_t *argvlen)
{
	struct rguard_cmd	*c;

	if ((c = rguard_push(g, fn, priv, extra_s, what)) == NULL)
		return REDIS_ERR;
	return rguard_sent(g, c, redisAsyncCommandArgv(ac, rguard_reply_cb, c,
	    argc, argv, argvlen));
}

int
rguard_command(struct rguard *g, redisAsyncContext *ac, redisCallbackFn *fn,
    void *priv, const char *what, const char *fmt, ...)
{
	struct rguard_cmd	*c;
	va_list			 ap;
	int			 rc;

	if ((c = rguard_push(g, fn, priv, 0, what)) == NULL)
		return REDIS_ERR;
	va_start(ap, fmt);
	rc = redisvAsyncCommand(ac, rguard_reply_cb, c, fmt, ap);
	va_end(ap);
	return rguard_sent(g, c, rc);
}
