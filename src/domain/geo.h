/* Geometry for racing rules: local tangent plane, haversine, segments, circles, polygons. */
#ifndef PROCESSOR_DOMAIN_GEO_H
#define PROCESSOR_DOMAIN_GEO_H

#include <stddef.h>

/* Points further than this from a plane's origin are refused by geo_project. */
#define GEO_PLANE_MAX_M		100000.0

/* East/north metres in a local tangent plane. */
struct geo_xy {
	double	xy_x;
	double	xy_y;
};

/* An equirectangular tangent plane around an origin (WGS-84 radii of curvature). */
struct geo_plane {
	double	gp_lat0;
	double	gp_lon0;
	double	gp_kx;		/* metres per degree of longitude */
	double	gp_ky;		/* metres per degree of latitude */
};

/* geo_seg_intersect results */
#define GEO_X_NONE	0
#define GEO_X_POINT	1
#define GEO_X_OVERLAP	2

int	geo_plane_init(struct geo_plane *, double, double);
int	geo_project(const struct geo_plane *, double, double, struct geo_xy *);
void	geo_unproject(const struct geo_plane *, const struct geo_xy *, double *,
	    double *);
double	geo_haversine(double, double, double, double);
double	geo_cross(struct geo_xy, struct geo_xy, struct geo_xy);
int	geo_seg_intersect(struct geo_xy, struct geo_xy, struct geo_xy,
	    struct geo_xy, double *, double *);
double	geo_seg_closest(struct geo_xy, struct geo_xy, struct geo_xy, double *);
int	geo_in_circle(struct geo_xy, double, struct geo_xy);
int	geo_in_polygon(const struct geo_xy *, size_t, struct geo_xy);
int	geo_seg_circle(struct geo_xy, struct geo_xy, struct geo_xy, double,
	    double [2]);
size_t	geo_seg_polygon(struct geo_xy, struct geo_xy, const struct geo_xy *,
	    size_t, double *, size_t);

#endif
