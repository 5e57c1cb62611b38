/* Strict RFC 4648 base64 and PostgreSQL bytea hex text, in place, for __buffer_b64. */
#ifndef PROCESSOR_B64_H
#define PROCESSOR_B64_H

#include <stddef.h>

int	b64_decode(unsigned char *, size_t, size_t *, const char **);
size_t	b64_bytea(unsigned char *, size_t);

#endif
