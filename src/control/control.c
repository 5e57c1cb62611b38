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

#include "util/buf.h"
#include "conf/config.h"
#include "control/control_op.h"
#include "proc/ipc.h"
#include "util/log.h"
#include "proc/supervise.h"

#define CTL_MAX_CONNS		16	/* connections at once */
#define CTL_MAX_PER_UID		8	/* of them, from one uid */
#define CTL_IDLE_S		60.0	/* a connection with no request is closed */
#define CTL_READ_CHUNK		4096
#define CTL_REDIS_TIMEOUT_S	10.0
#define CTL_DEVICE_TIMEOUT_S	3.0
#define CTL_CLAIM_TIMEOUT_S	30.0

struct control_conn {
	struct control_conn	*cc_next;
	int		 cc_fd;
	uid_t		 cc_uid;
	pid_t		 cc_pid;
	ev_io		 cc_rev;
	ev_io		 cc_wev;
	ev_timer	 cc_idle;
	struct buf	 cc_in;
	struct buf	 cc_out;
	size_t		 cc_outoff;
	struct control_op	*cc_op;		/* request being answered */
	int		 cc_close;	/* close once cc_out is written */
	int		 cc_busy;	/* inside control_conn_next */
};

struct control_env	control_env;

static struct {
	int			 ct_fd;
	ev_io			 ct_accept;
	char			*ct_path;
	dev_t			 ct_dev;
	ino_t			 ct_ino;
	struct control_conn		*ct_conns;
	struct control_conn		*ct_dead;	/* closed, freed by ct_reaper */
	ev_timer		 ct_reaper;
	int			 ct_nconns;
	struct control_op		*ct_ops;
	uint32_t		 ct_next_id;
} ct = { .ct_fd = -1 };

static void	control_conn_close(struct control_conn *);
static void	control_conn_next(struct control_conn *);

/* ---- replies ----------------------------------------------------------- */

/* Write what is queued: 0 all written, 1 the rest waits for EV_WRITE, -1 closed. */
static int
control_conn_flush(struct control_conn *c)
{
	ssize_t	n;

	while (c->cc_outoff < c->cc_out.b_len) {
		n = write(c->cc_fd, c->cc_out.b_data + c->cc_outoff,
		    c->cc_out.b_len - c->cc_outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ev_io_start(control_env.ce_loop, &c->cc_wev);
			return 1;
		}
		if (n <= 0) {
			control_conn_close(c);
			return -1;
		}
		c->cc_outoff += (size_t)n;
	}
	ev_io_stop(control_env.ce_loop, &c->cc_wev);
	buf_reset(&c->cc_out);
	c->cc_outoff = 0;
	if (c->cc_close) {
		control_conn_close(c);
		return -1;
	}
	return 0;
}

static void
control_conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_conn	*c = w->data;

	(void)loop;
	(void)revents;
	if (control_conn_flush(c) == 0)
		control_conn_next(c);
}

/* Queue one reply line and write it; takes the reference. */
static void
control_conn_send(struct control_conn *c, json_t *reply)
{
	char	*s;

	if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
		json_decref(reply);
		reply = ctlproto_error_json("out of memory building the reply");
		if (reply == NULL || (s = json_dumps(reply, JSON_COMPACT)) == NULL) {
			json_decref(reply);
			control_conn_close(c);
			return;
		}
	}
	json_decref(reply);
	if (buf_puts(&c->cc_out, s) == -1 || buf_putc(&c->cc_out, '\n') == -1)
		c->cc_close = 1;
	free(s);
	ev_timer_again(control_env.ce_loop, &c->cc_idle);
	(void)control_conn_flush(c);
}

static void
control_conn_error(struct control_conn *c, const char *msg, int close_after)
{
	c->cc_close = close_after;
	control_conn_send(c, ctlproto_error_json(msg));
}

/* ---- operations -------------------------------------------------------- */

void
control_fail(struct control_op *op, const char *fmt, ...)
{
	va_list	ap;

	if (op->o_err[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(op->o_err, sizeof(op->o_err), fmt, ap);
	va_end(ap);
}

static void
control_op_free(struct control_op *op)
{
	struct control_op	**pp;

	for (pp = &ct.ct_ops; *pp != NULL; pp = &(*pp)->o_next)
		if (*pp == op) {
			*pp = op->o_next;
			break;
		}
	ev_timer_stop(control_env.ce_loop, &op->o_timer);
	ctlproto_req_free(&op->o_req);
	json_decref(op->o_reply);
	free(op);
}

/* The answer is final: send it (if the client is still there). Takes the reference. */
void
control_op_reply(struct control_op *op, json_t *reply)
{
	struct control_conn	*c = op->o_conn;

	op->o_done = 1;
	ev_timer_stop(control_env.ce_loop, &op->o_timer);
	if (c == NULL) {
		json_decref(reply);
		return;
	}
	op->o_conn = NULL;
	c->cc_op = NULL;
	control_conn_send(c, reply);
	control_conn_next(c);	/* a request already buffered behind this one */
}

/* Every answer is in (or the time is up): build the reply. */
static void
control_op_complete(struct control_op *op)
{
	if (op->o_err[0] != '\0') {
		control_op_reply(op, ctlproto_error_json(op->o_err));
		return;
	}
	if (op->o_timedout && op->o_req.r_action != CTL_DEVICE &&
	    op->o_req.r_action != CTL_CLAIM) {
		control_op_reply(op, ctlproto_error_json("Redis did not answer in time"));
		return;
	}
	if (op->o_req.r_action == CTL_DEVICE) {
		control_device_complete(op);
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
	control_op_reply(op, json_incref(op->o_reply));
}

void
control_op_settle(struct control_op *op)
{
	if (!op->o_done && op->o_refs == 0 && op->o_waiting == 0)
		control_op_complete(op);
	if (op->o_done && op->o_refs == 0)
		control_op_free(op);
}

static void
control_op_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct control_op	*op = t->data;

	(void)loop;
	(void)revents;
	op->o_timedout = 1;
	if (!op->o_done)
		control_op_complete(op);
	control_op_settle(op);
}

static struct control_op *
control_op_new(struct control_conn *c, double timeout)
{
	struct control_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	if ((op->o_reply = json_pack("{s:b}", "ok", 1)) == NULL) {
		free(op);
		return NULL;
	}
	ctlproto_req_init(&op->o_req);
	op->o_conn = c;
	op->o_id = ++ct.ct_next_id;
	ev_timer_init(&op->o_timer, control_op_timeout_cb, timeout, 0.);
	op->o_timer.data = op;
	ev_timer_start(control_env.ce_loop, &op->o_timer);
	op->o_next = ct.ct_ops;
	ct.ct_ops = op;
	c->cc_op = op;
	return op;
}

static struct control_op *
control_op_find(uint32_t id, enum ctlproto_action action)
{
	struct control_op	*op;

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
	struct control_msg_device_reply	dr;
	struct control_msg_claim_reply	cr;
	struct control_op			*op;

	if (h->ih_type == MSG_DEVICE_REPLY && len == sizeof(dr)) {
		memcpy(&dr, p, sizeof(dr));
		if ((op = control_op_find(dr.dr_id, CTL_DEVICE)) == NULL)
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
		if ((op = control_op_find(cr.cr_id, CTL_CLAIM)) == NULL)
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
	control_op_settle(op);
	return 0;
}

void
control_worker_up(struct worker *w)
{
	if (control_draining())
		(void)supervise_send(w, MSG_DRAIN, NULL, 0);
	control_log_level_up(w);
}

/* ---- dispatch ---------------------------------------------------------- */

/* Start an operation that answers later. */
static void
control_dispatch_async(struct control_conn *c, struct ctlproto_req *req)
{
	struct control_op	*op;
	double		 timeout = CTL_REDIS_TIMEOUT_S;

	if (req->r_action == CTL_DEVICE)
		timeout = CTL_DEVICE_TIMEOUT_S;
	else if (req->r_action == CTL_CLAIM)
		timeout = CTL_CLAIM_TIMEOUT_S;
	if ((op = control_op_new(c, timeout)) == NULL) {
		ctlproto_req_free(req);
		control_conn_error(c, "out of memory", 1);
		return;
	}
	op->o_req = *req;	/* takes the ids */
	ctlproto_req_init(req);
	switch (op->o_req.r_action) {
	case CTL_PENDING:	control_pending(op); break;
	case CTL_DLQ_LIST:	control_dlq_list(op); break;
	case CTL_DLQ_SHOW:	control_dlq_show(op); break;
	case CTL_DLQ_REPLAY:	control_dlq_replay(op); break;
	case CTL_DLQ_PURGE:	control_dlq_purge(op); break;
	case CTL_CLAIM:		control_claim(op); break;
	case CTL_DEVICE:	control_device(op); break;
	case CTL_CONSUMERS:	control_consumers(op); break;
	case CTL_CONSUMERS_DELETE: control_consumers_delete(op); break;
	default:		control_fail(op, "internal: not an async command");
	}
	control_op_settle(op);
}

static void
control_dispatch(struct control_conn *c, const char *line, size_t len)
{
	struct ctlproto_req	 req;
	json_error_t	 jerr;
	json_t		*o;
	char		 err[256], msg[300];

	ctlproto_req_init(&req);
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(msg, sizeof(msg), "malformed request: %s", jerr.text);
		control_conn_error(c, msg, 0);
		return;
	}
	if (ctlproto_req_from_json(o, &req, err, sizeof(err)) == -1) {
		json_decref(o);
		ctlproto_req_free(&req);
		control_conn_error(c, err, 0);
		return;
	}
	json_decref(o);
	log_debug("control: uid %ld pid %ld: %s", (long)c->cc_uid, (long)c->cc_pid,
	    ctlproto_action_name(req.r_action));
	switch (req.r_action) {
	case CTL_STATUS:
		control_conn_send(c, control_status(1));
		break;
	case CTL_WORKERS:
		control_conn_send(c, control_status(0));
		break;
	case CTL_RELOAD:
		control_conn_send(c, control_reload());
		break;
	case CTL_DRAIN:
	case CTL_RESUME:
		control_conn_send(c, control_drain(req.r_action == CTL_DRAIN));
		break;
	case CTL_CONFIG:
		control_conn_send(c, control_config());
		break;
	case CTL_LOG_LEVEL:
		control_conn_send(c, control_log_level(req.r_level));
		break;
	case CTL_STAGE:		/* a short blocking query, as device's */
		control_conn_send(c, control_stage(req.r_stage));
		break;
	default:
		control_dispatch_async(c, &req);
		break;
	}
	ctlproto_req_free(&req);
}

/* ---- connections ------------------------------------------------------- */

/*
 * Answer the buffered requests one at a time: read only while nothing is
 * being answered or written, so a client that sends without reading cannot
 * make us buffer without bound.  A loop, not recursion: nested calls (a
 * reply sent from inside control_dispatch) return at once.
 */
static void
control_conn_next(struct control_conn *c)
{
	char	*nl;
	size_t	 len;

	if (c->cc_busy)
		return;
	c->cc_busy = 1;
	ev_io_stop(control_env.ce_loop, &c->cc_rev);
	while (c->cc_fd != -1 && c->cc_op == NULL && c->cc_out.b_len == 0) {
		nl = c->cc_in.b_len > 0 ?
		    memchr(c->cc_in.b_data, '\n', c->cc_in.b_len) : NULL;
		len = nl ? (size_t)(nl - c->cc_in.b_data) : c->cc_in.b_len;
		if (len > CTL_MAX_REQUEST) {
			log_warnx("control: uid %ld sent a request longer than "
			    "%d bytes", (long)c->cc_uid, CTL_MAX_REQUEST);
			control_conn_error(c, "request too long", 1);
			break;
		}
		if (nl == NULL) {
			ev_io_start(control_env.ce_loop, &c->cc_rev);
			break;
		}
		*nl = '\0';
		control_dispatch(c, c->cc_in.b_data, len);
		if (c->cc_fd == -1)
			break;	/* closed; freed later by the reaper */
		memmove(c->cc_in.b_data, nl + 1, c->cc_in.b_len - len - 1);
		c->cc_in.b_len -= len + 1;
	}
	c->cc_busy = 0;
}

static void
control_conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct control_conn	*c = w->data;
	ssize_t		 n;

	(void)loop;
	(void)revents;
	if (buf_reserve(&c->cc_in, CTL_READ_CHUNK) == -1) {
		control_conn_close(c);
		return;
	}
	n = read(c->cc_fd, c->cc_in.b_data + c->cc_in.b_len, CTL_READ_CHUNK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		control_conn_close(c);
		return;
	}
	c->cc_in.b_len += (size_t)n;
	ev_timer_again(control_env.ce_loop, &c->cc_idle);
	control_conn_next(c);
}

static void
control_conn_idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct control_conn	*c = t->data;

	(void)loop;
	(void)revents;
	if (c->cc_op != NULL) {
		ev_timer_again(control_env.ce_loop, &c->cc_idle);
		return;
	}
	control_conn_close(c);
}

/*
 * A closed connection may still be on the stack (control_conn_next, a write
 * error inside control_dispatch): its fd goes at once, its memory on the next
 * loop iteration.
 */
static void
control_reap_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct control_conn	*c;

	(void)loop;
	(void)t;
	(void)revents;
	while ((c = ct.ct_dead) != NULL) {
		ct.ct_dead = c->cc_next;
		buf_free(&c->cc_in);
		buf_free(&c->cc_out);
		free(c);
	}
}

static void
control_conn_close(struct control_conn *c)
{
	struct control_conn	**pp;

	if (c->cc_fd == -1)
		return;
	for (pp = &ct.ct_conns; *pp != NULL; pp = &(*pp)->cc_next)
		if (*pp == c) {
			*pp = c->cc_next;
			break;
		}
	ct.ct_nconns--;
	if (c->cc_op != NULL) {
		c->cc_op->o_conn = NULL;	/* it finishes; the reply is dropped */
		c->cc_op = NULL;
	}
	ev_io_stop(control_env.ce_loop, &c->cc_rev);
	ev_io_stop(control_env.ce_loop, &c->cc_wev);
	ev_timer_stop(control_env.ce_loop, &c->cc_idle);
	close(c->cc_fd);
	c->cc_fd = -1;
	c->cc_next = ct.ct_dead;
	ct.ct_dead = c;
	ev_timer_start(control_env.ce_loop, &ct.ct_reaper);
}

/* Supplementary groups of a process, from /proc (SO_PEERCRED has only the primary). */
static int
control_pid_in_group(pid_t pid, gid_t gid)
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
control_peer_allowed(const struct ucred *cr)
{
	return cr->uid == 0 || cr->uid == geteuid() || cr->gid == getegid() ||
	    control_pid_in_group(cr->pid, getegid());
}

static int
control_uid_conns(uid_t uid)
{
	const struct control_conn	*c;
	int			 n = 0;

	for (c = ct.ct_conns; c != NULL; c = c->cc_next)
		n += c->cc_uid == uid;
	return n;
}

/* Refuse before any state exists: one best-effort error line, then close. */
static void
control_refuse(int fd, const char *msg)
{
	json_t	*e = ctlproto_error_json(msg);
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
control_conn_new(int fd, const struct ucred *cr)
{
	struct control_conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		control_refuse(fd, "out of memory");
		return;
	}
	c->cc_fd = fd;
	c->cc_uid = cr->uid;
	c->cc_pid = cr->pid;
	buf_init(&c->cc_in);
	buf_init(&c->cc_out);
	ev_io_init(&c->cc_rev, control_conn_read_cb, fd, EV_READ);
	ev_io_init(&c->cc_wev, control_conn_write_cb, fd, EV_WRITE);
	ev_init(&c->cc_idle, control_conn_idle_cb);
	c->cc_idle.repeat = CTL_IDLE_S;
	c->cc_rev.data = c->cc_wev.data = c->cc_idle.data = c;
	c->cc_next = ct.ct_conns;
	ct.ct_conns = c;
	ct.ct_nconns++;
	ev_io_start(control_env.ce_loop, &c->cc_rev);
	ev_timer_again(control_env.ce_loop, &c->cc_idle);
}

static void
control_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
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
	if (!control_peer_allowed(&cr)) {
		log_warnx("control: refused uid %ld gid %ld (pid %ld): not root, "
		    "our user or our group", (long)cr.uid, (long)cr.gid,
		    (long)cr.pid);
		snprintf(msg, sizeof(msg), "permission denied: uid %ld may not "
		    "use this socket", (long)cr.uid);
		control_refuse(fd, msg);
		return;
	}
	if (ct.ct_nconns >= CTL_MAX_CONNS || control_uid_conns(cr.uid) >= CTL_MAX_PER_UID) {
		log_warnx("control: too many connections; refused uid %ld",
		    (long)cr.uid);
		control_refuse(fd, "too many control connections");
		return;
	}
	control_conn_new(fd, &cr);
}

/* ---- socket ------------------------------------------------------------ */

/* A socket file at path: replace it only if nobody answers on it. */
static int
control_clear_stale(const char *path, const struct sockaddr_un *sun)
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
control_listen(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	mode_t			old;
	int			fd, saved;

	if (ctlproto_sockaddr(path, &sun) == -1)
		return -1;
	if (control_clear_stale(path, &sun) == -1)
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
	if ((ct.ct_fd = control_listen(path)) == -1) {
		free(ct.ct_path);
		ct.ct_path = NULL;
		return -1;
	}
	control_env.ce_loop = loop;
	control_env.ce_cf = cf;
	control_env.ce_m = *m;
	ev_timer_init(&ct.ct_reaper, control_reap_cb, 0., 0.);
	ev_io_init(&ct.ct_accept, control_accept_cb, ct.ct_fd, EV_READ);
	ev_io_start(loop, &ct.ct_accept);
	control_work_start();
	return 0;
}

void
control_stop(void)
{
	struct stat	st;

	if (control_env.ce_loop == NULL)
		return;
	while (ct.ct_conns != NULL)
		control_conn_close(ct.ct_conns);
	control_redis_stop();	/* callbacks run with NULL replies */
	while (ct.ct_ops != NULL) {
		ct.ct_ops->o_done = 1;
		control_op_free(ct.ct_ops);
	}
	control_work_stop();
	if (ct.ct_fd != -1) {
		ev_io_stop(control_env.ce_loop, &ct.ct_accept);
		close(ct.ct_fd);
		/* only our own socket: a successor may already have bound the path */
		if (stat(ct.ct_path, &st) == 0 && st.st_dev == ct.ct_dev &&
		    st.st_ino == ct.ct_ino)
			(void)unlink(ct.ct_path);
	}
	ev_timer_stop(control_env.ce_loop, &ct.ct_reaper);
	control_reap_cb(control_env.ce_loop, &ct.ct_reaper, 0);
	free(ct.ct_path);
	memset(&ct, 0, sizeof(ct));
	memset(&control_env, 0, sizeof(control_env));
	ct.ct_fd = -1;
}
