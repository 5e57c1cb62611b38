/* Evaluating a round of marked devices in one transaction, set-based. */
#ifndef PROCESSOR_RACE_BATCH_H
#define PROCESSOR_RACE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct race_event;
struct race_fc;
struct race_outcome;

/* One device's work mark (a race_dirty row) in a round. */
struct race_mark {
	const char	*rm_device;
	int64_t		 rm_gen;
	int64_t		 rm_min_ts_us;	/* oldest newly marked fix */
	int64_t		 rm_max_ts_us;	/* newest */
	int64_t		 rm_marked_us;	/* when first marked (latency) */
	int		 rm_done;	/* out: evaluated and committed */
};

/*
 * Evaluate the devices of marks in ONE transaction, with the same rows as
 * race_eval_device would write device by device: try the advisory lock of
 * every device (those another evaluator holds are left, rm_done 0), read
 * the fixes of all of them in one query (only the marks' ranges where fc
 * holds the rest: race_fixcache.h), run the rules in C, write each
 * table's rows for all of them in one statement, lock and rank each
 * touched stage once, and drop the marks whose gen is unchanged.  0 (the
 * evaluated marks have rm_done set), or -1 with err: rolled back, nothing
 * written, and the caller evaluates the devices one by one, so one bad
 * device cannot hold up the others.  read_us: PostgreSQL's clock when the
 * marks were read (a mark marked again since then restarts from there).
 */
int	race_batch_eval(PGconn *, const struct race_event *, struct race_fc *fc,
	    struct race_mark *, size_t n, int64_t read_us, int64_t now_us,
	    struct race_outcome *out, char *err, size_t errlen);

#endif
