/* Per-device runtime state: hash + LRU list, bounded by max_devices. */
#ifndef PROCESSOR_STATE_H
#define PROCESSOR_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/position.h"

struct device_state {
	char		 ds_device[POSITION_DEVICE_MAX + 1];
	struct position	 ds_last;	/* freshest fix by ts; p_attrs is NULL here */
	int64_t		 ds_last_seen_us;	/* wall clock when last updated */
	uint64_t	 ds_records;		/* records seen this session */
};

struct state;

struct state	*state_new(size_t max_devices);
void		 state_free(struct state *);
/* NULL when not tracked.  Does not change LRU order. */
struct device_state *state_lookup(struct state *, const char *device);
/*
 * Record a position: insert (evicting the least recently used device when
 * full) or update; moves the device to most recently used.  ds_last only
 * moves forward in time.  *inserted (may be NULL) says whether it was new.
 */
struct device_state *state_update(struct state *, const struct position *,
	    int64_t now_us, int *inserted);
/* Seed a cold device (rehydration) without counting a record. */
struct device_state *state_seed(struct state *, const struct position *);
size_t		 state_count(const struct state *);
uint64_t	 state_evictions(const struct state *);

#endif
