// SPDX-License-Identifier: GPL-2.0
/* Choosing the boot interface; the order is explained in bootif.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bootif.h"
#include "log.h"

#define RWLD_CMDLINE_MAX 4096

static bool copy_ifname(char name[IF_NAMESIZE], const char *value, size_t len)
{
	if (len == 0 || len >= IF_NAMESIZE || memchr(value, '/', len))
		return false;
	memcpy(name, value, len);
	name[len] = '\0';
	return true;
}

static bool read_small_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t len;

	if (!f)
		return false;
	len = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[len] = '\0';
	return true;
}

/*
 * The value of the first "@key=" word of @cmdline into @value.  Words are
 * split at blanks; a double-quoted part may hold blanks, as the kernel
 * allows (ip="..." is rare, but a quoted word must not hide the next).
 */
static bool cmdline_value(const char *cmdline, const char *key, char *value,
			  size_t size)
{
	size_t key_len = strlen(key);
	const char *p = cmdline;

	while (*p) {
		const char *word;
		bool quoted = false;
		size_t len = 0;

		while (isspace((unsigned char)*p))
			p++;
		word = p;
		while (*p && (quoted || !isspace((unsigned char)*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		if ((size_t)(p - word) <= key_len || strncmp(word, key, key_len) ||
		    word[key_len] != '=')
			continue;
		for (const char *v = word + key_len + 1; v < p; v++) {
			if (*v == '"')
				continue;
			if (len + 1 >= size)
				return false;
			value[len++] = *v;
		}
		value[len] = '\0';
		return true;
	}
	return false;
}

/*
 * BOOTIF=01-aa-bb-cc-dd-ee-ff (PXELINUX prepends the ARP hardware type,
 * 01 for Ethernet) or aa-bb-cc-dd-ee-ff or with colons: to "aa:bb:..".
 */
static bool bootif_mac(const char *value, char mac[18])
{
	size_t len = strlen(value);

	if (len == 20 && value[2] == '-')
		value += 3, len -= 3;
	if (len != 17)
		return false;
	for (size_t i = 0; i < 17; i++) {
		char c = value[i];

		if (i % 3 == 2) {
			if (c != '-' && c != ':')
				return false;
			mac[i] = ':';
		} else {
			if (!isxdigit((unsigned char)c))
				return false;
			mac[i] = (char)tolower((unsigned char)c);
		}
	}
	mac[17] = '\0';
	return true;
}

/* The interface under @sysfs_net whose "address" is @mac. */
static bool iface_with_mac(const char *sysfs_net, const char *mac,
			   char name[IF_NAMESIZE])
{
	DIR *dir = opendir(sysfs_net);
	struct dirent *de;
	bool found = false;

	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		char path[512], address[64];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/address", sysfs_net,
			 de->d_name);
		if (!read_small_file(path, address, sizeof(address)))
			continue;
		address[strcspn(address, "\n")] = '\0';
		if (!strcasecmp(address, mac))
			found = copy_ifname(name, de->d_name, strlen(de->d_name));
	}
	closedir(dir);
	return found;
}

/* Field @n (from 0) of a ':'-separated ip= value, '[...]' kept whole. */
static bool ip_field(const char *value, unsigned int n, const char **start,
		     size_t *len)
{
	const char *p = value;

	for (;;) {
		const char *field = p;
		bool bracket = false;

		while (*p && (bracket || *p != ':')) {
			if (*p == '[' || *p == ']')
				bracket = *p == '[';
			p++;
		}
		if (n-- == 0) {
			*start = field;
			*len = (size_t)(p - field);
			return true;
		}
		if (!*p)
			return false;
		p++;
	}
}

static bool is_autoconf_method(const char *word, size_t len)
{
	static const char *const methods[] = {
		"dhcp", "on", "any", "dhcp6", "auto6", "either6", "link6",
		"off", "none", "static", "both", "bootp", "rarp", "ibft",
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == len && !strncmp(methods[i], word, len))
			return true;
	return false;
}

/*
 * The device an ip= value names: the kernel's (and dracut's static)
 * form has it in the sixth field; dracut's "ip=eth0:dhcp" in the first.
 */
static bool ip_device(const char *value, char name[IF_NAMESIZE])
{
	const char *first, *second, *sixth;
	size_t first_len, second_len, sixth_len;

	if (ip_field(value, 5, &sixth, &sixth_len) && sixth_len)
		return copy_ifname(name, sixth, sixth_len);
	if (ip_field(value, 0, &first, &first_len) &&
	    ip_field(value, 1, &second, &second_len) &&
	    is_autoconf_method(second, second_len) &&
	    !strchr("0123456789[", first[0]))
		return copy_ifname(name, first, first_len);
	return false;
}

static bool iface_exists(const char *sysfs_net, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/ifindex", sysfs_net, name);
	f = fopen(path, "re");
	if (f)
		fclose(f);
	return f != NULL;
}

/* The interface of the lowest-metric up IPv4 default route. */
static bool default_route_iface(const char *route_path, char name[IF_NAMESIZE])
{
	FILE *f = fopen(route_path, "re");
	unsigned long best_metric = 0;
	bool found = false;
	char line[512];

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char iface[IF_NAMESIZE + 1];
		unsigned long dest, gateway, flags, refcnt, use, metric, mask;

		if (sscanf(line, "%16s %lx %lx %lx %lu %lu %lu %lx", iface,
			   &dest, &gateway, &flags, &refcnt, &use, &metric,
			   &mask) != 8)
			continue;	/* the header line */
		if (dest != 0 || mask != 0 || !(flags & 0x1 /* RTF_UP */))
			continue;
		if (found && metric >= best_metric)
			continue;
		found = copy_ifname(name, iface, strlen(iface));
		best_metric = metric;
	}
	fclose(f);
	return found;
}

enum rwld_bootif_origin rwld_bootif_choose(const struct rwld_bootif_sources *src,
					   char name[IF_NAMESIZE])
{
	char cmdline[RWLD_CMDLINE_MAX], value[256], mac[18];

	name[0] = '\0';
	if (src->iface) {
		if (copy_ifname(name, src->iface, strlen(src->iface)))
			return RWLD_BOOTIF_OPTION;
		rwld_log(LOG_WARNING, "--iface %s: not an interface name",
			 src->iface);
	}
	if (!read_small_file(src->cmdline, cmdline, sizeof(cmdline)))
		cmdline[0] = '\0';
	if (cmdline_value(cmdline, "BOOTIF", value, sizeof(value))) {
		if (bootif_mac(value, mac) &&
		    iface_with_mac(src->sysfs_net, mac, name))
			return RWLD_BOOTIF_BOOTIF;
		rwld_log(LOG_NOTICE, "%s: BOOTIF=%s: no interface has that address",
			 src->cmdline, value);
	}
	if (cmdline_value(cmdline, "ip", value, sizeof(value)) &&
	    ip_device(value, name)) {
		if (iface_exists(src->sysfs_net, name))
			return RWLD_BOOTIF_IP;
		rwld_log(LOG_NOTICE, "%s: ip=%s: no interface %s (renamed?)",
			 src->cmdline, value, name);
		name[0] = '\0';
	}
	if (default_route_iface(src->route, name))
		return RWLD_BOOTIF_ROUTE;
	return RWLD_BOOTIF_NONE;
}

const char *rwld_bootif_origin_name(enum rwld_bootif_origin origin)
{
	switch (origin) {
	case RWLD_BOOTIF_OPTION:
		return "--iface";
	case RWLD_BOOTIF_BOOTIF:
		return "BOOTIF=";
	case RWLD_BOOTIF_IP:
		return "ip=";
	case RWLD_BOOTIF_ROUTE:
		return "the default route";
	case RWLD_BOOTIF_NONE:
		break;
	}
	return "nothing";
}

void rwld_bootif_addresses(const char *ifname, char mac[18],
			   char ip[INET_ADDRSTRLEN])
{
	struct ifaddrs *list;

	mac[0] = ip[0] = '\0';
	if (getifaddrs(&list) < 0) {
		rwld_log(LOG_WARNING, "getifaddrs: %m: ${mac} and ${ip} unset");
		return;
	}
	for (struct ifaddrs *ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname))
			continue;
		if (ifa->ifa_addr->sa_family == AF_PACKET && !mac[0]) {
			const struct sockaddr_ll *ll = (void *)ifa->ifa_addr;

			if (ll->sll_halen == 6)
				snprintf(mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
					 ll->sll_addr[0], ll->sll_addr[1],
					 ll->sll_addr[2], ll->sll_addr[3],
					 ll->sll_addr[4], ll->sll_addr[5]);
		} else if (ifa->ifa_addr->sa_family == AF_INET && !ip[0]) {
			const struct sockaddr_in *in = (void *)ifa->ifa_addr;

			inet_ntop(AF_INET, &in->sin_addr, ip, INET_ADDRSTRLEN);
		}
	}
	freeifaddrs(list);
}
