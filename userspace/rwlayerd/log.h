/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rwlayerd's log: the journal's native protocol when journald listens,
 * syslog(3) otherwise, and stderr for a person watching.
 *
 * The journal gets structured fields (RWLAYER_MOUNT=, RWLAYER_RULE=, the
 * source location) so that `journalctl RWLAYER_RULE=/var` finds a rule's
 * history; syslog gets the same text without them.
 */
#ifndef RWLD_LOG_H
#define RWLD_LOG_H

#include <stdbool.h>
#include <stdio.h>
#include <syslog.h>

struct rwld_log_config {
	bool to_stderr;			/* also print to stderr */
	bool verbose;			/* LOG_DEBUG messages too */
	const char *journal_socket;	/* NULL: the system's journal socket */
};

/* Decide where messages go; see rwlayerd(8), LOGGING. */
void rwld_log_open(const struct rwld_log_config *config);
void rwld_log_close(void);

/* Send stderr copies to @stream instead (tests read them back). */
void rwld_log_set_stream(FILE *stream);

/* Optional context of one message, for the journal's fields. */
struct rwld_log_ctx {
	unsigned int mount_id;		/* 0: no mount */
	const char *rule;		/* NULL: no rule */
	const char *file;		/* __FILE__, __LINE__, __func__ */
	int line;
	const char *func;
};

void rwld_log_ctx(int priority, const struct rwld_log_ctx *ctx,
		  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define rwld_log(priority, ...)						\
	rwld_log_ctx(priority, &(struct rwld_log_ctx){			\
		.file = __FILE__, .line = __LINE__, .func = __func__ },	\
		__VA_ARGS__)

#define rwld_log_rule(priority, mount, rule_path, ...)			\
	rwld_log_ctx(priority, &(struct rwld_log_ctx){			\
		.mount_id = (mount), .rule = (rule_path),		\
		.file = __FILE__, .line = __LINE__, .func = __func__ },	\
		__VA_ARGS__)

#endif /* RWLD_LOG_H */
