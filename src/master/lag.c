/* Master-only poll of the consumer group's lag and pending count (XINFO GROUPS) and the DLQ length. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "conf/config.h"
#include "util/redisconn.h"
#include "util/redisurl.h"
#include "master/lag.h"
#include "util/log.h"
#include "master/prom.h"

#define LAG_MAX_BUSY_TICKS	2	/* polls a reply may be late before we reconnect */

static struct {
	struct ev_loop		*lg_loop;
	const struct config	*lg_cf;
	redisAsyncContext	*lg_ac;
	ev_timer		 lg_timer;
	int			 lg_busy;	/* ticks the current poll is outstanding */
	int			 lg_warned;
	struct group_stats	 lg_group;
	int64_t			 lg_dlq_len;	/* XLEN <stream>:dlq, -1 unknown */
	int64_t			 lg_oldest_ms;	/* XPENDING smallest id's ms; 0 none, -1 unknown */
	int64_t			 lg_trimmed;	/* trimmed unread, the most seen */
	struct lag_stream {
		int		 ls_known;
		int64_t		 ls_length;
		int64_t		 ls_added;	/* entries-added */
		struct lag_id {
			uint64_t li_ms;
			uint64_t li_seq;
		}		 ls_first;	/* first entry; 0-0 when empty */
		struct lag_id	 ls_last;	/* last-generated-id */
	}			 lg_stream;
} lag;

/* What XINFO GROUPS says of our group beyond group_stats. */
struct lag_group {
	struct lag_id	 lgr_delivered;	/* last-delivered-id */
	int64_t		 lgr_read;	/* entries-read; -1 nil */
};

static void
lag_parse_id(const redisReply *r, struct lag_id *id)
{
	char	*end;

	id->li_ms = id->li_seq = 0;
	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return;
	id->li_ms = strtoull(r->str, &end, 10);
	if (*end == '-')
		id->li_seq = strtoull(end + 1, NULL, 10);
}

static int
lag_id_cmp(const struct lag_id *a, const struct lag_id *b)
{
	if (a->li_ms != b->li_ms)
		return a->li_ms < b->li_ms ? -1 : 1;
	if (a->li_seq != b->li_seq)
		return a->li_seq < b->li_seq ? -1 : 1;
	return 0;
}

static void
lag_connected(const redisAsyncContext *ac, int status)
{
	if (status != REDIS_OK) {
		if (!lag.lg_warned)
			log_warnx("lag poll: cannot connect to Redis: %s",
			    ac->errstr);
		lag.lg_warned = 1;
		lag.lg_ac = NULL;	/* hiredis frees it */
		lag.lg_busy = 0;
		lag.lg_group.gs_known = 0;
	}
}

static void
lag_disconnected(const redisAsyncContext *ac, int status)
{
	(void)ac;
	(void)status;
	lag.lg_ac = NULL;
	lag.lg_busy = 0;
	lag.lg_group.gs_known = 0;
}

static long long
lag_integer(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return atoll(r->str);
	return -1;	/* nil: Redis 7.0 cannot tell the lag (e.g. after XDEL) */
}

/* Find our group in an XINFO GROUPS reply (array of flat key/value arrays). */
static int
lag_parse_groups(const redisReply *r, const char *group, struct group_stats *g,
    struct lag_group *lg)
{
	const redisReply	*e, *k, *v;
	size_t			 i, j;
	int			 found;

	if (r->type != REDIS_REPLY_ARRAY)
		return -1;
	for (i = 0; i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY)
			continue;
		found = 0;
		g->gs_pending = 0;
		g->gs_lag = -1;
		for (j = 0; j + 1 < e->elements; j += 2) {
			k = e->element[j];
			v = e->element[j + 1];
			if (k->type != REDIS_REPLY_STRING)
				continue;
			if (strcmp(k->str, "name") == 0)
				found = v->type == REDIS_REPLY_STRING &&
				    strcmp(v->str, group) == 0;
			else if (strcmp(k->str, "pending") == 0)
				g->gs_pending = lag_integer(v);
			else if (strcmp(k->str, "lag") == 0)
				g->gs_lag = lag_integer(v);
			else if (strcmp(k->str, "entries-read") == 0)
				lg->lgr_read = lag_integer(v);
			else if (strcmp(k->str, "last-delivered-id") == 0)
				lag_parse_id(v, &lg->lgr_delivered);
		}
		if (found)
			return 0;
	}
	return -1;
}

/* XINFO STREAM: length, entries-added, first entry, last-generated-id. */
static void
lag_stream_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply	*r = reply, *k, *v;
	struct lag_stream	 st;
	size_t			 j;

	(void)ac;
	(void)arg;
	lag.lg_stream.ls_known = 0;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	memset(&st, 0, sizeof(st));
	st.ls_added = -1;
	for (j = 0; j + 1 < r->elements; j += 2) {
		k = r->element[j];
		v = r->element[j + 1];
		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "length") == 0)
			st.ls_length = lag_integer(v);
		else if (strcmp(k->str, "entries-added") == 0)
			st.ls_added = lag_integer(v);
		else if (strcmp(k->str, "last-generated-id") == 0)
			lag_parse_id(v, &st.ls_last);
		else if (strcmp(k->str, "first-entry") == 0 &&
		    v->type == REDIS_REPLY_ARRAY && v->elements > 0)
			lag_parse_id(v->element[0], &st.ls_first);
	}
	st.ls_known = st.ls_added >= 0 && st.ls_length >= 0;	/* Redis 7 */
	lag.lg_stream = st;
}

/*
 * Entries trimmed (MAXLEN, XTRIM) before the group read them vanish without
 * a trace: no consumer ever sees their ids.  Redis 7 counts them: the
 * group's lag is entries-added - entries-read, and entries-read does not
 * jump over trimmed entries, so once the group has read everything still
 * there, the lag left is what was trimmed unread.  While the group is
 * behind the first entry, all present entries are unread: lag - length.  In
 * between (reading within the stream) the split is unknown; wait.  Never
 * counted down: the counter is the most seen, a Prometheus counter.
 */
static void
lag_trimmed(struct group_stats *g, const struct lag_group *lg)
{
	const struct lag_stream	*st = &lag.lg_stream;
	struct log_fields	 f;
	int64_t			 lost;

	if (!st->ls_known || g->gs_lag < 0 || lg->lgr_read < 0)
		return;
	if (st->ls_length == 0 || lag_id_cmp(&lg->lgr_delivered, &st->ls_last) >= 0)
		lost = g->gs_lag;
	else if (lag_id_cmp(&st->ls_first, &lg->lgr_delivered) > 0)
		lost = g->gs_lag - st->ls_length;
	else
		lost = -1;
	if (lost > lag.lg_trimmed) {
		log_fields_init(&f);
		log_fields_int(&f, "trimmed_unread", (long long)(lost - lag.lg_trimmed));
		log_fields_int(&f, "trimmed_unread_total", (long long)lost);
		log_fields_str(&f, "stream", lag.lg_cf->cf_stream);
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "%lld entries of %s "
		    "were trimmed before the group read them: lost upstream; "
		    "raise the producers' MAXLEN or add workers",
		    (long long)(lost - lag.lg_trimmed), lag.lg_cf->cf_stream);
		lag.lg_trimmed = lost;
	}
	/* what is left to read: the trimmed entries stay in Redis' lag */
	if (lag.lg_trimmed > 0 && g->gs_lag >= 0)
		g->gs_lag = g->gs_lag > lag.lg_trimmed ? g->gs_lag - lag.lg_trimmed : 0;
}

static void
lag_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply	*r = reply;
	struct group_stats	 g;
	struct lag_group	 lg;

	(void)ac;
	(void)arg;
	lag.lg_busy = 0;
	if (r == NULL)
		return;
	memset(&g, 0, sizeof(g));
	if (r->type == REDIS_REPLY_ERROR) {
		if (!lag.lg_warned)
			log_warnx("lag poll: XINFO GROUPS failed: %s", r->str);
		lag.lg_warned = 1;
		lag.lg_group.gs_known = 0;
		return;
	}
	memset(&lg, 0, sizeof(lg));
	lg.lgr_read = -1;
	if (lag_parse_groups(r, lag.lg_cf->cf_group, &g, &lg) == -1) {
		lag.lg_group.gs_known = 0;
		return;
	}
	lag_trimmed(&g, &lg);
	g.gs_known = 1;
	lag.lg_group = g;
	lag.lg_warned = 0;
}

static void
lag_dlq_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply	*r = reply;

	(void)ac;
	(void)arg;
	lag.lg_dlq_len = r != NULL && r->type == REDIS_REPLY_INTEGER ?
	    r->integer : -1;
}

/*
 * XPENDING in its summary form: [count, smallest id, greatest id, consumers].
 * Ids start with the ms time of the XADD, so the smallest pending id dates
 * the oldest entry delivered but not yet acknowledged.
 */
static void
lag_pending_reply(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply	*r = reply;
	char			*end;
	unsigned long long	 ms;

	(void)ac;
	(void)arg;
	lag.lg_oldest_ms = -1;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
		return;
	if (r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[0]->integer == 0) {
		lag.lg_oldest_ms = 0;
		return;
	}
	if (r->element[1]->type != REDIS_REPLY_STRING)
		return;
	ms = strtoull(r->element[1]->str, &end, 10);
	if (end != r->element[1]->str && *end == '-' && ms > 0 &&
	    ms <= INT64_MAX)
		lag.lg_oldest_ms = (int64_t)ms;
}

static void
lag_ignore(redisAsyncContext *ac, void *reply, void *arg)
{
	const redisReply	*r = reply;

	(void)ac;
	(void)arg;
	if (r != NULL && r->type == REDIS_REPLY_ERROR && !lag.lg_warned)
		log_warnx("lag poll: Redis refused AUTH/SELECT: %s", r->str);
}

static int
lag_connect(void)
{
	struct redis_addr	ra;
	char			err[256];

	if (redisurl_parse(lag.lg_cf->cf_redis_url, &ra, err, sizeof(err)) == -1) {
		log_warnx("lag poll: %s", err);
		return -1;
	}
	lag.lg_ac = redisconn_open(lag.lg_loop, &ra, lag_connected,
	    lag_disconnected, lag_ignore, NULL, NULL, err, sizeof(err));
	return lag.lg_ac == NULL ? -1 : 0;
}

static void
lag_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	if (lag.lg_busy > 0 && ++lag.lg_busy > LAG_MAX_BUSY_TICKS) {
		lag_reconfigure(lag.lg_cf);	/* a stuck connection: start over */
		return;
	}
	if (lag.lg_busy > 0)
		return;
	if (lag.lg_ac == NULL && lag_connect() == -1)
		return;
	redisAsyncCommand(lag.lg_ac, lag_stream_reply, NULL, "XINFO STREAM %s",
	    lag.lg_cf->cf_stream);
	if (redisAsyncCommand(lag.lg_ac, lag_reply, NULL, "XINFO GROUPS %s",
	    lag.lg_cf->cf_stream) == REDIS_OK)
		lag.lg_busy = 1;
	redisAsyncCommand(lag.lg_ac, lag_dlq_reply, NULL, "XLEN %s:dlq",
	    lag.lg_cf->cf_stream);
	redisAsyncCommand(lag.lg_ac, lag_pending_reply, NULL, "XPENDING %s %s",
	    lag.lg_cf->cf_stream, lag.lg_cf->cf_group);
}

int
lag_start(struct ev_loop *loop, const struct config *cf)
{
	memset(&lag, 0, sizeof(lag));
	lag.lg_dlq_len = -1;
	lag.lg_oldest_ms = -1;
	lag.lg_loop = loop;
	lag.lg_cf = cf;
	ev_timer_init(&lag.lg_timer, lag_tick, 0.5, LAG_INTERVAL);
	ev_timer_start(loop, &lag.lg_timer);
	return 0;
}

void
lag_reconfigure(const struct config *cf)
{
	lag.lg_cf = cf;
	if (lag.lg_ac != NULL)
		redisAsyncFree(lag.lg_ac);	/* calls lag_disconnected */
	lag.lg_ac = NULL;
	lag.lg_busy = 0;
	lag.lg_group.gs_known = 0;
	lag.lg_oldest_ms = -1;
}

void
lag_stop(void)
{
	if (lag.lg_loop == NULL)
		return;
	ev_timer_stop(lag.lg_loop, &lag.lg_timer);
	lag_reconfigure(lag.lg_cf);
	lag.lg_loop = NULL;
}

void
lag_get(struct group_stats *g)
{
	*g = lag.lg_group;
	g->gs_dlq_len = lag.lg_dlq_len;
	g->gs_oldest_ms = lag.lg_oldest_ms;
	g->gs_trimmed = lag.lg_trimmed;
}
