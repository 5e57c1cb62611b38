/* Zones and waypoints: circle/polygon entry and exit, speed zones and penalties, waypoint verdicts. */
#ifndef PROCESSOR_DOMAIN_ZONE_H
#define PROCESSOR_DOMAIN_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fix.h"
#include "domain/gate.h"
#include "domain/geo.h"

#define ZONE_CIRCLE	1
#define ZONE_POLYGON	2
#define ZONE_RING_MAX	64

struct zone {
	int		 z_kind;
	struct geo_plane z_plane;	/* origin: the centre or the first vertex */
	double		 z_radius;	/* m, circles */
	struct geo_xy	 z_ring[ZONE_RING_MAX];
	size_t		 z_nring;
};

/* One boundary crossing inside a fix segment. */
struct zone_edge {
	int		 ze_enter;	/* 1 entry, 0 exit */
	double		 ze_frac;	/* along the segment */
	int64_t		 ze_t_us;	/* interpolated */
};

/* zv_flags */
#define ZV_OPEN		0x01	/* already inside at the first fix */
#define ZV_UNCLOSED	0x02	/* still inside at the last fix */
#define ZV_GAP		0x04	/* lost records inside the zone */

/* One pass through a zone, integrated between interpolated entry and exit. */
struct zone_visit {
	int64_t		 zv_in_us;
	int64_t		 zv_out_us;
	double		 zv_time_s;
	double		 zv_dist_m;
	double		 zv_avg_kmh;
	double		 zv_max_kmh;
	double		 zv_over_s;	/* time above the limit */
	double		 zv_excess_kmh;	/* largest excess over the limit */
	double		 zv_gained_s;	/* time saved against driving at the limit */
	unsigned	 zv_flags;
};

#define PEN_NONE		0
#define PEN_TIME_GAINED		1	/* time gained x factor */
#define PEN_BANDED		2	/* band_s per started band_kmh of max excess */
#define PEN_ZONE_AVERAGE	3	/* factor s per km/h of average over the limit */

struct penalty_rule {
	int		 pr_kind;
	double		 pr_factor;
	double		 pr_tolerance_kmh;
	double		 pr_band_kmh;
	double		 pr_band_s;
};

#define WP_NOT_REACHED	0
#define WP_VALIDATED	1
#define WP_MISSED	2
#define WP_NO_DATA	3

struct waypoint {
	struct geo_plane wp_plane;	/* origin at the waypoint */
	double		 wp_open;	/* m: approach radius */
	double		 wp_clear;	/* m: validation radius */
};

struct wp_result {
	int		 wr_verdict;	/* WP_* */
	double		 wr_dmin;	/* closest approach, m */
	int64_t		 wr_t_us;	/* time of closest approach */
};

int	zone_init_circle(struct zone *, double, double, double);
int	zone_init_polygon(struct zone *, const double *, const double *, size_t);
int	zone_contains(const struct zone *, double, double);
int	zone_edges(const struct zone *, const struct fix *, const struct fix *,
	    struct zone_edge *, int);
int	zone_visits(const struct zone *, const struct fix *, size_t, double,
	    const struct timing_cfg *, struct zone_visit *, int);
double	zone_penalty(const struct penalty_rule *, const struct zone_visit *,
	    double);
int	waypoint_init(struct waypoint *, double, double, double, double);
void	waypoint_eval(const struct waypoint *, const struct fix *, size_t,
	    int64_t, int64_t, const struct timing_cfg *, struct wp_result *);

#endif
