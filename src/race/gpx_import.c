/* processor import gpx: an OpenRally roadbook into one stage's gate rows, in one transaction. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "conf/config.h"
#include "util/buf.h"
#include "race/gpx.h"
#include "race/race_cli.h"
#include "race/race_modes.h"

struct gpx_args {
	const char	*a_file;
	const char	*a_event;
	int		 a_stage;
	int		 a_dry_run;
	int		 a_replace;
	struct gpx_opts	 a_opts;
};

static void
gpx_usage(FILE *f)
{
	fprintf(f, "usage: processor [-c file] import gpx FILE --event E "
	    "--stage N [--dry-run]\n"
	    "                 [--replace] [--line-width M] [--zone-width M]\n");
}

static int
gpx_positive(const char *s, double *v)
{
	char	*end;

	errno = 0;
	*v = strtod(s, &end);
	return errno == 0 && *end == '\0' && end != s && *v > 0 && *v < 1e4 ?
	    0 : -1;
}

static int
gpx_args(int argc, char **argv, struct gpx_args *a)
{
	static const struct option longopts[] = {
		{ "event", required_argument, NULL, 'e' },
		{ "stage", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "replace", no_argument, NULL, 'r' },
		{ "line-width", required_argument, NULL, 'L' },
		{ "zone-width", required_argument, NULL, 'Z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	long	 n;
	int	 ch;

	memset(a, 0, sizeof(*a));
	a->a_opts.go_line_w = GPX_LINE_WIDTH_M;
	a->a_opts.go_zone_w = GPX_ZONE_WIDTH_M;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "e:s:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e':
			a->a_event = optarg;
			break;
		case 's':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 ||
			    n > 100000) {
				fprintf(stderr, "processor: --stage %s is not a "
				    "stage number\n", optarg);
				return -1;
			}
			a->a_stage = (int)n;
			break;
		case 'n':
			a->a_dry_run = 1;
			break;
		case 'r':
			a->a_replace = 1;
			break;
		case 'L':
		case 'Z':
			if (gpx_positive(optarg, ch == 'L' ? &a->a_opts.go_line_w :
			    &a->a_opts.go_zone_w) == -1) {
				fprintf(stderr, "processor: --%s %s is not a "
				    "width in metres\n", ch == 'L' ? "line-width" :
				    "zone-width", optarg);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "gpx") != 0) {
		fprintf(stderr, "processor: import takes the format (gpx) and "
		    "one file\n");
		return -1;
	}
	a->a_file = argv[optind + 1];
	if (a->a_event == NULL || a->a_stage == 0) {
		fprintf(stderr, "processor: import gpx needs --event and "
		    "--stage\n");
		return -1;
	}
	return 0;
}

static int
gpx_slurp(const char *path, struct buf *b)
{
	char	 chunk[65536];
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->b_len + n > GPX_FILE_MAX || buf_append(b, chunk, n) == -1) {
			fclose(f);
			errno = EFBIG;
			return -1;
		}
	}
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	return 0;
}

static void
gpx_print(const struct gpx_args *a, const struct gpx_book *bk,
    const struct gpx_gate *g, size_t n)
{
	struct buf	geo;
	size_t		i;

	printf("stage %d of event %s: \"%s\" (created if missing); %zu gates\n",
	    a->a_stage, a->a_event, bk->gb_name[0] ? bk->gb_name : "", n);
	for (i = 0; i < n; i++) {
		buf_init(&geo);
		gpx_geometry(&g[i], &geo);
		printf("gate %d %s %s", g[i].gg_order, gpx_kind(g[i].gg_kind),
		    g[i].gg_name);
		if (g[i].gg_kind == GG_SPEED_ZONE)
			printf(" limit %.1f km/h", g[i].gg_limit);
		printf(" direction %s (line %d): %s\n",
		    gpx_direction(g[i].gg_kind), g[i].gg_line,
		    buf_cstr(&geo) ? buf_cstr(&geo) : "");
		buf_free(&geo);
	}
}

static PGresult *
gpx_exec(PGconn *conn, const char *sql, int n, const char *const *params,
    ExecStatusType want, const char *what)
{
	PGresult	*res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL,
	    0);

	if (PQresultStatus(res) == want)
		return res;
	fprintf(stderr, "processor: %s: %.*s\n", what,
	    (int)strcspn(PQresultErrorMessage(res), "\n"),
	    PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

/* The event by code, or by id when the code is all digits and unknown. */
static const char gpx_event_sql[] =
	"SELECT id FROM events WHERE code = $1 UNION ALL "
	"SELECT id FROM events WHERE $1 ~ '^[0-9]{1,18}$' AND id = $1::int8 "
	"AND NOT EXISTS (SELECT 1 FROM events WHERE code = $1) LIMIT 1";

/* A statement that returns no rows; 0, or -1 having said why. */
static int
gpx_command(PGconn *conn, const char *sql, int n, const char *const *params,
    const char *what)
{
	PGresult	*res;

	if ((res = gpx_exec(conn, sql, n, params, PGRES_COMMAND_OK, what)) ==
	    NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* The id of the event --event names into event; an exit code. */
static int
gpx_event_id(PGconn *conn, const struct gpx_args *a, char *event, size_t len)
{
	const char	*p[1] = { a->a_event };
	PGresult	*res;

	if ((res = gpx_exec(conn, gpx_event_sql, 1, p, PGRES_TUPLES_OK,
	    "reading events")) == NULL)
		return RACE_EXIT_TEMPFAIL;
	if (PQntuples(res) == 0) {
		fprintf(stderr, "processor: no event with code (or id) %s\n",
		    a->a_event);
		PQclear(res);
		return RACE_EXIT_DATAERR;
	}
	snprintf(event, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return RACE_EXIT_OK;
}

/*
 * The id of stage --stage of the event into stage, its row locked until
 * COMMIT; a stage the event lacks is created, named after the roadbook
 * (*created set).  0, or -1 having said why.
 */
static int
gpx_stage_id(PGconn *conn, const struct gpx_args *a, const struct gpx_book *bk,
    const char *event, char *stage, size_t len, int *created)
{
	PGresult	*res;
	const char	*p[3];
	char		 order[16], name[GPX_NAME_MAX + 16];

	snprintf(order, sizeof(order), "%d", a->a_stage);
	p[0] = event;
	p[1] = order;
	if ((res = gpx_exec(conn, "SELECT id FROM stages WHERE event_id = $1 "
	    "AND stage_order = $2 FOR UPDATE", 2, p, PGRES_TUPLES_OK,
	    "reading stages")) == NULL)
		return -1;
	*created = 0;
	if (PQntuples(res) == 0) {
		PQclear(res);
		snprintf(name, sizeof(name), "%s", bk->gb_name);
		if (name[0] == '\0')
			snprintf(name, sizeof(name), "Stage %d", a->a_stage);
		p[2] = name;
		if ((res = gpx_exec(conn, "INSERT INTO stages (event_id, "
		    "stage_order, name) VALUES ($1, $2, $3) RETURNING id", 3, p,
		    PGRES_TUPLES_OK, "creating the stage")) == NULL)
			return -1;
		*created = 1;
	}
	snprintf(stage, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * A stage that has gates is refused, unless --replace and no timing record
 * of the stage refers to them: then they are deleted.  An exit code.
 */
static int
gpx_make_room(PGconn *conn, const struct gpx_args *a, const char *stage)
{
	const char	*p[1] = { stage };
	PGresult	*res;

	if ((res = gpx_exec(conn, "SELECT (SELECT count(*) FROM gates WHERE "
	    "stage_id = $1), (SELECT count(*) FROM timing_records WHERE "
	    "stage_id = $1)", 1, p, PGRES_TUPLES_OK, "reading gates")) == NULL)
		return RACE_EXIT_TEMPFAIL;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 && (!a->a_replace ||
	    strcmp(PQgetvalue(res, 0, 1), "0") != 0)) {
		fprintf(stderr, "processor: stage %d of event %s already has %s "
		    "gates%s\n", a->a_stage, a->a_event, PQgetvalue(res, 0, 0),
		    a->a_replace ? " and timing records: not replaced" :
		    "; --replace deletes them first");
		PQclear(res);
		return RACE_EXIT_DATAERR;
	}
	PQclear(res);
	/* a failed DELETE has said why; nothing is inserted after it */
	if (a->a_replace && gpx_command(conn, "DELETE FROM gates WHERE "
	    "stage_id = $1", 1, p, "deleting gates") == -1)
		return RACE_EXIT_TEMPFAIL;
	return RACE_EXIT_OK;
}

/* The gates as rows of the stage, in order; 0, or -1 having said why. */
static int
gpx_insert(PGconn *conn, const char *stage, const struct gpx_gate *g,
    size_t n)
{
	struct buf	 geo;
	const char	*p[7];
	char		 order[16], limit[32];
	size_t		 i;
	int		 rc;

	p[0] = stage;
	for (i = 0; i < n; i++) {
		buf_init(&geo);
		if (gpx_geometry(&g[i], &geo) == -1) {
			buf_free(&geo);
			fprintf(stderr, "processor: out of memory\n");
			return -1;
		}
		snprintf(order, sizeof(order), "%d", g[i].gg_order);
		snprintf(limit, sizeof(limit), "%.3f", g[i].gg_limit);
		p[1] = gpx_kind(g[i].gg_kind);
		p[2] = order;
		p[3] = g[i].gg_name;
		p[4] = buf_cstr(&geo);
		p[5] = gpx_direction(g[i].gg_kind);
		p[6] = g[i].gg_kind == GG_SPEED_ZONE ? limit : NULL;
		rc = gpx_command(conn, "INSERT INTO gates (stage_id, kind, "
		    "gate_order, name, geometry, direction, speed_limit_kmh) "
		    "VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)", 7, p,
		    "inserting a gate");
		buf_free(&geo);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * The stage and its gates in one transaction: nothing is written unless
 * all is (the caller's PQfinish rolls back an open one).
 */
static int
gpx_write(PGconn *conn, const struct gpx_args *a, const struct gpx_book *bk,
    const struct gpx_gate *g, size_t n)
{
	char	event[24], stage[24];
	int	rc, created;

	if (gpx_command(conn, "BEGIN", 0, NULL, "BEGIN") == -1)
		return RACE_EXIT_TEMPFAIL;
	if ((rc = gpx_event_id(conn, a, event, sizeof(event))) != RACE_EXIT_OK)
		return rc;
	if (gpx_stage_id(conn, a, bk, event, stage, sizeof(stage),
	    &created) == -1)
		return RACE_EXIT_TEMPFAIL;
	if ((rc = gpx_make_room(conn, a, stage)) != RACE_EXIT_OK)
		return rc;
	if (gpx_insert(conn, stage, g, n) == -1 ||
	    gpx_command(conn, "COMMIT", 0, NULL, "COMMIT") == -1)
		return RACE_EXIT_TEMPFAIL;
	printf("imported %zu gates into stage %d (id %s%s) of event %s\n", n,
	    a->a_stage, stage, created ? ", created" : "", a->a_event);
	return RACE_EXIT_OK;
}

int
race_gpx_main(const struct config *cf, int argc, char **argv)
{
	struct gpx_args	 a;
	struct gpx_book	 bk;
	struct gpx_gate	*g = NULL;
	struct buf	 doc;
	PGconn		*conn;
	char		 err[512];
	size_t		 n;
	int		 rc;

	if (gpx_args(argc, argv, &a) == -1) {
		gpx_usage(stderr);
		return RACE_EXIT_USAGE;
	}
	buf_init(&doc);
	if (gpx_slurp(a.a_file, &doc) == -1) {
		fprintf(stderr, "processor: %s: %s\n", a.a_file,
		    errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		buf_free(&doc);
		return RACE_EXIT_NOINPUT;
	}
	if (gpx_parse(doc.b_data ? doc.b_data : "", doc.b_len, &bk, err,
	    sizeof(err)) == -1 || gpx_gates(&bk, &a.a_opts, &g, &n, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "processor: %s: %s\n", a.a_file, err);
		buf_free(&doc);
		gpx_book_free(&bk);
		return RACE_EXIT_DATAERR;
	}
	buf_free(&doc);
	if (a.a_dry_run) {
		gpx_print(&a, &bk, g, n);
		printf("dry run: nothing written\n");
		rc = RACE_EXIT_OK;
	} else {
		/* connect_timeout and statement_timeout, as every CLI mode */
		if ((conn = race_cli_connect(cf, "gpx import")) == NULL)
			rc = RACE_EXIT_TEMPFAIL;
		else
			rc = gpx_write(conn, &a, &bk, g, n);
		PQfinish(conn);	/* an open transaction rolls back */
	}
	free(g);
	gpx_book_free(&bk);
	return rc;
}
