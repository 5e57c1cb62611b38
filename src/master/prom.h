/* Prometheus text exposition (format 0.0.4) of the aggregated worker metrics. */
#ifndef PROCESSOR_PROM_H
#define PROCESSOR_PROM_H

#include <stdint.h>

#include "util/procstat.h"
#include "wire/metrics.h"

struct buf;

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct prom_worker {
	int			 pw_slot;
	int			 pw_up;		/* process alive and said hello */
	int			 pw_ready;	/* connected and consuming */
	uint64_t		 pw_restarts;
	uint64_t		 pw_stalls;	/* killed for sending no stats */
	struct worker_stats	 pw_stats;	/* cumulative counters, current gauges */
};

struct prom_input {
	const char		*pi_version;
	const char		*pi_revision;	/* git describe, or "unknown" */
	int			 pi_configured;	/* workers wanted */
	const struct prom_worker *pi_workers;
	int			 pi_nworkers;
	const struct worker_stats *pi_retired;	/* slots dropped by reloads */
	struct group_stats	 pi_group;
	const struct procstat	*pi_master;	/* the master process; NULL unknown */
	int			 pi_reload_ok;	/* the last reload (or the start) worked */
	int64_t			 pi_last_commit_ms;	/* Unix ms; 0 none yet */
	int64_t			 pi_now_ms;	/* Unix ms, for ages */
	int			 pi_backlog;	/* the workers are behind (backlog.h) */
};

/*
 * Convention: one family per counter, one series per worker slot:
 * processor_X_total{worker="N"} is slot N's count over all its lives (it
 * survives restarts, so it never goes backwards); sum() gives the total.  A
 * slot removed by a reload takes its series with it.  Histograms are
 * exported summed over the workers, retired slots included.  A value the
 * master does not know (group lag, oldest pending entry, last commit) is
 * left out, never written as a sentinel.
 */
int	prom_render(struct buf *, const struct prom_input *);
/* The totals prom_render exports: retired + sum of workers (gauges summed too). */
void	prom_sum(const struct prom_input *, struct worker_stats *);

#endif
