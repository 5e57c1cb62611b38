/* Histogram bucketing and snapshot arithmetic shared by workers and the master. */
#include "wire/metrics.h"

/*
 * The write-duration buckets reach the largest statement_timeout_ms the
 * configuration accepts (a day), with 30 s, the default, as a bound of its
 * own: a write cut short by the timeout lands in a finite bucket, not +Inf.
 */
const double hist_bounds[HIST_KIND_COUNT][HIST_BUCKETS] = {
	[HIST_BATCH_SIZE] = { 1, 2, 5, 10, 25, 50, 100, 200, 300, 500, 750,
	    1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000 },
	[HIST_WRITE_SECONDS] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 3600,
	    86400 },
	[HIST_E2E_SECONDS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	    0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600 },
	[HIST_RACE_SECONDS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	    2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400 },
};

const char *const hist_names[HIST_KIND_COUNT] = {
	[HIST_BATCH_SIZE] = "processor_batch_size",
	[HIST_WRITE_SECONDS] = "processor_write_duration_seconds",
	[HIST_E2E_SECONDS] = "processor_end_to_end_latency_seconds",
	[HIST_RACE_SECONDS] = "processor_timing_latency_seconds",
};

void
metrics_observe(struct histogram *h, enum hist_kind kind, double value)
{
	int	i;

	for (i = 0; i < HIST_BUCKETS; i++) {
		if (value <= hist_bounds[kind][i]) {
			h->h_bucket[i]++;
			break;
		}
	}
	h->h_count++;
	h->h_sum += value;
}

static void
histogram_add(struct histogram *into, const struct histogram *from)
{
	int	i;

	for (i = 0; i < HIST_BUCKETS; i++)
		into->h_bucket[i] += from->h_bucket[i];
	into->h_count += from->h_count;
	into->h_sum += from->h_sum;
}

/* Sum counters (not gauges or flags) of from into into. */
void
metrics_add(struct worker_stats *into, const struct worker_stats *from)
{
	int	i;

	into->ws_consumed += from->ws_consumed;
	into->ws_inserted += from->ws_inserted;
	into->ws_duplicates += from->ws_duplicates;
	into->ws_poison += from->ws_poison;
	into->ws_dead_lettered += from->ws_dead_lettered;
	into->ws_acked += from->ws_acked;
	into->ws_trimmed += from->ws_trimmed;
	into->ws_batches += from->ws_batches;
	into->ws_claimed += from->ws_claimed;
	into->ws_delivery_limit += from->ws_delivery_limit;
	into->ws_group_recreated += from->ws_group_recreated;
	into->ws_redis_errors += from->ws_redis_errors;
	into->ws_settle_errors += from->ws_settle_errors;
	into->ws_dup_conflicts += from->ws_dup_conflicts;
	into->ws_circuit_trips += from->ws_circuit_trips;
	into->ws_redis_timeouts += from->ws_redis_timeouts;
	into->ws_pg_timeouts += from->ws_pg_timeouts;
	into->ws_read_bytes += from->ws_read_bytes;
	into->ws_oversized += from->ws_oversized;
	into->ws_write_fallbacks += from->ws_write_fallbacks;
	for (i = 0; i < WERR_KIND_COUNT; i++)
		into->ws_write_errors[i] += from->ws_write_errors[i];
	into->ws_evictions += from->ws_evictions;
	into->ws_rehydrated += from->ws_rehydrated;
	into->ws_race_stages += from->ws_race_stages;
	into->ws_race_late += from->ws_race_late;
	into->ws_race_records += from->ws_race_records;
	into->ws_race_revisions += from->ws_race_revisions;
	into->ws_race_removed += from->ws_race_removed;
	into->ws_race_results += from->ws_race_results;
	into->ws_race_errors += from->ws_race_errors;
	into->ws_race_deferred += from->ws_race_deferred;
	for (i = 0; i < HIST_KIND_COUNT; i++)
		histogram_add(&into->ws_hist[i], &from->ws_hist[i]);
	for (i = 0; i < METRICS_IO_UNKNOWN; i++)
		if (from->ws_io_unknown[i].iu_count > 0)
			metrics_io_unknown(into, from->ws_io_unknown[i].iu_id,
			    from->ws_io_unknown[i].iu_count);
	into->ws_io_unknown_other += from->ws_io_unknown_other;
}

void
metrics_io_unknown(struct worker_stats *ws, uint32_t id, uint64_t n)
{
	struct io_unknown	*u;
	int			 i;

	for (i = 0; i < METRICS_IO_UNKNOWN; i++) {
		u = &ws->ws_io_unknown[i];
		if (u->iu_count > 0 && u->iu_id == id) {
			u->iu_count += n;
			return;
		}
		if (u->iu_count == 0) {
			u->iu_id = id;
			u->iu_count = n;
			return;
		}
	}
	ws->ws_io_unknown_other += n;
}
