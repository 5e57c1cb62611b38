/* Race simulator, the vehicles: speed profiles, exact truth, noisy Teltonika-like fixes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_rng.h"

#define KMH	(1.0 / 3.6)

/* One driver and car. */
struct sim_driver {
	double	d_vtop;		/* m/s */
	double	d_acc;		/* m/s^2 at low speed */
	double	d_brake;
	double	d_lat;		/* cornering grip */
	double	d_zone;		/* how far the driver respects a speed zone (x limit) */
};

static double
sim_limit_at(const struct sim_stage *st, const struct sim_driver *d, double s)
{
	double	v = d->d_vtop;
	int	i;

	for (i = 0; i < st->st_nseg; i++) {
		const struct sim_seg	*sg = &st->st_seg[i];

		if (s >= sg->ss_s0 && s < sg->ss_s0 + sg->ss_len &&
		    sg->ss_radius > 0)
			v = fmin(v, sqrt(d->d_lat * sg->ss_radius));
	}
	for (i = 0; i < st->st_nzone; i++)
		if (s >= st->st_zone[i].sz_s_in - 1 &&
		    s <= st->st_zone[i].sz_s_out + 1)
			v = fmin(v, st->st_zone[i].sz_limit_kmh * KMH * d->d_zone);
	return v;
}

/*
 * Forward pass with speed-dependent traction, backward pass with braking:
 * v^2 is linear in s inside each cell, so each cell is exactly constant
 * acceleration and the truth can be solved in closed form.
 */
static int
sim_profile(const struct sim_stage *st, const struct sim_driver *d,
    double depart, struct sim_vehicle *sv)
{
	size_t	n = (size_t)(st->st_total_m / SIM_CELL_M) + 1, i;
	double	*v, *t, a;

	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (t = calloc(n, sizeof(*t))) == NULL) {
		free(v);
		return -1;
	}
	for (i = 0; i < n; i++)
		v[i] = sim_limit_at(st, d, i * SIM_CELL_M);
	v[0] = 0.0;
	v[n - 1] = 0.0;
	for (i = 0; i + 1 < n; i++) {
		a = d->d_acc * fmax(0.3, 1.0 - v[i] / d->d_vtop);
		v[i + 1] = fmin(v[i + 1], sqrt(v[i] * v[i] + 2 * a * SIM_CELL_M));
	}
	for (i = n - 1; i > 0; i--)
		v[i - 1] = fmin(v[i - 1], sqrt(v[i] * v[i] + 2 * d->d_brake *
		    SIM_CELL_M));
	t[0] = depart;
	for (i = 0; i + 1 < n; i++)
		t[i + 1] = t[i] + 2 * SIM_CELL_M / (v[i] + v[i + 1]);
	sv->sv_v = v;
	sv->sv_t = t;
	sv->sv_nnode = n;
	return 0;
}

/* Arc length and speed at time t (seconds since sc_t0_us). */
void
sim_vehicle_state(const struct sim_vehicle *sv, double t, double *s, double *v)
{
	size_t	lo = 0, hi = sv->sv_nnode - 1, mid;
	double	a, tau, v0;

	if (t <= sv->sv_t[0]) {
		*s = 0;
		*v = 0;
		return;
	}
	if (t >= sv->sv_t[hi]) {
		*s = hi * SIM_CELL_M;
		*v = 0;
		return;
	}
	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (sv->sv_t[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	v0 = sv->sv_v[lo];
	a = (sv->sv_v[lo + 1] * sv->sv_v[lo + 1] - v0 * v0) / (2 * SIM_CELL_M);
	tau = t - sv->sv_t[lo];
	*s = lo * SIM_CELL_M + v0 * tau + 0.5 * a * tau * tau;
	*v = v0 + a * tau;
}

/* Time at which arc length s is reached, and the speed there. */
static double
sim_time_at(const struct sim_vehicle *sv, double s, double *vout)
{
	size_t	i = (size_t)(s / SIM_CELL_M);
	double	u, v0, a;

	if (i + 1 >= sv->sv_nnode)
		i = sv->sv_nnode - 2;
	u = s - i * SIM_CELL_M;
	v0 = sv->sv_v[i];
	a = (sv->sv_v[i + 1] * sv->sv_v[i + 1] - v0 * v0) / (2 * SIM_CELL_M);
	*vout = sqrt(v0 * v0 + 2 * a * u);
	return sv->sv_t[i] + 2 * u / (v0 + *vout);
}

static void
sim_truth_zone(const struct sim_stage *st, struct sim_vehicle *sv, int k)
{
	const struct sim_zone	*z = &st->st_zone[k];
	struct sim_truth	*tt = &sv->sv_truth;
	double			 t, s, v, vin, lim = z->sz_limit_kmh * KMH, dt = 1e-3;

	tt->tt_zone_in[k] = sim_time_at(sv, z->sz_s_in, &vin);
	tt->tt_zone_out[k] = sim_time_at(sv, z->sz_s_out, &vin);
	tt->tt_zone_dist_m[k] = z->sz_s_out - z->sz_s_in;
	tt->tt_zone_avg_kmh[k] = tt->tt_zone_dist_m[k] /
	    (tt->tt_zone_out[k] - tt->tt_zone_in[k]) * 3.6;
	tt->tt_zone_over_s[k] = 0;
	tt->tt_zone_excess_kmh[k] = 0;
	for (t = tt->tt_zone_in[k] + dt / 2; t < tt->tt_zone_out[k]; t += dt) {
		sim_vehicle_state(sv, t, &s, &v);
		if (v > lim) {
			tt->tt_zone_over_s[k] += dt;
			tt->tt_zone_excess_kmh[k] = fmax(tt->tt_zone_excess_kmh[k],
			    (v - lim) * 3.6);
		}
	}
}

static void
sim_truth(const struct sim_stage *st, struct sim_vehicle *sv)
{
	struct sim_truth	*tt = &sv->sv_truth;
	double			 s, x, y, h, d;
	int			 k;

	for (k = 0; k < st->st_ngate; k++)
		tt->tt_gate[k] = sim_time_at(sv, st->st_gate[k].sg_s,
		    &tt->tt_gate_v[k]);
	for (k = 0; k < st->st_nwp; k++) {
		tt->tt_wp_dmin[k] = 1e9;
		for (s = 0; s < st->st_total_m; s += 0.25) {
			sim_course_at(st, s, &x, &y, &h);
			d = hypot(x - st->st_wp[k].sw_x, y - st->st_wp[k].sw_y);
			tt->tt_wp_dmin[k] = fmin(tt->tt_wp_dmin[k], d);
		}
	}
	for (k = 0; k < st->st_nzone; k++)
		sim_truth_zone(st, sv, k);
}

/* The receiver: position noise (white or AR(1)) and Teltonika record habits. */
struct sim_rx {
	struct sim_rng	rx_rng;
	double		rx_ex, rx_ey;
	double		rx_lat, rx_lon;	/* last valid fix, repeated when there is none */
	int		rx_outage;	/* records still to lose */
};

static void
sim_rx_noise(struct sim_rx *rx, const struct sim_cfg *sc, double dt)
{
	double	rho = sc->sc_tau > 0 ? exp(-dt / sc->sc_tau) : 0.0;
	double	k = sqrt(1.0 - rho * rho);

	rx->rx_ex = rho * rx->rx_ex + k * sc->sc_sigma * sim_rng_gauss(&rx->rx_rng);
	rx->rx_ey = rho * rx->rx_ey + k * sc->sc_sigma * sim_rng_gauss(&rx->rx_rng);
}

/* Fills f for the epoch at t; returns 0 when the record is lost. */
static int
sim_rx_sample(const struct sim_stage *st, const struct sim_cfg *sc,
    const struct sim_vehicle *sv, struct sim_rx *rx, double t, struct fix *f)
{
	struct geo_xy	p;
	double		s, v, h, tj, hd;

	tj = t + sc->sc_jitter_ms / 1000.0 * sim_rng_gauss(&rx->rx_rng);
	sim_vehicle_state(sv, tj, &s, &v);
	sim_course_at(st, s, &p.xy_x, &p.xy_y, &h);
	sim_rx_noise(rx, sc, 1.0 / sc->sc_rate_hz);
	if (rx->rx_outage > 0) {
		rx->rx_outage--;
		return 0;
	}
	if (sim_rng_uniform(&rx->rx_rng) < sc->sc_outage)
		rx->rx_outage = 2 + (int)(6 * sim_rng_uniform(&rx->rx_rng));
	if (sim_rng_uniform(&rx->rx_rng) < sc->sc_loss)
		return 0;
	memset(f, 0, sizeof(*f));
	f->f_ts_us = sc->sc_t0_us + (int64_t)llround(t * 1e6);
	f->f_flags = FIX_HAS_SPEED | FIX_HAS_HEADING;
	if (sim_rng_uniform(&rx->rx_rng) < sc->sc_nofix) {
		f->f_lat = rx->rx_lat;
		f->f_lon = rx->rx_lon;
		return 1;
	}
	p.xy_x += rx->rx_ex;
	p.xy_y += rx->rx_ey;
	geo_unproject(&st->st_plane, &p, &f->f_lat, &f->f_lon);
	rx->rx_lat = f->f_lat;
	rx->rx_lon = f->f_lon;
	f->f_sats = 7 + (int)(8 * sim_rng_uniform(&rx->rx_rng));
	f->f_hdop = 0.1 * (int)(7 + 6 * sim_rng_uniform(&rx->rx_rng));
	f->f_flags |= FIX_HAS_HDOP;
	if (v > 0.01)
		f->f_speed = fmax(0, lround((v + 0.05 *
		    sim_rng_gauss(&rx->rx_rng)) * 3.6));
	hd = h * 180.0 / M_PI + 0.5 * sim_rng_gauss(&rx->rx_rng);
	f->f_heading = fmod(fmod(lround(hd), 360) + 360, 360);
	return 1;
}

static void
sim_driver_draw(struct sim_rng *r, struct sim_driver *d)
{
	d->d_vtop = (120.0 + 80.0 * sim_rng_uniform(r)) * KMH;
	d->d_acc = 3.0 + 3.0 * sim_rng_uniform(r);
	d->d_brake = 6.0 + 3.0 * sim_rng_uniform(r);
	d->d_lat = 6.0 + 3.0 * sim_rng_uniform(r);
	d->d_zone = 0.85 + 0.3 * sim_rng_uniform(r);
}

static int
sim_sample_all(const struct sim_stage *st, const struct sim_cfg *sc,
    struct sim_vehicle *sv, struct sim_rx *rx)
{
	double	p = 1.0 / sc->sc_rate_hz, t, tend;
	size_t	cap;
	double	x, y, h;

	t = ceil((sv->sv_truth.tt_depart - 8.0) / p) * p;
	tend = sv->sv_t[sv->sv_nnode - 1] + 3.0;
	cap = (size_t)((tend - t) / p) + 2;
	if ((sv->sv_fix = calloc(cap, sizeof(*sv->sv_fix))) == NULL)
		return -1;
	sim_course_at(st, 0, &x, &y, &h);
	geo_unproject(&st->st_plane, &(struct geo_xy){ x, y }, &rx->rx_lat,
	    &rx->rx_lon);
	for (; t <= tend && sv->sv_nfix < cap; t += p)
		if (sim_rx_sample(st, sc, sv, rx, t, &sv->sv_fix[sv->sv_nfix]))
			sv->sv_nfix++;
	return 0;
}

/* Vehicle `index` of the fleet; its randomness depends only on seed and index. */
int
sim_vehicle_run(const struct sim_stage *st, const struct sim_cfg *sc, int index,
    struct sim_vehicle *sv)
{
	struct sim_driver	d;
	struct sim_rx		rx;
	struct sim_rng		r;

	memset(sv, 0, sizeof(*sv));
	memset(&rx, 0, sizeof(rx));
	snprintf(sv->sv_id, sizeof(sv->sv_id), "SIM%05d", index);
	sim_rng_seed(&r, sc->sc_seed, 2 * (uint64_t)index + 1);
	sim_rng_seed(&rx.rx_rng, sc->sc_seed, 2 * (uint64_t)index + 2);
	sim_driver_draw(&r, &d);
	sv->sv_truth.tt_depart = index * sc->sc_slot_s + 2.0 +
	    sim_rng_uniform(&r);
	if (sim_profile(st, &d, sv->sv_truth.tt_depart, sv) == -1)
		return -1;
	sim_truth(st, sv);
	rx.rx_ex = sc->sc_sigma * sim_rng_gauss(&rx.rx_rng);
	rx.rx_ey = sc->sc_sigma * sim_rng_gauss(&rx.rx_rng);
	if (sim_sample_all(st, sc, sv, &rx) == -1) {
		sim_vehicle_free(sv);
		return -1;
	}
	return 0;
}

void
sim_vehicle_free(struct sim_vehicle *sv)
{
	free(sv->sv_fix);
	free(sv->sv_v);
	free(sv->sv_t);
	memset(sv, 0, sizeof(*sv));
}
