/* The data path of one worker: read -> decode -> state -> write -> hooks -> settle. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "conf/config.h"
#include "util/backoff.h"
#include "core/batch.h"
#include "codec/codec.h"
#include "core/consume.h"
#include "core/pipeline.h"
#include "core/sink.h"
#include "core/state.h"
#include "core/write.h"
#include "util/crash.h"
#include "util/fault.h"
#include "util/log.h"
#include "wire/metrics.h"

#define RETRY_MIN_S	0.1
#define RETRY_MAX_S	5.0
#define CIRCUIT_MIN_S	1.0	/* first retry of an open write circuit */
#define CIRCUIT_MAX_S	30.0
#define MAX_RANGES	96	/* bisection stack: 2 * log2(batch) is plenty */
/*
 * A pooled batch keeps buffers up to this capacity: steady traffic
 * (batch_size entries of a few KiB) fits and never reallocates; a buffer
 * grown past it by a read of big entries goes back to the allocator when
 * its batch is recycled, instead of staying with the worker for good.
 */
#define BATCH_KEEP_BYTES	(4u * 1024 * 1024)

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
 * pl_inflight counts the batches in the two queues; reading stops at
 * max_inflight, which bounds memory when PostgreSQL is slow.
 */
struct pipeline {
	struct ev_loop		*pl_loop;
	const struct config	*pl_cf;
	struct worker_stats	*pl_stats;
	struct consume		*pl_consume;
	struct write		*pl_write;
	struct state		*pl_state;
	struct codec_limits	 pl_limits;
	struct batch		*pl_pool;
	struct queue		 pl_writeq;
	struct queue		 pl_settleq;
	int			 pl_settling;
	int			 pl_inflight;
	int			 pl_paused;
	int			 pl_stopping;
	void			(*pl_done)(void *);
	void			*pl_done_arg;
	struct range		 pl_ranges[MAX_RANGES];
	int			 pl_nranges;
	int			 pl_writing;	/* a write_submit is outstanding */
	struct backoff		 pl_retry_backoff;
	struct backoff		 pl_circuit_backoff;
	int			 pl_failed_rows;	/* consecutive, since a write succeeded */
	int			 pl_circuit;	/* open: not reading, retrying the head */
	ev_timer		 pl_retry;
	struct backoff		 pl_settle_backoff;
	ev_timer		 pl_settle_retry;	/* a failed settle waits here */
	ev_idle			 pl_kick;	/* run pipeline_pump outside callbacks */
	ev_timer		 pl_claim;	/* XAUTOCLAIM sweep every claim_interval */
	ev_timer		 pl_renew;	/* lease renewal of held entries */
	int			 pl_claim_due;
	int			 pl_claiming;
	void			(*pl_claim_done)(void *, int, unsigned long long);
	void			*pl_claim_done_arg;
	uint64_t		 pl_claim_base;	/* ws_claimed at pipeline_claim_now */
	void			(*pl_on_consuming)(void *);
	void			*pl_on_consuming_arg;
	const struct position	**pl_rows;	/* hook argument, reused */
	size_t			 pl_rowscap;
};

static void	pipeline_pump(struct pipeline *);
static const char *pipeline_write_fields(struct log_fields *,
		    const struct batch *, const char *);
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
	struct batch	*b = p->pl_pool;

	if (b != NULL) {
		p->pl_pool = b->b_next;
		batch_reset(b);
		return b;
	}
	return batch_new();
}

static size_t
pipeline_queue_bytes(const struct batch *b)
{
	size_t	n = 0;

	for (; b != NULL; b = b->b_next)
		n += batch_bytes(b);
	return n;
}

/*
 * The batch_bytes gauge, taken when a batch enters a queue or the pool: a
 * batch being read is counted with what it held in the pool until then.
 */
static void
pipeline_account(struct pipeline *p)
{
	p->pl_stats->ws_batch_bytes = pipeline_queue_bytes(p->pl_pool) +
	    pipeline_queue_bytes(p->pl_writeq.q_head) +
	    pipeline_queue_bytes(p->pl_settleq.q_head);
}

static void
pipeline_put_batch(struct pipeline *p, struct batch *b)
{
	batch_recycle(b, BATCH_KEEP_BYTES);
	b->b_next = p->pl_pool;
	p->pl_pool = b;
	pipeline_account(p);
}

static void
pipeline_kick(struct pipeline *p)
{
	ev_idle_start(p->pl_loop, &p->pl_kick);
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
	if (codec_decode(batch_payload(b, i), e->be_payload_len, &p->pl_limits,
	    &e->be_pos, &b->b_attrs, &err) == 0) {
		e->be_status = ENTRY_VALID;
		/* once updated the device is known, so each cold device is listed once */
		if (state_update(p->pl_state, &e->be_pos, now_us, &inserted) != NULL &&
		    inserted && batch_add_cold(b, e->be_pos.p_device) == -1)
			fatalx("out of memory listing cold devices");
		return;
	}
	if (err.ce_reason == CODEC_NO_MEMORY)	/* says nothing about the record */
		fatalx("out of memory decoding entry %s", batch_id(b, i));
	p->pl_stats->ws_poison++;
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
	    e->be_deliveries <= (uint32_t)p->pl_cf->cf_max_deliveries)
		return;
	snprintf(msg, sizeof(msg), "delivered %u times (max_deliveries %d): "
	    "dead-lettered without decoding", e->be_deliveries,
	    p->pl_cf->cf_max_deliveries);
	p->pl_stats->ws_delivery_limit++;
	if (batch_poison(b, i, DLQ_STAGE_DELIVERY_LIMIT, "delivery_limit", msg) == -1)
		fatalx("out of memory recording a poison entry");
}

static void
pipeline_decode(struct pipeline *p, struct batch *b)
{
	int64_t	now_us = (int64_t)(ev_now(p->pl_loop) * 1e6);
	size_t	i;

	p->pl_limits.cl_now_us = (int64_t)(ev_time() * 1e6);

	for (i = 0; i < b->b_n; i++) {
		if (b->b_entries[i].be_status == ENTRY_POISON)
			p->pl_stats->ws_poison++;	/* e.g. no payload field */
		pipeline_delivery_limit(p, b, i);
		crash_set_entry(batch_id(b, i));
		pipeline_decode_entry(p, b, i, now_us);
	}
	crash_set_entry(NULL);
	batch_fix_attrs(b);
	if (batch_decode_io(b) == -1)
		fatalx("out of memory decoding IO");
	batch_sort_valid(b);
	p->pl_stats->ws_devices = state_count(p->pl_state);
	p->pl_stats->ws_evictions = state_evictions(p->pl_state);
}

static void
pipeline_inflight(struct pipeline *p, int delta)
{
	p->pl_inflight += delta;
	p->pl_stats->ws_inflight = (uint64_t)p->pl_inflight;
}

static void
pipeline_read_cb(void *arg, struct batch *b, int err)
{
	struct pipeline	*p = arg;

	if (p->pl_claiming) {
		p->pl_claiming = 0;
		if (err || consume_claim_finished(p->pl_consume)) {
			p->pl_claim_due = 0;	/* sweep over; the timer starts the next */
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
	metrics_observe(&p->pl_stats->ws_hist[HIST_BATCH_SIZE], HIST_BATCH_SIZE,
	    (double)b->b_n);
	pipeline_inflight(p, 1);
	if (b->b_nvalid > 0) {
		queue_push(&p->pl_writeq, b);
	} else
		queue_push(&p->pl_settleq, b);
	pipeline_account(p);
	pipeline_kick(p);
}

static void
pipeline_run_hooks(struct pipeline *p, struct batch *b)
{
	size_t	i, n = 0;

	if (sink_count() == 0)
		return;
	if (p->pl_rowscap < b->b_n) {
		const struct position **r = realloc(p->pl_rows,
		    b->b_n * sizeof(*r));

		if (r == NULL)
			fatalx("out of memory running hooks");
		p->pl_rows = r;
		p->pl_rowscap = b->b_n;
	}
	for (i = 0; i < b->b_nvalid; i++) {
		const struct batch_entry *e = &b->b_entries[b->b_order[i]];

		if (e->be_status == ENTRY_VALID)
			p->pl_rows[n++] = &e->be_pos;
	}
	sink_run(p->pl_rows, n);
}

static void
pipeline_written(struct pipeline *p, struct batch *b)
{
	double	now = ev_time();
	size_t	i;

	p->pl_stats->ws_batches++;
	metrics_observe(&p->pl_stats->ws_hist[HIST_WRITE_SECONDS],
	    HIST_WRITE_SECONDS, now - b->b_write_started);
	for (i = 0; i < b->b_nvalid; i++) {
		const struct batch_entry *e = &b->b_entries[b->b_order[i]];

		if (e->be_status == ENTRY_VALID)
			metrics_observe(&p->pl_stats->ws_hist[HIST_E2E_SECONDS],
			    HIST_E2E_SECONDS, now - (double)e->be_id_ms / 1000.0);
	}
	pipeline_run_hooks(p, b);
	if (log_getlevel() <= LOG_LVL_DEBUG) {
		struct log_fields	f;

		log_fields_init(&f);
		log_fields_int(&f, "batch_size", (long long)b->b_n);
		log_fields_int(&f, "inserted", (long long)b->b_inserted);
		log_fields_num(&f, "duration_s", now - b->b_write_started);
		log_emit(LOG_LVL_DEBUG, log_fields_get(&f), "batch committed");
	}
	queue_push(&p->pl_settleq, queue_pop(&p->pl_writeq));
}

static void
pipeline_retry_later(struct pipeline *p, double seconds)
{
	ev_timer_stop(p->pl_loop, &p->pl_retry);
	ev_timer_set(&p->pl_retry, seconds, 0.);
	ev_timer_start(p->pl_loop, &p->pl_retry);
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
	p->pl_stats->ws_poison++;
	if (batch_poison(b, idx, DLQ_STAGE_WRITE, "rejected_by_postgres", msg) == -1)
		fatalx("out of memory recording a poison entry");
	snprintf(b->b_entries[idx].be_sqlstate, sizeof(b->b_entries[idx].be_sqlstate),
	    "%s", sqlstate ? sqlstate : "");
}

/*
 * Errors that no single row can cause (a table or column gone, a privilege
 * revoked, the database away): splitting the batch would only push every
 * row into the DLQ.
 */
static int
pipeline_statement_error(const char *sqlstate)
{
	static const char *const states[] = {
		"42P01",	/* undefined_table */
		"42703",	/* undefined_column */
		"42501",	/* insufficient_privilege */
		"42883",	/* undefined_function (the sink SQL's) */
		"3D000",	/* invalid_catalog_name */
		"3F000",	/* invalid_schema_name */
		"25006",	/* read_only_sql_transaction */
	};
	size_t	i;

	if (sqlstate == NULL)
		return 0;
	if (strncmp(sqlstate, "28", 2) == 0)	/* authorization */
		return 1;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(sqlstate, states[i]) == 0)
			return 1;
	return 0;
}

/*
 * The write circuit breaker.  A row that fails alone is dead-lettered, but
 * when circuit_failures rows in a row fail (a trigger or a constraint that
 * now refuses every row, a table gone) the fault is the schema, not the
 * data: stop reading, say so on /readyz, and retry the rows still held with
 * backoff until a write succeeds, rather than empty the stream into the DLQ.
 */
static void
pipeline_circuit_open(struct pipeline *p, struct batch *b,
    const char *sqlstate, const char *message)
{
	struct log_fields	f;

	if (!p->pl_circuit) {
		p->pl_circuit = 1;
		p->pl_stats->ws_circuit_trips++;
		p->pl_stats->ws_flags |= WS_CIRCUIT_OPEN;
		backoff_reset(&p->pl_circuit_backoff);
		pipeline_write_fields(&f, b, sqlstate);
		log_fields_int(&f, "failed_rows", p->pl_failed_rows);
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "write circuit open "
		    "(%s: %s): consuming paused, retrying with backoff until "
		    "a write succeeds; check the schema, triggers and "
		    "permissions", sqlstate ? sqlstate : "-", message);
	}
	pipeline_retry_later(p, backoff_next(&p->pl_circuit_backoff));
}

static void
pipeline_circuit_close(struct pipeline *p)
{
	p->pl_failed_rows = 0;
	if (!p->pl_circuit)
		return;
	p->pl_circuit = 0;
	p->pl_stats->ws_flags &= ~(uint32_t)WS_CIRCUIT_OPEN;
	log_info("write circuit closed: a write succeeded; consuming again");
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
	struct range	r = p->pl_ranges[--p->pl_nranges];
	uint32_t	mid;

	if (r.r_hi - r.r_lo == 1) {
		if (p->pl_failed_rows >= p->pl_cf->cf_circuit_failures) {
			p->pl_nranges++;	/* keep the row: retried later */
			pipeline_circuit_open(p, b, sqlstate, message);
			return;
		}
		p->pl_failed_rows++;
		pipeline_reject_row(p, b, b->b_order[r.r_lo], sqlstate, message);
		return;
	}
	if (p->pl_nranges + 2 > MAX_RANGES)
		fatalx("bisection stack overflow");
	mid = r.r_lo + (r.r_hi - r.r_lo) / 2;
	p->pl_ranges[p->pl_nranges++] = (struct range){ mid, r.r_hi };
	p->pl_ranges[p->pl_nranges++] = (struct range){ r.r_lo, mid };
}

/* The fields of a write failure's log line: first entry, size, SQLSTATE. */
static const char *
pipeline_write_fields(struct log_fields *f, const struct batch *b,
    const char *sqlstate)
{
	log_fields_init(f);
	if (b->b_n > 0)
		log_fields_str(f, "entry", batch_id(b, 0));
	log_fields_int(f, "batch_size", (long long)b->b_n);
	if (sqlstate != NULL)
		log_fields_str(f, "sqlstate", sqlstate);
	log_fields_num(f, "duration_s", ev_time() - b->b_write_started);
	return log_fields_get(f);
}

static void
pipeline_write_done(void *arg, struct batch *b, enum write_result res,
    const char *sqlstate, const char *message)
{
	struct pipeline		*p = arg;
	struct log_fields	 f;
	uint64_t		 n;
	double			 delay;

	p->pl_writing = 0;
	switch (res) {
	case WRITE_OK:
		n = p->pl_ranges[p->pl_nranges - 1].r_hi -
		    p->pl_ranges[p->pl_nranges - 1].r_lo;
		p->pl_nranges--;
		p->pl_stats->ws_inserted += b->b_inserted;
		p->pl_stats->ws_duplicates += n - b->b_inserted - b->b_conflicts;
		backoff_reset(&p->pl_retry_backoff);
		pipeline_circuit_close(p);
		if (p->pl_nranges == 0)
			pipeline_written(p, b);
		pipeline_kick(p);
		break;
	case WRITE_DATA:
	case WRITE_FATAL:
		/*
		 * A trigger raising (P0001) or another non-data error may
		 * still be one row's doing: isolate it like a data error.
		 */
		if (p->pl_circuit) {
			log_emit(LOG_LVL_WARN, pipeline_write_fields(&f, b, sqlstate),
			    "write circuit still open (%s: %s)",
			    sqlstate ? sqlstate : "-", message);
			pipeline_circuit_open(p, b, sqlstate, message);
			break;
		}
		if (pipeline_statement_error(sqlstate)) {
			pipeline_circuit_open(p, b, sqlstate, message);
			break;
		}
		log_emit(LOG_LVL_WARN, pipeline_write_fields(&f, b, sqlstate),
		    "batch write refused (%s: %s): isolating the bad rows",
		    sqlstate ? sqlstate : "-", message);
		pipeline_split(p, b, sqlstate, message);
		if (p->pl_nranges == 0)
			pipeline_written(p, b);
		pipeline_kick(p);
		break;
	case WRITE_TRANSIENT:
		delay = backoff_next(&p->pl_retry_backoff);
		log_emit(LOG_LVL_WARN, pipeline_write_fields(&f, b, sqlstate),
		    "batch write failed, will retry in %.1f s: %s%s%s",
		    delay, message, sqlstate ? " SQLSTATE " : "",
		    sqlstate ? sqlstate : "");
		pipeline_retry_later(p, delay);
		break;
	}
}

/* Valid entries of the range still to write (rejected rows drop out). */
static void
pipeline_submit(struct pipeline *p, struct batch *b)
{
	struct range	*r;

	if (p->pl_nranges == 0) {	/* first attempt for this batch */
		p->pl_ranges[0] = (struct range){ 0, (uint32_t)b->b_nvalid };
		p->pl_nranges = 1;
		b->b_write_started = ev_time();
	}
	r = &p->pl_ranges[p->pl_nranges - 1];
	if (write_submit(p->pl_write, b, b->b_order + r->r_lo, r->r_hi - r->r_lo) == 0)
		p->pl_writing = 1;
}

static void
pipeline_pump_write(struct pipeline *p)
{
	struct batch	*b = p->pl_writeq.q_head;

	if (b == NULL || p->pl_writing || ev_is_active(&p->pl_retry) ||
	    !write_is_up(p->pl_write) || write_busy(p->pl_write))
		return;
	pipeline_submit(p, b);
}

/*
 * A settle that fails (Redis away, out of memory, a DLQ key of another type)
 * keeps its batch at the head of the settle queue: nothing after it is ACKed
 * out of order.  Retry with backoff, never at once: a Redis that refuses
 * every write would otherwise spin the worker and flood the log.
 */
static void
pipeline_settle_failed(struct pipeline *p)
{
	struct log_fields	f;
	double			delay;

	p->pl_stats->ws_settle_errors++;
	delay = backoff_next(&p->pl_settle_backoff);
	if (!(p->pl_stats->ws_flags & WS_SETTLE_FAILING)) {
		log_fields_init(&f);
		log_fields_int(&f, "settle_errors",
		    (long long)p->pl_stats->ws_settle_errors);
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "cannot settle a "
		    "batch; retrying with backoff, not ready until it settles");
	}
	p->pl_stats->ws_flags |= WS_SETTLE_FAILING;
	ev_timer_stop(p->pl_loop, &p->pl_settle_retry);
	ev_timer_set(&p->pl_settle_retry, delay, 0.);
	ev_timer_start(p->pl_loop, &p->pl_settle_retry);
}

static void
pipeline_settled_cb(void *arg, struct batch *b, int err)
{
	struct pipeline	*p = arg;

	p->pl_settling = 0;
	if (err) {
		if (consume_is_up(p->pl_consume))
			pipeline_settle_failed(p);
		pipeline_kick(p);	/* or retried once Redis is back */
		return;
	}
	if (p->pl_stats->ws_flags & WS_SETTLE_FAILING)
		log_info("settling works again after %llu failed attempts",
		    (unsigned long long)p->pl_stats->ws_settle_errors);
	p->pl_stats->ws_flags &= ~(uint32_t)WS_SETTLE_FAILING;
	backoff_reset(&p->pl_settle_backoff);
	if (queue_pop(&p->pl_settleq) != b)
		fatalx("settled a batch that is not at the head of the queue");
	pipeline_inflight(p, -1);
	pipeline_put_batch(p, b);
	pipeline_kick(p);
}

static void
pipeline_pump_settle(struct pipeline *p)
{
	struct batch	*b = p->pl_settleq.q_head;

	if (b == NULL || p->pl_settling || !consume_is_up(p->pl_consume) ||
	    ev_is_active(&p->pl_settle_retry))
		return;
	if (consume_settle(p->pl_consume, b) == 0)
		p->pl_settling = 1;
	else
		pipeline_settle_failed(p);
}

static int
pipeline_may_read(const struct pipeline *p)
{
	if (p->pl_paused || p->pl_stopping || p->pl_circuit ||
	    consume_reading(p->pl_consume) ||
	    !consume_is_up(p->pl_consume) || !write_is_up(p->pl_write))
		return 0;
	if (p->pl_inflight >= p->pl_cf->cf_max_inflight)
		return 0;
	/* replaying our pending list would hand us what we still hold */
	return !(consume_in_history(p->pl_consume) && p->pl_inflight > 0);
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
	if (p->pl_claim_due && !consume_in_history(p->pl_consume)) {
		if (consume_claim(p->pl_consume, b) == -1)
			pipeline_put_batch(p, b);
		else
			p->pl_claiming = 1;
		return;
	}
	if (consume_read(p->pl_consume, b) == -1)
		pipeline_put_batch(p, b);
}

static void
pipeline_claim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipeline	*p = w->data;

	(void)loop;
	(void)revents;
	p->pl_claim_due = 1;
	pipeline_kick(p);
}

static void
pipeline_renew_queue(struct pipeline *p, const struct batch *b)
{
	for (; b != NULL; b = b->b_next)
		consume_renew(p->pl_consume, b);
}

static void
pipeline_renew_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipeline	*p = w->data;

	(void)loop;
	(void)revents;
	pipeline_renew_queue(p, p->pl_writeq.q_head);
	pipeline_renew_queue(p, p->pl_settleq.q_head);
}

static void
pipeline_update_flags(struct pipeline *p)
{
	if (consume_is_up(p->pl_consume) && write_is_up(p->pl_write) &&
	    !p->pl_paused && !p->pl_stopping) {
		if (!(p->pl_stats->ws_flags & WS_CONSUMING) && p->pl_on_consuming)
			p->pl_on_consuming(p->pl_on_consuming_arg);
		p->pl_stats->ws_flags |= WS_CONSUMING;
	} else
		p->pl_stats->ws_flags &= ~(uint32_t)WS_CONSUMING;
	if (p->pl_paused || p->pl_stopping)
		p->pl_stats->ws_flags |= WS_DRAINING;
	else
		p->pl_stats->ws_flags &= ~(uint32_t)WS_DRAINING;
}

static void
pipeline_pump(struct pipeline *p)
{
	pipeline_update_flags(p);
	pipeline_pump_write(p);
	pipeline_pump_settle(p);
	pipeline_pump_read(p);
	if (p->pl_stopping && p->pl_inflight == 0 &&
	    !consume_reading(p->pl_consume) && p->pl_done != NULL) {
		void (*done)(void *) = p->pl_done;

		p->pl_done = NULL;
		done(p->pl_done_arg);
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

	if (state_seed(p->pl_state, pos) != NULL)
		p->pl_stats->ws_rehydrated++;
}

/*
 * The same key stored with other content: first wins, the later record is
 * not a duplicate.  Count and log it, and dead-letter it when asked to.
 */
static void
pipeline_conflict(void *arg, struct batch *b, uint32_t i)
{
	struct pipeline		*p = arg;
	const struct position	*pos = &b->b_entries[i].be_pos;
	struct log_fields	 f;
	char			 msg[200];

	p->pl_stats->ws_dup_conflicts++;
	log_fields_init(&f);
	log_fields_str(&f, "entry", batch_id(b, i));
	log_fields_str(&f, "device", pos->p_device);
	log_fields_int(&f, "ts", (long long)pos->p_ts_us);
	log_fields_str(&f, "reason", "duplicate_conflict");
	log_emit(LOG_LVL_WARN, log_fields_get(&f), "key (device_id, ts) already "
	    "stored with other content; the stored row is kept%s",
	    p->pl_cf->cf_dead_letter_conflicts ? ", this record dead-lettered" : "");
	if (!p->pl_cf->cf_dead_letter_conflicts)
		return;
	snprintf(msg, sizeof(msg), "key (%s, %lld) already stored with other "
	    "content (first wins)", pos->p_device, (long long)pos->p_ts_us);
	if (batch_poison(b, i, DLQ_STAGE_WRITE, "duplicate_conflict", msg) == -1)
		fatalx("out of memory recording a poison entry");
}

static const struct write_cb pipeline_write_cb = {
	.wc_up = pipeline_up_cb,
	.wc_down = pipeline_up_cb,
	.wc_done = pipeline_write_done,
	.wc_rehydrate = pipeline_rehydrate,
	.wc_conflict = pipeline_conflict,
};

struct pipeline *
pipeline_new(struct ev_loop *loop, const struct config *cf,
    const char *consumer, struct worker_stats *stats)
{
	struct pipeline	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pl_loop = loop;
	p->pl_cf = cf;
	p->pl_stats = stats;
	p->pl_limits.cl_max_payload = cf->cf_max_payload;
	p->pl_limits.cl_max_depth = 64;
	p->pl_limits.cl_max_future_us = (int64_t)cf->cf_max_future_ms * 1000;
	p->pl_limits.cl_max_past_us = (int64_t)cf->cf_max_past_days * 86400000000LL;
	backoff_init(&p->pl_retry_backoff, RETRY_MIN_S, RETRY_MAX_S);
	backoff_init(&p->pl_circuit_backoff, CIRCUIT_MIN_S, CIRCUIT_MAX_S);
	ev_timer_init(&p->pl_retry, pipeline_retry_cb, 0., 0.);
	p->pl_retry.data = p;
	backoff_init(&p->pl_settle_backoff, RETRY_MIN_S, RETRY_MAX_S);
	ev_timer_init(&p->pl_settle_retry, pipeline_retry_cb, 0., 0.);
	p->pl_settle_retry.data = p;
	ev_idle_init(&p->pl_kick, pipeline_kick_cb);
	p->pl_kick.data = p;
	ev_timer_init(&p->pl_claim, pipeline_claim_cb, 0.,
	    cf->cf_claim_interval_ms / 1000.0);
	p->pl_claim.data = p;
	ev_timer_init(&p->pl_renew, pipeline_renew_cb, 0.,
	    cf->cf_claim_idle_ms / 3000.0);
	p->pl_renew.data = p;
	p->pl_claim_due = 1;	/* a dead consumer's work is claimed at start too */
	p->pl_state = state_new((size_t)cf->cf_max_devices);
	p->pl_consume = consume_new(loop, cf, consumer, &pipeline_consume_cb, p,
	    stats);
	p->pl_write = write_new(loop, cf, &pipeline_write_cb, p, stats);
	if (p->pl_state == NULL || p->pl_consume == NULL || p->pl_write == NULL) {
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
	consume_free(p->pl_consume);	/* fails an outstanding read: batch to pool */
	write_free(p->pl_write);
	ev_timer_stop(p->pl_loop, &p->pl_retry);
	ev_timer_stop(p->pl_loop, &p->pl_settle_retry);
	ev_timer_stop(p->pl_loop, &p->pl_claim);
	ev_timer_stop(p->pl_loop, &p->pl_renew);
	ev_idle_stop(p->pl_loop, &p->pl_kick);	/* after the callbacks above */
	pipeline_free_queue(p->pl_pool);
	pipeline_free_queue(p->pl_writeq.q_head);
	pipeline_free_queue(p->pl_settleq.q_head);
	if (p->pl_state != NULL)
		state_free(p->pl_state);
	free(p->pl_rows);
	free(p);
}

void
pipeline_start(struct pipeline *p)
{
	ev_timer_again(p->pl_loop, &p->pl_claim);
	ev_timer_again(p->pl_loop, &p->pl_renew);
	write_start(p->pl_write);
	consume_start(p->pl_consume);
}

void
pipeline_pause(struct pipeline *p, int on)
{
	p->pl_paused = on;
	pipeline_kick(p);
}

void
pipeline_stop(struct pipeline *p, void (*done)(void *), void *arg)
{
	p->pl_stopping = 1;
	p->pl_done = done;
	p->pl_done_arg = arg;
	consume_interrupt(p->pl_consume);	/* no waiting out BLOCK */
	pipeline_pump(p);
}

unsigned long
pipeline_inflight_entries(const struct pipeline *p)
{
	const struct batch	*b;
	unsigned long		 n = 0;

	for (b = p->pl_writeq.q_head; b != NULL; b = b->b_next)
		n += b->b_n;
	for (b = p->pl_settleq.q_head; b != NULL; b = b->b_next)
		n += b->b_n;
	return n;
}

/* Tell whoever asked for pipeline_claim_now how the sweep went. */
static void
pipeline_claim_report(struct pipeline *p, int ok)
{
	void	(*done)(void *, int, unsigned long long) = p->pl_claim_done;

	if (done == NULL)
		return;
	p->pl_claim_done = NULL;
	done(p->pl_claim_done_arg, ok,
	    (unsigned long long)(p->pl_stats->ws_claimed - p->pl_claim_base));
}

const struct device_state *
pipeline_device(struct pipeline *p, const char *device)
{
	return state_lookup(p->pl_state, device);
}

void
pipeline_claim_now(struct pipeline *p, int idle_ms,
    void (*done)(void *, int, unsigned long long), void *arg)
{
	pipeline_claim_report(p, 1);
	p->pl_claim_done = done;
	p->pl_claim_done_arg = arg;
	p->pl_claim_base = p->pl_stats->ws_claimed;
	consume_claim_idle(p->pl_consume, idle_ms);
	p->pl_claim_due = 1;
	pipeline_kick(p);
}

void
pipeline_on_consuming(struct pipeline *p, void (*fn)(void *), void *arg)
{
	p->pl_on_consuming = fn;
	p->pl_on_consuming_arg = arg;
}
