/* Race-control modes of the processor binary: `processor [-c file] MODE ...`. */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "conf/config.h"
#include "race/race.h"
#include "race/race_cli.h"
#include "race/race_event.h"
#include "race/race_modes.h"

/*
 * The modes, one row each: name, entry point, usage line.  Another mode is
 * one row here and its own file.
 */
static const struct race_cli_cmd race_cli_cmds[] = {
	{ "replay", race_replay_main, "replay --stage S [--device D] "
	    "[--from T --to T] [--dry-run | --apply]" },
	{ "evidence", race_evidence_main, "evidence --entry E --stage S "
	    "--gate G [--pass N] [--svg FILE]" },
	{ "import", race_gpx_main, "import gpx FILE --event E --stage N "
	    "[--dry-run] [--replace]" },
	{ "check", race_check_main, "check --event E [--top-speed KMH] "
	    "[--rate HZ]" },
	{ "backfill", race_backfill_main, "backfill decoded --family F | "
	    "--device D [--from T --to T] [--chunk N] [--restart]" },
};

static void
race_cli_usage(FILE *f)
{
	size_t	i;

	for (i = 0; i < sizeof(race_cli_cmds) / sizeof(race_cli_cmds[0]); i++)
		fprintf(f, "%s processor [-c file] %s\n", i ? "      " : "usage:",
		    race_cli_cmds[i].cc_usage);
}

int
race_cli_main(const struct config *cf, int argc, char **argv)
{
	size_t	i;

	for (i = 0; i < sizeof(race_cli_cmds) / sizeof(race_cli_cmds[0]); i++)
		if (strcmp(argv[0], race_cli_cmds[i].cc_name) == 0)
			return race_cli_cmds[i].cc_main(cf, argc, argv);
	fprintf(stderr, "processor: unknown mode '%s'\n", argv[0]);
	race_cli_usage(stderr);
	return RACE_CLI_USAGE;
}

PGconn *
race_cli_connect(const struct config *cf, const char *mode)
{
	const char	*keys[] = { "dbname", "application_name",
	    "connect_timeout", NULL };
	const char	*vals[] = { cf->cf_pg_url, NULL, "10", NULL };
	char		 app[64], sql[96];
	PGconn		*conn;
	PGresult	*res;

	snprintf(app, sizeof(app), "processor-%s", mode);
	vals[1] = app;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "processor %s: cannot connect to PostgreSQL: "
		    "%.*s\n", mode, conn ? (int)strcspn(PQerrorMessage(conn),
		    "\n") : 13, conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	snprintf(sql, sizeof(sql), "SET TimeZone = 'UTC'; "
	    "SET statement_timeout = %d", config_sync_statement_timeout(cf));
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "processor %s: %s", mode, PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

int
race_cli_number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
race_cli_stage(PGconn *conn, const struct config *cf, const char *mode,
    const char *id, struct race_event *ev, const struct race_stage **out)
{
	char	err[512];
	int64_t	sid;
	size_t	i;

	if (race_event_load(conn, cf->cf_late_window_s, ev, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "processor %s: cannot load the events: %s\n",
		    mode, err);
		return -1;
	}
	if (race_cli_number(id, 1, INT64_MAX, &sid) == 0)
		for (i = 0; i < ev->ev_nstages; i++)
			if (ev->ev_stages[i].rs_id == sid) {
				*out = &ev->ev_stages[i];
				return 0;
			}
	fprintf(stderr, "processor %s: stage %s: no such stage being timed\n",
	    mode, id);
	return -1;
}

int64_t
race_cli_now_us(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

char *
race_cli_ts(int64_t us, char *buf, size_t len)
{
	time_t		t = (time_t)(us >= 0 ? us / 1000000 :
			    (us - 999999) / 1000000);
	struct tm	tm;
	char		s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06d", s, (int)(us - (int64_t)t * 1000000));
	return buf;
}

static volatile sig_atomic_t	race_cli_stop;

static void
race_cli_stop_handler(int sig)
{
	(void)sig;
	race_cli_stop = 1;
}

void
race_cli_catch_stop(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = race_cli_stop_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
race_cli_stopping(void)
{
	return race_cli_stop;
}
