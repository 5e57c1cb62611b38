/* Catch-up pacing's table: held for the interval, the list as a text[] literal, counting, clearing. */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "race/race_pace.h"
#include "tap.h"

/* The held list at now (interval 3 s), as a string; *next its first release. */
static const char *
held(struct race_pace *p, double now, struct buf *b, size_t *n, double *next)
{
	buf_reset(b);
	*n = race_pace_held(p, now, 3.0, b, next);
	return buf_cstr(b);
}

static void
test_hold(void)
{
	struct race_pace	p;
	struct buf		b;
	double			next;
	size_t			n;

	memset(&p, 0, sizeof(p));
	buf_init(&b);
	is_string(held(&p, 0, &b, &n, &next), "{}", "empty: an empty array");
	is_int((long long)n, 0, "empty: none held");
	ok(next == 0, "empty: no release due");
	ok(race_pace_evaluated(&p, "car-1", 10.0) == 0 &&
	    race_pace_evaluated(&p, "car \"2\"\\", 11.0) == 0, "two evaluated");
	is_string(held(&p, 12.0, &b, &n, &next), "{\"car \\\"2\\\"\\\\\",\"car-1\"}",
	    "both held, quoted for a text[] literal (slot order)");
	is_int((long long)n, 2, "two held");
	is_double(next, 13.0, 1e-9, "the first is due at its evaluation + 3 s");
	is_string(held(&p, 13.0, &b, &n, &next), "{\"car \\\"2\\\"\\\\\"}",
	    "car-1 released exactly at the interval");
	is_double(next, 14.0, 1e-9, "the other due a second later");
	is_int(race_pace_count(&p, "car-1"), 1, "a deferral counted once ...");
	is_int(race_pace_count(&p, "car-1"), 0, "... not twice for the same wait");
	is_int(race_pace_count(&p, "car-9"), 0, "a device never evaluated is not counted");
	race_pace_evaluated(&p, "car-1", 20.0);
	is_int(race_pace_count(&p, "car-1"), 1, "evaluated again: its next wait counts");
	is_string(held(&p, 21.0, &b, &n, &next), "{\"car-1\"}",
	    "evaluated again: held again from then");
	race_pace_clear(&p);
	is_string(held(&p, 21.0, &b, &n, &next), "{}", "cleared: none held");
	race_pace_free(&p);
	buf_free(&b);
}

/* A device first marked while behind is held from then, once; an evaluated one is not. */
static void
test_first(void)
{
	struct race_pace	p;
	struct buf		b;
	double			next;
	size_t			n;

	memset(&p, 0, sizeof(p));
	buf_init(&b);
	is_int(race_pace_first(&p, "car-1", 5.0), 1, "first mark: held");
	is_int(race_pace_first(&p, "car-1", 6.0), 0, "marked again: already held");
	is_string(held(&p, 7.0, &b, &n, &next), "{\"car-1\"}", "held from its first mark");
	is_double(next, 8.0, 1e-9, "due at its first mark + 3 s, not the second");
	is_int(race_pace_count(&p, "car-1"), 0, "that first wait is not counted again");
	is_string(held(&p, 8.0, &b, &n, &next), "{}", "released at the interval");
	race_pace_evaluated(&p, "car-1", 8.5);
	is_int(race_pace_first(&p, "car-1", 9.0), 0, "evaluated since: held by that");
	is_double((held(&p, 9.0, &b, &n, &next), next), 11.5, 1e-9,
	    "due at its evaluation + 3 s");
	race_pace_clear(&p);
	is_int(race_pace_first(&p, "car-1", 20.0), 1, "cleared (caught up): held again");
	race_pace_free(&p);
	buf_free(&b);
}

/* More devices than half the table: it starts over, nothing is lost but the holds. */
static void
test_full(void)
{
	struct race_pace	p;
	struct buf		b;
	char			dev[32];
	double			next;
	size_t			n;
	int			i, bad = 0;

	memset(&p, 0, sizeof(p));
	buf_init(&b);
	for (i = 0; i < RACE_PACE_SLOTS; i++) {
		snprintf(dev, sizeof(dev), "%015d", i);
		if (race_pace_evaluated(&p, dev, 1.0) == -1)
			bad++;
	}
	is_int(bad, 0, "%d devices evaluated", RACE_PACE_SLOTS);
	n = race_pace_held(&p, 2.0, 3.0, &b, &next);
	ok(n > 0 && n <= RACE_PACE_SLOTS / 2,
	    "at most half the table held (%zu): it started over", n);
	snprintf(dev, sizeof(dev), "%015d", RACE_PACE_SLOTS - 1);
	ok(strstr(buf_cstr(&b), dev) != NULL, "the latest device is held");
	race_pace_free(&p);
	buf_free(&b);
}

int
main(void)
{
	plan_lazy();
	test_hold();
	test_first();
	test_full();
	return tap_done();
}
