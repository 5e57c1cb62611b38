/* Deterministic random numbers for the simulator (splitmix64, Box-Muller). */
#include <math.h>

#include "sim_rng.h"

/* One stream per (seed, stream) so a vehicle's noise does not depend on the fleet size. */
void
sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	r->r_state = seed * 0x9e3779b97f4a7c15ULL ^ (stream + 0x632be59bd9b4e019ULL);
	r->r_has = 0;
	sim_rng_next(r);
}

uint64_t
sim_rng_next(struct sim_rng *r)
{
	uint64_t	z;

	z = (r->r_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* In (0, 1): never 0, so log() below is safe. */
double
sim_rng_uniform(struct sim_rng *r)
{
	return ((double)(sim_rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

double
sim_rng_gauss(struct sim_rng *r)
{
	double	u, v, m;

	if (r->r_has) {
		r->r_has = 0;
		return r->r_spare;
	}
	u = sim_rng_uniform(r);
	v = sim_rng_uniform(r);
	m = sqrt(-2.0 * log(u));
	r->r_spare = m * sin(2 * M_PI * v);
	r->r_has = 1;
	return m * cos(2 * M_PI * v);
}
