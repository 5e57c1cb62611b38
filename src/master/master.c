/* The master process: start-up, signals, readiness, reload, shutdown. */

/*
 * Exit status of processor (the master; see exitcodes.h):
 *   0   stopped by SIGTERM/SIGINT; every worker drained and exited in time
 *   1   stopped, but some worker had to be SIGKILLed after shutdown_timeout,
 *       or an internal invariant broke (fatalx)
 *   64  bad command line
 *   70  workers crash-looped: more than max_restarts respawns within
 *       restart_window; everything was stopped
 *   75  Redis or PostgreSQL stayed unreachable for startup_timeout while
 *       applying migrations / creating the consumer group
 *   78  bad configuration (at start; a bad one on SIGHUP is only logged),
 *       a migration that cannot apply, or a worker exited 2 ("cannot work
 *       with this configuration")
 *
 * Signals:
 *   SIGTERM, SIGINT  STOPPING=1; MSG_SHUTDOWN to every worker (they stop
 *       reading, settle and ACK what is in flight, exit 0); after
 *       shutdown_timeout the rest are SIGKILLed and the exit status is 1.
 *   SIGHUP  re-read the configuration file.  Invalid: logged, the running
 *       configuration stays.  Valid: RELOADING=1, then the workers are
 *       replaced one at a time (the next only after the previous
 *       replacement said hello), then READY=1.  http.listen changes move
 *       the HTTP listener.
 *   SIGPIPE  ignored.  SIGCHLD  reaps workers (libev ev_child).
 * Workers get SIGTERM when the master dies (PR_SET_PDEATHSIG) and also see
 * EOF on their socketpair.
 *
 * Worker exit status, as the master reads it (exitcodes.h): 0 clean (only
 * expected after MSG_SHUTDOWN), 1 failed/restart, 2 permanent (the master
 * stops and exits 78), 3 crashed with a report; a signal counts as a crash.
 * Unexpected exits respawn after 100 ms doubling to 30 s per consecutive
 * crash of the slot (reset after 60 s up).
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/config.h"
#include "util/buf.h"
#include "control/control.h"
#include "core/consume.h"
#include "util/exitcodes.h"
#include "master/backlog.h"
#include "master/http.h"
#include "master/lag.h"
#include "util/log.h"
#include "util/procstat.h"
#include "master/master.h"
#include "master/migrate.h"
#include "master/notify.h"
#include "proc/pacing.h"
#include "master/prom.h"
#include "proc/supervise.h"

#define MASTER_STATUS_INTERVAL	5.0	/* seconds between STATUS= updates */
#define MASTER_RETRY_MAX_MS	5000	/* start-up retry delay cap */
#define MASTER_STALL_INTERVAL	1.0	/* seconds between stalled-worker checks */
#define MASTER_KILL_GRACE	5.0	/* after SIGKILL, wait this long for reaping */

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

enum master_state {
	M_STARTING = 0,
	M_RUNNING,
	M_RELOADING,
	M_STOPPING
};

static struct {
	struct ev_loop		*m_loop;
	struct config		 m_cf;
	const char		*m_path;
	enum master_state	 m_state;
	int			 m_exit;
	int			 m_ready_sent;
	int			 m_level_forced;
	int			 m_killed;
	ev_signal		 m_sigterm;
	ev_signal		 m_sigint;
	ev_signal		 m_sighup;
	ev_timer		 m_stop_timer;
	ev_timer		 m_status_timer;
	ev_timer		 m_watchdog;
	ev_timer		 m_stall;	/* wedged workers: kill and respawn */
	int			 m_workers_stuck;
	uint64_t		 m_last_inserted;
	uint64_t		 m_last_status_ms;
	double			 m_rate;
	int			 m_watchdog_withheld;
	int			 m_reload_ok;	/* the last reload was applied */
	int64_t			 m_last_commit_ms;	/* newest ws_last_commit_ms seen */
	int			(*m_child_main)(const struct config *, int, int);
	int			 m_contract;	/* racing contract tables exist */
} m;

static void	master_stop(int exitcode);
static const struct supervise_conf *master_supervise_conf(void);

static void
master_sleep_ms(unsigned ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Wait before retrying a start-up step that failed transiently.  Returns -1
 * once the start-up budget is spent: systemd then restarts the unit (75).
 */
static int
master_retry_wait(uint64_t deadline, unsigned *delay, const char *what,
    const char *err)
{
	uint64_t	now = pacing_now_ms();
	unsigned	d = *delay;

	if (now >= deadline) {
		log_emit(LOG_LVL_CRIT, NULL, "%s: giving up after %d ms: %s",
		    what, m.m_cf.cf_startup_timeout_ms, err);
		return -1;
	}
	if (d > deadline - now)
		d = (unsigned)(deadline - now);
	log_warnx("%s: %s; retrying in %u ms", what, err, d);
	master_sleep_ms(d);
	*delay = *delay * 2 > MASTER_RETRY_MAX_MS ? MASTER_RETRY_MAX_MS :
	    *delay * 2;
	return 0;
}

/*
 * Evaluators: as configured, or (auto) one when the racing contract tables
 * exist.  Workers mark their batches for them only when some run.
 */
static int
master_evaluators(const struct config *cf)
{
	return cf->cf_evaluators == CONFIG_EVALUATORS_AUTO ? m.m_contract :
	    cf->cf_evaluators;
}

static void
master_domain(struct config *cf)
{
	cf->cf_domain_active = master_evaluators(cf) > 0;
}

/* Migrations and the consumer group, before any worker: 0 or an exit code. */
static int
master_prepare(void)
{
	uint64_t	deadline;
	unsigned	delay = 100;
	char		err[512];
	int		rc;

	deadline = pacing_now_ms() + (uint64_t)m.m_cf.cf_startup_timeout_ms;
	for (;;) {
		err[0] = '\0';
		rc = migrate_run(&m.m_cf, NULL, err, sizeof(err));
		if (rc == MIGRATE_OK)
			break;
		if (rc == MIGRATE_FATAL) {
			log_emit(LOG_LVL_CRIT, NULL, "migrations failed: %s",
			    err);
			return EXIT_CONFIG;
		}
		if (master_retry_wait(deadline, &delay, "migrations", err) == -1)
			return EXIT_TEMPFAIL;
	}
	delay = 100;
	for (;;) {
		err[0] = '\0';
		if ((rc = migrate_has_contract(&m.m_cf, err, sizeof(err))) >= 0)
			break;
		if (master_retry_wait(deadline, &delay, "contract tables",
		    err) == -1)
			return EXIT_TEMPFAIL;
	}
	m.m_contract = rc;
	master_domain(&m.m_cf);
	delay = 100;
	for (;;) {
		err[0] = '\0';
		if (consume_ensure_group_sync(&m.m_cf, err, sizeof(err)) == 0)
			break;
		if (master_retry_wait(deadline, &delay, "consumer group",
		    err) == -1)
			return EXIT_TEMPFAIL;
	}
	delay = 100;
	for (;;) {
		err[0] = '\0';
		/*
		 * Workers of a killed master may still be finishing their
		 * batches under our consumer names: wait for them (they give
		 * up after shutdown_timeout_ms); a name still in use when the
		 * start-up time is spent belongs to another live master.
		 */
		if ((rc = consume_in_use_sync(&m.m_cf, config_workers(&m.m_cf),
		    err, sizeof(err))) == 0)
			break;
		if (master_retry_wait(deadline, &delay, "consumer names",
		    err) == -1) {
			if (rc != 1)
				return EXIT_TEMPFAIL;
			log_emit(LOG_LVL_CRIT, NULL, "refusing to start: %s", err);
			return EXIT_CONFIG;
		}
	}
	return 0;
}

/* 1 when every configured slot is ready; else 0 and the first reason. */
static int
master_ready(struct buf *reason)
{
	const struct worker	*w;
	const char		*why;
	uint64_t		 now = pacing_now_ms();
	int			 slot;

	if (m.m_state == M_STOPPING) {
		buf_puts(reason, "shutting down");
		return 0;
	}
	for (slot = 0; slot < supervise_wanted(); slot++) {
		if ((w = supervise_worker(slot)) == NULL) {
			buf_printf(reason, "worker %d: not started", slot);
			return 0;
		}
		if (!supervise_worker_ready(w, now, &why)) {
			buf_printf(reason, "worker %d: %s", slot, why);
			return 0;
		}
	}
	return 1;
}

static int
master_http_ready(struct buf *reason, void *arg)
{
	(void)arg;
	return master_ready(reason);
}

static void
master_prom_input(struct prom_input *in, struct prom_worker *pw)
{
	const struct worker	*w;
	const char		*why;
	struct timespec		 ts;
	uint64_t		 now = pacing_now_ms();
	int			 slot, n = 0;

	for (slot = 0; slot < supervise_slots(); slot++) {
		if ((w = supervise_worker(slot)) == NULL)
			continue;
		pw[n].pw_slot = slot;
		pw[n].pw_up = w->w_pid > 0 && w->w_hello;
		pw[n].pw_ready = supervise_worker_ready(w, now, &why);
		pw[n].pw_restarts = w->w_restarts;
		pw[n].pw_stalls = w->w_stalls;
		supervise_cumulative(w, &pw[n].pw_stats);
		n++;
	}
	memset(in, 0, sizeof(*in));
	in->pi_version = PACKAGE_VERSION;
	in->pi_revision = master_revision;
	in->pi_reload_ok = m.m_reload_ok;
	in->pi_last_commit_ms = m.m_last_commit_ms;
	in->pi_backlog = backlog_behind(NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	in->pi_now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	in->pi_configured = supervise_wanted();
	in->pi_workers = pw;
	in->pi_nworkers = n;
	in->pi_retired = supervise_retired();
	lag_get(&in->pi_group);
}

static int
master_http_metrics(struct buf *b, void *arg)
{
	struct procstat		 self;
	struct prom_input	 in;
	struct prom_worker	*pw;
	int			 rc;

	(void)arg;
	if ((pw = calloc((size_t)supervise_slots() + 1, sizeof(*pw))) == NULL)
		return -1;
	master_prom_input(&in, pw);
	if (procstat_self(&self) == 0)
		in.pi_master = &self;
	rc = prom_render(b, &in);
	free(pw);
	return rc;
}

static const struct http_cb master_http_cb = {
	.hc_metrics = master_http_metrics,
	.hc_ready = master_http_ready,
};

static int
master_http_start(void)
{
	const char	*listen = m.m_cf.cf_http_listen;

	if (listen == NULL || *listen == '\0')
		return 0;
	if (http_start(m.m_loop, listen, &master_http_cb) == -1) {
		log_error("[http] listen = %s: %s", listen,
		    errno == EADDRINUSE ? "address in use" :
		    errno == EACCES ? "permission denied" :
		    errno == EADDRNOTAVAIL ? "no such address on this host" :
		    errno == EINVAL ? "not a numeric host:port" :
		    strerror(errno));
		return -1;
	}
	log_info("HTTP listening on %s", listen);
	return 0;
}

/* Totals over all slots and the number of ready workers; 0 or -1. */
static int
master_totals(struct worker_stats *sum, int *ready)
{
	struct prom_input	 in;
	struct prom_worker	*pw;
	int			 i;

	if ((pw = calloc((size_t)supervise_slots() + 1, sizeof(*pw))) == NULL)
		return -1;
	master_prom_input(&in, pw);
	prom_sum(&in, sum);
	*ready = 0;
	for (i = 0; i < in.pi_nworkers; i++)
		*ready += pw[i].pw_ready;
	free(pw);
	return 0;
}

/* A one-line summary for systemctl status. */
static void
master_status(const char *phase)
{
	struct worker_stats	sum;
	struct buf		reason;
	int			ready;

	if (master_totals(&sum, &ready) == -1)
		return;
	buf_init(&reason);
	if (master_ready(&reason))
		buf_puts(&reason, "ready");
	notify_send("STATUS=%s: %d/%d workers ready, %.0f rows/s, %llu rows "
	    "inserted (%s)", phase, ready, supervise_wanted(), m.m_rate,
	    (unsigned long long)sum.ws_inserted, buf_cstr(&reason));
	buf_free(&reason);
}

static const char *
master_phase(void)
{
	static const char *const names[] = {
		[M_STARTING] = "starting",
		[M_RUNNING] = "running",
		[M_RELOADING] = "reloading",
		[M_STOPPING] = "stopping",
	};

	return names[m.m_state];
}

static void
master_status_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker_stats	sum;
	uint64_t		now = pacing_now_ms();
	int			ready;

	(void)loop;
	(void)t;
	(void)revents;
	if (master_totals(&sum, &ready) == -1)
		return;
	if (m.m_last_status_ms != 0 && now > m.m_last_status_ms)
		m.m_rate = (double)(sum.ws_inserted - m.m_last_inserted) *
		    1000.0 / (double)(now - m.m_last_status_ms);
	m.m_last_inserted = sum.ws_inserted;
	m.m_last_status_ms = now;
	master_status(master_phase());
}

/*
 * A wedged worker is the master's to handle (master_stall_cb kills and
 * respawns it), not systemd's: taking the whole unit down for one worker
 * would stop the healthy ones too.  The watchdog is withheld only when the
 * master cannot do its job: a stalled worker it killed is still not reaped.
 * A master whose own loop is stuck does not get here at all.
 */
static void
master_watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	if (m.m_workers_stuck > 0) {
		if (!m.m_watchdog_withheld)
			log_warnx("%d stalled workers survived SIGKILL; "
			    "withholding the watchdog", m.m_workers_stuck);
		m.m_watchdog_withheld = 1;
		return;
	}
	m.m_watchdog_withheld = 0;
	notify_send("WATCHDOG=1");
}

static void
master_stall_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	m.m_workers_stuck = supervise_kill_stalled(
	    (uint64_t)m.m_cf.cf_worker_stall_ms);
}

static void
master_check_ready(void)
{
	struct buf	reason;

	if (m.m_ready_sent || m.m_state != M_RUNNING)
		return;
	buf_init(&reason);
	if (master_ready(&reason)) {
		m.m_ready_sent = 1;
		log_info("all %d workers are ready", supervise_wanted());
		notify_send("READY=1");
		master_status("running");
	}
	buf_free(&reason);
}

static void
master_roll(void)
{
	if (m.m_state != M_RELOADING || supervise_roll_next())
		return;
	m.m_state = M_RUNNING;
	m.m_ready_sent = 1;
	log_info("reload complete: all workers run the new configuration");
	notify_send("READY=1");
	master_status("running");
}

static void
master_worker_up(struct worker *w)
{
	control_worker_up(w);	/* control socket: a drained master drains it */
	backlog_hello(w);	/* an evaluator respawned during a backlog */
	master_roll();
	master_check_ready();
}

static void
master_worker_stats(struct worker *w)
{
	if (w->w_stats.ws_last_commit_ms > m.m_last_commit_ms)
		m.m_last_commit_ms = w->w_stats.ws_last_commit_ms;
	backlog_update();
	master_check_ready();
}

static void
master_worker_gone(void)
{
	backlog_update();	/* a dead worker's read age no longer counts */
	if (m.m_state == M_STOPPING) {
		if (supervise_live() == 0)
			ev_break(m.m_loop, EVBREAK_ALL);
		return;
	}
	master_roll();
}

static void
master_fail(int exitcode)
{
	if (m.m_state == M_STOPPING) {
		if (m.m_exit == EXIT_CLEAN)
			m.m_exit = exitcode;
		return;
	}
	master_stop(exitcode);
}

static void
master_stop_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	if (m.m_killed) {
		log_error("workers still not reaped after SIGKILL; exiting");
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_error("shutdown timeout (%d ms) expired",
	    m.m_cf.cf_shutdown_timeout_ms);
	supervise_kill();
	m.m_killed = 1;
	if (m.m_exit == EXIT_CLEAN)
		m.m_exit = EXIT_INTERNAL;
	ev_timer_set(t, MASTER_KILL_GRACE, 0.);
	ev_timer_start(loop, t);
}

static void
master_stop(int exitcode)
{
	m.m_exit = exitcode;
	m.m_state = M_STOPPING;
	notify_send("STOPPING=1\nSTATUS=stopping: waiting for %d workers",
	    supervise_live());
	supervise_stop();
	if (supervise_live() == 0) {
		ev_break(m.m_loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&m.m_stop_timer, master_stop_timer_cb,
	    (double)m.m_cf.cf_shutdown_timeout_ms / 1000.0, 0.);
	ev_timer_start(m.m_loop, &m.m_stop_timer);
}

static void
master_apply(struct config *ncf)
{
	struct config	old = m.m_cf;
	int		http_moved;

	http_moved = strcmp(old.cf_http_listen ? old.cf_http_listen : "",
	    ncf->cf_http_listen ? ncf->cf_http_listen : "") != 0;
	m.m_cf = *ncf;
	master_domain(&m.m_cf);
	if (!m.m_level_forced)
		log_setlevel((enum log_level)m.m_cf.cf_log_level);
	if (supervise_reconfigure(master_supervise_conf()) == -1)
		fatal("cannot resize the worker table");
	lag_reconfigure(&m.m_cf);
	if (http_moved) {
		http_stop();
		(void)master_http_start();
	}
	config_free(&old);
}

/* SIGHUP: a new configuration, or the old one kept with a logged reason. */
static void
master_reload(void)
{
	struct config	ncf;
	char		err[512];

	if (m.m_state == M_STOPPING) {
		log_info("SIGHUP ignored while stopping");
		return;
	}
	memset(&ncf, 0, sizeof(ncf));
	err[0] = '\0';
	if (config_load(&ncf, m.m_path, err, sizeof(err)) == -1) {
		log_error("reload failed, keeping the running configuration: %s",
		    err);
		m.m_reload_ok = 0;
		config_free(&ncf);
		return;
	}
	m.m_reload_ok = 1;
	log_info("reloading: %d workers, replacing them one at a time",
	    config_workers(&ncf));
	notify_reloading();
	m.m_state = M_RELOADING;
	master_apply(&ncf);
	master_status("reloading");
	master_roll();
}

static void
master_signal_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	(void)loop;
	(void)revents;
	switch (s->signum) {
	case SIGHUP:
		log_info("SIGHUP received");
		master_reload();
		break;
	case SIGTERM:
	case SIGINT:
		if (m.m_state == M_STOPPING) {
			log_info("%s received again; still stopping",
			    strsignal(s->signum));
			break;
		}
		log_info("%s received; stopping", strsignal(s->signum));
		master_stop(EXIT_CLEAN);
		break;
	}
}

static void
master_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
	ev_signal_init(&m.m_sigterm, master_signal_cb, SIGTERM);
	ev_signal_init(&m.m_sigint, master_signal_cb, SIGINT);
	ev_signal_init(&m.m_sighup, master_signal_cb, SIGHUP);
	ev_signal_start(m.m_loop, &m.m_sigterm);
	ev_signal_start(m.m_loop, &m.m_sigint);
	ev_signal_start(m.m_loop, &m.m_sighup);
}

/*
 * libev keeps one owner loop per signal in a process-wide table; unless the
 * master's ev_signal watchers are stopped, a worker's own SIGTERM watcher
 * on its new loop trips libev's "signal attached to two loops" assertion.
 */
static void
master_atfork_child(void)
{
	ev_signal_stop(m.m_loop, &m.m_sigterm);
	ev_signal_stop(m.m_loop, &m.m_sigint);
	ev_signal_stop(m.m_loop, &m.m_sighup);
}

static void
master_timers(void)
{
	uint64_t	usec;

	ev_timer_init(&m.m_status_timer, master_status_cb,
	    MASTER_STATUS_INTERVAL, MASTER_STATUS_INTERVAL);
	ev_timer_start(m.m_loop, &m.m_status_timer);
	ev_timer_init(&m.m_stall, master_stall_cb, MASTER_STALL_INTERVAL,
	    MASTER_STALL_INTERVAL);
	ev_timer_start(m.m_loop, &m.m_stall);
	if ((usec = notify_watchdog_usec()) > 0) {
		ev_timer_init(&m.m_watchdog, master_watchdog_cb, 0.,
		    (double)usec / 2e6);
		ev_timer_start(m.m_loop, &m.m_watchdog);
		log_info("systemd watchdog every %.1f s",
		    (double)usec / 2e6);
	}
}

/* control socket hooks (src/control/) */
static const struct control_master master_control = {
	.cm_ready = master_ready,
	.cm_phase = master_phase,
	.cm_group = lag_get,
};

static void
master_control_start(void)
{
	if (control_start(m.m_loop, &m.m_cf, &master_control) == -1)
		log_error("control socket %s: %s; processorctl will not work",
		    m.m_cf.cf_control_socket, strerror(errno));
	else
		log_info("control socket listening on %s",
		    m.m_cf.cf_control_socket);
}
/* end of control socket hooks */

/* supervisor hooks (src/proc/supervise.c) */

/* In the new child: the worker runs with the master's current config. */
static int
master_child_main(int slot, int fd)
{
	return m.m_child_main(&m.m_cf, slot, fd);
}

static const struct supervise_cb master_supervise_cb = {
	.up = master_worker_up,
	.stats = master_worker_stats,
	.gone = master_worker_gone,
	.fail = master_fail,
	.atfork = master_atfork_child,
	.msg = control_worker_msg,	/* control replies */
	.child_main = master_child_main,
};

static const struct supervise_conf *
master_supervise_conf(void)
{
	static struct supervise_conf	sc;

	sc.sc_workers = config_workers(&m.m_cf) + master_evaluators(&m.m_cf);
	sc.sc_max_restarts = m.m_cf.cf_max_restarts;
	sc.sc_restart_window_ms = m.m_cf.cf_restart_window_ms;
	return &sc;
}
/* end of supervisor hooks */

static void
master_cleanup(void)
{
	control_stop();
	http_stop();
	lag_stop();
	supervise_free();
	ev_timer_stop(m.m_loop, &m.m_status_timer);
	ev_timer_stop(m.m_loop, &m.m_watchdog);
	ev_timer_stop(m.m_loop, &m.m_stall);
	ev_timer_stop(m.m_loop, &m.m_stop_timer);
	ev_signal_stop(m.m_loop, &m.m_sigterm);
	ev_signal_stop(m.m_loop, &m.m_sigint);
	ev_signal_stop(m.m_loop, &m.m_sighup);
	config_free(&m.m_cf);
}

int
master_run(struct config *cf, const char *path, enum log_level level,
    int level_forced,
    int (*child_main)(const struct config *, int slot, int ipc_fd))
{
	int	rc;

	memset(&m, 0, sizeof(m));
	m.m_child_main = child_main;
	m.m_cf = *cf;
	memset(cf, 0, sizeof(*cf));
	m.m_path = path;
	m.m_level_forced = level_forced;
	m.m_reload_ok = 1;
	log_init(level, "master");
	log_info("processor %s starting with %d workers", PACKAGE_VERSION,
	    config_workers(&m.m_cf));
	if ((rc = master_prepare()) != 0) {
		config_free(&m.m_cf);
		return rc;
	}
	if ((m.m_loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot initialise the event loop");
	master_signals();
	if (supervise_init(m.m_loop, master_supervise_conf(),
	    &master_supervise_cb) == -1)
		fatal("cannot allocate the worker table");
	if (master_http_start() == -1) {
		master_cleanup();
		return EXIT_TEMPFAIL;
	}
	lag_start(m.m_loop, &m.m_cf);
	master_control_start();
	master_timers();
	m.m_state = M_RUNNING;
	if (supervise_start() == -1) {
		log_emit(LOG_LVL_CRIT, NULL, "cannot start the workers");
		master_stop(EXIT_TEMPFAIL);
	}
	notify_send("STATUS=starting %d workers", supervise_wanted());
	if (m.m_state != M_STOPPING || supervise_live() > 0)
		ev_run(m.m_loop, 0);
	log_info("stopped with exit status %d", m.m_exit);
	master_cleanup();
	return m.m_exit;
}
