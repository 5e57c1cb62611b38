/* Master-only poll of the consumer group's lag and pending count (XINFO GROUPS). */
#ifndef PROCESSOR_LAG_H
#define PROCESSOR_LAG_H

#include <ev.h>

struct config;
struct group_stats;

#define LAG_INTERVAL	5.0	/* seconds between polls */

/* Poll every LAG_INTERVAL on the loop with hiredis async; 0 or -1. */
int	lag_start(struct ev_loop *, const struct config *);
/* After a reload: drop the connection, next poll uses the new settings. */
void	lag_reconfigure(const struct config *);
void	lag_stop(void);
/* The last poll's result (gs_known 0 when it failed or none ran yet). */
void	lag_get(struct group_stats *);

#endif
