/* Minimal TAP producer for compiled tests. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "tap.h"

static int	tap_planned = -1;
static int	tap_lazy;
static int	tap_run;
static int	tap_failed;

void
plan(int count)
{
	tap_planned = count;
	printf("1..%d\n", count);
	fflush(stdout);
}

void
plan_lazy(void)
{
	tap_lazy = 1;
}

static int
report(int success, const char *fmt, va_list ap)
{
	tap_run++;
	if (!success)
		tap_failed++;
	printf("%sok %d - ", success ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return success;
}

int
ok(int success, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	report(success, fmt, ap);
	va_end(ap);
	return success;
}

int
is_int(long long have, long long want, const char *fmt, ...)
{
	va_list	ap;
	int	success = have == want;

	va_start(ap, fmt);
	report(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("     got: %lld\nexpected: %lld", have, want);
	return success;
}

int
is_double(double have, double want, double eps, const char *fmt, ...)
{
	va_list	ap;
	int	success = fabs(have - want) <= eps;

	va_start(ap, fmt);
	report(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("     got: %.17g\nexpected: %.17g (+-%g)", have, want, eps);
	return success;
}

int
is_string(const char *have, const char *want, const char *fmt, ...)
{
	va_list	ap;
	int	success;

	success = (have == NULL && want == NULL) ||
	    (have != NULL && want != NULL && strcmp(have, want) == 0);
	va_start(ap, fmt);
	report(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("     got: '%s'\nexpected: '%s'", have ? have : "(null)",
		    want ? want : "(null)");
	return success;
}

int
is_mem(const void *have, size_t havelen, const void *want, size_t wantlen,
    const char *fmt, ...)
{
	va_list	ap;
	int	success = havelen == wantlen && memcmp(have, want, havelen) == 0;

	va_start(ap, fmt);
	report(success, fmt, ap);
	va_end(ap);
	if (!success)
		diag("got %zu bytes '%.*s', expected %zu bytes '%.*s'",
		    havelen, (int)(havelen > 200 ? 200 : havelen),
		    (const char *)have, wantlen,
		    (int)(wantlen > 200 ? 200 : wantlen), (const char *)want);
	return success;
}

void
skip(const char *fmt, ...)
{
	va_list	ap;

	tap_run++;
	printf("ok %d # skip ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void
diag(const char *fmt, ...)
{
	char	 msg[4096], *line, *save = NULL;
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	for (line = strtok_r(msg, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "# %s\n", line);
}

void
bail(const char *fmt, ...)
{
	va_list	ap;

	fflush(stderr);
	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(255);
}

int
tap_done(void)
{
	if (tap_lazy)
		printf("1..%d\n", tap_run);
	fflush(stdout);
	if (tap_planned >= 0 && tap_planned != tap_run) {
		diag("planned %d tests but ran %d", tap_planned, tap_run);
		return 255;
	}
	return tap_failed > 0 ? 1 : 0;
}
