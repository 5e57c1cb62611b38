/* Worker counters and histograms, sent to the master as absolute snapshots. */
#ifndef PROCESSOR_METRICS_H
#define PROCESSOR_METRICS_H

#include <stdint.h>

#define METRICS_VERSION		8
#define HIST_BUCKETS		20	/* plus +Inf, kept in h_count */
/*
 * A worker whose read filled its COUNT (more is waiting) and whose newest
 * entry is older than this (ws_read_age_ms) is behind: the master then
 * paces the evaluators (master/backlog.c).  At a steady rate a read is
 * not full and its newest entry a few ms old, so pacing never starts
 * there (the steady bench at 5000/s: nothing deferred); a full read of
 * entries a quarter of a second old is a backlog being drained.  1000 ms,
 * the first value, left a drained backlog unpaced until its entries were
 * a second old: in the bench, with the stream filled just before the
 * start, the first fifth of the drain, which held the ratio of the
 * rules-on drain at 0.69-0.77 of rules-off; 250 ms gave 0.80-0.87
 * (docs/benchmark.md, issue 11).
 */
#define METRICS_BEHIND_MS	250

enum hist_kind {
	HIST_BATCH_SIZE = 0,	/* records per batch */
	HIST_WRITE_SECONDS,	/* BEGIN..COMMIT */
	HIST_E2E_SECONDS,	/* commit time - stream entry id ms */
	HIST_RACE_SECONDS,	/* fixes committed -> their timing committed */
	HIST_KIND_COUNT
};

enum write_error_kind {
	WERR_TRANSIENT = 0,	/* connection lost, timeouts, 08/40/53/57 */
	WERR_DATA,		/* a row PostgreSQL rejected (class 22/23/54) */
	WERR_FATAL,		/* schema drift, permissions */
	WERR_KIND_COUNT
};

/* Records that carried an IO id their dictionary does not map, per id. */
#define METRICS_IO_UNKNOWN	16

struct io_unknown {
	uint32_t	 iu_id;
	uint32_t	 iu_pad;
	uint64_t	 iu_count;	/* 0: a free slot */
};

struct histogram {
	uint64_t	 h_bucket[HIST_BUCKETS];	/* non-cumulative counts per bucket */
	uint64_t	 h_count;
	double		 h_sum;
};

struct worker_stats {
	uint32_t	 ws_version;
	uint32_t	 ws_flags;		/* WS_* below */
	uint64_t	 ws_consumed;		/* entries read from the stream */
	uint64_t	 ws_inserted;		/* rows newly inserted */
	uint64_t	 ws_duplicates;		/* rows already present */
	uint64_t	 ws_poison;		/* entries that failed decoding */
	uint64_t	 ws_dead_lettered;	/* entries XADDed to the DLQ */
	uint64_t	 ws_acked;		/* entries XACKed */
	uint64_t	 ws_trimmed;		/* pending entries whose body was gone */
	uint64_t	 ws_batches;		/* committed batches */
	uint64_t	 ws_claimed;		/* entries taken over by XAUTOCLAIM */
	uint64_t	 ws_delivery_limit;	/* entries dead-lettered by delivery count */
	uint64_t	 ws_group_recreated;	/* NOGROUP seen, group recreated */
	uint64_t	 ws_redis_errors;	/* Redis command/connection failures */
	uint64_t	 ws_settle_errors;	/* failed settle attempts (DLQ XADD or XACK) */
	uint64_t	 ws_dup_conflicts;	/* duplicate keys whose content differed */
	uint64_t	 ws_circuit_trips;	/* write circuit breaker openings */
	uint64_t	 ws_redis_timeouts;	/* Redis waits past their deadline */
	uint64_t	 ws_pg_timeouts;	/* PostgreSQL waits past the client guard */
	uint64_t	 ws_write_fallbacks;	/* fast-path batches that met a stored key */
	uint64_t	 ws_write_errors[WERR_KIND_COUNT];
	uint64_t	 ws_devices;		/* devices tracked now */
	uint64_t	 ws_evictions;		/* LRU evictions */
	uint64_t	 ws_rehydrated;		/* devices seeded from positions */
	uint64_t	 ws_inflight;		/* batches in flight now */
	uint64_t	 ws_read_bytes;		/* bytes of stream entries read */
	uint64_t	 ws_oversized;		/* entries over max_payload, not copied */
	uint64_t	 ws_read_count;		/* COUNT of the next read, now */
	uint64_t	 ws_batch_bytes;	/* memory held by batches, now */
	/*
	 * How far behind the stream the last read was: now - the ms of its
	 * newest entry's id, when the read filled its COUNT (entries were
	 * left waiting); 0 when it reached the stream's end.  Now.
	 */
	int64_t		 ws_read_age_ms;	/* behind: > METRICS_BEHIND_MS */
	/* evaluators (src/race/) */
	uint64_t	 ws_race_stages;	/* device-stage evaluations */
	uint64_t	 ws_race_late;		/* of which for late fixes */
	uint64_t	 ws_race_records;	/* timing records created */
	uint64_t	 ws_race_revisions;	/* timing records revised */
	uint64_t	 ws_race_removed;	/* timing records withdrawn */
	uint64_t	 ws_race_results;	/* stage results written */
	uint64_t	 ws_race_skipped;	/* config rows skipped (last load) */
	uint64_t	 ws_race_errors;	/* evaluations rolled back */
	uint64_t	 ws_race_deferred;	/* evaluations held back by catch-up pacing */
	struct io_unknown ws_io_unknown[METRICS_IO_UNKNOWN];	/* first ids seen */
	uint64_t	 ws_io_unknown_other;	/* ids once the table is full */
	struct histogram ws_hist[HIST_KIND_COUNT];
	/* the worker process itself, sampled before each snapshot (wlink) */
	uint64_t	 ws_rss_bytes;
	uint64_t	 ws_open_fds;
	double		 ws_cpu_seconds;
	double		 ws_start_time;		/* Unix time, seconds; 0 unknown */
	int64_t		 ws_last_commit_ms;	/* Unix ms of the last commit; 0 none */
};

#define WS_REDIS_UP	0x01
#define WS_PG_UP	0x02
#define WS_CONSUMING	0x04
#define WS_DRAINING	0x08
#define WS_SETTLE_FAILING 0x10	/* the batch at the settle head keeps failing */
#define WS_CIRCUIT_OPEN	0x20	/* consecutive rows failed: consuming paused */
#define WS_REDIS_TIMEDOUT 0x40	/* Redis down since a wait passed its deadline */
#define WS_PG_TIMEDOUT	0x80	/* PostgreSQL down since the client guard fired */

/* The consumer group as the master's lag poll last saw it (XINFO GROUPS). */
struct group_stats {
	int			 gs_known;	/* the last poll succeeded */
	int64_t			 gs_pending;	/* XINFO GROUPS pending */
	int64_t			 gs_lag;	/* XINFO GROUPS lag; -1 when Redis says nil */
	int64_t			 gs_dlq_len;	/* XLEN <stream>:dlq; -1 unknown */
	int64_t			 gs_oldest_ms;	/* XPENDING smallest id's ms; 0 none, -1 unknown */
	int64_t			 gs_trimmed;	/* entries trimmed before the group read them */
};

/* Upper bounds of the buckets of each histogram kind. */
extern const double hist_bounds[HIST_KIND_COUNT][HIST_BUCKETS];
extern const char *const hist_names[HIST_KIND_COUNT];

void	metrics_observe(struct histogram *, enum hist_kind, double value);
void	metrics_add(struct worker_stats *into, const struct worker_stats *from);
/* Count n records carrying the unknown IO id. */
void	metrics_io_unknown(struct worker_stats *, uint32_t id, uint64_t n);

#endif
