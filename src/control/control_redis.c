/* Control commands answered by Redis: pending, dlq list/show/replay/purge. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <jansson.h>

#include "conf/config.h"
#include "util/redisconn.h"
#include "util/redisguard.h"
#include "util/redisurl.h"
#include "control/control_op.h"
#include "proc/supervise.h"
#include "util/log.h"
#include "wire/metrics.h"

#define CTL_REPLAY_ALL_MAX	1000	/* entries one "dlq replay --all" moves */

/* One replayed entry: its DLQ id survives the XADD callback. */
struct control_sub {
	struct control_op	*s_op;
	char		 s_id[CTL_ID_MAX];
};

static struct {
	redisAsyncContext	*rd_ac;
	struct rguard		*rd_guard;	/* deadlines of rd_ac's commands */
	char			 rd_err[300];
	char			 rd_dlq[512];
	char			*rd_url;	/* what rd_ac was opened with */
} rd;

/* ---- Redis (the master's own async connection, as lag.c) ---------------- */

static void
control_redis_connected(const redisAsyncContext *ac, int status)
{
	if (rd.rd_guard != NULL)
		rguard_ready(rd.rd_guard);	/* AUTH, SELECT: command deadlines */
	if (status != REDIS_OK) {
		snprintf(rd.rd_err, sizeof(rd.rd_err), "%s",
		    ac->errstr);
		rd.rd_ac = NULL;	/* hiredis frees it */
	}
}

static void
control_redis_disconnected(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK)
		snprintf(rd.rd_err, sizeof(rd.rd_err), "%s",
		    ac->errstr);
	if (rd.rd_guard != NULL)
		rguard_ready(rd.rd_guard);
	rd.rd_ac = NULL;
}

static void
control_redis_ignore(redisAsyncContext *ac, void *reply, void *arg)
{
	(void)ac;
	(void)reply;
	(void)arg;
}

/*
 * A command or the connect passed its deadline (the guard logged it): drop
 * the connection, so the ops waiting on it fail now with the reason rather
 * than at their own timeout, and the next op opens a new one.
 */
static void
control_redis_timed_out(void *arg, const char *what, double waited)
{
	redisAsyncContext	*ac = rd.rd_ac;

	(void)arg;
	snprintf(rd.rd_err, sizeof(rd.rd_err), "no reply to %s within %.1f s",
	    what, waited);
	rd.rd_ac = NULL;	/* the disconnect callback may not run before a connect */
	if (ac != NULL)
		redisAsyncFree(ac);
}

/* A guard with the current configuration's deadlines, for a new connection. */
static int
control_redis_guard(void)
{
	const struct config	*cf = control_env.ce_cf;

	rguard_free(rd.rd_guard);
	rd.rd_guard = rguard_new(control_env.ce_loop,
	    cf->cf_command_timeout_ms / 1000.0,
	    cf->cf_connect_timeout_ms / 1000.0, control_redis_timed_out, NULL);
	if (rd.rd_guard == NULL) {
		snprintf(rd.rd_err, sizeof(rd.rd_err), "out of memory");
		return -1;
	}
	return 0;
}

static redisAsyncContext *
control_redis(void)
{
	struct redis_addr	ra;
	char			err[256];

	/* a reload may have changed the stream or the server */
	snprintf(rd.rd_dlq, sizeof(rd.rd_dlq), "%s:dlq", control_env.ce_cf->cf_stream);
	if (rd.rd_ac != NULL && rd.rd_url != NULL &&
	    strcmp(rd.rd_url, control_env.ce_cf->cf_redis_url) != 0) {
		redisAsyncFree(rd.rd_ac);	/* calls control_redis_disconnected */
		rd.rd_ac = NULL;	/* even where hiredis does not */
	}
	if (rd.rd_ac != NULL)
		return rd.rd_ac;
	free(rd.rd_url);
	if ((rd.rd_url = strdup(control_env.ce_cf->cf_redis_url)) == NULL) {
		snprintf(rd.rd_err, sizeof(rd.rd_err), "out of memory");
		return NULL;
	}
	if (redisurl_parse(control_env.ce_cf->cf_redis_url, &ra, err, sizeof(err)) == -1) {
		snprintf(rd.rd_err, sizeof(rd.rd_err), "%s", err);
		return NULL;
	}
	if (control_redis_guard() == -1)
		return NULL;
	rd.rd_ac = redisconn_open(control_env.ce_loop, &ra, control_redis_connected,
	    control_redis_disconnected, control_redis_ignore, NULL, rd.rd_guard,
	    err, sizeof(err));
	if (rd.rd_ac == NULL)
		snprintf(rd.rd_err, sizeof(rd.rd_err), "%s", err);
	return rd.rd_ac;
}

/* Issue a command for op; a failure to queue is recorded in op. */
static int
control_redis_cmd(struct control_op *op, redisCallbackFn *fn, void *priv, int argc,
    const char **argv, const size_t *argvlen)
{
	redisAsyncContext	*ac;

	if ((ac = control_redis()) == NULL) {
		control_fail(op, "cannot reach Redis: %s", rd.rd_err);
		return -1;
	}
	if (rguard_argv(rd.rd_guard, ac, fn, priv, 0, argv[0], argc, argv,
	    argvlen) != REDIS_OK) {
		control_fail(op, "cannot send a command to Redis");
		return -1;
	}
	op->o_refs++;
	return 0;
}

/* Common start of a callback: NULL when op failed or is over. */
static const redisReply *
control_redis_reply(struct control_op *op, const redisReply *r, const char *what)
{
	op->o_refs--;
	if (op->o_done)
		return NULL;
	if (r == NULL) {
		control_fail(op, "Redis connection lost during %s%s%s", what,
		    rd.rd_err[0] ? ": " : "", rd.rd_err);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		control_fail(op, "%s failed: %s", what, r->str);
		return NULL;
	}
	return r;
}

static long long
control_redis_int(const redisReply *r)
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
control_redis_str(const redisReply *r)
{
	if (r == NULL || (r->type != REDIS_REPLY_STRING &&
	    r->type != REDIS_REPLY_STATUS))
		return json_null();
	return json_stringn(r->str, r->len);
}

/* ---- consumers --------------------------------------------------------- */

#define CTL_CLAIM_MAX	"10000"	/* entries claimed from a consumer per delete */

/* The consumer a live worker of ours runs as, or NULL; with name, whether it is one. */
static const char *
control_consumer_ours(const char *name)
{
	struct worker	*w;
	int		 slot;

	for (slot = 0; slot < supervise_slots(); slot++) {
		if ((w = supervise_worker(slot)) == NULL || w->w_pid <= 0 ||
		    !w->w_hello || w->w_state != W_RUNNING ||
		    strncmp(w->w_consumer, "evaluator-", 10) == 0)
			continue;
		if (name == NULL || strcmp(w->w_consumer, name) == 0)
			return w->w_consumer;
	}
	return NULL;
}

/* A field of an XINFO CONSUMERS entry ([k, v, k, v, ...]), or NULL. */
static const redisReply *
control_xinfo_field(const redisReply *e, const char *key)
{
	size_t	i;

	for (i = 0; e->type == REDIS_REPLY_ARRAY && i + 1 < e->elements; i += 2)
		if (e->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(e->element[i]->str, key) == 0)
			return e->element[i + 1];
	return NULL;
}

static json_t *
control_consumers_json(const redisReply *r)
{
	const redisReply	*e, *name;
	json_t			*list = json_array();
	size_t			 i;

	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		e = r->element[i];
		if ((name = control_xinfo_field(e, "name")) == NULL ||
		    name->type != REDIS_REPLY_STRING)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:b}",
		    "name", name->str,
		    "pending", (json_int_t)control_redis_int(
		    control_xinfo_field(e, "pending")),
		    "idle_ms", (json_int_t)control_redis_int(
		    control_xinfo_field(e, "idle")),
		    "ours", control_consumer_ours(name->str) != NULL));
	}
	return list;
}

static void
control_consumers_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op	*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XINFO CONSUMERS")) != NULL)
		json_object_set_new(op->o_reply, "consumers",
		    control_consumers_json(r));
	control_op_settle(op);
}

void
control_consumers(struct control_op *op)
{
	const char	*argv[] = { "XINFO", "CONSUMERS",
	    control_env.ce_cf->cf_stream, control_env.ce_cf->cf_group };

	json_object_set_new(op->o_reply, "group",
	    json_string(control_env.ce_cf->cf_group));
	(void)control_redis_cmd(op, control_consumers_cb, op, 4, argv, NULL);
}

static void
control_cdel_done_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op	*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XGROUP DELCONSUMER")) != NULL) {
		json_object_set_new(op->o_reply, "deleted",
		    json_string(op->o_req.r_consumer));
		json_object_set_new(op->o_reply, "pending_dropped",
		    json_integer(control_redis_int(r)));
		json_object_set_new(op->o_reply, "claimed",
		    json_integer((json_int_t)op->o_n[0]));
		log_info("control: consumer %s deleted (%llu pending entries "
		    "claimed first)", op->o_req.r_consumer,
		    (unsigned long long)op->o_n[0]);
	}
	control_op_settle(op);
}

static void
control_cdel_delete(struct control_op *op)
{
	const char	*argv[] = { "XGROUP", "DELCONSUMER",
	    control_env.ce_cf->cf_stream, control_env.ce_cf->cf_group,
	    op->o_req.r_consumer };

	(void)control_redis_cmd(op, control_cdel_done_cb, op, 5, argv, NULL);
}

static void control_cdel_claim(struct control_op *);

/* XCLAIM ... JUSTID: the ids now ours; claim the next ones, or delete. */
static void
control_cdel_claimed_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op	*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XCLAIM")) != NULL) {
		op->o_n[0] += r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
		control_cdel_claim(op);
	}
	control_op_settle(op);
}

/* XPENDING of the consumer: XCLAIM them (JUSTID) to a worker of ours. */
static void
control_cdel_pending_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op	*op = priv;
	const redisReply	*r;
	const char		*target, **argv;
	char			 idle[24];
	size_t			 i, n;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XPENDING")) == NULL)
		goto out;
	n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
	if (n == 0) {
		control_cdel_delete(op);
		goto out;
	}
	if ((target = control_consumer_ours(NULL)) == NULL) {
		control_fail(op, "no worker of this master is running to take "
		    "the pending entries of %s", op->o_req.r_consumer);
		goto out;
	}
	if ((argv = calloc(n + 9, sizeof(*argv))) == NULL) {
		control_fail(op, "out of memory");
		goto out;
	}
	argv[0] = "XCLAIM";
	argv[1] = control_env.ce_cf->cf_stream;
	argv[2] = control_env.ce_cf->cf_group;
	argv[3] = target;
	argv[4] = "0";
	for (i = 0; i < n; i++)
		argv[5 + i] = r->element[i]->type == REDIS_REPLY_ARRAY &&
		    r->element[i]->elements > 0 ? r->element[i]->element[0]->str :
		    "0-0";
	/* idle as if long unclaimed: the next claim sweep processes them */
	snprintf(idle, sizeof(idle), "%d", control_env.ce_cf->cf_claim_idle_ms + 1);
	argv[5 + n] = "IDLE";
	argv[6 + n] = idle;
	argv[7 + n] = "JUSTID";
	(void)control_redis_cmd(op, control_cdel_claimed_cb, op, (int)(n + 8),
	    argv, NULL);
	free(argv);
out:
	control_op_settle(op);
}

static void
control_cdel_claim(struct control_op *op)
{
	const char	*argv[] = { "XPENDING", control_env.ce_cf->cf_stream,
	    control_env.ce_cf->cf_group, "-", "+", CTL_CLAIM_MAX,
	    op->o_req.r_consumer };

	(void)control_redis_cmd(op, control_cdel_pending_cb, op, 7, argv, NULL);
}

/*
 * consumers delete: refuse a consumer a worker of ours runs as, and one that
 * holds pending entries unless --force, which first claims them (XCLAIM to
 * a running worker of ours, marked idle past claim_idle_ms so the next claim
 * sweep, or processorctl claim, processes them) so that XGROUP DELCONSUMER
 * drops nothing.
 */
static void
control_cdel_info_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op	*op = priv;
	const redisReply	*r, *e, *name;
	long long		 pending = -1;
	size_t			 i;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XINFO CONSUMERS")) == NULL)
		goto out;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		e = r->element[i];
		if ((name = control_xinfo_field(e, "name")) != NULL &&
		    name->type == REDIS_REPLY_STRING &&
		    strcmp(name->str, op->o_req.r_consumer) == 0)
			pending = control_redis_int(control_xinfo_field(e,
			    "pending"));
	}
	if (pending < 0)
		control_fail(op, "no consumer %s in group %s",
		    op->o_req.r_consumer, control_env.ce_cf->cf_group);
	else if (control_consumer_ours(op->o_req.r_consumer) != NULL)
		control_fail(op, "%s is a running worker of this master",
		    op->o_req.r_consumer);
	else if (pending > 0 && !op->o_req.r_all)
		control_fail(op, "%s holds %lld pending entries; --force claims "
		    "them to a worker of this master first", op->o_req.r_consumer,
		    pending);
	else if (pending > 0)
		control_cdel_claim(op);
	else
		control_cdel_delete(op);
out:
	control_op_settle(op);
}

void
control_consumers_delete(struct control_op *op)
{
	const char	*argv[] = { "XINFO", "CONSUMERS",
	    control_env.ce_cf->cf_stream, control_env.ce_cf->cf_group };

	(void)control_redis_cmd(op, control_cdel_info_cb, op, 4, argv, NULL);
}

/* ---- pending ----------------------------------------------------------- */

static void
control_pending_entries_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r, *e;
	json_t			*consumers, *c, *list;
	size_t			 i, j;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XPENDING")) == NULL)
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
			    "id", control_redis_str(e->element[0]),
			    "idle_ms", (json_int_t)control_redis_int(e->element[2]),
			    "deliveries",
			    (json_int_t)control_redis_int(e->element[3])));
			break;
		}
	}
out:
	control_op_settle(op);
}

/* XPENDING summary: [count, min, max, [[consumer, n], ...]]; then each consumer's oldest. */
static void
control_pending_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r, *cs;
	const char		*argv[8];
	char			 count[16];
	json_t			*list;
	size_t			 i;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XPENDING")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 4) {
		control_fail(op, "XPENDING: unexpected reply");
		goto out;
	}
	json_object_set_new(op->o_reply, "count",
	    json_integer(control_redis_int(r->element[0])));
	json_object_set_new(op->o_reply, "min", control_redis_str(r->element[1]));
	json_object_set_new(op->o_reply, "max", control_redis_str(r->element[2]));
	json_object_set_new(op->o_reply, "consumers", list = json_array());
	cs = r->element[3];
	snprintf(count, sizeof(count), "%ld", op->o_req.r_count);
	for (i = 0; cs->type == REDIS_REPLY_ARRAY && i < cs->elements; i++) {
		const redisReply *e = cs->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		json_array_append_new(list, json_pack("{s:o, s:I, s:[]}",
		    "name", control_redis_str(e->element[0]),
		    "pending", (json_int_t)control_redis_int(e->element[1]),
		    "oldest"));
		argv[0] = "XPENDING";
		argv[1] = control_env.ce_cf->cf_stream;
		argv[2] = control_env.ce_cf->cf_group;
		argv[3] = "-";
		argv[4] = "+";
		argv[5] = count;
		argv[6] = e->element[0]->str;
		if (control_redis_cmd(op, control_pending_entries_cb, op, 7, argv,
		    NULL) == -1)
			break;
	}
out:
	control_op_settle(op);
}

void
control_pending(struct control_op *op)
{
	const char		*argv[] = { "XPENDING", control_env.ce_cf->cf_stream,
	    control_env.ce_cf->cf_group };
	struct group_stats	 g;

	json_object_set_new(op->o_reply, "stream",
	    json_string(control_env.ce_cf->cf_stream));
	json_object_set_new(op->o_reply, "group",
	    json_string(control_env.ce_cf->cf_group));
	control_env.ce_m.cm_group(&g);
	if (g.gs_known)
		json_object_set_new(op->o_reply, "lag", json_integer(g.gs_lag));
	(void)control_redis_cmd(op, control_pending_cb, op, 3, argv, NULL);
}

/* ---- dead-letter queue ------------------------------------------------- */

/* A payload that is not UTF-8 as hex: printable and exact. */
static json_t *
control_payload_hex(const redisReply *v)
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
control_dlq_entry(const redisReply *e, int with_payload)
{
	const redisReply	*f, *k, *v;
	json_t			*o;
	size_t			 i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    (o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "dlq_id", control_redis_str(e->element[0]));
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
				    control_payload_hex(v));
			continue;
		}
		if (strcmp(k->str, "dlq_id") == 0)
			continue;
		json_object_set_new(o, k->str, control_redis_str(v));
	}
	return o;
}

static void
control_dlq_len_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XLEN")) != NULL)
		json_object_set_new(op->o_reply, "total",
		    json_integer(control_redis_int(r)));
	control_op_settle(op);
}

static void
control_dlq_list_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r;
	json_t			*e;
	size_t			 i;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XREVRANGE")) == NULL)
		goto out;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		if ((e = control_dlq_entry(r->element[i], 0)) != NULL)
			json_array_append_new(op->o_list, e);
out:
	control_op_settle(op);
}

void
control_dlq_list(struct control_op *op)
{
	char		 count[16];
	const char	*len[] = { "XLEN", rd.rd_dlq };
	const char	*argv[] = { "XREVRANGE", rd.rd_dlq, "+", "-", "COUNT",
	    count };

	snprintf(count, sizeof(count), "%ld", op->o_req.r_count);
	json_object_set_new(op->o_reply, "dlq", json_string(rd.rd_dlq));
	json_object_set_new(op->o_reply, "entries", op->o_list = json_array());
	if (control_redis_cmd(op, control_dlq_len_cb, op, 2, len, NULL) == 0)
		(void)control_redis_cmd(op, control_dlq_list_cb, op, 6, argv, NULL);
}

static void
control_dlq_show_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r;
	json_t			*e;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XRANGE")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    (e = control_dlq_entry(r->element[0], 1)) == NULL) {
		control_fail(op, "no entry %s in %s", op->o_req.r_ids[0], rd.rd_dlq);
		goto out;
	}
	json_object_set_new(op->o_reply, "entry", e);
out:
	control_op_settle(op);
}

void
control_dlq_show(struct control_op *op)
{
	const char	*argv[] = { "XRANGE", rd.rd_dlq, op->o_req.r_ids[0],
	    op->o_req.r_ids[0] };

	(void)control_redis_cmd(op, control_dlq_show_cb, op, 4, argv, NULL);
}

static void
control_replay_note(struct control_op *op, const char *id, const char *what,
    const char *why)
{
	json_array_append_new(op->o_list, json_pack("{s:s, s:s, s:s}", "id",
	    id, "result", what, "reason", why));
}

static void
control_replay_del_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_sub		*s = priv;
	struct control_op		*op = s->s_op;
	const redisReply	*r = reply;

	(void)ac;
	op->o_refs--;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		/* re-added but still in the DLQ: say so, a second replay would duplicate */
		op->o_n[N_FAILED]++;
		if (!op->o_done)
			control_replay_note(op, s->s_id, "failed", "replayed, but XDEL "
			    "from the dead-letter queue failed");
	} else
		op->o_n[N_REPLAYED]++;
	free(s);
	control_op_settle(op);
}

static void
control_replay_add_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_sub		*s = priv;
	struct control_op		*op = s->s_op;
	const redisReply	*r = reply;
	const char		*argv[] = { "XDEL", rd.rd_dlq, s->s_id };

	(void)ac;
	op->o_refs--;
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		op->o_n[N_FAILED]++;
		if (!op->o_done)
			control_replay_note(op, s->s_id, "failed", r ? r->str :
			    "Redis connection lost");
		free(s);
		control_op_settle(op);
		return;
	}
	/*
	 * Only now that the stream holds it again may the DLQ copy go; even
	 * after the reply timed out, or a later replay would add it twice.
	 */
	if (control_redis_cmd(op, control_replay_del_cb, s, 3, argv, NULL) == -1) {
		op->o_n[N_FAILED]++;
		free(s);
	}
	control_op_settle(op);
}

/* Re-add one DLQ entry's payload to the stream. */
static void
control_replay_entry(struct control_op *op, const redisReply *e)
{
	const redisReply	*f, *k, *v, *payload = NULL;
	struct control_sub		*s;
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
			plen = control_redis_int(v);
	}
	/* an entry that arrived without a payload field is stored with an empty one */
	if (payload == NULL || payload->len == 0 ||
	    (plen >= 0 && (size_t)plen != payload->len)) {
		op->o_n[N_SKIPPED]++;
		control_replay_note(op, e->element[0]->str, "skipped",
		    payload == NULL || payload->len == 0 ? "no payload" :
		    "payload was truncated in the dead-letter queue");
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		control_fail(op, "out of memory");
		return;
	}
	s->s_op = op;
	snprintf(s->s_id, sizeof(s->s_id), "%s", e->element[0]->str);
	argv[0] = "XADD";
	argv[1] = control_env.ce_cf->cf_stream;
	argv[2] = "*";
	argv[3] = "payload";
	argv[4] = payload->str;
	for (i = 0; i < 4; i++)
		argvlen[i] = strlen(argv[i]);
	argvlen[4] = payload->len;
	if (control_redis_cmd(op, control_replay_add_cb, s, 5, argv, argvlen) == -1)
		free(s);
}

static void
control_replay_range_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_sub		*s = priv;
	struct control_op		*op = s->s_op;
	const redisReply	*r;
	size_t			 i;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XRANGE")) == NULL)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || (r->elements == 0 && !op->o_req.r_all)) {
		op->o_n[N_SKIPPED]++;
		control_replay_note(op, s->s_id, "skipped", "not in the dead-letter "
		    "queue");
		goto out;
	}
	for (i = 0; i < r->elements && op->o_err[0] == '\0'; i++)
		control_replay_entry(op, r->element[i]);
	if (op->o_req.r_all)
		json_object_set_new(op->o_reply, "more",
		    json_boolean(r->elements >= CTL_REPLAY_ALL_MAX));
out:
	free(s);
	control_op_settle(op);
}

void
control_dlq_replay(struct control_op *op)
{
	struct control_sub	*s;
	char		 max[16];
	const char	*argv[6];
	size_t		 i, n = op->o_req.r_all ? 1 : op->o_req.r_nids;

	json_object_set_new(op->o_reply, "results", op->o_list = json_array());
	snprintf(max, sizeof(max), "%d", CTL_REPLAY_ALL_MAX);
	for (i = 0; i < n && op->o_err[0] == '\0'; i++) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			control_fail(op, "out of memory");
			break;
		}
		s->s_op = op;
		argv[0] = "XRANGE";
		argv[1] = rd.rd_dlq;
		if (op->o_req.r_all) {
			argv[2] = "-";
			argv[3] = "+";
			argv[4] = "COUNT";
			argv[5] = max;
		} else {
			snprintf(s->s_id, sizeof(s->s_id), "%s", op->o_req.r_ids[i]);
			argv[2] = argv[3] = s->s_id;
		}
		if (control_redis_cmd(op, control_replay_range_cb, s, op->o_req.r_all ?
		    6 : 4, argv, NULL) == -1)
			free(s);
	}
}

static void
control_dlq_purge_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct control_op		*op = priv;
	const redisReply	*r;

	(void)ac;
	if ((r = control_redis_reply(op, reply, "XTRIM")) != NULL)
		json_object_set_new(op->o_reply, "purged",
		    json_integer(control_redis_int(r)));
	control_op_settle(op);
}

void
control_dlq_purge(struct control_op *op)
{
	const char	*argv[] = { "XTRIM", rd.rd_dlq, "MINID", op->o_req.r_before };
	const char	*all[] = { "XTRIM", rd.rd_dlq, "MAXLEN", "0" };

	json_object_set_new(op->o_reply, "dlq", json_string(rd.rd_dlq));
	(void)control_redis_cmd(op, control_dlq_purge_cb, op, 4,
	    op->o_req.r_before[0] ? argv : all, NULL);
}

void
control_redis_stop(void)
{
	if (rd.rd_ac != NULL)
		redisAsyncFree(rd.rd_ac);	/* callbacks run with NULL replies */
	rd.rd_ac = NULL;
	rguard_free(rd.rd_guard);	/* after the connection: its records are gone */
	rd.rd_guard = NULL;
	free(rd.rd_url);
	rd.rd_url = NULL;
}
