/* Zones: circle and polygon entry and exit with interpolated times, speed-zone integration. */
#include <math.h>
#include <string.h>

#include "domain/zone.h"

#define ZONE_KMH	(1.0 / 3.6)
#define ZONE_MAXCUT	(ZONE_RING_MAX + 2)

int
zone_init_circle(struct zone *z, double lat, double lon, double radius)
{
	memset(z, 0, sizeof(*z));
	if (!(radius > 0.0) || geo_plane_init(&z->z_plane, lat, lon) == -1)
		return -1;
	z->z_kind = ZONE_CIRCLE;
	z->z_radius = radius;
	return 0;
}

int
zone_init_polygon(struct zone *z, const double *lat, const double *lon,
    size_t n)
{
	size_t	i;

	memset(z, 0, sizeof(*z));
	if (n < 3 || n > ZONE_RING_MAX ||
	    geo_plane_init(&z->z_plane, lat[0], lon[0]) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (geo_project(&z->z_plane, lat[i], lon[i], &z->z_ring[i]) == -1)
			return -1;
	z->z_kind = ZONE_POLYGON;
	z->z_nring = n;
	return 0;
}

static int
zone_in_xy(const struct zone *z, struct geo_xy p)
{
	static const struct geo_xy	origin;

	if (z->z_kind == ZONE_CIRCLE)
		return geo_in_circle(origin, z->z_radius, p);
	return geo_in_polygon(z->z_ring, z->z_nring, p);
}

int
zone_contains(const struct zone *z, double lat, double lon)
{
	struct geo_xy	p;

	if (geo_project(&z->z_plane, lat, lon, &p) == -1)
		return 0;
	return zone_in_xy(z, p);
}

static struct geo_xy
zone_lerp(struct geo_xy a, struct geo_xy b, double t)
{
	struct geo_xy	r;

	r.xy_x = a.xy_x + t * (b.xy_x - a.xy_x);
	r.xy_y = a.xy_y + t * (b.xy_y - a.xy_y);
	return r;
}

/*
 * The segment cut at every boundary hit, each piece classified by its
 * midpoint: a vertex grazed or a tangent then changes nothing, where
 * toggling at every hit would.  Returns the number of pieces.
 */
static int
zone_pieces(const struct zone *z, struct geo_xy p0, struct geo_xy p1,
    double cut[ZONE_MAXCUT], int in[ZONE_MAXCUT])
{
	static const struct geo_xy	origin;
	double				t[ZONE_MAXCUT];
	size_t				nt, i;
	int				k = 0;

	if (z->z_kind == ZONE_CIRCLE)
		nt = (size_t)geo_seg_circle(p0, p1, origin, z->z_radius, t);
	else
		nt = geo_seg_polygon(p0, p1, z->z_ring, z->z_nring, t,
		    ZONE_MAXCUT - 2);
	cut[0] = 0.0;
	for (i = 0; i < nt; i++)
		if (t[i] > cut[k] && t[i] < 1.0)
			cut[++k] = t[i];
	cut[++k] = 1.0;
	for (i = 0; i < (size_t)k; i++)
		in[i] = zone_in_xy(z, zone_lerp(p0, p1, (cut[i] + cut[i + 1]) / 2));
	return k;
}

static int
zone_project2(const struct zone *z, const struct fix *f0, const struct fix *f1,
    struct geo_xy *p0, struct geo_xy *p1)
{
	if (!fix_valid(f0) || !fix_valid(f1) || f1->f_ts_us <= f0->f_ts_us)
		return -1;
	if (geo_project(&z->z_plane, f0->f_lat, f0->f_lon, p0) == -1 ||
	    geo_project(&z->z_plane, f1->f_lat, f1->f_lon, p1) == -1)
		return -1;
	return 0;
}

/* Entries and exits of the zone between two fixes, with interpolated times. */
int
zone_edges(const struct zone *z, const struct fix *f0, const struct fix *f1,
    struct zone_edge *out, int max)
{
	struct geo_xy	p0, p1;
	double		cut[ZONE_MAXCUT], D;
	int		in[ZONE_MAXCUT], np, i, n = 0;
	unsigned	flags = 0;

	if (zone_project2(z, f0, f1, &p0, &p1) == -1)
		return 0;
	np = zone_pieces(z, p0, p1, cut, in);
	D = hypot(p1.xy_x - p0.xy_x, p1.xy_y - p0.xy_y);
	for (i = 1; i < np && n < max; i++) {
		if (in[i] == in[i - 1])
			continue;
		out[n].ze_enter = in[i];
		out[n].ze_frac = cut[i];
		out[n].ze_t_us = f0->f_ts_us + (int64_t)llround(gate_interp(f0,
		    f1, cut[i], D, &flags) * 1e6);
		n++;
	}
	return n;
}

/* Speed and limit integration over [ta, tb] with speed linear in time. */
static void
zone_integrate(struct zone_visit *zv, double ta, double tb, double va,
    double vb, double lim)
{
	double	dt = tb - ta, f, x;

	if (dt <= 0)
		return;
	zv->zv_time_s += dt;
	zv->zv_dist_m += (va + vb) / 2 * dt;
	zv->zv_max_kmh = fmax(zv->zv_max_kmh, fmax(va, vb) / ZONE_KMH);
	if (va <= lim && vb <= lim)
		return;
	zv->zv_excess_kmh = fmax(zv->zv_excess_kmh, (fmax(va, vb) - lim) /
	    ZONE_KMH);
	if (va > lim && vb > lim) {
		zv->zv_over_s += dt;
		zv->zv_gained_s += ((va + vb) / 2 / lim - 1) * dt;
		return;
	}
	f = (lim - va) / (vb - va);	/* where the speed meets the limit */
	x = va > lim ? f * dt : (1 - f) * dt;
	zv->zv_over_s += x;
	zv->zv_gained_s += ((fmax(va, vb) + lim) / 2 / lim - 1) * x;
}

static double
zone_speed(const struct fix *f, double chord)
{
	return (f->f_flags & FIX_HAS_SPEED) ? f->f_speed * ZONE_KMH : chord;
}

/* Per segment: pieces inside are integrated, boundaries open and close visits. */
static int
zone_segment(const struct zone *z, const struct fix *f0, const struct fix *f1,
    double lim, const struct timing_cfg *tc, struct zone_visit *zv, int nv,
    int max, int *open)
{
	struct geo_xy	p0, p1;
	double		cut[ZONE_MAXCUT], D, T, ta, tb, v0, v1;
	int		in[ZONE_MAXCUT], np, i;
	unsigned	flags = 0;

	if (zone_project2(z, f0, f1, &p0, &p1) == -1)
		return nv;
	np = zone_pieces(z, p0, p1, cut, in);
	D = hypot(p1.xy_x - p0.xy_x, p1.xy_y - p0.xy_y);
	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6;
	v0 = zone_speed(f0, D / T);
	v1 = zone_speed(f1, D / T);
	for (i = 0; i < np; i++) {
		ta = i == 0 ? 0 : gate_interp(f0, f1, cut[i], D, &flags);
		tb = i == np - 1 ? T : gate_interp(f0, f1, cut[i + 1], D, &flags);
		if (in[i] && !*open && nv < max) {
			memset(&zv[nv], 0, sizeof(zv[nv]));
			zv[nv++].zv_in_us = f0->f_ts_us + (int64_t)llround(ta * 1e6);
			*open = 1;
		} else if (!in[i] && *open) {
			zv[nv - 1].zv_out_us = f0->f_ts_us + (int64_t)llround(ta * 1e6);
			*open = 0;
		}
		if (!in[i] || !*open)
			continue;
		zone_integrate(&zv[nv - 1], ta, tb, v0 + (v1 - v0) * ta / T,
		    v0 + (v1 - v0) * tb / T, lim * ZONE_KMH);
		if (T > tc->tc_gap_s)
			zv[nv - 1].zv_flags |= ZV_GAP;
	}
	return nv;
}

/*
 * Visits of the zone by a device's time-ordered fixes (invalid ones are
 * skipped), integrated between the interpolated entry and exit rather than
 * sampled at fixes.  Returns the number of visits.
 */
int
zone_visits(const struct zone *z, const struct fix *fx, size_t n, double lim,
    const struct timing_cfg *tc, struct zone_visit *zv, int max)
{
	size_t	i, prev = n;
	int	nv = 0, open = 0;

	for (i = 0; i < n; i++) {
		if (!fix_valid(&fx[i]))
			continue;
		if (prev == n && zone_contains(z, fx[i].f_lat, fx[i].f_lon) &&
		    max > 0) {
			memset(&zv[0], 0, sizeof(zv[0]));
			zv[0].zv_in_us = fx[i].f_ts_us;
			zv[0].zv_flags = ZV_OPEN;
			nv = open = 1;
		}
		if (prev != n)
			nv = zone_segment(z, &fx[prev], &fx[i], lim, tc, zv, nv,
			    max, &open);
		prev = i;
	}
	if (open && prev != n) {
		zv[nv - 1].zv_out_us = fx[prev].f_ts_us;
		zv[nv - 1].zv_flags |= ZV_UNCLOSED;
	}
	for (i = 0; i < (size_t)nv; i++)
		if (zv[i].zv_time_s > 0)
			zv[i].zv_avg_kmh = zv[i].zv_dist_m / zv[i].zv_time_s / ZONE_KMH;
	return nv;
}

/* Penalty in seconds for one visit; the formulas are the ones rally rules use. */
double
zone_penalty(const struct penalty_rule *pr, const struct zone_visit *zv,
    double lim)
{
	double	x;

	switch (pr->pr_kind) {
	case PEN_TIME_GAINED:
		return zv->zv_gained_s * pr->pr_factor;
	case PEN_BANDED:
		x = zv->zv_excess_kmh - pr->pr_tolerance_kmh;
		if (x <= 0 || pr->pr_band_kmh <= 0)
			return 0;
		return ceil(x / pr->pr_band_kmh - 1e-9) * pr->pr_band_s;
	case PEN_ZONE_AVERAGE:
		x = zv->zv_avg_kmh - lim - pr->pr_tolerance_kmh;
		return x > 0 ? x * pr->pr_factor : 0;
	default:
		return 0;
	}
}
