/* Doppler-aided smoothing of a gate crossing: fit the path through the neighbouring fixes. */
#include <math.h>
#include <string.h>

#include "domain/gate.h"

#define SM_KMH		(1.0 / 3.6)
#define SM_Z95		1.959964
#define SM_QSPEED	(SM_KMH / 3.4641016)	/* sd of rounding to 1 km/h */
#define SM_QHEAD	(1.0 / 3.4641016)	/* sd of rounding to 1 degree */
#define SM_DEG		(M_PI / 180.0)
#define SM_MODEL_S	0.002			/* model error floor, s */

#define SM_MAXOBS	32

/* One fix seen along the gate normal. */
struct smooth_obs {
	double	o_t;		/* s from the provisional crossing */
	double	o_z;		/* signed distance to the gate line, m */
	double	o_w;		/* velocity along the normal, m/s */
	double	o_sz;		/* sd of o_z */
	double	o_sw;		/* sd of o_w */
	int	o_hasw;
	int	o_rest;		/* standing still: o_w is 0 */
};

/* The path as the Doppler velocities draw it, relative to the bracket start. */
struct smooth_shape {
	double	sh_d[SM_MAXOBS];	/* displacement from fix r, m */
	double	sh_v[SM_MAXOBS];	/* its variance, m^2 */
	double	sh_step[SM_MAXOBS];	/* variance of step k -> k + 1 */
	double	sh_tdep[SM_MAXOBS];	/* departure time inside step k, or NAN */
};

/* In-place Cholesky of an n x n matrix (row-major); -1 when not positive. */
static int
gate_smooth_chol(double *a, int n)
{
	double	s;
	int	i, j, k;

	for (i = 0; i < n; i++)
		for (j = 0; j <= i; j++) {
			s = a[i * n + j];
			for (k = 0; k < j; k++)
				s -= a[i * n + k] * a[j * n + k];
			if (i == j) {
				if (s <= 0.0)
					return -1;
				a[i * n + i] = sqrt(s);
			} else
				a[i * n + j] = s / a[j * n + j];
		}
	return 0;
}

static void
gate_smooth_chol_solve(const double *L, int n, const double *b, double *x)
{
	double	s;
	int	i, k;

	for (i = 0; i < n; i++) {
		for (s = b[i], k = 0; k < i; k++)
			s -= L[i * n + k] * x[k];
		x[i] = s / L[i * n + i];
	}
	for (i = n - 1; i >= 0; i--) {
		for (s = x[i], k = i + 1; k < n; k++)
			s -= L[k * n + i] * x[k];
		x[i] = s / L[i * n + i];
	}
}

static double
gate_smooth_acc(const struct smooth_obs *o, int n, int k)
{
	if (k < 0 || k + 1 >= n)
		return NAN;
	return (o[k + 1].o_w - o[k].o_w) / (o[k + 1].o_t - o[k].o_t);
}

/*
 * Integrating the velocities with the trapezoid rule is exact under constant
 * acceleration; where the acceleration changes by da inside a step (braking
 * points, corner exits) the step is off by up to da dt^2 / 8, rms da dt^2 / 11
 * for a change at a random instant.  da is taken as the larger difference of
 * the neighbouring steps' accelerations, an overestimate, hence / 16: that
 * divisor puts the 95% interval's coverage at 95-97% on simulated races
 * (t/unit/domain-precision.c).  Fixes beyond such a step then count for less.
 */
/*
 * A step from rest: the vehicle stood until tdep, then accelerated at the
 * rate the next step shows (or from the step's start when that is unknown).
 * Returns the displacement and sets the departure time.
 */
static double
gate_smooth_depart(const struct smooth_obs *o, int n, int k, double *tdep, double *var)
{
	double	dt = o[k + 1].o_t - o[k].o_t, w1 = o[k + 1].o_w, a, tm = dt;

	a = gate_smooth_acc(o, n, k + 1);
	if (!isnan(a) && a * w1 > 0 && fabs(w1 / a) < dt)
		tm = fabs(w1 / a);
	*tdep = o[k + 1].o_t - tm;
	*var = pow(0.3 * w1 * tm / 2, 2) + 0.01;
	return w1 * tm / 2;
}

static void
gate_smooth_step(const struct smooth_obs *o, int n, int k, struct smooth_shape *sh,
    double *disp)
{
	double	dt = o[k + 1].o_t - o[k].o_t, da, a0, a1, m;

	sh->sh_tdep[k] = NAN;
	if (o[k].o_rest && o[k + 1].o_rest) {
		sh->sh_step[k] = 1e-4;
		*disp = 0;
		return;
	}
	if (o[k].o_rest) {
		*disp = gate_smooth_depart(o, n, k, &sh->sh_tdep[k], &sh->sh_step[k]);
		return;
	}
	a0 = k > 0 && o[k - 1].o_rest ? NAN : gate_smooth_acc(o, n, k - 1);
	a1 = gate_smooth_acc(o, n, k + 1);
	da = fabs(gate_smooth_acc(o, n, k) - (isnan(a0) ? a1 : a0));
	if (!isnan(a0) && !isnan(a1))
		da = fmax(da, fabs(a1 - a0));
	if (isnan(da))
		da = 2.0;
	m = (da + 0.3) * dt * dt / 16.0;
	sh->sh_step[k] = dt * dt * (o[k].o_sw * o[k].o_sw +
	    o[k + 1].o_sw * o[k + 1].o_sw) / 4.0 + m * m;
	*disp = (o[k].o_w + o[k + 1].o_w) / 2 * dt;
}

static void
gate_smooth_shape(const struct smooth_obs *o, int n, int r, struct smooth_shape *sh)
{
	double	disp[SM_MAXOBS];
	int	k;

	for (k = 0; k + 1 < n; k++)
		gate_smooth_step(o, n, k, sh, &disp[k]);
	sh->sh_d[r] = sh->sh_v[r] = 0;
	for (k = r; k + 1 < n; k++) {
		sh->sh_d[k + 1] = sh->sh_d[k] + disp[k];
		sh->sh_v[k + 1] = sh->sh_v[k] + sh->sh_step[k];
	}
	for (k = r; k > 0; k--) {
		sh->sh_d[k - 1] = sh->sh_d[k] - disp[k - 1];
		sh->sh_v[k - 1] = sh->sh_v[k] + sh->sh_step[k - 1];
	}
}

/*
 * Generalised least squares for the one unknown left, the distance at fix r:
 * each fix says z_j - d_j, with position errors (white or AR(1)) plus the
 * shape error, which is shared by fixes on the same side of r.
 */
static int
gate_smooth_offset(const struct smooth_obs *o, int n, int r, const struct smooth_shape *sh,
    double tau, double *off, double *var)
{
	double	C[SM_MAXOBS * SM_MAXOBS], one[SM_MAXOBS], y[SM_MAXOBS];
	double	x1[SM_MAXOBS], xy[SM_MAXOBS], rho, a = 0, b = 0;
	int	i, j, same;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++) {
			rho = i == j ? 1.0 : tau > 0 ?
			    exp(-fabs(o[i].o_t - o[j].o_t) / tau) : 0.0;
			same = (i - r) * (j - r) > 0;
			C[i * n + j] = rho * o[i].o_sz * o[j].o_sz +
			    (same ? fmin(sh->sh_v[i], sh->sh_v[j]) : 0.0);
		}
		one[i] = 1.0;
		y[i] = o[i].o_z - sh->sh_d[i];
	}
	if (gate_smooth_chol(C, n) == -1)
		return -1;
	gate_smooth_chol_solve(C, n, one, x1);
	gate_smooth_chol_solve(C, n, y, xy);
	for (i = 0; i < n; i++) {
		a += x1[i];
		b += xy[i];
	}
	if (a <= 0)
		return -1;
	*off = b / a;
	*var = 1.0 / a;
	return 0;
}

static double
gate_smooth_sigma(const struct fix *f, const struct timing_cfg *tc)
{
	double	s = tc->tc_sigma;

	if (tc->tc_use_hdop && (f->f_flags & FIX_HAS_HDOP))
		s = f->f_hdop * tc->tc_uere;
	return fmax(s, 0.05);
}

/* Projects one fix; velocity variance splits into speed and heading parts. */
static int
gate_smooth_observe(const struct gate *g, const struct fix *f, int64_t t0,
    const struct timing_cfg *tc, struct smooth_obs *o)
{
	struct geo_xy	p;
	double		v, c, s, sh;

	if (!fix_valid(f) || geo_project(&g->g_plane, f->f_lat, f->f_lon, &p))
		return -1;
	o->o_t = (double)(f->f_ts_us - t0) / 1e6;
	o->o_z = g->g_n.xy_x * p.xy_x + g->g_n.xy_y * p.xy_y;
	o->o_sz = gate_smooth_sigma(f, tc);
	o->o_hasw = (f->f_flags & (FIX_HAS_SPEED | FIX_HAS_HEADING)) ==
	    (FIX_HAS_SPEED | FIX_HAS_HEADING);
	if (!o->o_hasw)
		return 0;
	v = f->f_speed * SM_KMH;
	o->o_rest = v < 1.0;
	c = g->g_n.xy_x * sin(f->f_heading * SM_DEG) +
	    g->g_n.xy_y * cos(f->f_heading * SM_DEG);
	s = sqrt(fmax(0.0, 1.0 - c * c));
	sh = (hypot(tc->tc_sigma_heading, SM_QHEAD) + 0.2 / fmax(v, 0.2)) *
	    SM_DEG * v;
	o->o_w = o->o_rest ? 0.0 : v * c;
	o->o_sw = o->o_rest ? SM_QSPEED : sqrt(pow(hypot(tc->tc_sigma_speed, SM_QSPEED) * c, 2) +
	    pow(sh * s, 2));
	return 0;
}

/*
 * The fixes within the window around the bracket, in time order.  Before
 * the bracket the window may hold one stretch at rest (a standing start:
 * those fixes pin the position down best); after it, it stops at rest,
 * which the path model does not cover.  *r is the bracket's first fix.
 */
static int
gate_smooth_collect(const struct gate *g, const struct fix *fx, size_t n, size_t i0,
    int64_t tc0, const struct timing_cfg *tc, struct smooth_obs *o, int *r)
{
	struct smooth_obs	tmp[SM_MAXOBS / 2];
	long		j;
	int		nb = 0, k = 0, i;
	double		w = tc->tc_window_s;

	for (j = (long)i0; j >= 0 && nb < SM_MAXOBS / 2; j--) {
		if (j < (long)i0 && (double)(tc0 - fx[j].f_ts_us) / 1e6 > w)
			break;
		if (gate_smooth_observe(g, &fx[j], tc0, tc, &tmp[nb]) == -1 ||
		    !tmp[nb].o_hasw || (nb > 0 && tmp[nb - 1].o_rest &&
		    !tmp[nb].o_rest))
			break;
		nb++;
	}
	if (nb == 0 || j == (long)i0)
		return -1;
	for (i = nb - 1; i >= 0; i--)
		o[k++] = tmp[i];
	*r = nb - 1;
	for (j = (long)i0 + 1; j < (long)n && k < SM_MAXOBS; j++) {
		if (j > (long)i0 + 1 && (double)(fx[j].f_ts_us - tc0) / 1e6 > w)
			break;
		if (gate_smooth_observe(g, &fx[j], tc0, tc, &o[k]) == -1 ||
		    !o[k].o_hasw || o[k].o_rest)
			break;
		k++;
	}
	return k > nb ? k : -1;
}

/* Distance at time t inside step k: constant acceleration between the fixes. */
static double
gate_smooth_path(const struct smooth_obs *o, const struct smooth_shape *sh, double off, int k,
    double t)
{
	double	u = t - o[k].o_t, T = o[k + 1].o_t - o[k].o_t, a;

	if (!isnan(sh->sh_tdep[k])) {
		if (t <= sh->sh_tdep[k])
			return off + sh->sh_d[k];
		u = t - sh->sh_tdep[k];
		a = o[k + 1].o_w / (o[k + 1].o_t - sh->sh_tdep[k]);
		return off + sh->sh_d[k] + 0.5 * a * u * u;
	}
	a = (o[k + 1].o_w - o[k].o_w) / T;
	return off + sh->sh_d[k] + o[k].o_w * u + 0.5 * a * u * u;
}

/* Root of the fitted path inside step k, by bisection; -1 without a sign change. */
static int
gate_smooth_root(const struct smooth_obs *o, const struct smooth_shape *sh, double off, int k,
    double *root)
{
	double	lo = o[k].o_t, hi = o[k + 1].o_t, mid, slo;
	int	i;

	slo = gate_smooth_path(o, sh, off, k, lo);
	if ((slo >= 0) == (gate_smooth_path(o, sh, off, k, hi) >= 0))
		return -1;
	for (i = 0; i < 50; i++) {
		mid = (lo + hi) / 2;
		if ((gate_smooth_path(o, sh, off, k, mid) >= 0) == (slo >= 0))
			lo = mid;
		else
			hi = mid;
	}
	*root = (lo + hi) / 2;
	return 0;
}

/*
 * Refines gc (filled by gate_cross for fixes i0, i0 + 1): the Doppler
 * velocities fix the shape of the path around the gate, and all positions in
 * the window together fix where that shape lies, so position noise averages
 * out while the shape stays sharp.  Keeps the two-point time when the fit's
 * variance is not smaller (noise-free data, short windows).
 */
int
gate_smooth(const struct gate *g, const struct fix *fx, size_t n, size_t i0,
    const struct timing_cfg *tc, struct gate_cross *gc)
{
	struct smooth_obs	o[SM_MAXOBS];
	struct smooth_shape	sh;
	double		off, var, t, w, u;
	int		no, r, k;

	if ((no = gate_smooth_collect(g, fx, n, i0, gc->gc_t_us, tc, o, &r)) < 3)
		return -1;
	gate_smooth_shape(o, no, r, &sh);
	if (gate_smooth_offset(o, no, r, &sh, tc->tc_tau, &off, &var) == -1)
		return -1;
	for (k = r; k >= r - 1 && k >= 0; k--)
		if (k + 1 < no && gate_smooth_root(o, &sh, off, k, &t) == 0)
			break;
	if (k < r - 1 || k < 0) {
		if (r + 2 >= no || gate_smooth_root(o, &sh, off, r + 1, &t) == -1)
			return -1;
		k = r + 1;
	}
	w = o[k].o_w + (o[k + 1].o_w - o[k].o_w) * (t - o[k].o_t) /
	    (o[k + 1].o_t - o[k].o_t);
	if ((w < 0) != (gc->gc_dir == GATE_DIR_LR) || fabs(w) < 0.5)
		return -1;
	u = (t - o[k].o_t) / (o[k + 1].o_t - o[k].o_t);
	var += (k >= r ? sh.sh_v[k] + u * sh.sh_step[k] :
	    sh.sh_v[k + 1] + (1 - u) * sh.sh_step[k]);
	var = var / (w * w) + SM_MODEL_S * SM_MODEL_S +
	    pow(tc->tc_jitter_ms / 1000.0, 2);
	var = SM_Z95 * sqrt(var) * tc->tc_unc_scale * 1000.0;
	if (var >= gc->gc_unc_ms)
		return -1;
	gc->gc_t_us += (int64_t)llround(t * 1e6);
	gc->gc_unc_ms = var;
	gc->gc_flags |= GC_SMOOTHED;
	return 0;
}
