/* Race-control modes of the processor binary: the dispatcher and what the modes share. */
#ifndef PROCESSOR_RACE_CLI_H
#define PROCESSOR_RACE_CLI_H

#include <stdint.h>

#include <libpq-fe.h>

struct config;
struct race_event;
struct race_stage;

/* Exit codes of the modes (processor-race(8), EXIT STATUS). */
#define RACE_CLI_OK		0	/* done */
#define RACE_CLI_FAIL		1	/* no such stage/entry/gate, a database error */
#define RACE_CLI_USAGE		64	/* bad command line (EX_USAGE) */
#define RACE_CLI_INTERRUPTED	130	/* SIGINT: stopped between devices (chunks) */

/* One mode: argv[0] is its name; returns one of the exit codes above. */
struct race_cli_cmd {
	const char	*cc_name;
	int		(*cc_main)(const struct config *, int, char **);
	const char	*cc_usage;	/* after "processor [-c file] " */
};

int	race_replay_main(const struct config *, int, char **);
int	race_evidence_main(const struct config *, int, char **);
int	race_backfill_main(const struct config *, int, char **);

/* A connection for a mode (UTC, the statement timeout); NULL: said why. */
PGconn	*race_cli_connect(const struct config *, const char *mode);
/*
 * Load the stages being timed into ev and find stage id in them; 0, or -1
 * having said "stage N: no such stage being timed" (or the database error).
 */
int	race_cli_stage(PGconn *, const struct config *, const char *mode,
	    const char *id, struct race_event *, const struct race_stage **);
/* A whole decimal number in [lo, hi]; -1 if s is not one. */
int	race_cli_number(const char *, int64_t, int64_t, int64_t *);
int64_t	race_cli_now_us(void);
/*
 * SIGINT and SIGTERM only ask a long mode to stop between units of work
 * (each its own transaction); race_cli_stopping says whether one came.
 */
void	race_cli_catch_stop(void);
int	race_cli_stopping(void);
/* "2026-05-01 10:11:12.123456" (UTC) into buf. */
char	*race_cli_ts(int64_t us, char *buf, size_t len);

#endif
