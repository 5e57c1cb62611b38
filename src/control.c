/* The master's control socket: peer-checked Unix socket, one JSON request and reply per line. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libev.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "buf.h"
#include "config.h"
#include "control.h"
#include "core/redisurl.h"
#include "ctlipc.h"
#include "ctlproto.h"
#include "ipc.h"
#include "lag.h"
#include "log.h"
#include "pacing.h"
#include "prom.h"
#include "supervise.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

#define CTL_MAX_CONNS		16	/* connections at once */
#define CTL_MAX_PER_UID		8	/* of them, from one uid */
#define CTL_IDLE_S		60.0	/* a connection with no request is closed */
#define CTL_READ_CHUNK		4096
#define CTL_REDIS_TIMEOUT_S	10.0
#define CTL_DEVICE_TIMEOUT_S	3.0
#define CTL_CLAIM_TIMEOUT_S	30.0
#define CTL_RATE_INTERVAL_S	2.0
#define CTL_REPLAY_ALL_MAX	1000	/* entries one "dlq replay --all" moves */
#define CTL_PG_TIMEOUTS		"-c statement_timeout=2000 -c TimeZone=UTC"

/* o_n[] of a dlq replay */
#define N_REPLAYED	0
#define N_SKIPPED	1
#define N_FAILED	2

struct ctl_op;

struct ctl_conn {
	struct ctl_conn	*c_next;
	int		 c_fd;
	uid_t		 c_uid;
	pid_t		 c_pid;
	ev_io		 c_rev;
	ev_io		 c_wev;
	ev_timer	 c_idle;
	struct buf	 c_in;
	struct buf	 c_out;
	size_t		 c_outoff;
	struct ctl_op	*c_op;		/* request being answered */
	int		 c_close;	/* close once c_out is written */
	int		 c_busy;	/* inside ctl_conn_next */
};

/* One request in progress; lives until its reply is sent and no callback is outstanding. */
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

/* One replayed entry: its DLQ id survives the XADD callback. */
struct ctl_sub {
	struct ctl_op	*s_op;
	char		 s_id[CTL_ID_MAX];
};

struct ctl_rate {
	uint64_t	 r_inserted;
	uint64_t	 r_ms;
	double		 r_rate;
};

static struct {
	struct ev_loop		*ct_loop;
	const struct config	*ct_cf;
	struct control_master	 ct_m;
	int			 ct_fd;
	ev_io			 ct_accept;
	char			*ct_path;
	dev_t			 ct_dev;
	ino_t			 ct_ino;
	struct ctl_conn		*ct_conns;
	struct ctl_conn		*ct_dead;	/* closed, freed by ct_reaper */
	ev_timer		 ct_reaper;
	int			 ct_nconns;
	struct ctl_op		*ct_ops;
	uint32_t		 ct_next_id;
	redisAsyncContext	*ct_ac;
	char			 ct_redis_err[300];
	int			 ct_draining;
	time_t			 ct_started;
	ev_timer		 ct_rate_timer;
	struct ctl_rate		*ct_rates;
	int			 ct_nrates;
	char			 ct_dlq[512];
	char			*ct_redis_url;	/* what ct_ac was opened with */
} ct = { .ct_fd = -1 };

static void	ctl_conn_close(struct ctl_conn *);
static void	ctl_conn_next(struct ctl_conn *);
static void	ctl_op_settle(struct ctl_op *);

/* ---- replies ----------------------------------------------------------- */

/* Write what is queued: 0 all written, 1 the rest waits for EV_WRITE, -1 closed. */
static int
ctl_conn_flush(struct ctl_conn *c)
{
	ssize_t	n;

	while (c->c_outoff < c->c_out.b_len) {
		n = write(c->c_fd, c->c_out.b_data + c->c_outoff,
		    c->c_out.b_len - c->c_outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(ct.ct_loop, &c->c_wev);
			return 1;
		}
		if (n <= 0) {
			ctl_conn_close(c);
			return -1;
		}
		c->c_outoff += (size_t)n;
	}
	ev_io_stop(ct.ct_loop, &c->c_wev);
	buf_reset(&c->c_out);
	c->c_outoff = 0;
	if (c->c_close) {
		ctl_conn_close(c);
		return -1;
	}
	return 0;
}

static void
ctl_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn	*c = w->data;

	(void)loop;
	(void)revents;
	if (ctl_conn_flush(c) == 0)
		ctl_conn_next(c);
}

/* Queue one reply line and write it; takes the reference. */
static void
ctl_conn_send(struct ctl_conn *c, json_t *reply)
{
	char	*s;

	if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
		json_decref(reply);
		reply = ctl_error_json("out of memory building the reply");
		if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
			json_decref(reply);
			ctl_conn_close(c);
			return;
		}
	}
	json_decref(reply);
	if (buf_puts(&c->c_out, s) == -1 || buf_putc(&c->c_out, '\n') == -1)
		c->c_close = 1;
	free(s);
	ev_timer_again(ct.ct_loop, &c->c_idle);
	(void)ctl_conn_flush(c);
}

static void
ctl_conn_error(struct ctl_conn *c, const char *msg, int close_after)
{
	c->c_close = close_after;
	ctl_conn_send(c, ctl_error_json(msg));
}

/* ---- operations -------------------------------------------------------- */

static void
ctl_fail(struct ctl_op *op, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ctl_fail(struct ctl_op *op, const char *fmt, ...)
{
	va_list	ap;

	if (op->o_err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(op->o_err, sizeof(op->o_err), fmt, ap);
	va_end(ap);
}

static void
ctl_op_free(struct ctl_op *op)
{
	struct ctl_op	**pp;

	for (pp = &ct.ct_ops; *pp != NULL; pp = &(*pp)->o_next)
		if (*pp == op) {
			*pp = op->o_next;
			break;
		}
	ev_timer_stop(ct.ct_loop, &op->o_timer);
	ctl_req_free(&op->o_req);
	json_decref(op->o_reply);
	free(op);
}

/* The answer is final: send it (if the client is still there). Takes the reference. */
static void
ctl_op_reply(struct ctl_op *op, json_t *reply)
{
	struct ctl_conn	*c = op->o_conn;

	op->o_done = 1;
	ev_timer_stop(ct.ct_loop, &op->o_timer);
	if (c == NULL) {
		json_decref(reply);
		return;
	}
	op->o_conn = NULL;
	c->c_op = NULL;
	ctl_conn_send(c, reply);
	ctl_conn_next(c);	/* a request already buffered behind this one */
}

static void	ctl_device_complete(struct ctl_op *);

/* Every answer is in (or the time is up): build the reply. */
static void
ctl_op_complete(struct ctl_op *op)
{
	if (op->o_err[0] != '\0') {
		ctl_op_reply(op, ctl_error_json(op->o_err));
		return;
	}
	if (op->o_timedout && op->o_req.r_action != CTL_DEVICE &&
	    op->o_req.r_action != CTL_CLAIM) {
		ctl_op_reply(op, ctl_error_json("Redis did not answer in time"));
		return;
	}
	if (op->o_req.r_action == CTL_DEVICE) {
		ctl_device_complete(op);
		return;
	}
	if (op->o_req.r_action == CTL_CLAIM) {
		json_object_set_new(op->o_reply, "claimed",
		    json_integer((json_int_t)op->o_n[0]));
		json_object_set_new(op->o_reply, "workers_asked",
		    json_integer(op->o_asked));
		json_object_set_new(op->o_reply, "workers_unanswered",
		    json_integer(op->o_waiting));
	}
	if (op->o_req.r_action == CTL_DLQ_REPLAY) {
		json_object_set_new(op->o_reply, "replayed",
		    json_integer((json_int_t)op->o_n[N_REPLAYED]));
		json_object_set_new(op->o_reply, "skipped",
		    json_integer((json_int_t)op->o_n[N_SKIPPED]));
		json_object_set_new(op->o_reply, "failed",
		    json_integer((json_int_t)op->o_n[N_FAILED]));
	}
	ctl_op_reply(op, json_incref(op->o_reply));
}

static void
ctl_op_settle(struct ctl_op *op)
{
	if (!op->o_done && op->o_refs == 0 && op->o_waiting == 0)
		ctl_op_complete(op);
	if (op->o_done && op->o_refs == 0)
		ctl_op_free(op);
}

static void
ctl_op_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_op	*op = t->data;

	(void)loop;
	(void)revents;
	op->o_timedout = 1;
	if (!op->o_done)
		ctl_op_complete(op);
	ctl_op_settle(op);
}

static struct ctl_op *
ctl_op_new(struct ctl_conn *c, double timeout)
{
	struct ctl_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	if ((op->o_reply = json_pack("{s:b}", "ok", 1)) == NULL) {
		free(op);
		return NULL;
	}
	ctl_req_init(&op->o_req);
	op->o_conn = c;
	op->o_id = ++ct.ct_next_id;
	ev_timer_init(&op->o_timer, ctl_op_timeout_cb, timeout, 0.);
	op->o_timer.data = op;
	ev_timer_start(ct.ct_loop, &op->o_timer);
	op->o_next = ct.ct_ops;
	ct.ct_ops = op;
	c->c_op = op;
	return op;
}

/* ---- Redis (the master's own async connection, as lag.c) ---------------- */

static void
ctl_redis_connected(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK) {
		snprintf(ct.ct_redis_err, sizeof(ct.ct_redis_err), "%s",
		    ac->errstr);
		ct.ct_ac = NULL;	/* hiredis frees it */
	}
}

static void
ctl_redis_disconnected(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		snprintf(ct.ct_redis_err, sizeof(ct.ct_redis_err), "%s",
		    ac->errstr);
	ct.ct_ac = NULL;
}

static void
ctl_redis_ignore(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)ac;
	(void)reply;
	(void)arg;
}

static redisAsyncContext *
ctl_redis(void)
{
	struct redis_addr	ra;
	char			err[256];

	/* a reload may have changed the stream or the server */
	snprintf(ct.ct_dlq, sizeof(ct.ct_dlq), "%s:dlq", ct.ct_cf->cf_stream);
	if (ct.ct_ac != NULL && ct.ct_redis_url != NULL &&
	    strcmp(ct.ct_redis_url, ct.ct_cf->cf_redis_url) != 0)
		redisAsyncFree(ct.ct_ac);	/* calls ctl_redis_disconnected */
	if (ct.ct_ac != NULL)
		return ct.ct_ac;
	free(ct.ct_redis_url);
	if ((ct.ct_redis_url = strdup(ct.ct_cf->cf_redis_url)) == NULL) {
		snprintf(ct.ct_redis_err, sizeof(ct.ct_redis_err), "out of memory");
		return NULL;
	}
	if (redisurl_parse(ct.ct_cf->cf_redis_url, &ra, err, sizeof(err)) == -1) {
		snprintf(ct.ct_redis_err, sizeof(ct.ct_redis_err), "%s", err);
		return NULL;
	}
	ct.ct_ac = ra.ra_path[0] ? redisAsyncConnectUnix(ra.ra_path) :
	    redisAsyncConnect(ra.ra_host, ra.ra_port);
	if (ct.ct_ac == NULL || ct.ct_ac->err) {
		snprintf(ct.ct_redis_err, sizeof(ct.ct_redis_err), "%s",
		    ct.ct_ac ? ct.ct_ac->errstr : "out of memory");
		if (ct.ct_ac != NULL)
			redisAsyncFree(ct.ct_ac);
		ct.ct_ac = NULL;
		return NULL;
	}
	redisLibevAttach(ct.ct_loop, ct.ct_ac);
	redisAsyncSetConnectCallback(ct.ct_ac, ctl_redis_connected);
	redisAsyncSetDisconnectCallback(ct.ct_ac, ctl_redis_disconnected);
	if (ra.ra_password[0] != '\0' && ra.ra_user[0] != '\0')
		redisAsyncCommand(ct.ct_ac, ctl_redis_ignore, NULL, "AUTH %s %s",
		    ra.ra_user, ra.ra_password);
	else if (ra.ra_password[0] != '\0')
		redisAsyncCommand(ct.ct_ac, ctl_redis_ignore, NULL, "AUTH %s",
		    ra.ra_password);
	if (ra.ra_db != 0)
		redisAsyncCommand(ct.ct_ac, ctl_redis_ignore, NULL, "SELECT %d",
		    ra.ra_db);
	return ct.ct_ac;
}

/* Issue a command for op; a failure to queue is recorded in op. */
static int
ctl_redis_cmd(struct ctl_op *op, redisCallbackFn *fn, void *priv, int argc,
    const char **argv, const size_t *argvlen)
{
	redisAsyncContext	*ac;

	if ((ac = ctl_redis()) == NULL) {
		ctl_fail(op, "cannot reach Redis: %s", ct.ct_redis_err);
		return -1;
	}
	if (redisAsyncCommandArgv(ac, fn, priv, argc, argv, argvlen) != REDIS_OK) {
		ctl_fail(op, "cannot send a command to Redis");
		return -1;
	}
	op->o_refs++;
	return 0;
}

/* Common start of a callback: NULL when op failed or is over. */
static const redisReply *
ctl_redis_reply(struct ctl_op *op, const redisReply *r, const char *what)
{
	op->o_refs--;
	if (op->o_done)
		return NULL;
	if (r == NULL) {
		ctl_fail(op, "Redis connection lost during %s%s%s", what,
		    ct.ct_redis_err[0] ? ": " : "", ct.ct_redis_err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		ctl_fail(op, "%s failed: %s", what, r->str);
		return NULL;
	}
	return r;
}

static long long
ctl_redis_int(const redisReply *r)
{
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return atoll(r->str);
	return -1;
}

static json_t *
ctl_redis_str(const redisReply *r)
{
	if (r == NULL || (r->type != REDIS_REPLY_STRING &&
	    r->type != REDIS_REPLY_STATUS))
		return json_null();
	return json_stringn(r->str, r->len);
}

/* ---- pending ----------------------------------------------------------- */

static void
ctl_pending_entries_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r, *e;
	json_t			*consumers, *c, *list;
	size_t			 i, j;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XPENDING")) == NULL)
		goto out;
	consumers = json_object_get(op->o_reply, "consumers");
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 4)
			continue;
		json_array_foreach(consumers, j, c) {
			if (strcmp(json_string_value(json_object_get(c, "name")),
			    e->element[1]->str) != 0)
				continue;
			list = json_object_get(c, "oldest");
			json_array_append_new(list, json_pack("{s:o, s:I, s:I}",
			    "id", ctl_redis_str(e->element[0]),
			    "idle_ms", (json_int_t)ctl_redis_int(e->element[2]),
			    "deliveries",
			    (json_int_t)ctl_redis_int(e->element[3])));
			break;
		}
	}
out:
	ctl_op_settle(op);
}

/* XPENDING summary: [count, min, max, [[consumer, n], ...]]; then each consumer's oldest. */
static void
ctl_pending_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r, *cs;
	const char		*argv[8];
	char			 count[16];
	json_t			*list;
	size_t			 i;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XPENDING")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 4) {
		ctl_fail(op, "XPENDING: unexpected reply");
		goto out;
	}
	json_object_set_new(op->o_reply, "count",
	    json_integer(ctl_redis_int(r->element[0])));
	json_object_set_new(op->o_reply, "min", ctl_redis_str(r->element[1]));
	json_object_set_new(op->o_reply, "max", ctl_redis_str(r->element[2]));
	json_object_set_new(op->o_reply, "consumers", list = json_array());
	cs = r->element[3];
	snprintf(count, sizeof(count), "%ld", op->o_req.r_count);
	for (i = 0; cs->type == REDIS_REPLY_ARRAY && i < cs->elements; i++) {
		const redisReply *e = cs->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		json_array_append_new(list, json_pack("{s:o, s:I, s:[]}",
		    "name", ctl_redis_str(e->element[0]),
		    "pending", (json_int_t)ctl_redis_int(e->element[1]),
		    "oldest"));
		argv[0] = "XPENDING";
		argv[1] = ct.ct_cf->cf_stream;
		argv[2] = ct.ct_cf->cf_group;
		argv[3] = "-";
		argv[4] = "+";
		argv[5] = count;
		argv[6] = e->element[0]->str;
		if (ctl_redis_cmd(op, ctl_pending_entries_cb, op, 7, argv,
		    NULL) == -1)
			break;
	}
out:
	ctl_op_settle(op);
}

static void
ctl_pending(struct ctl_op *op)
{
	const char		*argv[] = { "XPENDING", ct.ct_cf->cf_stream,
	    ct.ct_cf->cf_group };
	struct prom_group	 g;

	json_object_set_new(op->o_reply, "stream",
	    json_string(ct.ct_cf->cf_stream));
	json_object_set_new(op->o_reply, "group",
	    json_string(ct.ct_cf->cf_group));
	lag_get(&g);
	if (g.pg_known)
		json_object_set_new(op->o_reply, "lag", json_integer(g.pg_lag));
	(void)ctl_redis_cmd(op, ctl_pending_cb, op, 3, argv, NULL);
}

/* ---- dead-letter queue ------------------------------------------------- */

/* A payload that is not UTF-8 as hex: printable and exact. */
static json_t *
ctl_payload_hex(const redisReply *v)
{
	static const char	hex[] = "0123456789abcdef";
	json_t			*s;
	char			*h;
	size_t			 i;

	if ((h = malloc(v->len * 2 + 1)) == NULL)
		return json_null();
	for (i = 0; i < v->len; i++) {
		h[2 * i] = hex[(unsigned char)v->str[i] >> 4];
		h[2 * i + 1] = hex[(unsigned char)v->str[i] & 15];
	}
	s = json_stringn(h, v->len * 2);
	free(h);
	return s;
}

/* [id, [field, value, ...]] as {"dlq_id":id, field:value, ...}. */
static json_t *
ctl_dlq_entry(const redisReply *e, int with_payload)
{
	const redisReply	*f, *k, *v;
	json_t			*o;
	size_t			 i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    (o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "dlq_id", ctl_redis_str(e->element[0]));
	f = e->element[1];
	for (i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
		k = f->element[i];
		v = f->element[i + 1];
		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "payload") == 0) {
			json_t *pv;

			if (!with_payload)
				continue;
			if ((pv = json_stringn(v->str, v->len)) != NULL)
				json_object_set_new(o, "payload", pv);
			else
				json_object_set_new(o, "payload_hex",
				    ctl_payload_hex(v));
			continue;
		}
		if (strcmp(k->str, "dlq_id") == 0)
			continue;
		json_object_set_new(o, k->str, ctl_redis_str(v));
	}
	return o;
}

static void
ctl_dlq_len_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XLEN")) != NULL)
		json_object_set_new(op->o_reply, "total",
		    json_integer(ctl_redis_int(r)));
	ctl_op_settle(op);
}

static void
ctl_dlq_list_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r;
	json_t			*e;
	size_t			 i;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XREVRANGE")) == NULL)
		goto out;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if ((e = ctl_dlq_entry(r->element[i], 0)) != NULL)
			json_array_append_new(op->o_list, e);
out:
	ctl_op_settle(op);
}

static void
ctl_dlq_list(struct ctl_op *op)
{
	char		 count[16];
	const char	*len[] = { "XLEN", ct.ct_dlq };
	const char	*argv[] = { "XREVRANGE", ct.ct_dlq, "+", "-", "COUNT",
	    count };

	snprintf(count, sizeof(count), "%ld", op->o_req.r_count);
	json_object_set_new(op->o_reply, "dlq", json_string(ct.ct_dlq));
	json_object_set_new(op->o_reply, "entries", op->o_list = json_array());
	if (ctl_redis_cmd(op, ctl_dlq_len_cb, op, 2, len, NULL) == 0)
		(void)ctl_redis_cmd(op, ctl_dlq_list_cb, op, 6, argv, NULL);
}

static void
ctl_dlq_show_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r;
	json_t			*e;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XRANGE")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (e = ctl_dlq_entry(r->element[0], 1)) == NULL) {
		ctl_fail(op, "no entry %s in %s", op->o_req.r_ids[0], ct.ct_dlq);
		goto out;
	}
	json_object_set_new(op->o_reply, "entry", e);
out:
	ctl_op_settle(op);
}

static void
ctl_dlq_show(struct ctl_op *op)
{
	const char	*argv[] = { "XRANGE", ct.ct_dlq, op->o_req.r_ids[0],
	    op->o_req.r_ids[0] };

	(void)ctl_redis_cmd(op, ctl_dlq_show_cb, op, 4, argv, NULL);
}

static void
ctl_replay_note(struct ctl_op *op, const char *id, const char *what,
    const char *why)
{
	json_array_append_new(op->o_list, json_pack("{s:s, s:s, s:s}", "id",
	    id, "result", what, "reason", why));
}

static void
ctl_replay_del_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_sub		*s = priv;
	struct ctl_op		*op = s->s_op;
	const redisReply	*r = reply;

	(void)ac;
	op->o_refs--;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		/* re-added but still in the DLQ: say so, a second replay would duplicate */
		op->o_n[N_FAILED]++;
		if (!op->o_done)
			ctl_replay_note(op, s->s_id, "failed", "replayed, but XDEL "
			    "from the dead-letter queue failed");
	} else
		op->o_n[N_REPLAYED]++;
	free(s);
	ctl_op_settle(op);
}

static void
ctl_replay_add_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_sub		*s = priv;
	struct ctl_op		*op = s->s_op;
	const redisReply	*r = reply;
	const char		*argv[] = { "XDEL", ct.ct_dlq, s->s_id };

	(void)ac;
	op->o_refs--;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		op->o_n[N_FAILED]++;
		if (!op->o_done)
			ctl_replay_note(op, s->s_id, "failed", r ? r->str :
			    "Redis connection lost");
		free(s);
		ctl_op_settle(op);
		return;
	}
	/* only now that the stream holds it again may the DLQ copy go */
	if (op->o_done || ctl_redis_cmd(op, ctl_replay_del_cb, s, 3, argv,
	    NULL) == -1) {
		op->o_n[N_FAILED]++;
		free(s);
	}
	ctl_op_settle(op);
}

/* Re-add one DLQ entry's payload to the stream. */
static void
ctl_replay_entry(struct ctl_op *op, const redisReply *e)
{
	const redisReply	*f, *k, *v, *payload = NULL;
	struct ctl_sub		*s;
	long long		 plen = -1;
	const char		*argv[5];
	size_t			 argvlen[5], i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	f = e->element[1];
	for (i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
		k = f->element[i];
		v = f->element[i + 1];
		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "payload") == 0 && v->type == REDIS_REPLY_STRING)
			payload = v;
		else if (strcmp(k->str, "payload_len") == 0)
			plen = ctl_redis_int(v);
	}
	/* an entry that arrived without a payload field is stored with an empty one */
	if (payload == NULL || payload->len == 0 ||
	    (plen >= 0 && (size_t)plen != payload->len)) {
		op->o_n[N_SKIPPED]++;
		ctl_replay_note(op, e->element[0]->str, "skipped",
		    payload == NULL || payload->len == 0 ? "no payload" :
		    "payload was truncated in the dead-letter queue");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ctl_fail(op, "out of memory");
		return;
	}
	s->s_op = op;
	snprintf(s->s_id, sizeof(s->s_id), "%s", e->element[0]->str);
	argv[0] = "XADD";
	argv[1] = ct.ct_cf->cf_stream;
	argv[2] = "*";
	argv[3] = "payload";
	argv[4] = payload->str;
	for (i = 0; i < 4; i++)
		argvlen[i] = strlen(argv[i]);
	argvlen[4] = payload->len;
	if (ctl_redis_cmd(op, ctl_replay_add_cb, s, 5, argv, argvlen) == -1)
		free(s);
}

static void
ctl_replay_range_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_sub		*s = priv;
	struct ctl_op		*op = s->s_op;
	const redisReply	*r;
	size_t			 i;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XRANGE")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || (r->elements == 0 && !op->o_req.r_all)) {
		op->o_n[N_SKIPPED]++;
		ctl_replay_note(op, s->s_id, "skipped", "not in the dead-letter "
		    "queue");
		goto out;
	}
	for (i = 0; i < r->elements && op->o_err[0] == '\0'; i++)
		ctl_replay_entry(op, r->element[i]);
	if (op->o_req.r_all)
		json_object_set_new(op->o_reply, "more",
		    json_boolean(r->elements >= CTL_REPLAY_ALL_MAX));
out:
	free(s);
	ctl_op_settle(op);
}

static void
ctl_dlq_replay(struct ctl_op *op)
{
	struct ctl_sub	*s;
	char		 max[16];
	const char	*argv[6];
	size_t		 i, n = op->o_req.r_all ? 1 : op->o_req.r_nids;

	json_object_set_new(op->o_reply, "results", op->o_list = json_array());
	snprintf(max, sizeof(max), "%d", CTL_REPLAY_ALL_MAX);
	for (i = 0; i < n && op->o_err[0] == '\0'; i++) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			ctl_fail(op, "out of memory");
			break;
		}
		s->s_op = op;
		argv[0] = "XRANGE";
		argv[1] = ct.ct_dlq;
		if (op->o_req.r_all) {
			argv[2] = "-";
			argv[3] = "+";
			argv[4] = "COUNT";
			argv[5] = max;
		} else {
			snprintf(s->s_id, sizeof(s->s_id), "%s", op->o_req.r_ids[i]);
			argv[2] = argv[3] = s->s_id;
		}
		if (ctl_redis_cmd(op, ctl_replay_range_cb, s, op->o_req.r_all ?
		    6 : 4, argv, NULL) == -1)
			free(s);
	}
}

static void
ctl_dlq_purge_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ctl_op		*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = ctl_redis_reply(op, reply, "XTRIM")) != NULL)
		json_object_set_new(op->o_reply, "purged",
		    json_integer(ctl_redis_int(r)));
	ctl_op_settle(op);
}

static void
ctl_dlq_purge(struct ctl_op *op)
{
	const char	*argv[] = { "XTRIM", ct.ct_dlq, "MINID", op->o_req.r_before };
	const char	*all[] = { "XTRIM", ct.ct_dlq, "MAXLEN", "0" };

	json_object_set_new(op->o_reply, "dlq", json_string(ct.ct_dlq));
	(void)ctl_redis_cmd(op, ctl_dlq_purge_cb, op, 4,
	    op->o_req.r_before[0] ? argv : all, NULL);
}

/* ---- workers: status, drain, claim, device ------------------------------ */

static const char *
ctl_wstate_name(enum wstate s)
{
	switch (s) {
	case W_IDLE:		return "idle";
	case W_STARTING:	return "starting";
	case W_RUNNING:		return "running";
	case W_STOPPING:	return "stopping";
	case W_BACKOFF:		return "backoff";
	}
	return "unknown";
}

/* Rows/s per slot from the stats snapshots, sampled every CTL_RATE_INTERVAL_S. */
static void
ctl_rate_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	const struct worker	*w;
	struct worker_stats	 cum;
	struct ctl_rate		*nr;
	uint64_t		 now = pacing_now_ms();
	int			 slot, n = supervise_slots();

	(void)loop;
	(void)t;
	(void)revents;
	if (n > ct.ct_nrates) {
		if ((nr = reallocarray(ct.ct_rates, (size_t)n, sizeof(*nr))) == NULL)
			return;
		memset(nr + ct.ct_nrates, 0, (size_t)(n - ct.ct_nrates) *
		    sizeof(*nr));
		ct.ct_rates = nr;
		ct.ct_nrates = n;
	}
	for (slot = 0; slot < n; slot++) {
		struct ctl_rate *r = &ct.ct_rates[slot];

		if ((w = supervise_worker(slot)) == NULL)
			continue;
		supervise_cumulative(w, &cum);
		if (r->r_ms != 0 && now > r->r_ms && cum.ws_inserted >= r->r_inserted)
			r->r_rate = (double)(cum.ws_inserted - r->r_inserted) *
			    1000.0 / (double)(now - r->r_ms);
		r->r_inserted = cum.ws_inserted;
		r->r_ms = now;
	}
}

static json_t *
ctl_worker_json(const struct worker *w, uint64_t now)
{
	struct worker_stats	 cum;
	const char		*why = NULL;
	int			 ready;
	double			 rate = 0;

	supervise_cumulative(w, &cum);
	ready = supervise_worker_ready(w, now, &why);
	if (w->w_slot < ct.ct_nrates)
		rate = ct.ct_rates[w->w_slot].r_rate;
	return json_pack("{s:i, s:I, s:s, s:s, s:b, s:s?, s:i, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:f, s:b, s:b, s:b}",
	    "slot", w->w_slot,
	    "pid", (json_int_t)w->w_pid,
	    "consumer", w->w_consumer,
	    "state", ctl_wstate_name(w->w_state),
	    "ready", ready,
	    "why", ready ? NULL : why,
	    "restarts", (int)w->w_restarts,
	    "consumed", (json_int_t)cum.ws_consumed,
	    "inserted", (json_int_t)cum.ws_inserted,
	    "duplicates", (json_int_t)cum.ws_duplicates,
	    "dead_lettered", (json_int_t)cum.ws_dead_lettered,
	    "claimed", (json_int_t)cum.ws_claimed,
	    "devices", (json_int_t)w->w_stats.ws_devices,
	    "rows_per_s", rate,
	    "redis_up", (w->w_stats.ws_flags & WS_REDIS_UP) != 0,
	    "pg_up", (w->w_stats.ws_flags & WS_PG_UP) != 0,
	    "draining", (w->w_stats.ws_flags & WS_DRAINING) != 0);
}

static json_t *
ctl_workers_json(void)
{
	const struct worker	*w;
	json_t			*a = json_array();
	uint64_t		 now = pacing_now_ms();
	int			 slot;

	for (slot = 0; a != NULL && slot < supervise_slots(); slot++)
		if ((w = supervise_worker(slot)) != NULL)
			json_array_append_new(a, ctl_worker_json(w, now));
	return a;
}

static json_t *
ctl_status(int full)
{
	struct buf		 why;
	struct prom_group	 g;
	json_t			*o;
	int			 ready;

	if (!full)
		return json_pack("{s:b, s:o}", "ok", 1, "workers",
		    ctl_workers_json());
	buf_init(&why);
	ready = ct.ct_m.cm_ready(&why);
	o = json_pack("{s:b, s:s, s:I, s:I, s:s?, s:s, s:b, s:s?, s:b, s:i, s:o}",
	    "ok", 1,
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "uptime_s", (json_int_t)(time(NULL) - ct.ct_started),
	    "config", ct.ct_cf->cf_file,
	    "state", ct.ct_m.cm_phase(),
	    "ready", ready,
	    "not_ready", ready ? NULL : buf_cstr(&why),
	    "draining", ct.ct_draining,
	    "workers_configured", supervise_wanted(),
	    "workers", ctl_workers_json());
	buf_free(&why);
	lag_get(&g);
	if (o != NULL && g.pg_known)
		json_object_set_new(o, "group", json_pack("{s:s, s:I, s:I}",
		    "name", ct.ct_cf->cf_group, "pending", (json_int_t)g.pg_pending,
		    "lag", (json_int_t)g.pg_lag));
	return o;
}

/* Send one frame to every worker that said hello; returns how many took it. */
static int
ctl_tell_workers(enum ipc_type type, const void *payload, size_t len)
{
	struct worker	*w;
	int		 slot, n = 0;

	for (slot = 0; slot < supervise_slots(); slot++) {
		if ((w = supervise_worker(slot)) == NULL || w->w_pid <= 0 ||
		    !w->w_hello || w->w_chan.ic_fd == -1 ||
		    w->w_state != W_RUNNING)
			continue;
		if (ipc_compose(&w->w_chan, type, (uint32_t)w->w_slot,
		    (uint32_t)w->w_pid, payload, len) == 0)
			n++;
		else
			log_warn("control: cannot send %s to worker %d",
			    ipc_type_name(type), slot);
	}
	return n;
}

static json_t *
ctl_drain(int on)
{
	int	n;

	ct.ct_draining = on;
	n = ctl_tell_workers(on ? MSG_DRAIN : MSG_RESUME, NULL, 0);
	log_info("control: %s (%d workers told)", on ? "draining: workers stop "
	    "reading new entries" : "resuming: workers read again", n);
	return json_pack("{s:b, s:b, s:i}", "ok", 1, "draining", on,
	    "workers", n);
}

static json_t *
ctl_reload(void)
{
	struct config	ncf;
	char		err[512], msg[600];

	if (strcmp(ct.ct_m.cm_phase(), "stopping") == 0)
		return ctl_error_json("the master is stopping");
	memset(&ncf, 0, sizeof(ncf));
	err[0] = '\0';
	/* the same check SIGHUP makes, so the operator sees why it would fail */
	if (config_load(&ncf, ct.ct_cf->cf_file, err, sizeof(err)) == -1) {
		config_free(&ncf);
		snprintf(msg, sizeof(msg), "configuration is invalid, nothing "
		    "changed: %s", err);
		return ctl_error_json(msg);
	}
	config_free(&ncf);
	log_info("control: reload requested");
	if (kill(getpid(), SIGHUP) == -1)
		return ctl_error_json(strerror(errno));
	return json_pack("{s:b, s:s}", "ok", 1, "message",
	    "reloading: workers are replaced one at a time");
}

static void
ctl_claim(struct ctl_op *op)
{
	struct ctl_ipc_claim	cl;

	if (ct.ct_draining) {
		ctl_fail(op, "workers are drained; resume them first");
		return;
	}
	memset(&cl, 0, sizeof(cl));
	cl.cl_id = op->o_id;
	cl.cl_idle_ms = op->o_req.r_idle_ms > 0 ? (uint32_t)op->o_req.r_idle_ms : 0;
	json_object_set_new(op->o_reply, "idle_ms",
	    json_integer(op->o_req.r_idle_ms > 0 ? op->o_req.r_idle_ms :
	    ct.ct_cf->cf_claim_idle_ms));
	json_object_set_new(op->o_reply, "workers", op->o_list = json_array());
	op->o_asked = op->o_waiting = ctl_tell_workers(MSG_CLAIM, &cl, sizeof(cl));
	if (op->o_asked == 0)
		ctl_fail(op, "no worker is running");
}

static void
ctl_device(struct ctl_op *op)
{
	struct ctl_ipc_device_query	q;

	memset(&q, 0, sizeof(q));
	q.dq_id = op->o_id;
	snprintf(q.dq_device, sizeof(q.dq_device), "%s", op->o_req.r_device);
	op->o_asked = op->o_waiting = ctl_tell_workers(MSG_DEVICE_QUERY, &q,
	    sizeof(q));
}

static json_t *
ctl_iso_time(int64_t us)
{
	struct tm	tm;
	time_t		t;
	char		s[64];
	size_t		n;

	if (us <= 0)
		return json_null();
	t = (time_t)(us / 1000000);
	if (gmtime_r(&t, &tm) == NULL)
		return json_null();
	n = strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(s + n, sizeof(s) - n, ".%06ldZ", (long)(us % 1000000));
	return json_string(s);
}

/* The last row PostgreSQL holds for the device: blocking, short timeouts. */
static json_t *
ctl_device_pg(const char *device, char *err, size_t errlen)
{
	const char	*keys[] = { "dbname", "connect_timeout", "options",
	    "application_name", NULL };
	const char	*vals[] = { ct.ct_cf->cf_pg_url, "3", CTL_PG_TIMEOUTS,
	    "processor-control", NULL };
	const char	*params[] = { device };
	PGconn		*conn;
	PGresult	*res;
	json_t		*row = NULL;

	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "PostgreSQL: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	res = PQexecParams(conn, "SELECT row_to_json(p)::text FROM (SELECT "
	    "device_id, ts, latitude, longitude, altitude, angle, satellites, "
	    "speed, priority, event_io_id, attributes, received_at FROM positions "
	    "WHERE device_id = $1 ORDER BY ts DESC LIMIT 1) p", 1, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(err, errlen, "PostgreSQL: %s", PQerrorMessage(conn));
	else if (PQntuples(res) == 1)
		row = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	else
		row = json_null();
	PQclear(res);
	PQfinish(conn);
	return row;
}

static void
ctl_device_complete(struct ctl_op *op)
{
	const struct ctl_ipc_device_reply *b = &op->o_best;
	json_t	*o = op->o_reply, *fix, *row;
	char	 err[512];

	json_object_set_new(o, "device", json_string(op->o_req.r_device));
	json_object_set_new(o, "workers_asked", json_integer(op->o_asked));
	json_object_set_new(o, "workers_unanswered", json_integer(op->o_waiting));
	if (b->dr_found) {
		fix = json_pack("{s:o, s:f, s:f}", "ts", ctl_iso_time(b->dr_ts_us),
		    "latitude", b->dr_lat, "longitude", b->dr_lon);
		if (b->dr_has & 0x01)	/* POS_HAS_ALTITUDE, ... (position.h) */
			json_object_set_new(fix, "altitude", json_real(b->dr_altitude));
		if (b->dr_has & 0x02)
			json_object_set_new(fix, "angle", json_integer(b->dr_angle));
		if (b->dr_has & 0x04)
			json_object_set_new(fix, "satellites",
			    json_integer(b->dr_satellites));
		if (b->dr_has & 0x08)
			json_object_set_new(fix, "speed", json_real(b->dr_speed));
		if (b->dr_has & 0x10)
			json_object_set_new(fix, "priority",
			    json_integer(b->dr_priority));
		if (b->dr_has & 0x20)
			json_object_set_new(fix, "event_io_id",
			    json_integer(b->dr_event_io));
		json_object_set_new(o, "in_memory", json_true());
		json_object_set_new(o, "worker", json_integer((json_int_t)op->o_n[0]));
		json_object_set_new(o, "last", fix);
		json_object_set_new(o, "last_seen",
		    ctl_iso_time((int64_t)op->o_n[2]));
		json_object_set_new(o, "records", json_integer((json_int_t)op->o_n[1]));
		ctl_op_reply(op, json_incref(o));
		return;
	}
	json_object_set_new(o, "in_memory", json_false());
	err[0] = '\0';
	if ((row = ctl_device_pg(op->o_req.r_device, err, sizeof(err))) == NULL) {
		ctl_op_reply(op, ctl_error_json(err));
		return;
	}
	json_object_set_new(o, "database", row);
	ctl_op_reply(op, json_incref(o));
}

static struct ctl_op *
ctl_op_find(uint32_t id, enum ctl_action action)
{
	struct ctl_op	*op;

	for (op = ct.ct_ops; op != NULL; op = op->o_next)
		if (op->o_id == id && op->o_req.r_action == action &&
		    !op->o_done && op->o_waiting > 0)
			return op;
	return NULL;
}

int
control_worker_msg(struct worker *w, const struct ipc_hdr *h,
    const void *p, size_t len)
{
	struct ctl_ipc_device_reply	dr;
	struct ctl_ipc_claim_reply	cr;
	struct ctl_op			*op;

	if (h->ih_type == MSG_DEVICE_REPLY && len == sizeof(dr)) {
		memcpy(&dr, p, sizeof(dr));
		if ((op = ctl_op_find(dr.dr_id, CTL_DEVICE)) == NULL)
			return 0;	/* late: the request timed out */
		/* a device's entries spread over the workers: sum, keep the freshest */
		if (dr.dr_found) {
			op->o_n[1] += dr.dr_records;
			if (dr.dr_last_seen_us > (int64_t)op->o_n[2])
				op->o_n[2] = (uint64_t)dr.dr_last_seen_us;
		}
		if (dr.dr_found && (!op->o_best.dr_found ||
		    dr.dr_ts_us > op->o_best.dr_ts_us)) {
			op->o_best = dr;
			op->o_n[0] = (uint64_t)w->w_slot;
		}
	} else if (h->ih_type == MSG_CLAIM_REPLY && len == sizeof(cr)) {
		memcpy(&cr, p, sizeof(cr));
		if ((op = ctl_op_find(cr.cr_id, CTL_CLAIM)) == NULL)
			return 0;
		op->o_n[0] += cr.cr_claimed;
		json_array_append_new(op->o_list, json_pack("{s:i, s:I, s:b}",
		    "slot", w->w_slot, "claimed", (json_int_t)cr.cr_claimed,
		    "ok", cr.cr_ok != 0));
	} else {
		log_error("worker %d sent unexpected %s (%zu bytes)", w->w_slot,
		    ipc_type_name(h->ih_type), len);
		return -1;
	}
	op->o_waiting--;
	ctl_op_settle(op);
	return 0;
}

void
control_worker_up(struct worker *w)
{
	if (!ct.ct_draining || w->w_chan.ic_fd == -1)
		return;
	if (ipc_compose(&w->w_chan, MSG_DRAIN, (uint32_t)w->w_slot,
	    (uint32_t)w->w_pid, NULL, 0) == -1)
		log_warn("control: cannot drain worker %d", w->w_slot);
}

/* ---- dispatch ---------------------------------------------------------- */

/* Start an operation that answers later. */
static void
ctl_dispatch_async(struct ctl_conn *c, struct ctl_req *req)
{
	struct ctl_op	*op;
	double		 timeout = CTL_REDIS_TIMEOUT_S;

	if (req->r_action == CTL_DEVICE)
		timeout = CTL_DEVICE_TIMEOUT_S;
	else if (req->r_action == CTL_CLAIM)
		timeout = CTL_CLAIM_TIMEOUT_S;
	if ((op = ctl_op_new(c, timeout)) == NULL) {
		ctl_req_free(req);
		ctl_conn_error(c, "out of memory", 1);
		return;
	}
	op->o_req = *req;	/* takes the ids */
	ctl_req_init(req);
	switch (op->o_req.r_action) {
	case CTL_PENDING:	ctl_pending(op); break;
	case CTL_DLQ_LIST:	ctl_dlq_list(op); break;
	case CTL_DLQ_SHOW:	ctl_dlq_show(op); break;
	case CTL_DLQ_REPLAY:	ctl_dlq_replay(op); break;
	case CTL_DLQ_PURGE:	ctl_dlq_purge(op); break;
	case CTL_CLAIM:		ctl_claim(op); break;
	case CTL_DEVICE:	ctl_device(op); break;
	default:		ctl_fail(op, "internal: not an async command");
	}
	ctl_op_settle(op);
}

static void
ctl_dispatch(struct ctl_conn *c, const char *line, size_t len)
{
	struct ctl_req	 req;
	json_error_t	 jerr;
	json_t		*o;
	char		 err[256], msg[300];

	ctl_req_init(&req);
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(msg, sizeof(msg), "malformed request: %s", jerr.text);
		ctl_conn_error(c, msg, 0);
		return;
	}
	if (ctl_req_from_json(o, &req, err, sizeof(err)) == -1) {
		json_decref(o);
		ctl_req_free(&req);
		ctl_conn_error(c, err, 0);
		return;
	}
	json_decref(o);
	log_debug("control: uid %ld pid %ld: %s", (long)c->c_uid, (long)c->c_pid,
	    ctl_action_name(req.r_action));
	switch (req.r_action) {
	case CTL_STATUS:
		ctl_conn_send(c, ctl_status(1));
		break;
	case CTL_WORKERS:
		ctl_conn_send(c, ctl_status(0));
		break;
	case CTL_RELOAD:
		ctl_conn_send(c, ctl_reload());
		break;
	case CTL_DRAIN:
	case CTL_RESUME:
		ctl_conn_send(c, ctl_drain(req.r_action == CTL_DRAIN));
		break;
	default:
		ctl_dispatch_async(c, &req);
		break;
	}
	ctl_req_free(&req);
}

/* ---- connections ------------------------------------------------------- */

/*
 * Answer the buffered requests one at a time: read only while nothing is
 * being answered or written, so a client that sends without reading cannot
 * make us buffer without bound.  A loop, not recursion: nested calls (a
 * reply sent from inside ctl_dispatch) return at once.
 */
static void
ctl_conn_next(struct ctl_conn *c)
{
	char	*nl;
	size_t	 len;

	if (c->c_busy)
		return;
	c->c_busy = 1;
	ev_io_stop(ct.ct_loop, &c->c_rev);
	while (c->c_fd != -1 && c->c_op == NULL && c->c_out.b_len == 0) {
		nl = memchr(c->c_in.b_data, '\n', c->c_in.b_len);
		len = nl ? (size_t)(nl - c->c_in.b_data) : c->c_in.b_len;
		if (len > CTL_MAX_REQUEST) {
			log_warnx("control: uid %ld sent a request longer than "
			    "%d bytes", (long)c->c_uid, CTL_MAX_REQUEST);
			ctl_conn_error(c, "request too long", 1);
			break;
		}
		if (nl == NULL) {
			ev_io_start(ct.ct_loop, &c->c_rev);
			break;
		}
		*nl = '\0';
		ctl_dispatch(c, c->c_in.b_data, len);
		if (c->c_fd == -1)
			break;	/* closed; freed later by the reaper */
		memmove(c->c_in.b_data, nl + 1, c->c_in.b_len - len - 1);
		c->c_in.b_len -= len + 1;
	}
	c->c_busy = 0;
}

static void
ctl_conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn	*c = w->data;
	ssize_t		 n;

	(void)loop;
	(void)revents;
	if (buf_reserve(&c->c_in, CTL_READ_CHUNK) == -1) {
		ctl_conn_close(c);
		return;
	}
	n = read(c->c_fd, c->c_in.b_data + c->c_in.b_len, CTL_READ_CHUNK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_conn_close(c);
		return;
	}
	c->c_in.b_len += (size_t)n;
	ev_timer_again(ct.ct_loop, &c->c_idle);
	ctl_conn_next(c);
}

static void
ctl_conn_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_conn	*c = t->data;

	(void)loop;
	(void)revents;
	if (c->c_op != NULL) {
		ev_timer_again(ct.ct_loop, &c->c_idle);
		return;
	}
	ctl_conn_close(c);
}

/*
 * A closed connection may still be on the stack (ctl_conn_next, a write
 * error inside ctl_dispatch): its fd goes at once, its memory on the next
 * loop iteration.
 */
static void
ctl_reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_conn	*c;

	(void)loop;
	(void)t;
	(void)revents;
	while ((c = ct.ct_dead) != NULL) {
		ct.ct_dead = c->c_next;
		buf_free(&c->c_in);
		buf_free(&c->c_out);
		free(c);
	}
}

static void
ctl_conn_close(struct ctl_conn *c)
{
	struct ctl_conn	**pp;

	if (c->c_fd == -1)
		return;
	for (pp = &ct.ct_conns; *pp != NULL; pp = &(*pp)->c_next)
		if (*pp == c) {
			*pp = c->c_next;
			break;
		}
	ct.ct_nconns--;
	if (c->c_op != NULL) {
		c->c_op->o_conn = NULL;	/* it finishes; the reply is dropped */
		c->c_op = NULL;
	}
	ev_io_stop(ct.ct_loop, &c->c_rev);
	ev_io_stop(ct.ct_loop, &c->c_wev);
	ev_timer_stop(ct.ct_loop, &c->c_idle);
	close(c->c_fd);
	c->c_fd = -1;
	c->c_next = ct.ct_dead;
	ct.ct_dead = c;
	ev_timer_start(ct.ct_loop, &ct.ct_reaper);
}

/* Supplementary groups of a process, from /proc (SO_PEERCRED has only the primary). */
static int
ctl_pid_in_group(pid_t pid, gid_t gid)
{
	char	 path[64], line[4096], *p, *end;
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; *p != '\0' && !found; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			found = (gid_t)g == gid;
		}
		break;
	}
	fclose(f);
	return found;
}

static int
ctl_peer_allowed(const struct ucred *cr)
{
	return cr->uid == 0 || cr->uid == geteuid() || cr->gid == getegid() ||
	    ctl_pid_in_group(cr->pid, getegid());
}

static int
ctl_uid_conns(uid_t uid)
{
	const struct ctl_conn	*c;
	int			 n = 0;

	for (c = ct.ct_conns; c != NULL; c = c->c_next)
		n += c->c_uid == uid;
	return n;
}

/* Refuse before any state exists: one best-effort error line, then close. */
static void
ctl_refuse(int fd, const char *msg)
{
	json_t	*e = ctl_error_json(msg);
	char	*s = e ? json_dumps(e, JSON_COMPACT) : NULL;

	if (s != NULL) {
		(void)!write(fd, s, strlen(s));
		(void)!write(fd, "\n", 1);
	}
	free(s);
	json_decref(e);
	close(fd);
}

static void
ctl_conn_new(int fd, const struct ucred *cr)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ctl_refuse(fd, "out of memory");
		return;
	}
	c->c_fd = fd;
	c->c_uid = cr->uid;
	c->c_pid = cr->pid;
	buf_init(&c->c_in);
	buf_init(&c->c_out);
	ev_io_init(&c->c_rev, ctl_conn_read_cb, fd, EV_READ);
	ev_io_init(&c->c_wev, ctl_conn_write_cb, fd, EV_WRITE);
	ev_init(&c->c_idle, ctl_conn_idle_cb);
	c->c_idle.repeat = CTL_IDLE_S;
	c->c_rev.data = c->c_wev.data = c->c_idle.data = c;
	c->c_next = ct.ct_conns;
	ct.ct_conns = c;
	ct.ct_nconns++;
	ev_io_start(ct.ct_loop, &c->c_rev);
	ev_timer_again(ct.ct_loop, &c->c_idle);
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ucred	cr;
	socklen_t	len = sizeof(cr);
	char		msg[128];
	int		fd;

	(void)loop;
	(void)revents;
	if ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!ctl_peer_allowed(&cr)) {
		log_warnx("control: refused uid %ld gid %ld (pid %ld): not root, "
		    "our user or our group", (long)cr.uid, (long)cr.gid,
		    (long)cr.pid);
		snprintf(msg, sizeof(msg), "permission denied: uid %ld may not "
		    "use this socket", (long)cr.uid);
		ctl_refuse(fd, msg);
		return;
	}
	if (ct.ct_nconns >= CTL_MAX_CONNS || ctl_uid_conns(cr.uid) >= CTL_MAX_PER_UID) {
		log_warnx("control: too many connections; refused uid %ld",
		    (long)cr.uid);
		ctl_refuse(fd, "too many control connections");
		return;
	}
	ctl_conn_new(fd, &cr);
}

/* ---- socket ------------------------------------------------------------ */

/* A socket file at path: replace it only if nobody answers on it. */
static int
ctl_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		errno = EADDRINUSE;	/* another master answers there */
		return -1;
	}
	if (errno != ECONNREFUSED)
		return -1;
	log_info("control: removing stale socket %s", path);
	return unlink(path);
}

static int
ctl_listen(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (ctl_clear_stale(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	/* never world-accessible, not even between bind and chmod */
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1 || listen(fd, CTL_MAX_CONNS) == -1 ||
	    stat(path, &st) == -1) {
		saved = errno;
		(void)unlink(path);
		close(fd);
		errno = saved;
		return -1;
	}
	ct.ct_dev = st.st_dev;
	ct.ct_ino = st.st_ino;
	return fd;
}

int
control_start(struct ev_loop *loop, const struct config *cf,
    const struct control_master *m)
{
	const char	*path = cf->cf_control_socket;

	if (path == NULL || *path == '\0') {
		errno = EINVAL;
		return -1;
	}
	ct.ct_loop = loop;
	ct.ct_cf = cf;
	ct.ct_m = *m;
	ct.ct_started = time(NULL);
	snprintf(ct.ct_dlq, sizeof(ct.ct_dlq), "%s:dlq", cf->cf_stream);
	ev_timer_init(&ct.ct_rate_timer, ctl_rate_cb, CTL_RATE_INTERVAL_S,
	    CTL_RATE_INTERVAL_S);
	ev_timer_start(loop, &ct.ct_rate_timer);
	ev_timer_init(&ct.ct_reaper, ctl_reap_cb, 0., 0.);
	if ((ct.ct_path = strdup(path)) == NULL)
		return -1;
	if ((ct.ct_fd = ctl_listen(path)) == -1) {
		free(ct.ct_path);
		ct.ct_path = NULL;
		return -1;
	}
	ev_io_init(&ct.ct_accept, ctl_accept_cb, ct.ct_fd, EV_READ);
	ev_io_start(loop, &ct.ct_accept);
	return 0;
}

void
control_stop(void)
{
	struct stat	st;

	if (ct.ct_loop == NULL)
		return;
	while (ct.ct_conns != NULL)
		ctl_conn_close(ct.ct_conns);
	if (ct.ct_ac != NULL)
		redisAsyncFree(ct.ct_ac);	/* callbacks run with NULL replies */
	ct.ct_ac = NULL;
	while (ct.ct_ops != NULL) {
		ct.ct_ops->o_done = 1;
		ctl_op_free(ct.ct_ops);
	}
	ev_timer_stop(ct.ct_loop, &ct.ct_rate_timer);
	if (ct.ct_fd != -1) {
		ev_io_stop(ct.ct_loop, &ct.ct_accept);
		close(ct.ct_fd);
		/* only our own socket: a successor may already have bound the path */
		if (stat(ct.ct_path, &st) == 0 && st.st_dev == ct.ct_dev &&
		    st.st_ino == ct.ct_ino)
			(void)unlink(ct.ct_path);
	}
	ev_timer_stop(ct.ct_loop, &ct.ct_reaper);
	ctl_reap_cb(ct.ct_loop, &ct.ct_reaper, 0);
	free(ct.ct_path);
	free(ct.ct_rates);
	free(ct.ct_redis_url);
	memset(&ct, 0, sizeof(ct));
	ct.ct_fd = -1;
}
