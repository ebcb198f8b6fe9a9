// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayerd's sd_notify: the datagram reaches a path socket and an
 * abstract ("@name") socket byte for byte; no $NOTIFY_SOCKET sends
 * nothing; names it cannot use are refused.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../rwlayerd/log.c"
#include "../rwlayerd/notify.c"
#include "tap.h"


/* A datagram socket bound to @name ("/path" or "@abstract"). */
static int listener(const char *name)
{
	struct sockaddr_un addr;
	int len = notify_address(name, &addr);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || len < 0 || bind(fd, (struct sockaddr *)&addr, (socklen_t)len) < 0) {
		printf("Bail out! bind %s: %s\n", name, strerror(errno));
		exit(1);
	}
	return fd;
}

/* What arrived on @fd, without waiting. */
static ssize_t received(int fd, char *buf, size_t size)
{
	ssize_t len = recv(fd, buf, size - 1, MSG_DONTWAIT);

	buf[len > 0 ? len : 0] = '\0';
	return len;
}

int main(void)
{
	char path[64], abstract[64], buf[256];
	int path_fd, abstract_fd;

	snprintf(path, sizeof(path), "/tmp/rwld-notify-%d", getpid());
	snprintf(abstract, sizeof(abstract), "@rwld-notify-%d", getpid());
	path_fd = listener(path);
	abstract_fd = listener(abstract);

	ok(rwld_notify_to(path, "READY=1\nSTATUS=ok") == 1 &&
	      received(path_fd, buf, sizeof(buf)) == 17 &&
	      !strcmp(buf, "READY=1\nSTATUS=ok"), "a path socket gets the state");

	setenv("NOTIFY_SOCKET", abstract, 1);
	ok(rwld_notify("READY=1") == 1 &&
	      received(abstract_fd, buf, sizeof(buf)) == 7 &&
	      !strcmp(buf, "READY=1"), "$NOTIFY_SOCKET=@name reaches the abstract socket");
	rwld_notify_status("%u rules on %s", 3u, "/");
	ok(received(abstract_fd, buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "STATUS=3 rules on /"), "STATUS= is formatted: %s", buf);

	unsetenv("NOTIFY_SOCKET");
	ok(rwld_notify("READY=1") == 0 &&
	      received(abstract_fd, buf, sizeof(buf)) < 0 &&
	      received(path_fd, buf, sizeof(buf)) < 0,
	      "without $NOTIFY_SOCKET nothing is sent");

	ok(rwld_notify_to("vsock:2:1", "READY=1") == -EAFNOSUPPORT,
	      "a vsock address is refused");
	ok(rwld_notify_to("@", "READY=1") == -EAFNOSUPPORT,
	      "an empty abstract name is refused");
	ok(rwld_notify_to("/nonexistent/notify", "READY=1") == -ENOENT,
	      "a missing socket is -ENOENT");

	close(path_fd);
	close(abstract_fd);
	unlink(path);
	return tap_done();
}
