// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayerd's pieces that need no kernel module: the boot interface choice
 * from fake /proc and /sys files, the journal datagram, the escaping of
 * the upper's directory name, the log lines of rwlayer events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../rwlayerd/log.c"
#include "../rwlayerd/bootif.c"
#include "../rwlayerd/mount.c"
#include "../rwlayerd/events.c"
#include "tap.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void fake_iface(const char *name, const char *mac)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/net/%s", dir, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "net/%s/address", name);
	write_file(path, mac);
	snprintf(path, sizeof(path), "net/%s/ifindex", name);
	write_file(path, "2\n");
}

#define ROUTE_HEADER "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

static const char *choose(const char *iface, const char *cmdline,
			  enum rwld_bootif_origin *origin)
{
	static char name[IF_NAMESIZE];
	char cmdline_path[128], route_path[128], sysfs[128];
	struct rwld_bootif_sources src = {
		.iface = iface, .cmdline = cmdline_path, .route = route_path,
		.sysfs_net = sysfs,
	};

	snprintf(cmdline_path, sizeof(cmdline_path), "%s/cmdline", dir);
	snprintf(route_path, sizeof(route_path), "%s/route", dir);
	snprintf(sysfs, sizeof(sysfs), "%s/net", dir);
	write_file("cmdline", cmdline);
	*origin = rwld_bootif_choose(&src, name);
	return name;
}

static void test_bootif(void)
{
	enum rwld_bootif_origin o;
	const char *name;
	char path[128];

	snprintf(path, sizeof(path), "%s/net", dir);
	mkdir(path, 0755);
	fake_iface("enp1s0", "52:54:00:12:34:56\n");
	fake_iface("wlan0", "52:54:00:aa:bb:cc\n");
	write_file("route", ROUTE_HEADER
		   "wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
		   "enp1s0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		   "enp1s0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n");

	name = choose(NULL, "quiet root=/dev/nfs\n", &o);
	ok(o == RWLD_BOOTIF_ROUTE && !strcmp(name, "enp1s0"),
	      "the lowest-metric default route wins: %s", name);
	name = choose("eth7", "BOOTIF=01-52-54-00-aa-bb-cc\n", &o);
	ok(o == RWLD_BOOTIF_OPTION && !strcmp(name, "eth7"), "--iface wins: %s", name);
	name = choose(NULL, "root=/dev/nfs BOOTIF=01-52-54-00-AA-BB-CC ip=dhcp\n", &o);
	ok(o == RWLD_BOOTIF_BOOTIF && !strcmp(name, "wlan0"),
	      "BOOTIF= finds the interface by MAC: %s", name);
	name = choose(NULL, "BOOTIF=01-00-00-00-00-00-01 ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0:pc1:wlan0:off\n", &o);
	ok(o == RWLD_BOOTIF_IP && !strcmp(name, "wlan0"),
	      "an unknown BOOTIF= falls back to the kernel's ip= device: %s", name);
	name = choose(NULL, "ip=wlan0:dhcp\n", &o);
	ok(o == RWLD_BOOTIF_IP && !strcmp(name, "wlan0"), "dracut's ip=IF:dhcp: %s", name);
	name = choose(NULL, "ip=[fd00::2]::[fd00::1]:64:pc1:wlan0:none\n", &o);
	ok(o == RWLD_BOOTIF_IP && !strcmp(name, "wlan0"),
	      "bracketed IPv6 fields do not shift the device field: %s", name);
	name = choose(NULL, "ip=dhcp\n", &o);
	ok(o == RWLD_BOOTIF_ROUTE && !strcmp(name, "enp1s0"),
	      "ip=dhcp names no device: the route decides: %s", name);
	name = choose(NULL, "ip=:::::eth0:dhcp\n", &o);
	ok(o == RWLD_BOOTIF_ROUTE && !strcmp(name, "enp1s0"),
	      "an ip= device that no longer exists (renamed) is passed over: %s", name);
	write_file("route", ROUTE_HEADER);
	name = choose(NULL, "quiet\n", &o);
	ok(o == RWLD_BOOTIF_NONE && !name[0], "no source: no interface");
}

static void test_escape(void)
{
	static const char *const cases[][2] = {
		{ "/", "-" }, { "/var", "var" }, { "/var/lib/", "var-lib" },
		{ "/srv/my-root", "srv-my\\x2droot" }, { "/a b/.x", "a\\x20b-.x" },
		{ "/.hidden", "\\x2ehidden" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = rwld_mount_escape(cases[i][0]);

		ok(got && !strcmp(got, cases[i][1]), "escape %s -> %s (got %s)",
		      cases[i][0], cases[i][1], got ? got : "NULL");
		free(got);
	}
}

/* The journal datagram: fields, and a newline in a value as binary. */
static void test_journal(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[1024], want[512];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t len;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/journal", dir);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		printf("Bail out! journal socket: %s\n", strerror(errno));
		exit(1);
	}
	rwld_log_open(&(struct rwld_log_config){ .journal_socket = addr.sun_path });
	rwld_log_ctx(LOG_WARNING, &(struct rwld_log_ctx){
		.mount_id = 3, .rule = "/var", .file = "f.c", .line = 7, .func = "fn" },
		"/var: space use crossed %d%%", 80);
	len = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	buf[len > 0 ? len : 0] = '\0';
	ok(!strcmp(buf, "PRIORITY=4\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=rwlayerd\n"
		      "MESSAGE=/var: space use crossed 80%\nRWLAYER_MOUNT=3\n"
		      "RWLAYER_RULE=/var\nCODE_FILE=f.c\nCODE_LINE=7\nCODE_FUNC=fn\n"),
	      "a journal entry carries the rule's fields");

	rwld_log_ctx(LOG_ERR, &(struct rwld_log_ctx){ 0 }, "two\nlines");
	len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	memcpy(want, "PRIORITY=3\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=rwlayerd\n"
	       "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n", 82);
	ok(len == 82 && !memcmp(buf, want, 82),
	      "a value with a newline goes in the binary form (%zd bytes)", len);
	rwld_log_close();
	close(fd);
}

static bool logged(FILE *stream, char **text, const char *want)
{
	fflush(stream);
	return strstr(*text, want) != NULL;
}

static void test_events(void)
{
	struct rwld_events_ctx ctx = { .mount_id = 4, .target = "/srv/root" };
	char *text = NULL;
	size_t len = 0;
	FILE *stream = open_memstream(&text, &len);
	struct rwl_nl_event ev = {
		.event = RWLAYER_EVENT_THRESHOLD, .mount_id = 4,
		.rule_path = (char *)"/var", .has_percent = true, .percent = 80,
		.has_limit = true, .limit = RWLAYER_LIMIT_BYTES,
		.has_bytes = true, .bytes = 100 << 20,
		.has_max_bytes = true, .max_bytes = 128 << 20,
	};

	rwld_log_open(&(struct rwld_log_config){ .journal_socket = "/nonexistent" });
	rwld_log_set_stream(stream);
	rwld_event_log(&ev, &ctx);
	ok(logged(stream, &text, "rwlayerd: warning: /srv/root/var: space use "
		     "crossed 80% of the limit (100M of 128M)\n"),
	      "a threshold names the rule by its system path");

	ev = (struct rwl_nl_event){
		.event = RWLAYER_EVENT_COPY_UP_FAILED, .mount_id = 9,
		.rule_path = (char *)"/", .path = (char *)"/etc/x",
		.has_errno = true, .err = ENOSPC,
	};
	rwld_event_log(&ev, &ctx);
	ok(logged(stream, &text, "rwlayerd: error: mount 9:/etc/x: copy-up "
		     "failed: No space left on device\n"),
	      "another mount's copy-up failure is an error, named by mount id");

	ev = (struct rwl_nl_event){ .event = RWLAYER_EVENT_UNMOUNT, .mount_id = 4,
				    .has_dev = true, .dev_major = 0, .dev_minor = 77 };
	rwld_event_log(&ev, &ctx);
	ok(ctx.mount_id == 0 &&
	      logged(stream, &text, "rwlayerd: error: rwlayer mount 4 (device 0:77) "
		     "unmounted: the rules of the overlaytab are gone with it\n"),
	      "our mount's unmount is an error and forgets the mount");
	rwld_log_close();
	rwld_log_set_stream(NULL);
	fclose(stream);
	free(text);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rwld-daemon-test-XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	rwld_log_open(&(struct rwld_log_config){ .journal_socket = "/nonexistent" });
	test_bootif();
	test_escape();
	test_journal();
	test_events();
	printf("1..%u\n", tests_run);
	if (!tests_failed) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tests_failed ? 1 : 0;
}
