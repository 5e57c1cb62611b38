/* sd_notify(3) for the master: readiness, status, reload, stop, watchdog. */
#ifndef PROCESSOR_NOTIFY_H
#define PROCESSOR_NOTIFY_H

#include <stdint.h>

/*
 * Send one state datagram ("READY=1\nSTATUS=..." etc., printf-formatted) to
 * $NOTIFY_SOCKET.  Without the variable it does nothing and returns 0.
 * Writes the datagram itself, never blocking (see notify.c for why not
 * libsystemd's sd_notify); a leading '@' names an abstract socket.
 * Returns 0, or -1 (EAGAIN when the receiver's queue is full).
 */
int	notify_send(const char *, ...) __attribute__((format(printf, 1, 2)));
/* READY=1 with a STATUS line. */
int	notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC, as systemd >= 253 wants and 252 ignores. */
int	notify_reloading(void);
/* WATCHDOG_USEC if the watchdog is on for this process (WATCHDOG_PID), else 0. */
uint64_t notify_watchdog_usec(void);

#endif
