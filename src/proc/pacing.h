/* Respawn pacing and the crash-loop window: pure policy, no I/O. */
#ifndef PROCESSOR_PACING_H
#define PROCESSOR_PACING_H

#include <stdint.h>

#define PACING_BACKOFF_MIN_MS	100
#define PACING_BACKOFF_MAX_MS	30000
#define PACING_STABLE_MS	60000	/* up this long: the crash count restarts */

/* Sliding window of recent respawn times. */
struct pacing_window {
	uint64_t	*pw_time;
	unsigned	 pw_cap;	/* max_restarts + 1 */
	unsigned	 pw_len;
	unsigned	 pw_head;
};

unsigned pacing_backoff_ms(unsigned crashes);
unsigned pacing_crashes_after(unsigned crashes, uint64_t uptime_ms);
int	pacing_window_init(struct pacing_window *, unsigned max_restarts);
void	pacing_window_free(struct pacing_window *);
int	pacing_window_note(struct pacing_window *, uint64_t now_ms,
	    uint64_t window_ms);
uint64_t pacing_now_ms(void);

#endif
