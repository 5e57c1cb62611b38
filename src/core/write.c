/* PostgreSQL writer: libpq non-blocking on the worker's loop, binary COPY per batch. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>
#include <libpq-fe.h>

#include "util/buf.h"
#include "conf/config.h"
#include "util/backoff.h"
#include "core/batch.h"
#include "core/sink.h"
#include "core/write.h"
#include "util/log.h"
#include "wire/metrics.h"

#define RECONNECT_MIN_S		0.1
#define RECONNECT_MAX_S		5.0
#define CONNECT_TIMEOUT_S	10.0
#define GUARD_MARGIN_S		10.0	/* beyond statement_timeout */
#define PG_EPOCH_OFFSET_US	946684800000000LL	/* 2000-01-01 - 1970-01-01 */

#define POSITION_COLUMNS "device_id, ts, latitude, longitude, altitude, " \
	"angle, satellites, speed, priority, event_io_id, attributes, decoded"
#define POSITION_NCOLS	12

/*
 * The INSERT as a data-modifying CTE: first wins, as ever, but the staged
 * rows that were not inserted are compared with the stored ones, so the
 * same key arriving with other content is not counted as a duplicate in
 * silence.  The anti-join against ins keeps the inserted rows out and the
 * LIMIT keeps the lateral an index probe per remaining row: with no
 * duplicates nothing is probed.  The main query's snapshot predates the
 * INSERT, so it sees only rows that were stored before.  One result: a
 * first row with the inserted count, then one row per mismatching key.
 */
#define WRITE_CMP_COLUMNS(t) t "latitude, " t "longitude, " t "altitude, " \
	t "angle, " t "satellites, " t "speed, " t "priority, " t "event_io_id, " \
	t "attributes"
#define WRITE_INSERT_SQL \
	"WITH ins AS (INSERT INTO positions (" POSITION_COLUMNS ") " \
	"SELECT " POSITION_COLUMNS " FROM pg_temp.positions_stage " \
	"ON CONFLICT (device_id, ts) DO NOTHING RETURNING device_id, ts) " \
	"SELECT count(*)::int8 AS processor_inserted, NULL::text, NULL::int8 " \
	"FROM ins UNION ALL " \
	"SELECT NULL, s.device_id, (extract(epoch FROM s.ts) * 1000000)::int8 " \
	"FROM pg_temp.positions_stage s CROSS JOIN LATERAL " \
	"(SELECT " WRITE_CMP_COLUMNS("p.") " FROM positions p " \
	"WHERE p.device_id = s.device_id AND p.ts = s.ts LIMIT 1) p " \
	"WHERE NOT EXISTS (SELECT 1 FROM ins " \
	"WHERE ins.device_id = s.device_id AND ins.ts = s.ts) " \
	"AND (" WRITE_CMP_COLUMNS("p.") ") IS DISTINCT FROM " \
	"(" WRITE_CMP_COLUMNS("s.") ")"

/*
 * The INSERT is prepared once per session (write_send_setup) rather than
 * parsed and planned (a CTE, an anti-join, a lateral probe) for every batch:
 * about 3.5 us of PostgreSQL's CPU per row at 500-row batches
 * (docs/benchmark.md).  It has no parameters, so the plan cache keeps one
 * generic plan, replanned by PostgreSQL itself when positions or the
 * staging table change.
 */
#define WRITE_PREPARE_SQL "PREPARE processor_insert AS " WRITE_INSERT_SQL

/*
 * One string, one round trip: the server runs BEGIN, waits for the COPY
 * data, then runs the INSERT and COMMIT that follow in the same query.
 */
static const char write_sql[] =
	"BEGIN; "
	"COPY pg_temp.positions_stage (" POSITION_COLUMNS ") FROM STDIN (FORMAT binary); "
	"EXECUTE processor_insert; ";

/*
 * The fast path: the same COPY data straight into positions, PostgreSQL's
 * cheapest way in (no staging table, no INSERT ... SELECT, no compare).
 * Valid only while none of the batch's keys is stored: a stored key fails
 * the COPY with unique_violation, the transaction is rolled back and the
 * batch goes the staged way above, which keeps the first row and compares
 * (write_fallback).  The COPY is the transaction's first statement, so a
 * rollback to a savepoint would undo exactly what ROLLBACK does; it would
 * only add a subtransaction to every batch.
 */
static const char write_direct_sql[] =
	"BEGIN; "
	"COPY positions (" POSITION_COLUMNS ") FROM STDIN (FORMAT binary); ";

enum write_phase {
	WP_DOWN = 0,
	WP_CONNECTING,
	WP_SETUP,	/* session settings + staging table */
	WP_IDLE,
	WP_COPY,	/* sending COPY data */
	WP_RESULTS,	/* collecting results */
	WP_ROLLBACK
};

struct write {
	struct ev_loop		*wr_loop;
	const struct config	*wr_cf;
	const struct write_cb	*wr_cb;
	void			*wr_arg;
	struct worker_stats	*wr_stats;
	PGconn			*wr_conn;
	enum write_phase	 wr_phase;
	ev_io			 wr_io;
	ev_timer		 wr_reconnect;
	ev_timer		 wr_guard;
	double			 wr_guard_at;	/* when the guarded wait began */
	struct backoff		 wr_backoff;
	int			 wr_was_up;

	struct batch		*wr_batch;
	struct buf		 wr_copy;
	struct buf		 wr_query;
	size_t			 wr_copy_sent;
	int			 wr_copy_ended;
	int			 wr_nresults;
	int			 wr_rehydrating;	/* the first result rows are that */
	enum write_result	 wr_result;
	char			 wr_sqlstate[8];
	char			 wr_message[512];
	uint64_t		 wr_inserted;
	const uint32_t		*wr_idx;	/* the rows submitted, in b_order */
	size_t			 wr_n;
	struct buf		 wr_conflicts;	/* uint32_t entry indices */
	int			 wr_direct;	/* this attempt copies into positions */
	int			 wr_fallback;	/* ...and met a stored key: stage it */
	int			 wr_stage_next;	/* stage until a batch has no stored key */
};

static void	write_connect(struct write *);
static void	write_io_cb(struct ev_loop *, ev_io *, int);
static void	write_fallback(struct write *);

static void
write_watch(struct write *w, int events)
{
	int	fd = PQsocket(w->wr_conn);

	ev_io_stop(w->wr_loop, &w->wr_io);
	if (fd < 0)
		return;
	ev_io_set(&w->wr_io, fd, events);
	ev_io_start(w->wr_loop, &w->wr_io);
}

static void
write_guard(struct write *w, double seconds)
{
	ev_timer_stop(w->wr_loop, &w->wr_guard);
	w->wr_guard_at = ev_now(w->wr_loop);
	if (seconds > 0) {
		ev_timer_set(&w->wr_guard, seconds, 0.);
		ev_timer_start(w->wr_loop, &w->wr_guard);
	}
}

static void
write_schedule_reconnect(struct write *w)
{
	ev_timer_stop(w->wr_loop, &w->wr_reconnect);
	ev_timer_set(&w->wr_reconnect, backoff_next(&w->wr_backoff), 0.);
	ev_timer_start(w->wr_loop, &w->wr_reconnect);
}

/* Whether two rows of one key would be stored alike (the columns compared). */
static int
write_same_row(const struct position *a, const struct position *b)
{
	if (a->p_lat != b->p_lat || a->p_lon != b->p_lon || a->p_has != b->p_has)
		return 0;
	if (((a->p_has & POS_HAS_ALTITUDE) &&
	    (float)a->p_altitude != (float)b->p_altitude) ||
	    ((a->p_has & POS_HAS_ANGLE) && a->p_angle != b->p_angle) ||
	    ((a->p_has & POS_HAS_SATELLITES) && a->p_satellites != b->p_satellites) ||
	    ((a->p_has & POS_HAS_SPEED) && (float)a->p_speed != (float)b->p_speed) ||
	    ((a->p_has & POS_HAS_PRIORITY) && a->p_priority != b->p_priority) ||
	    ((a->p_has & POS_HAS_EVENT_IO) && a->p_event_io != b->p_event_io))
		return 0;
	return a->p_attrs_len == b->p_attrs_len &&
	    memcmp(a->p_attrs, b->p_attrs, a->p_attrs_len) == 0;
}

static int
write_is_conflict(const struct write *w, uint32_t i)
{
	const uint32_t	*c = (const uint32_t *)(void *)w->wr_conflicts.b_data;
	size_t		 k, n = w->wr_conflicts.b_len / sizeof(*c);

	for (k = 0; k < n; k++)
		if (c[k] == i)
			return 1;
	return 0;
}

/*
 * Rows of one key within the submitted slice (adjacent: it is sorted): the
 * INSERT stores the first in COPY order, and the statement does not probe
 * the others, their key being in ins.  When the statement flagged none of
 * the run, the key was new or every row matched the stored one: a row that
 * differs from the run's first is then a conflict too.  When it flagged
 * some, the key was stored before and each row was compared with it.
 */
static void
write_run_conflicts(struct write *w)
{
	const struct batch	*b = w->wr_batch;
	const struct position	*first, *pos;
	size_t			 lo, hi, i;
	int			 flagged;

	for (lo = 0; lo < w->wr_n; lo = hi) {
		first = &b->b_entries[w->wr_idx[lo]].be_pos;
		for (hi = lo + 1; hi < w->wr_n; hi++) {
			pos = &b->b_entries[w->wr_idx[hi]].be_pos;
			if (pos->p_ts_us != first->p_ts_us ||
			    strcmp(pos->p_device, first->p_device) != 0)
				break;
		}
		if (hi - lo == 1)
			continue;
		for (flagged = 0, i = lo; i < hi && !flagged; i++)
			flagged = write_is_conflict(w, w->wr_idx[i]);
		if (flagged)
			continue;
		for (i = lo + 1; i < hi; i++) {
			pos = &b->b_entries[w->wr_idx[i]].be_pos;
			if (!write_same_row(first, pos) &&
			    buf_append(&w->wr_conflicts, &w->wr_idx[i],
			    sizeof(w->wr_idx[i])) == -1)
				fatalx("out of memory recording a duplicate conflict");
		}
	}
}

static void
write_finish_batch(struct write *w, enum write_result res)
{
	struct batch	*b = w->wr_batch;

	if (b == NULL)
		return;
	b->b_inserted = w->wr_inserted;
	b->b_conflicts = 0;
	/* a staged batch without a stored key: the next one may go fast again */
	if (res == WRITE_OK && !w->wr_direct && w->wr_inserted == w->wr_n)
		w->wr_stage_next = 0;
	if (res == WRITE_OK && w->wr_cb->wc_conflict != NULL) {
		const uint32_t	*c;
		size_t		 i, n;

		write_run_conflicts(w);
		c = (const uint32_t *)(void *)w->wr_conflicts.b_data;
		n = w->wr_conflicts.b_len / sizeof(*c);
		b->b_conflicts = n;
		for (i = 0; i < n; i++)
			w->wr_cb->wc_conflict(w->wr_arg, b, c[i]);
	}
	w->wr_batch = NULL;
	w->wr_cb->wc_done(w->wr_arg, b, res, w->wr_sqlstate[0] ? w->wr_sqlstate : NULL,
	    w->wr_message);
}

/* Drop the connection; a batch in flight is reported transient. */
static void
write_reset(struct write *w, const char *reason)
{
	char	why[512];

	/* reason often points into the connection that PQfinish frees */
	snprintf(why, sizeof(why), "%.*s", (int)strcspn(reason, "\n"), reason);
	ev_io_stop(w->wr_loop, &w->wr_io);
	write_guard(w, 0);
	if (w->wr_conn != NULL) {
		PQfinish(w->wr_conn);
		w->wr_conn = NULL;
	}
	w->wr_phase = WP_DOWN;
	w->wr_stats->ws_flags &= ~(uint32_t)WS_PG_UP;
	if (w->wr_was_up) {
		log_warnx("lost the PostgreSQL connection: %s", why);
		w->wr_was_up = 0;
		w->wr_cb->wc_down(w->wr_arg);
	}
	if (w->wr_batch != NULL) {
		w->wr_stats->ws_write_errors[WERR_TRANSIENT]++;
		w->wr_sqlstate[0] = '\0';
		snprintf(w->wr_message, sizeof(w->wr_message), "%s", why);
		write_finish_batch(w, WRITE_TRANSIENT);
	}
	write_schedule_reconnect(w);
}

static void
write_reconnect_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	write_connect(t->data);
}

/* Which wait ran out, for how long, and on which batch: one error line. */
static void
write_timed_out(struct write *w, double waited)
{
	static const char *const phase[] = { "waiting", "connecting",
	    "session setup", "writing a batch" };
	struct log_fields	 f;
	const char		*what;

	what = w->wr_phase == WP_CONNECTING ? phase[1] :
	    w->wr_phase == WP_SETUP ? phase[2] :
	    w->wr_batch != NULL ? phase[3] : phase[0];
	w->wr_stats->ws_pg_timeouts++;
	w->wr_stats->ws_flags |= WS_PG_TIMEDOUT;
	log_fields_init(&f);
	log_fields_str(&f, "event", "postgres_timeout");
	log_fields_str(&f, "phase", what);
	log_fields_num(&f, "waited_s", waited);
	if (w->wr_batch != NULL && w->wr_batch->b_n > 0) {
		log_fields_str(&f, "entry", batch_id(w->wr_batch, 0));
		log_fields_int(&f, "batch_size", (long long)w->wr_n);
	}
	log_emit(LOG_LVL_ERROR, log_fields_get(&f), "PostgreSQL: no answer "
	    "while %s for %.1f s: dropping the connection; the batch is "
	    "retried on a new one", what, waited);
}

static void
write_guard_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct write	*w = t->data;

	(void)loop;
	(void)revents;
	write_timed_out(w, ev_now(w->wr_loop) - w->wr_guard_at);
	write_reset(w, w->wr_phase == WP_CONNECTING ?
	    "connection attempt timed out" : "no answer from the server in time");
}

static void
write_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

enum write_result
write_classify(const char *sqlstate, int connection_bad)
{
	if (connection_bad || sqlstate == NULL || sqlstate[0] == '\0')
		return WRITE_TRANSIENT;
	if (strncmp(sqlstate, "08", 2) == 0 ||	/* connection exception */
	    strncmp(sqlstate, "40", 2) == 0 ||	/* serialization, deadlock */
	    strncmp(sqlstate, "53", 2) == 0 ||	/* insufficient resources */
	    strncmp(sqlstate, "57", 2) == 0 ||	/* admin shutdown, query canceled */
	    strncmp(sqlstate, "58", 2) == 0 ||	/* system error (io) */
	    strcmp(sqlstate, "55P03") == 0 ||	/* lock_timeout */
	    strcmp(sqlstate, "25P03") == 0 ||	/* idle-in-transaction timeout */
	    strcmp(sqlstate, "23505") == 0)	/* our key despite ON CONFLICT: retry */
		return WRITE_TRANSIENT;
	if (strncmp(sqlstate, "22", 2) == 0 ||	/* data exception */
	    strncmp(sqlstate, "23", 2) == 0 ||	/* integrity (CHECK, NOT NULL) */
	    strcmp(sqlstate, "54000") == 0)	/* program limit (value too big) */
		return WRITE_DATA;
	return WRITE_FATAL;
}

static void
write_setup_done(struct write *w)
{
	w->wr_phase = WP_IDLE;
	backoff_reset(&w->wr_backoff);
	w->wr_was_up = 1;
	w->wr_stats->ws_flags |= WS_PG_UP;
	w->wr_stats->ws_flags &= ~(uint32_t)WS_PG_TIMEDOUT;
	write_guard(w, 0);
	log_info("connected to PostgreSQL");
	w->wr_cb->wc_up(w->wr_arg);
}

static void
write_send_setup(struct write *w)
{
	char	sql[sizeof(WRITE_PREPARE_SQL) + 512];

	/*
	 * lock_timeout below statement_timeout, so waiting on a lock ends as
	 * 55P03 (a lock problem, said so in the log) rather than a bare timeout.
	 */
	snprintf(sql, sizeof(sql),
	    "SET TimeZone = 'UTC'; "
	    "SET statement_timeout = %d; "
	    "SET lock_timeout = %d; "
	    "SET idle_in_transaction_session_timeout = %d; "
	    "CREATE TEMP TABLE IF NOT EXISTS positions_stage "
	    "(LIKE positions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS; "
	    WRITE_PREPARE_SQL,
	    w->wr_cf->cf_statement_timeout_ms, w->wr_cf->cf_statement_timeout_ms / 2,
	    w->wr_cf->cf_statement_timeout_ms * 2);
	if (!PQsendQuery(w->wr_conn, sql)) {
		write_reset(w, PQerrorMessage(w->wr_conn));
		return;
	}
	w->wr_phase = WP_SETUP;
	w->wr_nresults = 0;
	w->wr_result = WRITE_OK;
	write_watch(w, EV_READ | EV_WRITE);
}

static void
write_poll_connect(struct write *w)
{
	switch (PQconnectPoll(w->wr_conn)) {
	case PGRES_POLLING_READING:
		write_watch(w, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		write_watch(w, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(w->wr_conn, 1) == -1) {
			write_reset(w, PQerrorMessage(w->wr_conn));
			break;
		}
		PQsetNoticeProcessor(w->wr_conn, write_notice, w);
		write_send_setup(w);
		break;
	default:
		if (backoff_fresh(&w->wr_backoff))
			log_warnx("cannot connect to PostgreSQL: %.*s",
			    (int)strcspn(PQerrorMessage(w->wr_conn), "\n"),
			    PQerrorMessage(w->wr_conn));
		PQfinish(w->wr_conn);
		w->wr_conn = NULL;
		w->wr_phase = WP_DOWN;
		ev_io_stop(w->wr_loop, &w->wr_io);
		write_guard(w, 0);
		write_schedule_reconnect(w);
	}
}

static void
write_connect(struct write *w)
{
	const char	*keys[] = { "dbname", "application_name", NULL };
	const char	*vals[] = { w->wr_cf->cf_pg_url, "processor", NULL };

	w->wr_conn = PQconnectStartParams(keys, vals, 1);
	if (w->wr_conn == NULL || PQstatus(w->wr_conn) == CONNECTION_BAD) {
		log_warnx("cannot connect to PostgreSQL: %s",
		    w->wr_conn ? PQerrorMessage(w->wr_conn) : "out of memory");
		if (w->wr_conn != NULL)
			PQfinish(w->wr_conn);
		w->wr_conn = NULL;
		write_schedule_reconnect(w);
		return;
	}
	w->wr_phase = WP_CONNECTING;
	write_guard(w, CONNECT_TIMEOUT_S);
	write_poll_connect(w);
}

/*
 * The binary COPY stream is written with a cursor into space reserved once
 * per row: each field is a fixed-size store, not a call that checks the
 * buffer's room again (this runs for every stored row).
 */
static char *
put16(char *o, int16_t v)
{
	uint16_t	n = htons((uint16_t)v);

	memcpy(o, &n, 2);
	return o + 2;
}

static char *
put32(char *o, int32_t v)
{
	uint32_t	n = htonl((uint32_t)v);

	memcpy(o, &n, 4);
	return o + 4;
}

static char *
put64(char *o, int64_t v)
{
	o = put32(o, (int32_t)((uint64_t)v >> 32));
	return put32(o, (int32_t)((uint64_t)v & 0xffffffffu));
}

static char *
put_bytes(char *o, const void *p, size_t n)
{
	memcpy(o, p, n);
	return o + n;
}

static char *
put_f8(char *o, double d)
{
	int64_t	v;

	memcpy(&v, &d, 8);
	o = put32(o, 8);
	return put64(o, v);
}

static char *
put_f4(char *o, int present, double d)
{
	float	f = (float)d;
	int32_t	v;

	if (!present)
		return put32(o, -1);
	memcpy(&v, &f, 4);
	o = put32(o, 4);
	return put32(o, v);
}

static char *
put_i2(char *o, int present, int v)
{
	if (!present)
		return put32(o, -1);
	o = put32(o, 2);
	return put16(o, (int16_t)v);
}

/* jsonb binary format: a version byte (1) then the JSON text; NULL for none. */
static char *
put_jsonb(char *o, const char *text, size_t len)
{
	if (text == NULL)
		return put32(o, -1);
	o = put32(o, (int32_t)len + 1);
	*o++ = 1;
	return put_bytes(o, text, len);
}

/*
 * The most one row takes besides its device and its two jsonb texts: the
 * column count, twelve lengths, and the largest value of each fixed column
 * (timestamp and two float8, two float4, three int2, one int4) plus the two
 * jsonb version bytes.
 */
#define WRITE_ROW_FIXED	(2 + 12 * 4 + 3 * 8 + 2 * 4 + 3 * 2 + 4 + 2)

static int
write_encode_row(struct buf *out, const struct batch *b, size_t i)
{
	const struct position	*p = &b->b_entries[i].be_pos;
	size_t			 dlen = strlen(p->p_device), declen;
	const char		*dec = batch_decoded(b, i, &declen);
	char			*o, *start;

	if (buf_reserve(out, WRITE_ROW_FIXED + dlen + p->p_attrs_len +
	    declen) == -1)
		return -1;
	o = start = out->b_data + out->b_len;
	o = put16(o, POSITION_NCOLS);
	o = put32(o, (int32_t)dlen);
	o = put_bytes(o, p->p_device, dlen);
	o = put32(o, 8);
	o = put64(o, p->p_ts_us - PG_EPOCH_OFFSET_US);
	o = put_f8(o, p->p_lat);
	o = put_f8(o, p->p_lon);
	o = put_f4(o, p->p_has & POS_HAS_ALTITUDE, p->p_altitude);
	o = put_i2(o, p->p_has & POS_HAS_ANGLE, p->p_angle);
	o = put_i2(o, p->p_has & POS_HAS_SATELLITES, p->p_satellites);
	o = put_f4(o, p->p_has & POS_HAS_SPEED, p->p_speed);
	o = put_i2(o, p->p_has & POS_HAS_PRIORITY, p->p_priority);
	if (p->p_has & POS_HAS_EVENT_IO) {
		o = put32(o, 4);
		o = put32(o, p->p_event_io);
	} else
		o = put32(o, -1);
	/* attributes is never NULL: the codec writes {} for an absent bag */
	o = put_jsonb(o, p->p_attrs_len > 0 ? p->p_attrs : "", p->p_attrs_len);
	o = put_jsonb(o, dec, declen);
	out->b_len += (size_t)(o - start);
	return 0;
}

int
write_encode_copy(struct buf *out, const struct batch *b, const uint32_t *idx,
    size_t n)
{
	static const char	 sig[11] = "PGCOPY\n\377\r\n";
	char			*o;
	size_t			 i;

	/* signature, flags, header extension length */
	if (buf_reserve(out, sizeof(sig) + 8) == -1)
		return -1;
	o = out->b_data + out->b_len;
	o = put_bytes(o, sig, sizeof(sig));
	o = put32(o, 0);
	o = put32(o, 0);
	out->b_len += sizeof(sig) + 8;
	for (i = 0; i < n; i++)
		if (write_encode_row(out, b, idx[i]) == -1)
			return -1;
	if (buf_reserve(out, 2) == -1)
		return -1;
	put16(out->b_data + out->b_len, -1);
	out->b_len += 2;
	return 0;
}

static void
write_record_error(struct write *w, PGresult *res)
{
	const char	*state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	enum write_result r;

	if (w->wr_result != WRITE_OK)
		return;		/* keep the first error */
	if (w->wr_direct && state != NULL && strcmp(state, "23505") == 0)
		w->wr_fallback = 1;	/* a stored key: not an error, stage it */
	r = write_classify(state, PQstatus(w->wr_conn) == CONNECTION_BAD);
	w->wr_result = r;
	snprintf(w->wr_sqlstate, sizeof(w->wr_sqlstate), "%s", state ? state : "");
	snprintf(w->wr_message, sizeof(w->wr_message), "%s",
	    msg ? msg : PQerrorMessage(w->wr_conn));
}

/* Send as much COPY data as the socket takes; 1 when all is sent and ended. */
static int
write_pump_copy(struct write *w)
{
	int	r;

	while (w->wr_copy_sent < w->wr_copy.b_len) {
		size_t	chunk = w->wr_copy.b_len - w->wr_copy_sent;

		if (chunk > 65536)
			chunk = 65536;
		r = PQputCopyData(w->wr_conn, w->wr_copy.b_data + w->wr_copy_sent,
		    (int)chunk);
		if (r == 0)
			return 0;	/* buffers full: wait for write-ready */
		if (r < 0)
			return -1;
		w->wr_copy_sent += chunk;
	}
	if (!w->wr_copy_ended) {
		r = PQputCopyEnd(w->wr_conn, NULL);
		if (r == 0)
			return 0;
		if (r < 0)
			return -1;
		w->wr_copy_ended = 1;
	}
	r = PQflush(w->wr_conn);
	if (r < 0)
		return -1;
	return r == 0;
}

static void
write_batch_results_done(struct write *w)
{
	enum write_result	res = w->wr_result;

	if (res != WRITE_OK && PQtransactionStatus(w->wr_conn) != PQTRANS_IDLE) {
		/* the server left the transaction open and failed: roll back */
		if (!PQsendQuery(w->wr_conn, "ROLLBACK")) {
			write_reset(w, PQerrorMessage(w->wr_conn));
			return;
		}
		w->wr_phase = WP_ROLLBACK;
		write_watch(w, EV_READ | EV_WRITE);
		return;
	}
	if (w->wr_fallback) {
		write_fallback(w);
		return;
	}
	w->wr_phase = WP_IDLE;
	write_guard(w, 0);
	ev_io_stop(w->wr_loop, &w->wr_io);
	if (res == WRITE_DATA)
		w->wr_stats->ws_write_errors[WERR_DATA]++;
	else if (res == WRITE_FATAL)
		w->wr_stats->ws_write_errors[WERR_FATAL]++;
	else if (res == WRITE_TRANSIENT)
		w->wr_stats->ws_write_errors[WERR_TRANSIENT]++;
	write_finish_batch(w, res);
}

static void
write_rehydrate_row(struct write *w, const PGresult *res, int row)
{
	struct position	pos;

	memset(&pos, 0, sizeof(pos));
	snprintf(pos.p_device, sizeof(pos.p_device), "%s", PQgetvalue(res, row, 0));
	pos.p_ts_us = strtoll(PQgetvalue(res, row, 1), NULL, 10);
	pos.p_lat = strtod(PQgetvalue(res, row, 2), NULL);
	pos.p_lon = strtod(PQgetvalue(res, row, 3), NULL);
	if (!PQgetisnull(res, row, 4)) {
		pos.p_has |= POS_HAS_ALTITUDE;
		pos.p_altitude = strtod(PQgetvalue(res, row, 4), NULL);
	}
	if (!PQgetisnull(res, row, 5)) {
		pos.p_has |= POS_HAS_ANGLE;
		pos.p_angle = (int16_t)atoi(PQgetvalue(res, row, 5));
	}
	if (!PQgetisnull(res, row, 6)) {
		pos.p_has |= POS_HAS_SATELLITES;
		pos.p_satellites = (int16_t)atoi(PQgetvalue(res, row, 6));
	}
	if (!PQgetisnull(res, row, 7)) {
		pos.p_has |= POS_HAS_SPEED;
		pos.p_speed = strtod(PQgetvalue(res, row, 7), NULL);
	}
	if (!PQgetisnull(res, row, 8)) {
		pos.p_has |= POS_HAS_PRIORITY;
		pos.p_priority = (int16_t)atoi(PQgetvalue(res, row, 8));
	}
	if (!PQgetisnull(res, row, 9)) {
		pos.p_has |= POS_HAS_EVENT_IO;
		pos.p_event_io = (int32_t)strtol(PQgetvalue(res, row, 9), NULL, 10);
	}
	w->wr_cb->wc_rehydrate(w->wr_arg, &pos);
}

static void
write_rehydrate_rows(struct write *w, const PGresult *res)
{
	int	i;

	if (w->wr_batch != NULL)
		w->wr_batch->b_ncold = 0;	/* answered: not asked again on a retry */
	if (w->wr_cb->wc_rehydrate == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++)
		write_rehydrate_row(w, res, i);
}

/*
 * The INSERT's result: the inserted count, then the keys whose stored row
 * differs.  Each key names the first submitted entry with that key not
 * named yet (the slice is short and conflicts are rare: a linear scan).
 */
static void
write_insert_rows(struct write *w, const PGresult *res)
{
	const struct batch	*b = w->wr_batch;
	const struct position	*pos;
	const char		*dev;
	const uint32_t		*c;
	long long		 ts;
	size_t			 i, k, nc;
	int			 row, taken;

	for (row = 0; row < PQntuples(res); row++) {
		if (!PQgetisnull(res, row, 0)) {
			w->wr_inserted = strtoull(PQgetvalue(res, row, 0), NULL, 10);
			continue;
		}
		if (b == NULL)
			continue;
		dev = PQgetvalue(res, row, 1);
		ts = strtoll(PQgetvalue(res, row, 2), NULL, 10);
		c = (const uint32_t *)(void *)w->wr_conflicts.b_data;
		nc = w->wr_conflicts.b_len / sizeof(*c);
		for (i = 0; i < w->wr_n; i++) {
			pos = &b->b_entries[w->wr_idx[i]].be_pos;
			if (pos->p_ts_us != ts || strcmp(pos->p_device, dev) != 0)
				continue;
			for (taken = 0, k = 0; k < nc && !taken; k++)
				taken = c[k] == w->wr_idx[i];
			if (taken)
				continue;
			if (buf_append(&w->wr_conflicts, &w->wr_idx[i],
			    sizeof(w->wr_idx[i])) == -1)
				fatalx("out of memory recording a duplicate conflict");
			break;
		}
	}
}

/* Handle one result of the batch query; 1 when the COPY phase begins. */
static int
write_batch_result(struct write *w, PGresult *res)
{
	const char	*tuples;

	switch (PQresultStatus(res)) {
	case PGRES_COPY_IN:
		return 1;
	case PGRES_TUPLES_OK:	/* the rehydration, the INSERT, or the sink SQL's */
		if (w->wr_rehydrating) {
			w->wr_rehydrating = 0;
			write_rehydrate_rows(w, res);
		} else if (PQnfields(res) == 3 &&
		    strcmp(PQfname(res, 0), "processor_inserted") == 0)
			write_insert_rows(w, res);
		return 0;
	case PGRES_COMMAND_OK:
		if (strncmp(PQcmdStatus(res), "INSERT", 6) == 0 ||
		    (w->wr_direct && strncmp(PQcmdStatus(res), "COPY", 4) == 0)) {
			tuples = PQcmdTuples(res);
			w->wr_inserted = strtoull(tuples, NULL, 10);
		} else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0 &&
		    w->wr_result == WRITE_OK) {
			w->wr_result = WRITE_TRANSIENT;
			snprintf(w->wr_message, sizeof(w->wr_message),
			    "transaction rolled back at COMMIT");
		}
		return 0;
	default:
		write_record_error(w, res);
		return 0;
	}
}

static void
write_drain_results(struct write *w)
{
	PGresult	*res;

	if (!PQconsumeInput(w->wr_conn)) {
		write_reset(w, PQerrorMessage(w->wr_conn));
		return;
	}
	while (!PQisBusy(w->wr_conn)) {
		if ((res = PQgetResult(w->wr_conn)) == NULL) {
			if (w->wr_phase == WP_SETUP) {
				if (w->wr_result != WRITE_OK) {
					log_error("PostgreSQL session setup failed: %s",
					    w->wr_message);
					write_reset(w, w->wr_message);
				} else
					write_setup_done(w);
			} else if (w->wr_phase == WP_ROLLBACK) {
				w->wr_phase = WP_RESULTS;
				PQtransactionStatus(w->wr_conn) == PQTRANS_IDLE ?
				    write_batch_results_done(w) :
				    write_reset(w, "ROLLBACK did not end the transaction");
			} else
				write_batch_results_done(w);
			return;
		}
		if (w->wr_phase == WP_SETUP || w->wr_phase == WP_ROLLBACK) {
			if (PQresultStatus(res) == PGRES_FATAL_ERROR)
				write_record_error(w, res);
		} else if (write_batch_result(w, res)) {
			PQclear(res);
			w->wr_phase = WP_COPY;
			write_watch(w, EV_WRITE);
			return;
		}
		PQclear(res);
	}
}

static void
write_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct write	*w = io->data;
	int		 r;

	(void)loop;
	if (w->wr_phase == WP_CONNECTING) {
		write_poll_connect(w);
		return;
	}
	if (revents & EV_WRITE) {
		if (w->wr_phase == WP_COPY) {
			if ((r = write_pump_copy(w)) < 0) {
				write_reset(w, PQerrorMessage(w->wr_conn));
				return;
			}
			if (r == 1) {
				w->wr_phase = WP_RESULTS;
				write_watch(w, EV_READ);
			}
			return;
		}
		if ((r = PQflush(w->wr_conn)) < 0) {
			write_reset(w, PQerrorMessage(w->wr_conn));
			return;
		}
		if (r == 0)
			write_watch(w, EV_READ);
	}
	if (revents & EV_READ)
		write_drain_results(w);
}

struct write *
write_new(struct ev_loop *loop, const struct config *cf,
    const struct write_cb *cb, void *arg, struct worker_stats *stats)
{
	struct write	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->wr_loop = loop;
	w->wr_cf = cf;
	w->wr_cb = cb;
	w->wr_arg = arg;
	w->wr_stats = stats;
	backoff_init(&w->wr_backoff, RECONNECT_MIN_S, RECONNECT_MAX_S);
	ev_init(&w->wr_io, write_io_cb);
	w->wr_io.data = w;
	ev_timer_init(&w->wr_reconnect, write_reconnect_cb, 0., 0.);
	w->wr_reconnect.data = w;
	ev_timer_init(&w->wr_guard, write_guard_cb, 0., 0.);
	w->wr_guard.data = w;
	buf_init(&w->wr_copy);
	buf_init(&w->wr_query);
	buf_init(&w->wr_conflicts);
	return w;
}

void
write_free(struct write *w)
{
	if (w == NULL)
		return;
	ev_io_stop(w->wr_loop, &w->wr_io);
	ev_timer_stop(w->wr_loop, &w->wr_reconnect);
	ev_timer_stop(w->wr_loop, &w->wr_guard);
	if (w->wr_conn != NULL)
		PQfinish(w->wr_conn);
	buf_free(&w->wr_copy);
	buf_free(&w->wr_query);
	buf_free(&w->wr_conflicts);
	free(w);
}

void
write_start(struct write *w)
{
	write_connect(w);
}

int
write_is_up(const struct write *w)
{
	return w->wr_phase == WP_IDLE || w->wr_phase == WP_COPY ||
	    w->wr_phase == WP_RESULTS || w->wr_phase == WP_ROLLBACK;
}

int
write_busy(const struct write *w)
{
	return w->wr_batch != NULL;
}

/* An array element of a text[] literal: "a", "b\\"c". */
static void
write_array_text(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(out, '\\');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

/* An array literal of the cold devices: {"a","b\\"c"}. */
static int
write_cold_array(struct buf *out, const struct batch *b)
{
	const char	*dev = b->b_cold.b_data;
	size_t		 i;

	buf_putc(out, '{');
	for (i = 0; i < b->b_ncold; i++, dev += strlen(dev) + 1) {
		if (i > 0)
			buf_putc(out, ',');
		write_array_text(out, dev);
	}
	buf_putc(out, '}');
	return buf_cstr(out) == NULL ? -1 : 0;
}

/* Append s as an SQL string literal, escaped for this connection. */
static int
write_put_literal(struct write *w, struct buf *q, const struct buf *s)
{
	char	*lit;
	int	 rc;

	if ((lit = PQescapeLiteral(w->wr_conn, s->b_data, s->b_len)) == NULL)
		return -1;
	rc = buf_puts(q, lit);
	PQfreemem(lit);
	return rc;
}

int
write_encode_marks(struct buf *dev, struct buf *lo, struct buf *hi,
    const struct batch *b, const uint32_t *idx, size_t n)
{
	const struct position	*p, *q;
	size_t			 i, j;
	int64_t			 mn, mx;

	buf_putc(dev, '{');
	buf_putc(lo, '{');
	buf_putc(hi, '{');
	for (i = 0; i < n; i = j) {
		p = &b->b_entries[idx[i]].be_pos;
		mn = mx = p->p_ts_us;
		for (j = i + 1; j < n; j++) {
			q = &b->b_entries[idx[j]].be_pos;
			if (strcmp(q->p_device, p->p_device) != 0)
				break;
			mn = q->p_ts_us < mn ? q->p_ts_us : mn;
			mx = q->p_ts_us > mx ? q->p_ts_us : mx;
		}
		if (i > 0) {
			buf_putc(dev, ',');
			buf_putc(lo, ',');
			buf_putc(hi, ',');
		}
		write_array_text(dev, p->p_device);
		buf_printf(lo, "%lld", (long long)mn);
		buf_printf(hi, "%lld", (long long)mx);
	}
	buf_putc(dev, '}');
	buf_putc(lo, '}');
	buf_putc(hi, '}');
	return buf_cstr(dev) == NULL || buf_cstr(lo) == NULL ||
	    buf_cstr(hi) == NULL ? -1 : 0;
}

/* SELECT fn('{devices}', '{min}', '{max}'): the fast path's race mark. */
static int
write_mark_call(struct write *w, const struct batch *b)
{
	struct buf	dev, lo, hi;
	int		rc;

	buf_init(&dev);
	buf_init(&lo);
	buf_init(&hi);
	rc = write_encode_marks(&dev, &lo, &hi, b, w->wr_idx, w->wr_n);
	if (rc == 0)
		rc = buf_printf(&w->wr_query, "SELECT %s(", sink_mark_fn());
	if (rc == 0)
		rc = write_put_literal(w, &w->wr_query, &dev);
	if (rc == 0)
		rc = buf_printf(&w->wr_query, "::text[], '%s'::int8[], '%s'::int8[]); ",
		    lo.b_data, hi.b_data);
	buf_free(&dev);
	buf_free(&lo);
	buf_free(&hi);
	return rc;
}

static int
write_build_rehydrate(struct write *w, const struct batch *b)
{
	struct buf	arr;
	int		rc;

	buf_init(&arr);
	rc = write_cold_array(&arr, b);
	if (rc == 0)
		rc = buf_puts(&w->wr_query, "SELECT p.device_id, "
		    "(extract(epoch FROM p.ts) * 1000000)::int8, p.latitude, "
		    "p.longitude, p.altitude, p.angle, p.satellites, p.speed, "
		    "p.priority, p.event_io_id FROM unnest(");
	if (rc == 0)
		rc = write_put_literal(w, &w->wr_query, &arr);
	if (rc == 0)
		rc = buf_puts(&w->wr_query, "::text[]) AS d(id) CROSS JOIN LATERAL "
		    "(SELECT * FROM positions WHERE device_id = d.id "
		    "ORDER BY ts DESC LIMIT 1) p; ");
	buf_free(&arr);
	w->wr_rehydrating = rc == 0;
	return rc;
}

/* Whether the batch may go the fast way: no stored key met lately, and
 * the domain's mark (if any) has a form that needs no staged rows. */
static int
write_may_direct(const struct write *w)
{
	return !w->wr_stage_next && (sink_sql() == NULL || sink_mark_fn() != NULL);
}

static int
write_build_query(struct write *w, const struct batch *b)
{
	int	rc = 0;

	buf_reset(&w->wr_query);
	w->wr_rehydrating = 0;
	if (b->b_ncold > 0 && w->wr_cb->wc_rehydrate != NULL)
		rc = write_build_rehydrate(w, b);
	if (rc == 0 && w->wr_direct) {
		rc = buf_puts(&w->wr_query, write_direct_sql);
		if (rc == 0 && sink_sql() != NULL)
			rc = write_mark_call(w, b);
	} else if (rc == 0) {
		rc = buf_puts(&w->wr_query, write_sql);
		if (rc == 0 && sink_sql() != NULL)
			rc = buf_printf(&w->wr_query, "%s; ", sink_sql());
	}
	if (rc == 0)
		rc = buf_puts(&w->wr_query, "COMMIT");
	return rc;
}

/* Send the batch query for wr_batch; the COPY data is in wr_copy. */
static int
write_send(struct write *w)
{
	if (write_build_query(w, w->wr_batch) == -1)
		return -1;
	if (!PQsendQuery(w->wr_conn, buf_cstr(&w->wr_query)))
		return -2;
	buf_reset(&w->wr_conflicts);
	w->wr_copy_sent = 0;
	w->wr_copy_ended = 0;
	w->wr_inserted = 0;
	w->wr_fallback = 0;
	w->wr_result = WRITE_OK;
	w->wr_sqlstate[0] = '\0';
	w->wr_message[0] = '\0';
	w->wr_phase = WP_RESULTS;
	write_watch(w, EV_READ | EV_WRITE);
	/*
	 * The server ends a statement at statement_timeout; the client guard
	 * catches a server that cannot (stopped, a dead route).  Without a
	 * server timeout the guard stays, at client_timeout_ms.
	 */
	write_guard(w, w->wr_cf->cf_statement_timeout_ms == 0 ?
	    w->wr_cf->cf_client_timeout_ms / 1000.0 :
	    w->wr_cf->cf_statement_timeout_ms / 1000.0 + GUARD_MARGIN_S);
	return 0;
}

/*
 * The fast path met a stored key (a redelivery, a replay, another worker's
 * claim, a key twice in the batch) and was rolled back: send the same rows
 * the staged way, and keep staging until a batch has no stored key.
 */
static void
write_fallback(struct write *w)
{
	int	rc;

	w->wr_stats->ws_write_fallbacks++;
	w->wr_stage_next = 1;
	w->wr_direct = 0;
	log_debug("a key of the batch is stored already: writing it staged");
	if ((rc = write_send(w)) == -2) {
		write_reset(w, PQerrorMessage(w->wr_conn));
	} else if (rc == -1)
		fatalx("out of memory building the batch query");
}

int
write_submit(struct write *w, struct batch *b, const uint32_t *idx, size_t n)
{
	int	rc;

	if (w->wr_phase != WP_IDLE || w->wr_batch != NULL)
		return -1;
	buf_reset(&w->wr_copy);
	if (write_encode_copy(&w->wr_copy, b, idx, n) == -1)
		return -1;
	w->wr_batch = b;
	w->wr_idx = idx;
	w->wr_n = n;
	w->wr_direct = write_may_direct(w);
	if ((rc = write_send(w)) < 0) {
		w->wr_batch = NULL;
		if (rc == -2)
			write_reset(w, PQerrorMessage(w->wr_conn));
		return -1;
	}
	return 0;
}
