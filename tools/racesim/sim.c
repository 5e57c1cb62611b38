/* Race simulator, the stage: a random course of straights and arcs with gates, waypoints and zones. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "sim_rng.h"

#define SIM_RUNOUT_M	600.0	/* course after the finish, to brake to a stop */
#define SIM_START_M	5.0	/* start line ahead of the standing position */
#define SIM_GATE_HALF	10.0	/* half the gate width, m */

void
sim_cfg_default(struct sim_cfg *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->sc_seed = 1;
	sc->sc_lat0 = 45.815;
	sc->sc_lon0 = 15.982;
	sc->sc_t0_us = INT64_C(1777550400000000);	/* 2026-04-30 12:00 UTC */
	sc->sc_slot_s = 30.0;
	sc->sc_length_m = 7700.0;
	sc->sc_gates = 7;
	sc->sc_waypoints = 3;
	sc->sc_zones = 1;
	sc->sc_zone_kmh = 60.0;
	sc->sc_rate_hz = 1.0;
	sc->sc_sigma = 0.0;
	sc->sc_tau = 0.0;
	/* about 1.6% of records missing in all: lost, outages, no fix */
	sc->sc_loss = 0.01;
	sc->sc_nofix = 0.003;
	sc->sc_outage = 0.0007;
}

/* Point and heading (radians, clockwise from north) at arc length s. */
void
sim_course_at(const struct sim_stage *st, double s, double *x, double *y,
    double *h)
{
	const struct sim_seg	*sg = &st->st_seg[0];
	double			 u, a;
	int			 i;

	for (i = 0; i < st->st_nseg; i++)
		if (s < st->st_seg[i].ss_s0 + st->st_seg[i].ss_len ||
		    i == st->st_nseg - 1) {
			sg = &st->st_seg[i];
			break;
		}
	u = s - sg->ss_s0;
	if (sg->ss_radius == 0) {
		*x = sg->ss_x0 + u * sin(sg->ss_h0);
		*y = sg->ss_y0 + u * cos(sg->ss_h0);
		*h = sg->ss_h0;
		return;
	}
	a = sg->ss_h0 + sg->ss_turn * u / sg->ss_radius;
	*x = sg->ss_x0 + sg->ss_turn * sg->ss_radius * (cos(sg->ss_h0) - cos(a));
	*y = sg->ss_y0 + sg->ss_turn * sg->ss_radius * (sin(a) - sin(sg->ss_h0));
	*h = a;
}

static void
sim_add_seg(struct sim_stage *st, double len, double radius, int turn)
{
	struct sim_seg	*sg = &st->st_seg[st->st_nseg];
	double		 x = 0, y = 0, h = 0;

	if (st->st_nseg > 0)
		sim_course_at(st, st->st_total_m, &x, &y, &h);
	else
		h = 0.3;
	sg->ss_s0 = st->st_total_m;
	sg->ss_len = len;
	sg->ss_x0 = x;
	sg->ss_y0 = y;
	sg->ss_h0 = h;
	sg->ss_radius = radius;
	sg->ss_turn = turn;
	st->st_nseg++;
	st->st_total_m += len;
}

/* Alternating straights and arcs; radii keep corner speeds above 30 km/h. */
static void
sim_build_course(struct sim_stage *st, const struct sim_cfg *sc,
    struct sim_rng *r)
{
	double	want = sc->sc_length_m + SIM_RUNOUT_M, radius, angle;

	sim_add_seg(st, 150.0, 0, 0);
	while (st->st_total_m < want && st->st_nseg < SIM_MAX_SEG - 2) {
		radius = 25.0 + 375.0 * pow(sim_rng_uniform(r), 2);
		angle = (20.0 + 100.0 * sim_rng_uniform(r)) * M_PI / 180.0;
		sim_add_seg(st, radius * angle, radius,
		    sim_rng_uniform(r) < 0.5 ? -1 : 1);
		sim_add_seg(st, 80.0 + 520.0 * sim_rng_uniform(r), 0, 0);
	}
	sim_add_seg(st, SIM_RUNOUT_M, 0, 0);
}

static void
sim_latlon(const struct sim_stage *st, double x, double y, double *lat,
    double *lon)
{
	struct geo_xy	p;

	p.xy_x = x;
	p.xy_y = y;
	geo_unproject(&st->st_plane, &p, lat, lon);
}

/* Gates are perpendicular to the course; A is right of travel, B left. */
static void
sim_place_gate(struct sim_stage *st, double s, int kind)
{
	struct sim_gate	*g = &st->st_gate[st->st_ngate++];
	double		 x, y, h;

	sim_course_at(st, s, &x, &y, &h);
	g->sg_s = s;
	g->sg_kind = kind;
	sim_latlon(st, x + SIM_GATE_HALF * cos(h), y - SIM_GATE_HALF * sin(h),
	    &g->sg_alat, &g->sg_alon);
	sim_latlon(st, x - SIM_GATE_HALF * cos(h), y + SIM_GATE_HALF * sin(h),
	    &g->sg_blat, &g->sg_blon);
}

static void
sim_place_wp(struct sim_stage *st, double s, double off)
{
	struct sim_wp	*w = &st->st_wp[st->st_nwp++];
	double		 x, y, h;

	sim_course_at(st, s, &x, &y, &h);
	w->sw_x = x + off * cos(h);
	w->sw_y = y - off * sin(h);
	w->sw_open = 100.0;
	w->sw_clear = 30.0;
	sim_latlon(st, w->sw_x, w->sw_y, &w->sw_lat, &w->sw_lon);
}

/* Where the course enters and leaves a circle, found on a 0.5 m scan then bisected. */
static void
sim_zone_span(const struct sim_stage *st, struct sim_zone *z)
{
	double	s, x, y, h, lo, hi, mid;
	int	in, was = 0, k, i;

	z->sz_s_in = z->sz_s_out = -1;
	for (s = 0; s < st->st_total_m; s += 0.5) {
		sim_course_at(st, s, &x, &y, &h);
		in = hypot(x - z->sz_x, y - z->sz_y) <= z->sz_radius;
		if (in == was)
			continue;
		for (lo = s - 0.5, hi = s, k = 0; k < 40; k++) {
			mid = (lo + hi) / 2;
			sim_course_at(st, mid, &x, &y, &h);
			i = hypot(x - z->sz_x, y - z->sz_y) <= z->sz_radius;
			if (i == in)
				hi = mid;
			else
				lo = mid;
		}
		if (in && z->sz_s_in < 0)
			z->sz_s_in = hi;
		else if (!in)
			z->sz_s_out = hi;
		was = in;
	}
}

static void
sim_place_zone(struct sim_stage *st, const struct sim_cfg *sc, double s)
{
	struct sim_zone	*z = &st->st_zone[st->st_nzone++];
	double		 h;

	sim_course_at(st, s, &z->sz_x, &z->sz_y, &h);
	z->sz_radius = 250.0;
	z->sz_limit_kmh = sc->sc_zone_kmh;
	sim_latlon(st, z->sz_x, z->sz_y, &z->sz_lat, &z->sz_lon);
	sim_zone_span(st, z);
}

/*
 * Every other split goes to the apex of the nearest corner, so that slow
 * gates (and the braking before them) are measured as well as fast ones.
 */
static double
sim_split_at(const struct sim_stage *st, double s, int i)
{
	double	best = s, d = 1e9, mid;
	int	k;

	if (i % 2 == 0)
		return s;
	for (k = 0; k < st->st_nseg; k++) {
		if (st->st_seg[k].ss_radius == 0)
			continue;
		mid = st->st_seg[k].ss_s0 + st->st_seg[k].ss_len / 2;
		if (fabs(mid - s) < d) {
			d = fabs(mid - s);
			best = mid;
		}
	}
	return best;
}

/*
 * A random course may cross itself; a course that comes back within 60 m of
 * one of its own points after driving away is redrawn, so every gate and
 * zone is passed once.
 */
static int
sim_course_simple(const struct sim_stage *st)
{
	double	s, u, x, y, h, x2, y2;

	for (s = 0; s < st->st_total_m; s += 20)
		for (u = s + 200; u < st->st_total_m; u += 20) {
			sim_course_at(st, s, &x, &y, &h);
			sim_course_at(st, u, &x2, &y2, &h);
			if (hypot(x - x2, y - y2) < 60.0)
				return 0;
		}
	return 1;
}

int
sim_stage_build(struct sim_stage *st, const struct sim_cfg *sc)
{
	struct sim_rng	r;
	double		L = sc->sc_length_m;
	int		i, tries;

	memset(st, 0, sizeof(*st));
	if (sc->sc_gates < 2 || sc->sc_gates > SIM_MAX_GATES ||
	    sc->sc_waypoints + 1 > SIM_MAX_WP || sc->sc_zones > SIM_MAX_ZONES ||
	    geo_plane_init(&st->st_plane, sc->sc_lat0, sc->sc_lon0) == -1)
		return -1;
	for (tries = 0; tries < 1000; tries++) {
		st->st_nseg = 0;
		st->st_total_m = 0;
		sim_rng_seed(&r, sc->sc_seed, 0xc0ffee + tries);
		sim_build_course(st, sc, &r);
		if (sim_course_simple(st))
			break;
	}
	if (tries == 1000)
		return -1;
	sim_place_gate(st, SIM_START_M, SIM_GATE_START);
	for (i = 1; i < sc->sc_gates - 1; i++)
		sim_place_gate(st, sim_split_at(st, L * (i + 0.3 *
		    (sim_rng_uniform(&r) - 0.5)) / (sc->sc_gates - 1), i),
		    SIM_GATE_SPLIT);
	sim_place_gate(st, L, SIM_GATE_FINISH);
	for (i = 0; i < sc->sc_waypoints; i++)
		sim_place_wp(st, L * (i + 0.5) / sc->sc_waypoints,
		    8.0 * (sim_rng_uniform(&r) - 0.5));
	sim_place_wp(st, L * 0.37, 60.0);
	for (i = 0; i < sc->sc_zones; i++)
		sim_place_zone(st, sc, L * (i + 0.6) / (sc->sc_zones + 0.5));
	return 0;
}

/* One Position record of the input contract, as a JSON line for XADD. */
int
sim_fix_json(const struct fix *f, const char *device, char *buf, size_t len)
{
	int	n, valid = f->f_sats > 0;

	n = snprintf(buf, len, "{\"device_id\":\"%s\",\"timestamp\":%lld,"
	    "\"latitude\":%.7f,\"longitude\":%.7f,\"altitude\":120,"
	    "\"angle\":%d,\"satellites\":%d,\"speed\":%d,\"priority\":0,"
	    "\"event_io_id\":0,\"attributes\":{\"239\":1,\"240\":%d,"
	    "\"69\":%d,\"181\":%d,\"182\":%d,\"21\":5,\"66\":13800}}",
	    device, (long long)(f->f_ts_us / 1000), f->f_lat, f->f_lon,
	    (int)f->f_heading, f->f_sats, (int)f->f_speed, f->f_speed > 0,
	    valid ? 1 : 2, (int)lround(f->f_hdop * 14), (int)lround(f->f_hdop *
	    10));
	return n < 0 || (size_t)n >= len ? -1 : n;
}
