/* The data path of one worker: read -> decode -> state -> write -> hooks -> settle. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "config.h"
#include "core/backoff.h"
#include "core/batch.h"
#include "core/codec.h"
#include "core/consume.h"
#include "core/pipeline.h"
#include "core/sink.h"
#include "core/state.h"
#include "core/write.h"
#include "crash.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"

#define RETRY_MIN_S	0.1
#define RETRY_MAX_S	5.0
#define FATAL_RETRY_S	5.0
#define MAX_RANGES	96	/* bisection stack: 2 * log2(batch) is plenty */

/* A slice [r_lo, r_hi) of a batch's b_order still to be written. */
struct range {
	uint32_t	r_lo;
	uint32_t	r_hi;
};

struct queue {
	struct batch	*q_head;
	struct batch	*q_tail;
};

/*
 * Every batch is in exactly one place: the free pool, being read, the write
 * queue (head = being written), or the settle queue (head = settling).
 * p_inflight counts the batches in the two queues; reading stops at
 * max_inflight, which bounds memory when PostgreSQL is slow.
 */
struct pipeline {
	struct ev_loop		*p_loop;
	const struct config	*p_cf;
	struct worker_stats	*p_stats;
	struct consume		*p_consume;
	struct write		*p_write;
	struct state		*p_state;
	struct codec_limits	 p_limits;
	struct batch		*p_pool;
	struct queue		 p_writeq;
	struct queue		 p_settleq;
	int			 p_settling;
	int			 p_inflight;
	int			 p_paused;
	int			 p_stopping;
	void			(*p_done)(void *);
	void			*p_done_arg;
	struct range		 p_ranges[MAX_RANGES];
	int			 p_nranges;
	int			 p_writing;	/* a write_submit is outstanding */
	struct backoff		 p_retry_backoff;
	ev_timer		 p_retry;
	ev_idle			 p_kick;	/* run pipeline_pump outside callbacks */
	ev_timer		 p_claim;	/* XAUTOCLAIM sweep every claim_interval */
	ev_timer		 p_renew;	/* lease renewal of held entries */
	int			 p_claim_due;
	int			 p_claiming;
	void			(*p_claim_done)(void *, int, unsigned long long);
	void			*p_claim_done_arg;
	uint64_t		 p_claim_base;	/* ws_claimed at pipeline_claim_now */
	void			(*p_on_consuming)(void *);
	void			*p_on_consuming_arg;
	const struct position	**p_rows;	/* hook argument, reused */
	size_t			 p_rowscap;
};

static void	pipeline_pump(struct pipeline *);
static void	pipeline_claim_report(struct pipeline *, int);

static void
queue_push(struct queue *q, struct batch *b)
{
	b->b_next = NULL;
	if (q->q_tail != NULL)
		q->q_tail->b_next = b;
	else
		q->q_head = b;
	q->q_tail = b;
}

static struct batch *
queue_pop(struct queue *q)
{
	struct batch	*b = q->q_head;

	if (b != NULL) {
		q->q_head = b->b_next;
		if (q->q_head == NULL)
			q->q_tail = NULL;
		b->b_next = NULL;
	}
	return b;
}

static struct batch *
pipeline_get_batch(struct pipeline *p)
{
	struct batch	*b = p->p_pool;

	if (b != NULL) {
		p->p_pool = b->b_next;
		batch_reset(b);
		return b;
	}
	return batch_new();
}

static void
pipeline_put_batch(struct pipeline *p, struct batch *b)
{
	batch_reset(b);
	b->b_next = p->p_pool;
	p->p_pool = b;
}

static void
pipeline_kick(struct pipeline *p)
{
	ev_idle_start(p->p_loop, &p->p_kick);
}

static void
pipeline_kick_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct pipeline	*p = w->data;

	(void)revents;
	ev_idle_stop(loop, w);
	pipeline_pump(p);
}

/* Test builds: a payload carrying the marker kills the worker, as a decoder bug would. */
static void
pipeline_fault_payload(const struct batch *b, size_t i)
{
	const char	*marker = fault_value("abort_on_payload");

	if (marker != NULL && *marker != '\0' &&
	    strstr(batch_payload(b, i), marker) != NULL) {
		log_error("fault injection: aborting on entry %s", batch_id(b, i));
		abort();
	}
}

static void
pipeline_decode_entry(struct pipeline *p, struct batch *b, size_t i,
    int64_t now_us)
{
	struct batch_entry	*e = &b->b_entries[i];
	struct codec_error	 err;
	int			 inserted;

	if (e->be_status != ENTRY_NEW)
		return;
	pipeline_fault_payload(b, i);
	e->be_attrs_off = b->b_attrs.b_len;
	if (codec_decode(batch_payload(b, i), e->be_payload_len, &p->p_limits,
	    &e->be_pos, &b->b_attrs, &err) == 0) {
		e->be_status = ENTRY_VALID;
		/* once updated the device is known, so each cold device is listed once */
		if (state_update(p->p_state, &e->be_pos, now_us, &inserted) != NULL &&
		    inserted && batch_add_cold(b, e->be_pos.p_device) == -1)
			fatalx("out of memory listing cold devices");
		return;
	}
	if (err.ce_reason == CODEC_NO_MEMORY)	/* says nothing about the record */
		fatalx("out of memory decoding entry %s", batch_id(b, i));
	p->p_stats->ws_poison++;
	if (batch_poison(b, i, DLQ_STAGE_DECODE, codec_reason_code(err.ce_reason),
	    err.ce_msg) == -1)
		fatalx("out of memory recording a poison entry");
}

/*
 * An entry delivered more than max_deliveries times has probably killed the
 * workers that read it: dead-letter it without decoding it again.
 */
static void
pipeline_delivery_limit(struct pipeline *p, struct batch *b, size_t i)
{
	struct batch_entry	*e = &b->b_entries[i];
	char			 msg[160];

	if (e->be_status != ENTRY_NEW ||
	    e->be_deliveries <= (uint32_t)p->p_cf->cf_max_deliveries)
		return;
	snprintf(msg, sizeof(msg), "delivered %u times (max_deliveries %d): "
	    "dead-lettered without decoding", e->be_deliveries,
	    p->p_cf->cf_max_deliveries);
	p->p_stats->ws_delivery_limit++;
	if (batch_poison(b, i, DLQ_STAGE_DELIVERY_LIMIT, "delivery_limit", msg) == -1)
		fatalx("out of memory recording a poison entry");
}

static void
pipeline_decode(struct pipeline *p, struct batch *b)
{
	int64_t	now_us = (int64_t)(ev_now(p->p_loop) * 1e6);
	size_t	i;

	for (i = 0; i < b->b_n; i++) {
		if (b->b_entries[i].be_status == ENTRY_POISON)
			p->p_stats->ws_poison++;	/* e.g. no payload field */
		pipeline_delivery_limit(p, b, i);
		crash_set_entry(batch_id(b, i));
		pipeline_decode_entry(p, b, i, now_us);
	}
	crash_set_entry(NULL);
	batch_fix_attrs(b);
	batch_sort_valid(b);
	p->p_stats->ws_devices = state_count(p->p_state);
	p->p_stats->ws_evictions = state_evictions(p->p_state);
}

static void
pipeline_inflight(struct pipeline *p, int delta)
{
	p->p_inflight += delta;
	p->p_stats->ws_inflight = (uint64_t)p->p_inflight;
}

static void
pipeline_read_cb(void *arg, struct batch *b, int err)
{
	struct pipeline	*p = arg;

	if (p->p_claiming) {
		p->p_claiming = 0;
		if (err || consume_claim_finished(p->p_consume)) {
			p->p_claim_due = 0;	/* sweep over; the timer starts the next */
			pipeline_claim_report(p, !err);
		}
	}
	if (err || b->b_n == 0) {
		pipeline_put_batch(p, b);
		pipeline_kick(p);
		return;
	}
	log_debug("read %zu entries%s", b->b_n, b->b_history ? " (pending replay)" : "");
	pipeline_decode(p, b);
	metrics_observe(&p->p_stats->ws_hist[HIST_BATCH_SIZE], HIST_BATCH_SIZE,
	    (double)b->b_n);
	pipeline_inflight(p, 1);
	if (b->b_nvalid > 0) {
		queue_push(&p->p_writeq, b);
	} else
		queue_push(&p->p_settleq, b);
	pipeline_kick(p);
}

static void
pipeline_run_hooks(struct pipeline *p, struct batch *b)
{
	size_t	i, n = 0;

	if (sink_count() == 0)
		return;
	if (p->p_rowscap < b->b_n) {
		const struct position **r = realloc(p->p_rows,
		    b->b_n * sizeof(*r));

		if (r == NULL)
			fatalx("out of memory running hooks");
		p->p_rows = r;
		p->p_rowscap = b->b_n;
	}
	for (i = 0; i < b->b_nvalid; i++) {
		const struct batch_entry *e = &b->b_entries[b->b_order[i]];

		if (e->be_status == ENTRY_VALID)
			p->p_rows[n++] = &e->be_pos;
	}
	sink_run(p->p_rows, n);
}

static void
pipeline_written(struct pipeline *p, struct batch *b)
{
	double	now = ev_time();
	size_t	i;

	p->p_stats->ws_batches++;
	metrics_observe(&p->p_stats->ws_hist[HIST_WRITE_SECONDS],
	    HIST_WRITE_SECONDS, now - b->b_write_started);
	for (i = 0; i < b->b_nvalid; i++) {
		const struct batch_entry *e = &b->b_entries[b->b_order[i]];

		if (e->be_status == ENTRY_VALID)
			metrics_observe(&p->p_stats->ws_hist[HIST_E2E_SECONDS],
			    HIST_E2E_SECONDS, now - (double)e->be_id_ms / 1000.0);
	}
	pipeline_run_hooks(p, b);
	log_debug("batch committed: %llu inserted", (unsigned long long)b->b_inserted);
	queue_push(&p->p_settleq, queue_pop(&p->p_writeq));
}

static void
pipeline_retry_later(struct pipeline *p, double seconds)
{
	ev_timer_stop(p->p_loop, &p->p_retry);
	ev_timer_set(&p->p_retry, seconds, 0.);
	ev_timer_start(p->p_loop, &p->p_retry);
}

static void
pipeline_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	pipeline_pump(w->data);
}

/* One row PostgreSQL refuses: dead-letter it alone, keep its neighbours. */
static void
pipeline_reject_row(struct pipeline *p, struct batch *b, uint32_t idx,
    const char *sqlstate, const char *message)
{
	char	msg[600];

	snprintf(msg, sizeof(msg), "PostgreSQL rejected the row: %s (SQLSTATE %s)",
	    message, sqlstate ? sqlstate : "none");
	p->p_stats->ws_poison++;
	if (batch_poison(b, idx, DLQ_STAGE_WRITE, "rejected_by_postgres", msg) == -1)
		fatalx("out of memory recording a poison entry");
}

/*
 * A data error poisons the whole statement, not just the bad row: split the
 * range in halves until the offending rows stand alone.  Ranges that commit
 * stay committed; the entries are only ACKed when the whole batch settles.
 */
static void
pipeline_split(struct pipeline *p, struct batch *b, const char *sqlstate,
    const char *message)
{
	struct range	r = p->p_ranges[--p->p_nranges];
	uint32_t	mid;

	if (r.r_hi - r.r_lo == 1) {
		pipeline_reject_row(p, b, b->b_order[r.r_lo], sqlstate, message);
		return;
	}
	if (p->p_nranges + 2 > MAX_RANGES)
		fatalx("bisection stack overflow");
	mid = r.r_lo + (r.r_hi - r.r_lo) / 2;
	p->p_ranges[p->p_nranges++] = (struct range){ mid, r.r_hi };
	p->p_ranges[p->p_nranges++] = (struct range){ r.r_lo, mid };
}

static void
pipeline_write_done(void *arg, struct batch *b, enum write_result res,
    const char *sqlstate, const char *message)
{
	struct pipeline	*p = arg;
	uint64_t	 n;
	double		 delay;

	p->p_writing = 0;
	switch (res) {
	case WRITE_OK:
		n = p->p_ranges[p->p_nranges - 1].r_hi -
		    p->p_ranges[p->p_nranges - 1].r_lo;
		p->p_nranges--;
		p->p_stats->ws_inserted += b->b_inserted;
		p->p_stats->ws_duplicates += n - b->b_inserted;
		backoff_reset(&p->p_retry_backoff);
		if (p->p_nranges == 0)
			pipeline_written(p, b);
		pipeline_kick(p);
		break;
	case WRITE_DATA:
		log_warnx("batch write refused (%s: %s): isolating the bad rows",
		    sqlstate ? sqlstate : "-", message);
		pipeline_split(p, b, sqlstate, message);
		if (p->p_nranges == 0)
			pipeline_written(p, b);
		pipeline_kick(p);
		break;
	case WRITE_TRANSIENT:
		delay = backoff_next(&p->p_retry_backoff);
		log_warnx("batch write failed, will retry in %.1f s: %s%s%s",
		    delay, message, sqlstate ? " SQLSTATE " : "",
		    sqlstate ? sqlstate : "");
		pipeline_retry_later(p, delay);
		break;
	case WRITE_FATAL:
		log_error("batch write failed (%s: %s): check the schema and "
		    "permissions; retrying in %.0f s", sqlstate ? sqlstate : "-",
		    message, FATAL_RETRY_S);
		pipeline_retry_later(p, FATAL_RETRY_S);
		break;
	}
}

/* Valid entries of the range still to write (rejected rows drop out). */
static void
pipeline_submit(struct pipeline *p, struct batch *b)
{
	struct range	*r;

	if (p->p_nranges == 0) {	/* first attempt for this batch */
		p->p_ranges[0] = (struct range){ 0, (uint32_t)b->b_nvalid };
		p->p_nranges = 1;
		b->b_write_started = ev_time();
	}
	r = &p->p_ranges[p->p_nranges - 1];
	if (write_submit(p->p_write, b, b->b_order + r->r_lo, r->r_hi - r->r_lo) == 0)
		p->p_writing = 1;
}

static void
pipeline_pump_write(struct pipeline *p)
{
	struct batch	*b = p->p_writeq.q_head;

	if (b == NULL || p->p_writing || ev_is_active(&p->p_retry) ||
	    !write_is_up(p->p_write) || write_busy(p->p_write))
		return;
	pipeline_submit(p, b);
}

static void
pipeline_settled_cb(void *arg, struct batch *b, int err)
{
	struct pipeline	*p = arg;

	p->p_settling = 0;
	if (err) {
		pipeline_kick(p);	/* retried once Redis is back */
		return;
	}
	if (queue_pop(&p->p_settleq) != b)
		fatalx("settled a batch that is not at the head of the queue");
	pipeline_inflight(p, -1);
	pipeline_put_batch(p, b);
	pipeline_kick(p);
}

static void
pipeline_pump_settle(struct pipeline *p)
{
	struct batch	*b = p->p_settleq.q_head;

	if (b == NULL || p->p_settling || !consume_is_up(p->p_consume))
		return;
	if (consume_settle(p->p_consume, b) == 0)
		p->p_settling = 1;
}

static int
pipeline_may_read(const struct pipeline *p)
{
	if (p->p_paused || p->p_stopping || consume_reading(p->p_consume) ||
	    !consume_is_up(p->p_consume) || !write_is_up(p->p_write))
		return 0;
	if (p->p_inflight >= p->p_cf->cf_max_inflight)
		return 0;
	/* replaying our pending list would hand us what we still hold */
	return !(consume_in_history(p->p_consume) && p->p_inflight > 0);
}

static void
pipeline_pump_read(struct pipeline *p)
{
	struct batch	*b;

	if (!pipeline_may_read(p))
		return;
	if ((b = pipeline_get_batch(p)) == NULL) {
		log_warnx("out of memory allocating a batch; retrying");
		pipeline_retry_later(p, RETRY_MAX_S);
		return;
	}
	if (p->p_claim_due && !consume_in_history(p->p_consume)) {
		if (consume_claim(p->p_consume, b) == -1)
			pipeline_put_batch(p, b);
		else
			p->p_claiming = 1;
		return;
	}
	if (consume_read(p->p_consume, b) == -1)
		pipeline_put_batch(p, b);
}

static void
pipeline_claim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipeline	*p = w->data;

	(void)loop;
	(void)revents;
	p->p_claim_due = 1;
	pipeline_kick(p);
}

static void
pipeline_renew_queue(struct pipeline *p, const struct batch *b)
{
	for (; b != NULL; b = b->b_next)
		consume_renew(p->p_consume, b);
}

static void
pipeline_renew_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipeline	*p = w->data;

	(void)loop;
	(void)revents;
	pipeline_renew_queue(p, p->p_writeq.q_head);
	pipeline_renew_queue(p, p->p_settleq.q_head);
}

static void
pipeline_update_flags(struct pipeline *p)
{
	if (consume_is_up(p->p_consume) && write_is_up(p->p_write) &&
	    !p->p_paused && !p->p_stopping) {
		if (!(p->p_stats->ws_flags & WS_CONSUMING) && p->p_on_consuming)
			p->p_on_consuming(p->p_on_consuming_arg);
		p->p_stats->ws_flags |= WS_CONSUMING;
	} else
		p->p_stats->ws_flags &= ~(uint32_t)WS_CONSUMING;
	if (p->p_paused || p->p_stopping)
		p->p_stats->ws_flags |= WS_DRAINING;
	else
		p->p_stats->ws_flags &= ~(uint32_t)WS_DRAINING;
}

static void
pipeline_pump(struct pipeline *p)
{
	pipeline_update_flags(p);
	pipeline_pump_write(p);
	pipeline_pump_settle(p);
	pipeline_pump_read(p);
	if (p->p_stopping && p->p_inflight == 0 &&
	    !consume_reading(p->p_consume) && p->p_done != NULL) {
		void (*done)(void *) = p->p_done;

		p->p_done = NULL;
		done(p->p_done_arg);
	}
}

static void
pipeline_up_cb(void *arg)
{
	pipeline_kick(arg);
}

static const struct consume_cb pipeline_consume_cb = {
	.cc_ready = pipeline_up_cb,
	.cc_down = pipeline_up_cb,
	.cc_batch = pipeline_read_cb,
	.cc_settled = pipeline_settled_cb,
};

/* The freshest stored fix of a device this worker had not seen. */
static void
pipeline_rehydrate(void *arg, const struct position *pos)
{
	struct pipeline	*p = arg;

	if (state_seed(p->p_state, pos) != NULL)
		p->p_stats->ws_rehydrated++;
}

static const struct write_cb pipeline_write_cb = {
	.wc_up = pipeline_up_cb,
	.wc_down = pipeline_up_cb,
	.wc_done = pipeline_write_done,
	.wc_rehydrate = pipeline_rehydrate,
};

struct pipeline *
pipeline_new(struct ev_loop *loop, const struct config *cf,
    const char *consumer, struct worker_stats *stats)
{
	struct pipeline	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->p_loop = loop;
	p->p_cf = cf;
	p->p_stats = stats;
	p->p_limits.cl_max_payload = cf->cf_max_payload;
	p->p_limits.cl_max_depth = 64;
	backoff_init(&p->p_retry_backoff, RETRY_MIN_S, RETRY_MAX_S);
	ev_timer_init(&p->p_retry, pipeline_retry_cb, 0., 0.);
	p->p_retry.data = p;
	ev_idle_init(&p->p_kick, pipeline_kick_cb);
	p->p_kick.data = p;
	ev_timer_init(&p->p_claim, pipeline_claim_cb, 0.,
	    cf->cf_claim_interval_ms / 1000.0);
	p->p_claim.data = p;
	ev_timer_init(&p->p_renew, pipeline_renew_cb, 0.,
	    cf->cf_claim_idle_ms / 3000.0);
	p->p_renew.data = p;
	p->p_claim_due = 1;	/* a dead consumer's work is claimed at start too */
	p->p_state = state_new((size_t)cf->cf_max_devices);
	p->p_consume = consume_new(loop, cf, consumer, &pipeline_consume_cb, p,
	    stats);
	p->p_write = write_new(loop, cf, &pipeline_write_cb, p, stats);
	if (p->p_state == NULL || p->p_consume == NULL || p->p_write == NULL) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

static void
pipeline_free_queue(struct batch *b)
{
	struct batch	*next;

	for (; b != NULL; b = next) {
		next = b->b_next;
		batch_free(b);
	}
}

void
pipeline_free(struct pipeline *p)
{
	if (p == NULL)
		return;
	consume_free(p->p_consume);	/* fails an outstanding read: batch to pool */
	write_free(p->p_write);
	ev_timer_stop(p->p_loop, &p->p_retry);
	ev_timer_stop(p->p_loop, &p->p_claim);
	ev_timer_stop(p->p_loop, &p->p_renew);
	ev_idle_stop(p->p_loop, &p->p_kick);	/* after the callbacks above */
	pipeline_free_queue(p->p_pool);
	pipeline_free_queue(p->p_writeq.q_head);
	pipeline_free_queue(p->p_settleq.q_head);
	if (p->p_state != NULL)
		state_free(p->p_state);
	free(p->p_rows);
	free(p);
}

void
pipeline_start(struct pipeline *p)
{
	ev_timer_again(p->p_loop, &p->p_claim);
	ev_timer_again(p->p_loop, &p->p_renew);
	write_start(p->p_write);
	consume_start(p->p_consume);
}

void
pipeline_pause(struct pipeline *p, int on)
{
	p->p_paused = on;
	pipeline_kick(p);
}

void
pipeline_stop(struct pipeline *p, void (*done)(void *), void *arg)
{
	p->p_stopping = 1;
	p->p_done = done;
	p->p_done_arg = arg;
	pipeline_pump(p);
}

unsigned long
pipeline_inflight_entries(const struct pipeline *p)
{
	const struct batch	*b;
	unsigned long		 n = 0;

	for (b = p->p_writeq.q_head; b != NULL; b = b->b_next)
		n += b->b_n;
	for (b = p->p_settleq.q_head; b != NULL; b = b->b_next)
		n += b->b_n;
	return n;
}

/* Tell whoever asked for pipeline_claim_now how the sweep went. */
static void
pipeline_claim_report(struct pipeline *p, int ok)
{
	void	(*done)(void *, int, unsigned long long) = p->p_claim_done;

	if (done == NULL)
		return;
	p->p_claim_done = NULL;
	done(p->p_claim_done_arg, ok,
	    (unsigned long long)(p->p_stats->ws_claimed - p->p_claim_base));
}

const struct device_state *
pipeline_device(struct pipeline *p, const char *device)
{
	return state_lookup(p->p_state, device);
}

void
pipeline_claim_now(struct pipeline *p, int idle_ms,
    void (*done)(void *, int, unsigned long long), void *arg)
{
	pipeline_claim_report(p, 1);
	p->p_claim_done = done;
	p->p_claim_done_arg = arg;
	p->p_claim_base = p->p_stats->ws_claimed;
	consume_claim_idle(p->p_consume, idle_ms);
	p->p_claim_due = 1;
	pipeline_kick(p);
}

void
pipeline_on_consuming(struct pipeline *p, void (*fn)(void *), void *arg)
{
	p->p_on_consuming = fn;
	p->p_on_consuming_arg = arg;
}
