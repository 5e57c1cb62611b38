/* Unit tests of the per-device state: capacity, LRU order, fix ordering, seeding. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/state.h"
#include "tap.h"

static struct position
pos(const char *device, int64_t ts_us)
{
	struct position	p;

	memset(&p, 0, sizeof(p));
	snprintf(p.p_device, sizeof(p.p_device), "%s", device);
	p.p_ts_us = ts_us;
	p.p_lat = 59.0 + (double)ts_us / 1e9;
	p.p_lon = 24.0;
	p.p_attrs = "{\"k\":1}";
	p.p_attrs_len = 7;
	return p;
}

static void
test_basics(void)
{
	struct state		*st;
	struct device_state	*ds;
	struct position		 p;
	int			 ins;

	ok(state_new(0) == NULL, "state_new(0) refuses");
	st = state_new(3);
	ok(st != NULL, "state_new(3)");
	is_int((long long)state_count(st), 0, "empty at start");
	ok(state_lookup(st, "a") == NULL, "lookup of unknown device is NULL");

	p = pos("a", 1000);
	ds = state_update(st, &p, 5, &ins);
	ok(ds != NULL && ins == 1, "first update inserts");
	is_string(ds->ds_device, "a", "device id stored");
	is_int(ds->ds_records, 1, "one record counted");
	is_int(ds->ds_last_seen_us, 5, "last seen is now");
	is_int(ds->ds_last.lf_ts_us, 1000, "last fix stored");
	ok(sizeof(ds->ds_last) <= 48 && sizeof(*ds) <= 136,
	    "device state stays compact (%zu bytes)", sizeof(*ds));

	p = pos("a", 2000);
	ds = state_update(st, &p, 6, &ins);
	ok(ins == 0 && ds->ds_records == 2 && ds->ds_last.lf_ts_us == 2000,
	    "second update updates in place");

	/* A late, older fix: counted, refreshes last seen, but ds_last stays. */
	p = pos("a", 1500);
	ds = state_update(st, &p, 7, NULL);
	is_int(ds->ds_last.lf_ts_us, 2000, "older fix does not regress ds_last");
	is_int(ds->ds_records, 3, "older fix still counts a record");
	is_int(ds->ds_last_seen_us, 7, "older fix refreshes last seen");
	p = pos("a", 2000);
	p.p_lat = 1.0;
	ds = state_update(st, &p, 8, NULL);
	ok(ds->ds_last.lf_lat != 1.0, "same-timestamp duplicate keeps the first fix");

	p = pos("", 1);
	ok(state_update(st, &p, 1, &ins) == NULL && ins == 0,
	    "empty device id refused");
	p = pos("x", 1);
	memset(p.p_device, 'x', sizeof(p.p_device));
	ok(state_update(st, &p, 1, NULL) == NULL, "unterminated device id refused");
	is_int((long long)state_count(st), 1, "refusals changed nothing");

	p = pos("0123456789012345678901234567890123456789012345678901234567890123",
	    1);
	ok(state_update(st, &p, 1, NULL) != NULL &&
	    state_lookup(st, p.p_device) != NULL, "64-character device id works");
	state_free(st);
	state_free(NULL);
}

static void
test_lru(void)
{
	struct state		*st;
	struct position		 p;
	const char		*dev[] = { "a", "b", "c" };
	int			 i, ins;

	st = state_new(3);
	for (i = 0; i < 3; i++) {
		p = pos(dev[i], 100 + i);
		state_update(st, &p, i, NULL);
	}
	is_int((long long)state_count(st), 3, "filled to capacity");
	is_int((long long)state_evictions(st), 0, "no evictions yet");

	/* Lookup must not reorder: "a" stays least recently used. */
	ok(state_lookup(st, "a") != NULL, "lookup finds a");
	p = pos("d", 1);
	state_update(st, &p, 10, &ins);
	ok(ins == 1 && state_lookup(st, "a") == NULL,
	    "inserting d evicts a, the least recently used (lookup did not touch it)");
	is_int((long long)state_count(st), 3, "count stays at capacity");
	is_int((long long)state_evictions(st), 1, "one eviction counted");

	/* Update of b moves it to MRU, so c goes next. */
	p = pos("b", 500);
	state_update(st, &p, 11, &ins);
	ok(ins == 0, "b updated, not inserted");
	p = pos("e", 1);
	state_update(st, &p, 12, NULL);
	ok(state_lookup(st, "c") == NULL && state_lookup(st, "b") != NULL,
	    "update moved b to MRU: c evicted instead");
	ok(state_lookup(st, "d") != NULL && state_lookup(st, "e") != NULL,
	    "d and e tracked");
	is_int((long long)state_evictions(st), 2, "two evictions");

	/* Order now (MRU..LRU): e b d. */
	p = pos("f", 1);
	state_update(st, &p, 13, NULL);
	p = pos("g", 1);
	state_update(st, &p, 14, NULL);
	ok(state_lookup(st, "d") == NULL && state_lookup(st, "b") == NULL &&
	    state_lookup(st, "e") != NULL, "eviction order follows recency (d, b)");
	state_free(st);

	st = state_new(1);
	p = pos("x", 1);
	state_update(st, &p, 1, NULL);
	p = pos("y", 1);
	state_update(st, &p, 2, &ins);
	ok(ins == 1 && state_count(st) == 1 && state_lookup(st, "x") == NULL &&
	    state_lookup(st, "y") != NULL, "capacity 1 replaces its only device");
	state_free(st);
}

static void
test_seed(void)
{
	struct state		*st;
	struct device_state	*ds;
	struct position		 p;

	st = state_new(2);
	p = pos("a", 1000);
	ds = state_seed(st, &p);
	ok(ds != NULL && ds->ds_records == 0, "seed of a cold device counts no record");
	is_int(ds->ds_last.lf_ts_us, 1000, "seed sets ds_last");
	is_int(ds->ds_last_seen_us, 0, "seed leaves last seen at 0");
	is_int((long long)state_count(st), 1, "seeded device is tracked");

	p = pos("a", 3000);
	state_update(st, &p, 50, NULL);
	p = pos("a", 2000);
	ds = state_seed(st, &p);
	is_int(ds->ds_last.lf_ts_us, 3000, "seed does not overwrite a fresher fix");
	is_int(ds->ds_records, 1, "seed of a tracked device counts no record");
	is_int(ds->ds_last_seen_us, 50, "seed keeps last seen");
	p = pos("a", 4000);
	ds = state_seed(st, &p);
	is_int(ds->ds_last.lf_ts_us, 4000, "a newer seed moves ds_last forward");

	/* LRU: seeding a tracked device does not promote it. */
	p = pos("b", 1);
	state_update(st, &p, 60, NULL);
	p = pos("a", 5000);
	state_seed(st, &p);
	p = pos("c", 1);
	ds = state_seed(st, &p);
	ok(ds != NULL && state_lookup(st, "a") == NULL &&
	    state_lookup(st, "b") != NULL,
	    "seed of a tracked device keeps its LRU place; a cold seed evicts");
	is_int((long long)state_evictions(st), 1, "seed eviction counted");
	p = pos("", 1);
	ok(state_seed(st, &p) == NULL, "seed refuses an empty device id");
	state_free(st);
}

/* Deterministic PRNG (xorshift64*), so the run is the same everywhere. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Reference model of exact LRU: device d is cached iff fewer than cap
 * distinct devices were touched since d's last touch.  A Fenwick tree over
 * time marks each device's latest touch, so that count is a range sum.
 */
static void
fw_add(int *fw, long n, long i, int v)
{
	for (i++; i <= n; i += i & -i)
		fw[i - 1] += v;
}

static long
fw_sum(const int *fw, long i)	/* sum of [0, i) */
{
	long	s = 0;

	for (; i > 0; i -= i & -i)
		s += fw[i - 1];
	return s;
}

static void
test_scale(void)
{
	const long	 nops = 1000000, ndev = 150000, cap = 100000;
	struct state	*st;
	struct position	 p;
	long		*last, t, d, misses = 0, mismatches = 0;
	int		*fw, ins, model_hit;
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL;
	clock_t		 c0;
	double		 secs;

	st = state_new((size_t)cap);
	last = malloc((size_t)ndev * sizeof(*last));
	fw = calloc((size_t)nops, sizeof(*fw));
	if (st == NULL || last == NULL || fw == NULL)
		bail("out of memory");
	for (d = 0; d < ndev; d++)
		last[d] = -1;
	memset(&p, 0, sizeof(p));
	c0 = clock();
	for (t = 0; t < nops; t++) {
		/* Skewed: half the traffic from a hot third of the devices. */
		d = (long)(rnd(&seed) % (uint64_t)ndev);
		if (rnd(&seed) & 1)
			d %= ndev / 3;
		snprintf(p.p_device, sizeof(p.p_device), "35%013ld", d);
		p.p_ts_us = t;
		if (state_update(st, &p, t, &ins) == NULL)
			bail("state_update failed at %ld", t);
		model_hit = last[d] >= 0 &&
		    fw_sum(fw, t) - fw_sum(fw, last[d] + 1) < cap;
		if (ins == model_hit)
			mismatches++;
		if (!model_hit)
			misses++;
		if (last[d] >= 0)
			fw_add(fw, nops, last[d], -1);
		fw_add(fw, nops, t, 1);
		last[d] = t;
	}
	secs = (double)(clock() - c0) / CLOCKS_PER_SEC;
	diag("%ld updates over %ld devices (cap %ld) with the model: %.2fs",
	    nops, ndev, cap, secs);
	is_int((long long)state_count(st), cap, "count stays at the cap");
	is_int(mismatches, 0, "every hit/miss agrees with an exact LRU model");
	is_int((long long)state_evictions(st), misses - cap,
	    "evictions = misses - cap (%ld)", misses - cap);
	ok(state_evictions(st) > 0, "the run did evict");
	free(last);
	free(fw);
	state_free(st);
}

int
main(void)
{
	plan(46);
	test_basics();
	test_lru();
	test_seed();
	test_scale();
	return tap_done();
}
