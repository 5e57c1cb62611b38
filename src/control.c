/* The master's control socket: peer-checked Unix socket, one JSON request and reply per line. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "ctlop.h"
#include "ipc.h"
#include "log.h"
#include "supervise.h"

#define CTL_MAX_CONNS		16	/* connections at once */
#define CTL_MAX_PER_UID		8	/* of them, from one uid */
#define CTL_IDLE_S		60.0	/* a connection with no request is closed */
#define CTL_READ_CHUNK		4096
#define CTL_REDIS_TIMEOUT_S	10.0
#define CTL_DEVICE_TIMEOUT_S	3.0
#define CTL_CLAIM_TIMEOUT_S	30.0

struct ctl_conn {
	struct ctl_conn	*c_next;
	int		 c_fd;
	uid_t		 c_uid;
	pid_t		 c_pid;
	ev_io		 c_rev;
	ev_io		 c_wev;
	ev_timer	 c_idle;
	struct buf	 c_in;
	struct buf	 c_out;
	size_t		 c_outoff;
	struct ctl_op	*c_op;		/* request being answered */
	int		 c_close;	/* close once c_out is written */
	int		 c_busy;	/* inside ctl_conn_next */
};

struct ctl_env	ctl_env;

static struct {
	int			 ct_fd;
	ev_io			 ct_accept;
	char			*ct_path;
	dev_t			 ct_dev;
	ino_t			 ct_ino;
	struct ctl_conn		*ct_conns;
	struct ctl_conn		*ct_dead;	/* closed, freed by ct_reaper */
	ev_timer		 ct_reaper;
	int			 ct_nconns;
	struct ctl_op		*ct_ops;
	uint32_t		 ct_next_id;
} ct = { .ct_fd = -1 };

static void	ctl_conn_close(struct ctl_conn *);
static void	ctl_conn_next(struct ctl_conn *);

/* ---- replies ----------------------------------------------------------- */

/* Write what is queued: 0 all written, 1 the rest waits for EV_WRITE, -1 closed. */
static int
ctl_conn_flush(struct ctl_conn *c)
{
	ssize_t	n;

	while (c->c_outoff < c->c_out.b_len) {
		n = write(c->c_fd, c->c_out.b_data + c->c_outoff,
		    c->c_out.b_len - c->c_outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(ctl_env.ce_loop, &c->c_wev);
			return 1;
		}
		if (n <= 0) {
			ctl_conn_close(c);
			return -1;
		}
		c->c_outoff += (size_t)n;
	}
	ev_io_stop(ctl_env.ce_loop, &c->c_wev);
	buf_reset(&c->c_out);
	c->c_outoff = 0;
	if (c->c_close) {
		ctl_conn_close(c);
		return -1;
	}
	return 0;
}

static void
ctl_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn	*c = w->data;

	(void)loop;
	(void)revents;
	if (ctl_conn_flush(c) == 0)
		ctl_conn_next(c);
}

/* Queue one reply line and write it; takes the reference. */
static void
ctl_conn_send(struct ctl_conn *c, json_t *reply)
{
	char	*s;

	if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
		json_decref(reply);
		reply = ctl_error_json("out of memory building the reply");
		if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
			json_decref(reply);
			ctl_conn_close(c);
			return;
		}
	}
	json_decref(reply);
	if (buf_puts(&c->c_out, s) == -1 || buf_putc(&c->c_out, '\n') == -1)
		c->c_close = 1;
	free(s);
	ev_timer_again(ctl_env.ce_loop, &c->c_idle);
	(void)ctl_conn_flush(c);
}

static void
ctl_conn_error(struct ctl_conn *c, const char *msg, int close_after)
{
	c->c_close = close_after;
	ctl_conn_send(c, ctl_error_json(msg));
}

/* ---- operations -------------------------------------------------------- */

void
ctl_fail(struct ctl_op *op, const char *fmt, ...)
{
	va_list	ap;

	if (op->o_err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(op->o_err, sizeof(op->o_err), fmt, ap);
	va_end(ap);
}

static void
ctl_op_free(struct ctl_op *op)
{
	struct ctl_op	**pp;

	for (pp = &ct.ct_ops; *pp != NULL; pp = &(*pp)->o_next)
		if (*pp == op) {
			*pp = op->o_next;
			break;
		}
	ev_timer_stop(ctl_env.ce_loop, &op->o_timer);
	ctl_req_free(&op->o_req);
	json_decref(op->o_reply);
	free(op);
}

/* The answer is final: send it (if the client is still there). Takes the reference. */
void
ctl_op_reply(struct ctl_op *op, json_t *reply)
{
	struct ctl_conn	*c = op->o_conn;

	op->o_done = 1;
	ev_timer_stop(ctl_env.ce_loop, &op->o_timer);
	if (c == NULL) {
		json_decref(reply);
		return;
	}
	op->o_conn = NULL;
	c->c_op = NULL;
	ctl_conn_send(c, reply);
	ctl_conn_next(c);	/* a request already buffered behind this one */
}

/* Every answer is in (or the time is up): build the reply. */
static void
ctl_op_complete(struct ctl_op *op)
{
	if (op->o_err[0] != '\0') {
		ctl_op_reply(op, ctl_error_json(op->o_err));
		return;
	}
	if (op->o_timedout && op->o_req.r_action != CTL_DEVICE &&
	    op->o_req.r_action != CTL_CLAIM) {
		ctl_op_reply(op, ctl_error_json("Redis did not answer in time"));
		return;
	}
	if (op->o_req.r_action == CTL_DEVICE) {
		ctl_device_complete(op);
		return;
	}
	if (op->o_req.r_action == CTL_CLAIM) {
		json_object_set_new(op->o_reply, "claimed",
		    json_integer((json_int_t)op->o_n[0]));
		json_object_set_new(op->o_reply, "workers_asked",
		    json_integer(op->o_asked));
		json_object_set_new(op->o_reply, "workers_unanswered",
		    json_integer(op->o_waiting));
	}
	if (op->o_req.r_action == CTL_DLQ_REPLAY) {
		json_object_set_new(op->o_reply, "replayed",
		    json_integer((json_int_t)op->o_n[N_REPLAYED]));
		json_object_set_new(op->o_reply, "skipped",
		    json_integer((json_int_t)op->o_n[N_SKIPPED]));
		json_object_set_new(op->o_reply, "failed",
		    json_integer((json_int_t)op->o_n[N_FAILED]));
	}
	ctl_op_reply(op, json_incref(op->o_reply));
}

void
ctl_op_settle(struct ctl_op *op)
{
	if (!op->o_done && op->o_refs == 0 && op->o_waiting == 0)
		ctl_op_complete(op);
	if (op->o_done && op->o_refs == 0)
		ctl_op_free(op);
}

static void
ctl_op_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_op	*op = t->data;

	(void)loop;
	(void)revents;
	op->o_timedout = 1;
	if (!op->o_done)
		ctl_op_complete(op);
	ctl_op_settle(op);
}

static struct ctl_op *
ctl_op_new(struct ctl_conn *c, double timeout)
{
	struct ctl_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	if ((op->o_reply = json_pack("{s:b}", "ok", 1)) == NULL) {
		free(op);
		return NULL;
	}
	ctl_req_init(&op->o_req);
	op->o_conn = c;
	op->o_id = ++ct.ct_next_id;
	ev_timer_init(&op->o_timer, ctl_op_timeout_cb, timeout, 0.);
	op->o_timer.data = op;
	ev_timer_start(ctl_env.ce_loop, &op->o_timer);
	op->o_next = ct.ct_ops;
	ct.ct_ops = op;
	c->c_op = op;
	return op;
}

static struct ctl_op *
ctl_op_find(uint32_t id, enum ctl_action action)
{
	struct ctl_op	*op;

	for (op = ct.ct_ops; op != NULL; op = op->o_next)
		if (op->o_id == id && op->o_req.r_action == action &&
		    !op->o_done && op->o_waiting > 0)
			return op;
	return NULL;
}

int
control_worker_msg(struct worker *w, const struct ipc_hdr *h,
    const void *p, size_t len)
{
	struct ctl_ipc_device_reply	dr;
	struct ctl_ipc_claim_reply	cr;
	struct ctl_op			*op;

	if (h->ih_type == MSG_DEVICE_REPLY && len == sizeof(dr)) {
		memcpy(&dr, p, sizeof(dr));
		if ((op = ctl_op_find(dr.dr_id, CTL_DEVICE)) == NULL)
			return 0;	/* late: the request timed out */
		/* a device's entries spread over the workers: sum, keep the freshest */
		if (dr.dr_found) {
			op->o_n[1] += dr.dr_records;
			if (dr.dr_last_seen_us > (int64_t)op->o_n[2])
				op->o_n[2] = (uint64_t)dr.dr_last_seen_us;
		}
		if (dr.dr_found && (!op->o_best.dr_found ||
		    dr.dr_ts_us > op->o_best.dr_ts_us)) {
			op->o_best = dr;
			op->o_n[0] = (uint64_t)w->w_slot;
		}
	} else if (h->ih_type == MSG_CLAIM_REPLY && len == sizeof(cr)) {
		memcpy(&cr, p, sizeof(cr));
		if ((op = ctl_op_find(cr.cr_id, CTL_CLAIM)) == NULL)
			return 0;
		op->o_n[0] += cr.cr_claimed;
		json_array_append_new(op->o_list, json_pack("{s:i, s:I, s:b}",
		    "slot", w->w_slot, "claimed", (json_int_t)cr.cr_claimed,
		    "ok", cr.cr_ok != 0));
	} else {
		log_error("worker %d sent unexpected %s (%zu bytes)", w->w_slot,
		    ipc_type_name(h->ih_type), len);
		return -1;
	}
	op->o_waiting--;
	ctl_op_settle(op);
	return 0;
}

void
control_worker_up(struct worker *w)
{
	if (!ctl_draining() || w->w_chan.ic_fd == -1)
		return;
	if (ipc_compose(&w->w_chan, MSG_DRAIN, (uint32_t)w->w_slot,
	    (uint32_t)w->w_pid, NULL, 0) == -1)
		log_warn("control: cannot drain worker %d", w->w_slot);
}

/* ---- dispatch ---------------------------------------------------------- */

/* Start an operation that answers later. */
static void
ctl_dispatch_async(struct ctl_conn *c, struct ctl_req *req)
{
	struct ctl_op	*op;
	double		 timeout = CTL_REDIS_TIMEOUT_S;

	if (req->r_action == CTL_DEVICE)
		timeout = CTL_DEVICE_TIMEOUT_S;
	else if (req->r_action == CTL_CLAIM)
		timeout = CTL_CLAIM_TIMEOUT_S;
	if ((op = ctl_op_new(c, timeout)) == NULL) {
		ctl_req_free(req);
		ctl_conn_error(c, "out of memory", 1);
		return;
	}
	op->o_req = *req;	/* takes the ids */
	ctl_req_init(req);
	switch (op->o_req.r_action) {
	case CTL_PENDING:	ctl_pending(op); break;
	case CTL_DLQ_LIST:	ctl_dlq_list(op); break;
	case CTL_DLQ_SHOW:	ctl_dlq_show(op); break;
	case CTL_DLQ_REPLAY:	ctl_dlq_replay(op); break;
	case CTL_DLQ_PURGE:	ctl_dlq_purge(op); break;
	case CTL_CLAIM:		ctl_claim(op); break;
	case CTL_DEVICE:	ctl_device(op); break;
	default:		ctl_fail(op, "internal: not an async command");
	}
	ctl_op_settle(op);
}

static void
ctl_dispatch(struct ctl_conn *c, const char *line, size_t len)
{
	struct ctl_req	 req;
	json_error_t	 jerr;
	json_t		*o;
	char		 err[256], msg[300];

	ctl_req_init(&req);
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(msg, sizeof(msg), "malformed request: %s", jerr.text);
		ctl_conn_error(c, msg, 0);
		return;
	}
	if (ctl_req_from_json(o, &req, err, sizeof(err)) == -1) {
		json_decref(o);
		ctl_req_free(&req);
		ctl_conn_error(c, err, 0);
		return;
	}
	json_decref(o);
	log_debug("control: uid %ld pid %ld: %s", (long)c->c_uid, (long)c->c_pid,
	    ctl_action_name(req.r_action));
	switch (req.r_action) {
	case CTL_STATUS:
		ctl_conn_send(c, ctl_status(1));
		break;
	case CTL_WORKERS:
		ctl_conn_send(c, ctl_status(0));
		break;
	case CTL_RELOAD:
		ctl_conn_send(c, ctl_reload());
		break;
	case CTL_DRAIN:
	case CTL_RESUME:
		ctl_conn_send(c, ctl_drain(req.r_action == CTL_DRAIN));
		break;
	default:
		ctl_dispatch_async(c, &req);
		break;
	}
	ctl_req_free(&req);
}

/* ---- connections ------------------------------------------------------- */

/*
 * Answer the buffered requests one at a time: read only while nothing is
 * being answered or written, so a client that sends without reading cannot
 * make us buffer without bound.  A loop, not recursion: nested calls (a
 * reply sent from inside ctl_dispatch) return at once.
 */
static void
ctl_conn_next(struct ctl_conn *c)
{
	char	*nl;
	size_t	 len;

	if (c->c_busy)
		return;
	c->c_busy = 1;
	ev_io_stop(ctl_env.ce_loop, &c->c_rev);
	while (c->c_fd != -1 && c->c_op == NULL && c->c_out.b_len == 0) {
		nl = c->c_in.b_len > 0 ?
		    memchr(c->c_in.b_data, '\n', c->c_in.b_len) : NULL;
		len = nl ? (size_t)(nl - c->c_in.b_data) : c->c_in.b_len;
		if (len > CTL_MAX_REQUEST) {
			log_warnx("control: uid %ld sent a request longer than "
			    "%d bytes", (long)c->c_uid, CTL_MAX_REQUEST);
			ctl_conn_error(c, "request too long", 1);
			break;
		}
		if (nl == NULL) {
			ev_io_start(ctl_env.ce_loop, &c->c_rev);
			break;
		}
		*nl = '\0';
		ctl_dispatch(c, c->c_in.b_data, len);
		if (c->c_fd == -1)
			break;	/* closed; freed later by the reaper */
		memmove(c->c_in.b_data, nl + 1, c->c_in.b_len - len - 1);
		c->c_in.b_len -= len + 1;
	}
	c->c_busy = 0;
}

static void
ctl_conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_conn	*c = w->data;
	ssize_t		 n;

	(void)loop;
	(void)revents;
	if (buf_reserve(&c->c_in, CTL_READ_CHUNK) == -1) {
		ctl_conn_close(c);
		return;
	}
	n = read(c->c_fd, c->c_in.b_data + c->c_in.b_len, CTL_READ_CHUNK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_conn_close(c);
		return;
	}
	c->c_in.b_len += (size_t)n;
	ev_timer_again(ctl_env.ce_loop, &c->c_idle);
	ctl_conn_next(c);
}

static void
ctl_conn_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_conn	*c = t->data;

	(void)loop;
	(void)revents;
	if (c->c_op != NULL) {
		ev_timer_again(ctl_env.ce_loop, &c->c_idle);
		return;
	}
	ctl_conn_close(c);
}

/*
 * A closed connection may still be on the stack (ctl_conn_next, a write
 * error inside ctl_dispatch): its fd goes at once, its memory on the next
 * loop iteration.
 */
static void
ctl_reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_conn	*c;

	(void)loop;
	(void)t;
	(void)revents;
	while ((c = ct.ct_dead) != NULL) {
		ct.ct_dead = c->c_next;
		buf_free(&c->c_in);
		buf_free(&c->c_out);
		free(c);
	}
}

static void
ctl_conn_close(struct ctl_conn *c)
{
	struct ctl_conn	**pp;

	if (c->c_fd == -1)
		return;
	for (pp = &ct.ct_conns; *pp != NULL; pp = &(*pp)->c_next)
		if (*pp == c) {
			*pp = c->c_next;
			break;
		}
	ct.ct_nconns--;
	if (c->c_op != NULL) {
		c->c_op->o_conn = NULL;	/* it finishes; the reply is dropped */
		c->c_op = NULL;
	}
	ev_io_stop(ctl_env.ce_loop, &c->c_rev);
	ev_io_stop(ctl_env.ce_loop, &c->c_wev);
	ev_timer_stop(ctl_env.ce_loop, &c->c_idle);
	close(c->c_fd);
	c->c_fd = -1;
	c->c_next = ct.ct_dead;
	ct.ct_dead = c;
	ev_timer_start(ctl_env.ce_loop, &ct.ct_reaper);
}

/* Supplementary groups of a process, from /proc (SO_PEERCRED has only the primary). */
static int
ctl_pid_in_group(pid_t pid, gid_t gid)
{
	char	 path[64], line[4096], *p, *end;
	FILE	*f;
	int	 found = 0;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7; *p != '\0' && !found; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			found = (gid_t)g == gid;
		}
		break;
	}
	fclose(f);
	return found;
}

static int
ctl_peer_allowed(const struct ucred *cr)
{
	return cr->uid == 0 || cr->uid == geteuid() || cr->gid == getegid() ||
	    ctl_pid_in_group(cr->pid, getegid());
}

static int
ctl_uid_conns(uid_t uid)
{
	const struct ctl_conn	*c;
	int			 n = 0;

	for (c = ct.ct_conns; c != NULL; c = c->c_next)
		n += c->c_uid == uid;
	return n;
}

/* Refuse before any state exists: one best-effort error line, then close. */
static void
ctl_refuse(int fd, const char *msg)
{
	json_t	*e = ctl_error_json(msg);
	char	*s = e ? json_dumps(e, JSON_COMPACT) : NULL;

	if (s != NULL) {
		(void)!write(fd, s, strlen(s));
		(void)!write(fd, "\n", 1);
	}
	free(s);
	json_decref(e);
	close(fd);
}

static void
ctl_conn_new(int fd, const struct ucred *cr)
{
	struct ctl_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		ctl_refuse(fd, "out of memory");
		return;
	}
	c->c_fd = fd;
	c->c_uid = cr->uid;
	c->c_pid = cr->pid;
	buf_init(&c->c_in);
	buf_init(&c->c_out);
	ev_io_init(&c->c_rev, ctl_conn_read_cb, fd, EV_READ);
	ev_io_init(&c->c_wev, ctl_conn_write_cb, fd, EV_WRITE);
	ev_init(&c->c_idle, ctl_conn_idle_cb);
	c->c_idle.repeat = CTL_IDLE_S;
	c->c_rev.data = c->c_wev.data = c->c_idle.data = c;
	c->c_next = ct.ct_conns;
	ct.ct_conns = c;
	ct.ct_nconns++;
	ev_io_start(ctl_env.ce_loop, &c->c_rev);
	ev_timer_again(ctl_env.ce_loop, &c->c_idle);
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ucred	cr;
	socklen_t	len = sizeof(cr);
	char		msg[128];
	int		fd;

	(void)loop;
	(void)revents;
	if ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!ctl_peer_allowed(&cr)) {
		log_warnx("control: refused uid %ld gid %ld (pid %ld): not root, "
		    "our user or our group", (long)cr.uid, (long)cr.gid,
		    (long)cr.pid);
		snprintf(msg, sizeof(msg), "permission denied: uid %ld may not "
		    "use this socket", (long)cr.uid);
		ctl_refuse(fd, msg);
		return;
	}
	if (ct.ct_nconns >= CTL_MAX_CONNS || ctl_uid_conns(cr.uid) >= CTL_MAX_PER_UID) {
		log_warnx("control: too many connections; refused uid %ld",
		    (long)cr.uid);
		ctl_refuse(fd, "too many control connections");
		return;
	}
	ctl_conn_new(fd, &cr);
}

/* ---- socket ------------------------------------------------------------ */

/* A socket file at path: replace it only if nobody answers on it. */
static int
ctl_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		errno = EADDRINUSE;	/* another master answers there */
		return -1;
	}
	if (errno != ECONNREFUSED)
		return -1;
	log_info("control: removing stale socket %s", path);
	return unlink(path);
}

static int
ctl_listen(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd, saved;

	if (ctlproto_sockaddr(path, &sun) == -1)
		return -1;
	if (ctl_clear_stale(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	/* never world-accessible, not even between bind and chmod */
	old = umask(S_IXUSR | S_IXGRP | S_IRWXO);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1 || listen(fd, CTL_MAX_CONNS) == -1 ||
	    stat(path, &st) == -1) {
		saved = errno;
		(void)unlink(path);
		close(fd);
		errno = saved;
		return -1;
	}
	ct.ct_dev = st.st_dev;
	ct.ct_ino = st.st_ino;
	return fd;
}

int
control_start(struct ev_loop *loop, const struct config *cf,
    const struct control_master *m)
{
	const char	*path = cf->cf_control_socket;

	if (path == NULL || *path == '\0') {
		errno = EINVAL;
		return -1;
	}
	if ((ct.ct_path = strdup(path)) == NULL)
		return -1;
	if ((ct.ct_fd = ctl_listen(path)) == -1) {
		free(ct.ct_path);
		ct.ct_path = NULL;
		return -1;
	}
	ctl_env.ce_loop = loop;
	ctl_env.ce_cf = cf;
	ctl_env.ce_m = *m;
	ev_timer_init(&ct.ct_reaper, ctl_reap_cb, 0., 0.);
	ev_io_init(&ct.ct_accept, ctl_accept_cb, ct.ct_fd, EV_READ);
	ev_io_start(loop, &ct.ct_accept);
	ctl_work_start();
	return 0;
}

void
control_stop(void)
{
	struct stat	st;

	if (ctl_env.ce_loop == NULL)
		return;
	while (ct.ct_conns != NULL)
		ctl_conn_close(ct.ct_conns);
	ctl_redis_stop();	/* callbacks run with NULL replies */
	while (ct.ct_ops != NULL) {
		ct.ct_ops->o_done = 1;
		ctl_op_free(ct.ct_ops);
	}
	ctl_work_stop();
	if (ct.ct_fd != -1) {
		ev_io_stop(ctl_env.ce_loop, &ct.ct_accept);
		close(ct.ct_fd);
		/* only our own socket: a successor may already have bound the path */
		if (stat(ct.ct_path, &st) == 0 && st.st_dev == ct.ct_dev &&
		    st.st_ino == ct.ct_ino)
			(void)unlink(ct.ct_path);
	}
	ev_timer_stop(ctl_env.ce_loop, &ct.ct_reaper);
	ctl_reap_cb(ctl_env.ce_loop, &ct.ct_reaper, 0);
	free(ct.ct_path);
	memset(&ct, 0, sizeof(ct));
	memset(&ctl_env, 0, sizeof(ctl_env));
	ct.ct_fd = -1;
}
