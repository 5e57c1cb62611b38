/* COUNT of the next stream read, adapted to the size of the entries seen. */
#include "autoconf.h"

#include "core/readbudget.h"

static size_t
readbudget_fit(const struct readbudget *rb, size_t entry)
{
	size_t	n = entry > 0 ? rb->rb_budget / entry : rb->rb_max;

	if (n < 1)
		return 1;	/* never 0: to Redis, COUNT 0 means no limit at all */
	return n < rb->rb_max ? n : rb->rb_max;
}

/* Until entries have been seen, assume each may be as large as allowed. */
void
readbudget_init(struct readbudget *rb, size_t budget, size_t batch_size,
    size_t max_payload)
{
	rb->rb_budget = budget;
	rb->rb_max = batch_size > 0 ? batch_size : 1;
	rb->rb_count = readbudget_fit(rb, max_payload);
}

size_t
readbudget_count(const struct readbudget *rb)
{
	return rb->rb_count;
}

/*
 * Shrinking is immediate: the next reply of entries that size fits.
 * Growth is at most a doubling per reply, so big entries that come back
 * after one reply of small ones cost at most two budgets.  After a long
 * run of small entries the count is back at batch_size and nothing bounds
 * the first reply of a burst but batch_size times its entries' size:
 * hiredis cannot stop reading mid-reply.  An empty reply says nothing.
 */
void
readbudget_observe(struct readbudget *rb, size_t n, size_t largest)
{
	size_t	fit;

	if (n == 0)
		return;
	fit = readbudget_fit(rb, largest);
	if (fit > rb->rb_count * 2)
		fit = rb->rb_count * 2;
	rb->rb_count = fit;
}
