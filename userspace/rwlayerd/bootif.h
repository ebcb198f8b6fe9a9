/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boot interface: the network interface the root filesystem came
 * over.  It gives ${mac} and ${ip} to the overlaytab and is what the
 * netwatch guards.
 *
 * Chosen, first match wins (rwlayerd(8), BOOT INTERFACE):
 *   1. --iface IF;
 *   2. BOOTIF= on the kernel command line (PXELINUX's "01-aa-bb-..": a
 *      MAC, so it survives the renaming of eth0 to enp1s0);
 *   3. the device of ip= on the kernel command line (kernel form
 *      ip=client:server:gw:mask:host:DEV:proto, dracut form ip=DEV:dhcp),
 *      when an interface of that name exists;
 *   4. the interface of the IPv4 default route with the lowest metric.
 */
#ifndef RWLD_BOOTIF_H
#define RWLD_BOOTIF_H

#include <net/if.h>
#include <netinet/in.h>

enum rwld_bootif_origin {
	RWLD_BOOTIF_NONE,
	RWLD_BOOTIF_OPTION,
	RWLD_BOOTIF_BOOTIF,
	RWLD_BOOTIF_IP,
	RWLD_BOOTIF_ROUTE,
};

/* Where to look; the real files unless a test points elsewhere. */
struct rwld_bootif_sources {
	const char *iface;		/* --iface, or NULL */
	const char *cmdline;		/* "/proc/cmdline" */
	const char *route;		/* "/proc/net/route" */
	const char *sysfs_net;		/* "/sys/class/net" */
};

#define RWLD_BOOTIF_SOURCES_SYSTEM {					\
	.cmdline = "/proc/cmdline", .route = "/proc/net/route",		\
	.sysfs_net = "/sys/class/net" }

/* Fill @name (empty: none found) and say which rule chose it. */
enum rwld_bootif_origin rwld_bootif_choose(const struct rwld_bootif_sources *src,
					   char name[IF_NAMESIZE]);

/* "--iface", "BOOTIF=", "ip=", "the default route" or "nothing". */
const char *rwld_bootif_origin_name(enum rwld_bootif_origin origin);

/*
 * The MAC address ("aa:bb:cc:dd:ee:ff") and first IPv4 address (dotted)
 * of @ifname; either is left "" when the interface has none.
 */
void rwld_bootif_addresses(const char *ifname, char mac[18],
			   char ip[INET_ADDRSTRLEN]);

#endif /* RWLD_BOOTIF_H */
