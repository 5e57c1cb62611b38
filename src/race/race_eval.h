/* Evaluating one device: its fixes from positions, the rules, the results written back. */
#ifndef PROCESSOR_RACE_EVAL_H
#define PROCESSOR_RACE_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct race_event;

/* What one evaluation did, for the counters. */
struct race_outcome {
	uint64_t	ro_stages;	/* device-stage evaluations */
	uint64_t	ro_late;	/* of which re-evaluated a window for late fixes */
	uint64_t	ro_records;	/* timing records created */
	uint64_t	ro_revisions;	/* timing records changed (revision bumped) */
	uint64_t	ro_removed;	/* timing records no longer supported */
	uint64_t	ro_results;	/* stage results created or changed */
};

#define RACE_EVAL_DONE		0
#define RACE_EVAL_BUSY		1	/* another evaluator holds the device */
#define RACE_EVAL_ERROR		(-1)

/*
 * Evaluate every stage being timed for the entries of device, in one
 * transaction under the device's advisory lock (so whatever process or host
 * evaluates, the results are the same and written once), from the fixes in
 * positions, and drop the device's work mark if gen is still current.
 * min_ts_us is the oldest newly marked fix (late-data accounting).  Adds to
 * *out.  On RACE_EVAL_ERROR the transaction was rolled back and err says
 * why; the mark stays, so the work is retried.
 */
int	race_eval_device(PGconn *, const struct race_event *, const char *device,
	    int64_t gen, int64_t min_ts_us, int64_t now_us,
	    struct race_outcome *out, char *err, size_t errlen);

#endif
