/* The evaluator process: event configuration, marked devices, evaluation rounds. */
#include "autoconf.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ev.h>
#include <libpq-fe.h>

#include "conf/config.h"
#include "core/sink.h"
#include "util/buf.h"
#include "util/exitcodes.h"
#include "util/log.h"
#include "wire/metrics.h"
#include "worker/wlink.h"
#include "race/race.h"
#include "race/race_alert.h"
#include "race/race_batch.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_events.h"
#include "race/race_fixcache.h"
#include "race/race_pace.h"

#define RACE_TICK_S		1.0	/* reconnect, refresh, and a poll besides NOTIFY */
/*
 * Marked devices evaluated per round, in one transaction (race_batch.c):
 * enough that 1000 cars marked several times a second take a few rounds,
 * few enough that a round's statements stay small.
 */
#define RACE_ROUND		256
#define RACE_ROUND_S		"256"
#define RACE_BUDGET_S		0.2	/* then back to the loop (master messages) */
/*
 * A device whose evaluation failed is kept out of the rounds for a while
 * and evaluated alone, so that it does not fail every round it is in (its
 * mark, the oldest, would be in all of them) and with it everyone else.
 */
#define RACE_BAD		16
#define RACE_BAD_S		30.0

/* A mark as race_batch reads it: device, gen, min_ts, marked_at, now, max_ts. */
#define RACE_MARK_COLS							\
	"device_id, gen, (extract(epoch FROM min_ts) * 1000000)::int8, "	\
	"(extract(epoch FROM marked_at) * 1000000)::int8, "		\
	"(extract(epoch FROM clock_timestamp()) * 1000000)::int8, "	\
	"(extract(epoch FROM max_ts) * 1000000)::int8"

static const char race_work_sql[] =
	"SELECT " RACE_MARK_COLS " "
	"FROM race_dirty ORDER BY marked_at LIMIT " RACE_ROUND_S;

/*
 * The same while pacing ($1: the held devices, race_pace.h): a round of
 * the others, oldest first, so the held marks (the oldest, often) never
 * take the places of the rest; then the held ones, flagged (column 6), to
 * count them.  Their marks stay: nothing is lost, only delayed.
 */
static const char race_work_paced_sql[] =
	"(SELECT " RACE_MARK_COLS ", false "
	"FROM race_dirty WHERE device_id <> ALL($1::text[]) "
	"ORDER BY marked_at LIMIT " RACE_ROUND_S ") UNION ALL "
	"(SELECT device_id, 0, 0, (extract(epoch FROM marked_at) * 1000000)::int8, "
	"(extract(epoch FROM clock_timestamp()) * 1000000)::int8, 0, true "
	"FROM race_dirty WHERE device_id = ANY($1::text[])) ORDER BY 7, 4";

/*
 * The workers append one race_marks row per batch; a round first folds them
 * into race_dirty (sql/0007): one upsert per device for all the batches
 * since the last round, by the evaluator, instead of one per device and
 * batch by workers that waited on each other's rows.
 */
#define RACE_FOLD_ROWS	"2000"	/* batches folded per round, at most */
static const char race_fold_sql[] =
	"SELECT processor_race_fold(" RACE_FOLD_ROWS ")";

struct race_proc {
	struct ev_loop		*rp_loop;
	const struct config	*rp_cf;
	int			 rp_slot;
	struct worker_stats	 rp_stats;
	PGconn			*rp_conn;
	struct race_event	 rp_ev;
	struct race_fc		 rp_fc;		/* fixes read, per (device, stage) */
	struct race_pace	 rp_pace;	/* evaluated lately, while behind */
	int			 rp_behind;	/* the master says the workers are */
	struct buf		 rp_held;	/* scratch: the held devices */
	ev_timer		 rp_release;	/* the first held device is due */
	char			 rp_bad[RACE_BAD][RACE_DEVICE_MAX + 1];
	double			 rp_bad_until[RACE_BAD];	/* ev_now; 0: free */
	struct race_events	*rp_events;	/* NULL: no events stream */
	double			 rp_loaded;	/* ev_now of the last load; 0: never */
	ev_timer		 rp_tick;
	ev_io			 rp_io;
	ev_idle			 rp_more;
	ev_signal		 rp_sigterm;
	ev_signal		 rp_sigint;
};

static int64_t
race_now_us(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void
race_set_pg_up(struct race_proc *rp, int up)
{
	if (up)
		rp->rp_stats.ws_flags |= WS_PG_UP;
	else
		rp->rp_stats.ws_flags &= ~(uint32_t)WS_PG_UP;
}

static void
race_disconnect(struct race_proc *rp, const char *why)
{
	if (rp->rp_conn == NULL)
		return;
	log_warnx("evaluator: lost the PostgreSQL connection: %s", why);
	ev_io_stop(rp->rp_loop, &rp->rp_io);
	PQfinish(rp->rp_conn);
	rp->rp_conn = NULL;
	rp->rp_loaded = 0;
	race_set_pg_up(rp, 0);
}

static int
race_command(PGconn *conn, const char *sql)
{
	PGresult	*res = PQexec(conn, sql);
	int		 ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok ? 0 : -1;
}

static int
race_connect(struct race_proc *rp)
{
	const char	*keys[] = { "dbname", "application_name",
	    "connect_timeout", NULL };
	const char	*vals[] = { rp->rp_cf->cf_pg_url, "processor-evaluator",
	    "10", NULL };
	char		 sql[96];

	rp->rp_conn = PQconnectdbParams(keys, vals, 1);
	if (rp->rp_conn == NULL || PQstatus(rp->rp_conn) != CONNECTION_OK) {
		log_warnx("evaluator: cannot connect to PostgreSQL: %.*s",
		    rp->rp_conn ? (int)strcspn(PQerrorMessage(rp->rp_conn),
		    "\n") : 13, rp->rp_conn ? PQerrorMessage(rp->rp_conn) :
		    "out of memory");
		PQfinish(rp->rp_conn);
		rp->rp_conn = NULL;
		return -1;
	}
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
	    config_sync_statement_timeout(rp->rp_cf));
	if (race_command(rp->rp_conn, sql) == -1 ||
	    race_command(rp->rp_conn, "LISTEN processor_race") == -1) {
		race_disconnect(rp, PQerrorMessage(rp->rp_conn));
		return -1;
	}
	ev_io_set(&rp->rp_io, PQsocket(rp->rp_conn), EV_READ);
	ev_io_start(rp->rp_loop, &rp->rp_io);
	log_info("evaluator: connected to PostgreSQL");
	return 0;
}

/* Re-read the events and publish their devices for the workers' marks. */
static int
race_refresh(struct race_proc *rp)
{
	char	err[512];
	int	first = rp->rp_loaded == 0;

	if (race_event_load(rp->rp_conn, rp->rp_cf->cf_late_window_s,
	    &rp->rp_ev, err, sizeof(err)) == -1 ||
	    race_command(rp->rp_conn, "BEGIN") == -1 ||
	    race_event_publish(rp->rp_conn, &rp->rp_ev, err, sizeof(err)) == -1 ||
	    race_command(rp->rp_conn, "COMMIT") == -1) {
		log_error("evaluator: cannot load the events: %s", err);
		(void)race_command(rp->rp_conn, "ROLLBACK");
		return -1;
	}
	rp->rp_stats.ws_race_skipped = rp->rp_ev.ev_skipped;
	rp->rp_loaded = ev_now(rp->rp_loop);
	if (first || rp->rp_ev.ev_skipped > 0)
		log_info("evaluator: timing %zu stages, %zu entries%s%s",
		    rp->rp_ev.ev_nstages, rp->rp_ev.ev_nentries,
		    rp->rp_ev.ev_contract ? "" : " (no contract tables)",
		    rp->rp_ev.ev_skipped ? "; some gates skipped (see errors)" :
		    "");
	race_set_pg_up(rp, 1);
	return 0;
}

static void
race_count(struct race_proc *rp, const struct race_outcome *o)
{
	rp->rp_stats.ws_race_stages += o->ro_stages;
	rp->rp_stats.ws_race_late += o->ro_late;
	rp->rp_stats.ws_race_records += o->ro_records;
	rp->rp_stats.ws_race_revisions += o->ro_revisions;
	rp->rp_stats.ws_race_removed += o->ro_removed;
	rp->rp_stats.ws_race_results += o->ro_results;
}

static int
race_is_bad(struct race_proc *rp, const char *dev)
{
	int	k;

	for (k = 0; k < RACE_BAD; k++)
		if (rp->rp_bad_until[k] > ev_now(rp->rp_loop) &&
		    strcmp(rp->rp_bad[k], dev) == 0)
			return 1;
	return 0;
}

static void
race_set_bad(struct race_proc *rp, const char *dev)
{
	int	k, use = 0;

	for (k = 0; k < RACE_BAD; k++) {
		if (strcmp(rp->rp_bad[k], dev) == 0) {
			use = k;
			break;
		}
		if (rp->rp_bad_until[k] < rp->rp_bad_until[use])
			use = k;	/* a free slot, or the oldest */
	}
	snprintf(rp->rp_bad[use], sizeof(rp->rp_bad[use]), "%s", dev);
	rp->rp_bad_until[use] = ev_now(rp->rp_loop) + RACE_BAD_S;
}

/* Pacing: while behind, with an interval configured. */
static int
race_pacing(const struct race_proc *rp)
{
	return rp->rp_behind && rp->rp_cf->cf_catchup_interval_ms > 0;
}

/* dev was evaluated: while pacing, hold it for the interval. */
static void
race_paced(struct race_proc *rp, const char *dev)
{
	if (race_pacing(rp) &&
	    race_pace_evaluated(&rp->rp_pace, dev, ev_now(rp->rp_loop)) == -1)
		log_warnx("evaluator: out of memory pacing device %s (evaluated "
		    "at once instead)", dev);
}

/*
 * While pacing, a device marked for the first time waits an interval too:
 * 1 when it is held from now (its mark stays in race_dirty).
 */
static int
race_hold_first(struct race_proc *rp, const char *dev)
{
	if (!race_pacing(rp) ||
	    race_pace_first(&rp->rp_pace, dev, ev_now(rp->rp_loop)) != 1)
		return 0;
	rp->rp_stats.ws_race_deferred++;
	return 1;
}

/*
 * One marked device in its own transaction; 0 done or busy, -1 on a
 * connection-level failure.  A device that fails is kept out of the rounds
 * for RACE_BAD_S.
 */
static int
race_one(struct race_proc *rp, const PGresult *res, int i)
{
	struct race_outcome	 o;
	struct log_fields	 f;
	const char		*dev = PQgetvalue(res, i, 0);
	char			 err[512];
	int			 rc;

	memset(&o, 0, sizeof(o));
	rc = race_eval_device(rp->rp_conn, &rp->rp_ev, dev,
	    strtoll(PQgetvalue(res, i, 1), NULL, 10),
	    strtoll(PQgetvalue(res, i, 3), NULL, 10),
	    strtoll(PQgetvalue(res, i, 2), NULL, 10), race_now_us(), &o, err,
	    sizeof(err));
	if (rc == RACE_EVAL_ERROR) {
		rp->rp_stats.ws_race_errors++;
		log_fields_init(&f);
		log_fields_str(&f, "device", dev);
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "evaluating device "
		    "%s failed, will retry: %s", dev, err);
		if (PQstatus(rp->rp_conn) != CONNECTION_OK)
			return -1;
		race_set_bad(rp, dev);
		return 0;
	}
	if (rc == RACE_EVAL_DONE) {
		race_count(rp, &o);
		race_paced(rp, dev);
		metrics_observe(&rp->rp_stats.ws_hist[HIST_RACE_SECONDS],
		    HIST_RACE_SECONDS, (double)(race_now_us() -
		    strtoll(PQgetvalue(res, i, 3), NULL, 10)) / 1e6);
	}
	return 0;
}

/* fix commit -> timing commit, for each device a round evaluated */
static void
race_observe(struct race_proc *rp, const struct race_mark *m, size_t n)
{
	int64_t	now = race_now_us();
	size_t	i;

	for (i = 0; i < n; i++)
		if (m[i].rm_done) {
			metrics_observe(&rp->rp_stats.ws_hist[HIST_RACE_SECONDS],
			    HIST_RACE_SECONDS, (double)(now -
			    m[i].rm_marked_us) / 1e6);
			race_paced(rp, m[i].rm_device);
		}
}

/*
 * The round's devices in one transaction, but those that failed lately
 * alone; if the round fails, all of them one by one (for at most
 * RACE_BUDGET_S), so that a device whose evaluation fails holds up only
 * itself.  1 when a device was evaluated or held, 0 when all were busy with another
 * evaluator (then wait for the next NOTIFY or tick rather than read the
 * same marks again at once), -1 on a connection-level failure.
 */
static int
race_batch(struct race_proc *rp, const PGresult *res, int n, double t0)
{
	struct race_mark	 m[RACE_ROUND];
	struct race_outcome	 o;
	char			 err[512], bad[RACE_ROUND];
	int			 i, k = 0, done = 0;

	memset(&o, 0, sizeof(o));
	if (n > RACE_ROUND)
		n = RACE_ROUND;
	for (i = 0; i < n; i++) {
		if ((bad[i] = (char)race_is_bad(rp, PQgetvalue(res, i, 0))))
			continue;
		if (race_hold_first(rp, PQgetvalue(res, i, 0))) {
			done = 1;	/* the next round reads the others */
			continue;
		}
		m[k].rm_device = PQgetvalue(res, i, 0);
		m[k].rm_gen = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		m[k].rm_min_ts_us = strtoll(PQgetvalue(res, i, 2), NULL, 10);
		m[k].rm_marked_us = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		m[k].rm_max_ts_us = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		m[k++].rm_done = 0;
	}
	if (k > 0 && race_batch_eval(rp->rp_conn, &rp->rp_ev, &rp->rp_fc, m,
	    (size_t)k, strtoll(PQgetvalue(res, 0, 4), NULL, 10), race_now_us(),
	    &o, err, sizeof(err)) == -1) {
		if (PQstatus(rp->rp_conn) != CONNECTION_OK)
			return -1;
		log_warnx("evaluator: a round of %d devices failed, evaluating "
		    "them one by one: %s", k, err);
		for (i = 0; i < n && ev_time() - t0 < RACE_BUDGET_S; i++)
			if (!bad[i] && race_one(rp, res, i) == -1)
				return -1;
		done = 1;
	} else if (k > 0) {
		race_count(rp, &o);
		race_observe(rp, m, (size_t)k);
		while (k-- > 0)
			done |= m[k].rm_done;
	}
	for (i = 0; i < n && ev_time() - t0 < RACE_BUDGET_S; i++)
		if (bad[i]) {
			if (race_one(rp, res, i) == -1)
				return -1;
			done = 1;
		}
	return done;
}

/* Run a round at t (ev_now's clock), unless one is due earlier. */
static void
race_release_at(struct race_proc *rp, double t)
{
	double	after = t - ev_now(rp->rp_loop);

	if (ev_is_active(&rp->rp_release) &&
	    ev_timer_remaining(rp->rp_loop, &rp->rp_release) <= after)
		return;
	ev_timer_stop(rp->rp_loop, &rp->rp_release);
	ev_timer_set(&rp->rp_release, after > 0 ? after : 0., 0.);
	ev_timer_start(rp->rp_loop, &rp->rp_release);
}

/* res if it has rows; else the connection is dropped and NULL returned. */
static PGresult *
race_rows(struct race_proc *rp, PGresult *res)
{
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	race_disconnect(rp, res != NULL ? PQresultErrorMessage(res) :
	    "out of memory");
	PQclear(res);
	return NULL;
}

/*
 * The round's marks, after folding the batches' appended marks into
 * race_dirty (race_fold_sql): all of them, or while pacing all but the held
 * devices' (counted once per evaluation they wait for), listed after the
 * others; *n gets the number to evaluate, *next when the first held
 * device is due (0: none held).  NULL when the connection failed.
 */
static PGresult *
race_marks(struct race_proc *rp, int *n, double *next)
{
	PGresult	*res;
	const char	*held;
	int		 i;

	*next = 0;
	if ((res = race_rows(rp, PQexec(rp->rp_conn, race_fold_sql))) == NULL)
		return NULL;
	PQclear(res);
	buf_reset(&rp->rp_held);
	if (race_pacing(rp) && race_pace_held(&rp->rp_pace, ev_now(rp->rp_loop),
	    rp->rp_cf->cf_catchup_interval_ms / 1000.0, &rp->rp_held,
	    next) > 0) {
		held = buf_cstr(&rp->rp_held);
		res = held == NULL ? NULL : PQexecParams(rp->rp_conn,
		    race_work_paced_sql, 1, NULL, &held, NULL, NULL, 0);
	} else
		res = PQexec(rp->rp_conn, race_work_sql);
	if ((res = race_rows(rp, res)) == NULL)
		return NULL;
	*n = PQntuples(res);
	if (PQnfields(res) > 6)
		for (i = 0; i < PQntuples(res); i++)
			if (*PQgetvalue(res, i, 6) == 't') {
				if (*n == PQntuples(res))
					*n = i;
				if (race_pace_count(&rp->rp_pace,
				    PQgetvalue(res, i, 0)))
					rp->rp_stats.ws_race_deferred++;
			}
	return res;
}

/*
 * Evaluate the marked devices, oldest mark first, one round; returns 1
 * when work is probably left.
 */
static int
race_round(struct race_proc *rp)
{
	PGresult	*res;
	double		 t0 = ev_time(), next;
	int		 n, done = 0;

	if ((res = race_marks(rp, &n, &next)) == NULL)
		return 0;
	if (next > 0 || (n > 0 && race_pacing(rp)))
		race_release_at(rp, next > 0 ? next : ev_now(rp->rp_loop) +
		    rp->rp_cf->cf_catchup_interval_ms / 1000.0);
	if (n > 0 && (done = race_batch(rp, res, n, t0)) == -1) {
		PQclear(res);
		race_disconnect(rp, "evaluation failed");
		return 0;
	}
	PQclear(res);
	return n == RACE_ROUND && done;
}

/* After COMMIT: the events the evaluations (or others) queued. */
static void
race_deliver(struct race_proc *rp)
{
	if (rp->rp_conn != NULL && rp->rp_events != NULL)
		(void)race_events_flush(rp->rp_events, rp->rp_conn);
}

/* Silent cars send nothing to mark: look for them now and then. */
static void
race_scan(struct race_proc *rp)
{
	char	err[512];

	if (rp->rp_conn == NULL || rp->rp_loaded == 0)
		return;
	if (race_alert_scan(rp->rp_conn, &rp->rp_ev, race_now_us(), err,
	    sizeof(err)) == -1)
		log_warnx("evaluator: %s", err);
}

static void
race_work(struct race_proc *rp)
{
	int	more;

	if (rp->rp_conn == NULL)
		return;
	more = race_round(rp);
	race_deliver(rp);
	if (more)
		ev_idle_start(rp->rp_loop, &rp->rp_more);
	else
		ev_idle_stop(rp->rp_loop, &rp->rp_more);
}

static void
race_more_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)revents;
	race_work(w->data);
}

/* A NOTIFY (or the connection closing). */
static void
race_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct race_proc	*rp = w->data;
	PGnotify		*n;

	(void)loop;
	(void)revents;
	if (!PQconsumeInput(rp->rp_conn)) {
		race_disconnect(rp, PQerrorMessage(rp->rp_conn));
		return;
	}
	while ((n = PQnotifies(rp->rp_conn)) != NULL)
		PQfreemem(n);
	/*
	 * While pacing, a round per committed batch would only fold that
	 * batch's marks and hold its new devices: the tick's round (every
	 * RACE_TICK_S) and the release timer do that for all the batches
	 * since, one upsert per device instead of one per device and batch.
	 */
	if (!race_pacing(rp))
		race_work(rp);
}

/* A held device is due: a round now includes it. */
static void
race_release_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	race_work(w->data);
}

/*
 * MSG_BACKLOG.  Caught up: forget the held devices and run a round at
 * once, which evaluates them with everything they accumulated.
 */
static void
race_master_backlog(void *arg, int behind, int64_t age_ms)
{
	struct race_proc	*rp = arg;

	if (behind == rp->rp_behind)
		return;
	rp->rp_behind = behind;
	log_debug("evaluator: workers %s (read age %lld ms)%s", behind ?
	    "behind" : "caught up", (long long)age_ms, behind &&
	    rp->rp_cf->cf_catchup_interval_ms > 0 ? "; pacing devices" : "");
	if (behind)
		return;
	race_pace_clear(&rp->rp_pace);
	ev_timer_stop(rp->rp_loop, &rp->rp_release);
	ev_idle_start(rp->rp_loop, &rp->rp_more);
}

static void
race_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct race_proc	*rp = w->data;

	(void)revents;
	if (rp->rp_conn != NULL && PQstatus(rp->rp_conn) != CONNECTION_OK)
		race_disconnect(rp, PQerrorMessage(rp->rp_conn));
	if (rp->rp_conn == NULL && race_connect(rp) == -1)
		return;
	if ((rp->rp_loaded == 0 || ev_now(loop) - rp->rp_loaded >=
	    rp->rp_cf->cf_refresh_ms / 1000.0) && race_refresh(rp) == -1) {
		if (PQstatus(rp->rp_conn) != CONNECTION_OK)
			race_disconnect(rp, PQerrorMessage(rp->rp_conn));
		return;
	}
	race_scan(rp);
	race_work(rp);
}

static void
race_stop(struct race_proc *rp, const char *why)
{
	log_info("evaluator: stopping (%s)", why);
	ev_break(rp->rp_loop, EVBREAK_ALL);
}

static void
race_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	race_stop(w->data, "signal");
}

static void
race_master_shutdown(void *arg)
{
	race_stop(arg, "master asked");
}

static void
race_master_gone(void *arg)
{
	race_stop(arg, "master gone");
}

static void
race_watchers(struct race_proc *rp)
{
	sigset_t	none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	ev_signal_init(&rp->rp_sigterm, race_signal_cb, SIGTERM);
	ev_signal_init(&rp->rp_sigint, race_signal_cb, SIGINT);
	ev_timer_init(&rp->rp_tick, race_tick_cb, 0., RACE_TICK_S);
	ev_io_init(&rp->rp_io, race_io_cb, -1, EV_READ);
	ev_idle_init(&rp->rp_more, race_more_cb);
	ev_timer_init(&rp->rp_release, race_release_cb, 0., 0.);
	rp->rp_sigterm.data = rp->rp_sigint.data = rp->rp_tick.data = rp;
	rp->rp_io.data = rp->rp_more.data = rp->rp_release.data = rp;
	ev_signal_start(rp->rp_loop, &rp->rp_sigterm);
	ev_signal_start(rp->rp_loop, &rp->rp_sigint);
	ev_timer_start(rp->rp_loop, &rp->rp_tick);
}

static void
race_log_context(int slot)
{
	struct log_fields	f;

	log_fields_init(&f);
	log_fields_int(&f, "evaluator", slot);
	log_context(&f);
}

int
race_main(const struct config *cf, int slot, int ipc_fd)
{
	struct race_proc	rp;
	char			name[64];
	struct wlink_cb		cb = {
		.wc_shutdown = race_master_shutdown,
		.wc_master_gone = race_master_gone,
		.wc_backlog = race_master_backlog,
		.wc_arg = &rp,
	};

	memset(&rp, 0, sizeof(rp));
	buf_init(&rp.rp_held);
	rp.rp_cf = cf;
	rp.rp_slot = slot;
	rp.rp_stats.ws_version = METRICS_VERSION;
	/* no Redis and no stream: ready as soon as PostgreSQL is */
	rp.rp_stats.ws_flags = WS_REDIS_UP | WS_CONSUMING;
	snprintf(name, sizeof(name), "evaluator %d", slot);
	log_procinit(name);	/* the supervisor named us "worker N" */
	race_log_context(slot);
	race_alert_setup(cf->cf_stopped_kmh, cf->cf_stopped_s, cf->cf_silent_s);
	rp.rp_events = race_events_open(cf);
	snprintf(name, sizeof(name), "evaluator-%d", slot);
	if ((rp.rp_loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_error("ev_loop_new failed");
		return WORKER_EXIT_RESTART;
	}
	race_watchers(&rp);
	if (wlink_start(rp.rp_loop, ipc_fd, slot, name, &rp.rp_stats,
	    &cb) == -1) {
		log_error("cannot start the master link");
		ev_loop_destroy(rp.rp_loop);
		return WORKER_EXIT_RESTART;
	}
	log_info("evaluator %d starting", slot);
	ev_run(rp.rp_loop, 0);
	wlink_stop();
	if (rp.rp_conn != NULL)
		PQfinish(rp.rp_conn);
	race_event_free(&rp.rp_ev);
	race_fc_clear(&rp.rp_fc);
	race_pace_free(&rp.rp_pace);
	buf_free(&rp.rp_held);
	race_events_close(rp.rp_events);
	ev_loop_destroy(rp.rp_loop);
	return WORKER_EXIT_CLEAN;
}

void
race_mark_batches(const struct config *cf)
{
	if (cf->cf_domain_active) {
		sink_set_sql("SELECT processor_race_mark()");
		sink_set_mark_fn("processor_race_mark_keys");	/* sql/0006 */
	}
}
