/* RFC 3339 timestamps and epoch milliseconds -> microseconds since the epoch. */
#ifndef PROCESSOR_TSTAMP_H
#define PROCESSOR_TSTAMP_H

#include <stddef.h>
#include <stdint.h>

/* First instant refused: 9999-01-01T00:00:00Z (year 9999 is a "never" marker). */
#define TSTAMP_END_US	(INT64_C(253370764800) * 1000000)

int	tstamp_parse(const char *, size_t, int64_t *, const char **);
int	tstamp_check(int64_t, const char **);

#endif
