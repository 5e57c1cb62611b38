/* Minimal TAP producer for compiled tests (in the manner of c-tap-harness basic.h). */
#ifndef PROCESSOR_TAP_H
#define PROCESSOR_TAP_H

#include <stddef.h>
#include <stdint.h>

void	plan(int count);
void	plan_lazy(void);		/* print the plan at exit */
int	ok(int success, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	is_int(long long have, long long want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_double(double have, double want, double eps, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int	is_string(const char *have, const char *want, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	is_mem(const void *have, size_t havelen, const void *want, size_t wantlen,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void	skip(const char *reason, ...) __attribute__((format(printf, 1, 2)));
void	diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void bail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Exit status for the end of main: 0 when all tests passed and the plan was met. */
int	tap_done(void);

#endif
