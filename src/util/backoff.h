/* Retry delays that double from a floor to a ceiling, with a little jitter. */
#ifndef PROCESSOR_BACKOFF_H
#define PROCESSOR_BACKOFF_H

struct backoff {
	double	bo_min;		/* seconds */
	double	bo_max;
	double	bo_cur;		/* the delay the next failure waits */
};

void	backoff_init(struct backoff *, double min_s, double max_s);
/* After a success: the next failure waits the floor again. */
void	backoff_reset(struct backoff *);
/* Whether no failure happened since the last reset (log only the first). */
int	backoff_fresh(const struct backoff *);
/*
 * The delay for this failure, plus up to 100 ms of jitter so workers that
 * lost a server together do not reconnect in lock step; doubles the next.
 */
double	backoff_next(struct backoff *);

#endif
