/* Respawn pacing: backoff steps, reset after a stable run, crash-loop window. */
#include "autoconf.h"

#include "proc/pacing.h"
#include "tap.h"

int
main(void)
{
	struct pacing_window	pw;
	unsigned		c;
	int			i, looped;

	plan(16);
	is_int(pacing_backoff_ms(0), 0, "no crash, no delay");
	is_int(pacing_backoff_ms(1), 100, "first crash: 100 ms");
	is_int(pacing_backoff_ms(2), 200, "second: 200 ms");
	is_int(pacing_backoff_ms(5), 1600, "fifth: 1.6 s");
	is_int(pacing_backoff_ms(9), 25600, "ninth: 25.6 s");
	is_int(pacing_backoff_ms(10), 30000, "tenth: capped at 30 s");
	is_int(pacing_backoff_ms(1000000), 30000, "huge counts stay capped");

	c = pacing_crashes_after(0, 10);
	c = pacing_crashes_after(c, 10);
	c = pacing_crashes_after(c, 59999);
	is_int(c, 3, "quick deaths accumulate");
	is_int(pacing_crashes_after(c, 60000), 1,
	    "a death after 60 s up starts a new series");

	if (pacing_window_init(&pw, 3) == -1)
		bail("pacing_window_init");
	looped = 0;
	for (i = 0; i < 3; i++)
		looped |= pacing_window_note(&pw, 1000 + (uint64_t)i * 100, 10000);
	is_int(looped, 0, "max_restarts=3: three restarts are allowed");
	is_int(pacing_window_note(&pw, 1400, 10000), 1,
	    "the fourth within the window is a crash loop");
	pacing_window_free(&pw);

	if (pacing_window_init(&pw, 3) == -1)
		bail("pacing_window_init");
	looped = 0;
	for (i = 0; i < 20; i++)
		looped |= pacing_window_note(&pw, (uint64_t)i * 6000, 10000);
	is_int(looped, 0, "restarts spread wider than the window never trip");
	is_int(pacing_window_note(&pw, 114001, 10000), 0,
	    "two within 10 s after spaced ones: still fine");
	is_int(pacing_window_note(&pw, 114002, 10000), 1,
	    "four within 10 s: trips");
	pacing_window_free(&pw);

	if (pacing_window_init(&pw, 0) == -1)
		bail("pacing_window_init");
	is_int(pacing_window_note(&pw, 5, 1000), 1,
	    "max_restarts=0: the first restart trips");
	pacing_window_free(&pw);
	ok(pacing_now_ms() > 0, "monotonic clock readable");
	return tap_done();
}
