/* Safety alerts on a running stage: stopped on stage, silent in stage. */
#ifndef PROCESSOR_RACE_ALERT_H
#define PROCESSOR_RACE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define RACE_ALERT_LINE_M	100.0	/* no "stopped" this close to start or finish */

struct race_event;
struct race_rules;
struct race_stage;

/* The thresholds ([domain] stopped_kmh, stopped_s, silent_s). */
void	race_alert_setup(int stopped_kmh, int stopped_s, int silent_s);

/*
 * In a live evaluation's transaction, under the device's lock, after the
 * rules ran on the fixes of (entry, stage): raise "stopped" when the run
 * is started, not finished, and the newest fixes are all slower than
 * stopped_kmh for stopped_s or more, further than RACE_ALERT_LINE_M from
 * the start and finish lines; clear it when the car moves (or the run
 * ends); clear "silent" when a newer fix came.  Alerts raised or cleared,
 * or -1 with err.
 */
int	race_alert_stage(PGconn *, int64_t entry, const struct race_stage *,
	    const char *device, const struct race_rules *, char *err,
	    size_t errlen);

/*
 * The periodic scan (no fix, no mark): raise "silent" for every running
 * car on a stage of ev still open whose newest fix is older than
 * silent_s.  Alerts raised, or -1 with err.
 */
int	race_alert_scan(PGconn *, const struct race_event *, int64_t now_us,
	    char *err, size_t errlen);

#endif
