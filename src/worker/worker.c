/* A worker process: its own loop, signals, the master link, and the pipeline. */
#include "autoconf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <ev.h>

#include "conf/config.h"
#include "core/pipeline.h"
#include "core/state.h"
#include "wire/control_msg.h"
#include "util/crash.h"
#include "util/exitcodes.h"
#include "util/fault.h"
#include "util/log.h"
#include "wire/metrics.h"
#include "worker/wlink.h"
#include "worker/worker.h"
#include "race/race.h"

struct worker_ctx {
	struct ev_loop		*wk_loop;
	const struct config	*wk_cf;
	int			 wk_slot;
	char			 wk_consumer[256];
	struct worker_stats	 wk_stats;
	struct pipeline		*wk_pipeline;
	ev_signal		 wk_sigterm;
	ev_signal		 wk_sigint;
	double			 wk_stop_started;
	ev_timer		 wk_orphan;	/* master gone: a deadline of our own */
	int			 wk_stopping;
	int			 wk_standalone;	/* no master (ipc_fd == -1) */
	int			 wk_was_ready;
};

static void
worker_consuming(void *arg)
{
	struct worker_ctx	*wk = arg;

	/* without a master this process is the daemon: say when it is ready */
	log_info("%s: connected to Redis and PostgreSQL, consuming",
	    wk->wk_standalone && !wk->wk_was_ready ? "ready" : "up");
	wk->wk_was_ready = 1;
	race_io_refresh();	/* before the first batch: devices' families */
	wlink_flush_stats();	/* the master's readiness should not wait 500 ms */
}

static void
worker_log_totals(const struct worker_ctx *wk)
{
	const struct worker_stats *s = &wk->wk_stats;

	log_info("worker %d stopped: consumed %llu, inserted %llu, duplicates "
	    "%llu, poison %llu, dead-lettered %llu, acknowledged %llu, trimmed %llu, "
	    "rehydrated %llu, claimed %llu, delivery-limit %llu, group-recreated %llu",
	    wk->wk_slot, (unsigned long long)s->ws_consumed,
	    (unsigned long long)s->ws_inserted,
	    (unsigned long long)s->ws_duplicates, (unsigned long long)s->ws_poison,
	    (unsigned long long)s->ws_dead_lettered,
	    (unsigned long long)s->ws_acked, (unsigned long long)s->ws_trimmed,
	    (unsigned long long)s->ws_rehydrated, (unsigned long long)s->ws_claimed,
	    (unsigned long long)s->ws_delivery_limit,
	    (unsigned long long)s->ws_group_recreated);
}

static void
worker_stopped(void *arg)
{
	struct worker_ctx	*wk = arg;

	log_info("drained: every entry read was committed and acknowledged "
	    "(%.3f s)", ev_time() - wk->wk_stop_started);
	ev_break(wk->wk_loop, EVBREAK_ALL);
}

/* Stop reading, settle what is in flight, then leave the loop. */
static void
worker_stop(struct worker_ctx *wk, const char *why)
{
	if (wk->wk_stopping)
		return;
	wk->wk_stopping = 1;
	wk->wk_stop_started = ev_time();
	log_info("stopping (%s): finishing %lu in-flight entries", why,
	    pipeline_inflight_entries(wk->wk_pipeline));
	pipeline_stop(wk->wk_pipeline, worker_stopped, wk);
}

static void
worker_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	worker_stop(w->data, w->signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
worker_master_shutdown(void *arg)
{
	worker_stop(arg, "master asked");
}

/*
 * Without a master nobody enforces shutdown_timeout_ms: a worker that
 * cannot finish (PostgreSQL down) would run on beside the next master's
 * worker of the same slot.  Give up at the deadline: what is in flight
 * stays pending (nothing is ACKed that did not commit) for the next life
 * of the consumer to replay.
 */
static void
worker_orphan_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker_ctx	*wk = t->data;

	(void)revents;
	log_error("master gone and %lu in-flight entries not settled within "
	    "%d ms; exiting, they stay pending for the next worker",
	    pipeline_inflight_entries(wk->wk_pipeline),
	    wk->wk_cf->cf_shutdown_timeout_ms);
	(void)loop;
	/* no orderly teardown: in-flight commands must not complete now */
	_exit(WORKER_EXIT_RESTART);
}

static void
worker_master_gone(void *arg)
{
	struct worker_ctx	*wk = arg;

	ev_timer_init(&wk->wk_orphan, worker_orphan_cb,
	    wk->wk_cf->cf_shutdown_timeout_ms / 1000.0, 0.);
	wk->wk_orphan.data = wk;
	ev_timer_start(wk->wk_loop, &wk->wk_orphan);
	worker_stop(wk, "master gone");
}

static void
worker_master_drain(void *arg)
{
	struct worker_ctx	*wk = arg;

	pipeline_pause(wk->wk_pipeline, 1);
}

static void
worker_master_resume(void *arg)
{
	struct worker_ctx	*wk = arg;

	pipeline_pause(wk->wk_pipeline, 0);
}

/* Control socket "device": the state this worker tracks for it. */
static void
worker_master_device(void *arg, const char *device,
    struct control_msg_device_reply *r)
{
	struct worker_ctx			*wk = arg;
	const struct device_state	*ds;

	if ((ds = pipeline_device(wk->wk_pipeline, device)) == NULL)
		return;
	r->dr_found = 1;
	r->dr_ts_us = ds->ds_last.lf_ts_us;
	r->dr_lat = ds->ds_last.lf_lat;
	r->dr_lon = ds->ds_last.lf_lon;
	r->dr_altitude = ds->ds_last.lf_altitude;
	r->dr_speed = ds->ds_last.lf_speed;
	r->dr_event_io = ds->ds_last.lf_event_io;
	r->dr_angle = ds->ds_last.lf_angle;
	r->dr_satellites = ds->ds_last.lf_satellites;
	r->dr_priority = ds->ds_last.lf_priority;
	r->dr_has = ds->ds_last.lf_has;
	r->dr_last_seen_us = ds->ds_last_seen_us;
	r->dr_records = ds->ds_records;
}

static void
worker_claim_done(void *arg, int ok, unsigned long long claimed)
{
	wlink_claim_done((uint32_t)(uintptr_t)arg, ok, claimed);
}

static void
worker_master_claim(void *arg, uint32_t id, uint32_t idle_ms)
{
	struct worker_ctx	*wk = arg;

	pipeline_claim_now(wk->wk_pipeline, (int)idle_ms, worker_claim_done,
	    (void *)(uintptr_t)id);
}

static void
worker_signals(struct worker_ctx *wk)
{
	sigset_t	none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed socket is an error return, not death */
	signal(SIGHUP, SIG_IGN);	/* reload is the master's business */
	ev_signal_init(&wk->wk_sigterm, worker_signal_cb, SIGTERM);
	wk->wk_sigterm.data = wk;
	ev_signal_start(wk->wk_loop, &wk->wk_sigterm);
	ev_signal_init(&wk->wk_sigint, worker_signal_cb, SIGINT);
	wk->wk_sigint.data = wk;
	ev_signal_start(wk->wk_loop, &wk->wk_sigint);
}

/* Every line of this process names its slot and consumer (fields). */
static void
worker_log_context(int slot, const char *consumer)
{
	struct log_fields	f;

	log_fields_init(&f);
	log_fields_int(&f, "worker", slot);
	log_fields_str(&f, "consumer", consumer);
	log_context(&f);
}

/*
 * glibc raises its mmap threshold to the size of each big block freed (up
 * to 32 MiB), so after one read of big entries the next big blocks come
 * from the heap, whose free space is seldom given back: a worker that once
 * read a burst would keep its peak, and the next burst stacks on top (the
 * peak RSS of t/377 doubled).  A fixed threshold keeps every block of
 * 256 KiB or more (replies, batch buffers) in a mapping of its own,
 * returned to the kernel when freed.
 */
#define WORKER_MMAP_THRESHOLD	(256 * 1024)

static void
worker_malloc_policy(void)
{
#ifdef M_MMAP_THRESHOLD
	if (mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD) != 1)
		log_warnx("mallopt(M_MMAP_THRESHOLD) failed: big blocks freed "
		    "may stay with the process");
#endif
}

int
worker_main(const struct config *cf, int slot, int ipc_fd)
{
	struct worker_ctx	wk;

	(void)ipc_fd;
	memset(&wk, 0, sizeof(wk));
	wk.wk_cf = cf;
	wk.wk_slot = slot;
	wk.wk_stats.ws_version = METRICS_VERSION;
	snprintf(wk.wk_consumer, sizeof(wk.wk_consumer), "%s-%d",
	    cf->cf_consumer_prefix, slot);
	worker_log_context(slot, wk.wk_consumer);
	worker_malloc_policy();
	crash_install(slot);
	/* a fresh loop: never reuse the parent's after fork (ev.pod) */
	if ((wk.wk_loop = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		log_error("ev_loop_new failed");
		return WORKER_EXIT_RESTART;
	}
	worker_signals(&wk);
	wk.wk_pipeline = pipeline_new(wk.wk_loop, cf, wk.wk_consumer, &wk.wk_stats);
	if (wk.wk_pipeline == NULL) {
		log_error("cannot set up the pipeline");
		ev_loop_destroy(wk.wk_loop);
		return WORKER_EXIT_PERMANENT;
	}
	wk.wk_standalone = ipc_fd == -1;
	{
		struct wlink_cb cb = {
			.wc_shutdown = worker_master_shutdown,
			.wc_drain = worker_master_drain,
			.wc_resume = worker_master_resume,
			.wc_master_gone = worker_master_gone,
			.wc_device = worker_master_device,
			.wc_claim = worker_master_claim,
			.wc_arg = &wk,
		};

		if (wlink_start(wk.wk_loop, ipc_fd, slot, wk.wk_consumer,
		    &wk.wk_stats, &cb) == -1) {
			log_error("cannot start the master link");
			pipeline_free(wk.wk_pipeline);
			ev_loop_destroy(wk.wk_loop);
			return WORKER_EXIT_RESTART;
		}
	}
	race_mark_batches(cf);
	race_decode_io(wk.wk_loop, cf, &wk.wk_stats);
	pipeline_on_consuming(wk.wk_pipeline, worker_consuming, &wk);
	log_info("worker %d starting as consumer %s", slot, wk.wk_consumer);
	pipeline_start(wk.wk_pipeline);
	ev_run(wk.wk_loop, 0);
	ev_timer_stop(wk.wk_loop, &wk.wk_orphan);
	worker_log_totals(&wk);
	wlink_stop();	/* final counters to the master */
	pipeline_free(wk.wk_pipeline);
	ev_signal_stop(wk.wk_loop, &wk.wk_sigterm);
	ev_signal_stop(wk.wk_loop, &wk.wk_sigint);
	ev_loop_destroy(wk.wk_loop);
	return WORKER_EXIT_CLEAN;
}
