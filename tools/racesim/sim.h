/* Race simulator: a stage, vehicles driven along it, noisy fixes and exact ground truth. */
#ifndef PROCESSOR_DOMAIN_SIM_H
#define PROCESSOR_DOMAIN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fix.h"
#include "domain/geo.h"

#define SIM_MAX_SEG	256
#define SIM_MAX_GATES	24
#define SIM_MAX_WP	8
#define SIM_MAX_ZONES	8
#define SIM_CELL_M	1.0	/* speed profile grid; constant acceleration per cell */

#define SIM_GATE_START	0
#define SIM_GATE_SPLIT	1
#define SIM_GATE_FINISH	2

struct sim_cfg {
	uint64_t	sc_seed;
	double		sc_lat0;	/* stage origin */
	double		sc_lon0;
	int64_t		sc_t0_us;	/* first start slot */
	double		sc_slot_s;	/* start interval between vehicles */
	double		sc_length_m;	/* start to finish */
	int		sc_gates;	/* start + splits + finish */
	int		sc_waypoints;	/* on the course; one more is placed off it */
	int		sc_zones;	/* speed zones (circles) */
	double		sc_zone_kmh;
	double		sc_rate_hz;
	double		sc_sigma;	/* m per axis */
	double		sc_tau;		/* s; 0: white noise, else AR(1) */
	double		sc_jitter_ms;	/* true epoch jitter, 1 sigma */
	double		sc_loss;	/* probability a record is lost */
	double		sc_nofix;	/* probability of a no-fix record */
	double		sc_outage;	/* probability per record that a 3-8 s outage begins */
};

struct sim_seg {
	double	ss_s0;		/* arc length at the segment start */
	double	ss_len;
	double	ss_x0, ss_y0, ss_h0;	/* start point (m) and heading (rad) */
	double	ss_radius;	/* 0: straight */
	int	ss_turn;	/* +1 right, -1 left */
};

struct sim_gate {
	double	sg_s;		/* arc length where the gate crosses the course */
	int	sg_kind;	/* SIM_GATE_* */
	double	sg_alat, sg_alon, sg_blat, sg_blon;	/* A right, B left of travel */
};

struct sim_wp {
	double	sw_lat, sw_lon;
	double	sw_open;	/* m */
	double	sw_clear;	/* m */
	double	sw_x, sw_y;
};

struct sim_zone {
	double	sz_lat, sz_lon, sz_radius;
	double	sz_x, sz_y;
	double	sz_limit_kmh;
	double	sz_s_in, sz_s_out;	/* course arc length at entry and exit */
};

struct sim_stage {
	struct geo_plane st_plane;
	struct sim_seg	st_seg[SIM_MAX_SEG];
	int		st_nseg;
	double		st_total_m;	/* course length including the run-out */
	struct sim_gate	st_gate[SIM_MAX_GATES];
	int		st_ngate;
	struct sim_wp	st_wp[SIM_MAX_WP];
	int		st_nwp;
	struct sim_zone	st_zone[SIM_MAX_ZONES];
	int		st_nzone;
};

/* Exact truth for one vehicle; times in seconds since sc_t0_us. */
struct sim_truth {
	double	tt_depart;
	double	tt_gate[SIM_MAX_GATES];
	double	tt_gate_v[SIM_MAX_GATES];	/* m/s at the gate */
	double	tt_wp_dmin[SIM_MAX_WP];		/* closest approach, m */
	double	tt_zone_in[SIM_MAX_ZONES];
	double	tt_zone_out[SIM_MAX_ZONES];
	double	tt_zone_over_s[SIM_MAX_ZONES];	/* time above the limit */
	double	tt_zone_excess_kmh[SIM_MAX_ZONES];
	double	tt_zone_avg_kmh[SIM_MAX_ZONES];
	double	tt_zone_dist_m[SIM_MAX_ZONES];
};

struct sim_vehicle {
	char		 sv_id[32];
	struct fix	*sv_fix;
	size_t		 sv_nfix;
	struct sim_truth sv_truth;
	double		*sv_v;		/* speed at each cell node, m/s */
	double		*sv_t;		/* time at each cell node, s */
	size_t		 sv_nnode;
};

void	sim_cfg_default(struct sim_cfg *);
int	sim_stage_build(struct sim_stage *, const struct sim_cfg *);
void	sim_course_at(const struct sim_stage *, double, double *, double *,
	    double *);
int	sim_vehicle_run(const struct sim_stage *, const struct sim_cfg *, int,
	    struct sim_vehicle *);
void	sim_vehicle_state(const struct sim_vehicle *, double, double *,
	    double *);
void	sim_vehicle_free(struct sim_vehicle *);
int	sim_fix_json(const struct fix *, const char *, char *, size_t);

#endif
