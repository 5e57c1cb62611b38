/* Catch-up pacing: while the workers are behind, a device at most once per interval. */
#ifndef PROCESSOR_RACE_PACE_H
#define PROCESSOR_RACE_PACE_H

#include <stddef.h>

struct buf;

/*
 * When this evaluator last evaluated each device, or first saw it marked,
 * while the workers are behind the stream.  A device evaluated (or first
 * marked) less than the interval ago is "held": its work mark stays in race_dirty and the rounds leave it out
 * (race_main.c), so that a backlog costs an evaluation per device and
 * interval, not one per batch that marks it.  Holding only delays: the
 * evaluation after the interval reads every stored fix the marks cover.
 * Times are the caller's clock (ev_now), seconds.  A table that fills up
 * is emptied (its devices are then evaluated at once: more work, never a
 * wrong result).
 */
#define RACE_PACE_SLOTS	4096	/* a power of two; devices held at once */
#define RACE_PACE_DEVICE_MAX	64	/* RACE_DEVICE_MAX, without libpq's header */

struct race_pace_slot {
	char	 ps_device[RACE_PACE_DEVICE_MAX + 1];	/* "": free */
	double	 ps_at;		/* evaluated (or first marked) then */
	int	 ps_counted;	/* its deferral counted since */
};

struct race_pace {
	struct race_pace_slot	*pc_slot;	/* RACE_PACE_SLOTS, or NULL */
	size_t			 pc_used;
};

/* Forget every device (the backlog is over); keeps the memory. */
void	race_pace_clear(struct race_pace *);
void	race_pace_free(struct race_pace *);
/* dev was evaluated at now; -1 when out of memory (then nothing is held). */
int	race_pace_evaluated(struct race_pace *, const char *dev, double now);
/*
 * dev is marked while behind: 1 when it was not held, and is held from now
 * (its first evaluation waits an interval too: during a backlog shorter than
 * the interval a device is evaluated once, when it ends); 0 when it was
 * held already or out of memory (evaluate it).
 */
int	race_pace_first(struct race_pace *, const char *dev, double now);
/*
 * The devices held at now (evaluated less than interval seconds before),
 * appended to arr as a PostgreSQL text[] literal; their number, and in
 * *next the earliest time one of them is released (0 when none).
 */
size_t	race_pace_held(const struct race_pace *, double now, double interval,
	    struct buf *arr, double *next);
/* 1 the first time a held dev is found marked since its evaluation, else 0. */
int	race_pace_count(struct race_pace *, const char *dev);

#endif
