/* Per-device runtime state: chained hash + LRU list, bounded by max_devices. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "core/state.h"

/*
 * Entries live in slabs allocated as the table fills and never freed before
 * state_free: once full, an insert reuses the evicted entry, so the steady
 * state allocates nothing.  Links are 32-bit indexes into the slabs, which
 * keeps an entry small and caps max_devices below STATE_NIL.
 */
#define STATE_NIL		UINT32_MAX
#define STATE_SLAB_SHIFT	10
#define STATE_SLAB		(1U << STATE_SLAB_SHIFT)

struct state_entry {
	struct device_state	 se_ds;		/* first: callers get &se_ds */
	uint32_t		 se_hash;
	uint32_t		 se_hnext;	/* bucket chain */
	uint32_t		 se_prev;	/* towards MRU */
	uint32_t		 se_next;	/* towards LRU */
};

struct state {
	size_t			  sm_cap;
	size_t			  sm_count;
	uint64_t		  sm_evictions;
	uint32_t		  sm_mask;	/* buckets - 1, a power of two */
	uint32_t		 *sm_buckets;
	struct state_entry	**sm_slabs;
	size_t			  sm_nslabs;	/* allocated so far */
	uint32_t		  sm_used;	/* entries handed out so far */
	uint32_t		  sm_mru;
	uint32_t		  sm_lru;
};

static struct state_entry *
state_entry(const struct state *st, uint32_t i)
{
	return &st->sm_slabs[i >> STATE_SLAB_SHIFT][i & (STATE_SLAB - 1)];
}

/* FNV-1a 32-bit with a final avalanche so the low bits (the bucket) mix well. */
static uint32_t
state_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619U;
	}
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

struct state *
state_new(size_t max_devices)
{
	struct state	*st;
	size_t		 nb, i;

	if (max_devices == 0 || max_devices >= STATE_NIL / 2)
		return NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	/* Sized once, at least the capacity: chains average under one entry. */
	for (nb = 16; nb < max_devices; nb <<= 1)
		;
	st->sm_cap = max_devices;
	st->sm_mask = (uint32_t)(nb - 1);
	st->sm_mru = st->sm_lru = STATE_NIL;
	st->sm_buckets = malloc(nb * sizeof(*st->sm_buckets));
	st->sm_slabs = calloc((max_devices + STATE_SLAB - 1) / STATE_SLAB,
	    sizeof(*st->sm_slabs));
	if (st->sm_buckets == NULL || st->sm_slabs == NULL) {
		state_free(st);
		return NULL;
	}
	for (i = 0; i < nb; i++)
		st->sm_buckets[i] = STATE_NIL;
	return st;
}

void
state_free(struct state *st)
{
	size_t	i;

	if (st == NULL)
		return;
	for (i = 0; i < st->sm_nslabs; i++)
		free(st->sm_slabs[i]);
	free(st->sm_slabs);
	free(st->sm_buckets);
	free(st);
}

/* Length of a device id, or 0 when empty or not terminated within the limit. */
static size_t
state_devlen(const char *device)
{
	size_t	len;

	len = strnlen(device, POSITION_DEVICE_MAX + 1);
	return len > POSITION_DEVICE_MAX ? 0 : len;
}

static uint32_t
state_find(const struct state *st, const char *device, size_t len,
    uint32_t h)
{
	struct state_entry	*se;
	uint32_t		 i;

	for (i = st->sm_buckets[h & st->sm_mask]; i != STATE_NIL;
	    i = se->se_hnext) {
		se = state_entry(st, i);
		if (se->se_hash == h &&
		    strncmp(se->se_ds.ds_device, device, len + 1) == 0)
			return i;
	}
	return STATE_NIL;
}

static void
state_lru_unlink(struct state *st, uint32_t i)
{
	struct state_entry	*se = state_entry(st, i);

	if (se->se_prev != STATE_NIL)
		state_entry(st, se->se_prev)->se_next = se->se_next;
	else
		st->sm_mru = se->se_next;
	if (se->se_next != STATE_NIL)
		state_entry(st, se->se_next)->se_prev = se->se_prev;
	else
		st->sm_lru = se->se_prev;
}

static void
state_lru_push(struct state *st, uint32_t i)
{
	struct state_entry	*se = state_entry(st, i);

	se->se_prev = STATE_NIL;
	se->se_next = st->sm_mru;
	if (st->sm_mru != STATE_NIL)
		state_entry(st, st->sm_mru)->se_prev = i;
	else
		st->sm_lru = i;
	st->sm_mru = i;
}

static void
state_hash_unlink(struct state *st, uint32_t i)
{
	struct state_entry	*se = state_entry(st, i), *p;
	uint32_t		*link;

	for (link = &st->sm_buckets[se->se_hash & st->sm_mask]; *link != i;
	    link = &p->se_hnext)
		p = state_entry(st, *link);
	*link = se->se_hnext;
}

/* A free entry: a fresh one while below capacity, else the evicted LRU. */
static uint32_t
state_take(struct state *st)
{
	uint32_t	i;
	size_t		slab;

	if (st->sm_count == st->sm_cap) {
		i = st->sm_lru;
		state_lru_unlink(st, i);
		state_hash_unlink(st, i);
		st->sm_count--;
		st->sm_evictions++;
		return i;
	}
	i = st->sm_used;
	slab = i >> STATE_SLAB_SHIFT;
	if (slab == st->sm_nslabs) {
		st->sm_slabs[slab] = malloc(STATE_SLAB *
		    sizeof(*st->sm_slabs[slab]));
		if (st->sm_slabs[slab] == NULL)
			return STATE_NIL;
		st->sm_nslabs++;
	}
	st->sm_used++;
	return i;
}

static struct state_entry *
state_insert(struct state *st, const char *device, size_t len, uint32_t h)
{
	struct state_entry	*se;
	uint32_t		 i;

	if ((i = state_take(st)) == STATE_NIL)
		return NULL;
	se = state_entry(st, i);
	memset(&se->se_ds, 0, sizeof(se->se_ds));
	memcpy(se->se_ds.ds_device, device, len);
	se->se_hash = h;
	se->se_hnext = st->sm_buckets[h & st->sm_mask];
	st->sm_buckets[h & st->sm_mask] = i;
	state_lru_push(st, i);
	st->sm_count++;
	return se;
}

static void
state_set_last(struct device_state *ds, const struct position *pos)
{
	struct last_fix	*lf = &ds->ds_last;

	lf->lf_ts_us = pos->p_ts_us;
	lf->lf_lat = pos->p_lat;
	lf->lf_lon = pos->p_lon;
	lf->lf_altitude = (float)pos->p_altitude;
	lf->lf_speed = (float)pos->p_speed;
	lf->lf_event_io = pos->p_event_io;
	lf->lf_angle = pos->p_angle;
	lf->lf_satellites = pos->p_satellites;
	lf->lf_priority = pos->p_priority;
	lf->lf_has = pos->p_has;
}

struct device_state *
state_lookup(struct state *st, const char *device)
{
	size_t		len;
	uint32_t	i;

	if ((len = state_devlen(device)) == 0)
		return NULL;
	i = state_find(st, device, len, state_hash(device, len));
	return i == STATE_NIL ? NULL : &state_entry(st, i)->se_ds;
}

struct device_state *
state_update(struct state *st, const struct position *pos, int64_t now_us,
    int *inserted)
{
	struct state_entry	*se;
	size_t			 len;
	uint32_t		 h, i;

	if (inserted != NULL)
		*inserted = 0;
	if ((len = state_devlen(pos->p_device)) == 0)
		return NULL;
	h = state_hash(pos->p_device, len);
	if ((i = state_find(st, pos->p_device, len, h)) != STATE_NIL) {
		se = state_entry(st, i);
		state_lru_unlink(st, i);
		state_lru_push(st, i);
		/* Late uploads of buffered fixes must not move the device back. */
		if (pos->p_ts_us > se->se_ds.ds_last.lf_ts_us)
			state_set_last(&se->se_ds, pos);
	} else {
		if ((se = state_insert(st, pos->p_device, len, h)) == NULL)
			return NULL;
		state_set_last(&se->se_ds, pos);
		if (inserted != NULL)
			*inserted = 1;
	}
	se->se_ds.ds_records++;
	se->se_ds.ds_last_seen_us = now_us;
	return &se->se_ds;
}

/*
 * Rehydration from the database: a known device keeps its place in the LRU
 * and takes the seed only if it is newer; a cold one enters as most recently
 * used with no records counted and ds_last_seen_us 0 (not seen this session).
 */
struct device_state *
state_seed(struct state *st, const struct position *pos)
{
	struct state_entry	*se;
	size_t			 len;
	uint32_t		 h, i;

	if ((len = state_devlen(pos->p_device)) == 0)
		return NULL;
	h = state_hash(pos->p_device, len);
	if ((i = state_find(st, pos->p_device, len, h)) != STATE_NIL) {
		se = state_entry(st, i);
		if (pos->p_ts_us > se->se_ds.ds_last.lf_ts_us)
			state_set_last(&se->se_ds, pos);
		return &se->se_ds;
	}
	if ((se = state_insert(st, pos->p_device, len, h)) == NULL)
		return NULL;
	state_set_last(&se->se_ds, pos);
	return &se->se_ds;
}

size_t
state_count(const struct state *st)
{
	return st->sm_count;
}

uint64_t
state_evictions(const struct state *st)
{
	return st->sm_evictions;
}
