/* sd_notify datagrams: path and abstract sockets, no-op without NOTIFY_SOCKET, never blocking. */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/notify.h"
#include "tap.h"

static int
bind_dgram(const char *name, int abstract)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)) == -1)
		bail("socket: %s", strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		memcpy(sun.sun_path + 1, name, strlen(name));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(name));
	} else {
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", name);
		len = sizeof(sun);
	}
	if (bind(fd, (struct sockaddr *)&sun, len) == -1)
		bail("bind %s: %s", name, strerror(errno));
	return fd;
}

static const char *
recv_one(int fd)
{
	static char	buf[1024];
	ssize_t		n;

	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return "(nothing)";
	buf[n] = '\0';
	return buf;
}

int
main(void)
{
	char	path[64], abs[64], env[80];
	int	fd, i, rc = 0;

	plan(9);
	unsetenv("NOTIFY_SOCKET");
	is_int(notify_send("READY=1"), 0, "no NOTIFY_SOCKET: a no-op");

	snprintf(path, sizeof(path), "/tmp/notify-unit-%ld.sock", (long)getpid());
	unlink(path);
	fd = bind_dgram(path, 0);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(notify_ready("up"), 0, "send to a path socket");
	is_string(recv_one(fd), "READY=1\nSTATUS=up", "READY=1 with STATUS");
	notify_reloading();
	ok(strncmp(recv_one(fd), "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "RELOADING=1 with MONOTONIC_USEC");

	/* A reader that stops reading must not stall the master. */
	for (i = 0; i < 10000 && rc == 0; i++)
		rc = notify_send("WATCHDOG=1");
	ok(rc == -1 && errno == EAGAIN, "full queue: EAGAIN after %d sends, "
	    "not a block", i);
	close(fd);
	unlink(path);

	snprintf(abs, sizeof(abs), "notify-unit-%ld", (long)getpid());
	fd = bind_dgram(abs, 1);
	snprintf(env, sizeof(env), "@%s", abs);
	setenv("NOTIFY_SOCKET", env, 1);
	is_int(notify_send("STOPPING=1"), 0, "send to an abstract socket");
	is_string(recv_one(fd), "STOPPING=1", "received");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ok(notify_send("READY=1") == -1 && errno == EINVAL,
	    "a relative path is refused");
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	is_int((long long)notify_watchdog_usec(), 0,
	    "WATCHDOG_PID of another process: no watchdog for us");
	return tap_done();
}
