/* Fatal-signal report for workers: async-signal-safe, then a distinct exit code. */
#include "autoconf.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util/crash.h"
#include "util/exitcodes.h"

static int			 crash_slot;
static const char *volatile	 crash_entry;

void
crash_set_entry(const char *id)
{
	crash_entry = id;
}

/* Only write(2) and stack buffers here: the heap may be what broke. */
static size_t
crash_append_raw(char *dst, size_t off, size_t cap, const char *s)
{
	while (*s != '\0' && off + 1 < cap)
		dst[off++] = *s++;
	return off;
}

/* A value inside a JSON string: no quote, backslash or control character. */
static size_t
crash_append(char *dst, size_t off, size_t cap, const char *s)
{
	while (*s != '\0' && off + 1 < cap) {
		unsigned char c = (unsigned char)*s++;

		dst[off++] = (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f) ?
		    '?' : (char)c;
	}
	return off;
}

static size_t
crash_append_int(char *dst, size_t off, size_t cap, int v)
{
	char	digits[16];
	int	n = 0;

	if (v < 0)
		v = -v;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < (int)sizeof(digits));
	while (n > 0 && off + 1 < cap)
		dst[off++] = digits[--n];
	return off;
}

static void
crash_handler(int sig)
{
	char		 line[512];
	size_t		 n = 0;
	const char	*entry = crash_entry;

	n = crash_append_raw(line, n, sizeof(line), "<2>{\"level\":\"critical\","
	    "\"process\":\"worker ");
	n = crash_append_int(line, n, sizeof(line), crash_slot);
	n = crash_append_raw(line, n, sizeof(line), "\",\"message\":\"worker crashed: signal ");
	n = crash_append_int(line, n, sizeof(line), sig);
	n = crash_append_raw(line, n, sizeof(line), " (");
	n = crash_append(line, n, sizeof(line), sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	n = crash_append_raw(line, n, sizeof(line), ") while working on entry ");
	n = crash_append(line, n, sizeof(line), entry ? entry : "none");
	n = crash_append_raw(line, n, sizeof(line), "\",\"signal\":");
	n = crash_append_int(line, n, sizeof(line), sig);
	n = crash_append_raw(line, n, sizeof(line), ",\"entry\":\"");
	n = crash_append(line, n, sizeof(line), entry ? entry : "");
	n = crash_append_raw(line, n, sizeof(line), "\"}\n");
	(void)write(STDERR_FILENO, line, n);
	_exit(WORKER_EXIT_CRASHED);
}

void
crash_install(int slot)
{
	static const int	 sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	struct sigaction	 sa;
	size_t			 i;

	crash_slot = slot;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
