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
 * The devices of the stage's entries (each once), one transaction each,
 * stopping between devices on SIGINT: what was applied stays applied and
 * a rerun finds nothing more to do there.
 */
static int
race_replay_run(PGconn *conn, const struct race_event *ev,
    const struct race_stage *rs, const char *device, const char *from,
    const char *to, int mode)
{
	struct race_diff	 diff;
	const char		**dev;
	char			 err[512];
	size_t			 i, n = 0, done = 0;
	int64_t			 t0 = race_cli_now_us();
	int			 tty = isatty(2), in, rc = RACE_CLI_OK;

	if ((dev = calloc(ev->ev_nentries + 1, sizeof(*dev))) == NULL) {
		fprintf(stderr, "processor replay: out of memory\n");
		return RACE_CLI_FAIL;
	}
	for (i = 0; i < ev->ev_nentries; i++) {
		const char *d = ev->ev_entries[i].re_device;

		if (ev->ev_entries[i].re_event != rs->rs_event ||
		    (device != NULL && strcmp(device, d) != 0) ||
		    (n > 0 && strcmp(dev[n - 1], d) == 0))
			continue;
		if (from != NULL &&
		    (in = race_replay_in_window(conn, d, from, to)) != 1) {
			if (in == -1) {
				free(dev);
				return RACE_CLI_USAGE;
			}
			continue;
		}
		dev[n++] = d;
	}
	if (device != NULL && n == 0 && from == NULL) {
		fprintf(stderr, "processor replay: device %s: no entry on stage "
		    "%" PRId64 "\n", device, rs->rs_id);
		free(dev);
		return RACE_CLI_FAIL;
	}
	memset(&diff, 0, sizeof(diff));
	diff.rd_out = stdout;
	for (i = 0; i < n && !race_cli_stopping(); i++) {
		if (race_replay_device(conn, ev, rs, dev[i], race_cli_now_us(),
		    mode, &diff, err, sizeof(err)) != RACE_EVAL_DONE) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "processor replay: device %s: %s\n",
			    dev[i], err);
			rc = RACE_CLI_FAIL;
			break;
		}
		fflush(stdout);
		done++;
		if (tty)
			race_replay_progress(done, n, t0);
	}
	if (tty && done > 0)
		fputc('\n', stderr);
	if (rc == RACE_CLI_OK && race_cli_stopping())
		rc = RACE_CLI_INTERRUPTED;
	printf("replay stage %" PRId64 " (%s): %zu of %zu devices in %.1f s",
	    rs->rs_id, rs->rs_name, done, n,
	    (double)(race_cli_now_us() - t0) / 1e6);
	if (diff.rd_added + diff.rd_changed + diff.rd_removed == 0)
		printf(": no changes\n");
	else
		printf(": %" PRIu64 " added, %" PRIu64 " changed, %" PRIu64
		    " removed (%s)\n", diff.rd_added, diff.rd_changed,
		    diff.rd_removed, mode == RACE_DO_APPLY ?
		    "applied, source replay" : "dry run, nothing written");
	if (rc == RACE_CLI_INTERRUPTED)
		printf("interrupted: %zu devices not replayed; the rest is "
		    "committed, run it again to finish\n", n - done);
	free(dev);
	return rc;
}

int
race_replay_main(const struct config *cf, int argc, char **argv)
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
	struct race_event	 ev;
	const struct race_stage	*rs;
	const char		*stage = NULL, *device = NULL, *from = NULL;
	const char		*to = NULL;
	PGconn			*conn;
	int			 ch, mode = RACE_DO_DIFF, modes = 0, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:d:f:t:nah", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			stage = optarg;
			break;
		case 'd':
			device = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'n':
			mode = RACE_DO_DIFF;
			modes++;
			break;
		case 'a':
			mode = RACE_DO_APPLY;
			modes++;
			break;
		case 'h':
			race_replay_usage();
			return RACE_CLI_OK;
		default:
			race_replay_usage();
			return RACE_CLI_USAGE;
		}
	}
	if (stage == NULL || optind != argc || modes > 1 ||
	    (from == NULL) != (to == NULL)) {
		fprintf(stderr, "processor replay: %s\n", stage == NULL ?
		    "--stage is required" : optind != argc ? "unexpected "
		    "argument" : modes > 1 ? "--dry-run and --apply exclude "
		    "each other" : "--from and --to go together");
		race_replay_usage();
		return RACE_CLI_USAGE;
	}
	if ((conn = race_cli_connect(cf, "replay")) == NULL)
		return RACE_CLI_FAIL;
	memset(&ev, 0, sizeof(ev));
	if (race_cli_stage(conn, cf, "replay", stage, &ev, &rs) == -1) {
		race_event_free(&ev);
		PQfinish(conn);
		return RACE_CLI_FAIL;
	}
	race_cli_catch_stop();
	rc = race_replay_run(conn, &ev, rs, device, from, to, mode);
	race_event_free(&ev);
	PQfinish(conn);
	return rc;
}
