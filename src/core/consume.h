/* Redis Stream consumer: XREADGROUP, XACK, DLQ, group (re)creation. */
#ifndef PROCESSOR_CONSUME_H
#define PROCESSOR_CONSUME_H

#include <stddef.h>

struct config;
struct batch;
struct ev_loop;
struct redisReply;
struct worker_stats;

/*
 * What the consumer tells its owner.  cc_batch: a read finished; the batch
 * holds 0..COUNT entries, or err != 0 when the read failed (the batch is
 * empty).  cc_settled: the DLQ/XACK transaction for a batch finished; on
 * err != 0 nothing was acknowledged and the owner retries after cc_ready.
 */
struct consume_cb {
	void	(*cc_ready)(void *arg);
	void	(*cc_down)(void *arg);
	void	(*cc_batch)(void *arg, struct batch *, int err);
	void	(*cc_settled)(void *arg, struct batch *, int err);
};

struct consume;

struct consume	*consume_new(struct ev_loop *, const struct config *,
		    const char *consumer, const struct consume_cb *, void *arg,
		    struct worker_stats *);
void		 consume_free(struct consume *);
/* Begin connecting; reconnects by itself with backoff until freed. */
void		 consume_start(struct consume *);
int		 consume_is_up(const struct consume *);
/* Replaying our own pending list (after start or a reconnect)? */
int		 consume_in_history(const struct consume *);
/* A read is outstanding? */
int		 consume_reading(const struct consume *);
/* Issue one XREADGROUP into b (must be empty).  -1 when not possible now. */
int		 consume_read(struct consume *, struct batch *);
/* Stopping: end a read that waits in BLOCK now (best effort). */
void		 consume_interrupt(struct consume *);
/*
 * Issue one XAUTOCLAIM step into b: entries idle longer than claim_idle_ms in
 * any consumer's pending list become ours.  Continue the sweep until
 * consume_claim_finished().  Delivery counts are filled in (be_deliveries).
 */
int		 consume_claim(struct consume *, struct batch *);
int		 consume_claim_finished(const struct consume *);
/* Use idle_ms instead of claim_idle_ms until the current sweep ends (0: reset). */
void		 consume_claim_idle(struct consume *, int idle_ms);
/* Reset the idle time of b's entries (XCLAIM JUSTID) so no sweeper takes them. */
int		 consume_renew(struct consume *, const struct batch *);
/*
 * Dead-letter the poison entries of b (one MULTI/EXEC, every reply checked),
 * then XACK every entry of b, only once each dead letter is stored: an entry
 * is never acknowledged without its DLQ copy.  cc_settled reports the
 * outcome; -1 when nothing could be sent (not connected).
 */
int		 consume_settle(struct consume *, struct batch *);

/*
 * Blocking helper for the master at start-up: connect with a timeout; unless
 * XINFO GROUPS lists the group, run XGROUP CREATE <stream> <group> <start_id>
 * MKSTREAM (BUSYGROUP is success).
 * Returns 0, or -1 with err filled (Redis unreachable or refused).
 */
/* Copy times-delivered of an XPENDING extended reply into b, matching by id. */
void	consume_match_deliveries(struct batch *, const struct redisReply *);

int	consume_ensure_group_sync(const struct config *, char *err, size_t errlen);
/* 1 when another process reads as one of our n consumer names (err says which). */
int	consume_in_use_sync(const struct config *, int n, char *err, size_t errlen);

#endif
