/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netwatch: guard the boot interface of a diskless client.
 *
 * Its root filesystem is on the network; a DHCP client or a network
 * manager that takes the interface down or removes its address hangs the
 * machine a moment later, and nothing says why.  The netwatch listens to
 * rtnetlink (libnl-route-3) and says it at LOG_CRIT, naming the process
 * that sent the change where the kernel tells (the notification's
 * nlmsg_pid is the sender's netlink port, for most programs their PID).
 */
#ifndef RWLD_NETWATCH_H
#define RWLD_NETWATCH_H

#include <stddef.h>
#include <stdint.h>

struct rwld_netwatch;

/*
 * Start watching @ifname: subscribe to link and IPv4 address changes,
 * then read the interface's state and log it.  Returns 0 or -errno.
 */
int rwld_netwatch_open(const char *ifname, struct rwld_netwatch **nwp);

/* The socket to poll for POLLIN. */
int rwld_netwatch_fd(const struct rwld_netwatch *nw);

/*
 * Read one datagram of notifications and log what changed for the boot
 * interface.  When the socket overflowed (notifications were lost), read
 * the interface's state afresh and log the difference.  Returns 0, or
 * -errno when the watch cannot go on.
 */
int rwld_netwatch_handle(struct rwld_netwatch *nw);

void rwld_netwatch_close(struct rwld_netwatch *nw);

/*
 * Describe who sent a notification with netlink port @portid:
 * "(sent by pid 1234 dhclient)" when a process still holds the rtnetlink
 * socket of that port; "(sent by pid 1234 ip, judging by its netlink
 * port)" when the socket is closed but a process has that PID; else
 * "(sender unknown: netlink port 1234)"; for port 0 "(sender unknown:
 * the kernel does not say who asked)".  @proc is "/proc".
 */
void rwld_netwatch_culprit(const char *proc, uint32_t portid, char *buf,
			   size_t size);

#endif /* RWLD_NETWATCH_H */
