/* Race-control modes of the processor binary: import gpx and check (foreground, synchronous libpq). */
#ifndef PROCESSOR_RACE_MODES_H
#define PROCESSOR_RACE_MODES_H

struct config;

/* import gpx: exit codes besides 0 (EX_* of sysexits.h) */
#define RACE_EXIT_OK		0
#define RACE_EXIT_USAGE		64	/* bad command line */
#define RACE_EXIT_DATAERR	65	/* malformed roadbook, unknown event */
#define RACE_EXIT_NOINPUT	66	/* the file cannot be read */
#define RACE_EXIT_TEMPFAIL	75	/* PostgreSQL unreachable or failed */
#define RACE_EXIT_CONFIG	78	/* bad configuration */

/* check: 0 no findings, 1 warnings only, 2 errors; 64, 65, 75 as above */
#define CHECK_EXIT_WARNINGS	1
#define CHECK_EXIT_ERRORS	2

/*
 * processor import gpx FILE --event E --stage N [--dry-run]: argv[0] is
 * "import".  Returns an exit code.
 */
int	race_gpx_main(const struct config *, int argc, char **argv);

/*
 * processor check --event E [--top-speed KMH] [--rate HZ]: argv[0] is
 * "check".  Returns an exit code.
 */
int	race_check_main(const struct config *, int argc, char **argv);

#endif
