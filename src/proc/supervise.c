/* Worker table: fork, reap, classify exits, respawn pacing, crash-loop guard. */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/exitcodes.h"
#include "util/log.h"
#include "proc/pacing.h"
#include "proc/supervise.h"

static struct {
	struct ev_loop		*sv_loop;
	struct supervise_conf	 sv_conf;
	struct supervise_cb	 sv_cb;
	struct worker		**sv_w;		/* indexed by slot, NULL = unused */
	int			 sv_n;		/* length of sv_w */
	int			 sv_want;	/* configured slots */
	unsigned		 sv_gen;	/* config generation */
	unsigned		 sv_max_restarts;
	ev_child		 sv_child;
	struct pacing_window	 sv_window;
	struct worker_stats	 sv_retired;	/* counters of removed slots */
	pid_t			 sv_master;
} sv;

static int	supervise_spawn(struct worker *);

/* Fields of a line about a worker: slot, pid and what happened. */
static const char *
supervise_fields(struct log_fields *f, const struct worker *w,
    const char *event)
{
	log_fields_init(f);
	log_fields_int(f, "worker", w->w_slot);
	log_fields_int(f, "pid", (long long)w->w_pid);
	log_fields_str(f, "event", event);
	return log_fields_get(f);
}
static void	supervise_schedule(struct worker *, uint64_t);

static const char *
supervise_exit_name(int code)
{
	switch (code) {
	case WORKER_EXIT_CLEAN:
		return "clean";
	case WORKER_EXIT_RESTART:
		return "failed, restartable";
	case WORKER_EXIT_PERMANENT:
		return "permanent failure";
	case WORKER_EXIT_CRASHED:
		return "crashed, report written";
	default:
		return "unexpected code";
	}
}

static void
supervise_closefrom(int keep)
{
	long	fd, max;

	if (keep > 3)
		(void)close_range(3, (unsigned)keep - 1, 0);
	if (close_range((unsigned)keep + 1, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = keep + 1; fd < max && fd < 65536; fd++)
		(void)close((int)fd);
}

/*
 * In the child after fork: drop everything the master owns (its loop, its
 * sockets, the other workers' socketpairs, its signal dispositions), tie our
 * life to the master's, then become a worker.  Signals stay blocked (the
 * master blocked them around fork) until the dispositions are reset.
 */
static void __attribute__((noreturn))
supervise_child(struct worker *w, int fd)
{
	struct sigaction	 sa;
	sigset_t		 none;
	char			 name[32];
	int			 sig;

	sv.sv_cb.atfork();
	ev_child_stop(sv.sv_loop, &sv.sv_child);
	ev_loop_destroy(sv.sv_loop);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	supervise_closefrom(fd);

	snprintf(name, sizeof(name), "worker %d", w->w_slot);
	log_procinit(name);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		log_warn("prctl(PR_SET_PDEATHSIG) failed");
	if (getppid() != sv.sv_master) {
		log_warnx("master died before the worker started");
		_exit(WORKER_EXIT_CLEAN);
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	exit(sv.sv_cb.child_main(w->w_slot, fd));
}

static int
supervise_hello(struct worker *w, const void *p, size_t len)
{
	struct ipc_hello	hello;
	struct log_fields	f;

	if (len != sizeof(hello)) {
		log_error("worker %d sent HELLO of %zu bytes, want %zu",
		    w->w_slot, len, sizeof(hello));
		return -1;
	}
	memcpy(&hello, p, sizeof(hello));
	if (hello.hl_version != IPC_HELLO_VERSION ||
	    memchr(hello.hl_consumer, '\0', sizeof(hello.hl_consumer)) == NULL) {
		log_error("worker %d sent a malformed HELLO (version %u)",
		    w->w_slot, hello.hl_version);
		return -1;
	}
	memcpy(w->w_consumer, hello.hl_consumer, sizeof(w->w_consumer));
	w->w_hello = 1;
	if (w->w_state == W_STARTING)
		w->w_state = W_RUNNING;
	log_emit(LOG_LVL_INFO, supervise_fields(&f, w, "up"),
	    "worker %d (pid %ld) is up as consumer %s", w->w_slot,
	    (long)w->w_pid, w->w_consumer);
	sv.sv_cb.up(w);
	return 0;
}

static int
supervise_stats(struct worker *w, const void *p, size_t len)
{
	struct worker_stats	ws;

	if (len != sizeof(ws)) {
		log_error("worker %d sent STATS of %zu bytes, want %zu",
		    w->w_slot, len, sizeof(ws));
		return -1;
	}
	memcpy(&ws, p, sizeof(ws));
	if (ws.ws_version != METRICS_VERSION) {
		log_error("worker %d sent STATS version %u, want %u",
		    w->w_slot, ws.ws_version, METRICS_VERSION);
		return -1;
	}
	w->w_stats = ws;
	w->w_have_stats = 1;
	w->w_last_stats_ms = pacing_now_ms();
	sv.sv_cb.stats(w);
	return 0;
}

static int
supervise_dispatch(struct ipc_chan *c, const struct ipc_hdr *h,
    const void *p, size_t len, void *arg)
{
	struct worker	*w = arg;

	(void)c;
	if (h->ih_slot != (uint32_t)w->w_slot ||
	    h->ih_pid != (uint32_t)w->w_pid) {
		log_error("worker %d (pid %ld) sent a frame marked slot %u "
		    "pid %u", w->w_slot, (long)w->w_pid, h->ih_slot,
		    h->ih_pid);
		return -1;
	}
	switch (h->ih_type) {
	case MSG_HELLO:
		return supervise_hello(w, p, len);
	case MSG_STATS:
		return supervise_stats(w, p, len);
	default:			/* control replies, or garbage */
		return sv.sv_cb.msg(w, h, p, len);
	}
}

static void
supervise_closed(struct ipc_chan *c, int error, void *arg)
{
	struct worker	*w = arg;

	if (error == EPROTO) {
		log_error("worker %d (pid %ld) broke the IPC protocol; "
		    "killing it", w->w_slot, (long)w->w_pid);
		if (w->w_pid > 0)
			(void)kill(w->w_pid, SIGKILL);
	} else if (error != 0)
		log_warnx("worker %d: link failed: %s", w->w_slot,
		    strerror(error));
	ipc_close(c);
}

static void
supervise_log_death(const struct worker *w, int status)
{
	struct log_fields	f;
	enum log_level		lvl;
	int			code;

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		lvl = code == WORKER_EXIT_CLEAN && w->w_retire != W_KEEP ?
		    LOG_LVL_INFO : LOG_LVL_ERROR;
		supervise_fields(&f, w, "exited");
		log_fields_int(&f, "exit_code", code);
		log_emit(lvl, log_fields_get(&f), "worker %d (pid %ld) exited "
		    "with code %d (%s)", w->w_slot, (long)w->w_pid, code,
		    supervise_exit_name(code));
	} else if (WIFSIGNALED(status)) {
		supervise_fields(&f, w, "killed");
		log_fields_int(&f, "signal", WTERMSIG(status));
		log_emit(LOG_LVL_ERROR, log_fields_get(&f), "worker %d (pid %ld) "
		    "was killed by signal %d (%s)%s", w->w_slot, (long)w->w_pid,
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	} else
		log_emit(LOG_LVL_ERROR, supervise_fields(&f, w, "ended"),
		    "worker %d (pid %ld) ended with status 0x%x",
		    w->w_slot, (long)w->w_pid, status);
}

static void
supervise_remove(struct worker *w)
{
	struct worker_stats	cum;

	supervise_cumulative(w, &cum);
	metrics_add(&sv.sv_retired, &cum);
	ev_timer_stop(sv.sv_loop, &w->w_timer);
	sv.sv_w[w->w_slot] = NULL;
	free(w);
}

/*
 * An unexpected death: respawn after a backoff that grows with consecutive
 * crashes of the slot, unless the worker said the configuration cannot work
 * (permanent) or the respawn rate says the workers crash-loop.  Both end the
 * master, so systemd sees the failure instead of a daemon that looks alive.
 */
static void
supervise_unexpected(struct worker *w, int status, uint64_t uptime)
{
	uint64_t	now = pacing_now_ms();

	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_PERMANENT) {
		log_emit(LOG_LVL_CRIT, NULL, "worker %d cannot run with this "
		    "configuration; stopping all workers", w->w_slot);
		w->w_state = W_IDLE;
		sv.sv_cb.fail(EXIT_CONFIG);
		return;
	}
	w->w_crashes = pacing_crashes_after(w->w_crashes, uptime);
	if (pacing_window_note(&sv.sv_window, now,
	    (uint64_t)sv.sv_conf.sc_restart_window_ms)) {
		log_emit(LOG_LVL_CRIT, NULL, "workers are crash-looping: more "
		    "than %d restarts within %d ms; giving up",
		    sv.sv_conf.sc_max_restarts, sv.sv_conf.sc_restart_window_ms);
		w->w_state = W_IDLE;
		sv.sv_cb.fail(EXIT_CRASHLOOP);
		return;
	}
	supervise_schedule(w, pacing_backoff_ms(w->w_crashes));
}

static void
supervise_reaped(struct worker *w, int status)
{
	uint64_t	uptime = pacing_now_ms() - w->w_started_ms;

	ipc_read_pending(&w->w_chan);	/* its last STATS frames */
	if (w->w_chan.ic_fd != -1)
		ipc_close(&w->w_chan);
	supervise_log_death(w, status);
	metrics_add(&w->w_past, &w->w_stats);
	memset(&w->w_stats, 0, sizeof(w->w_stats));
	w->w_have_stats = 0;
	w->w_hello = 0;
	w->w_pid = 0;
	w->w_state = W_IDLE;

	switch (w->w_retire) {
	case W_HALT:
		break;
	case W_REMOVE:
		supervise_remove(w);
		break;
	case W_REPLACE:
		if (supervise_spawn(w) == -1)
			supervise_schedule(w, PACING_BACKOFF_MIN_MS);
		break;
	case W_KEEP:
		supervise_unexpected(w, status, uptime);
		break;
	}
	sv.sv_cb.gone();
}

static void
supervise_child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
	int	slot;

	(void)loop;
	(void)revents;
	for (slot = 0; slot < sv.sv_n; slot++) {
		if (sv.sv_w[slot] != NULL && sv.sv_w[slot]->w_pid == c->rpid) {
			supervise_reaped(sv.sv_w[slot], c->rstatus);
			return;
		}
	}
	log_debug("reaped unknown child %ld", (long)c->rpid);
}

static void
supervise_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker	*w = t->data;

	(void)loop;
	(void)revents;
	w->w_restarts++;
	if (supervise_spawn(w) == -1)
		supervise_unexpected(w, 0, 0);
}

static void
supervise_schedule(struct worker *w, uint64_t delay_ms)
{
	log_info("worker %d restarts in %llu ms", w->w_slot,
	    (unsigned long long)delay_ms);
	w->w_state = W_BACKOFF;
	ev_timer_stop(sv.sv_loop, &w->w_timer);
	ev_timer_set(&w->w_timer, (double)delay_ms / 1000.0, 0.);
	ev_timer_start(sv.sv_loop, &w->w_timer);
}

static int
supervise_spawn(struct worker *w)
{
	struct log_fields f;
	sigset_t	 all, old;
	pid_t		 pid;
	int		 sp[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1) {
		log_warn("socketpair() failed while spawning worker %d",
		    w->w_slot);
		return -1;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		close(sp[0]);
		supervise_child(w, sp[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sp[1]);
	if (pid == -1) {
		log_warn("fork() failed while spawning worker %d", w->w_slot);
		close(sp[0]);
		return -1;
	}
	w->w_pid = pid;
	w->w_state = W_STARTING;
	w->w_retire = W_KEEP;
	w->w_gen = sv.sv_gen;
	w->w_hello = 0;
	w->w_have_stats = 0;
	w->w_consumer[0] = '\0';
	memset(&w->w_stats, 0, sizeof(w->w_stats));
	w->w_started_ms = w->w_last_stats_ms = pacing_now_ms();
	w->w_killed_ms = 0;
	ipc_init(&w->w_chan, sv.sv_loop, sp[0], supervise_dispatch,
	    supervise_closed, w);
	log_emit(LOG_LVL_INFO, supervise_fields(&f, w, "started"),
	    "worker %d started with pid %ld", w->w_slot, (long)pid);
	return 0;
}

static struct worker *
supervise_new(int slot)
{
	struct worker	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->w_slot = slot;
	w->w_chan.ic_fd = -1;
	ev_timer_init(&w->w_timer, supervise_timer_cb, 0., 0.);
	w->w_timer.data = w;
	return w;
}

/* Make room for n slots and create the missing ones. */
static int
supervise_grow(int n)
{
	struct worker	**nw;
	int		  slot;

	if (n > sv.sv_n) {
		if ((nw = reallocarray(sv.sv_w, (size_t)n, sizeof(*nw))) == NULL)
			return -1;
		for (slot = sv.sv_n; slot < n; slot++)
			nw[slot] = NULL;
		sv.sv_w = nw;
		sv.sv_n = n;
	}
	for (slot = 0; slot < n; slot++)
		if (sv.sv_w[slot] == NULL &&
		    (sv.sv_w[slot] = supervise_new(slot)) == NULL)
			return -1;
	return 0;
}

int
supervise_init(struct ev_loop *loop, const struct supervise_conf *conf,
    const struct supervise_cb *cb)
{
	memset(&sv, 0, sizeof(sv));
	sv.sv_loop = loop;
	sv.sv_conf = *conf;
	sv.sv_cb = *cb;
	sv.sv_master = getpid();
	sv.sv_want = conf->sc_workers;
	sv.sv_max_restarts = (unsigned)conf->sc_max_restarts;
	if (pacing_window_init(&sv.sv_window, sv.sv_max_restarts) == -1 ||
	    supervise_grow(sv.sv_want) == -1)
		return -1;
	ev_child_init(&sv.sv_child, supervise_child_cb, 0, 0);
	ev_child_start(loop, &sv.sv_child);
	return 0;
}

void
supervise_free(void)
{
	int	slot;

	ev_child_stop(sv.sv_loop, &sv.sv_child);
	for (slot = 0; slot < sv.sv_n; slot++) {
		if (sv.sv_w[slot] == NULL)
			continue;
		ev_timer_stop(sv.sv_loop, &sv.sv_w[slot]->w_timer);
		if (sv.sv_w[slot]->w_chan.ic_fd != -1)
			ipc_close(&sv.sv_w[slot]->w_chan);
		free(sv.sv_w[slot]);
	}
	free(sv.sv_w);
	pacing_window_free(&sv.sv_window);
	memset(&sv, 0, sizeof(sv));
}

int
supervise_start(void)
{
	int	slot;

	for (slot = 0; slot < sv.sv_want; slot++)
		if (supervise_spawn(sv.sv_w[slot]) == -1)
			return -1;
	return 0;
}

static void
supervise_ask_stop(struct worker *w, enum wretire why)
{
	w->w_retire = why;
	if (w->w_pid <= 0)
		return;
	if (w->w_chan.ic_fd == -1 || ipc_compose(&w->w_chan, MSG_SHUTDOWN,
	    (uint32_t)w->w_slot, (uint32_t)w->w_pid, NULL, 0) == -1 ||
	    !w->w_hello)
		(void)kill(w->w_pid, SIGTERM);
	w->w_state = W_STOPPING;
}

/*
 * Adopt a new configuration (after SIGHUP).  New slots start at once; slots
 * beyond the new count are asked to stop and are not respawned; the others
 * keep running until supervise_roll_next replaces them one by one.
 */
int
supervise_reconfigure(const struct supervise_conf *conf)
{
	struct worker	*w;
	int		 slot, want = conf->sc_workers;

	sv.sv_conf = *conf;
	sv.sv_gen++;
	if ((unsigned)conf->sc_max_restarts != sv.sv_max_restarts) {
		pacing_window_free(&sv.sv_window);
		sv.sv_max_restarts = (unsigned)conf->sc_max_restarts;
		if (pacing_window_init(&sv.sv_window, sv.sv_max_restarts) == -1)
			return -1;
	}
	if (supervise_grow(want) == -1)
		return -1;
	sv.sv_want = want;
	for (slot = 0; slot < sv.sv_n; slot++) {
		if ((w = sv.sv_w[slot]) == NULL)
			continue;
		if (slot >= want) {
			if (w->w_pid > 0)
				supervise_ask_stop(w, W_REMOVE);
			else
				supervise_remove(w);
		} else if (w->w_retire == W_REMOVE)
			w->w_retire = W_REPLACE;
		else if (w->w_state == W_IDLE && supervise_spawn(w) == -1)
			supervise_schedule(w, PACING_BACKOFF_MIN_MS);
	}
	return 0;
}

/*
 * One step of a rolling restart: ask the next worker still running an old
 * configuration to stop (its replacement starts when it is reaped), unless a
 * previous step is still in flight, i.e. a worker is stopping or its
 * replacement has not said hello yet.  Returns 1 while the roll goes on and
 * 0 when every slot runs the current configuration.
 */
int
supervise_roll_next(void)
{
	struct worker	*w;
	int		 slot;

	for (slot = 0; slot < sv.sv_n; slot++) {
		if ((w = sv.sv_w[slot]) == NULL)
			continue;
		if (w->w_state == W_STOPPING || w->w_state == W_STARTING)
			return 1;
	}
	for (slot = 0; slot < sv.sv_want; slot++) {
		w = sv.sv_w[slot];
		if (w->w_gen != sv.sv_gen && w->w_state == W_RUNNING) {
			log_info("reload: replacing worker %d (pid %ld)",
			    slot, (long)w->w_pid);
			supervise_ask_stop(w, W_REPLACE);
			return 1;
		}
	}
	return 0;
}

void
supervise_stop(void)
{
	struct worker	*w;
	int		 slot;

	for (slot = 0; slot < sv.sv_n; slot++) {
		if ((w = sv.sv_w[slot]) == NULL)
			continue;
		ev_timer_stop(sv.sv_loop, &w->w_timer);
		if (w->w_state == W_BACKOFF)
			w->w_state = W_IDLE;
		supervise_ask_stop(w, W_HALT);
	}
}

void
supervise_kill(void)
{
	struct worker	*w;
	int		 slot;

	for (slot = 0; slot < sv.sv_n; slot++) {
		if ((w = sv.sv_w[slot]) == NULL || w->w_pid <= 0)
			continue;
		log_warnx("worker %d (pid %ld) did not stop in time; killing it",
		    slot, (long)w->w_pid);
		(void)kill(w->w_pid, SIGKILL);
	}
}

int
supervise_send(struct worker *w, enum ipc_type type, const void *payload,
    size_t len)
{
	if (w->w_pid <= 0 || !w->w_hello || w->w_chan.ic_fd == -1 ||
	    w->w_state != W_RUNNING)
		return -1;
	if (ipc_compose(&w->w_chan, type, (uint32_t)w->w_slot,
	    (uint32_t)w->w_pid, payload, len) == -1) {
		log_warn("cannot send %s to worker %d", ipc_type_name(type),
		    w->w_slot);
		return -1;
	}
	return 0;
}

int
supervise_broadcast(enum ipc_type type, const void *payload, size_t len)
{
	int	slot, n = 0;

	for (slot = 0; slot < sv.sv_n; slot++)
		if (sv.sv_w[slot] != NULL &&
		    supervise_send(sv.sv_w[slot], type, payload, len) == 0)
			n++;
	return n;
}

int
supervise_live(void)
{
	int	slot, n = 0;

	for (slot = 0; slot < sv.sv_n; slot++)
		if (sv.sv_w[slot] != NULL && sv.sv_w[slot]->w_pid > 0)
			n++;
	return n;
}

int
supervise_slots(void)
{
	return sv.sv_n;
}

int
supervise_wanted(void)
{
	return sv.sv_want;
}

struct worker *
supervise_worker(int slot)
{
	if (slot < 0 || slot >= sv.sv_n)
		return NULL;
	return sv.sv_w[slot];
}

const struct worker_stats *
supervise_retired(void)
{
	return &sv.sv_retired;
}

/* Counters over all lives of the slot; flags and gauges of the current one. */
void
supervise_cumulative(const struct worker *w, struct worker_stats *out)
{
	*out = w->w_stats;
	metrics_add(out, &w->w_past);
}

int
supervise_worker_ready(const struct worker *w, uint64_t now_ms,
    const char **why)
{
	static const struct {
		enum wstate	 state;
		const char	*why;
	} states[] = {
		{ W_IDLE, "not running" },
		{ W_STARTING, "starting" },
		{ W_STOPPING, "stopping" },
		{ W_BACKOFF, "restarting" },
	};
	size_t	i;
	uint32_t f;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (w->w_state == states[i].state) {
			*why = states[i].why;
			return 0;
		}
	}
	f = w->w_stats.ws_flags;
	if (!w->w_have_stats)
		*why = "no stats yet";
	else if (now_ms - w->w_last_stats_ms > SUPERVISE_STALE_MS)
		*why = "unresponsive";
	else if (!(f & WS_REDIS_UP))
		*why = f & WS_REDIS_TIMEDOUT ? "redis down: timed out (no reply "
		    "within command_timeout_ms or connect_timeout_ms)" :
		    "redis down";
	else if (!(f & WS_PG_UP))
		*why = f & WS_PG_TIMEDOUT ? "postgres down: timed out (no "
		    "answer within the client guard)" : "postgres down";
	else if (f & WS_CIRCUIT_OPEN)
		*why = "write circuit open: consecutive rows failed";
	else if (f & WS_SETTLE_FAILING)
		*why = "settle failing: cannot dead-letter or XACK";
	else if (f & WS_DRAINING)
		*why = "draining";
	else if (!(f & WS_CONSUMING))
		*why = "not consuming";
	else
		return 1;
	return 0;
}

/*
 * A worker whose loop no longer turns (stopped, spinning, deadlocked) holds
 * its pending entries and its slot, and a master that waits for it would
 * let systemd's watchdog take the whole daemon down.  Kill it instead: the
 * reaper respawns it as after a crash, and the new life replays the entries
 * the old one held.  Only a worker that survives SIGKILL is left to systemd.
 */
int
supervise_kill_stalled(uint64_t stall_ms)
{
	struct log_fields	 f;
	struct worker		*w;
	uint64_t		 now = pacing_now_ms();
	int			 slot, stuck = 0;

	for (slot = 0; slot < supervise_slots(); slot++) {
		if ((w = supervise_worker(slot)) == NULL || w->w_pid <= 0)
			continue;
		if (w->w_killed_ms != 0) {
			if (now - w->w_killed_ms > stall_ms)
				stuck++;
			continue;
		}
		if (w->w_state != W_RUNNING || now - w->w_last_stats_ms <= stall_ms)
			continue;
		w->w_stalls++;
		w->w_killed_ms = now;
		log_emit(LOG_LVL_ERROR, supervise_fields(&f, w, "stalled"),
		    "worker %d (pid %ld) sent no stats for %llu ms "
		    "(worker_stall_ms %llu): killing it", w->w_slot,
		    (long)w->w_pid, (unsigned long long)(now - w->w_last_stats_ms),
		    (unsigned long long)stall_ms);
		if (kill(w->w_pid, SIGKILL) == -1)
			log_warn("kill(%ld, SIGKILL) failed", (long)w->w_pid);
	}
	return stuck;
}
