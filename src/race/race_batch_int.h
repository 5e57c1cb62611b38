/*
 * Private to race_batch*.c (one round of marked devices, race_batch.h):
 * the round's state and the steps its files hand each other.  The driver
 * (race_batch.c) runs them in order: lock, pairs, read (race_batch_read.c),
 * compute (race_batch_compute.c), store and unmark (race_batch_store.c);
 * every statement's arrays are built and run by race_batch_arr.c.  Nothing
 * outside these files includes this; struct batch here is not core's.
 */
#ifndef PROCESSOR_RACE_BATCH_INT_H
#define PROCESSOR_RACE_BATCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "util/buf.h"
#include "race/race_batch.h"	/* struct race_mark */

struct fix;
struct race_entry;
struct race_event;
struct race_fc;
struct race_fc_entry;
struct race_outcome;
struct race_rules;
struct race_stage;

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

/* A round: its marks, the pairs and fixes read, the statements built. */
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

/*
 * race_batch_arr.c, what every step shares: fail and oom fill bt_err and
 * return -1; the array literals; exec runs sql with a's arrays as $1..
 * (then last), sql the statement in bt_sql, each the result or NULL.
 */
int	race_batch_fail(struct batch *, const char *what, PGresult *);
int	race_batch_oom(struct batch *, const char *what);
void	race_batch_arr_init(struct batch_args *, int n);
void	race_batch_arr_free(struct batch_args *);
/* the ',' before an element written straight into its buf (a float) */
void	race_batch_arr_sep(struct buf *);
void	race_batch_arr_text(struct batch_args *, int k, const char *s);
void	race_batch_arr_int(struct batch_args *, int k, int64_t v);
PGresult *race_batch_exec(struct batch *, const char *sql,
	    struct batch_args *, const char *last, ExecStatusType want,
	    const char *what);
PGresult *race_batch_sql(struct batch *, const char *what);

/*
 * race_batch_read.c: try the devices' locks (bt_locked), list the locked
 * devices' (entry, stage) pairs, then read what the pairs need (cursors,
 * fixes into the cache, the rows' state before the round).
 */
int	race_batch_lock(struct batch *);
int	race_batch_pairs(struct batch *);
int	race_batch_read(struct batch *);

/*
 * race_batch_compute.c: the rules on every pair with fixes, into the
 * round's statements (bt_keys, bt_rec, bt_pen, bt_res; bt_cur, bt_evt,
 * bt_alert).
 */
int	race_batch_compute(struct batch *);

/* race_batch_store.c: those statements run; then the marks dropped. */
int	race_batch_store(struct batch *);
int	race_batch_unmark(struct batch *);

#endif
