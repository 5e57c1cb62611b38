/* Line gates: crossing detection, interpolated crossing times, smoothing, uncertainty. */
#ifndef PROCESSOR_DOMAIN_GATE_H
#define PROCESSOR_DOMAIN_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/fix.h"
#include "domain/geo.h"

/* Crossing direction: from the left of A->B to its right, or back. */
#define GATE_DIR_ANY	0
#define GATE_DIR_LR	1
#define GATE_DIR_RL	(-1)

/* gc_flags */
#define GC_LOWCONF	0x01	/* gap, standing start, grazing pass, high HDOP */
#define GC_STANDING	0x02	/* motion began or ended inside the bracket */
#define GC_GAP		0x04	/* the bracket spans lost records */
#define GC_SMOOTHED	0x08	/* gc_t_us comes from the trajectory fit */
#define GC_LINEAR	0x10	/* a speed missing: gc_t_us is the two-point linear time */

/* Everything the timing maths needs to know about the receivers and the data. */
struct timing_cfg {
	int	tc_auto;	/* sigma, tau from the device's own fixes (noise.c) */
	double	tc_sigma;	/* m, per-axis position sigma when no HDOP is used */
	int	tc_use_hdop;	/* take sigma from HDOP x tc_uere when present */
	double	tc_uere;	/* m per unit of HDOP */
	double	tc_tau;		/* s, time constant of position error (0: white) */
	double	tc_sigma_speed;	/* m/s, speed noise besides 1 km/h rounding */
	double	tc_sigma_heading; /* degrees, heading noise besides rounding */
	double	tc_jitter_ms;	/* timestamp jitter, 1 sigma */
	double	tc_window_s;	/* half width of the smoothing window */
	double	tc_gap_s;	/* brackets longer than this span lost records */
	double	tc_min_speed_kmh; /* below this at both ends: standing jitter */
	double	tc_max_hdop;	/* above this a crossing is low confidence */
	double	tc_unc_scale;	/* calibration factor on the 95% half width */
};

struct gate {
	struct geo_plane g_plane;
	struct geo_xy	 g_a;		/* endpoints in g_plane (g_a is the origin) */
	struct geo_xy	 g_b;
	struct geo_xy	 g_n;		/* unit normal, pointing left of A->B */
	double		 g_len;		/* m */
	double		 g_margin;	/* m the ends are extended by */
	int		 g_dir;		/* GATE_DIR_* accepted */
};

struct gate_cross {
	int		 gc_dir;	/* GATE_DIR_LR or GATE_DIR_RL */
	double		 gc_frac;	/* fraction along the fix segment */
	double		 gc_along;	/* fraction along the gate, A = 0 */
	int64_t		 gc_t_lin_us;	/* linear interpolation */
	int64_t		 gc_t_acc_us;	/* constant acceleration (both speeds) */
	int64_t		 gc_t_us;	/* best estimate (acc, or smoothed) */
	double		 gc_unc_ms;	/* 95% half width of gc_t_us */
	double		 gc_speed;	/* m/s at the crossing */
	unsigned	 gc_flags;	/* GC_* */
};

void	timing_cfg_default(struct timing_cfg *);
int	gate_init(struct gate *, double, double, double, double, int, double);
int	gate_too_short(const struct gate *, double);
int	gate_cross(const struct gate *, const struct fix *, const struct fix *,
	    const struct timing_cfg *, struct gate_cross *);
int	gate_dir_ok(const struct gate *, int);
double	gate_interp(const struct fix *, const struct fix *, double, double,
	    unsigned *);
int	gate_window_full(const struct fix *, size_t, size_t,
	    const struct timing_cfg *);
int	gate_smooth(const struct gate *, const struct fix *, size_t, size_t,
	    const struct timing_cfg *, struct gate_cross *);

#endif
