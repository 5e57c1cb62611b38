/* sd_notify(3) for the master: readiness, status, reload, stop, watchdog. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "master/notify.h"

/*
 * One datagram to $NOTIFY_SOCKET, which is all sd_notify(3) does, but sent
 * with MSG_DONTWAIT: libsystemd's sd_notify blocks while the receiver's
 * queue is full (net.unix.max_dgram_qlen is 10 by default), and the master
 * must never stop serving because a notification reader is slow.  A
 * dropped notification is reported (-1, EAGAIN) and superseded by the next.
 */
static int
notify_datagram(const char *msg)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 plen;
	ssize_t			 n;
	int			 fd, saved;

	if (path == NULL || *path == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&sun, len);
	saved = errno;
	close(fd);
	errno = saved;
	return n == -1 ? -1 : 0;
}

int
notify_send(const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;
	int	n;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	return notify_datagram(msg);
}

int
notify_ready(const char *status)
{
	return notify_send("READY=1\nSTATUS=%s", status);
}

int
notify_reloading(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return notify_send("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

uint64_t
notify_watchdog_usec(void)
{
	const char		*s, *p;
	unsigned long long	 usec;
	char			*end;

	if ((s = getenv("WATCHDOG_USEC")) == NULL)
		return 0;
	if ((p = getenv("WATCHDOG_PID")) != NULL &&
	    strtol(p, NULL, 10) != (long)getpid())
		return 0;
	errno = 0;
	usec = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		return 0;
	return (uint64_t)usec;
}
