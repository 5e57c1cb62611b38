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

/* What race_alert_stage passes to processor_race_alerts for (entry, stage). */
struct race_alert_in {
	int	ai_running;	/* started, not finished */
	int	ai_slow;	/* the newest fix is slower than stopped_kmh */
	int	ai_stopped;	/* stopped for stopped_s, away from the lines */
	int64_t	ai_since_us;	/* ai_stopped: the first slow fix */
	int64_t	ai_last_us;	/* the newest fix, and where it is */
	double	ai_lat, ai_lon;
};

/* The above from the rules' output: 1, or 0 when there is no fix. */
int	race_alert_input(const struct race_stage *, const struct race_rules *,
	    struct race_alert_in *);

/*
 * The periodic scan (no fix, no mark): raise "silent" for every running
 * car on a stage of ev still open whose newest fix is older than
 * silent_s.  Alerts raised, or -1 with err.
 */
int	race_alert_scan(PGconn *, const struct race_event *, int64_t now_us,
	    char *err, size_t errlen);

#endif
