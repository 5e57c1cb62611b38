/* OpenRally waypoints to gate rows: start and finish lines, waypoint circles, speed zone corridors. */
#include "autoconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/geo.h"
#include "race/gpx.h"

#define GPX_MITER_MAX	2.0	/* a corner's offset is at most this x half width */

struct gpx_build {
	const struct gpx_book	*b_book;
	const struct gpx_opts	*b_opts;
	struct gpx_gate		*b_gate;
	size_t			 b_ngate;
	struct gpx_gate		*b_zone;	/* the speed zone open, if any */
	size_t			 b_zone_from;	/* the waypoint of its <dz> */
	int			 b_dss, b_ass;	/* the start, the finish seen */
	char			*b_err;
	size_t			 b_errlen;
};

static int
gpx_build_fail(struct gpx_build *b, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (line > 0)
		n = snprintf(b->b_err, b->b_errlen, "line %d: ", line);
	if (n < 0 || (size_t)n >= b->b_errlen)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(b->b_err + n, b->b_errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct gpx_gate *
gpx_new_gate(struct gpx_build *b, int kind, const struct gpx_wpt *w,
    const char *type)
{
	struct gpx_gate	*g = &b->b_gate[b->b_ngate];

	memset(g, 0, sizeof(*g));
	g->gg_kind = kind;
	g->gg_order = (int)++b->b_ngate;
	g->gg_line = w->gw_line;
	snprintf(g->gg_type, sizeof(g->gg_type), "%s", type);
	snprintf(g->gg_name, sizeof(g->gg_name), "%s", w->gw_name[0] ?
	    w->gw_name : type);
	return g;
}

static double
gpx_dist(const struct gpx_wpt *a, const struct gpx_wpt *b)
{
	return geo_haversine(a->gw_lat, a->gw_lon, b->gw_lat, b->gw_lon);
}

/*
 * The course direction at waypoint i, as a unit vector in the plane around
 * it: from the nearest earlier waypoint at least GPX_MIN_STEP_M away to the
 * nearest later one (either may be missing, not both).
 */
static int
gpx_direction_at(struct gpx_build *b, size_t i, const struct geo_plane *pl,
    struct geo_xy *d)
{
	const struct gpx_book	*bk = b->b_book;
	const struct gpx_wpt	*w = &bk->gb_wpt[i], *prev = w, *next = w;
	struct geo_xy		 pp, pn;
	size_t			 j;
	double			 len;

	for (j = i; j-- > 0; )
		if (gpx_dist(&bk->gb_wpt[j], w) >= GPX_MIN_STEP_M) {
			prev = &bk->gb_wpt[j];
			break;
		}
	for (j = i + 1; j < bk->gb_nwpt; j++)
		if (gpx_dist(&bk->gb_wpt[j], w) >= GPX_MIN_STEP_M) {
			next = &bk->gb_wpt[j];
			break;
		}
	if (prev == next)
		return -1;
	if (geo_project(pl, prev->gw_lat, prev->gw_lon, &pp) == -1 ||
	    geo_project(pl, next->gw_lat, next->gw_lon, &pn) == -1)
		return -1;
	d->xy_x = pn.xy_x - pp.xy_x;
	d->xy_y = pn.xy_y - pp.xy_y;
	len = hypot(d->xy_x, d->xy_y);
	if (!(len > 0.0))
		return -1;
	d->xy_x /= len;
	d->xy_y /= len;
	return 0;
}

/*
 * A line of width go_line_w through the waypoint, perpendicular to the
 * course: a on the right of the direction of travel, b on its left, so a
 * car on course crosses from the left of a->b to its right (left_to_right).
 */
static int
gpx_line_gate(struct gpx_build *b, size_t i, int kind, const char *type)
{
	const struct gpx_wpt	*w = &b->b_book->gb_wpt[i];
	struct gpx_gate		*g;
	struct geo_plane	 pl;
	struct geo_xy		 d, p;
	double			 h = b->b_opts->go_line_w / 2.0;

	if (geo_plane_init(&pl, w->gw_lat, w->gw_lon) == -1 ||
	    gpx_direction_at(b, i, &pl, &d) == -1)
		return gpx_build_fail(b, w->gw_line, "cannot orient the <%s> "
		    "line: no other waypoint at least %.0f m away, or one too "
		    "far away", type, GPX_MIN_STEP_M);
	g = gpx_new_gate(b, kind, w, type);
	p.xy_x = d.xy_y * h;		/* right of d */
	p.xy_y = -d.xy_x * h;
	geo_unproject(&pl, &p, &g->gg_lat[0], &g->gg_lon[0]);
	p.xy_x = -p.xy_x;
	p.xy_y = -p.xy_y;
	geo_unproject(&pl, &p, &g->gg_lat[1], &g->gg_lon[1]);
	g->gg_n = 2;
	return 0;
}

static void
gpx_waypoint_gate(struct gpx_build *b, const struct gpx_wpt *w)
{
	struct gpx_gate	*g = gpx_new_gate(b, GG_WAYPOINT, w, w->gw_wp);

	g->gg_lat[0] = w->gw_lat;
	g->gg_lon[0] = w->gw_lon;
	g->gg_n = 1;
	g->gg_open = w->gw_open;
	g->gg_clear = w->gw_clear;
}

/*
 * The corridor of a speed zone: the waypoints from its <dz> to its <fz>
 * (consecutive ones closer than GPX_MIN_STEP_M merged), offset by half of
 * go_zone_w to each side; at a corner the offset follows the bisector
 * (mitred, at most GPX_MITER_MAX half widths).  The ring runs up the left
 * side and back down the right one.
 */
static int
gpx_zone_ring(struct gpx_build *b, struct gpx_gate *g, size_t from, size_t to)
{
	const struct gpx_book	*bk = b->b_book;
	struct geo_plane	 pl;
	struct geo_xy		 pt[GPX_RING_MAX / 2], n, n1, n2, o;
	double			 h = b->b_opts->go_zone_w / 2.0, len, k;
	size_t			 i, m = 0;

	if (geo_plane_init(&pl, bk->gb_wpt[from].gw_lat,
	    bk->gb_wpt[from].gw_lon) == -1)
		return gpx_build_fail(b, g->gg_line, "bad position");
	for (i = from; i <= to; i++) {
		struct geo_xy	q;

		if (geo_project(&pl, bk->gb_wpt[i].gw_lat, bk->gb_wpt[i].gw_lon,
		    &q) == -1)
			return gpx_build_fail(b, bk->gb_wpt[i].gw_line,
			    "waypoint more than %.0f km from its zone's <dz>",
			    GEO_PLANE_MAX_M / 1000.0);
		if (m > 0 && hypot(q.xy_x - pt[m - 1].xy_x, q.xy_y -
		    pt[m - 1].xy_y) < GPX_MIN_STEP_M)
			continue;
		if (m == GPX_RING_MAX / 2)
			return gpx_build_fail(b, g->gg_line, "the speed zone "
			    "runs through more than %d waypoints",
			    GPX_RING_MAX / 2);
		pt[m++] = q;
	}
	if (m < 2)
		return gpx_build_fail(b, g->gg_line, "the speed zone's <dz> "
		    "and <fz> are at the same place");
	for (i = 0; i < m; i++) {
		n1 = n2 = (struct geo_xy){ 0, 0 };
		if (i > 0) {
			len = hypot(pt[i].xy_x - pt[i - 1].xy_x,
			    pt[i].xy_y - pt[i - 1].xy_y);
			n1.xy_x = -(pt[i].xy_y - pt[i - 1].xy_y) / len;
			n1.xy_y = (pt[i].xy_x - pt[i - 1].xy_x) / len;
		}
		if (i + 1 < m) {
			len = hypot(pt[i + 1].xy_x - pt[i].xy_x,
			    pt[i + 1].xy_y - pt[i].xy_y);
			n2.xy_x = -(pt[i + 1].xy_y - pt[i].xy_y) / len;
			n2.xy_y = (pt[i + 1].xy_x - pt[i].xy_x) / len;
		}
		if (i == 0)
			n1 = n2;
		if (i + 1 == m)
			n2 = n1;
		n.xy_x = n1.xy_x + n2.xy_x;
		n.xy_y = n1.xy_y + n2.xy_y;
		len = hypot(n.xy_x, n.xy_y);
		if (len < 1e-9)	/* the course turns back on itself */
			n = n1;
		else {
			n.xy_x /= len;
			n.xy_y /= len;
		}
		k = n.xy_x * n1.xy_x + n.xy_y * n1.xy_y;
		k = k > 1.0 / GPX_MITER_MAX ? h / k : h * GPX_MITER_MAX;
		o.xy_x = pt[i].xy_x + n.xy_x * k;	/* left */
		o.xy_y = pt[i].xy_y + n.xy_y * k;
		geo_unproject(&pl, &o, &g->gg_lat[i], &g->gg_lon[i]);
		o.xy_x = pt[i].xy_x - n.xy_x * k;	/* right */
		o.xy_y = pt[i].xy_y - n.xy_y * k;
		geo_unproject(&pl, &o, &g->gg_lat[2 * m - 1 - i],
		    &g->gg_lon[2 * m - 1 - i]);
	}
	g->gg_n = 2 * m;
	return 0;
}

/* <fz>: the open speed zone ends at waypoint i and gets its ring. */
static int
gpx_build_zone_end(struct gpx_build *b, size_t i)
{
	const struct gpx_wpt	*w = &b->b_book->gb_wpt[i];

	if (b->b_zone == NULL)
		return gpx_build_fail(b, w->gw_line, "<fz> without a speed zone "
		    "start <dz> before it");
	if (gpx_zone_ring(b, b->b_zone, b->b_zone_from, i) == -1)
		return -1;
	b->b_zone = NULL;
	return 0;
}

/* <dz>: a speed zone opens; its ring waits for the <fz>. */
static int
gpx_build_zone_start(struct gpx_build *b, size_t i)
{
	const struct gpx_wpt	*w = &b->b_book->gb_wpt[i];

	if (b->b_zone != NULL)
		return gpx_build_fail(b, w->gw_line, "<dz> inside the speed zone "
		    "started at line %d", b->b_zone->gg_line);
	b->b_zone = gpx_new_gate(b, GG_SPEED_ZONE, w, "dz");
	b->b_zone->gg_limit = w->gw_speed;
	b->b_zone_from = i;
	return 0;
}

/*
 * Waypoint i, in this order: fz (ends the open zone), dss, the waypoint,
 * dz (opens a zone; its gate takes this place in the order), ass.  One
 * start, then one finish; waypoints and zones only between the two.
 */
static int
gpx_build_wpt(struct gpx_build *b, size_t i)
{
	const struct gpx_wpt	*w = &b->b_book->gb_wpt[i];

	if ((w->gw_flags & GW_FZ) && gpx_build_zone_end(b, i) == -1)
		return -1;
	if (w->gw_flags & GW_DSS) {
		if (b->b_dss)
			return gpx_build_fail(b, w->gw_line, "a second <dss>");
		if (gpx_line_gate(b, i, GG_START, "dss") == -1)
			return -1;
		b->b_dss = 1;
	}
	if ((w->gw_wp[0] || (w->gw_flags & GW_DZ)) && (!b->b_dss || b->b_ass))
		return gpx_build_fail(b, w->gw_line, "<%s> %s the stage",
		    w->gw_wp[0] ? w->gw_wp : "dz", b->b_dss ? "after the "
		    "<ass> that ends" : "before the <dss> that starts");
	if (w->gw_wp[0])
		gpx_waypoint_gate(b, w);
	if ((w->gw_flags & GW_DZ) && gpx_build_zone_start(b, i) == -1)
		return -1;
	if (w->gw_flags & GW_ASS) {
		if (!b->b_dss || b->b_ass)
			return gpx_build_fail(b, w->gw_line, "<ass> %s", b->b_ass ?
			    "a second time" : "before any <dss>");
		if (gpx_line_gate(b, i, GG_FINISH, "ass") == -1)
			return -1;
		b->b_ass = 1;
	}
	return 0;
}

/* The whole book read: no speed zone left open, a start and a finish. */
static int
gpx_build_check(struct gpx_build *b)
{
	if (b->b_zone != NULL)
		return gpx_build_fail(b, b->b_zone->gg_line, "speed zone start "
		    "<dz> without an end <fz>");
	if (!b->b_dss || !b->b_ass)
		return gpx_build_fail(b, 0, "no <%s>: a stage needs its start "
		    "<dss> and its finish <ass>", b->b_dss ? "ass" : "dss");
	return 0;
}

/* The gates of the book, one <wpt> after the other in file order. */
int
gpx_gates(const struct gpx_book *bk, const struct gpx_opts *o,
    struct gpx_gate **out, size_t *nout, char *err, size_t errlen)
{
	struct gpx_build	 b;
	size_t			 i;

	*out = NULL;
	*nout = 0;
	memset(&b, 0, sizeof(b));
	b.b_book = bk;
	b.b_opts = o;
	b.b_err = err;
	b.b_errlen = errlen;
	if ((b.b_gate = calloc(bk->gb_nwpt * 3 + 1, sizeof(*b.b_gate))) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < bk->gb_nwpt; i++)
		if (gpx_build_wpt(&b, i) == -1)
			goto fail;
	if (gpx_build_check(&b) == -1)
		goto fail;
	*out = b.b_gate;
	*nout = b.b_ngate;
	return 0;
fail:
	free(b.b_gate);
	return -1;
}

const char *
gpx_kind(int kind)
{
	switch (kind) {
	case GG_START:
		return "start";
	case GG_FINISH:
		return "finish";
	case GG_WAYPOINT:
		return "waypoint";
	default:
		return "speed_zone";
	}
}

const char *
gpx_direction(int kind)
{
	return kind == GG_START || kind == GG_FINISH ? "left_to_right" : "any";
}

int
gpx_geometry(const struct gpx_gate *g, struct buf *out)
{
	size_t	i;

	switch (g->gg_kind) {
	case GG_START:
	case GG_FINISH:
		buf_printf(out, "{\"type\": \"line\", \"a\": [%.8f, %.8f], "
		    "\"b\": [%.8f, %.8f], \"margin_m\": 0}", g->gg_lat[0],
		    g->gg_lon[0], g->gg_lat[1], g->gg_lon[1]);
		break;
	case GG_WAYPOINT:
		buf_printf(out, "{\"type\": \"circle\", \"center\": [%.8f, %.8f], "
		    "\"radius_m\": %.2f, \"open_radius_m\": %.2f, "
		    "\"clear_radius_m\": %.2f}", g->gg_lat[0], g->gg_lon[0],
		    g->gg_clear, g->gg_open, g->gg_clear);
		break;
	default:
		buf_puts(out, "{\"type\": \"polygon\", \"ring\": [");
		for (i = 0; i < g->gg_n; i++)
			buf_printf(out, "%s[%.8f, %.8f]", i ? ", " : "",
			    g->gg_lat[i], g->gg_lon[i]);
		buf_puts(out, "]}");
		break;
	}
	return buf_cstr(out) == NULL ? -1 : 0;
}
