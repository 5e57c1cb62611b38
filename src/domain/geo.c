/* Geometry for racing rules: local tangent plane, haversine, segments, circles, polygons. */
#include <math.h>
#include <stdlib.h>

#include "domain/geo.h"

#define GEO_A		6378137.0		/* WGS-84 semi-major axis */
#define GEO_E2		6.69437999014e-3	/* WGS-84 first eccentricity squared */
#define GEO_R_MEAN	6371008.8		/* IUGG mean radius, for haversine */
#define GEO_DEG		(M_PI / 180.0)
#define GEO_EPS		1e-12

/*
 * The plane uses the meridian and normal radii of curvature at the origin, so
 * within a few kilometres its scale error is far below GNSS noise.  Planes at
 * the poles are refused: longitude there means nothing.
 */
int
geo_plane_init(struct geo_plane *gp, double lat, double lon)
{
	double	s, w;

	if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 89.5 ||
	    fabs(lon) > 180.0)
		return -1;
	s = sin(lat * GEO_DEG);
	w = sqrt(1.0 - GEO_E2 * s * s);
	gp->gp_lat0 = lat;
	gp->gp_lon0 = lon;
	gp->gp_kx = GEO_A / w * cos(lat * GEO_DEG) * GEO_DEG;
	gp->gp_ky = GEO_A * (1.0 - GEO_E2) / (w * w * w) * GEO_DEG;
	return 0;
}

/* Fails for points too far from the origin to be projected honestly. */
int
geo_project(const struct geo_plane *gp, double lat, double lon,
    struct geo_xy *out)
{
	double	dlon;

	if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90.0)
		return -1;
	/* remainder() is a fifth of stage_eval's time; it is the identity here */
	dlon = lon - gp->gp_lon0;
	if (dlon < -180.0 || dlon > 180.0)
		dlon = remainder(dlon, 360.0);
	out->xy_x = dlon * gp->gp_kx;
	out->xy_y = (lat - gp->gp_lat0) * gp->gp_ky;
	if (fabs(out->xy_x) > GEO_PLANE_MAX_M || fabs(out->xy_y) > GEO_PLANE_MAX_M)
		return -1;
	return 0;
}

void
geo_unproject(const struct geo_plane *gp, const struct geo_xy *p, double *lat,
    double *lon)
{
	*lat = gp->gp_lat0 + p->xy_y / gp->gp_ky;
	*lon = remainder(gp->gp_lon0 + p->xy_x / gp->gp_kx, 360.0);
}

double
geo_haversine(double lat1, double lon1, double lat2, double lon2)
{
	double	dlat, dlon, h;

	dlat = (lat2 - lat1) * GEO_DEG;
	dlon = (lon2 - lon1) * GEO_DEG;
	h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * GEO_DEG) *
	    cos(lat2 * GEO_DEG) * sin(dlon / 2) * sin(dlon / 2);
	if (h > 1.0)
		h = 1.0;
	return 2.0 * GEO_R_MEAN * asin(sqrt(h));
}

/* Twice the signed area of (o, a, b): > 0 when b is left of o->a. */
double
geo_cross(struct geo_xy o, struct geo_xy a, struct geo_xy b)
{
	return (a.xy_x - o.xy_x) * (b.xy_y - o.xy_y) -
	    (a.xy_y - o.xy_y) * (b.xy_x - o.xy_x);
}

static double
geo_dot(struct geo_xy a, struct geo_xy b)
{
	return a.xy_x * b.xy_x + a.xy_y * b.xy_y;
}

static struct geo_xy
geo_sub(struct geo_xy a, struct geo_xy b)
{
	struct geo_xy	r;

	r.xy_x = a.xy_x - b.xy_x;
	r.xy_y = a.xy_y - b.xy_y;
	return r;
}

/*
 * Collinear overlap: the fractions on p0->p1 where the overlap starts (ta) and
 * ends (tb).  A zero-length p segment overlaps only when it lies on q.
 */
static int
geo_seg_overlap(struct geo_xy p0, struct geo_xy p1, struct geo_xy q0,
    struct geo_xy q1, double *ta, double *tb)
{
	struct geo_xy	r = geo_sub(p1, p0);
	double		rr, t0, t1, lo, hi;

	rr = geo_dot(r, r);
	if (rr < GEO_EPS) {
		double	u;

		if (geo_seg_closest(q0, q1, p0, &u) > 1e-9)
			return GEO_X_NONE;
		*ta = *tb = 0.0;
		return GEO_X_POINT;
	}
	t0 = geo_dot(geo_sub(q0, p0), r) / rr;
	t1 = geo_dot(geo_sub(q1, p0), r) / rr;
	lo = fmax(0.0, fmin(t0, t1));
	hi = fmin(1.0, fmax(t0, t1));
	if (lo > hi)
		return GEO_X_NONE;
	*ta = lo;
	*tb = hi;
	return lo == hi ? GEO_X_POINT : GEO_X_OVERLAP;
}

/*
 * Segment p0->p1 against q0->q1.  For a single point, *tp and *tq are the
 * fractions on each; for a collinear overlap they are the overlap's start and
 * end on p.  Endpoints count as touching.
 */
int
geo_seg_intersect(struct geo_xy p0, struct geo_xy p1, struct geo_xy q0,
    struct geo_xy q1, double *tp, double *tq)
{
	struct geo_xy	r = geo_sub(p1, p0), s = geo_sub(q1, q0);
	struct geo_xy	w = geo_sub(q0, p0);
	double		d, scale, t, u;

	d = r.xy_x * s.xy_y - r.xy_y * s.xy_x;
	scale = sqrt(geo_dot(r, r) * geo_dot(s, s));
	if (fabs(d) <= 1e-12 * scale || scale < GEO_EPS) {
		if (fabs(geo_cross(q0, q1, p0)) > 1e-9 * (1.0 + sqrt(geo_dot(s, s))) ||
		    fabs(geo_cross(q0, q1, p1)) > 1e-9 * (1.0 + sqrt(geo_dot(s, s))))
			return GEO_X_NONE;
		return geo_seg_overlap(p0, p1, q0, q1, tp, tq);
	}
	t = (w.xy_x * s.xy_y - w.xy_y * s.xy_x) / d;
	u = (w.xy_x * r.xy_y - w.xy_y * r.xy_x) / d;
	if (t < 0.0 || t > 1.0 || u < 0.0 || u > 1.0)
		return GEO_X_NONE;
	*tp = t;
	*tq = u;
	return GEO_X_POINT;
}

/* Distance from p to segment a->b; *t is the fraction of the closest point. */
double
geo_seg_closest(struct geo_xy a, struct geo_xy b, struct geo_xy p, double *t)
{
	struct geo_xy	r = geo_sub(b, a), q;
	double		rr, f;

	rr = geo_dot(r, r);
	f = rr < GEO_EPS ? 0.0 : geo_dot(geo_sub(p, a), r) / rr;
	f = fmax(0.0, fmin(1.0, f));
	q.xy_x = a.xy_x + f * r.xy_x;
	q.xy_y = a.xy_y + f * r.xy_y;
	*t = f;
	return hypot(p.xy_x - q.xy_x, p.xy_y - q.xy_y);
}

int
geo_in_circle(struct geo_xy c, double radius, struct geo_xy p)
{
	return hypot(p.xy_x - c.xy_x, p.xy_y - c.xy_y) <= radius;
}

/* Even-odd rule with half-open edges, so a vertex on the ray counts once. */
int
geo_in_polygon(const struct geo_xy *ring, size_t n, struct geo_xy p)
{
	size_t	i, j;
	int	in = 0;

	for (i = 0, j = n - 1; i < n; j = i++) {
		const struct geo_xy	*a = &ring[i], *b = &ring[j];

		if ((a->xy_y > p.xy_y) != (b->xy_y > p.xy_y) &&
		    p.xy_x < (b->xy_x - a->xy_x) * (p.xy_y - a->xy_y) /
		    (b->xy_y - a->xy_y) + a->xy_x)
			in = !in;
	}
	return in;
}

/* Fractions on p0->p1 where it crosses the circle; tangents do not count. */
int
geo_seg_circle(struct geo_xy p0, struct geo_xy p1, struct geo_xy c,
    double radius, double t[2])
{
	struct geo_xy	d = geo_sub(p1, p0), f = geo_sub(p0, c);
	double		a, b, cc, disc, sq, r0, r1;
	int		n = 0;

	a = geo_dot(d, d);
	if (a < GEO_EPS)
		return 0;
	b = 2.0 * geo_dot(f, d);
	cc = geo_dot(f, f) - radius * radius;
	disc = b * b - 4.0 * a * cc;
	if (disc <= 0.0)
		return 0;
	sq = sqrt(disc);
	r0 = (-b - sq) / (2.0 * a);
	r1 = (-b + sq) / (2.0 * a);
	if (r0 >= 0.0 && r0 <= 1.0)
		t[n++] = r0;
	if (r1 >= 0.0 && r1 <= 1.0)
		t[n++] = r1;
	return n;
}

static int
geo_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorted, de-duplicated fractions on p0->p1 where it meets polygon edges. */
size_t
geo_seg_polygon(struct geo_xy p0, struct geo_xy p1, const struct geo_xy *ring,
    size_t n, double *t, size_t max)
{
	size_t	i, k = 0, out;
	double	tp, tq;

	for (i = 0; i < n && k < max; i++) {
		if (geo_seg_intersect(p0, p1, ring[i], ring[(i + 1) % n], &tp,
		    &tq) == GEO_X_POINT)
			t[k++] = tp;
	}
	qsort(t, k, sizeof(*t), geo_cmp_double);
	for (i = 0, out = 0; i < k; i++)
		if (out == 0 || t[i] - t[out - 1] > 1e-9)
			t[out++] = t[i];
	return out;
}
