// SPDX-License-Identifier: GPL-2.0
/*
 * sd_notify(3)'s protocol, implemented directly: a daemon that runs before
 * local-fs.target on a diskless client should not need libsystemd, and the
 * protocol is one sendto().
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/*
 * Fill @addr from @name: "/path" or "@abstract" (the '@' stands for the
 * leading NUL of an abstract name).  Returns the address length or -errno.
 */
static int notify_address(const char *name, struct sockaddr_un *addr)
{
	size_t len = strlen(name);

	if ((name[0] != '/' && name[0] != '@') || len < 2)
		return -EAFNOSUPPORT;	/* e.g. "vsock:": not for us */
	if (len > sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, len);
	if (name[0] == '@') {
		addr->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	if (len == sizeof(addr->sun_path))
		return -ENAMETOOLONG;	/* no room for the NUL */
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int rwld_notify_to(const char *socket_name, const char *state)
{
	struct sockaddr_un addr;
	size_t len = strlen(state);
	int addr_len, fd, err;
	ssize_t sent;

	addr_len = notify_address(socket_name, &addr);
	if (addr_len < 0)
		return addr_len;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&addr,
		      (socklen_t)addr_len);
	err = sent < 0 ? -errno : (size_t)sent != len ? -EMSGSIZE : 1;
	close(fd);
	return err;
}

int rwld_notify(const char *state)
{
	const char *socket_name = getenv("NOTIFY_SOCKET");

	if (!socket_name || !*socket_name)
		return 0;
	return rwld_notify_to(socket_name, state);
}

void rwld_notify_status(const char *fmt, ...)
{
	char *status, *state;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&status, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return;
	if (asprintf(&state, "STATUS=%s", status) >= 0) {
		ret = rwld_notify(state);
		if (ret < 0)
			rwld_log(LOG_WARNING, "notify %s: %s: %s",
				 getenv("NOTIFY_SOCKET"), state, strerror(-ret));
		free(state);
	}
	free(status);
}
