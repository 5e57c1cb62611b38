/* The events being timed, read from the contract tables and checked row by row. */
#ifndef PROCESSOR_RACE_EVENT_H
#define PROCESSOR_RACE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "domain/stage.h"

#define RACE_NAME_MAX		64
#define RACE_DEVICE_MAX		64
#define RACE_RULE_MAX		256
#define RACE_MIN_GATE_M		3.0	/* a line gate shorter than this is unusable */
#define RACE_WINDOW_US		INT64_C(60000000)	/* fixes this far around the stage window */

/* A stage with its gates in the domain's terms, and the ids to write back. */
struct race_stage {
	int64_t		 rs_id;
	int64_t		 rs_event;
	char		 rs_name[RACE_NAME_MAX];
	int64_t		 rs_opens_us;	/* 0: none (then fixes from the first one) */
	int64_t		 rs_closes_us;	/* 0: open-ended */
	struct stage	 rs_stage;
	int64_t		 rs_gate_id[STAGE_MAX_GATES];
	int64_t		 rs_wp_id[STAGE_MAX_WP];
	int64_t		 rs_zone_id[STAGE_MAX_ZONES];
	char		 rs_zone_rule[STAGE_MAX_ZONES][RACE_RULE_MAX];	/* JSON */
};

struct race_entry {
	int64_t		 re_id;
	int64_t		 re_event;
	char		 re_car[RACE_NAME_MAX];
	char		 re_device[RACE_DEVICE_MAX + 1];
};

struct race_event {
	struct race_stage	*ev_stages;
	size_t			 ev_nstages;
	struct race_entry	*ev_entries;	/* sorted by device */
	size_t			 ev_nentries;
	uint64_t		 ev_skipped;	/* rows skipped by validation, this load */
	int			 ev_contract;	/* the contract tables exist */
};

/*
 * Read the stages being timed (open or running, or closed less than
 * late_window_s ago, of events that are not cancelled), their gates and the
 * events' entries.  A gate whose geometry is unusable is logged at error
 * with its id and reason and left out; the rest of its stage is still
 * timed.  Replaces *ev only on success; -1 with err on a database error.
 */
int	race_event_load(PGconn *, int late_window_s, struct race_event *,
	    char *err, size_t errlen);
void	race_event_free(struct race_event *);
/* The entries of a device (consecutive in ev_entries), or NULL. */
const struct race_entry *race_event_entries(const struct race_event *,
	    const char *device, size_t *n);
/*
 * Rewrite race_devices with the devices of the entries being timed, in the
 * caller's transaction.  0, or -1 with err.
 */
int	race_event_publish(PGconn *, const struct race_event *, char *err,
	    size_t errlen);

/* The gates table's JSON: a [lat, lon] pair (0, or -1), a number or dflt. */
int	race_json_point(const json_t *, double *lat, double *lon);
double	race_json_num(const json_t *, const char *key, double dflt);

#endif
