/* A round's reading: the locks, the stages, the fixes, the rows' state. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "race/race_batch_int.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_fixcache.h"

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

/* Try every device's lock; bt_locked[i] says who we hold. */
int
race_batch_lock(struct batch *b)
{
	struct batch_args	 a;
	PGresult		*res;
	char			 sql[sizeof(batch_lock_sql) + 16];
	size_t			 i;
	long			 k;
	int			 r;

	race_batch_arr_init(&a, 1);
	for (i = 0; i < b->bt_nmark; i++)
		race_batch_arr_text(&a, 0, b->bt_mark[i].rm_device);
	snprintf(sql, sizeof(sql), batch_lock_sql, RACE_LOCK_DEVICE);
	res = race_batch_exec(b, sql, &a, NULL, PGRES_TUPLES_OK,
	    "locking the devices");
	race_batch_arr_free(&a);
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
			return race_batch_oom(b, "listing the stages");
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
int
race_batch_pairs(struct batch *b)
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
		return race_batch_oom(b, "reading fixes");
	/* rows come grouped by pair: count, then place */
	for (r = 0; r < nr; r++) {
		k = strtol(PQgetvalue(res, r, 0), NULL, 10) - 1;
		if (k < 0 || (size_t)k >= b->bt_npair)
			continue;
		bp = &b->bt_pair[k];
		if (!whole && *PQgetvalue(res, r, 1) != 't') {
			f.f_ts_us = strtoll(PQgetvalue(res, r, 2), NULL, 10);
			if (!batch_cached(bp->bp_fe, f.f_ts_us)) {
				race_batch_arr_text(late, 0,
				    b->bt_mark[bp->bp_mark].rm_device);
				race_batch_arr_int(late, 1, f.f_ts_us);
				race_batch_arr_int(late, 2, k + 1);
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
			return race_batch_oom(b, "keeping fixes");
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

	race_batch_arr_init(&a, 4);
	for (i = 0; i < b->bt_npair; i++) {
		race_batch_arr_text(&a, 0,
		    b->bt_mark[b->bt_pair[i].bp_mark].rm_device);
		race_batch_arr_int(&a, 1, b->bt_pair[i].bp_from);
		race_batch_arr_int(&a, 2, b->bt_pair[i].bp_to);
		race_batch_arr_int(&a, 3, b->bt_pair[i].bp_newer);
	}
	res = race_batch_exec(b, batch_fixes_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading fixes");
	race_batch_arr_free(&a);
	if (res == NULL)
		return -1;
	b->bt_nfix = (size_t)PQntuples(res);
	race_batch_arr_init(&late, 3);
	rc = batch_parse(b, res, 2, 0, &b->bt_fix, &late);
	PQclear(res);
	if (rc == 0 && late.ba_arr[0].b_len > 1) {
		res = race_batch_exec(b, batch_late_sql, &late, NULL,
		    PGRES_TUPLES_OK, "reading late fixes");
		rc = res == NULL ? -1 : batch_parse(b, res, 1, 1, &late_fix,
		    NULL);
		PQclear(res);
		free(late_fix);
	}
	race_batch_arr_free(&late);
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

	race_batch_arr_init(&a, 2);
	for (i = 0; i < b->bt_npair; i++) {
		race_batch_arr_text(&a, 0,
		    b->bt_mark[b->bt_pair[i].bp_mark].rm_device);
		race_batch_arr_int(&a, 1, b->bt_pair[i].bp_rs->rs_id);
	}
	res = race_batch_exec(b, batch_evals_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading race_cursor");
	race_batch_arr_free(&a);
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
			return race_batch_oom(b, "keeping fixes");
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

	race_batch_arr_init(&a, 2);
	for (i = 0; i < b->bt_npair; i++)
		if (b->bt_pair[i].bp_nfix > 0) {
			race_batch_arr_int(&a, 0, b->bt_pair[i].bp_re->re_id);
			race_batch_arr_int(&a, 1, b->bt_pair[i].bp_rs->rs_id);
		}
	res = race_batch_exec(b, batch_old_sql, &a, NULL, PGRES_TUPLES_OK,
	    "reading the rows' state");
	race_batch_arr_free(&a);
	if (res == NULL)
		return -1;
	for (i = 0; i < b->bt_npair; i++) {
		if (b->bt_pair[i].bp_nfix == 0)
			continue;
		if (r >= PQntuples(res) || (b->bt_pair[i].bp_old =
		    strdup(PQgetvalue(res, r++, 0))) == NULL) {
			PQclear(res);
			return race_batch_oom(b, "reading the rows' state");
		}
	}
	PQclear(res);
	return 0;
}

/* The stages' cursors, what to read, the fixes, and the rows' state before. */
int
race_batch_read(struct batch *b)
{
	if (batch_read_evals(b) == -1 || batch_plan(b) == -1 ||
	    batch_read_fixes(b) == -1 || batch_read_old(b) == -1)
		return -1;
	return 0;
}
