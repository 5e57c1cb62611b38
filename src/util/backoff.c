/* Retry delays that double from a floor to a ceiling, with a little jitter. */
#include "autoconf.h"

#include <stdlib.h>

#include "util/backoff.h"

void
backoff_init(struct backoff *bo, double min_s, double max_s)
{
	bo->bo_min = min_s;
	bo->bo_max = max_s;
	bo->bo_cur = min_s;
}

void
backoff_reset(struct backoff *bo)
{
	bo->bo_cur = bo->bo_min;
}

int
backoff_fresh(const struct backoff *bo)
{
	return bo->bo_cur <= bo->bo_min;
}

double
backoff_next(struct backoff *bo)
{
	double	delay = bo->bo_cur + (double)(rand() % 100) / 1000.0;

	bo->bo_cur *= 2;
	if (bo->bo_cur > bo->bo_max)
		bo->bo_cur = bo->bo_max;
	return delay;
}
