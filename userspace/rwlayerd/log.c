// SPDX-License-Identifier: GPL-2.0
/*
 * Where rwlayerd's messages go.
 *
 * When /run/systemd/journal/socket exists, a message is one datagram of
 * KEY=VALUE lines in the journal's native protocol (a value holding a
 * newline uses the binary form: KEY, '\n', its length as little-endian
 * 64 bits, the value, '\n').  That costs one function and carries the
 * fields syslog cannot: RWLAYER_MOUNT=, RWLAYER_RULE=, CODE_FILE= ...
 * If the socket is absent, or a datagram is refused (journald stopped,
 * a message too large for one datagram), syslog(3) takes the message.
 *
 * stderr gets a copy for a person watching, unless stderr is itself
 * connected to the journal ($JOURNAL_STREAM names its device and inode):
 * the journal would then hold every message twice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

#define RWLD_JOURNAL_SOCKET "/run/systemd/journal/socket"

static struct {
	bool to_stderr;
	bool verbose;
	int journal_fd;			/* -1: use syslog */
	struct sockaddr_un journal_addr;
	bool syslog_open;
	FILE *stream;			/* NULL: stderr */
} rwld_log_state = { .journal_fd = -1 };

/* Is fd 2 the stream systemd connected to the journal? */
static bool stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

static int journal_connect(const char *path, struct sockaddr_un *addr)
{
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr->sun_path))
		return -1;
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	strcpy(addr->sun_path, path);
	return fd;
}

void rwld_log_open(const struct rwld_log_config *config)
{
	const char *socket_path = config->journal_socket ?
				  config->journal_socket : RWLD_JOURNAL_SOCKET;

	rwld_log_close();
	rwld_log_state.to_stderr = config->to_stderr && !stderr_is_journal();
	rwld_log_state.verbose = config->verbose;
	rwld_log_state.journal_fd = journal_connect(socket_path,
						    &rwld_log_state.journal_addr);
}

void rwld_log_close(void)
{
	if (rwld_log_state.journal_fd >= 0)
		close(rwld_log_state.journal_fd);
	rwld_log_state.journal_fd = -1;
	if (rwld_log_state.syslog_open)
		closelog();
	rwld_log_state.syslog_open = false;
}

void rwld_log_set_stream(FILE *stream)
{
	rwld_log_state.stream = stream;
}

/* One field, in the text form or, for a value with a newline, binary. */
static void journal_field(FILE *out, const char *key, const char *value)
{
	uint64_t len = strlen(value), le_len = 0;

	if (!strchr(value, '\n')) {
		fprintf(out, "%s=%s\n", key, value);
		return;
	}
	for (unsigned int i = 0; i < 8; i++)
		((unsigned char *)&le_len)[i] = (unsigned char)(len >> (8 * i));
	fprintf(out, "%s\n", key);
	fwrite(&le_len, sizeof(le_len), 1, out);
	fprintf(out, "%s\n", value);
}

static int journal_send(int priority, const struct rwld_log_ctx *ctx,
			const char *message)
{
	char *datagram = NULL, number[24];
	size_t len = 0;
	ssize_t sent;
	FILE *out;

	out = open_memstream(&datagram, &len);
	if (!out)
		return -1;
	snprintf(number, sizeof(number), "%d", priority);
	journal_field(out, "PRIORITY", number);
	snprintf(number, sizeof(number), "%d", LOG_DAEMON >> 3);
	journal_field(out, "SYSLOG_FACILITY", number);
	journal_field(out, "SYSLOG_IDENTIFIER", "rwlayerd");
	journal_field(out, "MESSAGE", message);
	if (ctx->mount_id) {
		snprintf(number, sizeof(number), "%u", ctx->mount_id);
		journal_field(out, "RWLAYER_MOUNT", number);
	}
	if (ctx->rule)
		journal_field(out, "RWLAYER_RULE", ctx->rule);
	if (ctx->file) {
		journal_field(out, "CODE_FILE", ctx->file);
		snprintf(number, sizeof(number), "%d", ctx->line);
		journal_field(out, "CODE_LINE", number);
		journal_field(out, "CODE_FUNC", ctx->func);
	}
	if (fclose(out) != 0) {
		free(datagram);
		return -1;
	}
	sent = sendto(rwld_log_state.journal_fd, datagram, len, MSG_NOSIGNAL,
		      (struct sockaddr *)&rwld_log_state.journal_addr,
		      sizeof(rwld_log_state.journal_addr));
	free(datagram);
	return sent == (ssize_t)len ? 0 : -1;
}

static void syslog_send(int priority, const char *message)
{
	if (!rwld_log_state.syslog_open) {
		openlog("rwlayerd", LOG_PID, LOG_DAEMON);
		rwld_log_state.syslog_open = true;
	}
	syslog(priority, "%s", message);
}

/* For a person reading stderr: what is not routine says so. */
static const char *severity(int priority)
{
	if (priority <= LOG_CRIT)
		return "critical: ";
	if (priority == LOG_ERR)
		return "error: ";
	if (priority == LOG_WARNING)
		return "warning: ";
	return "";
}

void rwld_log_ctx(int priority, const struct rwld_log_ctx *ctx,
		  const char *fmt, ...)
{
	int saved_errno = errno;
	char *message;
	va_list ap;
	int ret;

	if (priority == LOG_DEBUG && !rwld_log_state.verbose)
		return;
	va_start(ap, fmt);
	ret = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (ret < 0) {
		errno = saved_errno;
		return;
	}
	if (rwld_log_state.to_stderr || rwld_log_state.stream) {
		FILE *out = rwld_log_state.stream ? rwld_log_state.stream : stderr;

		fprintf(out, "rwlayerd: %s%s\n", severity(priority), message);
		fflush(out);
	}
	if (rwld_log_state.journal_fd < 0 ||
	    journal_send(priority, ctx, message) < 0)
		syslog_send(priority, message);
	free(message);
	errno = saved_errno;
}
