/* A round's computing: the rules on each stage, into its statements. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>

#include "util/buf.h"
#include "race/race_alert.h"
#include "race/race_batch_int.h"
#include "race/race_eval.h"
#include "race/race_event.h"
#include "race/race_fixcache.h"

/* One pair's safety alert input, if its rules give one, into bt_alert. */
static void
batch_alert_row(struct batch *b, const struct batch_pair *bp)
{
	const struct race_stage	*rs = bp->bp_rs;
	struct batch_args	*a = &b->bt_alert;
	struct race_alert_in	 in;

	if (race_alert_input(rs, b->bt_ru, &in) != 1)
		return;
	race_batch_arr_int(a, 0, bp->bp_re->re_id);
	race_batch_arr_int(a, 1, rs->rs_id);
	race_batch_arr_text(a, 2, b->bt_mark[bp->bp_mark].rm_device);
	race_batch_arr_text(a, 3, in.ai_running ? "t" : "f");
	race_batch_arr_int(a, 4, in.ai_last_us);
	if (in.ai_stopped)
		race_batch_arr_int(a, 5, in.ai_since_us);
	else
		race_batch_arr_text(a, 5, NULL);
	race_batch_arr_text(a, 6, in.ai_slow ? "t" : "f");
	race_batch_arr_sep(&a->ba_arr[7]);
	buf_printf(&a->ba_arr[7], "%.7f", in.ai_lat);
	race_batch_arr_sep(&a->ba_arr[8]);
	buf_printf(&a->ba_arr[8], "%.7f", in.ai_lon);
}

/* One pair's rows into the round's statements. */
static int
batch_rows(struct batch *b, const struct batch_pair *bp)
{
	const struct race_rules	*ru = b->bt_ru;
	const struct race_stage	*rs = bp->bp_rs;
	const struct race_mark	*m = &b->bt_mark[bp->bp_mark];
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
			return race_batch_fail(b, "quoting a penalty rule",
			    NULL);
		case 1:
			buf_puts(&b->bt_pen, ")");
		}
	}
	buf_printf(&b->bt_res, "%s(%s, ", b->bt_res.b_len ? ", " : "", key);
	race_result_sql(&b->bt_res, rs, &ru->ru_res);
	buf_puts(&b->bt_res, ")");
	race_batch_arr_text(&b->bt_cur, 0, m->rm_device);
	race_batch_arr_int(&b->bt_cur, 1, rs->rs_id);
	race_batch_arr_int(&b->bt_cur, 2, ru->ru_fix[ru->ru_nfix - 1].f_ts_us);
	race_batch_arr_int(&b->bt_cur, 3, (int64_t)ru->ru_nfix);
	race_batch_arr_int(&b->bt_cur, 4, m->rm_min_ts_us);
	race_batch_arr_int(&b->bt_evt, 0, bp->bp_re->re_id);
	race_batch_arr_int(&b->bt_evt, 1, rs->rs_id);
	race_batch_arr_text(&b->bt_evt, 2, m->rm_device);
	race_batch_arr_text(&b->bt_evt, 3, bp->bp_old);
	batch_alert_row(b, bp);
	return 0;
}

/* The rules on every pair with fixes, exactly as race_compute runs them. */
int
race_batch_compute(struct batch *b)
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
