/* A receiver's position noise (sigma, AR(1) tau) estimated from its own fixes. */
#ifndef PROCESSOR_DOMAIN_NOISE_H
#define PROCESSOR_DOMAIN_NOISE_H

#include <stddef.h>

#include "domain/fix.h"
#include "domain/gate.h"

#define NOISE_NLAG	11

/* What one device's fixes say about its receiver. */
struct noise_est {
	double	ne_sigma;	/* m per axis */
	double	ne_tau;		/* s, 0: white at the fix rate */
	double	ne_sw;		/* m/s, Doppler speed noise */
	int	ne_npair;	/* residuals at the shortest lag */
	double	ne_lag_s[NOISE_NLAG];	/* mean lag, s */
	double	ne_var[NOISE_NLAG];	/* robust variance of the residuals, m^2 */
	int	ne_n[NOISE_NLAG];
};

int	noise_estimate(const struct fix *, size_t, const struct timing_cfg *,
	    struct noise_est *);
void	noise_apply(const struct noise_est *, struct timing_cfg *);

#endif
