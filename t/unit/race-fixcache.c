/* The evaluator's fix cache: lookups, in-order appends, late merges, duplicates, clearing. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "race/race_fixcache.h"
#include "tap.h"

/* Fixes at the given times (seconds), each with its time in f_lat to tell them apart. */
static size_t
fixes(struct fix *f, const int *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].f_ts_us = (int64_t)s[i] * 1000000;
		f[i].f_lat = s[i];
	}
	return n;
}

/* The entry holds exactly these times, in order, each with its own fix. */
static int
holds(const struct race_fc_entry *e, const int *s, size_t n)
{
	size_t	i;

	if (e->fe_n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (e->fe_fix[i].f_ts_us != (int64_t)s[i] * 1000000 ||
		    e->fe_fix[i].f_lat != s[i])
			return 0;
	return 1;
}

static void
test_merge(void)
{
	static const int a[] = { 10, 11, 12 }, b[] = { 13, 14 },
	    late[] = { 5, 11, 12, 13, 15 }, all[] = { 5, 10, 11, 12, 13, 14, 15 };
	struct race_fc		 fc;
	struct race_fc_entry	*e;
	struct fix		 f[8];

	race_fc_init(&fc);
	ok(race_fc_find(&fc, "dev1", 1) == NULL, "empty cache: nothing found");
	e = race_fc_get(&fc, "dev1", 1);
	ok(e != NULL && e->fe_n == 0, "get creates an empty entry");
	ok(race_fc_merge(&fc, e, f, fixes(f, a, 3)) == 0 && holds(e, a, 3),
	    "first fixes kept in order");
	ok(race_fc_merge(&fc, e, f, fixes(f, b, 2)) == 0, "newer fixes appended");
	ok(race_fc_merge(&fc, e, f, fixes(f, late, 5)) == 0 && holds(e, all, 7),
	    "late fixes merged in order, times already held kept once");
	is_int((long long)fc.fc_fixes, 7, "the cache counts the fixes it holds");
	ok(race_fc_merge(&fc, e, f, fixes(f, all, 7)) == 0 && holds(e, all, 7),
	    "merging what is held changes nothing");
	ok(race_fc_find(&fc, "dev1", 2) == NULL, "another stage of the device: none");
	race_fc_reset(&fc, e);
	is_int((long long)fc.fc_fixes, 0, "reset empties the entry");
	race_fc_clear(&fc);
	ok(race_fc_find(&fc, "dev1", 1) == NULL, "clear forgets every entry");
}

static void
test_many(void)
{
	struct race_fc		 fc;
	struct race_fc_entry	*e;
	char			 dev[32];
	int			 i, t, bad = 0;
	struct fix		 f[1];

	race_fc_init(&fc);
	for (i = 0; i < 5000; i++) {
		snprintf(dev, sizeof(dev), "%015d", i);
		t = i;
		if ((e = race_fc_get(&fc, dev, i % 3)) == NULL ||
		    race_fc_merge(&fc, e, f, fixes(f, &t, 1)) == -1)
			bad++;
	}
	for (i = 0; i < 5000; i++) {
		snprintf(dev, sizeof(dev), "%015d", i);
		e = race_fc_find(&fc, dev, i % 3);
		t = i;
		if (e == NULL || !holds(e, &t, 1) || race_fc_find(&fc, dev,
		    i % 3 + 1) != NULL)
			bad++;
	}
	is_int(bad, 0, "5000 devices: each found with its own fixes after the table grew");
	race_fc_clear(&fc);
}

int
main(void)
{
	plan_lazy();
	test_merge();
	test_many();
	return tap_done();
}
