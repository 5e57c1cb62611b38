/* Log lines: the <N> syslog prefix only when stderr is $JOURNAL_STREAM. */
#include "autoconf.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "tap.h"

static char	tmpl[] = "/tmp/log-t.XXXXXX";
static int	fd;

/* The bytes written to stderr (the temp file) since the last call. */
static const char *
captured(void)
{
	static char	buf[4096];
	static off_t	off;
	ssize_t		n;

	n = pread(fd, buf, sizeof(buf) - 1, off);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	off += n;
	return buf;
}

int
main(void)
{
	struct stat	 st;
	char		 js[64];
	const char	*l;
	int		 saved;

	plan(9);
	if ((fd = mkstemp(tmpl)) == -1 || fstat(fd, &st) == -1)
		return 1;
	unlink(tmpl);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);

	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_INFO, "t");
	log_info("plain");
	l = captured();
	ok(strncmp(l, "{\"time\":", 8) == 0, "no JOURNAL_STREAM: a bare JSON line");

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	ok(log_stderr_is_journal(), "JOURNAL_STREAM names fd 2");
	log_init(LOG_LVL_INFO, "t");
	log_info("journal");
	l = captured();
	ok(strncmp(l, "<6>{\"time\":", 11) == 0, "info gets <6>");
	log_error("journal");
	l = captured();
	ok(strncmp(l, "<3>{", 4) == 0, "error gets <3>");

	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	ok(!log_stderr_is_journal(), "another inode: not the journal");
	log_init(LOG_LVL_INFO, "t");
	log_warnx("inherited");
	l = captured();
	ok(l[0] == '{', "inherited JOURNAL_STREAM, other stderr: no prefix");

	setenv("JOURNAL_STREAM", "garbage", 1);
	ok(!log_stderr_is_journal(), "malformed JOURNAL_STREAM: not the journal");
	snprintf(js, sizeof(js), "%llu:%llux", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	ok(!log_stderr_is_journal(), "trailing junk: not the journal");

	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_INFO, "t");
	log_info("x");
	l = captured();
	ok(strchr(l, '\n') == l + strlen(l) - 1 && l[strlen(l) - 2] == '}',
	    "one object, one line");

	dup2(saved, STDERR_FILENO);
	return tap_done();
}
