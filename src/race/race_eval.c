/* Evaluating one device: its fixes from positions, the rules, the results written back. */
#include "autoconf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_alert.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_events.h"
#include "race/race_pg.h"

static const char race_fixes_sql[] =
	"SELECT " RACE_FIX_COLS " FROM positions p WHERE p.device_id = $1 "
	"AND p.ts >= 'epoch'::timestamptz + $2::int8 * interval '1 microsecond' "
	"AND p.ts <= 'epoch'::timestamptz + $3::int8 * interval '1 microsecond' "
	"ORDER BY p.ts";

/* One evaluation's scratch: the SQL being built and the rules' output. */
struct race_ctx {
	PGconn			*rc_conn;
	const char		*rc_device;
	int64_t			 rc_min_ts_us;
	int64_t			 rc_now_us;
	int			 rc_mode;	/* RACE_DO_* */
	struct race_outcome	*rc_out;
	struct race_diff	*rc_diff;	/* RACE_DO_DIFF, RACE_DO_APPLY */
	struct buf		 rc_sql;
	struct buf		 rc_vals;	/* WITH v AS (the computed rows) */
	struct race_rules	*rc_ru;
	char			*rc_err;
	size_t			 rc_errlen;
};

/*
 * The tables evaluation writes, for the diff: the key of a row within
 * (entry, stage), the columns compared (those whose change bumps the
 * revision), and the one shown for a row added or removed.
 */
struct race_table {
	const char	*rt_name;
	const char	*rt_label;
	const char	*rt_key[2];
	const char	*rt_keylabel[2];
	const char	*rt_cols[10];
	const char	*rt_head;
};

static const struct race_table race_tab_records = {
	"timing_records", "timing", { "gate_id", "pass_number" },
	{ "gate", "pass" }, { "crossing_time", "uncertainty_ms", "fix_before",
	"fix_after", "fraction", "speed_kmh", "direction", "final",
	"low_confidence", NULL }, "crossing_time"
};
static const struct race_table race_tab_penalties = {
	"race_penalties", "penalty", { "gate_id", "visit" }, { "zone", "visit" },
	{ "entered_at", "exited_at", "time_over_s", "max_excess_kmh",
	"avg_speed_kmh", "limit_kmh", "rule", "penalty_s", NULL }, "penalty_s"
};
static const struct race_table race_tab_results = {
	"stage_results", "result", { "stage_id", NULL }, { "stage", NULL },
	{ "start_time", "finish_time", "elapsed_ms", "splits", "waypoints",
	"penalties_s", "status", "provisional", "low_confidence", NULL },
	"status"
};

static int
race_fail(struct race_ctx *c, const char *what, PGresult *res)
{
	return race_pg_fail(res, c->rc_conn, what, c->rc_err, c->rc_errlen);
}

/* Run c->rc_sql; the result (which the caller clears), or NULL on error. */
static PGresult *
race_exec(struct race_ctx *c, const char *what)
{
	return race_pg_exec(c->rc_conn, &c->rc_sql, what, c->rc_err,
	    c->rc_errlen);
}

static int
race_command(struct race_ctx *c, const char *what)
{
	PGresult	*res = race_exec(c, what);

	PQclear(res);
	return res == NULL ? -1 : 0;
}

static int
race_fix_reserve(struct race_ctx *c, size_t n)
{
	struct fix	*nf;
	size_t		 cap;

	if (n <= c->rc_ru->ru_capfix)
		return 0;
	cap = n < 1024 ? 1024 : n;
	if ((nf = reallocarray(c->rc_ru->ru_fix, cap, sizeof(*nf))) == NULL)
		return -1;
	c->rc_ru->ru_fix = nf;
	c->rc_ru->ru_capfix = cap;
	return 0;
}

/* A stored position as the rules see it (HDOP: IO 182, in tenths). */
void
race_fix_row(struct fix *f, const PGresult *res, int i, int c)
{
	memset(f, 0, sizeof(*f));
	f->f_ts_us = strtoll(PQgetvalue(res, i, c), NULL, 10);
	f->f_lat = strtod(PQgetvalue(res, i, c + 1), NULL);
	f->f_lon = strtod(PQgetvalue(res, i, c + 2), NULL);
	f->f_sats = PQgetisnull(res, i, c + 5) ? -1 :
	    atoi(PQgetvalue(res, i, c + 5));
	if (!PQgetisnull(res, i, c + 3)) {
		f->f_speed = strtod(PQgetvalue(res, i, c + 3), NULL);
		f->f_flags |= FIX_HAS_SPEED;
	}
	if (!PQgetisnull(res, i, c + 4)) {
		f->f_heading = strtod(PQgetvalue(res, i, c + 4), NULL);
		f->f_flags |= FIX_HAS_HEADING;
	}
	if (!PQgetisnull(res, i, c + 6) &&
	    strtod(PQgetvalue(res, i, c + 6), NULL) > 0) {
		f->f_hdop = strtod(PQgetvalue(res, i, c + 6), NULL) / 10.0;
		f->f_flags |= FIX_HAS_HDOP;
	}
}

/* The device's fixes in the stage window (a minute either side). */
static int
race_read_fixes(struct race_ctx *c, const struct race_stage *rs)
{
	char		 lo[24], hi[24];
	const char	*params[3] = { c->rc_device, lo, hi };
	PGresult	*res;
	int		 i, n;

	snprintf(lo, sizeof(lo), "%" PRId64, rs->rs_opens_us ?
	    rs->rs_opens_us - RACE_WINDOW_US : 0);
	snprintf(hi, sizeof(hi), "%" PRId64, rs->rs_closes_us ?
	    rs->rs_closes_us + RACE_WINDOW_US : INT64_C(32503680000000000));
	res = PQexecParams(c->rc_conn, race_fixes_sql, 3, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return race_fail(c, "reading fixes", res);
	n = PQntuples(res);
	if (race_fix_reserve(c, (size_t)n) == -1) {
		PQclear(res);
		snprintf(c->rc_err, c->rc_errlen, "out of memory for %d fixes", n);
		return -1;
	}
	for (i = 0; i < n; i++)
		race_fix_row(&c->rc_ru->ru_fix[i], res, i, 0);
	c->rc_ru->ru_nfix = (size_t)n;
	PQclear(res);
	return 0;
}

static double
race_clamp01(double x)
{
	return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
}

/*
 * How the rows in c->rc_vals (WITH v AS ...) differ from those stored for
 * (entry, stage) in rt, compared in SQL with the very IS DISTINCT FROM the
 * upserts use, so the diff lists exactly what writing would change: one
 * line per row added (+), removed (-) or changed (~, with the columns that
 * differ, old -> new).
 */
static int
race_diff_rows(struct race_ctx *c, const struct race_table *rt,
    const struct race_entry *re, const struct race_stage *rs)
{
	PGresult	*res;
	int		 i, k;

	buf_reset(&c->rc_sql);
	buf_puts(&c->rc_sql, buf_cstr(&c->rc_vals));
	buf_puts(&c->rc_sql, " SELECT CASE WHEN t.present_ IS NULL THEN '+' "
	    "WHEN v.present_ IS NULL THEN '-' ELSE '~' END, concat_ws(' '");
	for (k = 0; k < 2 && rt->rt_key[k]; k++)
		buf_printf(&c->rc_sql, ", '%s ' || coalesce(v.%s, t.%s)",
		    rt->rt_keylabel[k], rt->rt_key[k], rt->rt_key[k]);
	buf_printf(&c->rc_sql, "), CASE WHEN t.present_ IS NULL OR v.present_ "
	    "IS NULL THEN '%s ' || coalesce(v.%s::text, t.%s::text, 'null') "
	    "ELSE concat_ws(', '", rt->rt_head, rt->rt_head, rt->rt_head);
	for (k = 0; rt->rt_cols[k]; k++)
		buf_printf(&c->rc_sql, ", CASE WHEN v.%s IS DISTINCT FROM t.%s "
		    "THEN '%s ' || coalesce(t.%s::text, 'null') || ' -> ' || "
		    "coalesce(v.%s::text, 'null') END", rt->rt_cols[k],
		    rt->rt_cols[k], rt->rt_cols[k], rt->rt_cols[k], rt->rt_cols[k]);
	buf_printf(&c->rc_sql, ") END FROM (SELECT *, true AS present_ FROM v) "
	    "v FULL JOIN (SELECT *, true AS present_ FROM %s WHERE entry_id = "
	    "%" PRId64 " AND stage_id = %" PRId64 ") t ON ", rt->rt_name,
	    re->re_id, rs->rs_id);
	for (k = 0; k < 2 && rt->rt_key[k]; k++)
		buf_printf(&c->rc_sql, "%sv.%s = t.%s", k ? " AND " : "",
		    rt->rt_key[k], rt->rt_key[k]);
	buf_puts(&c->rc_sql, " WHERE t.present_ IS NULL OR v.present_ IS NULL "
	    "OR (");
	for (k = 0; rt->rt_cols[k]; k++)
		buf_printf(&c->rc_sql, "%sv.%s", k ? ", " : "", rt->rt_cols[k]);
	buf_puts(&c->rc_sql, ") IS DISTINCT FROM (");
	for (k = 0; rt->rt_cols[k]; k++)
		buf_printf(&c->rc_sql, "%st.%s", k ? ", " : "", rt->rt_cols[k]);
	buf_puts(&c->rc_sql, ") ORDER BY ");
	for (k = 0; k < 2 && rt->rt_key[k]; k++)
		buf_printf(&c->rc_sql, "%scoalesce(v.%s, t.%s)", k ? ", " : "",
		    rt->rt_key[k], rt->rt_key[k]);
	if ((res = race_exec(c, "comparing with the stored rows")) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		switch (*PQgetvalue(res, i, 0)) {
		case '+':
			c->rc_diff->rd_added++;
			break;
		case '-':
			c->rc_diff->rd_removed++;
			break;
		default:
			c->rc_diff->rd_changed++;
		}
		if (c->rc_diff->rd_out != NULL)
			fprintf(c->rc_diff->rd_out, "%s car %s stage %" PRId64
			    " %s %s: %s\n", PQgetvalue(res, i, 0), re->re_car,
			    rs->rs_id, rt->rt_label, PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 2));
	}
	PQclear(res);
	return 0;
}

static const char *
race_source(const struct race_ctx *c)
{
	return c->rc_mode == RACE_DO_APPLY ? "replay" : "live";
}

/* The timing records computed, as WITH v AS (...) in c->rc_vals. */
void
race_record_sql(struct buf *b, const struct race_stage *rs,
    const struct timing_record *tr)
{
	buf_printf(b, "%" PRId64 "::int8, %d, " TS_FMT ", %.6g::real, " TS_FMT
	    ", " TS_FMT ", %.9g::real, %.6g::real, %d::int2, %s, %s",
	    rs->rs_gate_id[tr->tr_gate], tr->tr_pass, tr->tr_t_us, tr->tr_unc_ms,
	    tr->tr_fix0_us, tr->tr_fix1_us, race_clamp01(tr->tr_frac),
	    tr->tr_speed_kmh, tr->tr_dir < 0 ? -1 : 1,
	    (tr->tr_flags & TR_FINAL) ? "true" : "false",
	    (tr->tr_flags & TR_LOWCONF) ? "true" : "false");
}

static void
race_records_values(struct race_ctx *c, const struct race_stage *rs)
{
	size_t				 i;

	buf_reset(&c->rc_vals);
	buf_puts(&c->rc_vals, "WITH v(gate_id, pass_number, crossing_time, "
	    "uncertainty_ms, fix_before, fix_after, fraction, speed_kmh, "
	    "direction, final, low_confidence) AS (");
	if (c->rc_ru->ru_nrec == 0)
		buf_puts(&c->rc_vals, "SELECT NULL::int8, NULL::int4, NULL::timestamptz, "
		    "NULL::real, NULL::timestamptz, NULL::timestamptz, NULL::real, "
		    "NULL::real, NULL::int2, NULL::bool, NULL::bool WHERE false");
	else
		buf_puts(&c->rc_vals, "VALUES ");
	for (i = 0; i < c->rc_ru->ru_nrec; i++) {
		buf_puts(&c->rc_vals, i ? ", (" : "(");
		race_record_sql(&c->rc_vals, rs, &c->rc_ru->ru_rec[i]);
		buf_puts(&c->rc_vals, ")");
	}
	buf_puts(&c->rc_vals, ")");
}

/*
 * How a timing record is written (after "INSERT ... SELECT ... FROM v "):
 * rewritten, revision + 1, only when a value changed; every revision kept
 * in race_timing_history for protests (processor evidence); then the rows
 * deleted (del), created and revised.  Shared by one device's and a
 * round's writes, so both write the same rows.
 */
const char race_records_upsert[] =
	"ON CONFLICT (entry_id, stage_id, gate_id, pass_number) "
	"DO UPDATE SET crossing_time = "
	"excluded.crossing_time, uncertainty_ms = excluded.uncertainty_ms, "
	"fix_before = excluded.fix_before, fix_after = excluded.fix_after, "
	"fraction = excluded.fraction, speed_kmh = excluded.speed_kmh, "
	"direction = excluded.direction, final = excluded.final, "
	"low_confidence = excluded.low_confidence, source = excluded.source, "
	"revision = t.revision + 1, updated_at = now() WHERE "
	"(t.crossing_time, t.uncertainty_ms, t.fix_before, t.fix_after, "
	"t.fraction, t.speed_kmh, t.direction, t.final, t.low_confidence) "
	"IS DISTINCT FROM (excluded.crossing_time, excluded.uncertainty_ms, "
	"excluded.fix_before, excluded.fix_after, excluded.fraction, "
	"excluded.speed_kmh, excluded.direction, excluded.final, "
	"excluded.low_confidence) RETURNING (xmax = 0) AS created, "
	"t.entry_id, t.stage_id, t.gate_id, t.pass_number, t.revision, "
	"t.crossing_time, t.uncertainty_ms, t.fix_before, t.fix_after, "
	"t.final, t.low_confidence, t.source), "
	"hist AS (INSERT INTO race_timing_history (entry_id, stage_id, "
	"gate_id, pass_number, revision, crossing_time, uncertainty_ms, "
	"fix_before, fix_after, final, low_confidence, source) SELECT "
	"entry_id, stage_id, gate_id, pass_number, revision, crossing_time, "
	"uncertainty_ms, fix_before, fix_after, final, low_confidence, "
	"source FROM up) "
	"SELECT (SELECT count(*) FROM del), "
	"(SELECT count(*) FILTER (WHERE created) FROM up), "
	"(SELECT count(*) FILTER (WHERE NOT created) FROM up)";

/*
 * Timing records of (entry, stage) in one statement: rows no longer
 * supported by the fixes go, new ones come, and a row is rewritten (with
 * revision + 1) only when a value changed, so re-evaluating the same fixes
 * writes nothing.
 */
static int
race_store_records(struct race_ctx *c, const struct race_entry *re,
    const struct race_stage *rs)
{
	PGresult	*res;

	race_records_values(c, rs);
	if (c->rc_mode != RACE_DO_LIVE &&
	    race_diff_rows(c, &race_tab_records, re, rs) == -1)
		return -1;
	if (c->rc_mode == RACE_DO_DIFF)
		return 0;
	buf_reset(&c->rc_sql);
	buf_puts(&c->rc_sql, buf_cstr(&c->rc_vals));
	buf_printf(&c->rc_sql, ", del AS (DELETE FROM timing_records t "
	    "WHERE t.entry_id = %" PRId64 " AND t.stage_id = %" PRId64 " AND NOT "
	    "EXISTS (SELECT 1 FROM v WHERE v.gate_id = t.gate_id AND "
	    "v.pass_number = t.pass_number) RETURNING 1), ", re->re_id, rs->rs_id);
	buf_printf(&c->rc_sql, "up AS (INSERT INTO timing_records AS t "
	    "(entry_id, stage_id, gate_id, pass_number, crossing_time, "
	    "uncertainty_ms, fix_before, fix_after, fraction, speed_kmh, "
	    "direction, final, low_confidence, source, revision) SELECT "
	    "%" PRId64 ", %" PRId64 ", v.*, '%s', "
	    RACE_NEXT_REVISION("%" PRId64, "%" PRId64) " FROM v %s",
	    re->re_id, rs->rs_id, race_source(c), re->re_id, rs->rs_id,
	    race_records_upsert);
	if ((res = race_exec(c, "writing timing_records")) == NULL)
		return -1;
	c->rc_out->ro_removed += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	c->rc_out->ro_records += strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	c->rc_out->ro_revisions += strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return 0;
}

static const char *
race_wp_verdict(int v)
{
	static const char *const names[] = { "not_reached", "validated",
	    "missed", "no_data" };

	return v >= WP_NOT_REACHED && v <= WP_NO_DATA ? names[v] : "?";
}

/* splits and waypoints as the stage_results JSON columns want them. */
static void
race_result_json(struct buf *b, const struct race_stage *rs,
    const struct stage_result *sr)
{
	int				 k, n = 0;

	buf_puts(b, "'[");
	for (k = 0; k < rs->rs_stage.st_ngate; k++)
		if (rs->rs_stage.st_gate[k].sg_kind == SG_SPLIT &&
		    sr->sr_split_us[k] >= 0)
			buf_printf(b, "%s{\"gate_id\": %" PRId64
			    ", \"elapsed_ms\": %" PRId64 "}", n++ ? ", " : "",
			    rs->rs_gate_id[k], sr->sr_split_us[k] / 1000);
	buf_puts(b, "]'::jsonb, '[");
	for (k = 0; k < rs->rs_stage.st_nwp; k++)
		buf_printf(b, "%s{\"gate_id\": %" PRId64 ", \"verdict\": "
		    "\"%s\", \"closest_m\": %.2f, \"closest_at_ms\": %" PRId64 "}",
		    k ? ", " : "", rs->rs_wp_id[k], race_wp_verdict(sr->sr_wp[k]),
		    isfinite(sr->sr_wp_dmin[k]) ? sr->sr_wp_dmin[k] : -1.0,
		    sr->sr_wp_t_us[k] / 1000);
	buf_puts(b, "]'::jsonb");
}

static void
race_opt_ts(struct buf *b, int64_t us)
{
	if (us == 0)
		buf_puts(b, "NULL::timestamptz");
	else
		buf_printf(b, TS_FMT, us);
}

/* The stage result computed, as WITH v AS (...) in c->rc_vals. */
void
race_result_sql(struct buf *b, const struct race_stage *rs,
    const struct stage_result *sr)
{
	race_opt_ts(b, sr->sr_start_us);
	buf_puts(b, ", ");
	race_opt_ts(b, sr->sr_finish_us);
	if (sr->sr_finish_us)
		buf_printf(b, ", %" PRId64 "::int8, ", sr->sr_elapsed_us / 1000);
	else
		buf_puts(b, ", NULL::int8, ");
	race_result_json(b, rs, sr);
	buf_printf(b, ", %.6g::real, '%s'::text, %s, %s", sr->sr_penalty_s,
	    stage_status_name(sr->sr_status), sr->sr_final ? "false" : "true",
	    sr->sr_lowconf ? "true" : "false");
}

static void
race_result_values(struct race_ctx *c, const struct race_stage *rs)
{
	buf_reset(&c->rc_vals);
	buf_printf(&c->rc_vals, "WITH v(stage_id, start_time, finish_time, "
	    "elapsed_ms, splits, waypoints, penalties_s, status, provisional, "
	    "low_confidence) AS (VALUES (%" PRId64 "::int8, ", rs->rs_id);
	race_result_sql(&c->rc_vals, rs, &c->rc_ru->ru_res);
	buf_puts(&c->rc_vals, "))");
}

/* How a stage result is written (after "INSERT ... FROM v "): as timing records. */
const char race_results_upsert[] =
	"ON CONFLICT (entry_id, stage_id) DO UPDATE SET "
	"start_time = excluded.start_time, "
	"finish_time = excluded.finish_time, elapsed_ms = excluded.elapsed_ms, "
	"splits = excluded.splits, waypoints = excluded.waypoints, "
	"penalties_s = excluded.penalties_s, status = excluded.status, "
	"provisional = excluded.provisional, low_confidence = "
	"excluded.low_confidence, revision = r.revision + 1, updated_at = now() "
	"WHERE (r.start_time, r.finish_time, r.elapsed_ms, r.splits, "
	"r.waypoints, r.penalties_s, r.status, r.provisional, r.low_confidence) "
	"IS DISTINCT FROM (excluded.start_time, excluded.finish_time, "
	"excluded.elapsed_ms, excluded.splits, excluded.waypoints, "
	"excluded.penalties_s, excluded.status, excluded.provisional, "
	"excluded.low_confidence)";

/*
 * The ranks of the stages in $1 (an int8[]): finished runs by elapsed time
 * plus penalties, others none; only the ranks that changed are written.
 */
const char race_rank_sql[] =
	"UPDATE stage_results r SET rank = x.rk FROM (SELECT id, CASE WHEN "
	"status = 'finished' THEN rank() OVER (PARTITION BY stage_id, status = "
	"'finished' ORDER BY elapsed_ms + round(penalties_s * 1000)) END AS rk "
	"FROM stage_results WHERE stage_id = ANY($1::int8[])) x "
	"WHERE r.id = x.id AND r.rank IS DISTINCT FROM x.rk";

/*
 * The stage result of (entry, stage), then the stage's ranks.  Under the
 * stage's lock: two evaluators ranking one stage at once would otherwise
 * each wait for the other's result row (a deadlock).
 */
static int
race_store_result(struct race_ctx *c, const struct race_entry *re,
    const struct race_stage *rs)
{
	PGresult	*res;
	char		 stage[32];
	const char	*params[1] = { stage };

	race_result_values(c, rs);
	if (c->rc_mode != RACE_DO_LIVE &&
	    race_diff_rows(c, &race_tab_results, re, rs) == -1)
		return -1;
	if (c->rc_mode == RACE_DO_DIFF)
		return 0;
	buf_reset(&c->rc_sql);
	buf_printf(&c->rc_sql, "SELECT pg_advisory_xact_lock(%d, "
	    "hashtext('%" PRId64 "'))", RACE_LOCK_STAGE, rs->rs_id);
	if (race_command(c, "locking the stage") == -1)
		return -1;
	buf_reset(&c->rc_sql);
	buf_puts(&c->rc_sql, buf_cstr(&c->rc_vals));
	buf_printf(&c->rc_sql, " INSERT INTO stage_results AS r (entry_id, "
	    "stage_id, start_time, finish_time, elapsed_ms, splits, waypoints, "
	    "penalties_s, status, provisional, low_confidence) SELECT %" PRId64
	    ", v.* FROM v %s", re->re_id, race_results_upsert);
	if ((res = race_exec(c, "writing stage_results")) == NULL)
		return -1;
	c->rc_out->ro_results += strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	snprintf(stage, sizeof(stage), "{%" PRId64 "}", rs->rs_id);
	res = PQexecParams(c->rc_conn, race_rank_sql, 1, NULL, params, NULL,
	    NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return race_fail(c, "ranking the stage", res);
	PQclear(res);
	return 0;
}

int
race_penalty_sql(struct buf *b, PGconn *conn, const struct race_stage *rs,
    const struct stage_result *sr, int k, const char *prefix)
{
	const struct zone_visit	*zv = &sr->sr_zone[k];
	char			*rule;

	if (zv->zv_in_us == 0 && zv->zv_time_s <= 0.0)
		return 0;	/* never entered */
	rule = PQescapeLiteral(conn, rs->rs_zone_rule[k],
	    strlen(rs->rs_zone_rule[k]));
	if (rule == NULL)
		return -1;
	buf_printf(b, "%s%" PRId64 "::int8, 1::int4, ", prefix,
	    rs->rs_zone_id[k]);
	race_opt_ts(b, zv->zv_in_us);
	buf_puts(b, ", ");
	race_opt_ts(b, zv->zv_out_us);
	buf_printf(b, ", %.6g::real, %.6g::real, %.6g::real, %.6g::real, "
	    "%s::jsonb, %.6g::real", zv->zv_over_s, zv->zv_excess_kmh,
	    zv->zv_avg_kmh, rs->rs_stage.st_zone[k].sz_limit_kmh, rule,
	    sr->sr_zone_penalty_s[k]);
	PQfreemem(rule);
	return 1;
}

/* The penalty evidence computed, as WITH v AS (...) in c->rc_vals. */
static int
race_penalty_values(struct race_ctx *c, const struct race_stage *rs)
{
	const struct stage_result	*sr = &c->rc_ru->ru_res;
	int				 k, n = 0, rc;

	buf_reset(&c->rc_vals);
	buf_puts(&c->rc_vals, "WITH v(gate_id, visit, entered_at, exited_at, "
	    "time_over_s, max_excess_kmh, avg_speed_kmh, limit_kmh, rule, "
	    "penalty_s) AS (");
	for (k = 0; k < rs->rs_stage.st_nzone; k++) {
		if ((rc = race_penalty_sql(&c->rc_vals, c->rc_conn, rs, sr, k,
		    n ? " UNION ALL SELECT " : "SELECT ")) == -1)
			return race_fail(c, "quoting a penalty rule", NULL);
		n += rc;
	}
	if (n == 0)
		buf_puts(&c->rc_vals, "SELECT NULL::int8, NULL::int4, "
		    "NULL::timestamptz, NULL::timestamptz, NULL::real, NULL::real, "
		    "NULL::real, NULL::real, NULL::jsonb, NULL::real WHERE false");
	buf_puts(&c->rc_vals, ")");
	return 0;
}

/* How penalty evidence is written (after "INSERT ... FROM v "): as timing records. */
const char race_penalties_upsert[] =
	"ON CONFLICT (entry_id, stage_id, gate_id, visit) DO UPDATE SET "
	"entered_at = excluded.entered_at, exited_at = excluded.exited_at, "
	"time_over_s = excluded.time_over_s, max_excess_kmh = "
	"excluded.max_excess_kmh, avg_speed_kmh = excluded.avg_speed_kmh, "
	"limit_kmh = excluded.limit_kmh, rule = excluded.rule, penalty_s = "
	"excluded.penalty_s, revision = p.revision + 1, updated_at = now() "
	"WHERE (p.entered_at, p.exited_at, p.time_over_s, p.max_excess_kmh, "
	"p.avg_speed_kmh, p.limit_kmh, p.rule, p.penalty_s) IS DISTINCT FROM "
	"(excluded.entered_at, excluded.exited_at, excluded.time_over_s, "
	"excluded.max_excess_kmh, excluded.avg_speed_kmh, excluded.limit_kmh, "
	"excluded.rule, excluded.penalty_s)";

/* Penalty evidence: one row per speed zone visited (its visits summed). */
static int
race_store_penalties(struct race_ctx *c, const struct race_entry *re,
    const struct race_stage *rs)
{
	if (race_penalty_values(c, rs) == -1)
		return -1;
	if (c->rc_mode != RACE_DO_LIVE &&
	    race_diff_rows(c, &race_tab_penalties, re, rs) == -1)
		return -1;
	if (c->rc_mode == RACE_DO_DIFF)
		return 0;
	buf_reset(&c->rc_sql);
	buf_puts(&c->rc_sql, buf_cstr(&c->rc_vals));
	buf_printf(&c->rc_sql, ", del AS (DELETE FROM race_penalties p WHERE "
	    "p.entry_id = %" PRId64 " AND p.stage_id = %" PRId64 " AND NOT EXISTS "
	    "(SELECT 1 FROM v WHERE v.gate_id = p.gate_id AND v.visit = p.visit)) "
	    "INSERT INTO race_penalties AS p (entry_id, stage_id, gate_id, visit, "
	    "entered_at, exited_at, time_over_s, max_excess_kmh, avg_speed_kmh, "
	    "limit_kmh, rule, penalty_s) SELECT %" PRId64 ", %" PRId64 ", v.* "
	    "FROM v %s", re->re_id, rs->rs_id, re->re_id, rs->rs_id,
	    race_penalties_upsert);
	return race_command(c, "writing race_penalties");
}

/* The cursor of (device, stage); counts the evaluation as late when the
 * oldest new fix is older than what was evaluated before. */
static int
race_store_cursor(struct race_ctx *c, const struct race_stage *rs)
{
	PGresult	*res;
	int64_t		 last = c->rc_ru->ru_nfix ? c->rc_ru->ru_fix[c->rc_ru->ru_nfix - 1].f_ts_us : 0;
	int		 late;
	char		*dev;

	if ((dev = PQescapeLiteral(c->rc_conn, c->rc_device,
	    strlen(c->rc_device))) == NULL)
		return race_fail(c, "quoting a device id", NULL);
	buf_reset(&c->rc_sql);
	buf_printf(&c->rc_sql, "SELECT (extract(epoch FROM evaluated_to) * "
	    "1000000)::int8 FROM race_cursor WHERE device_id = %s AND "
	    "stage_id = %" PRId64, dev, rs->rs_id);
	if ((res = race_exec(c, "reading race_cursor")) == NULL) {
		PQfreemem(dev);
		return -1;
	}
	late = PQntuples(res) == 1 &&
	    c->rc_min_ts_us < strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	c->rc_out->ro_late += (uint64_t)late;
	buf_reset(&c->rc_sql);
	buf_printf(&c->rc_sql, "INSERT INTO race_cursor AS k (device_id, "
	    "stage_id, evaluated_to, fixes, late) VALUES (%s, %" PRId64 ", "
	    TS_FMT ", %zu, %d) ON CONFLICT (device_id, stage_id) DO UPDATE SET "
	    "evaluated_to = greatest(k.evaluated_to, excluded.evaluated_to), "
	    "fixes = excluded.fixes, evaluations = k.evaluations + 1, "
	    "late = k.late + excluded.late, evaluated_at = now()", dev,
	    rs->rs_id, last, c->rc_ru->ru_nfix, late);
	PQfreemem(dev);
	return race_command(c, "writing race_cursor");
}

/* The rules on the device's fixes in the stage window: 1, 0 (no fixes), -1. */
static int
race_compute(struct race_ctx *c, const struct race_stage *rs)
{
	struct race_rules	*ru = c->rc_ru;

	ru->ru_nrec = 0;
	if (race_read_fixes(c, rs) == -1)
		return -1;
	if (ru->ru_nfix == 0)
		return 0;	/* nothing on this stage (yet) */
	if (stage_eval(&rs->rs_stage, ru->ru_fix, ru->ru_nfix, c->rc_now_us,
	    ru->ru_rec, RACE_MAX_RECORDS, &ru->ru_nrec, &ru->ru_res) == -1) {
		snprintf(c->rc_err, c->rc_errlen, "out of memory evaluating "
		    "stage %" PRId64, rs->rs_id);
		return -1;
	}
	return 1;
}

/*
 * One (entry, stage): the same rows computed whatever the mode; live
 * writes them, a replay diffs them and, applying, writes them too.
 */
static int
race_eval_stage(struct race_ctx *c, const struct race_entry *re,
    const struct race_stage *rs)
{
	int	rc;

	char	*old = NULL;

	if ((rc = race_compute(c, rs)) <= 0)
		return rc;
	c->rc_out->ro_stages++;
	/* domain events: what the rows said, what this transaction wrote */
	if (c->rc_mode != RACE_DO_DIFF && race_events_old(c->rc_conn,
	    re->re_id, rs->rs_id, &old, c->rc_err, c->rc_errlen) == -1)
		return -1;
	rc = race_store_records(c, re, rs) == -1 ||
	    race_store_penalties(c, re, rs) == -1 ||
	    (c->rc_mode == RACE_DO_LIVE && race_store_cursor(c, rs) == -1) ||
	    race_store_result(c, re, rs) == -1 ||
	    (c->rc_mode != RACE_DO_DIFF && race_events_queue(c->rc_conn,
	    re->re_id, rs->rs_id, c->rc_device, old, c->rc_err,
	    c->rc_errlen) == -1) ||
	    (c->rc_mode == RACE_DO_LIVE && race_alert_stage(c->rc_conn,
	    re->re_id, rs, c->rc_device, c->rc_ru, c->rc_err,
	    c->rc_errlen) == -1);
	free(old);
	return rc ? -1 : 0;
}

/* Lock the device for this transaction; 1 locked, 0 busy, -1 error. */
static int
race_lock_device(struct race_ctx *c, const char *dev, int wait)
{
	PGresult	*res;
	int		 got;

	buf_reset(&c->rc_sql);
	if (wait)
		buf_printf(&c->rc_sql, "SELECT true FROM pg_advisory_xact_lock(%d, "
		    "hashtext(%s))", RACE_LOCK_DEVICE, dev);
	else
		buf_printf(&c->rc_sql, "SELECT pg_try_advisory_xact_lock(%d, "
		    "hashtext(%s))", RACE_LOCK_DEVICE, dev);
	if ((res = race_exec(c, "locking the device")) == NULL)
		return -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return got;
}

static int
race_eval_locked(struct race_ctx *c, const struct race_event *ev,
    const struct race_stage *only, const char *dev, int64_t gen,
    int64_t marked_us)
{
	const struct race_entry	*re;
	const struct race_stage	*rs;
	size_t			 ne, i, s;

	re = race_event_entries(ev, c->rc_device, &ne);
	for (i = 0; i < ne; i++)
		for (s = 0; s < ev->ev_nstages; s++) {
			rs = &ev->ev_stages[s];
			if (rs->rs_event == re[i].re_event &&
			    (only == NULL || only == rs) &&
			    race_eval_stage(c, &re[i], rs) == -1)
				return -1;
		}
	if (c->rc_mode != RACE_DO_LIVE)
		return 0;	/* a replay leaves the live work marks alone */
	buf_reset(&c->rc_sql);
	/* gen alone could be a new mark's (gen restarts at 1): marked_at too */
	buf_printf(&c->rc_sql, "DELETE FROM race_dirty WHERE device_id = %s "
	    "AND gen = %" PRId64 " AND marked_at = " TS_FMT, dev, gen, marked_us);
	return race_command(c, "dropping the work mark");
}

/*
 * One device in one transaction under its advisory lock: live tries the
 * lock (another evaluator has it: busy), a replay waits for it.  A diff
 * is rolled back, so it writes nothing.
 */
static int
race_eval_tx(PGconn *conn, const struct race_event *ev,
    const struct race_stage *only, const char *device, int64_t gen,
    int64_t marked_us, int64_t min_ts_us, int64_t now_us, int mode, struct race_outcome *out,
    struct race_diff *diff, char *err, size_t errlen)
{
	struct race_ctx	*c;
	PGresult	*res;
	char		*dev;
	int		 rc = RACE_EVAL_ERROR, locked;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->rc_ru = calloc(1, sizeof(*c->rc_ru))) == NULL ||
	    (dev = PQescapeLiteral(conn, device, strlen(device))) == NULL) {
		if (c != NULL)
			free(c->rc_ru);
		free(c);
		snprintf(err, errlen, "out of memory");
		return RACE_EVAL_ERROR;
	}
	c->rc_conn = conn;
	c->rc_device = device;
	c->rc_min_ts_us = min_ts_us;
	c->rc_now_us = now_us;
	c->rc_mode = mode;
	c->rc_out = out;
	c->rc_diff = diff;
	c->rc_err = err;
	c->rc_errlen = errlen;
	buf_init(&c->rc_sql);
	buf_init(&c->rc_vals);
	res = PQexec(conn, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		race_fail(c, "BEGIN", res);
	else {
		PQclear(res);
		if ((locked = race_lock_device(c, dev,
		    mode != RACE_DO_LIVE)) == 0)
			rc = RACE_EVAL_BUSY;
		else if (locked == 1 &&
		    race_eval_locked(c, ev, only, dev, gen,
		    marked_us) == 0)
			rc = RACE_EVAL_DONE;
	}
	res = PQexec(conn, rc == RACE_EVAL_DONE && mode != RACE_DO_DIFF ?
	    "COMMIT" : "ROLLBACK");
	if (rc == RACE_EVAL_DONE && PQresultStatus(res) != PGRES_COMMAND_OK) {
		race_fail(c, "COMMIT", res);
		rc = RACE_EVAL_ERROR;
	} else
		PQclear(res);
	PQfreemem(dev);
	buf_free(&c->rc_sql);
	buf_free(&c->rc_vals);
	race_rules_free(c->rc_ru);
	free(c->rc_ru);
	free(c);
	return rc;
}

int
race_eval_device(PGconn *conn, const struct race_event *ev, const char *device,
    int64_t gen, int64_t marked_us, int64_t min_ts_us, int64_t now_us,
    struct race_outcome *out, char *err, size_t errlen)
{
	return race_eval_tx(conn, ev, NULL, device, gen, marked_us, min_ts_us,
	    now_us,
	    RACE_DO_LIVE, out, NULL, err, errlen);
}

int
race_replay_device(PGconn *conn, const struct race_event *ev,
    const struct race_stage *rs, const char *device, int64_t now_us,
    int mode, struct race_diff *diff, char *err, size_t errlen)
{
	struct race_outcome	out;

	memset(&out, 0, sizeof(out));
	if (mode != RACE_DO_DIFF && mode != RACE_DO_APPLY) {
		snprintf(err, errlen, "replay: bad mode %d", mode);
		return RACE_EVAL_ERROR;
	}
	return race_eval_tx(conn, ev, rs, device, 0, 0, 0, now_us, mode, &out,
	    diff, err, errlen);
}

int
race_rules_eval(PGconn *conn, const struct race_stage *rs, const char *device,
    int64_t now_us, struct race_rules *ru, char *err, size_t errlen)
{
	struct race_ctx	c;
	int		rc;

	memset(&c, 0, sizeof(c));
	c.rc_conn = conn;
	c.rc_device = device;
	c.rc_now_us = now_us;
	c.rc_ru = ru;
	c.rc_err = err;
	c.rc_errlen = errlen;
	buf_init(&c.rc_sql);
	buf_init(&c.rc_vals);
	rc = race_compute(&c, rs);
	buf_free(&c.rc_sql);
	buf_free(&c.rc_vals);
	return rc;
}

void
race_rules_free(struct race_rules *ru)
{
	free(ru->ru_fix);
	ru->ru_fix = NULL;
	ru->ru_nfix = ru->ru_capfix = 0;
}
