/* Control commands answered by the master and its workers: status, drain, reload, claim, device. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "util/buf.h"
#include "conf/config.h"
#include "control/control_op.h"
#include "proc/ipc.h"
#include "util/log.h"
#include "proc/pacing.h"
#include "wire/metrics.h"
#include "proc/supervise.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

#define CTL_RATE_INTERVAL_S	2.0
#define CTL_PG_TIMEOUTS		"-c statement_timeout=2000 -c TimeZone=UTC"

struct control_rate {
	uint64_t	 r_inserted;
	uint64_t	 r_ms;
	double		 r_rate;
};

static struct {
	int			 wk_draining;
	int			 wk_level_set;	/* log-level was used */
	time_t			 wk_started;
	ev_timer		 wk_rate_timer;
	struct control_rate		*wk_rates;
	int			 wk_nrates;
} wk;

/* ---- workers: status, drain, claim, device ------------------------------ */

static const char *
control_wstate_name(enum wstate s)
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
control_rate_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	const struct worker	*w;
	struct worker_stats	 cum;
	struct control_rate		*nr;
	uint64_t		 now = pacing_now_ms();
	int			 slot, n = supervise_slots();

	(void)loop;
	(void)t;
	(void)revents;
	if (n > wk.wk_nrates) {
		if ((nr = reallocarray(wk.wk_rates, (size_t)n, sizeof(*nr))) == NULL)
			return;
		memset(nr + wk.wk_nrates, 0, (size_t)(n - wk.wk_nrates) *
		    sizeof(*nr));
		wk.wk_rates = nr;
		wk.wk_nrates = n;
	}
	for (slot = 0; slot < n; slot++) {
		struct control_rate *r = &wk.wk_rates[slot];

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
control_worker_json(const struct worker *w, uint64_t now)
{
	struct worker_stats	 cum;
	const char		*why = NULL;
	int			 ready;
	double			 rate = 0;

	supervise_cumulative(w, &cum);
	ready = supervise_worker_ready(w, now, &why);
	if (w->w_slot < wk.wk_nrates)
		rate = wk.wk_rates[w->w_slot].r_rate;
	return json_pack("{s:i, s:I, s:s, s:s, s:b, s:s?, s:i, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:f, s:b, s:b, s:b}",
	    "slot", w->w_slot,
	    "pid", (json_int_t)w->w_pid,
	    "consumer", w->w_consumer,
	    "state", control_wstate_name(w->w_state),
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
control_workers_json(void)
{
	const struct worker	*w;
	json_t			*a = json_array();
	uint64_t		 now = pacing_now_ms();
	int			 slot;

	for (slot = 0; a != NULL && slot < supervise_slots(); slot++)
		if ((w = supervise_worker(slot)) != NULL)
			json_array_append_new(a, control_worker_json(w, now));
	return a;
}

json_t *
control_status(int full)
{
	struct buf		 why;
	struct group_stats	 g;
	json_t			*o;
	int			 ready;

	if (!full)
		return json_pack("{s:b, s:o}", "ok", 1, "workers",
		    control_workers_json());
	buf_init(&why);
	ready = control_env.ce_m.cm_ready(&why);
	o = json_pack("{s:b, s:s, s:I, s:I, s:s?, s:s, s:b, s:s?, s:b, s:i, s:o}",
	    "ok", 1,
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "uptime_s", (json_int_t)(time(NULL) - wk.wk_started),
	    "config", control_env.ce_cf->cf_file,
	    "state", control_env.ce_m.cm_phase(),
	    "ready", ready,
	    "not_ready", ready ? NULL : buf_cstr(&why),
	    "draining", wk.wk_draining,
	    "workers_configured", supervise_wanted(),
	    "workers", control_workers_json());
	buf_free(&why);
	control_env.ce_m.cm_group(&g);
	if (o != NULL && g.gs_known)
		json_object_set_new(o, "group", json_pack("{s:s, s:I, s:I}",
		    "name", control_env.ce_cf->cf_group, "pending", (json_int_t)g.gs_pending,
		    "lag", (json_int_t)g.gs_lag));
	return o;
}

json_t *
control_drain(int on)
{
	int	n;

	wk.wk_draining = on;
	n = supervise_broadcast(on ? MSG_DRAIN : MSG_RESUME, NULL, 0);
	log_info("control: %s (%d workers told)", on ? "draining: workers stop "
	    "reading new entries" : "resuming: workers read again", n);
	return json_pack("{s:b, s:b, s:i}", "ok", 1, "draining", on,
	    "workers", n);
}

json_t *
control_reload(void)
{
	struct config	ncf;
	char		err[512], msg[600];

	if (strcmp(control_env.ce_m.cm_phase(), "stopping") == 0)
		return ctlproto_error_json("the master is stopping");
	memset(&ncf, 0, sizeof(ncf));
	err[0] = '\0';
	/* the same check SIGHUP makes, so the operator sees why it would fail */
	if (config_load(&ncf, control_env.ce_cf->cf_file, err, sizeof(err)) == -1) {
		config_free(&ncf);
		snprintf(msg, sizeof(msg), "configuration is invalid, nothing "
		    "changed: %s", err);
		return ctlproto_error_json(msg);
	}
	config_free(&ncf);
	log_info("control: reload requested");
	if (kill(getpid(), SIGHUP) == -1)
		return ctlproto_error_json(strerror(errno));
	return json_pack("{s:b, s:s}", "ok", 1, "message",
	    "reloading: workers are replaced one at a time");
}

/*
 * The configuration the master runs with (reloads included), one object per
 * key with the value as the file or the environment gave it, passwords
 * masked by config_item: the secret itself never leaves the master.
 */
json_t *
control_config(void)
{
	const struct config	*cf = control_env.ce_cf;
	struct config_item	 ci;
	json_t			*keys;
	size_t			 i;

	if ((keys = json_array()) == NULL)
		return NULL;
	for (i = 0; config_item(cf, i, &ci) == 0; i++)
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s}",
		    "section", ci.ci_section, "key", ci.ci_key,
		    "value", ci.ci_value, "source", ci.ci_source));
	return json_pack("{s:b, s:s?, s:o}", "ok", 1, "config", cf->cf_file,
	    "keys", keys);
}

/*
 * Until the next reload or restart: a reload sets the configured level again
 * and the replacement children inherit it; a child respawned before that
 * inherits the master's, which is this one.
 */
json_t *
control_log_level(const char *level)
{
	struct control_msg_log_level	ll;
	enum log_level			lvl;
	int				n;

	if (log_parse_level(level, &lvl) == -1 || lvl > LOG_LVL_ERROR)
		return ctlproto_error_json("not a log level");
	log_setlevel(lvl);
	wk.wk_level_set = 1;
	memset(&ll, 0, sizeof(ll));
	ll.ll_level = (uint32_t)lvl;
	n = supervise_broadcast(MSG_LOG_LEVEL, &ll, sizeof(ll));
	log_info("control: log level set to %s (%d processes told)",
	    log_level_name(lvl), n);
	return json_pack("{s:b, s:s, s:i}", "ok", 1, "level",
	    log_level_name(lvl), "processes", n);
}

void
control_claim(struct control_op *op)
{
	struct control_msg_claim	cl;

	if (wk.wk_draining) {
		control_fail(op, "workers are drained; resume them first");
		return;
	}
	memset(&cl, 0, sizeof(cl));
	cl.cl_id = op->o_id;
	cl.cl_idle_ms = op->o_req.r_idle_ms > 0 ? (uint32_t)op->o_req.r_idle_ms : 0;
	json_object_set_new(op->o_reply, "idle_ms",
	    json_integer(op->o_req.r_idle_ms > 0 ? op->o_req.r_idle_ms :
	    control_env.ce_cf->cf_claim_idle_ms));
	json_object_set_new(op->o_reply, "workers", op->o_list = json_array());
	op->o_asked = op->o_waiting = supervise_broadcast(MSG_CLAIM, &cl, sizeof(cl));
	if (op->o_asked == 0)
		control_fail(op, "no worker is running");
}

void
control_device(struct control_op *op)
{
	struct control_msg_device_query	q;

	memset(&q, 0, sizeof(q));
	q.dq_id = op->o_id;
	snprintf(q.dq_device, sizeof(q.dq_device), "%s", op->o_req.r_device);
	op->o_asked = op->o_waiting = supervise_broadcast(MSG_DEVICE_QUERY, &q,
	    sizeof(q));
}

static json_t *
control_iso_time(int64_t us)
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

/*
 * A short-lived connection for the commands that read the database: the
 * master's loop blocks on it, so every timeout is short.  NULL with err.
 */
static PGconn *
control_pg_open(char *err, size_t errlen)
{
	const char	*keys[] = { "dbname", "connect_timeout", "options",
	    "application_name", NULL };
	const char	*vals[] = { control_env.ce_cf->cf_pg_url, "3", CTL_PG_TIMEOUTS,
	    "processor-control", NULL };
	PGconn		*conn;

	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(err, errlen, "PostgreSQL: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* One JSON text column of one row: the decoded value, json_null() for no row. */
static json_t *
control_pg_json(PGconn *conn, const char *sql, int nparams,
    const char *const *params, char *err, size_t errlen)
{
	PGresult	*res;
	json_t		*v = NULL;

	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(err, errlen, "PostgreSQL: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
	else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	else
		v = json_null();
	PQclear(res);
	return v;
}

static const char control_contract_sql[] =
	"SELECT to_regclass('public.stage_results') IS NOT NULL "
	"AND to_regclass('public.entries') IS NOT NULL";

/* Whether the racing contract tables exist: 1, 0, or -1 with err. */
static int
control_pg_contract(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res = PQexec(conn, control_contract_sql);
	int		 rc = -1;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		snprintf(err, errlen, "PostgreSQL: %.*s",
		    (int)strcspn(PQresultErrorMessage(res), "\n"),
		    PQresultErrorMessage(res));
	else
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/*
 * Live standings: rank, car, status, elapsed, penalties, gap to the leader
 * (finished runs, elapsed plus penalties) and the last gate crossed.
 */
static const char control_stage_sql[] =
	"SELECT json_build_object('stage', s.id, 'name', s.name, 'status', "
	"s.status, 'standings', coalesce((SELECT json_agg(x ORDER BY x.rank "
	"NULLS LAST, x.total_ms NULLS LAST, x.car) FROM (SELECT r.rank, "
	"e.car_number AS car, r.status, r.elapsed_ms, r.penalties_s, "
	"r.elapsed_ms + round(r.penalties_s * 1000)::int8 AS total_ms, "
	"CASE WHEN r.status = 'finished' THEN r.elapsed_ms + "
	"round(r.penalties_s * 1000)::int8 - min(r.elapsed_ms + "
	"round(r.penalties_s * 1000)::int8) FILTER (WHERE r.status = 'finished') "
	"OVER () END AS gap_ms, r.provisional, lg.kind AS last_gate_kind, "
	"lg.gate_order AS last_gate, lg.crossing_time AS last_crossing "
	"FROM stage_results r JOIN entries e ON e.id = r.entry_id "
	"LEFT JOIN LATERAL (SELECT g.kind, g.gate_order, t.crossing_time FROM "
	"timing_records t JOIN gates g ON g.id = t.gate_id WHERE t.entry_id = "
	"r.entry_id AND t.stage_id = r.stage_id ORDER BY t.crossing_time DESC "
	"LIMIT 1) lg ON true WHERE r.stage_id = s.id) x), '[]'::json))::text "
	"FROM stages s WHERE s.id = $1::int8";

json_t *
control_stage(long stage)
{
	char		 err[512], id[24];
	const char	*params[] = { id };
	PGconn		*conn;
	json_t		*v = NULL;
	int		 contract;

	err[0] = '\0';
	snprintf(id, sizeof(id), "%ld", stage);
	if ((conn = control_pg_open(err, sizeof(err))) == NULL)
		return ctlproto_error_json(err);
	if ((contract = control_pg_contract(conn, err, sizeof(err))) == 0)
		snprintf(err, sizeof(err), "no racing contract tables in this "
		    "database (processor-domain(7))");
	else if (contract == 1 && (v = control_pg_json(conn, control_stage_sql,
	    1, params, err, sizeof(err))) != NULL && json_is_null(v)) {
		json_decref(v);
		v = NULL;
		snprintf(err, sizeof(err), "stage %ld: no such stage", stage);
	}
	PQfinish(conn);
	if (v == NULL)
		return ctlproto_error_json(err);
	json_object_set_new(v, "ok", json_true());
	return v;
}

/*
 * The racing side of a device: its entries, and per stage its result and
 * what the evaluator last did (race_cursor).  json_null() without the
 * contract tables.
 */
static const char control_device_domain_sql[] =
	"SELECT coalesce(json_agg(json_build_object('entry', e.id, 'car', e.car_number, "
	"'event', e.event_id, 'stages', (SELECT coalesce(json_agg("
	"json_build_object('stage', r.stage_id, 'status', r.status, 'rank', "
	"r.rank, 'elapsed_ms', r.elapsed_ms, 'provisional', r.provisional, "
	"'evaluated_to', c.evaluated_to, 'evaluations', c.evaluations, "
	"'late', c.late) ORDER BY r.stage_id), '[]'::json) FROM stage_results r "
	"LEFT JOIN race_cursor c ON c.device_id = e.device_id AND c.stage_id = "
	"r.stage_id WHERE r.entry_id = e.id)) ORDER BY e.id), '[]'::json)::text "
	"FROM entries e WHERE e.device_id = $1";

static json_t *
control_device_domain(PGconn *conn, const char *device, char *err,
    size_t errlen)
{
	const char	*params[] = { device };
	int		 contract;

	if ((contract = control_pg_contract(conn, err, errlen)) != 1)
		return contract == 0 ? json_null() : NULL;
	return control_pg_json(conn, control_device_domain_sql, 1, params, err,
	    errlen);
}

/* The last row PostgreSQL holds for the device: blocking, short timeouts. */
static json_t *
control_device_pg(PGconn *conn, const char *device, char *err, size_t errlen)
{
	const char	*params[] = { device };
	PGresult	*res;
	json_t		*row = NULL;

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
	return row;
}

void
control_device_complete(struct control_op *op)
{
	const struct control_msg_device_reply *b = &op->o_best;
	json_t	*o = op->o_reply, *fix, *row = NULL, *domain;
	PGconn	*conn;
	char	 err[512];

	json_object_set_new(o, "device", json_string(op->o_req.r_device));
	json_object_set_new(o, "workers_asked", json_integer(op->o_asked));
	json_object_set_new(o, "workers_unanswered", json_integer(op->o_waiting));
	if (b->dr_found) {
		fix = json_pack("{s:o, s:f, s:f}", "ts", control_iso_time(b->dr_ts_us),
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
		    control_iso_time((int64_t)op->o_n[2]));
		json_object_set_new(o, "records", json_integer((json_int_t)op->o_n[1]));
	} else
		json_object_set_new(o, "in_memory", json_false());
	err[0] = '\0';
	if ((conn = control_pg_open(err, sizeof(err))) == NULL) {
		/* in memory: still an answer, without the database's side */
		control_op_reply(op, b->dr_found ? (json_object_set_new(o,
		    "database_error", json_string(err)), json_incref(o)) :
		    ctlproto_error_json(err));
		return;
	}
	if (!b->dr_found && (row = control_device_pg(conn, op->o_req.r_device,
	    err, sizeof(err))) == NULL) {
		PQfinish(conn);
		control_op_reply(op, ctlproto_error_json(err));
		return;
	}
	if (!b->dr_found)
		json_object_set_new(o, "database", row);
	if ((domain = control_device_domain(conn, op->o_req.r_device, err,
	    sizeof(err))) != NULL)
		json_object_set_new(o, "domain", domain);
	else
		json_object_set_new(o, "domain_error", json_string(err));
	PQfinish(conn);
	control_op_reply(op, json_incref(o));
}

/* A child that said hello after log-level was used may have missed it. */
void
control_log_level_up(struct worker *w)
{
	struct control_msg_log_level	ll;

	if (!wk.wk_level_set)
		return;
	memset(&ll, 0, sizeof(ll));
	ll.ll_level = (uint32_t)log_getlevel();
	(void)supervise_send(w, MSG_LOG_LEVEL, &ll, sizeof(ll));
}

int
control_draining(void)
{
	return wk.wk_draining;
}

void
control_work_start(void)
{
	memset(&wk, 0, sizeof(wk));
	wk.wk_started = time(NULL);
	ev_timer_init(&wk.wk_rate_timer, control_rate_cb, CTL_RATE_INTERVAL_S,
	    CTL_RATE_INTERVAL_S);
	ev_timer_start(control_env.ce_loop, &wk.wk_rate_timer);
}

void
control_work_stop(void)
{
	ev_timer_stop(control_env.ce_loop, &wk.wk_rate_timer);
	free(wk.wk_rates);
	memset(&wk, 0, sizeof(wk));
}
