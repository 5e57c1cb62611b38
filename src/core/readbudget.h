/* How many stream entries one read may ask for, so that a reply fits a byte budget. */
#ifndef PROCESSOR_READBUDGET_H
#define PROCESSOR_READBUDGET_H

#include <stddef.h>

/*
 * hiredis 0.14 holds a whole reply in memory, so COUNT is the only lever
 * on the bytes of one XREADGROUP or XAUTOCLAIM.  The count starts where
 * entries of max_payload would fill the budget, shrinks at once to what
 * the largest entry of the last reply allows, and grows back by at most
 * doubling per reply while entries are small again.
 */
struct readbudget {
	size_t	rb_budget;	/* bytes one reply should stay under */
	size_t	rb_max;		/* batch_size: never more */
	size_t	rb_count;	/* COUNT of the next read */
};

void	readbudget_init(struct readbudget *, size_t budget, size_t batch_size,
	    size_t max_payload);
size_t	readbudget_count(const struct readbudget *);
/* A reply of n entries arrived, the largest of them largest bytes. */
void	readbudget_observe(struct readbudget *, size_t n, size_t largest);

#endif
