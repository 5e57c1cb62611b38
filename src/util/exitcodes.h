/* Process exit codes: the daemon's (for systemd and scripts) and a worker's (for the master). */
#ifndef PROCESSOR_EXITCODES_H
#define PROCESSOR_EXITCODES_H

/* processor (the master) */
#define EXIT_CLEAN		0	/* stopped on SIGTERM/SIGINT after draining */
#define EXIT_INTERNAL		1	/* broken invariant (fatalx) */
#define EXIT_USAGE		64	/* EX_USAGE: bad command line */
#define EXIT_CRASHLOOP		70	/* EX_SOFTWARE: workers crash-looped, gave up */
#define EXIT_TEMPFAIL		75	/* EX_TEMPFAIL: Redis/PostgreSQL unreachable past startup_timeout */
#define EXIT_CONFIG		78	/* EX_CONFIG: bad configuration */

/* a worker, as seen by the master */
#define WORKER_EXIT_CLEAN	0	/* asked to stop, drained */
#define WORKER_EXIT_RESTART	1	/* failed, restart the slot */
#define WORKER_EXIT_PERMANENT	2	/* cannot work with this config: do not restart */
#define WORKER_EXIT_CRASHED	3	/* fatal signal caught, report written, restart */

#endif
