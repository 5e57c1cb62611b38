/* Respawn pacing and the crash-loop window: pure policy, no I/O. */
#include "autoconf.h"

#include <stdlib.h>
#include <time.h>

#include "proc/pacing.h"

/*
 * Delay before respawning a slot after its n-th consecutive unexpected death:
 * 100 ms, doubling, capped at 30 s.  A worker that dies at once every time
 * thus costs little CPU, and one that died after a long healthy run comes
 * back almost immediately (see pacing_crashes_after).
 */
unsigned
pacing_backoff_ms(unsigned crashes)
{
	unsigned	ms = PACING_BACKOFF_MIN_MS;

	if (crashes == 0)
		return 0;
	while (--crashes > 0 && ms < PACING_BACKOFF_MAX_MS)
		ms *= 2;
	return ms > PACING_BACKOFF_MAX_MS ? PACING_BACKOFF_MAX_MS : ms;
}

/* A death after PACING_STABLE_MS of uptime counts as the first of a new series. */
unsigned
pacing_crashes_after(unsigned crashes, uint64_t uptime_ms)
{
	if (uptime_ms >= PACING_STABLE_MS)
		return 1;
	return crashes < 1000 ? crashes + 1 : crashes;
}

int
pacing_window_init(struct pacing_window *pw, unsigned max_restarts)
{
	pw->pw_cap = max_restarts + 1;
	pw->pw_len = 0;
	pw->pw_head = 0;
	pw->pw_time = calloc(pw->pw_cap, sizeof(*pw->pw_time));
	return pw->pw_time == NULL ? -1 : 0;
}

void
pacing_window_free(struct pacing_window *pw)
{
	free(pw->pw_time);
	pw->pw_time = NULL;
}

/*
 * Record a respawn at now_ms.  Returns 1 when this makes more than
 * max_restarts respawns within the last window_ms: the workers crash-loop
 * and restarting them again would only hide it from systemd, which can
 * restart the whole unit with its own rate limit.
 */
int
pacing_window_note(struct pacing_window *pw, uint64_t now_ms,
    uint64_t window_ms)
{
	uint64_t	oldest;

	pw->pw_time[pw->pw_head] = now_ms;
	pw->pw_head = (pw->pw_head + 1) % pw->pw_cap;
	if (pw->pw_len < pw->pw_cap)
		pw->pw_len++;
	if (pw->pw_len < pw->pw_cap)
		return 0;
	oldest = pw->pw_time[pw->pw_head % pw->pw_cap];
	return now_ms - oldest < window_ms;
}

uint64_t
pacing_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
