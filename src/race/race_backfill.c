/* processor backfill decoded: rewrite positions.decoded after a mapping change, in short resumable chunks. */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conf/config.h"
#include "domain/iomap.h"
#include "util/buf.h"
#include "race/race_cli.h"
#include "race/race_io.h"

#define BACKFILL_CHUNK		5000
#define BACKFILL_CHUNK_MAX	100000

/*
 * A job walks the selected devices in order and, per device, its rows in ts
 * order, N rows at a time (keyset pagination on the (device_id, ts) key).
 * Each chunk is one short transaction: an UPDATE of the rows whose decoded
 * value differs, which takes row locks on those rows only (live inserts
 * take no lock on them: a new key, or ON CONFLICT DO NOTHING on a stored
 * one), and the job's progress row.  So an interruption loses nothing but
 * the chunk in flight, and a rerun with the same arguments goes on after
 * the last committed one.
 */
struct backfill {
	PGconn			 *bf_conn;
	struct race_iodict	  bf_dict;
	const struct iomap_family *bf_fam;	/* --family; NULL for --device */
	const char		 *bf_device;	/* --device */
	char			**bf_list;	/* devices to walk, sorted; NULL: scan */
	size_t			  bf_nlist;
	char			  bf_job[256];	/* backfill_jobs.job */
	char			  bf_from[64];	/* lower bound of ts, "-infinity" */
	char			  bf_upto[64];	/* upper bound of ts (the job's) */
	char			  bf_dev[POSITION_DEVICE_MAX + 1];	/* resume point */
	char			  bf_ts[64];	/* "" for none */
	int64_t			  bf_chunk;
	int64_t			  bf_total;	/* estimate; -1 unknown */
	int64_t			  bf_examined;	/* the job's, over its runs */
	int64_t			  bf_changed;
	int64_t			  bf_run_examined;	/* this run's */
	int64_t			  bf_run_changed;
	int64_t			  bf_start_us;
	int64_t			  bf_shown_us;
	int			  bf_tty;
	struct buf		  bf_ts_arr;
	struct buf		  bf_dec_arr;
	char			 *bf_out;
	size_t			  bf_outcap;
};

static void
backfill_usage(FILE *f)
{
	fprintf(f, "usage: processor [-c file] backfill decoded "
	    "--family F | --device D\n"
	    "       [--from T --to T] [--chunk N] [--restart]\n");
}

static int
backfill_pgerr(struct backfill *bf, const char *what)
{
	fprintf(stderr, "%sprocessor backfill: %s: %.*s\n", bf->bf_tty ?
	    "\n" : "", what, (int)strcspn(PQerrorMessage(bf->bf_conn), "\n"),
	    PQerrorMessage(bf->bf_conn));
	return -1;
}

/* One statement with text parameters; NULL having said why. */
static PGresult *
backfill_exec(struct backfill *bf, const char *what, const char *sql, int n,
    const char *const *params, ExecStatusType want)
{
	PGresult	*res;

	res = PQexecParams(bf->bf_conn, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != want) {
		backfill_pgerr(bf, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

static int
backfill_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The devices of a family that is not the default one: those mapped to it. */
static int
backfill_list(struct backfill *bf)
{
	const struct race_iodict *d = &bf->bf_dict;
	size_t	i;

	if (bf->bf_device != NULL) {
		if ((bf->bf_list = calloc(1, sizeof(char *))) == NULL)
			return -1;
		bf->bf_list[bf->bf_nlist++] = (char *)bf->bf_device;
		return 0;
	}
	if (bf->bf_fam == d->rx_default)
		return 0;	/* a scan of positions' devices */
	if ((bf->bf_list = calloc(d->rx_ndev + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < d->rx_devcap; i++)
		if (d->rx_dev[i].rd_device != NULL &&
		    d->rx_dev[i].rd_family == bf->bf_fam)
			bf->bf_list[bf->bf_nlist++] = d->rx_dev[i].rd_device;
	qsort(bf->bf_list, bf->bf_nlist, sizeof(char *), backfill_cmp);
	return 0;
}

/*
 * The device after cur ("" for the first) into next; 0, 1 when there is
 * none, -1 on error.  A list is walked in strcmp order; the default family
 * walks the devices of positions in the index's order (a loose index scan)
 * and keeps those whose family is the default one.
 */
static int
backfill_next(struct backfill *bf, const char *cur, int first, char *next,
    size_t len)
{
	const char	*params[1] = { cur };
	PGresult	*res;
	size_t		 i;

	if (bf->bf_list != NULL) {
		for (i = 0; i < bf->bf_nlist; i++)
			if (first ? strcmp(bf->bf_list[i], cur) >= 0 :
			    strcmp(bf->bf_list[i], cur) > 0) {
				snprintf(next, len, "%s", bf->bf_list[i]);
				return 0;
			}
		return 1;
	}
	for (;;) {
		res = backfill_exec(bf, "the next device", first ?
		    "SELECT min(device_id) FROM positions WHERE device_id >= $1" :
		    "SELECT min(device_id) FROM positions WHERE device_id > $1",
		    1, params, PGRES_TUPLES_OK);
		if (res == NULL)
			return -1;
		if (PQgetisnull(res, 0, 0)) {
			PQclear(res);
			return 1;
		}
		snprintf(next, len, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (race_iodict_family(&bf->bf_dict, next) == bf->bf_fam)
			return 0;
		params[0] = cur = next;
		first = 0;
	}
}

/* s as an element of an array literal: quoted, \ and " escaped. */
static void
backfill_elem(struct buf *b, const char *s, size_t n)
{
	size_t	i;

	buf_putc(b, b->b_len > 0 ? ',' : '{');
	if (s == NULL) {
		buf_puts(b, "NULL");
		return;
	}
	buf_reserve(b, n + 8);
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

/* devs as an array literal into b. */
static void
backfill_array(struct buf *b, char *const *devs, size_t n)
{
	size_t	i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		backfill_elem(b, devs[i], strlen(devs[i]));
	buf_puts(b, n ? "}" : "{}");
}

/*
 * Rows in the selection, for the progress line; -1 when unknown.  The
 * default family's are those of the devices not mapped to another family.
 */
static int64_t
backfill_count(struct backfill *bf)
{
	const struct race_iodict *d = &bf->bf_dict;
	const char	*params[3] = { NULL, bf->bf_from, bf->bf_upto };
	struct buf	 arr;
	PGresult	*res;
	char		**other = NULL;
	size_t		 i, n = 0;
	int64_t		 count = -1;

	buf_init(&arr);
	if (bf->bf_list != NULL)
		backfill_array(&arr, bf->bf_list, bf->bf_nlist);
	else {
		if ((other = calloc(d->rx_ndev + 1, sizeof(char *))) == NULL)
			return -1;
		for (i = 0; i < d->rx_devcap; i++)
			if (d->rx_dev[i].rd_device != NULL &&
			    d->rx_dev[i].rd_family != bf->bf_fam)
				other[n++] = d->rx_dev[i].rd_device;
		backfill_array(&arr, other, n);
		free(other);
	}
	params[0] = buf_cstr(&arr);
	res = backfill_exec(bf, "counting the rows", bf->bf_list != NULL ?
	    "SELECT count(*) FROM positions WHERE device_id = ANY($1::text[]) "
	    "AND ts >= $2::timestamptz AND ts <= $3::timestamptz" :
	    "SELECT count(*) FROM positions WHERE NOT (device_id = "
	    "ANY($1::text[])) AND ts >= $2::timestamptz AND "
	    "ts <= $3::timestamptz", 3, params, PGRES_TUPLES_OK);
	if (res != NULL) {
		count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	buf_free(&arr);
	return count;
}

/*
 * The job's advisory lock, a session one: it keeps a second run of the same
 * job out while this one lives.  A run killed a moment ago may hold it
 * until its backend notices, so it is tried for five seconds.
 */
static int
backfill_lock(struct backfill *bf)
{
	const char	*params[1] = { bf->bf_job };
	PGresult	*res;
	int		 locked, tries;

	for (tries = 0;; tries++) {
		if ((res = backfill_exec(bf, "locking the job", "SELECT "
		    "pg_try_advisory_lock(hashtext('processor backfill'), "
		    "hashtext($1))", 1, params, PGRES_TUPLES_OK)) == NULL)
			return -1;
		locked = *PQgetvalue(res, 0, 0) == 't';
		PQclear(res);
		if (locked)
			return 0;
		if (tries == 25) {
			fprintf(stderr, "processor backfill: job \"%s\" is "
			    "running elsewhere\n", bf->bf_job);
			return -1;
		}
		usleep(200000);
	}
}

/* An unfinished job's row (read by backfill_job): where to go on from. */
static void
backfill_resume(struct backfill *bf, const PGresult *res)
{
	snprintf(bf->bf_upto, sizeof(bf->bf_upto), "%s", PQgetvalue(res, 0, 0));
	snprintf(bf->bf_dev, sizeof(bf->bf_dev), "%s", PQgetvalue(res, 0, 1));
	snprintf(bf->bf_ts, sizeof(bf->bf_ts), "%s", PQgetvalue(res, 0, 2));
	bf->bf_examined = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	bf->bf_changed = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	bf->bf_total = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	printf("resuming job \"%s\": %" PRId64 " rows examined, %" PRId64
	    " changed so far\n", bf->bf_job, bf->bf_examined, bf->bf_changed);
	fflush(stdout);
}

/* A new job's row (or a finished one's, reset): its bound and row count. */
static int
backfill_create(struct backfill *bf, const char *to)
{
	const char	*params[3] = { bf->bf_job, to, NULL };
	char		 total[24];
	PGresult	*res;

	/* without --to, rows stored from now on are decoded live */
	if ((res = backfill_exec(bf, "the upper bound", "SELECT "
	    "coalesce($1::timestamptz, now())::text", 1, params + 1,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	snprintf(bf->bf_upto, sizeof(bf->bf_upto), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	bf->bf_total = backfill_count(bf);
	snprintf(total, sizeof(total), "%" PRId64, bf->bf_total);
	params[1] = bf->bf_upto;
	params[2] = total;
	if ((res = backfill_exec(bf, "creating the job", "INSERT INTO "
	    "backfill_jobs (job, upto, total) VALUES ($1, $2, "
	    "nullif($3::bigint, -1)) ON CONFLICT (job) DO UPDATE SET "
	    "upto = EXCLUDED.upto, total = EXCLUDED.total, last_device = NULL, "
	    "last_ts = NULL, examined = 0, changed = 0, started_at = now(), "
	    "updated_at = now(), finished_at = NULL", 3, params,
	    PGRES_COMMAND_OK)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * The job's row: created, or found and resumed, or (finished, or
 * --restart) started over, under the job's lock (backfill_lock).
 */
static int
backfill_job(struct backfill *bf, const char *to, int restart)
{
	const char	*params[1] = { bf->bf_job };
	PGresult	*res;

	if (backfill_lock(bf) == -1)
		return -1;
	if (restart) {
		if ((res = backfill_exec(bf, "--restart", "DELETE FROM "
		    "backfill_jobs WHERE job = $1", 1, params,
		    PGRES_COMMAND_OK)) == NULL)
			return -1;
		PQclear(res);
	}
	if ((res = backfill_exec(bf, "reading the job", "SELECT upto::text, "
	    "coalesce(last_device, ''), coalesce(last_ts::text, ''), examined, "
	    "changed, coalesce(total, -1), finished_at IS NOT NULL "
	    "FROM backfill_jobs WHERE job = $1", 1, params,
	    PGRES_TUPLES_OK)) == NULL)
		return -1;
	if (PQntuples(res) == 0 || *PQgetvalue(res, 0, 6) == 't') {
		PQclear(res);
		return backfill_create(bf, to);
	}
	backfill_resume(bf, res);
	PQclear(res);
	return 0;
}

static int
backfill_render(struct backfill *bf, const char *dev, const char *attrs,
    size_t len)
{
	uint16_t	 unknown[RACE_IO_MAX_UNKNOWN];
	size_t		 nunknown;
	char		*p;
	int		 n;

	for (;;) {
		if (bf->bf_outcap < len * 2 + 256) {
			if ((p = realloc(bf->bf_out, len * 2 + 256)) == NULL)
				return -1;
			bf->bf_out = p;
			bf->bf_outcap = len * 2 + 256;
		}
		n = race_iodict_render(&bf->bf_dict, dev, attrs, len,
		    bf->bf_out, bf->bf_outcap, unknown, &nunknown);
		if (n != -1)
			break;
		if ((p = realloc(bf->bf_out, bf->bf_outcap * 2)) == NULL)
			return -1;
		bf->bf_out = p;
		bf->bf_outcap *= 2;
	}
	backfill_elem(&bf->bf_dec_arr, n > 0 ? bf->bf_out : NULL, (size_t)n);
	return 0;
}

static void
backfill_progress(struct backfill *bf, int last)
{
	int64_t	now = race_cli_now_us(), left;
	double	secs = (now - bf->bf_start_us) / 1e6, rate;
	char	eta[32] = "?";

	if (!bf->bf_tty || (!last && now - bf->bf_shown_us < 200000))
		return;
	bf->bf_shown_us = now;
	rate = secs > 0 ? bf->bf_run_examined / secs : 0;
	if (bf->bf_total >= 0 && rate > 0) {
		left = bf->bf_total - bf->bf_examined;
		if (left < 0)
			left = 0;
		snprintf(eta, sizeof(eta), "%" PRId64 "s",
		    (int64_t)(left / rate + 0.5));
	}
	if (bf->bf_total >= 0)
		fprintf(stderr, "\r%" PRId64 "/~%" PRId64 " rows, %" PRId64
		    " changed, %.0f rows/s, ETA %s   ", bf->bf_examined,
		    bf->bf_total, bf->bf_changed, rate, eta);
	else
		fprintf(stderr, "\r%" PRId64 " rows, %" PRId64 " changed, "
		    "%.0f rows/s   ", bf->bf_examined, bf->bf_changed, rate);
	if (last)
		fputc('\n', stderr);
}

/*
 * Read up to N rows of device dev after the resume point (outside any
 * transaction) and render them into bf_ts_arr and bf_dec_arr, moving the
 * resume point to the last; their number, 0 when the device has no more,
 * -1 on error.
 */
static int
backfill_read(struct backfill *bf, const char *dev)
{
	char		 lim[24];
	const char	*params[4] = { dev, bf->bf_ts[0] ? bf->bf_ts : bf->bf_from,
			    bf->bf_upto, lim };
	PGresult	*res;
	int		 i, rows;

	snprintf(lim, sizeof(lim), "%" PRId64, bf->bf_chunk);
	res = backfill_exec(bf, "reading a chunk", bf->bf_ts[0] ?
	    "SELECT ts::text, attributes::text FROM positions WHERE "
	    "device_id = $1 AND ts > $2::timestamptz AND ts <= $3::timestamptz "
	    "ORDER BY ts LIMIT $4::bigint" :
	    "SELECT ts::text, attributes::text FROM positions WHERE "
	    "device_id = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz "
	    "ORDER BY ts LIMIT $4::bigint", 4, params, PGRES_TUPLES_OK);
	if (res == NULL)
		return -1;
	if ((rows = PQntuples(res)) == 0) {
		PQclear(res);
		return 0;
	}
	buf_reset(&bf->bf_ts_arr);
	buf_reset(&bf->bf_dec_arr);
	for (i = 0; i < rows; i++) {
		backfill_elem(&bf->bf_ts_arr, PQgetvalue(res, i, 0),
		    (size_t)PQgetlength(res, i, 0));
		if (backfill_render(bf, dev, PQgetvalue(res, i, 1),
		    (size_t)PQgetlength(res, i, 1)) == -1) {
			PQclear(res);
			fprintf(stderr, "processor backfill: out of memory\n");
			return -1;
		}
	}
	buf_putc(&bf->bf_ts_arr, '}');
	buf_putc(&bf->bf_dec_arr, '}');
	snprintf(bf->bf_dev, sizeof(bf->bf_dev), "%s", dev);
	snprintf(bf->bf_ts, sizeof(bf->bf_ts), "%s",
	    PQgetvalue(res, rows - 1, 0));
	PQclear(res);
	return rows;
}

/*
 * One transaction writes the rows read whose decoded value differs and the
 * job's progress; the counts move only once it commits.
 */
static int
backfill_write(struct backfill *bf, const char *dev, int rows)
{
	char		 ex[24], ch[24];
	const char	*params[3] = { dev, NULL, NULL };
	const char	*pp[5] = { bf->bf_job, dev, bf->bf_ts, ex, ch };
	PGresult	*res;
	int64_t		 changed;

	if ((res = backfill_exec(bf, "BEGIN", "BEGIN", 0, NULL,
	    PGRES_COMMAND_OK)) == NULL)
		return -1;
	PQclear(res);
	params[1] = buf_cstr(&bf->bf_ts_arr);
	params[2] = buf_cstr(&bf->bf_dec_arr);
	if ((res = backfill_exec(bf, "updating a chunk", "UPDATE positions p "
	    "SET decoded = v.d::jsonb FROM unnest($2::timestamptz[], "
	    "$3::text[]) AS v(ts, d) WHERE p.device_id = $1 AND "
	    "p.ts = v.ts AND p.decoded IS DISTINCT FROM v.d::jsonb", 3, params,
	    PGRES_COMMAND_OK)) == NULL)
		goto fail;
	changed = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	snprintf(ex, sizeof(ex), "%d", rows);
	snprintf(ch, sizeof(ch), "%" PRId64, changed);
	if ((res = backfill_exec(bf, "saving the progress", "UPDATE "
	    "backfill_jobs SET last_device = $2, last_ts = $3, "
	    "examined = examined + $4, changed = changed + $5, "
	    "updated_at = now() WHERE job = $1", 5, pp,
	    PGRES_COMMAND_OK)) == NULL)
		goto fail;
	PQclear(res);
	if ((res = backfill_exec(bf, "COMMIT", "COMMIT", 0, NULL,
	    PGRES_COMMAND_OK)) == NULL)
		return -1;
	PQclear(res);
	bf->bf_examined += rows;
	bf->bf_changed += changed;
	bf->bf_run_examined += rows;
	bf->bf_run_changed += changed;
	return 0;
 fail:
	PQclear(PQexec(bf->bf_conn, "ROLLBACK"));
	return -1;
}

/*
 * One chunk of device dev after the resume point: read up to N rows,
 * render them, write those whose decoded value differs.  1 when the device
 * has no more rows, 0 when it may, -1 on error.
 */
static int
backfill_chunk(struct backfill *bf, const char *dev)
{
	int	rows;

	if ((rows = backfill_read(bf, dev)) <= 0)
		return rows == 0 ? 1 : -1;
	if (backfill_write(bf, dev, rows) == -1)
		return -1;
	backfill_progress(bf, 0);
	return rows < bf->bf_chunk ? 1 : 0;
}

static int
backfill_run(struct backfill *bf)
{
	char		 dev[POSITION_DEVICE_MAX + 1];
	const char	*params[1] = { bf->bf_job };
	PGresult	*res;
	int		 r, first = 1;

	bf->bf_start_us = race_cli_now_us();
	/* resume inside the device of the last chunk, else from the start */
	snprintf(dev, sizeof(dev), "%s", bf->bf_dev);
	if (bf->bf_dev[0] == '\0')
		bf->bf_ts[0] = '\0';
	for (;;) {
		if ((r = backfill_next(bf, dev, first, dev, sizeof(dev))) == -1)
			return RACE_CLI_FAIL;
		if (r == 1)
			break;
		if (!first || strcmp(dev, bf->bf_dev) != 0)
			bf->bf_ts[0] = '\0';
		first = 0;
		do {
			if (race_cli_stopping()) {
				backfill_progress(bf, 1);
				printf("interrupted: %" PRId64 " rows examined, %"
				    PRId64 " changed; committed, run it again "
				    "to continue\n", bf->bf_examined,
				    bf->bf_changed);
				return RACE_CLI_INTERRUPTED;
			}
			if ((r = backfill_chunk(bf, dev)) == -1)
				return RACE_CLI_FAIL;
		} while (r == 0);
	}
	if ((res = backfill_exec(bf, "finishing the job", "UPDATE backfill_jobs "
	    "SET finished_at = now(), updated_at = now() WHERE job = $1", 1,
	    params, PGRES_COMMAND_OK)) == NULL)
		return RACE_CLI_FAIL;
	PQclear(res);
	backfill_progress(bf, 1);
	printf("backfill %s: %" PRId64 " rows examined, %" PRId64 " changed "
	    "(this run %" PRId64 " and %" PRId64 " in %.1f s)\n", bf->bf_job,
	    bf->bf_examined, bf->bf_changed, bf->bf_run_examined,
	    bf->bf_run_changed, (race_cli_now_us() - bf->bf_start_us) / 1e6);
	return RACE_CLI_OK;
}

/* A timestamp as PostgreSQL reads it, normalized (UTC); -1 having said why. */
static int
backfill_ts(struct backfill *bf, const char *opt, const char *in, char *out,
    size_t len)
{
	const char	*params[1] = { in };
	PGresult	*res;

	res = PQexecParams(bf->bf_conn, "SELECT $1::timestamptz::text", 1, NULL,
	    params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "processor backfill: %s %s: %.*s\n", opt, in,
		    (int)strcspn(PQerrorMessage(bf->bf_conn), "\n"),
		    PQerrorMessage(bf->bf_conn));
		PQclear(res);
		return -1;
	}
	snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* The command line: what the job is, besides bf_device and bf_chunk. */
struct backfill_args {
	const char	*ba_family;
	const char	*ba_from;
	const char	*ba_to;
	char		 ba_nto[64];	/* --to normalized (backfill_ts) */
	int		 ba_restart;
};

/* backfill_args and backfill_setup: all is well, go on (not an exit status) */
#define BACKFILL_GO	-1

/* One option into bf and a; BACKFILL_GO, or the exit status. */
static int
backfill_opt(struct backfill *bf, struct backfill_args *a, int ch)
{
	switch (ch) {
	case 'F':
	case 'd':	/* one or the other: backfill_misuse */
		*(ch == 'F' ? &a->ba_family : &bf->bf_device) = optarg;
		break;
	case 'f':
	case 't':	/* both or neither: backfill_misuse */
		*(ch == 'f' ? &a->ba_from : &a->ba_to) = optarg;
		break;
	case 'n':
		if (race_cli_number(optarg, 1, BACKFILL_CHUNK_MAX,
		    &bf->bf_chunk) == -1) {
			fprintf(stderr, "processor backfill: --chunk: "
			    "1 to %d rows\n", BACKFILL_CHUNK_MAX);
			return RACE_CLI_USAGE;
		}
		break;
	case 'r':
		a->ba_restart = 1;
		break;
	case 'h':
		backfill_usage(stdout);
		return RACE_CLI_OK;
	default:
		backfill_usage(stderr);
		return RACE_CLI_USAGE;
	}
	return BACKFILL_GO;
}

/* What is wrong with the options as a whole; NULL when nothing is. */
static const char *
backfill_misuse(const struct backfill *bf, const struct backfill_args *a,
    int extra)
{
	if (extra)
		return "unexpected argument";
	if ((a->ba_family == NULL) == (bf->bf_device == NULL))
		return "one of --family and --device";
	if ((a->ba_from == NULL) != (a->ba_to == NULL))
		return "--from and --to go together";
	if (bf->bf_device != NULL &&
	    strlen(bf->bf_device) > POSITION_DEVICE_MAX)
		return "--device: too long";
	return NULL;
}

/* "decoded" and the options into bf and a; BACKFILL_GO, or the exit status. */
static int
backfill_args(struct backfill *bf, struct backfill_args *a, int argc,
    char **argv)
{
	static const struct option longopts[] = {
		{ "family", required_argument, NULL, 'F' },
		{ "device", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "chunk", required_argument, NULL, 'n' },
		{ "restart", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*why;
	int		 ch, rc;

	optind = 1;
	if (argc < 2 || strcmp(argv[1], "decoded") != 0) {
		fprintf(stderr, "processor backfill: what to backfill: "
		    "\"decoded\"\n");
		backfill_usage(stderr);
		return RACE_CLI_USAGE;
	}
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "F:d:f:t:n:rh", longopts,
	    NULL)) != -1)
		if ((rc = backfill_opt(bf, a, ch)) != BACKFILL_GO)
			return rc;
	if ((why = backfill_misuse(bf, a, optind != argc)) != NULL) {
		fprintf(stderr, "processor backfill: %s\n", why);
		backfill_usage(stderr);
		return RACE_CLI_USAGE;
	}
	return BACKFILL_GO;
}

/*
 * The IO dictionary (io_mappings, else file), the family, the job's name,
 * the devices to walk and the job's row; BACKFILL_GO, or the exit status.
 */
static int
backfill_setup(struct backfill *bf, const struct backfill_args *a,
    const struct config *cf, const struct iomap *file)
{
	if (race_iodict_load(&bf->bf_dict, bf->bf_conn, file,
	    cf->cf_default_family) == -1) {
		fprintf(stderr, "processor backfill: cannot load the IO "
		    "dictionary\n");
		return RACE_CLI_FAIL;
	}
	if (bf->bf_dict.rx_map == NULL) {
		fprintf(stderr, "processor backfill: io_mappings is empty and "
		    "the file did not load: nothing to decode with\n");
		return RACE_CLI_FAIL;
	}
	if (a->ba_family != NULL && (bf->bf_fam =
	    iomap_family(bf->bf_dict.rx_map, a->ba_family)) == NULL) {
		fprintf(stderr, "processor backfill: --family %s: not in the IO "
		    "dictionary (%s)\n", a->ba_family, bf->bf_dict.rx_table ?
		    "io_mappings" : "the file");
		return RACE_CLI_USAGE;
	}
	snprintf(bf->bf_job, sizeof(bf->bf_job), "decoded %s=%s%s%s%s%s",
	    a->ba_family ? "family" : "device", a->ba_family ? a->ba_family :
	    bf->bf_device, a->ba_from ? " from=" : "", a->ba_from ?
	    bf->bf_from : "", a->ba_to ? " to=" : "",
	    a->ba_to ? a->ba_nto : "");
	if (backfill_list(bf) == -1) {
		fprintf(stderr, "processor backfill: out of memory\n");
		return RACE_CLI_FAIL;
	}
	if (backfill_job(bf, a->ba_to ? a->ba_nto : NULL, a->ba_restart) == -1)
		return RACE_CLI_FAIL;
	return BACKFILL_GO;
}

int
race_backfill_main(const struct config *cf, int argc, char **argv)
{
	struct backfill		 bf;
	struct backfill_args	 a;
	struct iomap		 file;
	char			 err[256];
	int			 file_ok, rc;

	memset(&bf, 0, sizeof(bf));
	memset(&a, 0, sizeof(a));
	bf.bf_chunk = BACKFILL_CHUNK;
	if ((rc = backfill_args(&bf, &a, argc, argv)) != BACKFILL_GO)
		return rc;
	if ((bf.bf_conn = race_cli_connect(cf, "backfill")) == NULL)
		return RACE_CLI_FAIL;
	bf.bf_tty = isatty(2);
	snprintf(bf.bf_from, sizeof(bf.bf_from), "-infinity");
	if (a.ba_from != NULL && (backfill_ts(&bf, "--from", a.ba_from,
	    bf.bf_from, sizeof(bf.bf_from)) == -1 || backfill_ts(&bf, "--to",
	    a.ba_to, a.ba_nto, sizeof(a.ba_nto)) == -1)) {
		PQfinish(bf.bf_conn);
		return RACE_CLI_USAGE;
	}
	memset(&file, 0, sizeof(file));
	if (!(file_ok = race_iodict_file(&file, err, sizeof(err)) == 0))
		fprintf(stderr, "processor backfill: IO dictionary file: %s\n",
		    err);
	rc = backfill_setup(&bf, &a, cf, file_ok ? &file : NULL);
	if (rc == BACKFILL_GO) {
		race_cli_catch_stop();
		buf_init(&bf.bf_ts_arr);
		buf_init(&bf.bf_dec_arr);
		rc = backfill_run(&bf);
		buf_free(&bf.bf_ts_arr);
		buf_free(&bf.bf_dec_arr);
	}
	free(bf.bf_out);
	free(bf.bf_list);
	race_iodict_free(&bf.bf_dict);
	if (file_ok)
		iomap_free(&file);
	PQfinish(bf.bf_conn);
	return rc;
}
