/* Whether the workers are behind the stream, told to the children (MSG_BACKLOG). */
#ifndef PROCESSOR_BACKLOG_H
#define PROCESSOR_BACKLOG_H

#include <stdint.h>

struct worker;

/*
 * Behind: the largest ws_read_age_ms over the children above this.  A
 * second because that is the latency the racing rules promise for a fix
 * (docs/benchmark.md, issue 11): reading more than a second behind, a new
 * fix already misses it, so pacing the evaluators costs nothing anyone
 * could have had; at the steady rate a read's newest entry is a few ms old.
 */
#define BACKLOG_AGE_MS	1000

/* After each stats frame: recompute, and tell every child on a change. */
void	backlog_update(void);
/* A child said hello: tell it the state if behind (it starts not behind). */
void	backlog_hello(struct worker *);
/* 1 when behind, and the largest read age (ms) as last computed. */
int	backlog_behind(int64_t *age_ms);

#endif
