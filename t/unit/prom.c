/* Prometheus text: totals = workers + retired, cumulative buckets, exact sample text. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "conf/config.h"
#include "util/procstat.h"
#include "wire/metrics.h"
#include "master/prom.h"
#include "tap.h"

/* Value of the sample whose name+labels is exactly `series`, or -1. */
static long long
sample(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static void
fill(struct worker_stats *ws, uint64_t base)
{
	memset(ws, 0, sizeof(*ws));
	ws->ws_version = METRICS_VERSION;
	ws->ws_consumed = base + 10;
	ws->ws_inserted = base + 7;
	ws->ws_duplicates = base + 3;
	ws->ws_acked = base + 10;
	ws->ws_write_errors[WERR_DATA] = base;
	ws->ws_devices = 5;
	ws->ws_inflight = 1;
}

int
main(void)
{
	struct prom_worker	 pw[2];
	struct worker_stats	 retired, sum;
	struct procstat		 master;
	struct prom_input	 in;
	struct buf		 b;
	const char		*t;
	long long		 prev, v;
	int			 i, mono;
	char			 series[128];

	plan(33);
	memset(pw, 0, sizeof(pw));
	fill(&pw[0].pw_stats, 100);
	fill(&pw[1].pw_stats, 1000);
	pw[0].pw_slot = 0;
	pw[1].pw_slot = 1;
	pw[0].pw_up = pw[0].pw_ready = 1;
	pw[1].pw_up = 1;
	pw[1].pw_restarts = 2;
	fill(&retired, 50);
	retired.ws_devices = 99;	/* a gauge: never part of the totals */
	metrics_observe(&pw[0].pw_stats.ws_hist[HIST_BATCH_SIZE],
	    HIST_BATCH_SIZE, 1);
	metrics_observe(&pw[0].pw_stats.ws_hist[HIST_BATCH_SIZE],
	    HIST_BATCH_SIZE, 30);
	metrics_observe(&pw[1].pw_stats.ws_hist[HIST_BATCH_SIZE],
	    HIST_BATCH_SIZE, 30);
	metrics_observe(&pw[1].pw_stats.ws_hist[HIST_BATCH_SIZE],
	    HIST_BATCH_SIZE, 100000);

	memset(&in, 0, sizeof(in));
	in.pi_version = "1.2.3\"x";
	in.pi_configured = 2;
	in.pi_workers = pw;
	in.pi_nworkers = 2;
	in.pi_retired = &retired;
	in.pi_group.gs_known = 1;
	in.pi_group.gs_pending = 12;
	in.pi_group.gs_lag = -1;
	in.pi_group.gs_dlq_len = -1;
	in.pi_group.gs_oldest_ms = 1700000000000LL;
	in.pi_now_ms = 1700000042500LL;
	in.pi_revision = "v1-3-gabc";
	in.pi_reload_ok = 0;
	in.pi_last_commit_ms = 1700000041250LL;
	master.ps_rss_bytes = 4096;
	master.ps_open_fds = 9;
	master.ps_cpu_seconds = 1.5;
	master.ps_start_time = 1699999000;
	in.pi_master = &master;
	pw[0].pw_stats.ws_start_time = 1699999001;
	pw[0].pw_stats.ws_rss_bytes = 8192;
	pw[0].pw_stats.ws_flags = WS_REDIS_UP | WS_PG_UP;
	pw[1].pw_stats.ws_flags = WS_REDIS_UP;

	metrics_io_unknown(&pw[0].pw_stats, 9999, 3);
	metrics_io_unknown(&pw[1].pw_stats, 9999, 2);
	metrics_io_unknown(&pw[1].pw_stats, 385, 1);
	metrics_io_unknown(&retired, 385, 4);
	for (i = 0; i < METRICS_IO_UNKNOWN + 2; i++)
		metrics_io_unknown(&retired, 20000 + i, 1);

	buf_init(&b);
	is_int(prom_render(&b, &in), 0, "render succeeds");
	t = buf_cstr(&b);

	ok(strstr(t, "\nprocessor_records_consumed_total ") == NULL,
	    "no unlabelled total beside the per-worker series");
	ok(strstr(t, "processor_worker_records_consumed_total") == NULL,
	    "no second processor_worker_X family");
	is_int(sample(t, "processor_records_consumed_total{worker=\"0\"}"), 110,
	    "consumed of slot 0");
	is_int(sample(t, "processor_rows_inserted_total{worker=\"1\"}"), 1007,
	    "inserted of slot 1");
	is_int(sample(t, "processor_write_errors_total{worker=\"1\","
	    "kind=\"data\"}"), 1000, "per-worker write errors by kind");
	is_int(sample(t, "processor_devices_tracked{worker=\"0\"}"), 5,
	    "gauges per worker slot");
	is_int(sample(t, "processor_io_unknown_total{io=\"9999\"}"), 5,
	    "unknown IO ids summed over the workers");
	is_int(sample(t, "processor_io_unknown_total{io=\"385\"}"), 5,
	    "and over retired workers");
	is_int(sample(t, "processor_io_unknown_total{io=\"20000\"}"), 1,
	    "each id its own series");
	is_int(sample(t, "processor_io_unknown_total{io=\"other\"}"), 3,
	    "ids past the table: other");
	prom_sum(&in, &sum);
	is_int((long long)sum.ws_consumed, 110 + 1010 + 60,
	    "prom_sum: workers + retired, for the status line");

	mono = 1;
	prev = 0;
	for (i = 0; i < HIST_BUCKETS; i++) {
		char	le[32];

		snprintf(le, sizeof(le), "%g", hist_bounds[HIST_BATCH_SIZE][i]);
		snprintf(series, sizeof(series),
		    "processor_batch_size_bucket{le=\"%s\"}", le);
		v = sample(t, series);
		if (v < prev)
			mono = 0;
		prev = v;
	}
	ok(mono, "histogram buckets are cumulative");
	is_int(sample(t, "processor_batch_size_bucket{le=\"1\"}"), 1,
	    "le=1 holds the single 1");
	is_int(sample(t, "processor_batch_size_bucket{le=\"50\"}"), 3,
	    "le=50 holds 1 + 30 + 30");
	is_int(sample(t, "processor_batch_size_bucket{le=\"+Inf\"}"), 4,
	    "+Inf counts everything, 100000 included");
	is_int(sample(t, "processor_batch_size_count"), 4, "_count = +Inf");
	is_int(sample(t, "processor_batch_size_sum"), 100061, "_sum");

	ok(strstr(t, "# HELP processor_records_consumed_total Stream entries "
	    "read from the consumer group. Per worker slot.\n"
	    "# TYPE processor_records_consumed_total counter\n"
	    "processor_records_consumed_total{worker=\"0\"} 110\n"
	    "processor_records_consumed_total{worker=\"1\"} 1010\n#")
	    != NULL, "exact text of the consumed family");
	ok(strstr(t, "processor_build_info{version=\"1.2.3\\\"x\","
	    "revision=\"v1-3-gabc\"} 1\n") != NULL,
	    "build info: version escaped, revision");
	ok(strstr(t, "processor_consumer_group_pending 12\n") != NULL &&
	    strstr(t, "processor_worker_restarts_total{worker=\"1\"} 2\n")
	    != NULL && strstr(t, "processor_worker_ready{worker=\"1\"} 0\n")
	    != NULL, "group pending, restarts and readiness");
	ok(strstr(t, "processor_consumer_group_lag") == NULL,
	    "lag unknown: no series, no -1");
	ok(strstr(t, " -1\n") == NULL, "no -1 sentinel anywhere");
	ok(strstr(t, "processor_dlq_length") == NULL, "dlq length unknown: absent");
	ok(strstr(t, "\nprocessor_oldest_pending_age_seconds 42.5\n") != NULL,
	    "oldest pending age from the smallest pending id");
	ok(strstr(t, "\nprocessor_last_commit_timestamp_seconds 1700000041.25\n")
	    != NULL, "last commit in Unix seconds");
	ok(strstr(t, "\nprocessor_config_last_reload_successful 0\n") != NULL,
	    "a refused reload shows");
	ok(strstr(t, "\nprocessor_redis_up 1\n") != NULL &&
	    strstr(t, "\nprocessor_postgres_up 0\n") != NULL,
	    "up only when every live worker says so");
	ok(strstr(t, "process_resident_memory_bytes{role=\"master\"} 4096\n")
	    != NULL && strstr(t, "process_resident_memory_bytes{role=\"worker\","
	    "worker=\"0\"} 8192\n") != NULL &&
	    strstr(t, "process_open_fds{role=\"master\"} 9\n") != NULL &&
	    strstr(t, "process_cpu_seconds_total{role=\"master\"} 1.5\n")
	    != NULL && strstr(t, "process_start_time_seconds{role=\"worker\","
	    "worker=\"0\"} 1699999001\n") != NULL,
	    "process families for the master and a sampled worker");
	ok(strstr(t, "process_resident_memory_bytes{role=\"worker\","
	    "worker=\"1\"}") == NULL, "a worker without a sample is left out");
	ok(hist_bounds[HIST_WRITE_SECONDS][HIST_BUCKETS - 1] * 1000 >=
	    CONFIG_STATEMENT_TIMEOUT_MAX_MS,
	    "write buckets reach the largest statement_timeout_ms");
	for (i = 0, v = 0; i < HIST_BUCKETS; i++)
		if (hist_bounds[HIST_WRITE_SECONDS][i] == 30)
			v = 1;
	ok(v, "the default statement timeout (30 s) is a bucket bound");
	in.pi_group.gs_oldest_ms = 0;
	in.pi_workers = NULL;
	in.pi_nworkers = 0;
	buf_free(&b);
	buf_init(&b);
	prom_render(&b, &in);
	t = buf_cstr(&b);
	ok(strstr(t, "\nprocessor_oldest_pending_age_seconds 0\n") != NULL &&
	    strstr(t, "\nprocessor_redis_up 0\n") != NULL,
	    "nothing pending: age 0; no live worker: not up");
	if (getenv("PROM_DUMP") != NULL)
		diag("%s", t);
	buf_free(&b);
	return tap_done();
}
