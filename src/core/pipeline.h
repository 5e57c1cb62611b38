/* The data path of one worker: read -> decode -> state -> write -> hooks -> settle. */
#ifndef PROCESSOR_PIPELINE_H
#define PROCESSOR_PIPELINE_H

struct config;
struct ev_loop;
struct worker_stats;
struct pipeline;
struct device_state;

struct pipeline	*pipeline_new(struct ev_loop *, const struct config *,
		    const char *consumer, struct worker_stats *);
void		 pipeline_free(struct pipeline *);
void		 pipeline_start(struct pipeline *);
/* Stop reading (on) or read again (off); in-flight batches still settle. */
void		 pipeline_pause(struct pipeline *, int on);
/*
 * Stop reading, let in-flight batches commit and settle, then call done.
 * done may be called before this returns when nothing is in flight.
 */
void		 pipeline_stop(struct pipeline *, void (*done)(void *), void *arg);
/* Call fn each time the pipeline becomes able to consume (both servers up). */
void		 pipeline_on_consuming(struct pipeline *, void (*fn)(void *), void *arg);
/* Entries held in memory and not yet settled (for the shutdown log). */
unsigned long	 pipeline_inflight_entries(const struct pipeline *);

/* The tracked state of a device, or NULL (control socket "device"). */
const struct device_state *pipeline_device(struct pipeline *, const char *device);
/*
 * Sweep other consumers' idle entries now (idle_ms 0: claim_idle_ms); done
 * gets whether the sweep finished without error and how many entries were
 * claimed since this call.  A newer call answers the older one at once.
 */
void		 pipeline_claim_now(struct pipeline *, int idle_ms,
		    void (*done)(void *, int ok, unsigned long long claimed),
		    void *arg);

#endif
