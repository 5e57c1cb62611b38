/* Master <-> worker framing over a socketpair: fixed header, bounded frames, queued writes. */
#ifndef PROCESSOR_IPC_H
#define PROCESSOR_IPC_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "util/buf.h"

#define IPC_HDR_LEN	16		/* four uint32_t */
#define IPC_MAX_FRAME	16384		/* header included */
#define IPC_MAX_QUEUE	(256 * 1024)	/* queued output before ipc_compose refuses */

enum ipc_type {
	MSG_HELLO = 1,		/* worker -> master: up, struct ipc_hello */
	MSG_STATS,		/* worker -> master: struct worker_stats */
	MSG_SHUTDOWN,		/* master -> worker: finish in-flight work, exit 0 */
	MSG_DRAIN,		/* master -> worker: stop reading new entries */
	MSG_RESUME,		/* master -> worker: read again after MSG_DRAIN */
	/* control socket (wire/control_msg.h payloads) */
	MSG_DEVICE_QUERY,	/* master -> worker: struct control_msg_device_query */
	MSG_DEVICE_REPLY,	/* worker -> master: struct control_msg_device_reply */
	MSG_CLAIM,		/* master -> worker: struct control_msg_claim, sweep now */
	MSG_CLAIM_REPLY,	/* worker -> master: struct control_msg_claim_reply */
	MSG_LOG_LEVEL,		/* master -> child: struct control_msg_log_level */
	MSG_BACKLOG,		/* master -> child: struct control_msg_backlog */
	MSG_TYPE_END
};

struct ipc_hdr {
	uint32_t	 ih_type;
	uint32_t	 ih_len;	/* header + payload */
	uint32_t	 ih_slot;
	uint32_t	 ih_pid;
};

#define IPC_HELLO_VERSION	1
#define IPC_CONSUMER_MAX	224

struct ipc_hello {
	uint32_t	 hl_version;
	uint32_t	 hl_reserved;
	char		 hl_consumer[IPC_CONSUMER_MAX];	/* NUL-terminated */
};

struct ipc_chan;

/*
 * Called once per whole frame; payload points into the read buffer and is
 * valid only during the call.  Return 0 to go on, -1 to declare the frame a
 * protocol error (the channel then reports EPROTO through ic_closed).
 */
typedef int ipc_dispatch_cb(struct ipc_chan *, const struct ipc_hdr *,
    const void *payload, size_t len, void *arg);
/*
 * The channel is unusable: error is 0 for EOF, EPROTO for a malformed frame,
 * or the errno of a failed read/write.  The callback may ipc_close the
 * channel; the channel is not touched after it returns.
 */
typedef void ipc_closed_cb(struct ipc_chan *, int error, void *arg);
/* Neither callback may free the memory holding the struct ipc_chan. */

struct ipc_chan {
	struct ev_loop	*ic_loop;
	ev_io		 ic_rev;
	ev_io		 ic_wev;
	int		 ic_fd;
	struct buf	 ic_rbuf;
	struct buf	 ic_wbuf;
	size_t		 ic_woff;	/* bytes of ic_wbuf already written */
	ipc_dispatch_cb	*ic_dispatch;
	ipc_closed_cb	*ic_closed;
	void		*ic_arg;
	int		 ic_busy;	/* inside ipc_feed: ipc_close defers */
	int		 ic_dead;	/* ipc_close was called while busy */
};

/* Take over fd (non-blocking) and start reading; loop may be NULL for ipc_feed-only use. */
void	ipc_init(struct ipc_chan *, struct ev_loop *, int fd,
	    ipc_dispatch_cb *, ipc_closed_cb *, void *arg);
/* Stop the watchers, close the fd, free the buffers. */
void	ipc_close(struct ipc_chan *);
/* Queue one frame; 0, or -1 with errno EMSGSIZE (payload too long) or ENOBUFS (queue full). */
int	ipc_compose(struct ipc_chan *, enum ipc_type, uint32_t slot, uint32_t pid,
	    const void *payload, size_t len);
/*
 * Read and dispatch whatever the peer already sent, as if the socket had
 * turned readable (the master calls it when reaping, so a dead worker's last
 * frames count).  May call ic_closed.
 */
void	ipc_read_pending(struct ipc_chan *);
/* Bytes queued but not yet written. */
size_t	ipc_queued(const struct ipc_chan *);
/* Try to write the queue now without the loop; 0 when empty, -1 on error or EAGAIN. */
int	ipc_flush(struct ipc_chan *);
/*
 * Append bytes as if read from the socket and dispatch every whole frame.
 * Returns 0, or -1 (errno EPROTO, or the dispatch callback refused a frame).
 */
int	ipc_feed(struct ipc_chan *, const void *, size_t);
/* Validate a header; 0 or -1.  Exposed for tests. */
int	ipc_check_hdr(const struct ipc_hdr *);
const char *ipc_type_name(uint32_t);

#endif
