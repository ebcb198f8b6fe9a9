/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /etc/overlaytab: parsing and validation.  See overlaytab(5).
 *
 * A table is read whole (the file, then /etc/overlaytab.d/ *.conf in name
 * order) and either every line is valid or the caller gets the diagnostics
 * and no table: nothing is ever applied from a file with an error.
 */
#ifndef RWL_TAB_H
#define RWL_TAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/rwlayer.h>

/* The module's limit on rules per mount (kmod/rwlayer.rst: rule=). */
#define RWL_TAB_MAX_RULES	64
/* The module stacks at most 32 lowers; the root itself is one of them. */
#define RWL_TAB_MAX_LOWERS	31
/* Longest line, without its newline. */
#define RWL_TAB_MAX_LINE	4096
/* Longest file read by rwl_tab_load(). */
#define RWL_TAB_MAX_FILE	(1024 * 1024)
/* Messages kept before one "too many errors" ends the list. */
#define RWL_TAB_MAX_ERRORS	50

/* Values for ${hostname}, ${mac} and ${ip}; NULL: the variable is unset. */
struct rwl_tab_vars {
	const char *hostname;
	const char *mac;		/* aa:bb:cc:dd:ee:ff of the boot interface */
	const char *ip;			/* its IPv4 address, dotted */
};

/* One rule line: PATH KIND [OPTIONS]. */
struct rwl_tab_rule {
	char *path;			/* absolute, normalized ("/var") */
	enum rwlayer_rule_kind kind;
	uint64_t max_bytes;		/* size=, 0: no limit */
	uint64_t max_inodes;		/* inodes=, 0: no limit */
	unsigned int warn;		/* warn=N%, 0: not set */
	bool has_mode, has_uid, has_gid;
	mode_t mode;			/* mode=, octal */
	uid_t uid;			/* uid=, number or user name */
	gid_t gid;
	char *file;			/* where it was written, for messages */
	unsigned int line;
	unsigned int column;		/* of PATH, 1-based */
};

/*
 * Mount-wide directives (lines starting with '@'):
 *   @mount DIR            the union's mount point (default "/")
 *   @lower DIR            a lower above DIR's own content, topmost first
 *   @upper tmpfs [size=]  or @upper DEVICE [fstype=T]
 */
struct rwl_tab_mount {
	char *target;			/* "/" unless @mount */
	char **lowers;			/* extra lowers, topmost first */
	size_t num_lowers;
	char *upper;			/* "tmpfs" (default) or a device path */
	char *upper_fstype;		/* for a device; NULL: let mount(2) probe */
	uint64_t upper_size;		/* tmpfs size=, 0: tmpfs' default */
};

struct rwl_tab {
	struct rwl_tab_mount mount;
	struct rwl_tab_rule *rules;	/* sorted by path */
	size_t num_rules;
};

/* Diagnostics, each "file:line:col: message". */
struct rwl_tab_diag {
	char **msgs;
	size_t num;
};

/*
 * Parse @len bytes of @buf, named @name in messages, into @tab.  Returns 0,
 * or -1 with at least one message in @diag and @tab left empty.  @tab and
 * @diag are overwritten, not freed: pass empty or freed ones.  Rule paths
 * are system paths under tab->mount.target; rwl_tab_mount_path() gives a
 * rule's path inside the mount, as the netlink family wants it.
 */
int rwl_tab_parse_buf(const char *name, const char *buf, size_t len,
		      const struct rwl_tab_vars *vars, struct rwl_tab *tab,
		      struct rwl_tab_diag *diag);

/* @path and, if it exists, @path.d/ *.conf; same contract. */
int rwl_tab_load(const char *path, const struct rwl_tab_vars *vars,
		 struct rwl_tab *tab, struct rwl_tab_diag *diag);

/* The rule for exactly @path, or NULL. */
const struct rwl_tab_rule *rwl_tab_find(const struct rwl_tab *tab,
					const char *path);

/* @rule's path inside the union mount: "/var" for "/sysroot/var". */
const char *rwl_tab_mount_path(const struct rwl_tab *tab,
			       const struct rwl_tab_rule *rule);

void rwl_tab_free(struct rwl_tab *tab);
void rwl_tab_diag_free(struct rwl_tab_diag *diag);

#endif /* RWL_TAB_H */
