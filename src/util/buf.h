/* Growable byte buffer, reused across batches so the hot path does not allocate. */
#ifndef PROCESSOR_BUF_H
#define PROCESSOR_BUF_H

#include <stddef.h>

struct buf {
	char	*b_data;
	size_t	 b_len;
	size_t	 b_cap;
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);		/* length 0, keep capacity */
int	buf_reserve(struct buf *, size_t extra);	/* 0 or -1 (ENOMEM) */
int	buf_append(struct buf *, const void *, size_t);
int	buf_putc(struct buf *, char);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *buf_cstr(struct buf *);	/* NUL-terminated view (NUL not counted) */

#endif
