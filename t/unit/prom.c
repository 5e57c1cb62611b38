/* Prometheus text: totals = workers + retired, cumulative buckets, exact sample text. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
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
	struct prom_input	 in;
	struct buf		 b;
	const char		*t;
	long long		 prev, v;
	int			 i, mono;
	char			 series[128];

	plan(17);
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

	buf_init(&b);
	is_int(prom_render(&b, &in), 0, "render succeeds");
	t = buf_cstr(&b);

	is_int(sample(t, "processor_records_consumed_total"),
	    (110 + 1010 + 60), "consumed total = workers + retired");
	is_int(sample(t, "processor_worker_records_consumed_total{worker=\"0\"}")
	    + sample(t, "processor_worker_records_consumed_total{worker=\"1\"}")
	    + 60, sample(t, "processor_records_consumed_total"),
	    "total equals the sum of the per-worker series plus retired");
	is_int(sample(t, "processor_rows_inserted_total"), 107 + 1007 + 57,
	    "inserted total");
	is_int(sample(t, "processor_write_errors_total{kind=\"data\"}"),
	    100 + 1000 + 50, "write errors by kind");
	is_int(sample(t, "processor_worker_write_errors_total{worker=\"1\","
	    "kind=\"data\"}"), 1000, "per-worker write errors by kind");
	is_int(sample(t, "processor_devices_tracked"), 10,
	    "gauge total sums live workers only");
	prom_sum(&in, &sum);
	is_int((long long)sum.ws_consumed,
	    sample(t, "processor_records_consumed_total"),
	    "prom_sum agrees with the exposition");

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
	    "read from the consumer group.\n"
	    "# TYPE processor_records_consumed_total counter\n"
	    "processor_records_consumed_total 1180\n"
	    "# HELP processor_worker_records_consumed_total Stream entries read "
	    "from the consumer group. Per worker slot.\n"
	    "# TYPE processor_worker_records_consumed_total counter\n"
	    "processor_worker_records_consumed_total{worker=\"0\"} 110\n"
	    "processor_worker_records_consumed_total{worker=\"1\"} 1010\n")
	    != NULL, "exact text of the consumed families");
	ok(strstr(t, "processor_build_info{version=\"1.2.3\\\"x\"} 1\n") != NULL,
	    "label values are escaped");
	ok(strstr(t, "processor_consumer_group_pending 12\n") != NULL &&
	    strstr(t, "processor_consumer_group_lag -1\n") != NULL &&
	    strstr(t, "processor_worker_restarts_total{worker=\"1\"} 2\n")
	    != NULL && strstr(t, "processor_worker_ready{worker=\"1\"} 0\n")
	    != NULL, "group gauges, restarts and readiness");
	if (getenv("PROM_DUMP") != NULL)
		diag("%s", t);
	buf_free(&b);
	return tap_done();
}
