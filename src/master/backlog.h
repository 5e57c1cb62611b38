/* Whether the workers are behind the stream, told to the children (MSG_BACKLOG). */
#ifndef PROCESSOR_BACKLOG_H
#define PROCESSOR_BACKLOG_H

#include <stdint.h>

struct worker;

/*
 * After each stats frame: recompute (behind: the largest read age over
 * METRICS_BEHIND_MS, wire/metrics.h), and tell every child on a change.
 */
void	backlog_update(void);
/* A child said hello: tell it the state if behind (it starts not behind). */
void	backlog_hello(struct worker *);
/* 1 when behind, and the largest read age (ms) as last computed. */
int	backlog_behind(int64_t *age_ms);

#endif
