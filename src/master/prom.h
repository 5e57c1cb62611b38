/* Prometheus text exposition (format 0.0.4) of the aggregated worker metrics. */
#ifndef PROCESSOR_PROM_H
#define PROCESSOR_PROM_H

#include <stdint.h>

#include "wire/metrics.h"

struct buf;

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct prom_worker {
	int			 pw_slot;
	int			 pw_up;		/* process alive and said hello */
	int			 pw_ready;	/* connected and consuming */
	uint64_t		 pw_restarts;
	struct worker_stats	 pw_stats;	/* cumulative counters, current gauges */
};

struct prom_input {
	const char		*pi_version;
	int			 pi_configured;	/* workers wanted */
	const struct prom_worker *pi_workers;
	int			 pi_nworkers;
	const struct worker_stats *pi_retired;	/* slots dropped by reloads */
	struct group_stats	 pi_group;
};

/*
 * Convention: every counter appears twice.  processor_worker_X_total{worker="N"}
 * is slot N's count over all its lives (it survives restarts), and
 * processor_X_total (no worker label) is the sum of those plus what slots
 * removed by a reload had counted, so neither ever goes backwards.
 * Histograms are exported as totals only.
 */
int	prom_render(struct buf *, const struct prom_input *);
/* The totals prom_render exports: retired + sum of workers (gauges summed too). */
void	prom_sum(const struct prom_input *, struct worker_stats *);

#endif
