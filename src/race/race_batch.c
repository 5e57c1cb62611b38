/* Evaluating a round of marked devices in one transaction, set-based. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_alert.h"
#include "race/race_batch.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_fixcache.h"
#include "race/race_pg.h"

/*
 * Why a round and not a device per transaction: an evaluation is a dozen
 * small statements and a COMMIT (a WAL flush) for a few hundred fixes, and
 * ranking the stage after every device re-sorts all its results.  Here the
 * statements and the flush are per round, and each stage is ranked once.
 */

static const char batch_lock_sql[] =
	"SELECT u.i FROM unnest($1::text[]) WITH ORDINALITY u(d, i) "
	"WHERE pg_try_advisory_xact_lock(%d, hashtext(u.d))";

/*
 * The fixes of every pair's range, tagged with the pair's ordinal, in
 * order: whole rows newer than w.f (what the cache cannot hold yet), only
 * the time of the others (n false), so that a round costs PostgreSQL an
 * index probe, not a row's decoding, per fix it has seen before.
 */
static const char batch_fixes_sql[] =
	"SELECT w.i, p.n, (extract(epoch FROM p.ts) * 1000000)::int8, "
	"CASE WHEN p.n THEN p.latitude END, CASE WHEN p.n THEN p.longitude END, "
	"CASE WHEN p.n THEN p.speed END, CASE WHEN p.n THEN p.angle END, "
	"CASE WHEN p.n THEN p.satellites END, "
	"CASE WHEN p.n THEN p.attributes->>'182' END "
	"FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) WITH "
	"ORDINALITY w(d, lo, hi, f, i) CROSS JOIN LATERAL "
	"(SELECT ts, latitude, longitude, speed, angle, satellites, attributes, "
	"ts > 'epoch'::timestamptz + w.f * interval '1 microsecond' AS n "
	"FROM positions WHERE device_id = w.d "
	"AND ts >= 'epoch'::timestamptz + w.lo * interval '1 microsecond' "
	"AND ts <= 'epoch'::timestamptz + w.hi * interval '1 microsecond') p "
	"ORDER BY w.i, p.ts";

/* Whole rows of fixes older than the cache's newest that it lacks (late). */
static const char batch_late_sql[] =
	"SELECT w.k, " RACE_FIX_COLS " FROM unnest($1::text[], $2::int8[], "
	"$3::int8[]) w(d, t, k) JOIN positions p ON p.device_id = w.d AND "
	"p.ts = 'epoch'::timestamptz + w.t * interval '1 microsecond' "
	"ORDER BY w.k, p.ts";

/* What the cursors say now: a cache entry is whole if no one else wrote since. */
static const char batch_evals_sql[] =
	"SELECT u.i, k.evaluations FROM unnest($1::text[], $2::int8[]) WITH "
	"ORDINALITY u(d, s, i) JOIN race_cursor k ON k.device_id = u.d AND "
	"k.stage_id = u.s";

static const char batch_old_sql[] =
	"SELECT processor_race_events_old(u.e, u.s) FROM unnest($1::int8[], "
	"$2::int8[]) WITH ORDINALITY u(e, s, i) ORDER BY u.i";

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

/* One (entry, stage) of a marked device. */
struct batch_pair {
	const struct race_entry	*bp_re;
	const struct race_stage	*bp_rs;
	size_t			 bp_mark;
	struct race_fc_entry	*bp_fe;		/* its fixes (the cache) */
	int64_t			 bp_lo, bp_hi;	/* the stage window */
	int64_t			 bp_from, bp_to;	/* what this round reads */
	int64_t			 bp_newer;	/* whole rows after this */
	int64_t			 bp_evals;	/* race_cursor.evaluations; 0: none */
	size_t			 bp_fix0, bp_nread;	/* read, in bt_fix */
	size_t			 bp_nfix;	/* held, after the merge */
	char			*bp_old;	/* processor_race_events_old */
};

/* Array parameters, one PostgreSQL array literal each. */
#define BATCH_ARR_MAX	9

struct batch_args {
	struct buf	ba_arr[BATCH_ARR_MAX];
	int		ba_n;
};

struct batch {
	PGconn			*bt_conn;
	const struct race_event	*bt_ev;
	struct race_mark	*bt_mark;
	size_t			 bt_nmark;
	int			*bt_locked;
	int64_t			 bt_now_us;
	int64_t			 bt_read_us;	/* PostgreSQL's time at the marks' read */
	struct race_outcome	*bt_out;
	struct race_fc		*bt_fc;
	struct batch_pair	*bt_pair;
	size_t			 bt_npair, bt_cappair;
	size_t			 bt_ncomputed;	/* pairs with fixes */
	struct fix		*bt_fix;
	size_t			 bt_nfix;
	struct race_rules	*bt_ru;		/* one pair's rules output */
	struct buf		 bt_rec, bt_pen, bt_res, bt_keys, bt_sql;
	struct batch_args	 bt_cur, bt_evt, bt_alert;
	char			*bt_err;
	size_t			 bt_errlen;
};

static int
batch_fail(struct batch *b, const char *what, PGresult *res)
{
	return race_pg_fail(res, b->bt_conn, what, b->bt_err, b->bt_errlen);
}

static int
batch_oom(struct batch *b, const char *what)
{
	snprintf(b->bt_err, b->bt_errlen, "%s: out of memory", what);
	return -1;
}

static void
batch_arr_init(struct batch_args *a, int n)
{
	int	i;

	a->ba_n = n;
	for (i = 0; i < n; i++) {
		buf_init(&a->ba_arr[i]);
		buf_putc(&a->ba_arr[i], '{');
	}
}

static void
batch_arr_free(struct batch_args *a)
{
	int	i;

	for (i = 0; i < a->ba_n; i++)
		buf_free(&a->ba_arr[i]);
}

static void
batch_arr_sep(struct buf *b)
{
	if (b->b_len > 1)
		buf_putc(b, ',');
}

/* An element quoted for an array literal (any text, NULL for none). */
static void
batch_arr_text(struct batch_args *a, int k, const char *s)
{
	struct buf	*b = &a->ba_arr[k];

	batch_arr_sep(b);
	if (s == NULL) {
		buf_puts(b, "NULL");
		return;
	}
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
batch_arr_int(struct batch_args *a, int k, int64_t v)
{
	batch_arr_sep(&a->ba_arr[k]);
	buf_printf(&a->ba_arr[k], "%" PRId64, v);
}

/*
 * Run sql with the arrays of a as $1.. and then last, if not NULL; the
 * result, or NULL on error.  a stays open for more elements.
 */
static PGresult *
batch_exec(struct batch *b, const char *sql, struct batch_args *a,
    const char *last, ExecStatusType want, const char *what)
{
	const char	*params[BATCH_ARR_MAX + 1];
	PGresult	*res;
	int		 i;

	for (i = 0; i < a->ba_n; i++)
		if (buf_putc(&a->ba_arr[i], '}') == -1 ||
		    (params[i] = buf_cstr(&a->ba_arr[i])) == NULL) {
			batch_oom(b, what);
			return NULL;
		}
	params[a->ba_n] = last;
	res = PQexecParams(b->bt_conn, sql, a->ba_n + (last != NULL), NULL,
	    params, NULL, NULL, 0);
	for (i = 0; i < a->ba_n; i++)
		a->ba_arr[i].b_len--;	/* the '}': more elements may follow */
	if (PQresultStatus(res) != want) {
		batch_fail(b, what, res);
		return NULL;
	}
	return res;
}

/* A statement built in bt_sql, no parameters; NULL on error. */
static PGresult *
batch_sql(struct batch *b, const char *what)
{
	return race_pg_exec(b->bt_conn, &b->bt_sql, what, b->bt_err,
	    b->bt_errlen);
}

/* Try every device's lock; bt_locked[i] says who we hold. */
static int
batch_lock(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	char			 sql[sizeof(batch_lock_sql) + 16];
	size_t			 i;
	long			 k;
	int			 r;

	batch_arr_init(&a, 1);
	for (i = 0; i < b->bt_nmark; i++)
		batch_arr_text(&a, 0, b->bt_mark[i].rm_device);
	snprintf(sql, sizeof(sql), batch_lock_sql, RACE_LOCK_DEVICE);
	res = batch_exec(b, sql, &a, NULL, PGRES_TUPLES_OK,
	    "locking the devices");
	batch_arr_free(&a);
	if (res == NULL)
		return -1;
	for (r = 0; r < PQntuples(res); r++) {
		k = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
		if (k >= 0 && (size_t)k < b->bt_nmark)
			b->bt_locked[k] = 1;
	}
	PQclear(res);
	return 0;
}

static int
batch_add_pair(struct batch *b, const struct race_entry *re,
    const struct race_stage *rs, size_t mark)
{
	struct batch_pair	*np;
	size_t			 cap;

	if (b->bt_npair == b->bt_cappair) {
		cap = b->bt_cappair ? b->bt_cappair * 2 : 64;
		if ((np = reallocarray(b->bt_pair, cap, sizeof(*np))) == NULL)
			return batch_oom(b, "listing the stages");
		b->bt_pair = np;
		b->bt_cappair = cap;
	}
	np = &b->bt_pair[b->bt_npair++];
	memset(np, 0, sizeof(*np));
	np->bp_re = re;
	np->bp_rs = rs;
	np->bp_mark = mark;
	return 0;
}

/* Every (entry, stage) of the locked devices, as race_eval_locked walks them. */
static int
batch_pairs(struct batch *b)
{
	const struct race_entry	*re;
	const struct race_stage	*rs;
	size_t			 m, ne, i, s;

	for (m = 0; m < b->bt_nmark; m++) {
		if (!b->bt_locked[m])
			continue;
		re = race_event_entries(b->bt_ev, b->bt_mark[m].rm_device, &ne);
		for (i = 0; i < ne; i++)
			for (s = 0; s < b->bt_ev->ev_nstages; s++) {
				rs = &b->bt_ev->ev_stages[s];
				if (rs->rs_event == re[i].re_event &&
				    batch_add_pair(b, &re[i], rs, m) == -1)
					return -1;
			}
	}
	return 0;
}

/* Is a fix of this time in the entry (sorted by time)? */
static int
batch_cached(const struct race_fc_entry *fe, int64_t ts)
{
	size_t	lo = 0, hi = fe->fe_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (fe->fe_fix[mid].f_ts_us < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fe->fe_n && fe->fe_fix[lo].f_ts_us == ts;
}

/* Parse the rows of res (fix columns from c) into a new array, by pair. */
static int
batch_parse(struct batch *b, PGresult *res, int c, int whole,
    struct fix **out, struct batch_args *late)
{
	struct batch_pair	*bp;
	struct fix		 f;
	size_t			 i, *n;
	long			 k;
	int			 r, nr = PQntuples(res);

	if ((*out = calloc((size_t)nr + 1, sizeof(**out))) == NULL ||
	    (n = calloc(b->bt_npair + 1, sizeof(*n))) == NULL)
		return batch_oom(b, "reading fixes");
	/* rows come grouped by pair: count, then place */
	for (r = 0; r < nr; r++) {
		k = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
		if (k < 0 || (size_t)k >= b->bt_npair)
			continue;
		bp = &b->bt_pair[k];
		if (!whole && *PQgetvalue(res, r, 1) != 't') {
			f.f_ts_us = strtoll(PQgetvalue(res, r, 2), NULL, 10);
			if (!batch_cached(bp->bp_fe, f.f_ts_us)) {
				batch_arr_text(late, 0, b->bt_mark[bp->bp_mark].rm_device);
				batch_arr_int(late, 1, f.f_ts_us);
				batch_arr_int(late, 2, k + 1);
			}
			continue;
		}
		race_fix_row(&(*out)[r], res, r, c);
		if (n[k]++ == 0)
			bp->bp_fix0 = (size_t)r;
	}
	for (i = 0; i < b->bt_npair; i++)
		if (n[i] > 0 && race_fc_merge(b->bt_fc, b->bt_pair[i].bp_fe,
		    &(*out)[b->bt_pair[i].bp_fix0], n[i]) == -1) {
			free(n);
			return batch_oom(b, "keeping fixes");
		}
	free(n);
	return 0;
}

/*
 * The fixes of every pair's range in one query, merged into the cache;
 * then, in a second, those the cache lacks among the older ones.
 */
static int
batch_read_fixes(struct batch *b)
{
	struct batch_args	 a, late;
	PGresult		*res;
	struct fix		*late_fix = NULL;
	size_t			 i;
	int			 rc;

	batch_arr_init(&a, 4);
	for (i = 0; i < b->bt_npair; i++) {
		batch_arr_text(&a, 0, b->bt_mark[b->bt_pair[i].bp_mark].rm_device);
		batch_arr_int(&a, 1, b->bt_pair[i].bp_from);
		batch_arr_int(&a, 2, b->bt_pair[i].bp_to);
		batch_arr_int(&a, 3, b->bt_pair[i].bp_newer);
	}
	res = batch_exec(b, batch_fixes_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading fixes");
	batch_arr_free(&a);
	if (res == NULL)
		return -1;
	b->bt_nfix = (size_t)PQntuples(res);
	batch_arr_init(&late, 3);
	rc = batch_parse(b, res, 2, 0, &b->bt_fix, &late);
	PQclear(res);
	if (rc == 0 && late.ba_arr[0].b_len > 1) {
		res = batch_exec(b, batch_late_sql, &late, NULL,
		    PGRES_TUPLES_OK, "reading late fixes");
		rc = res == NULL ? -1 : batch_parse(b, res, 1, 1, &late_fix,
		    NULL);
		PQclear(res);
		free(late_fix);
	}
	batch_arr_free(&late);
	for (i = 0; rc == 0 && i < b->bt_npair; i++)
		b->bt_pair[i].bp_nfix = b->bt_pair[i].bp_fe->fe_n;
	return rc;
}

/* Each pair's race_cursor.evaluations (0: no row). */
static int
batch_read_evals(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	size_t			 i;
	long			 k;
	int			 r;

	batch_arr_init(&a, 2);
	for (i = 0; i < b->bt_npair; i++) {
		batch_arr_text(&a, 0, b->bt_mark[b->bt_pair[i].bp_mark].rm_device);
		batch_arr_int(&a, 1, b->bt_pair[i].bp_rs->rs_id);
	}
	res = batch_exec(b, batch_evals_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading race_cursor");
	batch_arr_free(&a);
	if (res == NULL)
		return -1;
	for (r = 0; r < PQntuples(res); r++) {
		k = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
		if (k >= 0 && (size_t)k < b->bt_npair)
			b->bt_pair[k].bp_evals = strtoll(PQgetvalue(res, r, 1),
			    NULL, 10);
	}
	PQclear(res);
	return 0;
}

/*
 * What each pair reads: only the range of its mark when the cache holds
 * the rest (race_fixcache.h says why that is exact), else the whole stage
 * window (a minute either side), emptying its cache entry.
 */
static int
batch_plan(struct batch *b)
{
	const struct race_stage	*rs;
	const struct race_mark	*m;
	struct race_fc_entry	*fe;
	struct batch_pair	*bp;
	double			 now = race_fc_now();
	size_t			 i;

	/* entries first: race_fc_get may move the table */
	for (i = 0; i < b->bt_npair; i++)
		if (race_fc_get(b->bt_fc, b->bt_mark[b->bt_pair[i].bp_mark].
		    rm_device, b->bt_pair[i].bp_rs->rs_id) == NULL)
			return batch_oom(b, "keeping fixes");
	for (i = 0; i < b->bt_npair; i++) {
		bp = &b->bt_pair[i];
		rs = bp->bp_rs;
		m = &b->bt_mark[bp->bp_mark];
		fe = bp->bp_fe = race_fc_find(b->bt_fc, m->rm_device, rs->rs_id);
		bp->bp_lo = rs->rs_opens_us ? rs->rs_opens_us - RACE_WINDOW_US : 0;
		bp->bp_hi = rs->rs_closes_us ? rs->rs_closes_us +
		    RACE_WINDOW_US : INT64_C(32503680000000000);
		if (fe->fe_n > 0 && fe->fe_lo == bp->bp_lo &&
		    fe->fe_hi == bp->bp_hi && fe->fe_evals == bp->bp_evals &&
		    now - fe->fe_filled < RACE_FC_TTL_S) {
			bp->bp_from = m->rm_min_ts_us > bp->bp_lo ?
			    m->rm_min_ts_us : bp->bp_lo;
			bp->bp_to = m->rm_max_ts_us < bp->bp_hi ?
			    m->rm_max_ts_us : bp->bp_hi;
			bp->bp_newer = fe->fe_fix[fe->fe_n - 1].f_ts_us;
			continue;
		}
		race_fc_reset(b->bt_fc, fe);
		fe->fe_lo = bp->bp_from = bp->bp_lo;
		fe->fe_hi = bp->bp_to = bp->bp_hi;
		bp->bp_newer = bp->bp_lo - 1;
		fe->fe_filled = now;
		fe->fe_evals = -1;	/* set when this round commits */
	}
	return 0;
}

/* What the rows of the pairs with fixes say before this round rewrites them. */
static int
batch_read_old(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	size_t			 i;
	int			 r = 0;

	batch_arr_init(&a, 2);
	for (i = 0; i < b->bt_npair; i++)
		if (b->bt_pair[i].bp_nfix > 0) {
			batch_arr_int(&a, 0, b->bt_pair[i].bp_re->re_id);
			batch_arr_int(&a, 1, b->bt_pair[i].bp_rs->rs_id);
		}
	res = batch_exec(b, batch_old_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading the rows' state");
	batch_arr_free(&a);
	if (res == NULL)
		return -1;
	for (i = 0; i < b->bt_npair; i++) {
		if (b->bt_pair[i].bp_nfix == 0)
			continue;
		if (r >= PQntuples(res) || (b->bt_pair[i].bp_old =
		    strdup(PQgetvalue(res, r++, 0))) == NULL) {
			PQclear(res);
			return batch_oom(b, "reading the rows' state");
		}
	}
	PQclear(res);
	return 0;
}

/* One pair's rows into the round's statements. */
static int
batch_rows(struct batch *b, const struct batch_pair *bp)
{
	const struct race_rules	*ru = b->bt_ru;
	const struct race_stage	*rs = bp->bp_rs;
	const struct race_mark	*m = &b->bt_mark[bp->bp_mark];
	struct race_alert_in	 in;
	char			 key[64], pre[80];
	size_t			 i;
	int			 k;

	snprintf(key, sizeof(key), "%" PRId64 "::int8, %" PRId64 "::int8",
	    bp->bp_re->re_id, rs->rs_id);
	buf_printf(&b->bt_keys, "%s(%s)", b->bt_keys.b_len ? ", " : "", key);
	for (i = 0; i < ru->ru_nrec; i++) {
		buf_printf(&b->bt_rec, "%s(%s, ", b->bt_rec.b_len ? ", " : "",
		    key);
		race_record_sql(&b->bt_rec, rs, &ru->ru_rec[i]);
		buf_puts(&b->bt_rec, ")");
	}
	for (k = 0; k < rs->rs_stage.st_nzone; k++) {
		snprintf(pre, sizeof(pre), "%s(%s, ", b->bt_pen.b_len ? ", " :
		    "", key);
		switch (race_penalty_sql(&b->bt_pen, b->bt_conn, rs,
		    &ru->ru_res, k, pre)) {
		case -1:
			return batch_fail(b, "quoting a penalty rule", NULL);
		case 1:
			buf_puts(&b->bt_pen, ")");
		}
	}
	buf_printf(&b->bt_res, "%s(%s, ", b->bt_res.b_len ? ", " : "", key);
	race_result_sql(&b->bt_res, rs, &ru->ru_res);
	buf_puts(&b->bt_res, ")");
	batch_arr_text(&b->bt_cur, 0, m->rm_device);
	batch_arr_int(&b->bt_cur, 1, rs->rs_id);
	batch_arr_int(&b->bt_cur, 2, ru->ru_fix[ru->ru_nfix - 1].f_ts_us);
	batch_arr_int(&b->bt_cur, 3, (int64_t)ru->ru_nfix);
	batch_arr_int(&b->bt_cur, 4, m->rm_min_ts_us);
	batch_arr_int(&b->bt_evt, 0, bp->bp_re->re_id);
	batch_arr_int(&b->bt_evt, 1, rs->rs_id);
	batch_arr_text(&b->bt_evt, 2, m->rm_device);
	batch_arr_text(&b->bt_evt, 3, bp->bp_old);
	if (race_alert_input(rs, ru, &in) == 1) {
		batch_arr_int(&b->bt_alert, 0, bp->bp_re->re_id);
		batch_arr_int(&b->bt_alert, 1, rs->rs_id);
		batch_arr_text(&b->bt_alert, 2, m->rm_device);
		batch_arr_text(&b->bt_alert, 3, in.ai_running ? "t" : "f");
		batch_arr_int(&b->bt_alert, 4, in.ai_last_us);
		if (in.ai_stopped)
			batch_arr_int(&b->bt_alert, 5, in.ai_since_us);
		else
			batch_arr_text(&b->bt_alert, 5, NULL);
		batch_arr_text(&b->bt_alert, 6, in.ai_slow ? "t" : "f");
		batch_arr_sep(&b->bt_alert.ba_arr[7]);
		buf_printf(&b->bt_alert.ba_arr[7], "%.7f", in.ai_lat);
		batch_arr_sep(&b->bt_alert.ba_arr[8]);
		buf_printf(&b->bt_alert.ba_arr[8], "%.7f", in.ai_lon);
	}
	return 0;
}

/* The rules on every pair with fixes, exactly as race_compute runs them. */
static int
batch_compute(struct batch *b)
{
	struct race_rules	*ru = b->bt_ru;
	struct batch_pair	*bp;
	size_t			 i;

	for (i = 0; i < b->bt_npair; i++) {
		bp = &b->bt_pair[i];
		if (bp->bp_nfix == 0)
			continue;	/* nothing on this stage (yet) */
		ru->ru_fix = bp->bp_fe->fe_fix;
		ru->ru_nfix = bp->bp_fe->fe_n;
		ru->ru_nrec = 0;
		if (stage_eval(&bp->bp_rs->rs_stage, ru->ru_fix, ru->ru_nfix,
		    b->bt_now_us, ru->ru_rec, RACE_MAX_RECORDS, &ru->ru_nrec,
		    &ru->ru_res) == -1) {
			snprintf(b->bt_err, b->bt_errlen, "out of memory "
			    "evaluating stage %" PRId64, bp->bp_rs->rs_id);
			return -1;
		}
		if (batch_rows(b, bp) == -1)
			return -1;
		b->bt_ncomputed++;
		b->bt_out->ro_stages++;
	}
	ru->ru_fix = NULL;
	ru->ru_nfix = 0;
	return 0;
}

/* The timing records of every pair: as race_store_records, all at once. */
static int
batch_store_records(struct batch *b)
{
	PGresult	*res;

	buf_reset(&b->bt_sql);
	buf_puts(&b->bt_sql, "WITH v(entry_id, stage_id, gate_id, pass_number, "
	    "crossing_time, uncertainty_ms, fix_before, fix_after, fraction, "
	    "speed_kmh, direction, final, low_confidence) AS (");
	if (b->bt_rec.b_len == 0)
		buf_puts(&b->bt_sql, "SELECT NULL::int8, NULL::int8, NULL::int8, "
		    "NULL::int4, NULL::timestamptz, NULL::real, NULL::timestamptz, "
		    "NULL::timestamptz, NULL::real, NULL::real, NULL::int2, "
		    "NULL::bool, NULL::bool WHERE false");
	else {
		buf_puts(&b->bt_sql, "VALUES ");
		buf_append(&b->bt_sql, b->bt_rec.b_data, b->bt_rec.b_len);
	}
	buf_puts(&b->bt_sql, "), k(entry_id, stage_id) AS (VALUES ");
	buf_append(&b->bt_sql, b->bt_keys.b_data, b->bt_keys.b_len);
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
	if ((res = batch_sql(b, "writing timing_records")) == NULL)
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

	buf_reset(&b->bt_sql);
	buf_puts(&b->bt_sql, "WITH v(entry_id, stage_id, gate_id, visit, "
	    "entered_at, exited_at, time_over_s, max_excess_kmh, avg_speed_kmh, "
	    "limit_kmh, rule, penalty_s) AS (");
	if (b->bt_pen.b_len == 0)
		buf_puts(&b->bt_sql, "SELECT NULL::int8, NULL::int8, NULL::int8, "
		    "NULL::int4, NULL::timestamptz, NULL::timestamptz, NULL::real, "
		    "NULL::real, NULL::real, NULL::real, NULL::jsonb, NULL::real "
		    "WHERE false");
	else {
		buf_puts(&b->bt_sql, "VALUES ");
		buf_append(&b->bt_sql, b->bt_pen.b_data, b->bt_pen.b_len);
	}
	buf_puts(&b->bt_sql, "), k(entry_id, stage_id) AS (VALUES ");
	buf_append(&b->bt_sql, b->bt_keys.b_data, b->bt_keys.b_len);
	buf_puts(&b->bt_sql, "), del AS (DELETE FROM race_penalties p USING k "
	    "WHERE p.entry_id = k.entry_id AND p.stage_id = k.stage_id AND NOT "
	    "EXISTS (SELECT 1 FROM v WHERE v.entry_id = p.entry_id AND "
	    "v.stage_id = p.stage_id AND v.gate_id = p.gate_id AND v.visit = "
	    "p.visit)) INSERT INTO race_penalties AS p (entry_id, stage_id, "
	    "gate_id, visit, entered_at, exited_at, time_over_s, max_excess_kmh, "
	    "avg_speed_kmh, limit_kmh, rule, penalty_s) SELECT v.* FROM v ");
	buf_puts(&b->bt_sql, race_penalties_upsert);
	if ((res = batch_sql(b, "writing race_penalties")) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

static int
batch_store_cursor(struct batch *b)
{
	PGresult	*res;

	if ((res = batch_exec(b, batch_cursor_sql, &b->bt_cur, NULL,
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
		return batch_oom(b, "listing the stages");
	for (i = 0; i < b->bt_npair; i++)
		if (b->bt_pair[i].bp_nfix > 0)
			ids[n++] = b->bt_pair[i].bp_rs->rs_id;
	qsort(ids, n, sizeof(*ids), batch_stage_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			batch_arr_int(a, 0, ids[i]);
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

	batch_arr_init(&a, 1);
	if (batch_stages(b, &a) == -1) {
		batch_arr_free(&a);
		return -1;
	}
	snprintf(sql, sizeof(sql), batch_stage_lock_sql, RACE_LOCK_STAGE);
	res = batch_exec(b, sql, &a, NULL, PGRES_TUPLES_OK,
	    "locking the stages");
	PQclear(res);
	if (res == NULL) {
		batch_arr_free(&a);
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
	if ((res = batch_sql(b, "writing stage_results")) == NULL) {
		batch_arr_free(&a);
		return -1;
	}
	b->bt_out->ro_results += strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	res = batch_exec(b, race_rank_sql, &a, NULL, PGRES_COMMAND_OK,
	    "ranking the stages");
	batch_arr_free(&a);
	PQclear(res);
	return res == NULL ? -1 : 0;
}

/* Domain events and safety alerts of every pair, after its rows. */
static int
batch_events_alerts(struct batch *b)
{
	PGresult	*res;

	if ((res = batch_exec(b, batch_events_sql, &b->bt_evt, NULL,
	    PGRES_TUPLES_OK, "queueing the events")) == NULL)
		return -1;
	PQclear(res);
	if (b->bt_alert.ba_arr[0].b_len <= 1)
		return 0;	/* no pair with a fix */
	if ((res = batch_exec(b, batch_alerts_sql, &b->bt_alert, NULL,
	    PGRES_TUPLES_OK, "alerts")) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Drop the locked devices' marks unless a worker marked them again. */
static int
batch_unmark(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	char			 t[24];
	size_t			 i;

	batch_arr_init(&a, 3);
	for (i = 0; i < b->bt_nmark; i++)
		if (b->bt_locked[i]) {
			batch_arr_text(&a, 0, b->bt_mark[i].rm_device);
			batch_arr_int(&a, 1, b->bt_mark[i].rm_gen);
			batch_arr_int(&a, 2, b->bt_mark[i].rm_marked_us);
		}
	snprintf(t, sizeof(t), "%" PRId64, b->bt_read_us);
	res = batch_exec(b, batch_unmark_sql, &a, t, PGRES_COMMAND_OK,
	    "dropping the work marks");
	batch_arr_free(&a);
	PQclear(res);
	return res == NULL ? -1 : 0;
}

static int
batch_run(struct batch *b)
{
	size_t	i, nlocked = 0;

	if (batch_lock(b) == -1)
		return -1;
	for (i = 0; i < b->bt_nmark; i++)
		nlocked += (size_t)b->bt_locked[i];
	if (nlocked == 0)
		return 0;	/* all busy with another evaluator */
	if (batch_pairs(b) == -1)
		return -1;
	if (b->bt_npair > 0 && (batch_read_evals(b) == -1 ||
	    batch_plan(b) == -1 || batch_read_fixes(b) == -1 ||
	    batch_read_old(b) == -1 || batch_compute(b) == -1))
		return -1;
	if (b->bt_ncomputed > 0 && (batch_store_records(b) == -1 ||
	    batch_store_penalties(b) == -1 || batch_store_cursor(b) == -1 ||
	    batch_store_results(b) == -1 || batch_events_alerts(b) == -1))
		return -1;
	return batch_unmark(b);
}

static int
batch_init(struct batch *b)
{
	buf_init(&b->bt_rec);
	buf_init(&b->bt_pen);
	buf_init(&b->bt_res);
	buf_init(&b->bt_keys);
	buf_init(&b->bt_sql);
	batch_arr_init(&b->bt_cur, 5);
	batch_arr_init(&b->bt_evt, 4);
	batch_arr_init(&b->bt_alert, 9);
	b->bt_locked = calloc(b->bt_nmark ? b->bt_nmark : 1,
	    sizeof(*b->bt_locked));
	b->bt_ru = calloc(1, sizeof(*b->bt_ru));
	return b->bt_locked == NULL || b->bt_ru == NULL ? -1 : 0;
}

static void
batch_free(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->bt_npair; i++)
		free(b->bt_pair[i].bp_old);
	free(b->bt_pair);
	free(b->bt_fix);
	free(b->bt_ru);
	free(b->bt_locked);
	buf_free(&b->bt_rec);
	buf_free(&b->bt_pen);
	buf_free(&b->bt_res);
	buf_free(&b->bt_keys);
	buf_free(&b->bt_sql);
	batch_arr_free(&b->bt_cur);
	batch_arr_free(&b->bt_evt);
	batch_arr_free(&b->bt_alert);
}

/*
 * After COMMIT, the cache entries are as good as the cursors this round
 * wrote (evaluations + 1); after a failure nothing is known: empty it.
 */
static void
batch_fc_done(struct batch *b, int ok)
{
	struct batch_pair	*bp;
	size_t			 i;

	if (!ok || b->bt_fc->fc_fixes > RACE_FC_MAX_FIXES) {
		race_fc_clear(b->bt_fc);
		return;
	}
	for (i = 0; i < b->bt_npair; i++) {
		bp = &b->bt_pair[i];
		if (bp->bp_nfix > 0)	/* evaluated: its cursor written */
			bp->bp_fe->fe_evals = bp->bp_evals + 1;
	}
}

static int
batch_end(struct batch *b, int ok)
{
	PGresult	*res = PQexec(b->bt_conn, ok ? "COMMIT" : "ROLLBACK");

	if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
		return batch_fail(b, "COMMIT", res);
	PQclear(res);
	return ok ? 0 : -1;
}

int
race_batch_eval(PGconn *conn, const struct race_event *ev,
    struct race_fc *fc, struct race_mark *marks, size_t n, int64_t read_us,
    int64_t now_us, struct race_outcome *out, char *err, size_t errlen)
{
	struct batch		 b;
	struct race_outcome	 o;
	PGresult		*res;
	size_t			 i;
	int			 ok;

	memset(&b, 0, sizeof(b));
	b.bt_conn = conn;
	b.bt_ev = ev;
	b.bt_fc = fc;
	b.bt_mark = marks;
	b.bt_nmark = n;
	b.bt_now_us = now_us;
	b.bt_read_us = read_us;
	memset(&o, 0, sizeof(o));
	b.bt_out = &o;	/* added to *out only if it commits */
	b.bt_err = err;
	b.bt_errlen = errlen;
	if (batch_init(&b) == -1) {
		batch_free(&b);
		return batch_oom(&b, "a round");
	}
	res = PQexec(conn, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		batch_fail(&b, "BEGIN", res);
		batch_free(&b);
		return -1;
	}
	PQclear(res);
	ok = batch_end(&b, batch_run(&b) == 0) == 0;
	for (i = 0; ok && i < n; i++)
		marks[i].rm_done = b.bt_locked[i];
	batch_fc_done(&b, ok);
	if (ok) {
		out->ro_stages += o.ro_stages;
		out->ro_late += o.ro_late;
		out->ro_records += o.ro_records;
		out->ro_revisions += o.ro_revisions;
		out->ro_removed += o.ro_removed;
		out->ro_results += o.ro_results;
	}
	batch_free(&b);
	return ok ? 0 : -1;
}
