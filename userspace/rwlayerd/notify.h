/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The service manager's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram of "KEY=VALUE\n" lines to $NOTIFY_SOCKET.
 */
#ifndef RWLD_NOTIFY_H
#define RWLD_NOTIFY_H

/*
 * Send @state ("READY=1\nSTATUS=...") to the socket named by
 * $NOTIFY_SOCKET.  Returns 1 when sent, 0 when no service manager asked
 * for it (the variable is unset), -errno on failure.
 */
int rwld_notify(const char *state);

/* The same to the socket @socket_name: a path, or "@name" (abstract). */
int rwld_notify_to(const char *socket_name, const char *state);

/* "STATUS=" with printf formatting; failures are only logged. */
void rwld_notify_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif /* RWLD_NOTIFY_H */
