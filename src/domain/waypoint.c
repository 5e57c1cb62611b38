/* Waypoints: validated, missed or no data, from the closest approach of the fix segments. */
#include <math.h>
#include <string.h>

#include "domain/zone.h"

int
waypoint_init(struct waypoint *wp, double lat, double lon, double open,
    double clear)
{
	memset(wp, 0, sizeof(*wp));
	if (!(clear > 0) || open < clear ||
	    geo_plane_init(&wp->wp_plane, lat, lon) == -1)
		return -1;
	wp->wp_open = open;
	wp->wp_clear = clear;
	return 0;
}

/*
 * Whether the vehicle could have been inside the clear radius during a gap:
 * the points reachable between two fixes lie in an ellipse with the fixes as
 * foci and the longest plausible path (fastest speed seen, +25%) as its
 * major axis.
 */
static int
waypoint_reach(const struct waypoint *wp, const struct fix *f0,
    const struct fix *f1, struct geo_xy p0, struct geo_xy p1)
{
	double	T = (double)(f1->f_ts_us - f0->f_ts_us) / 1e6, v, L;

	v = hypot(p1.xy_x - p0.xy_x, p1.xy_y - p0.xy_y) / T;
	if (f0->f_flags & FIX_HAS_SPEED)
		v = fmax(v, f0->f_speed / 3.6);
	if (f1->f_flags & FIX_HAS_SPEED)
		v = fmax(v, f1->f_speed / 3.6);
	L = 1.25 * v * T;
	return hypot(p0.xy_x, p0.xy_y) + hypot(p1.xy_x, p1.xy_y) -
	    2 * wp->wp_clear <= L;
}

/*
 * A segment is evidence of where the vehicle went only when its fixes are
 * close in time; a straight line across lost records proves nothing, so a
 * gap passing within the open radius without a validation is "no data", not
 * "missed".  Only fixes within [from, to] count.
 */
void
waypoint_eval(const struct waypoint *wp, const struct fix *fx, size_t n,
    int64_t from, int64_t to, const struct timing_cfg *tc, struct wp_result *wr)
{
	static const struct geo_xy	origin;
	struct geo_xy			p0, p1;
	size_t				i, prev = n;
	double				d, t, T;
	int				gap = 0, seen = 0;

	memset(wr, 0, sizeof(*wr));
	wr->wr_dmin = INFINITY;
	for (i = 0; i < n; i++) {
		if (!fix_valid(&fx[i]) || fx[i].f_ts_us < from || fx[i].f_ts_us > to ||
		    geo_project(&wp->wp_plane, fx[i].f_lat, fx[i].f_lon, &p1) == -1)
			continue;
		seen = 1;
		if (prev == n) {
			prev = i;
			p0 = p1;
			t = 0;
			d = hypot(p1.xy_x, p1.xy_y);
		} else {
			d = geo_seg_closest(p0, p1, origin, &t);
			T = (double)(fx[i].f_ts_us - fx[prev].f_ts_us) / 1e6;
			if (T > tc->tc_gap_s && fmin(hypot(p0.xy_x, p0.xy_y),
			    hypot(p1.xy_x, p1.xy_y)) > wp->wp_clear) {
				gap |= d <= wp->wp_open && waypoint_reach(wp,
				    &fx[prev], &fx[i], p0, p1);
				prev = i;
				p0 = p1;
				continue;
			}
		}
		if (d < wr->wr_dmin) {
			wr->wr_dmin = d;
			wr->wr_t_us = fx[prev].f_ts_us + (int64_t)llround(t *
			    (double)(fx[i].f_ts_us - fx[prev].f_ts_us));
		}
		prev = i;
		p0 = p1;
	}
	if (!seen)
		wr->wr_verdict = WP_NO_DATA;
	else if (wr->wr_dmin <= wp->wp_clear)
		wr->wr_verdict = WP_VALIDATED;
	else
		wr->wr_verdict = gap ? WP_NO_DATA : WP_MISSED;
}
