/* Prometheus text exposition (format 0.0.4) of the aggregated worker metrics. */
#include "autoconf.h"

#include <inttypes.h>
#include <stddef.h>
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
	{ "state_evictions", "Device states evicted from the LRU.",
	    offsetof(struct worker_stats, ws_evictions) },
	{ "state_rehydrated", "Device states seeded from PostgreSQL.",
	    offsetof(struct worker_stats, ws_rehydrated) },
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
		buf_printf(b, "%.10g", v);
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
	}
}

static void
prom_counters_render(struct buf *b, const struct prom_input *in,
    const struct worker_stats *sum)
{
	const struct prom_counter *pc;
	size_t	 i;
	int	 w;

	for (i = 0; i < sizeof(prom_counters) / sizeof(prom_counters[0]); i++) {
		pc = &prom_counters[i];
		buf_printf(b, "# HELP processor_%s_total %s\n"
		    "# TYPE processor_%s_total counter\n"
		    "processor_%s_total %" PRIu64 "\n", pc->pc_name,
		    pc->pc_help, pc->pc_name, pc->pc_name,
		    prom_field(sum, pc->pc_off));
		buf_printf(b, "# HELP processor_worker_%s_total %s "
		    "Per worker slot.\n# TYPE processor_worker_%s_total "
		    "counter\n", pc->pc_name, pc->pc_help, pc->pc_name);
		for (w = 0; w < in->pi_nworkers; w++)
			buf_printf(b, "processor_worker_%s_total{worker=\"%d\"} "
			    "%" PRIu64 "\n", pc->pc_name,
			    in->pi_workers[w].pw_slot,
			    prom_field(&in->pi_workers[w].pw_stats, pc->pc_off));
	}
}

static void
prom_write_errors(struct buf *b, const struct prom_input *in,
    const struct worker_stats *sum)
{
	int	k, w;

	prom_head(b, "processor_write_errors_total", "counter",
	    "Failed batch writes to PostgreSQL by kind.");
	for (k = 0; k < WERR_KIND_COUNT; k++)
		buf_printf(b, "processor_write_errors_total{kind=\"%s\"} %"
		    PRIu64 "\n", prom_werr_names[k], sum->ws_write_errors[k]);
	prom_head(b, "processor_worker_write_errors_total", "counter",
	    "Failed batch writes to PostgreSQL by kind. Per worker slot.");
	for (w = 0; w < in->pi_nworkers; w++)
		for (k = 0; k < WERR_KIND_COUNT; k++)
			buf_printf(b, "processor_worker_write_errors_total{"
			    "worker=\"%d\",kind=\"%s\"} %" PRIu64 "\n",
			    in->pi_workers[w].pw_slot, prom_werr_names[k],
			    in->pi_workers[w].pw_stats.ws_write_errors[k]);
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
prom_gauge_pair(struct buf *b, const char *name, const char *help,
    uint64_t total, const struct prom_input *in, size_t off)
{
	int	w;

	buf_printf(b, "# HELP processor_%s %s\n# TYPE processor_%s gauge\n"
	    "processor_%s %" PRIu64 "\n", name, help, name, name, total);
	buf_printf(b, "# HELP processor_worker_%s %s Per worker slot.\n"
	    "# TYPE processor_worker_%s gauge\n", name, help, name);
	for (w = 0; w < in->pi_nworkers; w++)
		buf_printf(b, "processor_worker_%s{worker=\"%d\"} %" PRIu64 "\n",
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
}

static void
prom_group(struct buf *b, const struct group_stats *g)
{
	if (g->gs_dlq_len >= 0) {
		prom_head(b, "processor_dlq_length", "gauge",
		    "Entries in the dead-letter stream <stream>:dlq (capped near dlq_maxlen).");
		buf_printf(b, "processor_dlq_length %" PRId64 "\n", g->gs_dlq_len);
	}
	if (!g->gs_known)
		return;
	prom_head(b, "processor_consumer_group_pending", "gauge",
	    "Entries delivered to the group but not acknowledged (XINFO GROUPS).");
	buf_printf(b, "processor_consumer_group_pending %" PRId64 "\n",
	    g->gs_pending);
	prom_head(b, "processor_consumer_group_lag", "gauge",
	    "Entries not yet delivered to the group (XINFO GROUPS); -1 when "
	    "Redis cannot tell.");
	buf_printf(b, "processor_consumer_group_lag %" PRId64 "\n", g->gs_lag);
}

int
prom_render(struct buf *b, const struct prom_input *in)
{
	struct worker_stats	sum;
	int			k;

	prom_sum(in, &sum);
	prom_head(b, "processor_build_info", "gauge",
	    "Always 1; the version is in the label.");
	buf_puts(b, "processor_build_info{version=\"");
	prom_label_value(b, in->pi_version);
	buf_puts(b, "\"} 1\n");
	prom_counters_render(b, in, &sum);
	prom_write_errors(b, in, &sum);
	for (k = 0; k < HIST_KIND_COUNT; k++)
		prom_histogram(b, (enum hist_kind)k, &sum.ws_hist[k]);
	prom_gauge_pair(b, "devices_tracked", "Devices with state in memory.",
	    sum.ws_devices, in, offsetof(struct worker_stats, ws_devices));
	prom_gauge_pair(b, "batches_inflight",
	    "Batches read but not yet settled.", sum.ws_inflight, in,
	    offsetof(struct worker_stats, ws_inflight));
	prom_workers(b, in);
	prom_group(b, &in->pi_group);
	return buf_cstr(b) == NULL ? -1 : 0;
}
