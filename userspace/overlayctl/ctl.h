/* SPDX-License-Identifier: GPL-2.0 */
/*
 * overlayctl(8): shared state and helpers of the subcommands.
 */
#ifndef RWL_CTL_H
#define RWL_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "mounts.h"
#include "nl.h"

#ifndef RWL_VERSION
#define RWL_VERSION "0.1.0"
#endif

#define CTL_PROG "overlayctl"

/* Exit codes; see overlayctl(8), EXIT STATUS. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1,		/* usage, kernel, or system error */
	CTL_EXIT_NO_MOUNT = 2,		/* no rwlayer mount (at PATH) */
	CTL_EXIT_READ_ONLY = 3,		/* a mount has no upper layer */
	CTL_EXIT_WARN = 4,		/* a rule at or over its warning level */
};

/* Global options, set before a command runs. */
struct ctl_opts {
	bool json;
	bool pretty;
};

extern struct ctl_opts ctl_opts;

/* One subcommand: argv[0] is its name. */
struct ctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;		/* arguments, after the name */
	const char *help;		/* one line */
};

/* A mount as overlayctl sees it: the kernel's view and where it is. */
struct ctl_mounts {
	struct rwl_nl_mount_list kernel;
	struct rwl_mountinfo_list local;
};

/* "overlayctl: " + message + newline, on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A failed kernel request: "overlayctl: WHAT: strerror[: extack]", with a
 * hint for EPERM.  @nl may be NULL.
 */
void ctl_nl_err(const struct rwl_nl *nl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* rwl_nl_open with the messages for a missing module; 0 or -errno. */
int ctl_nl_open(struct rwl_nl **nl);

/* Both views of the mounts; 0 or -errno (already reported). */
int ctl_mounts_load(struct rwl_nl *nl, struct ctl_mounts *mounts);
void ctl_mounts_free(struct ctl_mounts *mounts);

/* Where a kernel mount is; NULL when not in this mount namespace. */
const char *ctl_mountpoint(const struct ctl_mounts *mounts,
			   const struct rwl_nl_mount *mount);

/*
 * The mount that holds system path @path, and the path inside it in
 * *@inner (malloc'ed).  Reports and returns NULL when there is none.
 */
const struct rwl_nl_mount *ctl_find_path(const struct ctl_mounts *mounts,
					 const char *path, char **inner);

/* The system path of @inner in a mount at @mountpoint (malloc'ed). */
char *ctl_system_path(const char *mountpoint, const char *inner);

/* Whether argv[i] is -j/--json or -p/--pretty, which any command takes. */
bool ctl_global_opt(const char *arg);

void ctl_usage_of(const char *name);

/* A rule is at or over warn= (90% without one) of a limit it has. */
bool ctl_rule_over_warn(const struct rwl_nl_rule *rule);

/* A rule as a JSON object (sizes in bytes, mode as a number). */
void ctl_json_rule(struct rwl_json *j, const struct rwl_nl_rule *rule);

int ctl_cmd_status(int argc, char **argv);
int ctl_cmd_list(int argc, char **argv);
int ctl_cmd_rule(int argc, char **argv);
int ctl_cmd_reset(int argc, char **argv);
int ctl_cmd_diff(int argc, char **argv);
int ctl_cmd_monitor(int argc, char **argv);
int ctl_cmd_apply(int argc, char **argv);
int ctl_cmd_check(int argc, char **argv);
int ctl_cmd_version(int argc, char **argv);

#endif /* RWL_CTL_H */
