/* The racing rules live: the evaluator process, and the mark workers leave for it. */
#ifndef PROCESSOR_RACE_H
#define PROCESSOR_RACE_H

struct config;
struct ev_loop;
struct worker_stats;

/*
 * An evaluator process (a slot of the master's table after the workers):
 * reads the events being timed from the contract tables (at start, every
 * refresh_ms), and evaluates the devices the workers marked, from the
 * fixes in positions, into timing_records, stage_results and
 * race_penalties.  Returns a WORKER_EXIT_* code.
 */
int	race_main(const struct config *, int slot, int ipc_fd);

/*
 * In a worker: make every batch transaction mark the devices being timed
 * (SELECT processor_race_mark(), sql/0002_race.sql), so the evaluators
 * see every committed fix.  Only when cf_domain_active.
 */
void	race_mark_batches(const struct config *);

/*
 * The race-control modes (replay, evidence, ...): `processor [-c file]
 * MODE args`, run in the foreground on their own connection.  argv[0] is
 * the mode.  Returns the process's exit code (processor-race(8)).
 */
int	race_cli_main(const struct config *, int argc, char **argv);

/*
 * In a worker: fill positions.decoded with each device's IO dictionary
 * (processor-domain(7)).  Loads the file now; race_io_refresh reads
 * io_mappings and the device map, here every refresh_ms while PostgreSQL
 * is up, and should be called when the worker connects.  Unknown IO ids
 * are counted in stats.
 */
void	race_decode_io(struct ev_loop *, const struct config *,
	    struct worker_stats *);
void	race_io_refresh(void);

#endif
