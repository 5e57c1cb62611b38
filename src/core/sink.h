/* Hooks for the domain layer: the decoded column before a write, SQL in the batch, hooks after commit. */
#ifndef PROCESSOR_SINK_H
#define PROCESSOR_SINK_H

#include <stddef.h>

#include "codec/position.h"

/*
 * Called in the worker after the rows of a batch committed, with the
 * positions that were written (new or duplicate), in (device_id, ts) order.
 * A hook must not block the loop and must not keep the pointers.
 */
struct sink_hook {
	const char	*sh_name;
	void		(*sh_fn)(void *arg, const struct position *const *rows,
			    size_t n);
	void		*sh_arg;
};

#define SINK_MAX_HOOKS	8

/* Append a hook; hooks run in registration order.  0, or -1 when full. */
int	sink_register(const struct sink_hook *);
void	sink_run(const struct position *const *rows, size_t n);
size_t	sink_count(void);
void	sink_clear(void);

/*
 * SQL a staged batch's transaction runs right after its INSERT into
 * positions, while the rows are still in pg_temp.positions_stage: the domain
 * marks the devices it must evaluate in the same transaction that stores
 * their fixes, so no stored fix can miss its evaluation.  One statement,
 * without a trailing semicolon; kept by pointer; NULL (the default) for
 * none.  Cleared by sink_clear.
 */
void	sink_set_sql(const char *);
const char *sink_sql(void);

/*
 * The same marking for a batch whose rows were copied straight into
 * positions, never staged (the writer's fast path): the name of a SQL
 * function the batch transaction calls as fn(devices text[], min_us
 * int8[], max_us int8[]), one element per device of the batch with its
 * oldest and newest fix in microseconds since the Unix epoch.  While sink
 * SQL is set and this is not, every batch is staged.  Kept by pointer;
 * cleared by sink_clear.
 */
void	sink_set_mark_fn(const char *);
const char *sink_mark_fn(void);

/*
 * The decoder of positions.decoded: called in the worker for each valid row
 * of a batch as it is decoded, before the write, with p_attrs set.  Writes
 * the column's JSON text into out (at most cap bytes) and returns its
 * length; 0 writes NULL; -1 asks again with a larger out.  Must not block
 * and must not keep the pointers.  NULL (the default) writes NULL.
 * Cleared by sink_clear.
 */
typedef int	(*sink_decoder_fn)(void *arg, const struct position *,
		    char *out, size_t cap);
void	sink_set_decoder(sink_decoder_fn, void *arg);
int	sink_has_decoder(void);
int	sink_decode(const struct position *, char *out, size_t cap);

#endif
