/* A batch: stream entries read together, decoded, written and settled as one. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/sink.h"

struct batch *
batch_new(void)
{
	return calloc(1, sizeof(struct batch));
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	buf_free(&b->b_arena);
	buf_free(&b->b_attrs);
	buf_free(&b->b_decoded);
	buf_free(&b->b_errors);
	buf_free(&b->b_cold);
	free(b->b_entries);
	free(b->b_order);
	free(b);
}

/* Empty the batch but keep its memory, so steady state does not allocate. */
void
batch_reset(struct batch *b)
{
	buf_reset(&b->b_arena);
	buf_reset(&b->b_attrs);
	buf_reset(&b->b_decoded);
	buf_reset(&b->b_errors);
	buf_reset(&b->b_cold);
	b->b_ncold = 0;
	b->b_n = 0;
	b->b_nvalid = 0;
	b->b_history = 0;
	b->b_inserted = 0;
	b->b_conflicts = 0;
	b->b_next = NULL;
}

static void
batch_trim_buf(struct buf *buf, size_t keep)
{
	if (buf->b_cap > keep)
		buf_free(buf);
}

void
batch_recycle(struct batch *b, size_t keep)
{
	batch_reset(b);
	batch_trim_buf(&b->b_arena, keep);
	batch_trim_buf(&b->b_attrs, keep);
	batch_trim_buf(&b->b_decoded, keep);
	batch_trim_buf(&b->b_errors, keep);
	batch_trim_buf(&b->b_cold, keep);
}

size_t
batch_bytes(const struct batch *b)
{
	return sizeof(*b) + b->b_arena.b_cap + b->b_attrs.b_cap +
	    b->b_decoded.b_cap + b->b_errors.b_cap + b->b_cold.b_cap +
	    b->b_cap * (sizeof(*b->b_entries) + sizeof(*b->b_order));
}

static int
batch_grow(struct batch *b)
{
	struct batch_entry	*e;
	uint32_t		*o;
	size_t			 cap = b->b_cap ? b->b_cap * 2 : 64;

	if ((e = realloc(b->b_entries, cap * sizeof(*e))) == NULL)
		return -1;
	b->b_entries = e;
	if ((o = realloc(b->b_order, cap * sizeof(*o))) == NULL)
		return -1;
	b->b_order = o;
	b->b_cap = cap;
	return 0;
}

static int64_t
batch_id_ms(const char *id)
{
	int64_t	v = 0;

	for (; *id >= '0' && *id <= '9'; id++)
		v = v * 10 + (*id - '0');
	return v;
}

int
batch_add(struct batch *b, const char *id, size_t idlen, const char *payload,
    size_t payloadlen)
{
	return batch_add_truncated(b, id, idlen, payload, payloadlen,
	    payloadlen);
}

int
batch_add_truncated(struct batch *b, const char *id, size_t idlen,
    const char *payload, size_t keep, size_t len)
{
	struct batch_entry	*e;

	if (b->b_n == b->b_cap && batch_grow(b) == -1)
		return -1;
	e = &b->b_entries[b->b_n];
	memset(e, 0, sizeof(*e));
	e->be_id_off = b->b_arena.b_len;
	if (buf_append(&b->b_arena, id, idlen) == -1 ||
	    buf_putc(&b->b_arena, '\0') == -1)
		return -1;
	e->be_payload_off = b->b_arena.b_len;
	e->be_payload_len = payload ? keep : 0;
	e->be_orig_len = payload ? len : 0;
	if ((payload && buf_append(&b->b_arena, payload, keep) == -1) ||
	    buf_putc(&b->b_arena, '\0') == -1)
		return -1;
	e->be_status = payload ? ENTRY_NEW : ENTRY_TRIMMED;
	e->be_id_ms = batch_id_ms(b->b_arena.b_data + e->be_id_off);
	b->b_n++;
	return 0;
}

const char *
batch_id(const struct batch *b, size_t i)
{
	return b->b_arena.b_data + b->b_entries[i].be_id_off;
}

const char *
batch_payload(const struct batch *b, size_t i)
{
	return b->b_arena.b_data + b->b_entries[i].be_payload_off;
}

int
batch_poison(struct batch *b, size_t i, enum dlq_stage stage,
    const char *reason, const char *msg)
{
	struct batch_entry	*e = &b->b_entries[i];

	e->be_status = ENTRY_POISON;
	e->be_stage = stage;
	e->be_reason = reason;
	e->be_error_off = b->b_errors.b_len;
	if (buf_puts(&b->b_errors, msg) == -1 ||
	    buf_putc(&b->b_errors, '\0') == -1)
		return -1;
	return 0;
}

const char *
batch_error(const struct batch *b, size_t i)
{
	return b->b_errors.b_data + b->b_entries[i].be_error_off;
}

void
batch_fix_attrs(struct batch *b)
{
	size_t	i;

	for (i = 0; i < b->b_n; i++) {
		struct batch_entry *e = &b->b_entries[i];

		if (e->be_status == ENTRY_VALID)
			e->be_pos.p_attrs = b->b_attrs.b_data + e->be_attrs_off;
	}
}

static int
batch_decode_one(struct batch *b, struct batch_entry *e)
{
	size_t	cap = e->be_pos.p_attrs_len * 2 + 256;
	int	n;

	e->be_decoded_off = b->b_decoded.b_len;
	e->be_decoded_len = 0;
	for (;;) {
		if (buf_reserve(&b->b_decoded, cap) == -1)
			return -1;
		n = sink_decode(&e->be_pos, b->b_decoded.b_data +
		    b->b_decoded.b_len, cap);
		if (n >= 0)
			break;
		if (cap > 64 * 1024 * 1024) {	/* a decoder that never fits: NULL */
			n = 0;
			break;
		}
		cap *= 2;
	}
	e->be_decoded_len = (size_t)n;
	b->b_decoded.b_len += (size_t)n;
	return 0;
}

int
batch_decode_io(struct batch *b)
{
	size_t	i;

	if (!sink_has_decoder())
		return 0;
	for (i = 0; i < b->b_n; i++) {
		struct batch_entry *e = &b->b_entries[i];

		if (e->be_status == ENTRY_VALID && batch_decode_one(b, e) == -1)
			return -1;
	}
	return 0;
}

const char *
batch_decoded(const struct batch *b, size_t i, size_t *len)
{
	const struct batch_entry *e = &b->b_entries[i];

	*len = e->be_decoded_len;
	return e->be_decoded_len ? b->b_decoded.b_data + e->be_decoded_off : NULL;
}

static const struct batch *sort_batch;	/* qsort has no context argument in C11 */

static int
batch_cmp(const void *a, const void *b)
{
	const struct position	*pa = &sort_batch->b_entries[*(const uint32_t *)a].be_pos;
	const struct position	*pb = &sort_batch->b_entries[*(const uint32_t *)b].be_pos;
	int			 c = strcmp(pa->p_device, pb->p_device);

	if (c != 0)
		return c;
	if (pa->p_ts_us != pb->p_ts_us)
		return (pa->p_ts_us > pb->p_ts_us) - (pa->p_ts_us < pb->p_ts_us);
	/* one key twice: stream order, so the first read is the one stored */
	return (*(const uint32_t *)a > *(const uint32_t *)b) -
	    (*(const uint32_t *)a < *(const uint32_t *)b);
}

/*
 * Workers inserting overlapping keys in different orders can deadlock each
 * other on the unique index (40P01 was observed with unsorted multi-row
 * inserts); one global order per batch prevents that.
 */
int
batch_sort_valid(struct batch *b)
{
	size_t	i;

	b->b_nvalid = 0;
	for (i = 0; i < b->b_n; i++)
		if (b->b_entries[i].be_status == ENTRY_VALID)
			b->b_order[b->b_nvalid++] = (uint32_t)i;
	sort_batch = b;
	qsort(b->b_order, b->b_nvalid, sizeof(uint32_t), batch_cmp);
	sort_batch = NULL;
	return 0;
}

const char *
dlq_stage_name(enum dlq_stage s)
{
	switch (s) {
	case DLQ_STAGE_DECODE:
		return "decode";
	case DLQ_STAGE_WRITE:
		return "write";
	case DLQ_STAGE_DELIVERY_LIMIT:
		return "delivery-limit";
	}
	return "unknown";
}

int
batch_add_cold(struct batch *b, const char *device)
{
	if (buf_puts(&b->b_cold, device) == -1 || buf_putc(&b->b_cold, '\0') == -1)
		return -1;
	b->b_ncold++;
	return 0;
}
