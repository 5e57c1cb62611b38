/* A batch: stream entries read together, decoded, written and settled as one. */
#ifndef PROCESSOR_BATCH_H
#define PROCESSOR_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "codec/position.h"

enum entry_status {
	ENTRY_NEW = 0,		/* read, not decoded yet */
	ENTRY_VALID,		/* decoded, to be written */
	ENTRY_POISON,		/* to be dead-lettered */
	ENTRY_TRIMMED		/* body gone from the stream: ACK only */
};

enum dlq_stage {
	DLQ_STAGE_DECODE = 0,
	DLQ_STAGE_WRITE,
	DLQ_STAGE_DELIVERY_LIMIT
};

/* Where a poison entry's dead letter is: the ACK waits for DLQ_STORED. */
enum dlq_state {
	DLQ_NONE = 0,		/* not sent, or sent and refused */
	DLQ_SENT,		/* XADD queued in the settle transaction */
	DLQ_STORED		/* XADD answered with an id */
};

struct batch_entry {
	size_t		 be_id_off;	/* into b_arena, NUL-terminated */
	size_t		 be_payload_off;	/* into b_arena, NUL-terminated */
	size_t		 be_payload_len;	/* bytes kept in b_arena */
	size_t		 be_orig_len;	/* bytes in the stream: more when truncated */
	size_t		 be_attrs_off;	/* into b_attrs (ENTRY_VALID) */
	size_t		 be_decoded_off;	/* into b_decoded (ENTRY_VALID) */
	size_t		 be_decoded_len;	/* 0: decoded is NULL */
	size_t		 be_error_off;	/* into b_errors (ENTRY_POISON) */
	int64_t		 be_id_ms;	/* millisecond part of the entry id */
	uint32_t	 be_deliveries;	/* 0 when unknown */
	enum entry_status be_status;
	enum dlq_stage	 be_stage;
	enum dlq_state	 be_dlq;	/* ENTRY_POISON */
	const char	*be_reason;	/* short code, static storage */
	char		 be_sqlstate[6];	/* DLQ_STAGE_WRITE: PostgreSQL's, or "" */
	struct position	 be_pos;	/* ENTRY_VALID; p_attrs re-pointed before use */
};

struct batch {
	struct buf	 b_arena;	/* ids and payloads */
	struct buf	 b_attrs;	/* decoded attribute bags */
	struct buf	 b_decoded;	/* positions.decoded texts (sink decoder) */
	struct buf	 b_errors;	/* poison messages */
	struct batch_entry *b_entries;
	size_t		 b_n;
	size_t		 b_cap;
	uint32_t	*b_order;	/* indices of valid entries, sorted by (device, ts) */
	size_t		 b_nvalid;
	int		 b_history;	/* read from our own pending list */
	double		 b_read_at;	/* ev_time() when the reply arrived */
	double		 b_write_started;
	uint64_t	 b_inserted;
	uint64_t	 b_conflicts;	/* of the last write: keys stored with other content */
	struct buf	 b_cold;	/* devices new to this worker's state, NUL-separated */
	size_t		 b_ncold;
	struct batch	*b_next;	/* worker queues */
};

struct batch	*batch_new(void);
void		 batch_free(struct batch *);
void		 batch_reset(struct batch *);
/* Append an entry; payload NULL marks a trimmed entry.  0 or -1 (ENOMEM). */
int		 batch_add(struct batch *, const char *id, size_t idlen,
		    const char *payload, size_t payloadlen);
/*
 * Append an entry of which only the first keep of len payload bytes are
 * kept: a payload too large to be decoded, whose dead letter stores a
 * prefix.  0 or -1 (ENOMEM).
 */
int		 batch_add_truncated(struct batch *, const char *id,
		    size_t idlen, const char *payload, size_t keep, size_t len);
/*
 * Empty the batch for reuse, but return to the allocator every buffer
 * whose capacity exceeds keep bytes: one read of big entries must not
 * pin its memory for the life of the worker.
 */
void		 batch_recycle(struct batch *, size_t keep);
/* Bytes of memory the batch holds (capacities, not lengths). */
size_t		 batch_bytes(const struct batch *);
const char	*batch_id(const struct batch *, size_t i);
const char	*batch_payload(const struct batch *, size_t i);
/* Mark entry i poison with a reason code and message.  0 or -1. */
int		 batch_poison(struct batch *, size_t i, enum dlq_stage,
		    const char *reason, const char *msg);
const char	*batch_error(const struct batch *, size_t i);
/* Point every valid entry's p_attrs into b_attrs (after decoding finished). */
void		 batch_fix_attrs(struct batch *);
/*
 * Fill each valid entry's decoded text with the sink's decoder (after
 * batch_fix_attrs).  0 or -1 (ENOMEM).
 */
int		 batch_decode_io(struct batch *);
const char	*batch_decoded(const struct batch *, size_t i, size_t *len);
/* Fill b_order with the valid entries sorted by (device_id, ts). 0 or -1. */
int		 batch_sort_valid(struct batch *);
const char	*dlq_stage_name(enum dlq_stage);
/* Remember a device to rehydrate from positions.  0 or -1. */
int		 batch_add_cold(struct batch *, const char *device);

#endif
