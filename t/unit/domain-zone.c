/* Zone, speed-zone, penalty and waypoint unit tests on synthetic straight passes. */
#include <math.h>
#include <string.h>

#include "domain/zone.h"
#include "tap.h"

#define T0	INT64_C(1700000000000000)

static struct geo_plane	P;

/* Fixes along y = off at speed kmh from x = x0, one a second, n of them. */
static void
drive(struct fix *f, int n, double x0, double off, double kmh)
{
	struct geo_xy	p;
	int		i;

	for (i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		p.xy_x = x0 + i * kmh / 3.6;
		p.xy_y = off;
		geo_unproject(&P, &p, &f[i].f_lat, &f[i].f_lon);
		f[i].f_ts_us = T0 + i * INT64_C(1000000);
		f[i].f_speed = kmh;
		f[i].f_heading = 90;
		f[i].f_sats = 9;
		f[i].f_flags = FIX_HAS_SPEED | FIX_HAS_HEADING;
	}
}

static double
sec(int64_t us)
{
	return (double)(us - T0) / 1e6;
}

static void
test_circle(void)
{
	struct zone		z;
	struct zone_visit	zv[4];
	struct zone_edge	ze[4];
	struct timing_cfg	tc;
	struct penalty_rule	pr;
	struct fix		f[40];
	int			n;

	timing_cfg_default(&tc);
	ok(zone_init_circle(&z, 45, 15, 100) == 0, "circle zone");
	ok(zone_init_circle(&z, 45, 15, 0) == -1, "zero radius refused");
	zone_init_circle(&z, 45, 15, 100);
	drive(f, 40, -205, 0, 72);	/* 20 m/s: enters at 5.25 s, leaves at 15.25 s */
	ok(zone_contains(&z, f[10].f_lat, f[10].f_lon) &&
	    !zone_contains(&z, f[0].f_lat, f[0].f_lon), "contains");
	n = zone_edges(&z, &f[5], &f[6], ze, 4);
	ok(n == 1 && ze[0].ze_enter, "an entry between fixes 5 and 6");
	is_double(sec(ze[0].ze_t_us), 5.25, 1e-4, "entry time interpolated");
	n = zone_visits(&z, f, 40, 60, &tc, zv, 4);
	is_int(n, 1, "one visit");
	is_double(sec(zv[0].zv_in_us), 5.25, 1e-4, "visit entry");
	is_double(sec(zv[0].zv_out_us), 15.25, 1e-4, "visit exit");
	is_double(zv[0].zv_time_s, 10, 1e-4, "time inside");
	is_double(zv[0].zv_dist_m, 200, 1e-3, "distance inside");
	is_double(zv[0].zv_avg_kmh, 72, 1e-3, "average speed");
	is_double(zv[0].zv_over_s, 10, 1e-4, "time over 60 km/h");
	is_double(zv[0].zv_excess_kmh, 12, 1e-6, "max excess");
	is_double(zv[0].zv_gained_s, 2, 1e-4, "time gained against the limit");
	memset(&pr, 0, sizeof(pr));
	pr.pr_kind = PEN_TIME_GAINED;
	pr.pr_factor = 10;
	is_double(zone_penalty(&pr, &zv[0], 60), 20, 1e-3, "time gained x 10");
	pr.pr_kind = PEN_BANDED;
	pr.pr_band_kmh = 5;
	pr.pr_band_s = 30;
	pr.pr_tolerance_kmh = 0;
	is_double(zone_penalty(&pr, &zv[0], 60), 90, 1e-9, "12 km/h over: three 5 km/h bands");
	pr.pr_tolerance_kmh = 2;
	is_double(zone_penalty(&pr, &zv[0], 60), 60, 1e-9, "tolerance 2 km/h: two bands");
	pr.pr_kind = PEN_ZONE_AVERAGE;
	pr.pr_factor = 5;
	pr.pr_tolerance_kmh = 0;
	is_double(zone_penalty(&pr, &zv[0], 60), 60, 1e-3, "zone average 12 over x 5 s");
	is_double(zone_penalty(&pr, &zv[0], 80), 0, 1e-9, "no penalty under the limit");
	/* accelerating 36 -> 108 km/h inside: over-limit time is a partial piece */
	f[8].f_speed = 36;
	f[9].f_speed = 108;
	n = zone_visits(&z, f, 40, 72, &tc, zv, 4);
	/* 10 -> 30 m/s then 30 -> 20 m/s against 20 m/s: 0.5 s + 1 s over */
	ok(n == 1 && fabs(zv[0].zv_over_s - 1.5) < 1e-6,
	    "linear speed ramps: partial pieces over the limit (%.3f s)",
	    zv[0].zv_over_s);
	drive(f, 40, -205, 0, 72);
	f[10].f_sats = 0;
	f[11].f_sats = 0;
	n = zone_visits(&z, f, 40, 60, &tc, zv, 4);
	ok(n == 1 && (zv[0].zv_flags & ZV_GAP), "no-fix records inside: gap flagged");
	drive(f, 40, -50, 0, 72);
	n = zone_visits(&z, f, 40, 60, &tc, zv, 4);
	ok(n == 1 && (zv[0].zv_flags & ZV_OPEN), "starting inside: open visit");
	drive(f, 5, 0, 0, 72);
	n = zone_visits(&z, f, 5, 60, &tc, zv, 4);
	ok(n == 1 && (zv[0].zv_flags & ZV_UNCLOSED), "ending inside: unclosed visit");
}

static void
test_polygon(void)
{
	struct zone		z;
	struct zone_visit	zv[4];
	struct timing_cfg	tc;
	struct fix		f[40];
	double			lat[4], lon[4];
	struct geo_xy		c[4] = { {-50, -50}, {50, -50}, {50, 50}, {-50, 50} };
	int			i, n;

	timing_cfg_default(&tc);
	for (i = 0; i < 4; i++)
		geo_unproject(&P, &c[i], &lat[i], &lon[i]);
	ok(zone_init_polygon(&z, lat, lon, 4) == 0, "square zone");
	ok(zone_init_polygon(&z, lat, lon, 2) == -1, "two vertices refused");
	zone_init_polygon(&z, lat, lon, 4);
	drive(f, 20, -105, 10, 72);	/* enters at 2.75 s, leaves at 7.75 s */
	n = zone_visits(&z, f, 20, 100, &tc, zv, 4);
	is_int(n, 1, "one pass through the square");
	is_double(sec(zv[0].zv_in_us), 2.75, 1e-4, "polygon entry time");
	is_double(sec(zv[0].zv_out_us), 7.75, 1e-4, "polygon exit time");
	drive(f, 20, -105, 50, 72);
	n = zone_visits(&z, f, 20, 100, &tc, zv, 4);
	ok(n <= 1, "sliding along an edge does not flap (%d visits)", n);
	drive(f, 20, -105, 80, 72);
	is_int(zone_visits(&z, f, 20, 100, &tc, zv, 4), 0, "passing outside: no visit");
}

static void
test_waypoint(void)
{
	struct waypoint		wp;
	struct wp_result	wr;
	struct timing_cfg	tc;
	struct fix		f[20];

	timing_cfg_default(&tc);
	ok(waypoint_init(&wp, 45, 15, 100, 30) == 0, "waypoint");
	ok(waypoint_init(&wp, 45, 15, 10, 30) == -1, "open radius below clear refused");
	waypoint_init(&wp, 45, 15, 100, 30);
	drive(f, 20, -190, 10, 72);
	waypoint_eval(&wp, f, 20, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_VALIDATED, "passing 10 m off: validated");
	is_double(wr.wr_dmin, 10, 1e-6, "closest approach between fixes");
	is_double(sec(wr.wr_t_us), 9.5, 1e-3, "time of closest approach");
	drive(f, 20, -190, 50, 72);
	waypoint_eval(&wp, f, 20, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_MISSED, "passing 50 m off with good data: missed");
	drive(f, 20, -190, 10, 72);
	memmove(&f[8], &f[12], 8 * sizeof(f[0]));
	waypoint_eval(&wp, f, 16, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_NO_DATA, "a gap spanning the waypoint: no data");
	waypoint_eval(&wp, f, 0, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_NO_DATA, "no fixes: no data");
}

/*
 * At 160 km/h and 1 Hz fixes lie 44.4 m apart, so a 20 m clear radius fits
 * between two of them: the segment, not the fixes, must come close.
 */
static void
test_waypoint_fast(void)
{
	struct waypoint		wp;
	struct wp_result	wr;
	struct timing_cfg	tc;
	struct fix		f[12];
	double			v = 160 / 3.6, x0 = -5.5 * v;

	timing_cfg_default(&tc);
	waypoint_init(&wp, 45, 15, 100, 20);
	drive(f, 12, x0, 12, 160);	/* fixes at x = -22.2 and +22.2 m around it */
	ok(hypot(x0 + 5 * v, 12) > 20 && hypot(x0 + 6 * v, 12) > 20,
	    "160 km/h: no fix within the 20 m clear radius (%.1f m)",
	    hypot(x0 + 5 * v, 12));
	waypoint_eval(&wp, f, 12, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_VALIDATED, "160 km/h, 12 m off, between fixes: validated");
	is_double(wr.wr_dmin, 12, 1e-3, "closest approach on the segment: 12 m");
	is_double(sec(wr.wr_t_us), 5.5, 1e-3, "time of closest approach interpolated");
	drive(f, 12, x0 + 10, 12, 160);
	waypoint_eval(&wp, f, 12, INT64_MIN, INT64_MAX, &tc, &wr);
	is_double(wr.wr_dmin, 12, 1e-3, "off-centre pass: still 12 m");
	is_double(sec(wr.wr_t_us), 5.5 - 10 / v, 1e-3,
	    "off-centre pass: time where the segment is closest");
	drive(f, 12, x0, 25, 160);
	waypoint_eval(&wp, f, 12, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_MISSED, "160 km/h, 25 m off: missed");
	is_double(wr.wr_dmin, 25, 1e-3, "missed: closest approach 25 m kept");
	drive(f, 12, x0, 12, 160);
	memmove(&f[5], &f[7], 5 * sizeof(f[0]));	/* 4.0 -> 7.0 s: 3 s bracket */
	waypoint_eval(&wp, f, 10, INT64_MIN, INT64_MAX, &tc, &wr);
	is_int(wr.wr_verdict, WP_NO_DATA,
	    "bracket across the waypoint longer than tc_gap_s: no data");
	ok(wr.wr_dmin > 20, "the chord across the gap is no evidence (%.1f m)",
	    wr.wr_dmin);
}

int
main(void)
{
	plan_lazy();
	geo_plane_init(&P, 45, 15);
	test_circle();
	test_polygon();
	test_waypoint();
	test_waypoint_fast();
	return tap_done();
}
