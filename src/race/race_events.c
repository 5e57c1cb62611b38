/* Domain events: facts queued in race_outbox with the evaluation, XADDed after COMMIT. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "conf/config.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/redisurl.h"
#include "race/race_events.h"
#include "race/race_pg.h"

#define RACE_LOCK_OUTBOX	0x5241434f	/* "RACO": one deliverer at a time */
#define RACE_EVENTS_BATCH	256		/* events per XADD pipeline */
#define RACE_EVENTS_TIMEOUT_S	2		/* connect, and every reply */
#define RACE_EVENTS_RETRY_S	5.0		/* after a failure, wait this */

struct race_events {
	char		*re_url;
	char		*re_stream;
	char		 re_maxlen[24];
	redisContext	*re_rc;
	double		 re_retry_at;	/* no connection attempt before */
	int		 re_warned;	/* the failure was logged */
};

static const char race_outbox_sql[] =
	"SELECT id, type, dedupe_key, coalesce(entry_id::text, ''), "
	"coalesce(stage_id::text, ''), coalesce(gate_id::text, ''), "
	"coalesce(device_id, ''), coalesce(to_char(at AT TIME ZONE 'UTC', "
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''), "
	"coalesce((SELECT car_number FROM entries e WHERE e.id = o.entry_id), ''), "
	"data::text FROM race_outbox o ORDER BY id LIMIT 256";

static double
race_events_now(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int
race_events_old(PGconn *conn, int64_t entry, int64_t stage, char **old,
    char *err, size_t errlen)
{
	char		 e[24], s[24];
	const char	*params[2] = { e, s };
	PGresult	*res;

	snprintf(e, sizeof(e), "%" PRId64, entry);
	snprintf(s, sizeof(s), "%" PRId64, stage);
	res = PQexecParams(conn, "SELECT processor_race_events_old($1, $2)", 2,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return race_pg_fail(res, conn, "reading the rows' state",
		    err, errlen);
	*old = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*old == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
race_events_queue(PGconn *conn, int64_t entry, int64_t stage,
    const char *device, const char *old, char *err, size_t errlen)
{
	char		 e[24], s[24];
	const char	*params[4] = { e, s, device, old };
	PGresult	*res;
	int		 n;

	snprintf(e, sizeof(e), "%" PRId64, entry);
	snprintf(s, sizeof(s), "%" PRId64, stage);
	res = PQexecParams(conn, "SELECT processor_race_events($1, $2, $3, "
	    "$4::jsonb)", 4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return race_pg_fail(res, conn, "queueing the events", err,
		    errlen);
	n = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

struct race_events *
race_events_open(const struct config *cf)
{
	struct race_events	*re;

	if (cf->cf_events_stream == NULL || *cf->cf_events_stream == '\0')
		return NULL;
	if ((re = calloc(1, sizeof(*re))) == NULL)
		return NULL;
	if ((re->re_url = strdup(cf->cf_redis_url)) == NULL ||
	    (re->re_stream = strdup(cf->cf_events_stream)) == NULL) {
		race_events_close(re);
		return NULL;
	}
	snprintf(re->re_maxlen, sizeof(re->re_maxlen), "%d",
	    cf->cf_events_maxlen);
	return re;
}

void
race_events_close(struct race_events *re)
{
	if (re == NULL)
		return;
	if (re->re_rc != NULL)
		redisFree(re->re_rc);
	free(re->re_url);
	free(re->re_stream);
	free(re);
}

static void
race_events_drop(struct race_events *re, const char *why)
{
	if (!re->re_warned)
		log_warnx("evaluator: cannot deliver domain events to Redis "
		    "(kept in race_outbox, retried): %s", why);
	re->re_warned = 1;
	if (re->re_rc != NULL)
		redisFree(re->re_rc);
	re->re_rc = NULL;
	re->re_retry_at = race_events_now() + RACE_EVENTS_RETRY_S;
}

/* A command whose reply must not be an error (AUTH, SELECT). */
static int
race_events_cmd(struct race_events *re, int argc, const char **argv)
{
	redisReply	*r;
	char		 why[256];

	r = redisCommandArgv(re->re_rc, argc, argv, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%s: %s", argv[0], r ? r->str :
		    re->re_rc->errstr);
		freeReplyObject(r);
		race_events_drop(re, why);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static int
race_events_connect(struct race_events *re)
{
	struct redis_addr	 ra;
	struct timeval		 tv = { RACE_EVENTS_TIMEOUT_S, 0 };
	const char		*argv[3];
	char			 err[256], db[16];

	if (re->re_rc != NULL)
		return 0;
	if (race_events_now() < re->re_retry_at)
		return -1;
	if (redisurl_parse(re->re_url, &ra, err, sizeof(err)) == -1) {
		race_events_drop(re, err);
		return -1;
	}
	if (ra.ra_path[0] != '\0')
		re->re_rc = redisConnectUnixWithTimeout(ra.ra_path, tv);
	else
		re->re_rc = redisConnectWithTimeout(ra.ra_host, ra.ra_port, tv);
	if (re->re_rc == NULL || re->re_rc->err) {
		race_events_drop(re, re->re_rc ? re->re_rc->errstr :
		    "out of memory");
		return -1;
	}
	(void)redisSetTimeout(re->re_rc, tv);
	if (ra.ra_password[0] != '\0') {
		argv[0] = "AUTH";
		argv[1] = ra.ra_user[0] ? ra.ra_user : ra.ra_password;
		argv[2] = ra.ra_password;
		if (race_events_cmd(re, ra.ra_user[0] ? 3 : 2, argv) == -1)
			return -1;
	}
	if (ra.ra_db != 0) {
		snprintf(db, sizeof(db), "%d", ra.ra_db);
		argv[0] = "SELECT";
		argv[1] = db;
		if (race_events_cmd(re, 2, argv) == -1)
			return -1;
	}
	if (re->re_warned)
		log_info("evaluator: delivering domain events again");
	re->re_warned = 0;
	return 0;
}

/* XADD the rows of res in one pipeline; 0 when Redis took them all. */
static int
race_events_xadd(struct race_events *re, const PGresult *res)
{
	static const char *const names[] = { NULL, "type", "key", "entry",
	    "stage", "gate", "device", "at", "car", "data" };
	const char	*argv[32];
	redisReply	*r;
	char		 why[256];
	int		 i, k, argc, n = PQntuples(res), bad = 0;

	for (i = 0; i < n; i++) {
		argc = 0;
		argv[argc++] = "XADD";
		argv[argc++] = re->re_stream;
		argv[argc++] = "MAXLEN";
		argv[argc++] = "~";
		argv[argc++] = re->re_maxlen;
		argv[argc++] = "*";
		argv[argc++] = "schema";
		argv[argc++] = RACE_EVENTS_SCHEMA;
		for (k = 1; k < 10; k++) {
			if (*PQgetvalue(res, i, k) == '\0')
				continue;	/* no gate, no time, ... */
			argv[argc++] = names[k];
			argv[argc++] = PQgetvalue(res, i, k);
		}
		if (redisAppendCommandArgv(re->re_rc, argc, argv, NULL) !=
		    REDIS_OK) {
			race_events_drop(re, re->re_rc->errstr);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (redisGetReply(re->re_rc, (void **)&r) != REDIS_OK) {
			race_events_drop(re, re->re_rc->errstr);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR && !bad) {
			snprintf(why, sizeof(why), "XADD: %s", r->str);
			bad = 1;
		}
		freeReplyObject(r);
	}
	if (bad) {
		race_events_drop(re, why);
		return -1;
	}
	return 0;
}

static int
race_events_exec(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexec(conn, sql);
	int		 ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
			    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		log_warnx("evaluator: race_outbox: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

/* One batch: 1 more may be left, 0 done, -1 failed (rolled back). */
static int
race_events_batch(struct race_events *re, PGconn *conn, int *sent)
{
	PGresult	*res;
	struct buf	 del;
	char		 sql[64];
	int		 i, n, got, rc;

	if (race_events_exec(conn, "BEGIN") == -1)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_xact_lock(%d)",
	    RACE_LOCK_OUTBOX);
	res = PQexec(conn, sql);
	got = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!got) {
		(void)race_events_exec(conn, "ROLLBACK");
		return 0;	/* another evaluator delivers */
	}
	res = PQexec(conn, race_outbox_sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warnx("evaluator: reading race_outbox: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
		PQclear(res);
		(void)race_events_exec(conn, "ROLLBACK");
		return -1;
	}
	if ((n = PQntuples(res)) == 0) {
		PQclear(res);
		return race_events_exec(conn, "COMMIT") == -1 ? -1 : 0;
	}
	if (race_events_connect(re) == -1 || race_events_xadd(re, res) == -1) {
		PQclear(res);
		(void)race_events_exec(conn, "ROLLBACK");
		return -1;
	}
	/* By id: a row committed meanwhile with a smaller id stays queued. */
	buf_init(&del);
	buf_puts(&del, "DELETE FROM race_outbox WHERE id IN (");
	for (i = 0; i < n; i++)
		buf_printf(&del, "%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
	buf_puts(&del, ")");
	PQclear(res);
	rc = buf_cstr(&del) == NULL || race_events_exec(conn,
	    buf_cstr(&del)) == -1 || race_events_exec(conn, "COMMIT") == -1;
	buf_free(&del);
	if (rc) {
		/* Redis has them: they go again (at least once). */
		(void)race_events_exec(conn, "ROLLBACK");
		return -1;
	}
	*sent += n;
	return n == RACE_EVENTS_BATCH;
}

int
race_events_flush(struct race_events *re, PGconn *conn)
{
	int	sent = 0, rc;

	if (re == NULL || conn == NULL)
		return 0;
	while ((rc = race_events_batch(re, conn, &sent)) == 1)
		;
	return rc == -1 ? -1 : sent;
}
