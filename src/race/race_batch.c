/* Evaluating a round of marked devices in one transaction, set-based. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_batch.h"
#include "race/race_batch_int.h"
#include "race/race_eval.h"
#include "race/race_fixcache.h"

/*
 * Why a round and not a device per transaction: an evaluation is a dozen
 * small statements and a COMMIT (a WAL flush) for a few hundred fixes, and
 * ranking the stage after every device re-sorts all its results.  Here the
 * statements and the flush are per round, and each stage is ranked once.
 */

static int
batch_run(struct batch *b)
{
	size_t	i, nlocked = 0;

	if (race_batch_lock(b) == -1)
		return -1;
	for (i = 0; i < b->bt_nmark; i++)
		nlocked += (size_t)b->bt_locked[i];
	if (nlocked == 0)
		return 0;	/* all busy with another evaluator */
	if (race_batch_pairs(b) == -1)
		return -1;
	if (b->bt_npair > 0 && (race_batch_read(b) == -1 ||
	    race_batch_compute(b) == -1))
		return -1;
	if (b->bt_ncomputed > 0 && race_batch_store(b) == -1)
		return -1;
	return race_batch_unmark(b);
}

static int
batch_init(struct batch *b)
{
	buf_init(&b->bt_rec);
	buf_init(&b->bt_pen);
	buf_init(&b->bt_res);
	buf_init(&b->bt_keys);
	buf_init(&b->bt_sql);
	race_batch_arr_init(&b->bt_cur, 5);
	race_batch_arr_init(&b->bt_evt, 4);
	race_batch_arr_init(&b->bt_alert, 9);
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
	race_batch_arr_free(&b->bt_cur);
	race_batch_arr_free(&b->bt_evt);
	race_batch_arr_free(&b->bt_alert);
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
		return race_batch_fail(b, "COMMIT", res);
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
		return race_batch_oom(&b, "a round");
	}
	res = PQexec(conn, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		race_batch_fail(&b, "BEGIN", res);
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
