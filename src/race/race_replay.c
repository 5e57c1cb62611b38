/* processor replay: re-run the rules on the stored fixes of a stage, diff or apply. */
#include "autoconf.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "race/race_cli.h"
#include "race/race_eval.h"
#include "race/race_event.h"

/* The command line. */
struct race_replay_args {
	const char	*ra_stage;
	const char	*ra_device;		/* only this device */
	const char	*ra_from, *ra_to;	/* only devices with a fix between */
	int		 ra_mode;		/* RACE_DO_DIFF or RACE_DO_APPLY */
	int		 ra_help;
};

/* One run over the devices of a stage. */
struct race_replay {
	const struct race_replay_args	*rp_args;
	const struct race_event		*rp_ev;
	const struct race_stage		*rp_rs;
	const char			**rp_dev;	/* the devices to replay */
	size_t				 rp_ndev;
	size_t				 rp_done;	/* replayed so far */
	struct race_diff		 rp_diff;
	int64_t				 rp_t0;		/* start, microseconds */
};

/* Whether device has a fix in [from, to] (both given); -1 on error. */
static int
race_replay_in_window(PGconn *conn, const char *device, const char *from,
    const char *to)
{
	const char	*params[3] = { device, from, to };
	PGresult	*res;
	int		 rc;

	res = PQexecParams(conn, "SELECT EXISTS (SELECT 1 FROM positions "
	    "WHERE device_id = $1 AND ts >= $2::timestamptz AND "
	    "ts <= $3::timestamptz)", 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "processor replay: --from/--to: %s",
		    PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

static void
race_replay_progress(size_t done, size_t total, int64_t t0)
{
	double	el = (double)(race_cli_now_us() - t0) / 1e6;
	double	rate = el > 0 ? (double)done / el : 0.0;
	double	eta = rate > 0 ? (double)(total - done) / rate : 0.0;

	fprintf(stderr, "\rreplay: %zu/%zu devices, %.1f/s, ETA %d:%02d   ",
	    done, total, rate, (int)eta / 60, (int)eta % 60);
}

static void
race_replay_usage(void)
{
	fprintf(stderr, "usage: processor [-c file] replay --stage S "
	    "[--device D] [--from T --to T] [--dry-run | --apply]\n");
}

/*
 * The devices of the stage's entries into rp_dev, an entry whose device is
 * the previous one's skipped; only --device if given, only those with a fix
 * in [--from, --to] if given.  0, or -1 having said why.
 */
static int
race_replay_pick(PGconn *conn, struct race_replay *rp)
{
	const struct race_replay_args	*a = rp->rp_args;
	const struct race_event		*ev = rp->rp_ev;
	const char			*d;
	size_t				 i, n = 0;
	int				 in;

	for (i = 0; i < ev->ev_nentries; i++) {
		d = ev->ev_entries[i].re_device;
		if (ev->ev_entries[i].re_event != rp->rp_rs->rs_event ||
		    (a->ra_device != NULL && strcmp(a->ra_device, d) != 0) ||
		    (n > 0 && strcmp(rp->rp_dev[n - 1], d) == 0))
			continue;
		if (a->ra_from != NULL && (in = race_replay_in_window(conn, d,
		    a->ra_from, a->ra_to)) != 1) {
			if (in == -1)
				return -1;
			continue;
		}
		rp->rp_dev[n++] = d;
	}
	rp->rp_ndev = n;
	return 0;
}

/*
 * One transaction per device, stopping between devices on SIGINT: what was
 * applied stays applied and a rerun finds nothing more to do there.
 * RACE_CLI_OK, RACE_CLI_INTERRUPTED, or RACE_CLI_FAIL having said why.
 */
static int
race_replay_each(PGconn *conn, struct race_replay *rp)
{
	char	err[512];
	size_t	i;
	int	tty = isatty(2), rc = RACE_CLI_OK;

	for (i = 0; i < rp->rp_ndev && !race_cli_stopping(); i++) {
		if (race_replay_device(conn, rp->rp_ev, rp->rp_rs, rp->rp_dev[i],
		    race_cli_now_us(), rp->rp_args->ra_mode, &rp->rp_diff, err,
		    sizeof(err)) != RACE_EVAL_DONE) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "processor replay: device %s: %s\n",
			    rp->rp_dev[i], err);
			rc = RACE_CLI_FAIL;
			break;
		}
		fflush(stdout);
		rp->rp_done++;
		if (tty)
			race_replay_progress(rp->rp_done, rp->rp_ndev, rp->rp_t0);
	}
	if (tty && rp->rp_done > 0)
		fputc('\n', stderr);
	if (rc == RACE_CLI_OK && race_cli_stopping())
		rc = RACE_CLI_INTERRUPTED;
	return rc;
}

/* The last lines: devices done, the time taken, the changes, what is left. */
static void
race_replay_summary(const struct race_replay *rp, int rc)
{
	const struct race_diff	*d = &rp->rp_diff;

	printf("replay stage %" PRId64 " (%s): %zu of %zu devices in %.1f s",
	    rp->rp_rs->rs_id, rp->rp_rs->rs_name, rp->rp_done, rp->rp_ndev,
	    (double)(race_cli_now_us() - rp->rp_t0) / 1e6);
	if (d->rd_added + d->rd_changed + d->rd_removed == 0)
		printf(": no changes\n");
	else
		printf(": %" PRIu64 " added, %" PRIu64 " changed, %" PRIu64
		    " removed (%s)\n", d->rd_added, d->rd_changed,
		    d->rd_removed, rp->rp_args->ra_mode == RACE_DO_APPLY ?
		    "applied, source replay" : "dry run, nothing written");
	if (rc == RACE_CLI_INTERRUPTED)
		printf("interrupted: %zu devices not replayed; the rest is "
		    "committed, run it again to finish\n",
		    rp->rp_ndev - rp->rp_done);
}

/* The devices of the stage that the command line selects, replayed. */
static int
race_replay_run(PGconn *conn, const struct race_event *ev,
    const struct race_stage *rs, const struct race_replay_args *a)
{
	struct race_replay	rp;
	int			rc;

	memset(&rp, 0, sizeof(rp));
	rp.rp_t0 = race_cli_now_us();
	rp.rp_args = a;
	rp.rp_ev = ev;
	rp.rp_rs = rs;
	rp.rp_diff.rd_out = stdout;
	if ((rp.rp_dev = calloc(ev->ev_nentries + 1, sizeof(*rp.rp_dev))) ==
	    NULL) {
		fprintf(stderr, "processor replay: out of memory\n");
		return RACE_CLI_FAIL;
	}
	if (race_replay_pick(conn, &rp) == -1)
		rc = RACE_CLI_USAGE;	/* most likely --from or --to is no time */
	else if (a->ra_device != NULL && rp.rp_ndev == 0 && a->ra_from == NULL) {
		fprintf(stderr, "processor replay: device %s: no entry on stage "
		    "%" PRId64 "\n", a->ra_device, rs->rs_id);
		rc = RACE_CLI_FAIL;
	} else {
		rc = race_replay_each(conn, &rp);
		race_replay_summary(&rp, rc);
	}
	free(rp.rp_dev);
	return rc;
}

/*
 * The command line into a, up to a --help; 0, or -1 having said why (getopt
 * says it of an unknown option).
 */
static int
race_replay_args(int argc, char **argv, struct race_replay_args *a)
{
	static const struct option longopts[] = {
		{ "stage", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "apply", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch, modes = 0;

	memset(a, 0, sizeof(*a));
	a->ra_mode = RACE_DO_DIFF;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:d:f:t:nah", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			a->ra_stage = optarg;
			break;
		case 'd':
			a->ra_device = optarg;
			break;
		case 'f':
			a->ra_from = optarg;
			break;
		case 't':
			a->ra_to = optarg;
			break;
		case 'n':
		case 'a':
			a->ra_mode = ch == 'a' ? RACE_DO_APPLY : RACE_DO_DIFF;
			modes++;
			break;
		case 'h':
			a->ra_help = 1;
			return 0;
		default:
			return -1;
		}
	}
	if (a->ra_stage == NULL || optind != argc || modes > 1 ||
	    (a->ra_from == NULL) != (a->ra_to == NULL)) {
		fprintf(stderr, "processor replay: %s\n", a->ra_stage == NULL ?
		    "--stage is required" : optind != argc ? "unexpected "
		    "argument" : modes > 1 ? "--dry-run and --apply exclude "
		    "each other" : "--from and --to go together");
		return -1;
	}
	return 0;
}

int
race_replay_main(const struct config *cf, int argc, char **argv)
{
	struct race_replay_args	 a;
	struct race_event	 ev;
	const struct race_stage	*rs;
	PGconn			*conn;
	int			 rc;

	if (race_replay_args(argc, argv, &a) == -1) {
		race_replay_usage();
		return RACE_CLI_USAGE;
	}
	if (a.ra_help) {
		race_replay_usage();
		return RACE_CLI_OK;
	}
	if ((conn = race_cli_connect(cf, "replay")) == NULL)
		return RACE_CLI_FAIL;
	memset(&ev, 0, sizeof(ev));
	if (race_cli_stage(conn, cf, "replay", a.ra_stage, &ev, &rs) == -1) {
		race_event_free(&ev);
		PQfinish(conn);
		return RACE_CLI_FAIL;
	}
	race_cli_catch_stop();
	rc = race_replay_run(conn, &ev, rs, &a);
	race_event_free(&ev);
	PQfinish(conn);
	return rc;
}
