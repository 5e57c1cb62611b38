/* PostgreSQL writer: libpq non-blocking on the worker's loop, binary COPY per batch. */
#ifndef PROCESSOR_WRITE_H
#define PROCESSOR_WRITE_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct batch;
struct ev_loop;
struct worker_stats;

enum write_result {
	WRITE_OK = 0,		/* committed; b_inserted rows were new */
	WRITE_TRANSIENT,	/* retry the same rows later; nothing committed */
	WRITE_DATA,		/* PostgreSQL rejected a row: split to find it */
	WRITE_FATAL		/* schema or permission problem: retry slowly, alert */
};

struct write_cb {
	void	(*wc_up)(void *arg);
	void	(*wc_down)(void *arg);
	void	(*wc_done)(void *arg, struct batch *, enum write_result,
		    const char *sqlstate, const char *message);
	/* the latest stored fix of each of the batch's cold devices (b_cold) */
	void	(*wc_rehydrate)(void *arg, const struct position *);
	/*
	 * Before wc_done with WRITE_OK: entry i of the batch was not inserted
	 * because its key is stored with other content (first wins).
	 */
	void	(*wc_conflict)(void *arg, struct batch *, uint32_t i);
};

struct write;

struct write	*write_new(struct ev_loop *, const struct config *,
		    const struct write_cb *, void *arg, struct worker_stats *);
void		 write_free(struct write *);
void		 write_start(struct write *);
int		 write_is_up(const struct write *);
int		 write_busy(const struct write *);
/*
 * Write the valid entries idx[0..n) of b (indices into b_entries, already in
 * (device_id, ts) order) in one transaction: COPY into a temporary staging
 * table, then INSERT ... ON CONFLICT (device_id, ts) DO NOTHING, one round
 * trip; rows not inserted whose stored row differs go to wc_conflict.  When b lists cold devices (b_cold), the same round trip first reads
 * their latest stored fix for wc_rehydrate, and clears the list.
 * -1 when not connected or busy.
 */
int		 write_submit(struct write *, struct batch *, const uint32_t *idx,
		    size_t n);
/* How a SQLSTATE (NULL when libpq had none) is handled. */
enum write_result write_classify(const char *sqlstate, int connection_bad);
/* Append the binary COPY stream for idx[0..n) of b to out.  0 or -1. */
struct buf;
int		 write_encode_copy(struct buf *out, const struct batch *,
		    const uint32_t *idx, size_t n);

/*
 * The array literals of sink_mark_fn's arguments for idx[0..n) of b (in
 * (device_id, ts) order, so a device's rows are adjacent): each device once,
 * {"a","b\\"c"}, with its oldest and newest p_ts_us, {1,2}.  0 or -1.
 */
int		 write_encode_marks(struct buf *dev, struct buf *lo,
		    struct buf *hi, const struct batch *, const uint32_t *idx,
		    size_t n);

#endif
