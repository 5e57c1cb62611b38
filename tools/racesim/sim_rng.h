/* Deterministic random numbers for the simulator (splitmix64, Box-Muller). */
#ifndef PROCESSOR_DOMAIN_SIM_RNG_H
#define PROCESSOR_DOMAIN_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t	r_state;
	int		r_has;
	double		r_spare;
};

void	sim_rng_seed(struct sim_rng *, uint64_t, uint64_t);
uint64_t sim_rng_next(struct sim_rng *);
double	sim_rng_uniform(struct sim_rng *);
double	sim_rng_gauss(struct sim_rng *);

#endif
