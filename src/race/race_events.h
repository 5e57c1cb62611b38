/* Domain events: facts queued in race_outbox with the evaluation, XADDed after COMMIT. */
#ifndef PROCESSOR_RACE_EVENTS_H
#define PROCESSOR_RACE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define RACE_EVENTS_SCHEMA	"1"	/* the "schema" field of every event */

struct config;
struct race_events;

/*
 * In the evaluation's transaction, before (entry, stage) is rewritten:
 * what the rows say now (a JSON text in *old, free it), for
 * race_events_queue to tell a transition from a rewrite.  0, or -1 with err.
 */
int	race_events_old(PGconn *, int64_t entry, int64_t stage, char **old,
	    char *err, size_t errlen);

/*
 * After the rows of (entry, stage) were written, in the same transaction:
 * queue an event in race_outbox for every fact that this transaction
 * committed (timing recorded or revised, stage finished, waypoint missed,
 * penalty), keyed so the same fact always gets the same key.  The number
 * queued, or -1 with err.
 */
int	race_events_queue(PGconn *, int64_t entry, int64_t stage,
	    const char *device, const char *old, char *err, size_t errlen);

/*
 * The publisher of an evaluator: its own synchronous Redis connection
 * ([redis] url, a timeout), opened on the first flush.  NULL when
 * [domain] events_stream is empty (no events) or out of memory.
 */
struct race_events *race_events_open(const struct config *);
void	race_events_close(struct race_events *);

/*
 * Deliver what race_outbox holds, oldest first, to the events stream, and
 * delete what Redis took, one evaluator at a time (the others skip).  Run
 * after COMMIT, and now and then for what others queued (replay) or a
 * failed delivery left.  Events delivered, or -1 (they stay, retried later).
 */
int	race_events_flush(struct race_events *, PGconn *);

#endif
