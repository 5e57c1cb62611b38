/* Evaluating one device: its fixes from positions, the rules, the results written back. */
#ifndef PROCESSOR_RACE_EVAL_H
#define PROCESSOR_RACE_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "domain/stage.h"

#define RACE_MAX_RECORDS	(STAGE_MAX_GATES * 64)

/* Advisory lock namespaces (first key of the two-key form). */
#define RACE_LOCK_DEVICE	0x52414345	/* "RACE": hashtext(device_id) */
#define RACE_LOCK_STAGE		0x52414353	/* "RACS": hashtext(stage id) */

/* A timestamp literal, exact to the microsecond (no float seconds). */
#define TS_FMT	"('epoch'::timestamptz + %" PRId64 " * interval '1 microsecond')"

/* The columns race_fix_row reads, from a table or alias p of positions. */
#define RACE_FIX_COLS	"(extract(epoch FROM p.ts) * 1000000)::int8, " \
	"p.latitude, p.longitude, p.speed, p.angle, p.satellites, " \
	"p.attributes->>'182'"

struct buf;
struct race_entry;
struct race_event;
struct race_stage;

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
	    int64_t gen, int64_t marked_us, int64_t min_ts_us, int64_t now_us,
	    struct race_outcome *out, char *err, size_t errlen);

/* What the rules made of one device's fixes on one stage. */
struct race_rules {
	struct fix		*ru_fix;	/* the fixes in the stage window */
	size_t			 ru_nfix;
	size_t			 ru_capfix;
	struct timing_record	 ru_rec[RACE_MAX_RECORDS];
	size_t			 ru_nrec;
	struct stage_result	 ru_res;
};

/*
 * The rules on device's stored fixes for stage rs, exactly as live timing
 * runs them, nothing written: 1, 0 when the device has no fix in the
 * stage window, -1 with err.  Free with race_rules_free.
 */
int	race_rules_eval(PGconn *, const struct race_stage *, const char *device,
	    int64_t now_us, struct race_rules *, char *err, size_t errlen);
void	race_rules_free(struct race_rules *);

/* A replay's modes, and what it found. */
#define RACE_DO_LIVE	0	/* write, source live (race_eval_device) */
#define RACE_DO_DIFF	1	/* list the differences only, write nothing */
#define RACE_DO_APPLY	2	/* list them and write them, source replay */

struct race_diff {
	FILE		*rd_out;	/* one line per row; NULL: count only */
	uint64_t	 rd_added;
	uint64_t	 rd_changed;
	uint64_t	 rd_removed;
};

/*
 * Re-evaluate the entries of device on stage rs from the stored fixes, in
 * one transaction under the device's lock (waiting for a live evaluator
 * that holds it): list how timing_records, race_penalties and
 * stage_results would change, and with RACE_DO_APPLY write them as live
 * evaluation would (revision bumped only on change, source replay).  The
 * positions and the live work marks are not touched.  RACE_EVAL_DONE or
 * RACE_EVAL_ERROR (rolled back, err says why).
 */
int	race_replay_device(PGconn *, const struct race_event *,
	    const struct race_stage *, const char *device, int64_t now_us,
	    int mode, struct race_diff *, char *err, size_t errlen);

/*
 * What one device's evaluation and a round's (race_batch*.c) share, so both
 * write byte-identical rows: a fix from RACE_FIX_COLS at column c of row
 * i; the SQL values of a timing record, of a stage result (start_time ..
 * low_confidence) and of zone k's penalty evidence (prefix first; 0 and
 * nothing written when the zone was never entered, -1 when quoting the
 * rule failed); and the statements' ON CONFLICT tails.
 */
void	race_fix_row(struct fix *, const PGresult *, int i, int c);
void	race_record_sql(struct buf *, const struct race_stage *,
	    const struct timing_record *);
void	race_result_sql(struct buf *, const struct race_stage *,
	    const struct stage_result *);
int	race_penalty_sql(struct buf *, PGconn *, const struct race_stage *,
	    const struct stage_result *, int k, const char *prefix);
extern const char race_records_upsert[];

/*
 * The revision a timing record is created with: one past the last one in
 * race_timing_history for its (entry, stage, gate, pass), so that a pass
 * removed and found again (a gate moved and moved back, late fixes that
 * change the passes) goes on from where it was and its event keys
 * (timing:...:rN) are new, not ones consumers have already seen.  E and S
 * are SQL for the entry and the stage; v is the statement's values.
 */
#define RACE_NEXT_REVISION(e, s)					\
	"coalesce((SELECT max(h.revision) FROM race_timing_history h "	\
	"WHERE h.entry_id = " e " AND h.stage_id = " s " AND "		\
	"h.gate_id = v.gate_id AND h.pass_number = v.pass_number), 0) + 1"
extern const char race_penalties_upsert[];
extern const char race_results_upsert[];
extern const char race_rank_sql[];

#endif
