/* Redis Stream consumer on hiredis async + libev: read, settle, reconnect. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "util/buf.h"
#include "conf/config.h"
#include "util/backoff.h"
#include "codec/codec.h"
#include "core/batch.h"
#include "core/consume.h"
#include "core/readbudget.h"
#include "util/redisconn.h"
#include "util/redisguard.h"
#include "util/redisurl.h"
#include "util/log.h"
#include "wire/metrics.h"

#define RECONNECT_MIN_S		0.1
#define RECONNECT_MAX_S		5.0
#define DLQ_PREFIX_MAX		65536	/* kept of a payload over max_payload */

struct consume {
	struct ev_loop		*c_loop;
	const struct config	*c_cf;
	char			 c_consumer[256];
	char			 c_dlq[512];
	struct redis_addr	 c_addr;
	const struct consume_cb	*c_cb;
	void			*c_arg;
	struct worker_stats	*c_stats;

	redisAsyncContext	*c_ac;
	int			 c_up;		/* connected and group ensured */
	int			 c_freeing;	/* consume_free under way */
	int			 c_had_group;	/* the group existed at least once */
	int			 c_history;	/* replaying our pending list */
	char			 c_cursor[64];	/* history position */
	char			 c_claim_cursor[64];	/* XAUTOCLAIM sweep position */
	int			 c_claim_idle;	/* this sweep's min-idle (control), 0: config */
	struct batch		*c_reading;	/* batch of the outstanding read */
	struct readbudget	 c_rb;		/* COUNT of the next read */
	int			 c_blocking;	/* that read waits (BLOCK) */
	long long		 c_client_id;	/* CLIENT ID, for CLIENT UNBLOCK; 0 unknown */
	struct backoff		 c_backoff;
	ev_timer		 c_reconnect;
	struct rguard		*c_guard;	/* a deadline on every wait */
	unsigned		 c_disconnects;	/* disconnect callbacks run */

	/* argv scratch for XACK/XADD, reused across settles */
	const char		**c_argv;
	size_t			*c_argvlen;
	size_t			 c_argcap;
	struct buf		 c_scratch;
};

static void	consume_connect(struct consume *);
static void	consume_ignore_cb(redisAsyncContext *, void *, void *);
static int	consume_argv_reserve(struct consume *, size_t);
static void	consume_push(struct consume *, int *, const char *, size_t);

static void
consume_set_up(struct consume *c, int up)
{
	c->c_up = up;
	if (up)
		c->c_stats->ws_flags |= WS_REDIS_UP;
	else
		c->c_stats->ws_flags &= ~(uint32_t)WS_REDIS_UP;
}

static void
consume_schedule_reconnect(struct consume *c)
{
	ev_timer_stop(c->c_loop, &c->c_reconnect);
	ev_timer_set(&c->c_reconnect, backoff_next(&c->c_backoff), 0.);
	ev_timer_start(c->c_loop, &c->c_reconnect);
}

static void
consume_reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	consume_connect(w->data);
}

/*
 * A Redis wait passed its deadline (the guard logged which): drop the
 * connection.  Every pending callback gets its NULL reply (a read ends
 * empty, a settle fails and is retried), and the disconnect callback
 * reconnects with backoff; unacknowledged entries stay pending.
 */
static void
consume_timed_out(void *arg, const char *what, double waited)
{
	struct consume		*c = arg;
	redisAsyncContext	*ac = c->c_ac;
	unsigned		 before;

	(void)what;
	(void)waited;
	c->c_stats->ws_redis_timeouts++;
	c->c_stats->ws_redis_errors++;
	c->c_stats->ws_flags |= WS_REDIS_TIMEDOUT;
	rguard_ready(c->c_guard);
	if (ac == NULL)
		return;
	before = c->c_disconnects;
	redisAsyncFree(ac);
	if (c->c_disconnects == before) {
		/* hiredis skips the disconnect callback before a connection is made */
		c->c_ac = NULL;
		consume_set_up(c, 0);
		consume_schedule_reconnect(c);
	}
}

/* "CMD of n entries FIRST..LAST": which wait the guard names in its log. */
static const char *
consume_what(char *out, size_t outsz, const char *cmd, const struct batch *b)
{
	if (b == NULL || b->b_n == 0)
		snprintf(out, outsz, "%s", cmd);
	else
		snprintf(out, outsz, "%s of %zu entries %s..%s", cmd, b->b_n,
		    batch_id(b, 0), batch_id(b, b->b_n - 1));
	return out;
}

static int
reply_is_error(const redisReply *r, const char *prefix)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, prefix, strlen(prefix)) == 0;
}

/* Whether an XINFO GROUPS reply ([[name, g, ...], ...]) lists group. */
static int
consume_group_listed(const redisReply *r, const char *group)
{
	size_t	i, j;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return 0;
	for (i = 0; i < r->elements; i++) {
		const redisReply *g = r->element[i];

		if (g->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < g->elements; j += 2)
			if (g->element[j]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[j]->str, "name") == 0 &&
			    g->element[j + 1]->type == REDIS_REPLY_STRING &&
			    strcmp(g->element[j + 1]->str, group) == 0)
				return 1;
	}
	return 0;
}

/* The group is there; created says whether we just made it. */
static void
consume_group_ready(struct consume *c, int created)
{
	if (created && c->c_had_group) {
		/* we created it, yet it existed before: Redis lost its data */
		c->c_stats->ws_group_recreated++;
		log_error("consumer group %s on %s was gone (Redis restarted "
		    "without its data?) and was recreated; entries published "
		    "before the loss and not yet read may be lost upstream",
		    c->c_cf->cf_group, c->c_cf->cf_stream);
	}
	c->c_had_group = 1;
	backoff_reset(&c->c_backoff);
	c->c_history = 1;
	snprintf(c->c_cursor, sizeof(c->c_cursor), "0");
	rguard_ready(c->c_guard);
	c->c_stats->ws_flags &= ~(uint32_t)WS_REDIS_TIMEDOUT;
	consume_set_up(c, 1);
	log_info("consuming stream %s group %s as %s", c->c_cf->cf_stream,
	    c->c_cf->cf_group, c->c_consumer);
	c->c_cb->cc_ready(c->c_arg);
}

static void
consume_group_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	redisReply	*r = reply;

	(void)ac;
	if (r == NULL)
		return;		/* disconnected; the disconnect callback handles it */
	if (r->type == REDIS_REPLY_ERROR && !reply_is_error(r, "BUSYGROUP")) {
		log_error("XGROUP CREATE %s %s failed: %s", c->c_cf->cf_stream,
		    c->c_cf->cf_group, r->str);
		c->c_stats->ws_redis_errors++;
		redisAsyncDisconnect(c->c_ac);
		return;
	}
	consume_group_ready(c, r->type != REDIS_REPLY_ERROR);
}

static void
consume_auth_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	redisReply	*r = reply;

	(void)ac;
	if (r != NULL && r->type == REDIS_REPLY_ERROR) {
		log_error("Redis AUTH/SELECT failed: %s", r->str);
		c->c_stats->ws_redis_errors++;
	}
}

static void
consume_send_group_create(struct consume *c)
{
	const char	*argv[] = { "XGROUP", "CREATE", c->c_cf->cf_stream,
	    c->c_cf->cf_group, c->c_cf->cf_start_id, "MKSTREAM" };

	rguard_argv(c->c_guard, c->c_ac, consume_group_cb, c, 0, "XGROUP CREATE",
	    6, argv, NULL);
}

/*
 * The name of a worker's Redis connection: "processor:<consumer>", with
 * anything CLIENT SETNAME refuses (spaces, controls) replaced by '_'.
 */
static void
consume_client_name(char *out, size_t outsz, const char *prefix, int slot)
{
	char	*c;

	if (slot < 0)
		snprintf(out, outsz, "processor:%s", prefix);
	else
		snprintf(out, outsz, "processor:%s-%d", prefix, slot);
	for (c = out; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			*c = '_';
}

/* Whether a CLIENT LIST text holds a connection named exactly name. */
static int
consume_listed_name(const char *list, const char *name)
{
	const char	*p = list;
	size_t		 n = strlen(name);

	while (p != NULL && (p = strstr(p, " name=")) != NULL) {
		p += 6;
		if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\n' ||
		    p[n] == '\r' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Our connection's id: stopping unblocks a waiting read with it. */
static void
consume_client_id_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	redisReply	*r = reply;

	(void)ac;
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		c->c_client_id = r->integer;
}

/*
 * XGROUP CREATE is refused with OOM by a Redis at maxmemory even when the
 * group exists, while reading and XACK still work: look before creating.
 */
static void
consume_groups_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;

	(void)ac;
	if (reply == NULL)
		return;		/* disconnected; the disconnect callback handles it */
	if (consume_group_listed(reply, c->c_cf->cf_group))
		consume_group_ready(c, 0);
	else
		consume_send_group_create(c);
}

static void
consume_ensure_group(struct consume *c)
{
	const char	*argv[] = { "XINFO", "GROUPS", c->c_cf->cf_stream };

	rguard_argv(c->c_guard, c->c_ac, consume_groups_cb, c, 0, "XINFO GROUPS",
	    3, argv, NULL);
}

static void
consume_connect_cb(const redisAsyncContext *ac, int status)
{
	struct consume	*c = ac->data;
	char		 name[300];

	if (status != REDIS_OK) {
		if (c->c_up || backoff_fresh(&c->c_backoff))
			log_warnx("cannot connect to Redis: %s", ac->errstr);
		rguard_ready(c->c_guard);
		c->c_ac = NULL;		/* hiredis frees it */
		c->c_stats->ws_redis_errors++;
		consume_schedule_reconnect(c);
		return;
	}
	log_info("connected to Redis");
	redisEnableKeepAlive(&c->c_ac->c);
	c->c_client_id = 0;
	rguard_command(c->c_guard, c->c_ac, consume_client_id_cb, c,
	    "CLIENT ID", "CLIENT ID");
	consume_client_name(name, sizeof(name), c->c_consumer, -1);
	rguard_command(c->c_guard, c->c_ac, consume_ignore_cb, NULL,
	    "CLIENT SETNAME", "CLIENT SETNAME %s", name);
	consume_ensure_group(c);
}

static void
consume_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct consume	*c = ac->data;
	int		 was_up = c->c_up;

	(void)status;
	c->c_disconnects++;
	c->c_ac = NULL;
	rguard_ready(c->c_guard);
	consume_set_up(c, 0);
	if (c->c_freeing)
		return;
	if (was_up) {
		log_warnx("lost the Redis connection%s%s",
		    ac->errstr[0] ? ": " : "", ac->errstr);
		c->c_cb->cc_down(c->c_arg);
	}
	consume_schedule_reconnect(c);
}

static void
consume_connect(struct consume *c)
{
	char	err[256];

	c->c_ac = redisconn_open(c->c_loop, &c->c_addr, consume_connect_cb,
	    consume_disconnect_cb, consume_auth_cb, c, c->c_guard, err,
	    sizeof(err));
	if (c->c_ac == NULL) {
		log_warnx("cannot connect to Redis: %s", err);
		consume_schedule_reconnect(c);
	}
}

struct consume *
consume_new(struct ev_loop *loop, const struct config *cf, const char *consumer,
    const struct consume_cb *cb, void *arg, struct worker_stats *stats)
{
	struct consume	*c;
	char		 err[256];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (redisurl_parse(cf->cf_redis_url, &c->c_addr, err, sizeof(err)) == -1) {
		log_error("redis url: %s", err);
		free(c);
		return NULL;
	}
	c->c_loop = loop;
	c->c_cf = cf;
	snprintf(c->c_consumer, sizeof(c->c_consumer), "%s", consumer);
	snprintf(c->c_dlq, sizeof(c->c_dlq), "%s:dlq", cf->cf_stream);
	c->c_cb = cb;
	c->c_arg = arg;
	c->c_stats = stats;
	backoff_init(&c->c_backoff, RECONNECT_MIN_S, RECONNECT_MAX_S);
	readbudget_init(&c->c_rb, cf->cf_read_budget, (size_t)cf->cf_batch_size,
	    cf->cf_max_payload);
	stats->ws_read_count = readbudget_count(&c->c_rb);
	snprintf(c->c_claim_cursor, sizeof(c->c_claim_cursor), "0-0");
	ev_timer_init(&c->c_reconnect, consume_reconnect_cb, 0., 0.);
	c->c_reconnect.data = c;
	c->c_guard = rguard_new(loop, cf->cf_command_timeout_ms / 1000.0,
	    cf->cf_connect_timeout_ms / 1000.0, consume_timed_out, c);
	if (c->c_guard == NULL) {
		log_error("consumer: out of memory");
		free(c);
		return NULL;
	}
	buf_init(&c->c_scratch);
	return c;
}

void
consume_free(struct consume *c)
{
	if (c == NULL)
		return;
	c->c_freeing = 1;	/* hiredis 0.14 cannot unset the disconnect callback */
	if (c->c_ac != NULL)
		redisAsyncFree(c->c_ac);	/* fails outstanding commands: callbacks run */
	ev_timer_stop(c->c_loop, &c->c_reconnect);
	rguard_free(c->c_guard);
	free(c->c_argv);
	free(c->c_argvlen);
	buf_free(&c->c_scratch);
	free(c);
}

void
consume_start(struct consume *c)
{
	consume_connect(c);
}

int
consume_is_up(const struct consume *c)
{
	return c->c_up;
}

int
consume_in_history(const struct consume *c)
{
	return c->c_history;
}

int
consume_reading(const struct consume *c)
{
	return c->c_reading != NULL;
}

/* Find the "payload" field in a flat [field, value, ...] array. */
static const redisReply *
consume_payload_field(const redisReply *fields)
{
	size_t	i;

	for (i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i];

		if (k->type == REDIS_REPLY_STRING && k->len == 7 &&
		    memcmp(k->str, "payload", 7) == 0)
			return fields->element[i + 1];
	}
	return NULL;
}

/* Bytes an entry took in the reply: its id and every field name and value. */
static size_t
consume_entry_bytes(const redisReply *id, const redisReply *fields)
{
	size_t	i, n = id->len;

	if (fields->type != REDIS_REPLY_ARRAY)
		return n;
	for (i = 0; i < fields->elements; i++)
		if (fields->element[i]->type == REDIS_REPLY_STRING)
			n += fields->element[i]->len;
	return n;
}

/*
 * A payload over max_payload can never be decoded: keep only the prefix
 * its dead letter stores, so that its bytes are not copied into the batch
 * (and its arena) before being thrown away.
 */
static int
consume_add_oversized(struct consume *c, struct batch *b, const redisReply *id,
    const redisReply *payload)
{
	char	msg[128];
	size_t	keep = payload->len < DLQ_PREFIX_MAX ? payload->len :
	    DLQ_PREFIX_MAX;

	c->c_stats->ws_oversized++;
	snprintf(msg, sizeof(msg), "payload of %zu bytes exceeds the limit of "
	    "%zu", payload->len, c->c_cf->cf_max_payload);
	if (batch_add_truncated(b, id->str, id->len, payload->str, keep,
	    payload->len) == -1)
		return -1;
	return batch_poison(b, b->b_n - 1, DLQ_STAGE_DECODE,
	    codec_reason_code(CODEC_TOO_LARGE), msg);
}

/* Add one [id, fields] entry to b; *bytes gets its size in the reply. */
static int
consume_add_entry(struct consume *c, struct batch *b, const redisReply *e,
    size_t *bytes)
{
	const redisReply	*id, *fields, *payload;

	*bytes = 0;
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return -1;
	id = e->element[0];
	fields = e->element[1];
	*bytes = consume_entry_bytes(id, fields);
	if (fields->type == REDIS_REPLY_NIL) {
		/* trimmed or XDEL'd while pending: ACK it, never dereference */
		c->c_stats->ws_trimmed++;
		return batch_add(b, id->str, id->len, NULL, 0);
	}
	if (fields->type != REDIS_REPLY_ARRAY)
		return -1;
	payload = consume_payload_field(fields);
	if (payload == NULL || payload->type != REDIS_REPLY_STRING) {
		if (batch_add(b, id->str, id->len, "", 0) == -1)
			return -1;
		return batch_poison(b, b->b_n - 1, DLQ_STAGE_DECODE,
		    "missing_payload", "entry has no 'payload' field");
	}
	if (payload->len > c->c_cf->cf_max_payload)
		return consume_add_oversized(c, b, id, payload);
	return batch_add(b, id->str, id->len, payload->str, payload->len);
}

/*
 * How far behind the stream this '>' read is (ws_read_age_ms, which the
 * master turns into the evaluators' backlog signal): the age of its newest
 * entry, by the XADD time in its id, when the read filled its COUNT (more
 * entries were waiting); 0 when it got fewer (it reached the stream's
 * end: whatever it read, nothing newer waits).  The newest entry, not the
 * oldest: a read that met a burst of a few seconds' entries at the end of
 * the stream is not behind.  Called before readbudget_observe resizes
 * the COUNT the read asked for.
 */
static void
consume_read_age(struct consume *c, const redisReply *entries)
{
	const redisReply	*e;
	long long		 now_ms, id_ms;

	c->c_stats->ws_read_age_ms = 0;
	if (entries->elements == 0 ||
	    entries->elements < readbudget_count(&c->c_rb))
		return;
	e = entries->element[entries->elements - 1];
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
	    e->element[0]->type != REDIS_REPLY_STRING)
		return;
	id_ms = strtoll(e->element[0]->str, NULL, 10);
	now_ms = (long long)(ev_time() * 1000.0);
	if (id_ms > 0 && now_ms > id_ms)
		c->c_stats->ws_read_age_ms = now_ms - id_ms;
}

/*
 * Add a reply's entries to b, then size the next read after them: the
 * largest entry of this reply decides how many the next may ask for.
 * hiredis 0.14's own read buffer needs no help: it holds about one
 * unparsed entry at a time, and redisReaderFeed frees it once it is empty
 * and larger than maxbuf (16 KiB, left at its default), i.e. with the next
 * reply (read.c).
 */
static int
consume_add_entries(struct consume *c, struct batch *b,
    const redisReply *entries)
{
	size_t	i, bytes, largest = 0;

	for (i = 0; i < entries->elements; i++) {
		if (consume_add_entry(c, b, entries->element[i], &bytes) == -1)
			return -1;
		c->c_stats->ws_read_bytes += bytes;
		if (bytes > largest)
			largest = bytes;
	}
	if (!c->c_history)
		consume_read_age(c, entries);
	readbudget_observe(&c->c_rb, entries->elements, largest);
	c->c_stats->ws_read_count = readbudget_count(&c->c_rb);
	return 0;
}

/* Reply shape: nil on timeout, else [[stream, [[id, fields|nil], ...]]]. */
static int
consume_parse_read(struct consume *c, struct batch *b, const redisReply *r)
{
	const redisReply	*entries;

	if (r->type == REDIS_REPLY_NIL) {
		if (!c->c_history)	/* BLOCK ran out: nothing waits */
			c->c_stats->ws_read_age_ms = 0;
		return 0;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->elements != 2)
		return -1;
	entries = r->element[0]->element[1];
	if (entries->type != REDIS_REPLY_ARRAY)
		return -1;
	return consume_add_entries(c, b, entries);
}

static void
consume_group_lost(struct consume *c)
{
	log_warnx("XREADGROUP: NOGROUP: recreating consumer group %s on %s",
	    c->c_cf->cf_group, c->c_cf->cf_stream);
	c->c_history = 1;
	snprintf(c->c_cursor, sizeof(c->c_cursor), "0");
	consume_send_group_create(c);
}

static void
consume_deliver(struct consume *c, struct batch *b, int err)
{
	c->c_reading = NULL;
	if (err)
		batch_reset(b);
	b->b_read_at = ev_now(c->c_loop);
	c->c_stats->ws_consumed += b->b_n;
	c->c_cb->cc_batch(c->c_arg, b, err);
}

/* Stream ids order by ms, then seq: "10-0" < "9-1" as strings, not as ids. */
static int
consume_id_cmp(const char *a, const char *b)
{
	unsigned long long	ams, aseq = 0, bms, bseq = 0;
	char			*end;

	ams = strtoull(a, &end, 10);
	if (*end == '-')
		aseq = strtoull(end + 1, NULL, 10);
	bms = strtoull(b, &end, 10);
	if (*end == '-')
		bseq = strtoull(end + 1, NULL, 10);
	if (ams != bms)
		return ams < bms ? -1 : 1;
	return aseq < bseq ? -1 : aseq > bseq;
}

/*
 * XPENDING extended reply: [[id, owner, idle-ms, times-delivered], ...] in
 * id order, as is the batch.  Either list may hold ids the other lacks (an
 * entry ACKed or claimed in between, a malformed row): walk both by id, so
 * one stray id never leaves the later entries at 0 deliveries.
 */
void
consume_match_deliveries(struct batch *b, const redisReply *r)
{
	size_t	i = 0, j = 0;
	int	cmp;

	while (i < b->b_n && j < r->elements) {
		const redisReply *e = r->element[j];

		if (e->type != REDIS_REPLY_ARRAY || e->elements < 4 ||
		    e->element[0]->type != REDIS_REPLY_STRING) {
			j++;
			continue;
		}
		cmp = consume_id_cmp(batch_id(b, i), e->element[0]->str);
		if (cmp < 0) {
			i++;
			continue;
		}
		if (cmp == 0 && e->element[3]->type == REDIS_REPLY_INTEGER)
			b->b_entries[i].be_deliveries =
			    (uint32_t)e->element[3]->integer;
		if (cmp == 0)
			i++;
		j++;
	}
}

static void
consume_counts_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	struct batch	*b = c->c_reading;
	redisReply	*r = reply;

	(void)ac;
	if (r == NULL) {
		consume_deliver(c, b, -1);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		/* counts are an aid, not a condition: go on without them */
		log_warnx("XPENDING failed: %s", r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
		consume_deliver(c, b, 0);
		return;
	}
	consume_match_deliveries(b, r);
	consume_deliver(c, b, 0);
}

/*
 * Entries we have seen before (our pending list, or claimed from another
 * consumer) may be the ones that kill workers: learn how often each was
 * delivered so the pipeline can dead-letter those past max_deliveries.
 */
static void
consume_send_counts(struct consume *c, struct batch *b)
{
	char		 count[16];
	const char	*argv[] = { "XPENDING", c->c_cf->cf_stream, c->c_cf->cf_group,
	    batch_id(b, 0), batch_id(b, b->b_n - 1), count, c->c_consumer };

	char		 what[128];

	snprintf(count, sizeof(count), "%zu", b->b_n);
	if (rguard_argv(c->c_guard, c->c_ac, consume_counts_cb, c, 0,
	    consume_what(what, sizeof(what), "XPENDING", b), 7, argv,
	    NULL) != REDIS_OK)
		consume_deliver(c, b, -1);
}

static void
consume_read_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	redisReply	*r = reply;
	struct batch	*b = c->c_reading;
	int		 err = 0;

	(void)ac;
	c->c_blocking = 0;
	if (r == NULL) {
		err = -1;
	} else if (reply_is_error(r, "NOGROUP")) {
		consume_group_lost(c);
		err = -1;
	} else if (r->type == REDIS_REPLY_ERROR) {
		log_error("XREADGROUP failed: %s", r->str);
		c->c_stats->ws_redis_errors++;
		err = -1;
	} else if (consume_parse_read(c, b, r) == -1) {
		log_error("XREADGROUP returned a reply of an unexpected shape");
		c->c_stats->ws_redis_errors++;
		err = -1;
	}
	if (err || !b->b_history) {
		size_t	i;

		for (i = 0; !err && i < b->b_n; i++)	/* a '>' read is the first delivery */
			b->b_entries[i].be_deliveries = 1;
		consume_deliver(c, b, err);
		return;
	}
	if (b->b_n == 0) {
		c->c_history = 0;
		log_info("pending entries of %s replayed; reading new entries",
		    c->c_consumer);
		consume_deliver(c, b, 0);
		return;
	}
	snprintf(c->c_cursor, sizeof(c->c_cursor), "%s", batch_id(b, b->b_n - 1));
	consume_send_counts(c, b);
}

/* XAUTOCLAIM reply (Redis 7): [next-cursor, [[id, fields], ...], [deleted-id, ...]]. */
static int
consume_parse_claim(struct consume *c, struct batch *b, const redisReply *r)
{
	const redisReply	*entries;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY)
		return -1;
	snprintf(c->c_claim_cursor, sizeof(c->c_claim_cursor), "%s",
	    r->element[0]->str);
	entries = r->element[1];
	if (consume_add_entries(c, b, entries) == -1)
		return -1;
	/* ids gone from the stream were dropped from the PEL by Redis itself */
	if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY)
		c->c_stats->ws_trimmed += r->element[2]->elements;
	c->c_stats->ws_claimed += b->b_n;
	return 0;
}

static void
consume_claim_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct consume	*c = priv;
	redisReply	*r = reply;
	struct batch	*b = c->c_reading;

	(void)ac;
	if (r == NULL || reply_is_error(r, "NOGROUP") ||
	    r->type == REDIS_REPLY_ERROR || consume_parse_claim(c, b, r) == -1) {
		if (r != NULL && r->type == REDIS_REPLY_ERROR)
			log_error("XAUTOCLAIM failed: %s", r->str);
		if (r != NULL)
			c->c_stats->ws_redis_errors++;
		snprintf(c->c_claim_cursor, sizeof(c->c_claim_cursor), "0-0");
		c->c_claim_idle = 0;
		consume_deliver(c, b, -1);
		return;
	}
	if (b->b_n > 0)
		log_info("claimed %zu entries idle for more than %d ms from other "
		    "consumers", b->b_n, c->c_claim_idle > 0 ? c->c_claim_idle :
		    c->c_cf->cf_claim_idle_ms);
	if (consume_claim_finished(c))
		c->c_claim_idle = 0;
	b->b_history = 1;	/* seen before: check delivery counts */
	if (b->b_n == 0)
		consume_deliver(c, b, 0);
	else
		consume_send_counts(c, b);
}

int
consume_claim(struct consume *c, struct batch *b)
{
	char		 idle[16], count[16], what[96];
	const char	*argv[] = { "XAUTOCLAIM", c->c_cf->cf_stream,
	    c->c_cf->cf_group, c->c_consumer, idle, c->c_claim_cursor, "COUNT",
	    count };

	if (!c->c_up || c->c_ac == NULL || c->c_reading != NULL)
		return -1;
	snprintf(idle, sizeof(idle), "%d", c->c_claim_idle > 0 ?
	    c->c_claim_idle : c->c_cf->cf_claim_idle_ms);
	snprintf(count, sizeof(count), "%zu", readbudget_count(&c->c_rb));
	snprintf(what, sizeof(what), "XAUTOCLAIM from %s", c->c_claim_cursor);
	if (rguard_argv(c->c_guard, c->c_ac, consume_claim_cb, c, 0, what, 8,
	    argv, NULL) != REDIS_OK)
		return -1;
	c->c_reading = b;
	return 0;
}

int
consume_claim_finished(const struct consume *c)
{
	return strcmp(c->c_claim_cursor, "0-0") == 0;
}

void
consume_claim_idle(struct consume *c, int idle_ms)
{
	c->c_claim_idle = idle_ms > 0 ? idle_ms : 0;
}

static void
consume_renew_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply	*r = reply;

	(void)ac;
	(void)priv;
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warnx("XCLAIM lease renewal failed: %s", r->str);
}

/*
 * Entries we hold while PostgreSQL is slow or down go idle in the PEL; a
 * sweeper elsewhere would claim them and bump their delivery count until
 * valid records hit the delivery limit.  XCLAIM ... 0 JUSTID resets idle
 * without counting a delivery.
 */
int
consume_renew(struct consume *c, const struct batch *b)
{
	char	what[128];
	size_t	i;
	int	argc = 0;

	if (!c->c_up || c->c_ac == NULL || b->b_n == 0)
		return -1;
	if (consume_argv_reserve(c, b->b_n + 8) == -1)
		return -1;
	consume_push(c, &argc, "XCLAIM", 6);
	consume_push(c, &argc, c->c_cf->cf_stream, strlen(c->c_cf->cf_stream));
	consume_push(c, &argc, c->c_cf->cf_group, strlen(c->c_cf->cf_group));
	consume_push(c, &argc, c->c_consumer, strlen(c->c_consumer));
	consume_push(c, &argc, "0", 1);
	for (i = 0; i < b->b_n; i++)
		consume_push(c, &argc, batch_id(b, i), strlen(batch_id(b, i)));
	consume_push(c, &argc, "JUSTID", 6);
	return rguard_argv(c->c_guard, c->c_ac, consume_renew_cb, NULL, 0,
	    consume_what(what, sizeof(what), "XCLAIM lease renewal", b), argc,
	    c->c_argv, c->c_argvlen) == REDIS_OK ? 0 : -1;
}

int
consume_read(struct consume *c, struct batch *b)
{
	char		 count[16], block[16];
	const char	*argv[11];
	char		 what[128];
	int		 argc = 0;

	if (!c->c_up || c->c_ac == NULL || c->c_reading != NULL)
		return -1;
	/*
	 * Our pending list after a restart may hold the entry that killed us.
	 * Every read of an entry counts a delivery, so replay it one entry per
	 * batch: each entry commits before the next is read, and only the killer's
	 * count grows towards max_deliveries, never its innocent neighbours'.
	 */
	snprintf(count, sizeof(count), "%zu", c->c_history ? 1 :
	    readbudget_count(&c->c_rb));
	snprintf(block, sizeof(block), "%d", c->c_cf->cf_block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = c->c_cf->cf_group;
	argv[argc++] = c->c_consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	if (!c->c_history) {	/* a history read returns at once: no BLOCK */
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	argv[argc++] = c->c_cf->cf_stream;
	argv[argc++] = c->c_history ? c->c_cursor : ">";
	/* a read may wait BLOCK for entries: its deadline starts after that */
	if (c->c_history)
		snprintf(what, sizeof(what), "XREADGROUP of pending entries "
		    "after %s", c->c_cursor);
	else
		snprintf(what, sizeof(what), "XREADGROUP BLOCK %d",
		    c->c_cf->cf_block_ms);
	if (rguard_argv(c->c_guard, c->c_ac, consume_read_cb, c,
	    c->c_history ? 0 : c->c_cf->cf_block_ms / 1000.0, what, argc, argv,
	    NULL) != REDIS_OK)
		return -1;
	b->b_history = c->c_history;
	c->c_reading = b;
	c->c_blocking = !c->c_history;
	return 0;
}

static int
consume_argv_reserve(struct consume *c, size_t n)
{
	const char	**argv;
	size_t		 *lens;

	if (n <= c->c_argcap)
		return 0;
	if ((argv = realloc(c->c_argv, n * sizeof(*argv))) == NULL)
		return -1;
	c->c_argv = argv;
	if ((lens = realloc(c->c_argvlen, n * sizeof(*lens))) == NULL)
		return -1;
	c->c_argvlen = lens;
	c->c_argcap = n;
	return 0;
}

static void
consume_ignore_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	(void)ac;
	(void)reply;
	(void)priv;
}

static void
consume_failed_at(char *out, size_t outsz)
{
	struct timespec	ts;
	struct tm	tm;
	char		base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outsz, "%s.%03ldZ", base, ts.tv_nsec / 1000000L);
}

static void
consume_push(struct consume *c, int *argc, const char *s, size_t n)
{
	c->c_argv[*argc] = s;
	c->c_argvlen[*argc] = n;
	(*argc)++;
}

#define PUSHS(s)	consume_push(c, &argc, (s), strlen(s))

/* XADD <dlq> MAXLEN ~ N * id .. payload .. error .. reason .. stage .. consumer .. failed_at .. deliveries .. */
/*
 * A dead letter is written only by the consumer that still holds the entry,
 * and acknowledged in the same atomic step: an entry another consumer
 * claimed meanwhile is dead-lettered by that one alone, and a retry after a
 * lost reply finds the entry settled and writes nothing (each poison entry
 * once in the DLQ).  The XACK comes after the XADD, so a refused XADD
 * (WRONGTYPE, OOM) aborts the script with the entry still pending.
 * KEYS: stream, dlq; ARGV: group, consumer, id, maxlen, field, value, ...
 * Returns 1 stored, 0 not ours (any more).
 */
static const char consume_dlq_script[] =
	"local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], "
	"1, ARGV[2]) "
	"if #p == 0 then return 0 end "
	"redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', "
	"unpack(ARGV, 5)) "
	"redis.call('XACK', KEYS[1], ARGV[1], ARGV[3]) "
	"return 1";

static int
consume_send_dlq(struct consume *c, const struct batch *b, size_t i,
    const char *failed_at)
{
	const struct batch_entry *e = &b->b_entries[i];
	char		 maxlen[24], deliveries[16], plen[24], what[128];
	int		 argc = 0;

	snprintf(maxlen, sizeof(maxlen), "%ld", c->c_cf->cf_dlq_maxlen);
	snprintf(deliveries, sizeof(deliveries), "%u", e->be_deliveries);
	snprintf(plen, sizeof(plen), "%zu", e->be_orig_len);
	PUSHS("EVAL"); PUSHS(consume_dlq_script); PUSHS("2");
	PUSHS(c->c_cf->cf_stream); PUSHS(c->c_dlq);
	PUSHS(c->c_cf->cf_group); PUSHS(c->c_consumer); PUSHS(batch_id(b, i));
	PUSHS(maxlen);
	PUSHS("id"); PUSHS(batch_id(b, i));
	PUSHS("payload");
	/*
	 * Whatever fits max_payload is stored whole, so a replay after the fix
	 * sends the same bytes; a payload over it could never be replayed and
	 * was cut to a prefix when read (payload_len says how long it was).
	 */
	consume_push(c, &argc, batch_payload(b, i), e->be_payload_len);
	PUSHS("payload_len"); PUSHS(plen);
	PUSHS("error"); PUSHS(batch_error(b, i));
	PUSHS("reason"); PUSHS(e->be_reason ? e->be_reason : "unknown");
	PUSHS("stage"); PUSHS(dlq_stage_name(e->be_stage));
	if (e->be_sqlstate[0] != '\0') {
		PUSHS("sqlstate"); PUSHS(e->be_sqlstate);
	}
	PUSHS("consumer"); PUSHS(c->c_consumer);
	PUSHS("failed_at"); PUSHS(failed_at);
	PUSHS("deliveries"); PUSHS(deliveries);
	snprintf(what, sizeof(what), "dead letter of entry %s (in MULTI)",
	    batch_id(b, i));
	return rguard_argv(c->c_guard, c->c_ac, consume_ignore_cb, NULL, 0,
	    what, argc, c->c_argv, c->c_argvlen) == REDIS_OK ? 0 : -1;
}

#undef PUSHS

/* One line per dead letter stored or refused, with the entry and reason. */
static void
consume_log_dlq(const struct batch *b, size_t i, const char *refused)
{
	struct log_fields	f;

	log_fields_init(&f);
	log_fields_str(&f, "entry", batch_id(b, i));
	log_fields_str(&f, "reason", b->b_entries[i].be_reason);
	if (refused != NULL) {
		log_fields_str(&f, "redis_error", refused);
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "XADD to the DLQ "
		    "failed for entry %s: %s; the entry stays pending",
		    batch_id(b, i), refused);
	} else
		log_emit(LOG_LVL_ERROR, log_fields_get(&f),
		    "dead-lettered entry %s (%s): %s", batch_id(b, i),
		    b->b_entries[i].be_reason, batch_error(b, i));
}

static void
consume_ack_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct batch	*b = priv;
	struct consume	*c = ac->data;
	redisReply	*r = reply;

	if (r == NULL) {
		c->c_cb->cc_settled(c->c_arg, b, -1);
		return;
	}
	if (r->type != REDIS_REPLY_INTEGER) {
		log_error("XACK settling a batch failed: %s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		c->c_stats->ws_redis_errors++;
		c->c_cb->cc_settled(c->c_arg, b, -1);
		return;
	}
	c->c_stats->ws_acked += b->b_n;
	c->c_cb->cc_settled(c->c_arg, b, 0);
}

static int
consume_send_xack(struct consume *c, struct batch *b)
{
	char	what[128];
	size_t	i;
	int	argc = 0;

	if (consume_argv_reserve(c, b->b_n + 8) == -1)
		return -1;
	consume_push(c, &argc, "XACK", 4);
	consume_push(c, &argc, c->c_cf->cf_stream, strlen(c->c_cf->cf_stream));
	consume_push(c, &argc, c->c_cf->cf_group, strlen(c->c_cf->cf_group));
	for (i = 0; i < b->b_n; i++)
		consume_push(c, &argc, batch_id(b, i), strlen(batch_id(b, i)));
	return rguard_argv(c->c_guard, c->c_ac, consume_ack_cb, b, 0,
	    consume_what(what, sizeof(what), "XACK", b), argc, c->c_argv,
	    c->c_argvlen) == REDIS_OK ? 0 : -1;
}

/*
 * EXEC answers an array even when a command inside failed at run time
 * (WRONGTYPE on a <stream>:dlq of another type): read every reply.  The
 * k-th reply belongs to the k-th entry marked DLQ_SENT, in batch order.
 */
static int
consume_dlq_replies(struct consume *c, struct batch *b, const redisReply *r)
{
	size_t		 i, k = 0;
	int		 failed = 0;

	for (i = 0; i < b->b_n; i++) {
		struct batch_entry *e = &b->b_entries[i];
		const redisReply *x;

		if (e->be_status != ENTRY_POISON || e->be_dlq != DLQ_SENT)
			continue;
		x = k < r->elements ? r->element[k] : NULL;
		k++;
		if (x != NULL && x->type == REDIS_REPLY_INTEGER) {
			e->be_dlq = DLQ_STORED;
			if (x->integer == 1) {
				c->c_stats->ws_dead_lettered++;
				consume_log_dlq(b, i, NULL);
			} else
				log_info("entry %s is no longer ours (claimed, or "
				    "settled by a lost reply): no dead letter from "
				    "%s", batch_id(b, i), c->c_consumer);
			continue;
		}
		e->be_dlq = DLQ_NONE;
		failed = 1;
		c->c_stats->ws_redis_errors++;
		consume_log_dlq(b, i, x != NULL && x->type == REDIS_REPLY_ERROR ?
		    x->str : "no reply");
	}
	return failed ? -1 : 0;
}

static void
consume_dlq_cb(redisAsyncContext *ac, void *reply, void *priv)
{
	struct batch	*b = priv;
	struct consume	*c = ac->data;
	redisReply	*r = reply;
	size_t		 i;

	if (r != NULL && r->type != REDIS_REPLY_ARRAY) {
		/* EXECABORT (OOM at queue time) or nil: nothing was stored */
		log_error("MULTI/EXEC of %s failed: %s; the batch stays pending",
		    c->c_dlq, r->type == REDIS_REPLY_ERROR ? r->str : "aborted");
		c->c_stats->ws_redis_errors++;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		for (i = 0; i < b->b_n; i++)
			if (b->b_entries[i].be_dlq == DLQ_SENT)
				b->b_entries[i].be_dlq = DLQ_NONE;
		c->c_cb->cc_settled(c->c_arg, b, -1);
		return;
	}
	if (consume_dlq_replies(c, b, r) == -1 || consume_send_xack(c, b) == -1)
		c->c_cb->cc_settled(c->c_arg, b, -1);
}

/* Queue MULTI, a dead-letter script per poison entry not stored yet, EXEC.  Returns how many, or -1. */
static int
consume_send_dead_letters(struct consume *c, struct batch *b)
{
	char		 failed_at[64], what[160];
	const char	*exec = "EXEC";
	size_t		 i;
	int		 n = 0;

	consume_failed_at(failed_at, sizeof(failed_at));
	for (i = 0; i < b->b_n; i++) {
		struct batch_entry *e = &b->b_entries[i];

		if (e->be_status != ENTRY_POISON || e->be_dlq != DLQ_NONE)
			continue;
		if (n == 0 && rguard_command(c->c_guard, c->c_ac,
		    consume_ignore_cb, NULL, consume_what(what, sizeof(what),
		    "MULTI (dead letters)", b), "MULTI") != REDIS_OK)
			return -1;
		if (consume_send_dlq(c, b, i, failed_at) == -1)
			goto discard;
		e->be_dlq = DLQ_SENT;
		n++;
	}
	if (n == 0)
		return 0;
	snprintf(what, sizeof(what), "EXEC of %d dead letters (", n);
	consume_what(what + strlen(what), sizeof(what) - strlen(what), "batch",
	    b);
	snprintf(what + strlen(what), sizeof(what) - strlen(what), ")");
	if (rguard_argv(c->c_guard, c->c_ac, consume_dlq_cb, b, 0, what, 1,
	    &exec, NULL) != REDIS_OK)
		goto discard;
	return n;
discard:
	/* never leave the connection inside a transaction */
	rguard_command(c->c_guard, c->c_ac, consume_ignore_cb, NULL, "DISCARD",
	    "DISCARD");
	for (i = 0; i < b->b_n; i++)
		if (b->b_entries[i].be_dlq == DLQ_SENT)
			b->b_entries[i].be_dlq = DLQ_NONE;
	return -1;
}

/*
 * Settling is two steps so that no poison entry is ACKed without its dead
 * letter: the XADDs go first, in one MULTI/EXEC whose every reply is
 * checked, and the XACK of the whole batch follows only once each dead
 * letter is stored.  A retry sends only the dead letters not stored yet, so
 * the DLQ holds each entry once.  cc_settled reports the outcome.
 */
int
consume_settle(struct consume *c, struct batch *b)
{
	int	n;

	if (!c->c_up || c->c_ac == NULL)
		return -1;
	if (consume_argv_reserve(c, 32) == -1)
		return -1;
	if ((n = consume_send_dead_letters(c, b)) == -1)
		return -1;
	if (n > 0)
		return 0;	/* consume_dlq_cb sends the XACK */
	return consume_send_xack(c, b);
}

static redisContext *
consume_sync_connect(const struct redis_addr *ra, char *err, size_t errlen)
{
	struct timeval	 tv = { 5, 0 };
	redisContext	*rc;

	if (ra->ra_path[0] != '\0')
		rc = redisConnectUnixWithTimeout(ra->ra_path, tv);
	else
		rc = redisConnectWithTimeout(ra->ra_host, ra->ra_port, tv);
	if (rc == NULL || rc->err) {
		snprintf(err, errlen, "cannot connect to Redis: %s",
		    rc ? rc->errstr : "out of memory");
		redisFree(rc);
		return NULL;
	}
	redisSetTimeout(rc, tv);
	return rc;
}

static int
consume_sync_command(redisContext *rc, char *err, size_t errlen,
    const char *what, int argc, const char **argv)
{
	redisReply	*r = redisCommandArgv(rc, argc, argv, NULL);
	int		 ret = 0;

	if (r == NULL) {
		snprintf(err, errlen, "%s failed: %s", what, rc->errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
		snprintf(err, errlen, "%s failed: %s", what, r->str);
		ret = -1;
	}
	freeReplyObject(r);
	return ret;
}

/* AUTH and SELECT on a synchronous connection, as the URL says. */
static int
consume_sync_login(redisContext *rc, const struct redis_addr *ra, char *err,
    size_t errlen)
{
	const char	*auth[] = { "AUTH", NULL, NULL };
	const char	*sel[] = { "SELECT", NULL };
	char		 db[16];
	int		 n = 2;

	if (ra->ra_password[0] != '\0') {
		auth[1] = ra->ra_user[0] ? ra->ra_user : ra->ra_password;
		if (ra->ra_user[0]) {
			auth[2] = ra->ra_password;
			n = 3;
		}
		if (consume_sync_command(rc, err, errlen, "AUTH", n, auth) == -1)
			return -1;
	}
	snprintf(db, sizeof(db), "%d", ra->ra_db);
	sel[1] = db;
	if (ra->ra_db != 0 &&
	    consume_sync_command(rc, err, errlen, "SELECT", 2, sel) == -1)
		return -1;
	return 0;
}

/*
 * Stopping while a read waits in BLOCK would wait the block out (seconds
 * of an idle shutdown).  CLIENT UNBLOCK from a second, short-lived
 * connection ends the wait as a timeout: Redis answers nil, no entry was
 * handed over, nothing is left pending.  Best effort: on any failure the
 * read simply ends at its BLOCK timeout, as before.
 */
void
consume_interrupt(struct consume *c)
{
	const char	*argv[] = { "CLIENT", "UNBLOCK", NULL };
	char		 id[24], err[256];
	redisContext	*rc;

	if (c->c_reading == NULL || !c->c_blocking || c->c_client_id <= 0)
		return;
	snprintf(id, sizeof(id), "%lld", c->c_client_id);
	argv[2] = id;
	if ((rc = consume_sync_connect(&c->c_addr, err, sizeof(err))) == NULL ||
	    consume_sync_login(rc, &c->c_addr, err, sizeof(err)) == -1 ||
	    consume_sync_command(rc, err, sizeof(err), "CLIENT UNBLOCK", 3,
	    argv) == -1)
		log_debug("cannot interrupt the waiting read: %s", err);
	redisFree(rc);
}

/* A synchronous connection, logged in as the URL says; NULL with err. */
static redisContext *
consume_sync_open(const struct config *cf, char *err, size_t errlen)
{
	struct redis_addr	 ra;
	redisContext		*rc;

	if (redisurl_parse(cf->cf_redis_url, &ra, err, errlen) == -1)
		return NULL;
	if ((rc = consume_sync_connect(&ra, err, errlen)) == NULL)
		return NULL;
	if (consume_sync_login(rc, &ra, err, errlen) == -1) {
		redisFree(rc);
		return NULL;
	}
	return rc;
}

int
consume_ensure_group_sync(const struct config *cf, char *err, size_t errlen)
{
	redisContext		*rc;
	const char		*create[] = { "XGROUP", "CREATE", cf->cf_stream,
	    cf->cf_group, cf->cf_start_id, "MKSTREAM" };
	const char		*info[] = { "XINFO", "GROUPS", cf->cf_stream };
	redisReply		*r;
	int			 ret, listed;

	if ((rc = consume_sync_open(cf, err, errlen)) == NULL)
		return -1;
	/* look first: a Redis at maxmemory refuses XGROUP CREATE with OOM */
	r = redisCommandArgv(rc, 3, info, NULL);
	listed = consume_group_listed(r, cf->cf_group);
	freeReplyObject(r);
	if (listed)
		ret = 0;
	else
		ret = consume_sync_command(rc, err, errlen, "XGROUP CREATE", 6,
		    create);
	redisFree(rc);
	return ret;
}

/*
 * Whether another process reads as one of our consumer names now (another
 * master with the same consumer_prefix would share its pending lists).
 * Every worker names its Redis connection after its consumer (CLIENT
 * SETNAME), and a dead process's connection is gone, so CLIENT LIST tells
 * who is alive; Redis 7.0's idle time cannot, since a read that finds
 * nothing does not reset it.  1 in use (err names it), 0 free, -1 on a
 * Redis error.
 */
int
consume_in_use_sync(const struct config *cf, int n, char *err, size_t errlen)
{
	const char	*argv[] = { "CLIENT", "LIST" };
	redisContext	*rc;
	redisReply	*r;
	char		 name[300];
	int		 slot, ret = 0;

	if ((rc = consume_sync_open(cf, err, errlen)) == NULL)
		return -1;
	r = redisCommandArgv(rc, 2, argv, NULL);
	if (r == NULL || r->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "CLIENT LIST failed: %s", r != NULL &&
		    r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
		ret = -1;
	}
	for (slot = 0; ret == 0 && slot < n; slot++) {
		consume_client_name(name, sizeof(name), cf->cf_consumer_prefix,
		    slot);
		if (consume_listed_name(r->str, name)) {
			snprintf(err, errlen, "consumer %s-%d of group %s is in "
			    "use by another process (a Redis connection named "
			    "%s): another master with the same [redis] "
			    "consumer_prefix?", cf->cf_consumer_prefix, slot,
			    cf->cf_group, name);
			ret = 1;
		}
	}
	freeReplyObject(r);
	redisFree(rc);
	return ret;
}
