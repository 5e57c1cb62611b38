/* A round's storing: each table's rows in one statement; the marks dropped. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "race/race_batch_int.h"
#include "race/race_eval.h"
#include "race/race_event.h"

static const char batch_cursor_sql[] =
	"WITH v AS (SELECT DISTINCT ON (d, s) d, s, "
	"'epoch'::timestamptz + l * interval '1 microsecond' AS l, n, "
	"'epoch'::timestamptz + m * interval '1 microsecond' AS m "
	"FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int4[], "
	"$5::int8[]) u(d, s, l, n, m) ORDER BY d, s), "
	"o AS (SELECT v.*, (k.evaluated_to IS NOT NULL AND v.m < "
	"k.evaluated_to) AS late FROM v LEFT JOIN race_cursor k ON "
	"k.device_id = v.d AND k.stage_id = v.s), "
	"up AS (INSERT INTO race_cursor AS k (device_id, stage_id, evaluated_to, "
	"fixes, late) SELECT d, s, l, n, late::int FROM o ON CONFLICT "
	"(device_id, stage_id) DO UPDATE SET evaluated_to = "
	"greatest(k.evaluated_to, excluded.evaluated_to), fixes = "
	"excluded.fixes, evaluations = k.evaluations + 1, late = k.late + "
	"excluded.late, evaluated_at = now()) "
	"SELECT count(*) FILTER (WHERE late) FROM o";

static const char batch_stage_lock_sql[] =
	"SELECT count(pg_advisory_xact_lock(%d, hashtext(u.s::text))) "
	"FROM unnest($1::int8[]) u(s)";

static const char batch_events_sql[] =
	"SELECT coalesce(sum(processor_race_events(u.e, u.s, u.d, u.o::jsonb)), "
	"0) FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[]) "
	"u(e, s, d, o)";

static const char batch_alerts_sql[] =
	"SELECT coalesce(sum(processor_race_alerts(u.e, u.s, u.d, u.r, "
	"'epoch'::timestamptz + u.l * interval '1 microsecond', "
	"'epoch'::timestamptz + u.x * interval '1 microsecond', u.w, u.la, "
	"u.lo)), 0) FROM unnest($1::int8[], $2::int8[], $3::text[], $4::bool[], "
	"$5::int8[], $6::int8[], $7::bool[], $8::float8[], $9::float8[]) "
	"u(e, s, d, r, l, x, w, la, lo)";

/*
 * A mark whose gen and marked_at are unchanged goes (gen alone could be a
 * new mark's: another evaluator may have dropped the one this round read,
 * and a new one starts again at gen 1).  One marked again meanwhile stays,
 * its marked_at moved up to when the round read the marks ($4): what it
 * still covers was committed after that (the rest was evaluated), so the
 * latency histogram measures from there, not from the first mark of a
 * device marked again in every round.  A row a worker is marking right
 * now (locked) is skipped, not waited for: it stays, and the evaluator
 * never waits for a worker while holding other marks (no deadlock).
 */
static const char batch_unmark_sql[] =
	"WITH m AS (SELECT d.device_id, d.gen = u.g AND d.marked_at = "
	"'epoch'::timestamptz + u.m * interval '1 microsecond' AS same "
	"FROM race_dirty d JOIN unnest($1::text[], $2::int8[], $3::int8[]) "
	"u(d, g, m) ON d.device_id = u.d FOR UPDATE OF d SKIP LOCKED), "
	"del AS (DELETE FROM race_dirty d USING m WHERE d.device_id = "
	"m.device_id AND m.same) "
	"UPDATE race_dirty d SET marked_at = 'epoch'::timestamptz + "
	"$4::int8 * interval '1 microsecond' FROM m WHERE d.device_id = "
	"m.device_id AND NOT m.same AND d.marked_at < 'epoch'::timestamptz + "
	"$4::int8 * interval '1 microsecond'";

/*
 * The start of a round's write into bt_sql: "WITH v(cols) AS (the rows, or
 * the typed empty row none), k(entry_id, stage_id) AS (VALUES the round's
 * pairs", left open for the caller's next clause.
 */
static void
batch_with_rows(struct batch *b, const char *cols, const char *none,
    const struct buf *rows)
{
	buf_reset(&b->bt_sql);
	buf_puts(&b->bt_sql, "WITH v(");
	buf_puts(&b->bt_sql, cols);
	buf_puts(&b->bt_sql, ") AS (");
	if (rows->b_len == 0)
		buf_puts(&b->bt_sql, none);
	else {
		buf_puts(&b->bt_sql, "VALUES ");
		buf_append(&b->bt_sql, rows->b_data, rows->b_len);
	}
	buf_puts(&b->bt_sql, "), k(entry_id, stage_id) AS (VALUES ");
	buf_append(&b->bt_sql, b->bt_keys.b_data, b->bt_keys.b_len);
}

/* The timing records of every pair: as race_store_records, all at once. */
static int
batch_store_records(struct batch *b)
{
	PGresult	*res;

	batch_with_rows(b, "entry_id, stage_id, gate_id, pass_number, "
	    "crossing_time, uncertainty_ms, fix_before, fix_after, fraction, "
	    "speed_kmh, direction, final, low_confidence", "SELECT NULL::int8, "
	    "NULL::int8, NULL::int8, NULL::int4, NULL::timestamptz, NULL::real, "
	    "NULL::timestamptz, NULL::timestamptz, NULL::real, NULL::real, "
	    "NULL::int2, NULL::bool, NULL::bool WHERE false", &b->bt_rec);
	buf_puts(&b->bt_sql, "), del AS (DELETE FROM timing_records t USING k "
	    "WHERE t.entry_id = k.entry_id AND t.stage_id = k.stage_id AND NOT "
	    "EXISTS (SELECT 1 FROM v WHERE v.entry_id = t.entry_id AND "
	    "v.stage_id = t.stage_id AND v.gate_id = t.gate_id AND "
	    "v.pass_number = t.pass_number) RETURNING 1), "
	    "up AS (INSERT INTO timing_records AS t (entry_id, stage_id, "
	    "gate_id, pass_number, crossing_time, uncertainty_ms, fix_before, "
	    "fix_after, fraction, speed_kmh, direction, final, low_confidence, "
	    "source, revision) SELECT v.*, 'live', "
	    RACE_NEXT_REVISION("v.entry_id", "v.stage_id") " FROM v ");
	buf_puts(&b->bt_sql, race_records_upsert);
	if ((res = race_batch_sql(b, "writing timing_records")) == NULL)
		return -1;
	b->bt_out->ro_removed += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	b->bt_out->ro_records += strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	b->bt_out->ro_revisions += strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return 0;
}

/* Penalty evidence of every pair: as race_store_penalties, all at once. */
static int
batch_store_penalties(struct batch *b)
{
	PGresult	*res;

	batch_with_rows(b, "entry_id, stage_id, gate_id, visit, entered_at, "
	    "exited_at, time_over_s, max_excess_kmh, avg_speed_kmh, limit_kmh, "
	    "rule, penalty_s", "SELECT NULL::int8, NULL::int8, NULL::int8, "
	    "NULL::int4, NULL::timestamptz, NULL::timestamptz, NULL::real, "
	    "NULL::real, NULL::real, NULL::real, NULL::jsonb, NULL::real "
	    "WHERE false", &b->bt_pen);
	buf_puts(&b->bt_sql, "), del AS (DELETE FROM race_penalties p USING k "
	    "WHERE p.entry_id = k.entry_id AND p.stage_id = k.stage_id AND NOT "
	    "EXISTS (SELECT 1 FROM v WHERE v.entry_id = p.entry_id AND "
	    "v.stage_id = p.stage_id AND v.gate_id = p.gate_id AND v.visit = "
	    "p.visit)) INSERT INTO race_penalties AS p (entry_id, stage_id, "
	    "gate_id, visit, entered_at, exited_at, time_over_s, max_excess_kmh, "
	    "avg_speed_kmh, limit_kmh, rule, penalty_s) SELECT v.* FROM v ");
	buf_puts(&b->bt_sql, race_penalties_upsert);
	if ((res = race_batch_sql(b, "writing race_penalties")) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

static int
batch_store_cursor(struct batch *b)
{
	PGresult	*res;

	if ((res = race_batch_exec(b, batch_cursor_sql, &b->bt_cur, NULL,
	    PGRES_TUPLES_OK, "writing race_cursor")) == NULL)
		return -1;
	b->bt_out->ro_late += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static int
batch_stage_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The touched stages, ascending (the lock order), as an int8[] literal. */
static int
batch_stages(struct batch *b, struct batch_args *a)
{
	int64_t	*ids;
	size_t	 i, n = 0;

	if ((ids = calloc(b->bt_npair, sizeof(*ids))) == NULL)
		return race_batch_oom(b, "listing the stages");
	for (i = 0; i < b->bt_npair; i++)
		if (b->bt_pair[i].bp_nfix > 0)
			ids[n++] = b->bt_pair[i].bp_rs->rs_id;
	qsort(ids, n, sizeof(*ids), batch_stage_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			race_batch_arr_int(a, 0, ids[i]);
	free(ids);
	return 0;
}

/*
 * The stage results, then each touched stage ranked once.  Under the
 * stages' locks, taken in ascending order so that two evaluators (or a
 * replay, which takes one) never wait for each other in a cycle.
 */
static int
batch_store_results(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	char			 sql[sizeof(batch_stage_lock_sql) + 16];

	race_batch_arr_init(&a, 1);
	if (batch_stages(b, &a) == -1) {
		race_batch_arr_free(&a);
		return -1;
	}
	snprintf(sql, sizeof(sql), batch_stage_lock_sql, RACE_LOCK_STAGE);
	res = race_batch_exec(b, sql, &a, NULL, PGRES_TUPLES_OK,
	    "locking the stages");
	PQclear(res);
	if (res == NULL) {
		race_batch_arr_free(&a);
		return -1;
	}
	buf_reset(&b->bt_sql);
	buf_puts(&b->bt_sql, "WITH v(entry_id, stage_id, start_time, "
	    "finish_time, elapsed_ms, splits, waypoints, penalties_s, status, "
	    "provisional, low_confidence) AS (VALUES ");
	buf_append(&b->bt_sql, b->bt_res.b_data, b->bt_res.b_len);
	buf_puts(&b->bt_sql, ") INSERT INTO stage_results AS r (entry_id, "
	    "stage_id, start_time, finish_time, elapsed_ms, splits, waypoints, "
	    "penalties_s, status, provisional, low_confidence) SELECT v.* "
	    "FROM v ");
	buf_puts(&b->bt_sql, race_results_upsert);
	if ((res = race_batch_sql(b, "writing stage_results")) == NULL) {
		race_batch_arr_free(&a);
		return -1;
	}
	b->bt_out->ro_results += strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	res = race_batch_exec(b, race_rank_sql, &a, NULL, PGRES_COMMAND_OK,
	    "ranking the stages");
	race_batch_arr_free(&a);
	PQclear(res);
	return res == NULL ? -1 : 0;
}

/* Domain events and safety alerts of every pair, after its rows. */
static int
batch_events_alerts(struct batch *b)
{
	PGresult	*res;

	if ((res = race_batch_exec(b, batch_events_sql, &b->bt_evt, NULL,
	    PGRES_TUPLES_OK, "queueing the events")) == NULL)
		return -1;
	PQclear(res);
	if (b->bt_alert.ba_arr[0].b_len <= 1)
		return 0;	/* no pair with a fix */
	if ((res = race_batch_exec(b, batch_alerts_sql, &b->bt_alert, NULL,
	    PGRES_TUPLES_OK, "alerts")) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Drop the locked devices' marks unless a worker marked them again. */
int
race_batch_unmark(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	char			 t[24];
	size_t			 i;

	race_batch_arr_init(&a, 3);
	for (i = 0; i < b->bt_nmark; i++)
		if (b->bt_locked[i]) {
			race_batch_arr_text(&a, 0, b->bt_mark[i].rm_device);
			race_batch_arr_int(&a, 1, b->bt_mark[i].rm_gen);
			race_batch_arr_int(&a, 2, b->bt_mark[i].rm_marked_us);
		}
	snprintf(t, sizeof(t), "%" PRId64, b->bt_read_us);
	res = race_batch_exec(b, batch_unmark_sql, &a, t, PGRES_COMMAND_OK,
	    "dropping the work marks");
	race_batch_arr_free(&a);
	PQclear(res);
	return res == NULL ? -1 : 0;
}

/* Every table's rows of the pairs computed, in race_eval's order. */
int
race_batch_store(struct batch *b)
{
	if (batch_store_records(b) == -1 || batch_store_penalties(b) == -1 ||
	    batch_store_cursor(b) == -1 || batch_store_results(b) == -1 ||
	    batch_events_alerts(b) == -1)
		return -1;
	return 0;
}
