/* Per-device runtime state: hash + LRU list, bounded by max_devices. */
#ifndef PROCESSOR_STATE_H
#define PROCESSOR_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/position.h"

/*
 * The freshest fix of a device, without its id (the state entry has it) or
 * its attribute bag: 48 bytes instead of a whole struct position, so
 * 100 000 devices fit a small worker.
 */
struct last_fix {
	int64_t		 lf_ts_us;
	double		 lf_lat;
	double		 lf_lon;
	float		 lf_altitude;
	float		 lf_speed;
	int32_t		 lf_event_io;
	int16_t		 lf_angle;
	int16_t		 lf_satellites;
	int16_t		 lf_priority;
	uint16_t	 lf_has;	/* POS_HAS_* */
};

struct device_state {
	char		 ds_device[POSITION_DEVICE_MAX + 1];
	struct last_fix	 ds_last;	/* freshest fix by ts */
	int64_t		 ds_last_seen_us;	/* wall clock when last updated */
	uint64_t	 ds_records;		/* records seen this session */
};

struct state;

/* NULL when max_devices is 0 or too large (>= 2^31), or out of memory. */
struct state	*state_new(size_t max_devices);
void		 state_free(struct state *);
/* NULL when not tracked.  Does not change LRU order. */
struct device_state *state_lookup(struct state *, const char *device);
/*
 * Record a position: insert (evicting the least recently used device when
 * full) or update; moves the device to most recently used.  ds_last only
 * moves forward in time (an older fix still counts a record and refreshes
 * ds_last_seen_us).  *inserted (may be NULL) says whether it was new.
 * Returns NULL when p_device is empty or longer than POSITION_DEVICE_MAX, or
 * when out of memory while the table is below capacity.
 * The pointers returned here and by state_lookup/state_seed stay valid
 * until the next state_update or state_seed, which may evict the device.
 */
struct device_state *state_update(struct state *, const struct position *,
	    int64_t now_us, int *inserted);
/*
 * Seed a cold device (rehydration) without counting a record: a new entry
 * (most recently used, may evict) with ds_records 0 and ds_last_seen_us 0.
 * A tracked device keeps its LRU place and takes the seed only if newer.
 */
struct device_state *state_seed(struct state *, const struct position *);
size_t		 state_count(const struct state *);
uint64_t	 state_evictions(const struct state *);

#endif
