/* Line gates: crossing detection, interpolated crossing times, smoothing, uncertainty. */
#include <math.h>
#include <string.h>

#include "domain/gate.h"

#define GATE_KMH	(1.0 / 3.6)
#define GATE_Z95	1.959964
#define GATE_DEG	(M_PI / 180.0)
#define GATE_SIGMA_MIN	0.01		/* m */
#define GATE_ARC_MAX	(M_PI / 2)	/* rad: sharper, no arc */
#define GATE_ARC_VMIN	1.0		/* m/s: slower, the heading is noise */

void
timing_cfg_default(struct timing_cfg *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->tc_auto = 1;
	tc->tc_sigma = 2.0;
	tc->tc_use_hdop = 1;
	tc->tc_uere = 1.5;
	tc->tc_tau = 0.0;
	tc->tc_sigma_speed = 0.05;
	tc->tc_sigma_heading = 0.5;
	tc->tc_jitter_ms = 0.0;
	tc->tc_window_s = 5.0;
	tc->tc_gap_s = 1.5;
	tc->tc_min_speed_kmh = 3.0;
	tc->tc_max_hdop = 4.0;
	tc->tc_unc_scale = 1.0;
}

/* margin extends both ends, for gates narrower than the road or GPS error. */
int
gate_init(struct gate *g, double alat, double alon, double blat, double blon,
    int dir, double margin)
{
	memset(g, 0, sizeof(*g));
	if (geo_plane_init(&g->g_plane, alat, alon) == -1 ||
	    geo_project(&g->g_plane, alat, alon, &g->g_a) == -1 ||
	    geo_project(&g->g_plane, blat, blon, &g->g_b) == -1)
		return -1;
	g->g_len = hypot(g->g_b.xy_x - g->g_a.xy_x, g->g_b.xy_y - g->g_a.xy_y);
	if (g->g_len < 0.01 || margin < 0.0)
		return -1;
	g->g_n.xy_x = -(g->g_b.xy_y - g->g_a.xy_y) / g->g_len;
	g->g_n.xy_y = (g->g_b.xy_x - g->g_a.xy_x) / g->g_len;
	g->g_margin = margin;
	g->g_dir = dir;
	return 0;
}

/* A gate shorter than four sigma can be missed by honest but noisy fixes. */
int
gate_too_short(const struct gate *g, double sigma)
{
	return g->g_len + 2.0 * g->g_margin < 4.0 * sigma;
}

int
gate_dir_ok(const struct gate *g, int dir)
{
	return g->g_dir == GATE_DIR_ANY || g->g_dir == dir;
}

/*
 * A fix's position sigma, at least GATE_SIGMA_MIN: that floor is what
 * covers a noise-free start (slow, where a centimetre is milliseconds) at
 * 95-96.5%; 2 cm covered 99.5-100% of them.
 */
static double
gate_sigma(const struct fix *f, const struct timing_cfg *tc)
{
	double	s = tc->tc_sigma;

	if (tc->tc_use_hdop && (f->f_flags & FIX_HAS_HDOP))
		s = f->f_hdop * tc->tc_uere;
	return fmax(s, GATE_SIGMA_MIN);
}

static double
gate_dist(const struct gate *g, const struct geo_xy *p)
{
	return g->g_n.xy_x * p->xy_x + g->g_n.xy_y * p->xy_y;
}

/* Cubic Hermite path length at tau over [0, T] from both ends' speeds. */
static double
gate_hermite(double tau, double T, double D, double v0, double v1)
{
	double	x = tau / T, x2 = x * x, x3 = x2 * x;

	return (3 * x2 - 2 * x3) * D + (x3 - 2 * x2 + x) * T * v0 +
	    (x3 - x2) * T * v1;
}

/*
 * Time into the bracket at which the path has covered s of its D metres.
 * With both speeds known the path is the cubic Hermite through them (exactly
 * constant acceleration when speeds and distance agree).  If one end is at
 * rest and the distance is too short for steady acceleration, the vehicle
 * stood for part of the bracket: solve rest-then-constant-acceleration.
 */
static double
gate_acc_time(double s, double T, double D, double v0, double v1,
    unsigned *flags)
{
	double	lo = 0.0, hi = T, mid;
	int	i;

	if (v0 < 0.5 && v1 > 0.5 && D < 0.98 * v1 * T / 2) {
		double	tm = 2.0 * D / v1;

		*flags |= GC_STANDING;
		return T - tm + tm * sqrt(s / D);
	}
	if (v1 < 0.5 && v0 > 0.5 && D < 0.98 * v0 * T / 2) {
		double	tm = 2.0 * D / v0;

		*flags |= GC_STANDING;
		return tm * (1.0 - sqrt(1.0 - s / D));
	}
	for (i = 0; i < 48; i++) {
		mid = (lo + hi) / 2;
		if (gate_hermite(mid, T, D, v0, v1) < s)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/*
 * Seconds after f0 at which the path has covered frac of its D metres
 * between f0 and f1, under constant acceleration when both carry a speed.
 */
double
gate_interp(const struct fix *f0, const struct fix *f1, double frac, double D,
    unsigned *flags)
{
	double	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6;

	if (!(f0->f_flags & FIX_HAS_SPEED) || !(f1->f_flags & FIX_HAS_SPEED) ||
	    D <= 0.0 || T <= 0.0) {
		*flags |= GC_LINEAR;
		return frac * T;
	}
	return gate_acc_time(frac * D, T, D, f0->f_speed * GATE_KMH,
	    f1->f_speed * GATE_KMH, flags);
}

/* 95% half width (ms) of a two-point time: position noise, model, jitter. */
static double
gate_unc_two(const struct timing_cfg *tc, double s0, double s1, double f,
    double T, double vn)
{
	double	rho = tc->tc_tau > 0 ? exp(-T / tc->tc_tau) : 0.0;
	double	var, model;

	var = (1 - f) * (1 - f) * s0 * s0 + f * f * s1 * s1 +
	    2 * f * (1 - f) * rho * s0 * s1;
	var /= vn * vn;
	model = 0.0009 * T * T * T;
	var += model * model + pow(tc->tc_jitter_ms / 1000.0, 2);
	return GATE_Z95 * sqrt(var) * tc->tc_unc_scale * 1000.0;
}

/*
 * The point a fraction u along the circular arc from p0 to p1 that turns by
 * dh (rad, clockwise positive like headings): it bulges to the left of the
 * chord c (length L) when turning right, by L/2 tan(dh/4) at its middle.
 */
static struct geo_xy
gate_arc_at(struct geo_xy p0, struct geo_xy c, double L, double dh, double u)
{
	double		h = dh / 2, x, y;
	struct geo_xy	p;

	x = L / 2 * (1 - sin((1 - 2 * u) * h) / sin(h));
	y = L / 2 * (cos((1 - 2 * u) * h) - cos(h)) / sin(h);
	p.xy_x = p0.xy_x + (x * c.xy_x - y * c.xy_y) / L;
	p.xy_y = p0.xy_y + (x * c.xy_y + y * c.xy_x) / L;
	return p;
}

/* The heading change from f0 to f1 in rad, or 0 when it says nothing. */
static double
gate_turn(const struct fix *f0, const struct fix *f1, double T,
    const struct timing_cfg *tc)
{
	unsigned	both = FIX_HAS_SPEED | FIX_HAS_HEADING;
	double		dh;

	if ((f0->f_flags & both) != both || (f1->f_flags & both) != both ||
	    f0->f_speed * GATE_KMH < GATE_ARC_VMIN ||
	    f1->f_speed * GATE_KMH < GATE_ARC_VMIN || T > tc->tc_gap_s)
		return 0;
	dh = remainder((f1->f_heading - f0->f_heading) * GATE_DEG, 2 * M_PI);
	return fabs(dh) < 1e-3 || fabs(dh) > GATE_ARC_MAX ? 0 : dh;
}

/*
 * Where the path crosses the gate as a fraction of its length, on the arc
 * the headings draw rather than on the chord, and (in *D) that length.  The
 * chord cuts corners: its crossing is off by about T dh^2 / 6 x g(f),
 * g(f) = f ((1 - f)^3 + f^3 - f^2), up to 5 ms at a 50 km/h apex, which was
 * most of the noise-free error on corner gates.  The Doppler speeds are
 * speeds along the arc, so the arc's length is also what they integrate to.
 */
static double
gate_arc_frac(const struct gate *g, struct geo_xy p0, struct geo_xy p1,
    double dh, double *D)
{
	struct geo_xy	c = { p1.xy_x - p0.xy_x, p1.xy_y - p0.xy_y }, p;
	double		L = hypot(c.xy_x, c.xy_y), lo = 0, hi = 1, mid, s0;
	int		i;

	s0 = gate_dist(g, &p0);
	for (i = 0; i < 40; i++) {
		mid = (lo + hi) / 2;
		p = gate_arc_at(p0, c, L, dh, mid);
		if ((gate_dist(g, &p) >= 0) == (s0 >= 0))
			lo = mid;
		else
			hi = mid;
	}
	*D = L * (dh / 2) / sin(dh / 2);
	return (lo + hi) / 2;
}

static int64_t
gate_us(int64_t t0, double sec)
{
	return t0 + (int64_t)llround(sec * 1e6);
}

static void	gate_cross_time(const struct fix *, const struct fix *,
		    const struct timing_cfg *, double, double, double, double,
		    struct gate_cross *);

/*
 * Whether the crossing point (fraction u along the gate) misses the gate.
 * Across lost records the chord cuts corners, so it may miss a gate the
 * vehicle drove through: extra slack, a quarter of the chord (at most 30 m),
 * is allowed then; such crossings are low confidence anyway.
 */
static int
gate_outside(const struct gate *g, double u, double extra)
{
	double	m = (g->g_margin + extra) / g->g_len;

	return u < -m || u > 1.0 + m;
}

/*
 * Whether the segment f0->f1 crosses the gate.  A fix exactly on the line
 * counts as being on its left, so a pass through a fix is found exactly once
 * and a collinear slide along the line is no crossing.  Invalid fixes never
 * bracket a crossing.  Returns 1 and fills gc on a crossing, else 0.
 */
int
gate_cross(const struct gate *g, const struct fix *f0, const struct fix *f1,
    const struct timing_cfg *tc, struct gate_cross *gc)
{
	struct geo_xy	p0, p1, x;
	double		d0, d1, f, u, T, D, v0, v1, dh, fa, Da;

	if (!fix_valid(f0) || !fix_valid(f1) || f1->f_ts_us <= f0->f_ts_us)
		return 0;
	if (geo_project(&g->g_plane, f0->f_lat, f0->f_lon, &p0) == -1 ||
	    geo_project(&g->g_plane, f1->f_lat, f1->f_lon, &p1) == -1)
		return 0;
	d0 = gate_dist(g, &p0);
	d1 = gate_dist(g, &p1);
	if ((d0 >= 0) == (d1 >= 0))
		return 0;
	f = d0 / (d0 - d1);
	x.xy_x = p0.xy_x + f * (p1.xy_x - p0.xy_x);
	x.xy_y = p0.xy_y + f * (p1.xy_y - p0.xy_y);
	u = (x.xy_x * (g->g_b.xy_x - g->g_a.xy_x) + x.xy_y * (g->g_b.xy_y -
	    g->g_a.xy_y)) / (g->g_len * g->g_len);
	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6;
	D = hypot(p1.xy_x - p0.xy_x, p1.xy_y - p0.xy_y);
	if (gate_outside(g, u, T > tc->tc_gap_s ? fmin(D / 4, 30.0) : 0.0))
		return 0;
	v0 = (f0->f_flags & FIX_HAS_SPEED) ? f0->f_speed * GATE_KMH : -1;
	v1 = (f1->f_flags & FIX_HAS_SPEED) ? f1->f_speed * GATE_KMH : -1;
	if (v0 >= 0 && v1 >= 0 && fmax(v0, v1) < tc->tc_min_speed_kmh * GATE_KMH)
		return 0;
	memset(gc, 0, sizeof(*gc));
	gc->gc_dir = d0 >= 0 ? GATE_DIR_LR : GATE_DIR_RL;
	gc->gc_frac = f;
	gc->gc_along = u;
	dh = gate_turn(f0, f1, T, tc);
	Da = D;
	fa = dh != 0 ? gate_arc_frac(g, p0, p1, dh, &Da) : f;
	gate_cross_time(f0, f1, tc, fabs(d1 - d0), D, fa, Da, gc);
	return 1;
}

/*
 * Times a detected crossing (gc_frac set) across a bracket of D metres
 * (chord), dn of them along the gate normal, fa of the path's length Da
 * (arc) before the gate; sets the uncertainty and the flags.
 */
static void
gate_cross_time(const struct fix *f0, const struct fix *f1,
    const struct timing_cfg *tc, double dn, double D, double fa, double Da,
    struct gate_cross *gc)
{
	double	T, v0, v1, tacc, vn, f = gc->gc_frac;

	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6;
	v0 = (f0->f_flags & FIX_HAS_SPEED) ? f0->f_speed * GATE_KMH : -1;
	v1 = (f1->f_flags & FIX_HAS_SPEED) ? f1->f_speed * GATE_KMH : -1;
	gc->gc_t_lin_us = gate_us(f0->f_ts_us, f * T);
	tacc = gate_interp(f0, f1, fa, Da, &gc->gc_flags);
	gc->gc_t_acc_us = gate_us(f0->f_ts_us, tacc);
	gc->gc_t_us = gc->gc_t_acc_us;
	gc->gc_speed = v0 >= 0 && v1 >= 0 ? v0 + (v1 - v0) * tacc / T : D / T;
	vn = fmax(dn / T, 0.2);
	if (gc->gc_speed > 0 && D > 0)
		vn = fmax(gc->gc_speed * dn / D, 0.2);
	gc->gc_unc_ms = gate_unc_two(tc, gate_sigma(f0, tc), gate_sigma(f1, tc),
	    f, T, vn);
	if (T > tc->tc_gap_s)
		gc->gc_flags |= GC_GAP;
	/* a start from rest: slow where position noise matters most */
	if (v0 >= 0 && v1 >= 0 && fmin(v0, v1) < 10 * GATE_KMH)
		gc->gc_flags |= GC_STANDING;
	if (dn < 0.2 * D ||
	    ((f0->f_flags & FIX_HAS_HDOP) && f0->f_hdop > tc->tc_max_hdop) ||
	    ((f1->f_flags & FIX_HAS_HDOP) && f1->f_hdop > tc->tc_max_hdop) ||
	    (gc->gc_flags & (GC_GAP | GC_STANDING)))
		gc->gc_flags |= GC_LOWCONF;
}

/* The smoothed time needs the window after the bracket to have filled. */
int
gate_window_full(const struct fix *fx, size_t n, size_t i0,
    const struct timing_cfg *tc)
{
	if (i0 + 1 >= n)
		return 0;
	return (double)(fx[n - 1].f_ts_us - fx[i0 + 1].f_ts_us) / 1e6 >=
	    tc->tc_window_s;
}
