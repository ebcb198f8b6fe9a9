// SPDX-License-Identifier: GPL-2.0
/*
 * The netwatch (see netwatch.h).
 *
 * State is a snapshot of the boot interface: present or not, its index,
 * flags and IPv4 addresses.  A notification turns the snapshot into a new
 * one and the two are compared, so a notification and the full re-read
 * after a socket overflow log through the same code.
 *
 * The interface is followed by name (a deleted and re-created eth0 is
 * the boot interface again) and, while it exists, by index (a renamed
 * one keeps being watched under its new name).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "log.h"
#include "netwatch.h"

/* More IPv4 addresses on one interface are not watched. */
#define NW_MAX_ADDRS 32
#define NW_RCVBUF (256 * 1024)

#define NW_HANGS "the root filesystem is on the network; "		\
		 "whoever did this will hang this machine"

struct nw_addr {
	struct in_addr addr;
	unsigned int prefixlen;
};

struct nw_snapshot {
	bool present;
	int ifindex;
	char ifname[IFNAMSIZ];
	unsigned int flags;		/* IFF_* */
	struct nw_addr addrs[NW_MAX_ADDRS];
	size_t num_addrs;
};

struct rwld_netwatch {
	struct nl_sock *sock;		/* subscribed to the groups */
	struct nw_snapshot state;
	struct nw_addr lost[NW_MAX_ADDRS];	/* to say "again" */
	size_t num_lost;
	const char *proc;
};

/* What one notification is about, for the parser callbacks. */
struct nw_msg {
	struct rwld_netwatch *nw;
	int type;			/* RTM_* */
	uint32_t portid;
};

static bool read_comm(const char *proc, unsigned long pid, char *comm,
		      size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%lu/comm", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, (int)size, f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm[0] != '\0';
}

/* The inode of the rtnetlink socket bound to @portid, from net/netlink. */
static unsigned long netlink_socket_inode(const char *proc, uint32_t portid)
{
	unsigned long inode = 0;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/netlink", proc);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!inode && fgets(line, sizeof(line), f)) {
		unsigned long sk, ino;
		unsigned int protocol, port;

		/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
		if (sscanf(line, "%lx %u %u %*x %*u %*u %*u %*u %*u %lu", &sk,
			   &protocol, &port, &ino) == 4 &&
		    protocol == NETLINK_ROUTE && port == portid)
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* The process that holds socket @inode open, as ss -p finds it; 0: none. */
static unsigned long socket_owner(const char *proc, unsigned long inode)
{
	char want[64], path[300], link[64];
	unsigned long owner = 0;
	struct dirent *pid_de;
	DIR *procdir;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	procdir = opendir(proc);
	if (!procdir)
		return 0;
	while (!owner && (pid_de = readdir(procdir))) {
		struct dirent *fd_de;
		DIR *fddir;

		if (pid_de->d_name[0] < '1' || pid_de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd", proc, pid_de->d_name);
		fddir = opendir(path);
		if (!fddir)
			continue;	/* gone, or not ours to look at */
		while (!owner && (fd_de = readdir(fddir))) {
			ssize_t len;

			len = readlinkat(dirfd(fddir), fd_de->d_name, link,
					 sizeof(link) - 1);
			if (len < 0)
				continue;
			link[len] = '\0';
			if (!strcmp(link, want))
				owner = strtoul(pid_de->d_name, NULL, 10);
		}
		closedir(fddir);
	}
	closedir(procdir);
	return owner;
}

/*
 * The sender's socket, while it is still open, names its process
 * exactly.  When it is closed already (ip(8) is gone by the time we look)
 * the port number is the best clue: the kernel and libnl give a process's
 * first netlink socket its PID as the port.  Port 0: the kernel did not
 * say (link changes, changes made by ioctl, a driver's carrier loss).
 */
void rwld_netwatch_culprit(const char *proc, uint32_t portid, char *buf,
			   size_t size)
{
	unsigned long inode, owner = 0;
	char comm[64];

	if (portid == 0) {
		snprintf(buf, size, "(sender unknown: the kernel does not "
			 "say who asked)");
		return;
	}
	inode = netlink_socket_inode(proc, portid);
	if (inode)
		owner = socket_owner(proc, inode);
	if (owner && read_comm(proc, owner, comm, sizeof(comm)))
		snprintf(buf, size, "(sent by pid %lu %s)", owner, comm);
	else if (!inode && read_comm(proc, portid, comm, sizeof(comm)))
		snprintf(buf, size, "(sent by pid %u %s, judging by its "
			 "netlink port)", portid, comm);
	else
		snprintf(buf, size, "(sender unknown: netlink port %u)", portid);
}

static void format_addr(const struct nw_addr *a, char *buf, size_t size)
{
	char dotted[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->addr, dotted, sizeof(dotted));
	snprintf(buf, size, "%s/%u", dotted, a->prefixlen);
}

static bool addr_in(const struct nw_addr *list, size_t num,
		    const struct nw_addr *a)
{
	for (size_t i = 0; i < num; i++)
		if (list[i].addr.s_addr == a->addr.s_addr &&
		    list[i].prefixlen == a->prefixlen)
			return true;
	return false;
}

static void addr_add(struct nw_addr *list, size_t *num, const struct nw_addr *a)
{
	if (!addr_in(list, *num, a) && *num < NW_MAX_ADDRS)
		list[(*num)++] = *a;
}

static void addr_remove(struct nw_addr *list, size_t *num,
			const struct nw_addr *a)
{
	for (size_t i = 0; i < *num; i++) {
		if (list[i].addr.s_addr == a->addr.s_addr &&
		    list[i].prefixlen == a->prefixlen) {
			list[i] = list[--*num];
			return;
		}
	}
}

static bool link_ok(unsigned int flags)
{
	return (flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}

static void compare_link(const struct nw_snapshot *old,
			 const struct nw_snapshot *new, const char *culprit)
{
	const char *name = old->ifname;

	if (old->present && !new->present) {
		rwld_log(LOG_CRIT, "boot interface %s was deleted: " NW_HANGS " %s",
			 name, culprit);
		return;
	}
	if (!new->present)
		return;
	if (!old->present) {
		rwld_log(LOG_NOTICE, "boot interface %s is back (index %d)%s",
			 new->ifname, new->ifindex,
			 link_ok(new->flags) ? "" : ", but not up and running");
		return;
	}
	if (strcmp(old->ifname, new->ifname))
		rwld_log(LOG_NOTICE, "boot interface %s is now called %s",
			 old->ifname, new->ifname);
	if (link_ok(old->flags) && !(new->flags & IFF_UP))
		rwld_log(LOG_CRIT, "boot interface %s was set down: " NW_HANGS " %s",
			 new->ifname, culprit);
	else if (link_ok(old->flags) && !link_ok(new->flags))
		rwld_log(LOG_CRIT, "boot interface %s lost its carrier: the root "
			 "filesystem is on the network; this machine hangs until "
			 "the link is back %s", new->ifname, culprit);
	else if (!link_ok(old->flags) && link_ok(new->flags))
		rwld_log(LOG_NOTICE, "boot interface %s is up and running again",
			 new->ifname);
}

static void compare_addrs(struct rwld_netwatch *nw,
			  const struct nw_snapshot *old,
			  const struct nw_snapshot *new, const char *culprit)
{
	char text[INET_ADDRSTRLEN + 4];

	for (size_t i = 0; i < old->num_addrs; i++) {
		if (addr_in(new->addrs, new->num_addrs, &old->addrs[i]))
			continue;
		format_addr(&old->addrs[i], text, sizeof(text));
		/* A deleted interface was reported as such. */
		if (new->present)
			rwld_log(LOG_CRIT, "boot interface %s lost its address %s: "
				 NW_HANGS " %s", new->ifname, text, culprit);
		addr_add(nw->lost, &nw->num_lost, &old->addrs[i]);
	}
	for (size_t i = 0; i < new->num_addrs; i++) {
		if (addr_in(old->addrs, old->num_addrs, &new->addrs[i]))
			continue;
		format_addr(&new->addrs[i], text, sizeof(text));
		if (addr_in(nw->lost, nw->num_lost, &new->addrs[i])) {
			rwld_log(LOG_NOTICE, "boot interface %s has its address "
				 "%s again", new->ifname, text);
			addr_remove(nw->lost, &nw->num_lost, &new->addrs[i]);
		} else {
			rwld_log(LOG_NOTICE, "boot interface %s got the address %s",
				 new->ifname, text);
		}
	}
}

/* Log the difference and make @new the state. */
static void netwatch_update(struct rwld_netwatch *nw,
			    const struct nw_snapshot *new, const char *culprit)
{
	compare_link(&nw->state, new, culprit);
	compare_addrs(nw, &nw->state, new, culprit);
	nw->state = *new;
}

static void link_into(struct rtnl_link *link, struct nw_snapshot *snap)
{
	snap->present = true;
	snap->ifindex = rtnl_link_get_ifindex(link);
	snprintf(snap->ifname, sizeof(snap->ifname), "%s",
		 rtnl_link_get_name(link));
	snap->flags = rtnl_link_get_flags(link);
}

static bool addr_from(struct rtnl_addr *addr, struct nw_addr *out)
{
	struct nl_addr *local = rtnl_addr_get_local(addr);

	if (rtnl_addr_get_family(addr) != AF_INET || !local ||
	    nl_addr_get_len(local) != sizeof(out->addr))
		return false;
	memcpy(&out->addr, nl_addr_get_binary_addr(local), sizeof(out->addr));
	out->prefixlen = (unsigned int)rtnl_addr_get_prefixlen(addr);
	return true;
}

static void link_event(struct nw_msg *m, struct rtnl_link *link)
{
	struct nw_snapshot new = m->nw->state;
	int ifindex = rtnl_link_get_ifindex(link);
	const char *name = rtnl_link_get_name(link);
	char culprit[128];

	if (m->nw->state.present ? ifindex != m->nw->state.ifindex :
	    !name || strcmp(name, m->nw->state.ifname))
		return;
	if (m->type == RTM_DELLINK) {
		new.present = false;
		new.num_addrs = 0;
	} else {
		link_into(link, &new);
	}
	rwld_netwatch_culprit(m->nw->proc, m->portid, culprit, sizeof(culprit));
	netwatch_update(m->nw, &new, culprit);
}

static void addr_event(struct nw_msg *m, struct rtnl_addr *addr)
{
	struct nw_snapshot new = m->nw->state;
	char culprit[128];
	struct nw_addr a;

	if (!new.present || rtnl_addr_get_ifindex(addr) != new.ifindex ||
	    !addr_from(addr, &a))
		return;
	if (m->type == RTM_DELADDR)
		addr_remove(new.addrs, &new.num_addrs, &a);
	else
		addr_add(new.addrs, &new.num_addrs, &a);
	rwld_netwatch_culprit(m->nw->proc, m->portid, culprit, sizeof(culprit));
	netwatch_update(m->nw, &new, culprit);
}

static void parsed_object(struct nl_object *obj, void *arg)
{
	struct nw_msg *m = arg;

	switch (m->type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		link_event(m, (struct rtnl_link *)obj);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		addr_event(m, (struct rtnl_addr *)obj);
		break;
	}
}

static int netwatch_msg(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nw_msg m = {
		.nw = arg, .type = nlh->nlmsg_type, .portid = nlh->nlmsg_pid,
	};
	int err = nl_msg_parse(msg, parsed_object, &m);

	if (err < 0)
		rwld_log(LOG_WARNING, "netwatch: rtnetlink message type %d: %s",
			 nlh->nlmsg_type, nl_geterror(err));
	return NL_OK;
}

static void addr_of_snapshot(struct nl_object *obj, void *arg)
{
	struct nw_snapshot *snap = arg;
	struct rtnl_addr *addr = (struct rtnl_addr *)obj;
	struct nw_addr a;

	if (rtnl_addr_get_ifindex(addr) == snap->ifindex && addr_from(addr, &a))
		addr_add(snap->addrs, &snap->num_addrs, &a);
}

/* The interface's state as the kernel has it now, by name. */
static int read_snapshot(const char *ifname, struct nw_snapshot *snap)
{
	struct nl_cache *links = NULL, *addrs = NULL;
	struct rtnl_link *link;
	struct nl_sock *sock;
	int err;

	memset(snap, 0, sizeof(*snap));
	snprintf(snap->ifname, sizeof(snap->ifname), "%s", ifname);
	sock = nl_socket_alloc();
	if (!sock)
		return -ENOMEM;
	err = nl_connect(sock, NETLINK_ROUTE);
	if (err < 0)
		goto out_free;
	err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &links);
	if (err < 0)
		goto out_free;
	link = rtnl_link_get_by_name(links, ifname);
	if (!link)
		goto out_free;	/* absent is a state too */
	link_into(link, snap);
	rtnl_link_put(link);
	err = rtnl_addr_alloc_cache(sock, &addrs);
	if (err < 0)
		goto out_free;
	nl_cache_foreach(addrs, addr_of_snapshot, snap);
out_free:
	nl_cache_free(addrs);
	nl_cache_free(links);
	nl_socket_free(sock);
	if (err < 0) {
		rwld_log(LOG_ERR, "netwatch: reading the state of %s: %s",
			 ifname, nl_geterror(err));
		return -EIO;
	}
	return 0;
}

static void log_state(const struct nw_snapshot *s)
{
	char addrs[NW_MAX_ADDRS * (INET_ADDRSTRLEN + 5)] = "";
	size_t len = 0;

	if (!s->present) {
		rwld_log(LOG_WARNING, "netwatch: boot interface %s does not "
			 "exist (yet); watching for it", s->ifname);
		return;
	}
	for (size_t i = 0; i < s->num_addrs; i++) {
		addrs[len++] = ' ';
		format_addr(&s->addrs[i], addrs + len, sizeof(addrs) - len);
		len += strlen(addrs + len);
	}
	rwld_log(link_ok(s->flags) ? LOG_INFO : LOG_WARNING,
		 "netwatch: watching boot interface %s (index %d, %s)%s%s",
		 s->ifname, s->ifindex,
		 link_ok(s->flags) ? "up and running" :
		 s->flags & IFF_UP ? "up, no carrier" : "down",
		 s->num_addrs ? ", IPv4" : ", no IPv4 address", addrs);
}

int rwld_netwatch_open(const char *ifname, struct rwld_netwatch **nwp)
{
	struct rwld_netwatch *nw = calloc(1, sizeof(*nw));
	int err = -ENOMEM;

	if (!nw)
		return -ENOMEM;
	nw->proc = "/proc";
	nw->sock = nl_socket_alloc();
	if (!nw->sock)
		goto err_free;
	nl_socket_disable_seq_check(nw->sock);
	nl_socket_modify_cb(nw->sock, NL_CB_VALID, NL_CB_CUSTOM, netwatch_msg, nw);
	err = nl_connect(nw->sock, NETLINK_ROUTE);
	if (err < 0)
		goto err_nl;
	/* Subscribe before reading the state: no change falls in between. */
	err = nl_socket_add_memberships(nw->sock, RTNLGRP_LINK,
					RTNLGRP_IPV4_IFADDR, 0);
	if (err < 0)
		goto err_nl;
	err = nl_socket_set_buffer_size(nw->sock, NW_RCVBUF, 0);
	if (err < 0)
		goto err_nl;
	err = read_snapshot(ifname, &nw->state);
	if (err < 0)
		goto err_sock;
	log_state(&nw->state);
	*nwp = nw;
	return 0;

err_nl:
	rwld_log(LOG_ERR, "netwatch: rtnetlink socket: %s", nl_geterror(err));
	err = -EIO;
err_sock:
	nl_socket_free(nw->sock);
err_free:
	free(nw);
	return err;
}

int rwld_netwatch_fd(const struct rwld_netwatch *nw)
{
	return nl_socket_get_fd(nw->sock);
}

int rwld_netwatch_handle(struct rwld_netwatch *nw)
{
	struct nw_snapshot now;
	int err = nl_recvmsgs_default(nw->sock);

	/* libnl reports the socket's ENOBUFS (an overflow) as NLE_NOMEM. */
	if (err == -NLE_NOMEM) {
		rwld_log(LOG_WARNING, "netwatch: rtnetlink notifications were "
			 "lost (receive buffer overflow); re-reading %s",
			 nw->state.ifname);
		if (read_snapshot(nw->state.ifname, &now) < 0)
			return -EIO;
		netwatch_update(nw, &now, "(sender unknown: its notification "
				"was lost)");
		return 0;
	}
	if (err < 0 && err != -NLE_INTR && err != -NLE_AGAIN) {
		rwld_log(LOG_ERR, "netwatch: receiving rtnetlink: %s",
			 nl_geterror(err));
		return -EIO;
	}
	return 0;
}

void rwld_netwatch_close(struct rwld_netwatch *nw)
{
	if (!nw)
		return;
	nl_socket_free(nw->sock);
	free(nw);
}
