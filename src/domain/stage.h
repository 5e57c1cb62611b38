/* Stage evaluation: one device's fixes against a stage's gates, waypoints and zones. */
#ifndef PROCESSOR_DOMAIN_STAGE_H
#define PROCESSOR_DOMAIN_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fix.h"
#include "domain/gate.h"
#include "domain/zone.h"

#define STAGE_MAX_GATES	32
#define STAGE_MAX_WP	16
#define STAGE_MAX_ZONES	8
#define STAGE_MAX_VISITS 8	/* per zone */

/* sg_kind */
#define SG_START	0
#define SG_SPLIT	1
#define SG_FINISH	2

struct stage_gate {
	struct gate	 sg_gate;
	int		 sg_kind;
};

struct stage_zone {
	struct zone	 sz_zone;
	double		 sz_limit_kmh;
	struct penalty_rule sz_rule;
};

/* Gates in course order: the start first, splits, the finish last. */
struct stage {
	struct stage_gate st_gate[STAGE_MAX_GATES];
	int		 st_ngate;
	struct waypoint	 st_wp[STAGE_MAX_WP];
	int		 st_nwp;
	struct stage_zone st_zone[STAGE_MAX_ZONES];
	int		 st_nzone;
	int		 st_laps;	/* finish passes that end the stage (>= 1) */
	int64_t		 st_close_us;	/* after this a started run is dnf; 0: open */
	double		 st_rearm_s;	/* a re-crossing sooner than this is noise */
	struct timing_cfg st_cfg;
};

/* tr_flags */
#define TR_FINAL	0x01	/* smoothing window filled (or stage closed) */
#define TR_LOWCONF	0x02
#define TR_SMOOTHED	0x04	/* method: the trajectory fitted over the window */
#define TR_TWOPOINT	0x08	/* method: linear between the two fixes (a speed missing) */
/* neither: constant acceleration between the two fixes, through both speeds */

struct timing_record {
	int		 tr_gate;	/* index into st_gate */
	int		 tr_pass;	/* 1, 2, ... per gate (laps) */
	int64_t		 tr_t_us;
	double		 tr_unc_ms;	/* 95% half width */
	int64_t		 tr_fix0_us;	/* the bracketing fixes: the evidence */
	int64_t		 tr_fix1_us;
	double		 tr_frac;
	double		 tr_speed_kmh;
	int		 tr_dir;
	unsigned	 tr_flags;
};

#define STATUS_RUNNING		0
#define STATUS_FINISHED		1
#define STATUS_DNF		2
#define STATUS_MISSED_WAYPOINT	3
#define STATUS_NO_DATA		4

struct stage_result {
	int		 sr_status;
	int64_t		 sr_start_us;	/* 0: none */
	int64_t		 sr_finish_us;
	int64_t		 sr_elapsed_us;
	int64_t		 sr_split_us[STAGE_MAX_GATES];	/* from the start; -1: none */
	int		 sr_wp[STAGE_MAX_WP];		/* WP_* */
	double		 sr_wp_dmin[STAGE_MAX_WP];
	int64_t		 sr_wp_t_us[STAGE_MAX_WP];	/* closest approach */
	struct zone_visit sr_zone[STAGE_MAX_ZONES];	/* visits summed per zone */
	double		 sr_zone_penalty_s[STAGE_MAX_ZONES];
	double		 sr_penalty_s;			/* all zones */
	int		 sr_final;	/* every record final */
	int		 sr_lowconf;	/* a record low confidence or a waypoint without data */
};

void	stage_init(struct stage *);
int	stage_add_gate(struct stage *, int, double, double, double, double, int);
int	stage_add_waypoint(struct stage *, double, double, double, double);
int	stage_add_zone(struct stage *, const struct zone *, double,
	    const struct penalty_rule *);
int	stage_eval(const struct stage *, const struct fix *, size_t, int64_t,
	    struct timing_record *, size_t, size_t *, struct stage_result *);
const char *stage_status_name(int);
const char *stage_method_name(unsigned);

#endif
