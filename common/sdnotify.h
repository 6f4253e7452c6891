/* sdnotify — readiness, watchdog and stop notifications to the service
 * manager, in systemd's notify protocol, without a library.
 *
 * The protocol (sd_notify(3), a stable systemd interface): a unit with
 * Type=notify starts the daemon with NOTIFY_SOCKET naming a Unix datagram
 * socket (a path, or "@name" in the abstract namespace); the daemon sends
 * it datagrams of newline-separated VAR=VALUE lines: READY=1 once it
 * serves, STATUS=<text> for `systemctl status`, WATCHDOG=1 at least once
 * every WATCHDOG_USEC microseconds when the unit has WatchdogSec=
 * (WATCHDOG_PID, when set, names the process meant), STOPPING=1 when it
 * begins to shut down. Without NOTIFY_SOCKET every call does nothing, so
 * the daemons behave the same by hand, in tests and under systemd.
 *
 * Why not libsystemd's sd_notify(): the whole protocol is one sendto() on
 * a socket named by an environment variable, which systemd documents for
 * exactly this use; reimplementing it spares both daemons a library and a
 * package for a dozen lines, and keeps them buildable where systemd is not.
 *
 * The watchdog ping runs as a timer on the daemon's event loop, at half the
 * period asked: a loop that stops turning stops the pings, and the manager
 * kills and restarts the daemon (Restart=on-failure). */
#ifndef POE_SDNOTIFY_H
#define POE_SDNOTIFY_H

#include <stdint.h>

struct event_base;
typedef struct sdnotify sdnotify_t;

/* Send one message (e.g. "READY=1\nSTATUS=serving") to NOTIFY_SOCKET.
 * 1 when sent, 0 when there is no NOTIFY_SOCKET, -1 on error (logged). */
int sdnotify_send(const char *msg);

/* The watchdog period the manager asks of this process in microseconds;
 * 0 when none (WATCHDOG_USEC unset or not a positive number, or
 * WATCHDOG_PID naming another process). */
uint64_t sdnotify_watchdog_usec(void);

/* Arm the watchdog pings on base when the manager asks for them (logged).
 * Returns the handle — also when there is no manager — or NULL when out
 * of memory. */
sdnotify_t *sdnotify_new(struct event_base *base);

/* READY=1 with a STATUS= line: the daemon serves. */
void sdnotify_ready(sdnotify_t *self, const char *status);

/* STOPPING=1, stop the pings, free. *self_p becomes NULL. */
void sdnotify_destroy(sdnotify_t **self_p);

#endif
