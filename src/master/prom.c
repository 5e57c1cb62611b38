/* Prometheus text exposition (format 0.0.4) of the aggregated worker metrics. */
#include "autoconf.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "master/prom.h"

static const struct prom_counter {
	const char	*pc_name;
	const char	*pc_help;
	size_t		 pc_off;
} prom_counters[] = {
	{ "records_consumed", "Stream entries read from the consumer group.",
	    offsetof(struct worker_stats, ws_consumed) },
	{ "rows_inserted", "Rows newly inserted into positions.",
	    offsetof(struct worker_stats, ws_inserted) },
	{ "rows_duplicate", "Rows already present (replays, duplicates).",
	    offsetof(struct worker_stats, ws_duplicates) },
	{ "records_poison", "Entries that failed decoding or validation.",
	    offsetof(struct worker_stats, ws_poison) },
	{ "records_dead_lettered", "Entries added to the dead-letter stream.",
	    offsetof(struct worker_stats, ws_dead_lettered) },
	{ "records_acked", "Entries acknowledged with XACK.",
	    offsetof(struct worker_stats, ws_acked) },
	{ "records_trimmed", "Pending entries whose body was trimmed away.",
	    offsetof(struct worker_stats, ws_trimmed) },
	{ "batches_committed", "Batches committed to PostgreSQL.",
	    offsetof(struct worker_stats, ws_batches) },
	{ "records_claimed", "Entries taken over from idle consumers.",
	    offsetof(struct worker_stats, ws_claimed) },
	{ "records_delivery_limit",
	    "Entries dead-lettered after too many deliveries.",
	    offsetof(struct worker_stats, ws_delivery_limit) },
	{ "group_recreated", "Times the consumer group was recreated.",
	    offsetof(struct worker_stats, ws_group_recreated) },
	{ "redis_errors", "Redis command and connection failures.",
	    offsetof(struct worker_stats, ws_redis_errors) },
	{ "settle_errors", "Failed attempts to dead-letter and XACK a batch.",
	    offsetof(struct worker_stats, ws_settle_errors) },
	{ "duplicate_conflicts",
	    "Duplicate (device_id, ts) rows whose content differed (first wins).",
	    offsetof(struct worker_stats, ws_dup_conflicts) },
	{ "write_circuit_open",
	    "Times consecutive row failures paused consuming.",
	    offsetof(struct worker_stats, ws_circuit_trips) },
	{ "redis_timeouts", "Redis replies or connections that passed their "
	    "deadline (the connection was dropped).",
	    offsetof(struct worker_stats, ws_redis_timeouts) },
	{ "postgres_timeouts", "PostgreSQL answers that passed the client-side "
	    "guard (the connection was dropped).",
	    offsetof(struct worker_stats, ws_pg_timeouts) },
	{ "read_bytes", "Bytes of stream entries read (ids, field names "
	    "and values).", offsetof(struct worker_stats, ws_read_bytes) },
	{ "records_oversized", "Entries over max_payload, dead-lettered "
	    "without being copied.", offsetof(struct worker_stats, ws_oversized) },
	{ "write_fallbacks", "Batches copied straight into positions that "
	    "met a stored key and were written again through the staging table.",
	    offsetof(struct worker_stats, ws_write_fallbacks) },
	{ "state_evictions", "Device states evicted from the LRU.",
	    offsetof(struct worker_stats, ws_evictions) },
	{ "state_rehydrated", "Device states seeded from PostgreSQL.",
	    offsetof(struct worker_stats, ws_rehydrated) },
	{ "fixes_evaluated", "Device-stage evaluations by the racing rules.",
	    offsetof(struct worker_stats, ws_race_stages) },
	{ "late_reevaluations", "Evaluations caused by fixes older than "
	    "what was already evaluated.",
	    offsetof(struct worker_stats, ws_race_late) },
	{ "timing_records_created", "Timing records created.",
	    offsetof(struct worker_stats, ws_race_records) },
	{ "timing_revisions", "Timing records revised by new evidence.",
	    offsetof(struct worker_stats, ws_race_revisions) },
	{ "timing_records_withdrawn", "Timing records no longer supported "
	    "by the fixes.", offsetof(struct worker_stats, ws_race_removed) },
	{ "stage_results_written", "Stage results created or changed.",
	    offsetof(struct worker_stats, ws_race_results) },
	{ "evaluation_errors", "Evaluations rolled back (retried).",
	    offsetof(struct worker_stats, ws_race_errors) },
	{ "race_deferred", "Evaluations of a marked device held back by "
	    "catch-up pacing (behind the stream, evaluated less than "
	    "catchup_interval_ms before).",
	    offsetof(struct worker_stats, ws_race_deferred) },
};

static const char *const prom_werr_names[WERR_KIND_COUNT] = {
	[WERR_TRANSIENT] = "transient",
	[WERR_DATA] = "data",
	[WERR_FATAL] = "fatal",
};

static uint64_t
prom_field(const struct worker_stats *ws, size_t off)
{
	uint64_t	v;

	memcpy(&v, (const char *)ws + off, sizeof(v));
	return v;
}

static void
prom_head(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float the way Prometheus reads it back; integers without exponent. */
static void
prom_double(struct buf *b, double v)
{
	if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
		buf_printf(b, "%" PRIu64, (uint64_t)v);
	else
		buf_printf(b, "%.15g", v);
}

static void
prom_label_value(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

void
prom_sum(const struct prom_input *in, struct worker_stats *out)
{
	int	i;

	memset(out, 0, sizeof(*out));
	if (in->pi_retired != NULL)
		metrics_add(out, in->pi_retired);
	for (i = 0; i < in->pi_nworkers; i++) {
		metrics_add(out, &in->pi_workers[i].pw_stats);
		out->ws_devices += in->pi_workers[i].pw_stats.ws_devices;
		out->ws_inflight += in->pi_workers[i].pw_stats.ws_inflight;
		out->ws_race_skipped += in->pi_workers[i].pw_stats.ws_race_skipped;
	}
}

static void
prom_counters_render(struct buf *b, const struct prom_input *in)
{
	const struct prom_counter *pc;
	size_t	 i;
	int	 w;

	for (i = 0; i < sizeof(prom_counters) / sizeof(prom_counters[0]); i++) {
		pc = &prom_counters[i];
		buf_printf(b, "# HELP processor_%s_total %s Per worker slot.\n"
		    "# TYPE processor_%s_total counter\n", pc->pc_name,
		    pc->pc_help, pc->pc_name);
		for (w = 0; w < in->pi_nworkers; w++)
			buf_printf(b, "processor_%s_total{worker=\"%d\"} %" PRIu64
			    "\n", pc->pc_name, in->pi_workers[w].pw_slot,
			    prom_field(&in->pi_workers[w].pw_stats, pc->pc_off));
	}
}

static void
prom_write_errors(struct buf *b, const struct prom_input *in)
{
	int	k, w;

	prom_head(b, "processor_write_errors_total", "counter",
	    "Failed batch writes to PostgreSQL by kind. Per worker slot.");
	for (w = 0; w < in->pi_nworkers; w++)
		for (k = 0; k < WERR_KIND_COUNT; k++)
			buf_printf(b, "processor_write_errors_total{"
			    "worker=\"%d\",kind=\"%s\"} %" PRIu64 "\n",
			    in->pi_workers[w].pw_slot, prom_werr_names[k],
			    in->pi_workers[w].pw_stats.ws_write_errors[k]);
}

static void
prom_io_merge(struct io_unknown *all, int *n, uint64_t *other,
    const struct worker_stats *ws)
{
	int	i, k;

	for (i = 0; i < METRICS_IO_UNKNOWN; i++) {
		if (ws->ws_io_unknown[i].iu_count == 0)
			continue;
		for (k = 0; k < *n && all[k].iu_id != ws->ws_io_unknown[i].iu_id; k++)
			;
		if (k == *n)
			all[(*n)++] = ws->ws_io_unknown[i];
		else
			all[k].iu_count += ws->ws_io_unknown[i].iu_count;
	}
	*other += ws->ws_io_unknown_other;
}

/* Summed over the workers (and retired ones): which ids are unmapped matters, not where. */
static void
prom_io_unknown(struct buf *b, const struct prom_input *in)
{
	struct io_unknown	*all;
	uint64_t		 other = 0;
	int			 i, n = 0;

	prom_head(b, "processor_io_unknown_total", "counter",
	    "Records whose IO bag carried an IO id the device's dictionary does "
	    "not map, by id; io=\"other\" once a worker has seen 16 ids.");
	if ((all = calloc((size_t)in->pi_nworkers + 1,
	    sizeof(*all) * METRICS_IO_UNKNOWN)) == NULL)
		return;
	if (in->pi_retired != NULL)
		prom_io_merge(all, &n, &other, in->pi_retired);
	for (i = 0; i < in->pi_nworkers; i++)
		prom_io_merge(all, &n, &other, &in->pi_workers[i].pw_stats);
	for (i = 0; i < n; i++)
		buf_printf(b, "processor_io_unknown_total{io=\"%" PRIu32 "\"} %"
		    PRIu64 "\n", all[i].iu_id, all[i].iu_count);
	if (other > 0)
		buf_printf(b, "processor_io_unknown_total{io=\"other\"} %" PRIu64
		    "\n", other);
	free(all);
}

static void
prom_histogram(struct buf *b, enum hist_kind kind, const struct histogram *h)
{
	const char	*name = hist_names[kind];
	uint64_t	 cum = 0;
	int		 i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name,
	    kind == HIST_BATCH_SIZE ? "Entries per batch." :
	    kind == HIST_WRITE_SECONDS ? "Batch write time, BEGIN to COMMIT." :
	    kind == HIST_RACE_SECONDS ? "Time from the commit of fixes to "
	    "the commit of their evaluation." :
	    "Time from the stream entry id to commit.", name);
	for (i = 0; i < HIST_BUCKETS; i++) {
		cum += h->h_bucket[i];
		buf_printf(b, "%s_bucket{le=\"", name);
		prom_double(b, hist_bounds[kind][i]);
		buf_printf(b, "\"} %" PRIu64 "\n", cum);
	}
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum ", name,
	    h->h_count, name);
	prom_double(b, h->h_sum);
	buf_printf(b, "\n%s_count %" PRIu64 "\n", name, h->h_count);
}

static void
prom_gauge_workers(struct buf *b, const char *name, const char *help,
    const struct prom_input *in, size_t off)
{
	int	w;

	buf_printf(b, "# HELP processor_%s %s Per worker slot.\n"
	    "# TYPE processor_%s gauge\n", name, help, name);
	for (w = 0; w < in->pi_nworkers; w++)
		buf_printf(b, "processor_%s{worker=\"%d\"} %" PRIu64 "\n",
		    name, in->pi_workers[w].pw_slot,
		    prom_field(&in->pi_workers[w].pw_stats, off));
}

static void
prom_workers(struct buf *b, const struct prom_input *in)
{
	const struct prom_worker *pw;
	int	w;

	prom_head(b, "processor_workers_configured", "gauge",
	    "Worker processes the configuration asks for.");
	buf_printf(b, "processor_workers_configured %d\n", in->pi_configured);
	prom_head(b, "processor_worker_up", "gauge",
	    "1 when the worker process runs and said hello.");
	for (w = 0; w < in->pi_nworkers; w++)
		buf_printf(b, "processor_worker_up{worker=\"%d\"} %d\n",
		    in->pi_workers[w].pw_slot, in->pi_workers[w].pw_up ? 1 : 0);
	prom_head(b, "processor_worker_ready", "gauge",
	    "1 when the worker is connected to Redis and PostgreSQL and consuming.");
	for (w = 0; w < in->pi_nworkers; w++)
		buf_printf(b, "processor_worker_ready{worker=\"%d\"} %d\n",
		    in->pi_workers[w].pw_slot,
		    in->pi_workers[w].pw_ready ? 1 : 0);
	prom_head(b, "processor_worker_restarts_total", "counter",
	    "Times the master respawned the slot after an unexpected exit.");
	for (w = 0; w < in->pi_nworkers; w++) {
		pw = &in->pi_workers[w];
		buf_printf(b, "processor_worker_restarts_total{worker=\"%d\"} %"
		    PRIu64 "\n", pw->pw_slot, pw->pw_restarts);
	}
	prom_head(b, "processor_worker_stalls_total", "counter",
	    "Times the master killed the slot's worker for sending no stats "
	    "for worker_stall_ms.");
	for (w = 0; w < in->pi_nworkers; w++) {
		pw = &in->pi_workers[w];
		buf_printf(b, "processor_worker_stalls_total{worker=\"%d\"} %"
		    PRIu64 "\n", pw->pw_slot, pw->pw_stalls);
	}
}

/* A worker that has not sent a snapshot yet has no process numbers. */
static int
prom_worker_sampled(const struct prom_worker *pw)
{
	return pw->pw_up && pw->pw_stats.ws_start_time > 0;
}

/* One sample of a process_* family for the master or a worker slot. */
static void
prom_process_sample(struct buf *b, const char *name, int slot, double v)
{
	if (slot < 0)
		buf_printf(b, "%s{role=\"master\"} ", name);
	else
		buf_printf(b, "%s{role=\"worker\",worker=\"%d\"} ", name, slot);
	prom_double(b, v);
	buf_putc(b, '\n');
}

/*
 * The process collector's families (as client libraries name them), one
 * series per process: the master's own from /proc/self, each worker's from
 * its last snapshot.
 */
static void
prom_process(struct buf *b, const struct prom_input *in)
{
	static const struct {
		const char	*name;
		const char	*type;
		const char	*help;
	} fam[] = {
		{ "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes." },
		{ "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds." },
		{ "process_open_fds", "gauge", "Number of open file descriptors." },
		{ "process_start_time_seconds", "gauge",
		    "Start time of the process since the Unix epoch in seconds." },
	};
	const struct prom_worker	*pw;
	double				 v;
	size_t				 f;
	int				 w;

	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		prom_head(b, fam[f].name, fam[f].type, fam[f].help);
		if (in->pi_master != NULL) {
			v = f == 0 ? (double)in->pi_master->ps_rss_bytes :
			    f == 1 ? in->pi_master->ps_cpu_seconds :
			    f == 2 ? (double)in->pi_master->ps_open_fds :
			    in->pi_master->ps_start_time;
			prom_process_sample(b, fam[f].name, -1, v);
		}
		for (w = 0; w < in->pi_nworkers; w++) {
			pw = &in->pi_workers[w];
			if (!prom_worker_sampled(pw))
				continue;
			v = f == 0 ? (double)pw->pw_stats.ws_rss_bytes :
			    f == 1 ? pw->pw_stats.ws_cpu_seconds :
			    f == 2 ? (double)pw->pw_stats.ws_open_fds :
			    pw->pw_stats.ws_start_time;
			prom_process_sample(b, fam[f].name, pw->pw_slot, v);
		}
	}
}

/* 1 when every live worker reports the flag; 0 also when none is live. */
static int
prom_all_up(const struct prom_input *in, uint32_t flag)
{
	int	w, live = 0;

	for (w = 0; w < in->pi_nworkers; w++) {
		if (!in->pi_workers[w].pw_up)
			continue;
		live++;
		if (!(in->pi_workers[w].pw_stats.ws_flags & flag))
			return 0;
	}
	return live > 0;
}

static void
prom_health(struct buf *b, const struct prom_input *in)
{
	prom_head(b, "processor_redis_up", "gauge",
	    "1 when every live worker is connected to Redis.");
	buf_printf(b, "processor_redis_up %d\n", prom_all_up(in, WS_REDIS_UP));
	prom_head(b, "processor_postgres_up", "gauge",
	    "1 when every live worker is connected to PostgreSQL.");
	buf_printf(b, "processor_postgres_up %d\n", prom_all_up(in, WS_PG_UP));
	prom_head(b, "processor_config_last_reload_successful", "gauge",
	    "0 when the last SIGHUP or processorctl reload was refused.");
	buf_printf(b, "processor_config_last_reload_successful %d\n",
	    in->pi_reload_ok ? 1 : 0);
	if (in->pi_last_commit_ms > 0) {
		prom_head(b, "processor_last_commit_timestamp_seconds", "gauge",
		    "When a worker last committed a batch (Unix time).");
		buf_puts(b, "processor_last_commit_timestamp_seconds ");
		prom_double(b, (double)in->pi_last_commit_ms / 1000.0);
		buf_putc(b, '\n');
	}
}

/* How far behind the stream the workers read, and the master's verdict. */
static void
prom_backlog(struct buf *b, const struct prom_input *in)
{
	int	w;

	prom_head(b, "processor_read_age_seconds", "gauge",
	    "Age of the newest entry of the worker's last read when that read "
	    "filled its COUNT (entries were waiting); 0 when it reached the "
	    "stream's end. Per worker slot.");
	for (w = 0; w < in->pi_nworkers; w++) {
		buf_printf(b, "processor_read_age_seconds{worker=\"%d\"} ",
		    in->pi_workers[w].pw_slot);
		prom_double(b, (double)in->pi_workers[w].pw_stats.ws_read_age_ms /
		    1000.0);
		buf_putc(b, '\n');
	}
	prom_head(b, "processor_backlog", "gauge",
	    "1 while the workers read more than 250 ms behind the stream "
	    "(the evaluators then pace devices by catchup_interval_ms).");
	buf_printf(b, "processor_backlog %d\n", in->pi_backlog ? 1 : 0);
}

static void
prom_group(struct buf *b, const struct prom_input *in)
{
	const struct group_stats *g = &in->pi_group;
	int64_t			  age;

	if (g->gs_dlq_len >= 0) {
		prom_head(b, "processor_dlq_length", "gauge",
		    "Entries in the dead-letter stream <stream>:dlq (capped near dlq_maxlen).");
		buf_printf(b, "processor_dlq_length %" PRId64 "\n", g->gs_dlq_len);
	}
	prom_head(b, "processor_stream_trimmed_unread_total", "counter",
	    "Entries trimmed from the stream (MAXLEN, XTRIM) before the group "
	    "read them: lost upstream (XINFO GROUPS/STREAM, Redis 7).");
	buf_printf(b, "processor_stream_trimmed_unread_total %" PRId64 "\n",
	    g->gs_trimmed);
	if (!g->gs_known)
		return;
	prom_head(b, "processor_consumer_group_pending", "gauge",
	    "Entries delivered to the group but not acknowledged (XINFO GROUPS).");
	buf_printf(b, "processor_consumer_group_pending %" PRId64 "\n",
	    g->gs_pending);
	if (g->gs_lag >= 0) {
		prom_head(b, "processor_consumer_group_lag", "gauge",
		    "Entries not yet delivered to the group (XINFO GROUPS); "
		    "absent when Redis cannot tell.");
		buf_printf(b, "processor_consumer_group_lag %" PRId64 "\n",
		    g->gs_lag);
	}
	if (g->gs_oldest_ms >= 0) {
		age = g->gs_oldest_ms == 0 || in->pi_now_ms < g->gs_oldest_ms ?
		    0 : in->pi_now_ms - g->gs_oldest_ms;
		prom_head(b, "processor_oldest_pending_age_seconds", "gauge",
		    "Age of the oldest entry delivered but not acknowledged "
		    "(XPENDING); 0 when none is pending.");
		buf_puts(b, "processor_oldest_pending_age_seconds ");
		prom_double(b, (double)age / 1000.0);
		buf_putc(b, '\n');
	}
}

int
prom_render(struct buf *b, const struct prom_input *in)
{
	struct worker_stats	sum;
	int			k;

	prom_sum(in, &sum);
	prom_head(b, "processor_build_info", "gauge",
	    "Always 1; the version and git revision are in the labels.");
	buf_puts(b, "processor_build_info{version=\"");
	prom_label_value(b, in->pi_version);
	buf_puts(b, "\",revision=\"");
	prom_label_value(b, in->pi_revision != NULL ? in->pi_revision :
	    "unknown");
	buf_puts(b, "\"} 1\n");
	prom_counters_render(b, in);
	prom_write_errors(b, in);
	prom_io_unknown(b, in);
	for (k = 0; k < HIST_KIND_COUNT; k++)
		prom_histogram(b, (enum hist_kind)k, &sum.ws_hist[k]);
	prom_gauge_workers(b, "devices_tracked", "Devices with state in memory.",
	    in, offsetof(struct worker_stats, ws_devices));
	prom_gauge_workers(b, "batches_inflight",
	    "Batches read but not yet settled.", in,
	    offsetof(struct worker_stats, ws_inflight));
	prom_gauge_workers(b, "read_count",
	    "Entries the next stream read asks for (COUNT, sized by "
	    "read_budget).", in, offsetof(struct worker_stats, ws_read_count));
	prom_gauge_workers(b, "batch_bytes",
	    "Bytes of memory held by the worker's batches (pooled and in "
	    "flight).", in, offsetof(struct worker_stats, ws_batch_bytes));
	prom_gauge_workers(b, "config_rows_skipped",
	    "Gates and entries the racing rules skipped as unusable (an "
	    "evaluator's last configuration load).", in,
	    offsetof(struct worker_stats, ws_race_skipped));
	prom_workers(b, in);
	prom_backlog(b, in);
	prom_health(b, in);
	prom_process(b, in);
	prom_group(b, in);
	return buf_cstr(b) == NULL ? -1 : 0;
}
