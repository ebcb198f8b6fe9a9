// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayerd's netwatch against the real kernel, in a private network
 * namespace: a veth pair stands in for the boot interface, and child
 * processes named like the usual culprits (dhclient, NetworkManager) take
 * it apart.  Each step asserts the exact log line, culprit included.
 *
 * Needs root (unshare(CLONE_NEWNET)); without it only the culprit checks
 * that need no namespace run, and the rest are reported as skipped.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netlink/route/link/veth.h>

#include "../rwlayerd/log.c"
#include "../rwlayerd/netwatch.c"

#define BOOT_IF "rwt0"
#define PEER_IF "rwt1"
#define BOOT_ADDR "192.0.2.15/24"	/* TEST-NET-1, in our namespace only */
#define UNKNOWN_SENDER "(sender unknown: the kernel does not say who asked)"

static unsigned int test_count, failures;
static char *log_buf;
static size_t log_len, log_mark;
static FILE *log_stream;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", cond ? "" : "not ", ++test_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		failures++;
		printf("# log since the last check:\n# %s\n", log_buf + log_mark);
	}
	fflush(stdout);
}

static void skip(const char *what, const char *why)
{
	printf("ok %u - %s # SKIP %s\n", ++test_count, what, why);
}

static void die(const char *what, int err)
{
	printf("Bail out! %s: %s\n", what, err < 0 ? nl_geterror(err) : "");
	exit(1);
}

/* Handle notifications until the log (since the mark) holds @needle. */
static bool wait_for_log(struct rwld_netwatch *nw, const char *needle)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = rwld_netwatch_fd(nw), .events = POLLIN };

		fflush(log_stream);
		if (strstr(log_buf + log_mark, needle))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			return false;
		if (poll(&pfd, 1, 100) == 1 && rwld_netwatch_handle(nw) < 0)
			return false;
	}
}

static void mark_log(void)
{
	fflush(log_stream);
	log_mark = log_len;
}

static struct nl_sock *route_socket(void)
{
	struct nl_sock *sock = nl_socket_alloc();
	int err;

	if (!sock)
		die("nl_socket_alloc", 0);
	err = nl_connect(sock, NETLINK_ROUTE);
	if (err < 0)
		die("nl_connect", err);
	return sock;
}

static int set_link_flag(struct nl_sock *sock, const char *name, bool up)
{
	struct rtnl_link *link, *change = rtnl_link_alloc();
	int err = rtnl_link_get_kernel(sock, 0, name, &link);

	if (err < 0)
		return err;
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	err = rtnl_link_change(sock, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	return err;
}

static int delete_link(struct nl_sock *sock, const char *name)
{
	struct rtnl_link *link;
	int err = rtnl_link_get_kernel(sock, 0, name, &link);

	if (err < 0)
		return err;
	err = rtnl_link_delete(sock, link);
	rtnl_link_put(link);
	return err;
}

static int change_addr(struct nl_sock *sock, const char *name,
		       const char *cidr, bool add)
{
	struct rtnl_addr *addr = rtnl_addr_alloc();
	struct nl_addr *local;
	struct rtnl_link *link;
	int err;

	err = rtnl_link_get_kernel(sock, 0, name, &link);
	if (err < 0)
		return err;
	err = nl_addr_parse(cidr, AF_INET, &local);
	if (err < 0)
		return err;
	rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link));
	rtnl_addr_set_local(addr, local);
	err = add ? rtnl_addr_add(sock, addr, 0) : rtnl_addr_delete(sock, addr, 0);
	nl_addr_put(local);
	rtnl_addr_put(addr);
	rtnl_link_put(link);
	return err;
}

/* Both ends up and the boot end carrying its address and carrier. */
static void make_boot_if(struct nl_sock *sock)
{
	int err = rtnl_link_veth_add(sock, BOOT_IF, PEER_IF, getpid());

	if (err < 0)
		die("veth add", err);
	if ((err = set_link_flag(sock, BOOT_IF, true)) < 0 ||
	    (err = set_link_flag(sock, PEER_IF, true)) < 0 ||
	    (err = change_addr(sock, BOOT_IF, BOOT_ADDR, true)) < 0)
		die("setting up " BOOT_IF, err);
}

static bool boot_if_running(struct nl_sock *sock)
{
	struct rtnl_link *link;
	bool running;

	if (rtnl_link_get_kernel(sock, 0, BOOT_IF, &link) < 0)
		return false;
	running = rtnl_link_get_flags(link) & IFF_RUNNING;
	rtnl_link_put(link);
	return running;
}

enum culprit_action { CULPRIT_HOLD, CULPRIT_DEL_ADDR, CULPRIT_LINK_DOWN,
		      CULPRIT_DELETE };

/* A process named @comm, with its own rtnetlink socket. */
struct culprit {
	pid_t pid;
	uint32_t port;
	int release_fd;
};

/*
 * Fork a process called @comm that does @action through its own socket,
 * reports its port and result, then stays until culprit_release() (so
 * that its socket can still be found, as a daemon's would).
 */
static struct culprit culprit_start(const char *comm, enum culprit_action action)
{
	int report[2], release[2];
	struct culprit c = { 0 };
	int32_t reply[2];

	if (pipe(report) < 0 || pipe(release) < 0)
		die("pipe", 0);
	c.pid = fork();
	if (c.pid < 0)
		die("fork", 0);
	if (c.pid == 0) {
		struct nl_sock *sock;
		char byte;
		int err = 0;

		prctl(PR_SET_NAME, comm);
		sock = route_socket();
		if (action == CULPRIT_DEL_ADDR)
			err = change_addr(sock, BOOT_IF, BOOT_ADDR, false);
		else if (action == CULPRIT_LINK_DOWN)
			err = set_link_flag(sock, BOOT_IF, false);
		else if (action == CULPRIT_DELETE)
			err = delete_link(sock, BOOT_IF);
		reply[0] = (int32_t)nl_socket_get_local_port(sock);
		reply[1] = err;
		if (write(report[1], reply, sizeof(reply)) != sizeof(reply))
			_exit(1);
		close(release[1]);
		while (read(release[0], &byte, 1) > 0)
			;
		_exit(0);
	}
	close(report[1]);
	close(release[0]);
	if (read(report[0], reply, sizeof(reply)) != sizeof(reply))
		die("culprit report", 0);
	close(report[0]);
	if (reply[1] < 0)
		die(comm, reply[1]);
	c.port = (uint32_t)reply[0];
	c.release_fd = release[1];
	return c;
}

static void culprit_release(struct culprit *c)
{
	close(c->release_fd);
	waitpid(c->pid, NULL, 0);
}

static void test_culprit_names(void)
{
	struct culprit c = culprit_start("rwt-holder", CULPRIT_HOLD);
	char buf[160], want[160];

	rwld_netwatch_culprit("/proc", c.port, buf, sizeof(buf));
	snprintf(want, sizeof(want), "(sent by pid %d rwt-holder)", c.pid);
	check(!strcmp(buf, want), "culprit of port %u is found by its socket: %s",
	      c.port, buf);
	culprit_release(&c);

	rwld_netwatch_culprit("/proc", 0, buf, sizeof(buf));
	check(!strcmp(buf, "(sender unknown: the kernel does not say who asked)"),
	      "port 0 names nobody: %s", buf);

	rwld_netwatch_culprit("/proc", 0x7ffffff0, buf, sizeof(buf));
	check(!strcmp(buf, "(sender unknown: netlink port 2147483632)"),
	      "an unknown port is said to be unknown: %s", buf);

	rwld_netwatch_culprit("/proc", (uint32_t)getppid(), buf, sizeof(buf));
	snprintf(want, sizeof(want), "(sent by pid %d ", getppid());
	check(!strncmp(buf, want, strlen(want)) &&
	      strstr(buf, "judging by its netlink port"),
	      "a port without a socket that is a PID names the process, "
	      "with a caveat: %s", buf);
}

/* The log has "<what> (sent by pid N comm)". */
static void expect_culprit(struct rwld_netwatch *nw, const struct culprit *c,
			   const char *what, const char *comm)
{
	char want[512];

	snprintf(want, sizeof(want), "%s (sent by pid %d %s)", what, c->pid, comm);
	check(wait_for_log(nw, want), "logged: %s", want);
}

/*
 * The log has "<what> " and then the culprit or, as Linux up to at least
 * 6.18 sends link notifications with port 0, the unknown sender.
 */
static void expect_culprit_or_unknown(struct rwld_netwatch *nw,
				      const struct culprit *c,
				      const char *what, const char *comm)
{
	char named[512], unknown[512];
	const char *line;

	snprintf(named, sizeof(named), "%s (sent by pid %d %s)\n", what, c->pid,
		 comm);
	snprintf(unknown, sizeof(unknown), "%s " UNKNOWN_SENDER "\n", what);
	line = wait_for_log(nw, what) ? strstr(log_buf + log_mark, what) : NULL;
	check(line && (!strncmp(line, named, strlen(named)) ||
		       !strncmp(line, unknown, strlen(unknown))),
	      "logged: %s (sent by pid %d %s, or sender unknown)", what,
	      c->pid, comm);
}

static void test_live(void)
{
	struct nl_sock *sock;
	struct rwld_netwatch *nw;
	struct culprit c;
	char want[256];
	int err;

	sock = route_socket();
	make_boot_if(sock);
	for (int i = 0; i < 50 && !boot_if_running(sock); i++)
		usleep(100 * 1000);

	mark_log();
	err = rwld_netwatch_open(BOOT_IF, &nw);
	if (err < 0)
		die("rwld_netwatch_open", 0);
	fflush(log_stream);
	check(strstr(log_buf + log_mark, "netwatch: watching boot interface "
		     BOOT_IF " (index ") &&
	      strstr(log_buf + log_mark, "up and running), IPv4 " BOOT_ADDR),
	      "the start logs the interface's state");

	mark_log();
	c = culprit_start("dhclient", CULPRIT_DEL_ADDR);
	expect_culprit(nw, &c, "critical: boot interface " BOOT_IF " lost its address "
		       BOOT_ADDR ": the root filesystem is on the network; "
		       "whoever did this will hang this machine", "dhclient");
	culprit_release(&c);

	mark_log();
	change_addr(sock, BOOT_IF, BOOT_ADDR, true);
	check(wait_for_log(nw, "rwlayerd: boot interface " BOOT_IF " has its address "
			   BOOT_ADDR " again"), "the address coming back is logged");

	mark_log();
	c = culprit_start("NetworkManager", CULPRIT_LINK_DOWN);
	expect_culprit_or_unknown(nw, &c, "critical: boot interface " BOOT_IF " was set down: the "
		       "root filesystem is on the network; whoever did this "
		       "will hang this machine", "NetworkManager");
	culprit_release(&c);

	mark_log();
	set_link_flag(sock, BOOT_IF, true);
	check(wait_for_log(nw, "rwlayerd: boot interface " BOOT_IF " is up and running "
			   "again"), "the link coming back is logged");

	mark_log();
	set_link_flag(sock, PEER_IF, false);
	check(wait_for_log(nw, "critical: boot interface " BOOT_IF " lost its carrier: ") &&
	      strstr(log_buf + log_mark, UNKNOWN_SENDER),
	      "a lost carrier is logged, its sender unknown");
	mark_log();
	set_link_flag(sock, PEER_IF, true);
	check(wait_for_log(nw, "rwlayerd: boot interface " BOOT_IF " is up and running "
			   "again"), "the carrier coming back is logged");

	mark_log();
	c = culprit_start("wicked", CULPRIT_DELETE);
	expect_culprit_or_unknown(nw, &c, "critical: boot interface " BOOT_IF " was deleted: the "
		       "root filesystem is on the network; whoever did this "
		       "will hang this machine", "wicked");
	culprit_release(&c);

	mark_log();
	make_boot_if(sock);
	check(wait_for_log(nw, "rwlayerd: boot interface " BOOT_IF " is back (index ") &&
	      wait_for_log(nw, "has its address " BOOT_ADDR " again"),
	      "a re-created interface is followed by name");

	/*
	 * Overflow: a receive buffer at the kernel's minimum, a flood of
	 * address changes on the peer, then a change of the boot
	 * interface whose notification cannot fit: only the re-read after
	 * ENOBUFS can find it.
	 */
	nl_socket_set_buffer_size(nw->sock, 1, 0);
	for (int i = 1; i <= 60; i++) {
		snprintf(want, sizeof(want), "198.51.100.%d/24", i);
		change_addr(sock, PEER_IF, want, true);
	}
	mark_log();
	change_addr(sock, BOOT_IF, "192.0.2.77/24", true);
	check(wait_for_log(nw, "warning: netwatch: rtnetlink notifications were lost "
			   "(receive buffer overflow); re-reading " BOOT_IF) &&
	      wait_for_log(nw, "rwlayerd: boot interface " BOOT_IF " got the address "
			   "192.0.2.77/24"),
	      "an overflow is logged and the re-read finds the lost change");

	rwld_netwatch_close(nw);
	nl_socket_free(sock);
}

int main(void)
{
	struct rwld_log_config config = { .journal_socket = "/nonexistent" };

	log_stream = open_memstream(&log_buf, &log_len);
	if (!log_stream)
		die("open_memstream", 0);
	rwld_log_open(&config);
	rwld_log_set_stream(log_stream);

	if (unshare(CLONE_NEWNET) < 0) {
		skip("netwatch in a network namespace", strerror(errno));
	} else {
		test_culprit_names();
		test_live();
	}
	printf("1..%u\n", test_count);
	rwld_log_close();
	fclose(log_stream);
	free(log_buf);
	return failures ? 1 : 0;
}
