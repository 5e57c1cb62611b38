/* Geometry and line-gate unit tests, degenerate cases included. */
#include <math.h>
#include <string.h>

#include "domain/gate.h"
#include "domain/geo.h"
#include "tap.h"

static struct geo_plane	P;

static struct geo_xy
xy(double x, double y)
{
	struct geo_xy	p;

	p.xy_x = x;
	p.xy_y = y;
	return p;
}

/* A valid fix at plane metres (x, y), time t seconds, speed km/h, heading deg. */
static struct fix
fx(double x, double y, double t, double kmh, double head)
{
	struct fix	f;
	struct geo_xy	p = xy(x, y);

	memset(&f, 0, sizeof(f));
	geo_unproject(&P, &p, &f.f_lat, &f.f_lon);
	f.f_ts_us = (int64_t)llround(t * 1e6) + INT64_C(1700000000000000);
	f.f_speed = kmh;
	f.f_heading = head;
	f.f_sats = 10;
	f.f_flags = FIX_HAS_SPEED | FIX_HAS_HEADING;
	return f;
}

static double
sec(int64_t us)
{
	return (double)(us - INT64_C(1700000000000000)) / 1e6;
}

/* A gate along the y axis at x = 0 from (0, y0) to (0, y1): moving +x is left to right. */
static void
mkgate(struct gate *g, double y0, double y1, int dir, double margin)
{
	double	alat, alon, blat, blon;
	struct geo_xy	a = xy(0, y0), b = xy(0, y1);

	geo_unproject(&P, &a, &alat, &alon);
	geo_unproject(&P, &b, &blat, &blon);
	if (gate_init(g, alat, alon, blat, blon, dir, margin) == -1)
		bail("gate_init");
}

static void
test_geo(void)
{
	struct geo_plane	q;
	struct geo_xy		p;
	double			lat, lon, tp, tq, t[4], d;
	struct geo_xy		sq[4] = { {0, 0}, {10, 0}, {10, 10}, {0, 10} };

	ok(geo_project(&P, 45.001, 15.001, &p) == 0, "project near the origin");
	geo_unproject(&P, &p, &lat, &lon);
	ok(fabs(lat - 45.001) < 1e-10 && fabs(lon - 15.001) < 1e-10,
	    "unproject inverts project");
	is_double(geo_haversine(45, 15, 46, 15), 111195.08, 1.0,
	    "haversine: one degree of latitude");
	is_double(hypot(p.xy_x, p.xy_y), geo_haversine(45, 15, 45.001, 15.001),
	    0.2, "plane distance agrees with haversine at 140 m");
	ok(geo_plane_init(&q, 89.9, 0) == -1, "no plane at a pole");
	ok(geo_project(&P, -45, 15, &p) == -1, "far points are refused");
	ok(geo_plane_init(&q, 10, 179.9999) == 0 &&
	    geo_project(&q, 10, -179.9999, &p) == 0 && fabs(p.xy_x - 21.9) < 0.1,
	    "antimeridian: longitude wraps (x %.2f)", p.xy_x);
	is_int(geo_seg_intersect(xy(-1, 0), xy(1, 0), xy(0, -1), xy(0, 1), &tp,
	    &tq), GEO_X_POINT, "crossing segments intersect");
	ok(tp == 0.5 && tq == 0.5, "fractions on both segments");
	is_int(geo_seg_intersect(xy(0, 0), xy(0, 0), xy(0, -1), xy(0, 1), &tp,
	    &tq), GEO_X_POINT, "zero-length segment on the other: a point");
	is_int(geo_seg_intersect(xy(1, 0), xy(1, 0), xy(0, -1), xy(0, 1), &tp,
	    &tq), GEO_X_NONE, "zero-length segment off the other: none");
	is_int(geo_seg_intersect(xy(0, -2), xy(0, 3), xy(0, -1), xy(0, 1), &tp,
	    &tq), GEO_X_OVERLAP, "collinear overlap");
	ok(fabs(tp - 0.2) < 1e-12 && fabs(tq - 0.6) < 1e-12,
	    "overlap fractions %.3f..%.3f", tp, tq);
	is_int(geo_seg_intersect(xy(-1, 1), xy(1, 1), xy(0, -1), xy(0, 1), &tp,
	    &tq), GEO_X_POINT, "touching an endpoint counts");
	is_int(geo_seg_intersect(xy(-1, 0), xy(1, 0), xy(-1, 1), xy(1, 1), &tp,
	    &tq), GEO_X_NONE, "parallel segments do not meet");
	d = geo_seg_closest(xy(-10, 5), xy(10, 5), xy(3, 0), &tp);
	ok(d == 5.0 && fabs(tp - 0.65) < 1e-12, "closest approach 5 m at 0.65");
	d = geo_seg_closest(xy(2, 2), xy(2, 2), xy(5, 6), &tp);
	ok(d == 5.0 && tp == 0.0, "closest approach of a zero-length segment");
	ok(geo_in_circle(xy(0, 0), 5, xy(3, 4)) && !geo_in_circle(xy(0, 0), 5,
	    xy(3, 4.1)), "point in circle, boundary inclusive");
	ok(geo_in_polygon(sq, 4, xy(5, 5)) && !geo_in_polygon(sq, 4, xy(11, 5)) &&
	    !geo_in_polygon(sq, 4, xy(5, -0.1)), "point in polygon");
	is_int(geo_seg_circle(xy(-10, 0), xy(10, 0), xy(0, 0), 5, t), 2,
	    "segment through a circle: two hits");
	ok(fabs(t[0] - 0.25) < 1e-12 && fabs(t[1] - 0.75) < 1e-12,
	    "circle hit fractions");
	is_int(geo_seg_circle(xy(-10, 5), xy(10, 5), xy(0, 0), 5, t), 0,
	    "a tangent is no crossing");
	is_int((int)geo_seg_polygon(xy(-5, 5), xy(15, 5), sq, 4, t, 4), 2,
	    "segment through a polygon: two hits");
	is_int((int)geo_seg_polygon(xy(-5, -5), xy(15, 15), sq, 4, t, 4), 2,
	    "diagonal through two vertices: hits de-duplicated");
}

static void
test_gate_basic(void)
{
	struct gate		g;
	struct gate_cross	gc;
	struct timing_cfg	tc;
	struct fix		a, b, c;

	timing_cfg_default(&tc);
	tc.tc_use_hdop = 0;
	mkgate(&g, -10, 10, GATE_DIR_ANY, 0);
	a = fx(-5, 0, 0, 36, 90);
	b = fx(5, 0, 1, 36, 90);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1, "a pass through the middle crosses");
	is_int(gc.gc_dir, GATE_DIR_LR, "moving +x crosses left to right of A->B (north)");
	is_double(sec(gc.gc_t_lin_us), 0.5, 1e-6, "linear time");
	is_double(sec(gc.gc_t_acc_us), 0.5, 1e-6, "constant-acceleration time");
	ok(gc.gc_unc_ms > 0 && !(gc.gc_flags & GC_LOWCONF),
	    "uncertainty %.1f ms, normal confidence", gc.gc_unc_ms);
	c = fx(-5, 0, 2, 36, 270);
	ok(gate_cross(&g, &b, &c, &tc, &gc) == 1 && gc.gc_dir == GATE_DIR_RL,
	    "the way back crosses right to left");
	mkgate(&g, -10, 10, GATE_DIR_RL, 0);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1 && !gate_dir_ok(&g, gc.gc_dir),
	    "a directed gate refuses the wrong direction");
	/* constant acceleration 10 -> 30 m/s over 1 s covers 20 m; gate at 5 m */
	a = fx(-5, 0, 0, 36, 90);
	b = fx(15, 0, 1, 108, 90);
	gate_cross(&g, &a, &b, &tc, &gc);
	is_double(sec(gc.gc_t_acc_us), (-10 + sqrt(100 + 4 * 10 * 5 / 2.0 * 2)) /
	    20.0, 1e-6, "constant acceleration solved exactly (%.6f)",
	    sec(gc.gc_t_acc_us));
	is_double(sec(gc.gc_t_lin_us), 0.25, 1e-6, "linear is off under acceleration");
	/* standing start: at rest until 0.5 s, then 4 m/s^2: 0.5 m covered by 1 s */
	a = fx(-0.25, 0, 0, 0, 90);
	b = fx(0.25, 0, 1, 7.2, 90);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1 && (gc.gc_flags & GC_STANDING) &&
	    (gc.gc_flags & GC_LOWCONF), "standing start found and low confidence");
	is_double(sec(gc.gc_t_acc_us), 0.5 + sqrt(2 * 0.25 / 4), 1e-6,
	    "standing start timed from departure");
	a = fx(-0.5, 0, 0, 1, 90);
	b = fx(0.5, 0, 1, 2, 90);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 0, "jitter at rest is no crossing");
	a = fx(-5, 0, 0, 36, 90);
	b = fx(5, 0, 1, 36, 90);
	c = b;
	c.f_sats = 0;
	ok(gate_cross(&g, &a, &c, &tc, &gc) == 0, "a no-fix record never brackets");
	b = fx(25, 0, 3, 36, 90);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1 && (gc.gc_flags & GC_GAP) &&
	    (gc.gc_flags & GC_LOWCONF), "a bracket over lost records is low confidence");
}

static void
test_gate_degenerate(void)
{
	struct gate		g;
	struct gate_cross	gc;
	struct timing_cfg	tc;
	struct fix		a, b, c;
	double			lat, lon;
	int			n;

	timing_cfg_default(&tc);
	tc.tc_use_hdop = 0;
	mkgate(&g, -10, 10, GATE_DIR_ANY, 0);
	a = fx(-5, 0, 0, 36, 90);
	b = fx(0, 0, 1, 36, 90);
	c = fx(5, 0, 2, 36, 90);
	n = gate_cross(&g, &a, &b, &tc, &gc) + gate_cross(&g, &b, &c, &tc, &gc);
	is_int(n, 1, "a crossing exactly at a fix is found once");
	ok(gate_cross(&g, &b, &c, &tc, &gc) == 1 && gc.gc_t_us == b.f_ts_us,
	    "and timed at that fix");
	a = fx(-5, 0, 0, 36, 90);
	b = fx(0, 0, 1, 36, 90);
	c = fx(-5, 1, 2, 36, 270);
	is_int(gate_cross(&g, &a, &b, &tc, &gc) + gate_cross(&g, &b, &c, &tc, &gc),
	    0, "touching the line from one side and leaving is no crossing");
	a = fx(0, -20, 0, 36, 0);
	b = fx(0, 20, 1, 36, 0);
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "sliding along the line is no crossing");
	a = fx(-5, 5, 0, 36, 90);
	b = fx(-5, 5, 1, 36, 90);
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "a zero-length segment never crosses");
	a = fx(-5, 10, 0, 36, 90);
	b = fx(5, 10, 1, 36, 90);
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 1, "touching a gate endpoint counts");
	a = fx(-5, 10.5, 0, 36, 90);
	b = fx(5, 10.5, 1, 36, 90);
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "passing beyond the end does not");
	mkgate(&g, -0.5, 0.5, GATE_DIR_ANY, 0);
	ok(gate_too_short(&g, 2.0), "a 1 m gate is too short for 2 m noise");
	a = fx(-5, 2.5, 0, 36, 90);
	b = fx(5, 2.5, 1, 36, 90);
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "noise carries the path past it");
	mkgate(&g, -0.5, 0.5, GATE_DIR_ANY, 4.0);
	ok(!gate_too_short(&g, 2.0) && gate_cross(&g, &a, &b, &tc, &gc) == 1,
	    "a margin widens a short gate");
	ok(gate_init(&g, 45, 15, 45, 15, 0, 0) == -1, "a zero-length gate is refused");
	ok(gate_init(&g, 89.99, 0, 89.99, 1, 0, 0) == -1, "a gate at a pole is refused");
	ok(gate_init(&g, 10, 179.9999, 10.0001, 179.9999, 0, 0) == 0,
	    "a gate at the antimeridian is accepted");
	a = fx(0, 0, 0, 36, 90);
	b = a;
	b.f_ts_us += 1000000;
	a.f_lat = 10.00005;
	a.f_lon = 179.9998;
	b.f_lat = 10.00005;
	b.f_lon = -179.9998;
	a.f_flags = b.f_flags = 0;
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1 && fabs(sec(gc.gc_t_us) - 0.25) <
	    0.01, "fixes across the antimeridian time the crossing");
	mkgate(&g, -10, 10, GATE_DIR_ANY, 0);
	a.f_lat = 10;
	a.f_lon = 179.9;
	b.f_lat = 10;
	b.f_lon = -179.9;
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0,
	    "fixes across the antimeridian far from a gate: nothing");
	a.f_lat = 89.9;
	a.f_lon = 15;
	b.f_lat = 89.9;
	b.f_lon = -165;
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "fixes across a pole: nothing");
	a.f_lat = NAN;
	is_int(gate_cross(&g, &a, &b, &tc, &gc), 0, "NaN coordinates: nothing");
	geo_unproject(&P, &(struct geo_xy){ 0, 0 }, &lat, &lon);
	ok(fabs(lat - 45) < 1e-12, "plane origin unprojects to itself");
}

/* Uncertainty grows with the gap and with sigma; HDOP sets sigma when used. */
static void
test_gate_unc(void)
{
	struct gate		g;
	struct gate_cross	gc;
	struct timing_cfg	tc;
	struct fix		a, b;
	double			u1, u2, u3;

	timing_cfg_default(&tc);
	tc.tc_use_hdop = 0;
	mkgate(&g, -10, 10, GATE_DIR_ANY, 0);
	a = fx(-10, 0, 0, 72, 90);
	b = fx(10, 0, 1, 72, 90);
	gate_cross(&g, &a, &b, &tc, &gc);
	u1 = gc.gc_unc_ms;
	is_double(u1, 1.96 * sqrt(0.5) * 2.0 / 20.0 * 1000, 2.0,
	    "two-point uncertainty %.1f ms from sigma 2 m at 72 km/h", u1);
	tc.tc_sigma = 4;
	gate_cross(&g, &a, &b, &tc, &gc);
	u2 = gc.gc_unc_ms;
	ok(u2 > 1.9 * u1, "doubling sigma doubles it (%.1f)", u2);
	tc.tc_use_hdop = 1;
	a.f_hdop = b.f_hdop = 0.8;
	a.f_flags |= FIX_HAS_HDOP;
	b.f_flags |= FIX_HAS_HDOP;
	gate_cross(&g, &a, &b, &tc, &gc);
	u3 = gc.gc_unc_ms;
	ok(u3 < u1, "HDOP 0.8 x UERE 1.5 gives less (%.1f)", u3);
	a.f_hdop = b.f_hdop = 6;
	gate_cross(&g, &a, &b, &tc, &gc);
	ok(gc.gc_flags & GC_LOWCONF, "HDOP 6 is low confidence");
}

/*
 * Through a bend the chord cuts the corner: at 72 km/h on a 50 m radius
 * (23 degrees a second), a gate 0.3 s after the first fix is crossed by
 * the chord about 2 ms off.  The arc the headings draw crosses it on time.
 */
static void
test_gate_arc(void)
{
	struct gate		g;
	struct gate_cross	gc;
	struct timing_cfg	tc;
	struct fix		a, b;
	double			R = 50, w = 20.0 / 50, t0 = -0.3, t1 = 0.7;

	timing_cfg_default(&tc);
	tc.tc_use_hdop = 0;
	mkgate(&g, -10, 10, GATE_DIR_ANY, 0);
	/* centre (0, -R): the gate line x = 0 is a radius, passed at t = 0 */
	a = fx(R * sin(w * t0), R * cos(w * t0) - R, t0, 72,
	    90 + w * t0 * 180 / M_PI);
	b = fx(R * sin(w * t1), R * cos(w * t1) - R, t1, 72,
	    90 + w * t1 * 180 / M_PI);
	ok(gate_cross(&g, &a, &b, &tc, &gc) == 1,
	    "a pass through a bend crosses");
	ok(fabs(sec(gc.gc_t_lin_us)) > 0.001, "the chord crosses %.2f ms off",
	    1000 * sec(gc.gc_t_lin_us));
	ok(fabs(sec(gc.gc_t_acc_us)) < 0.0002, "the arc crosses %.3f ms off",
	    1000 * sec(gc.gc_t_acc_us));
	b.f_flags &= ~FIX_HAS_HEADING;
	gate_cross(&g, &a, &b, &tc, &gc);
	ok(fabs(sec(gc.gc_t_acc_us)) > 0.001,
	    "without a heading, the chord: %.2f ms off",
	    1000 * sec(gc.gc_t_acc_us));
}

int
main(void)
{
	plan_lazy();
	geo_plane_init(&P, 45, 15);
	test_geo();
	test_gate_basic();
	test_gate_degenerate();
	test_gate_unc();
	test_gate_arc();
	return tap_done();
}
