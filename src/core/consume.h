/* Redis Stream consumer: XREADGROUP, XACK, DLQ, group (re)creation. */
#ifndef PROCESSOR_CONSUME_H
#define PROCESSOR_CONSUME_H

#include <stddef.h>

struct config;

/*
 * Blocking helper for the master at start-up: connect with a timeout and run
 * XGROUP CREATE <stream> <group> <start_id> MKSTREAM (BUSYGROUP is success).
 * Returns 0, or -1 with err filled (Redis unreachable or refused).
 */
int	consume_ensure_group_sync(const struct config *, char *err, size_t errlen);

#endif
