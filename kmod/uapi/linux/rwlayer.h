/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rwlayer: the generic netlink family "rwlayer".
 *
 * Shared by the module and by userspace (installed as <linux/rwlayer.h>).
 * kmod/uapi/rwlayer.yaml describes the same family in the style of the
 * kernel's Documentation/netlink/specs; keep the two in step.
 *
 * The family exists in the initial network namespace only.  Reading
 * (GET_*) is open to every user there; every change needs CAP_SYS_ADMIN in
 * the initial user namespace, and so does joining the events group.
 *
 * Paths in requests and replies are inside the union mount: "/" is the
 * mount's root, "/var" the var directory under it.  Mounts are named by
 * RWLAYER_A_MOUNT_ID, which the module hands out and never reuses while
 * it is loaded; RWLAYER_A_DEV_MAJOR/MINOR match st_dev and the "M:m" of
 * /proc/self/mountinfo, which is how a tool finds where a mount is.
 */
#ifndef _UAPI_LINUX_RWLAYER_H
#define _UAPI_LINUX_RWLAYER_H

#define RWLAYER_GENL_NAME		"rwlayer"
#define RWLAYER_GENL_VERSION		1
#define RWLAYER_MCGRP_EVENTS		"events"

/* Longest path attribute accepted, NUL included (PATH_MAX). */
#define RWLAYER_PATH_MAX		4096

enum rwlayer_cmd {
	RWLAYER_CMD_UNSPEC,
	RWLAYER_CMD_GET_VERSION,	/* do: VERSION, FEATURES, limits */
	RWLAYER_CMD_GET_MOUNT,		/* dump, or do with MOUNT_ID */
	RWLAYER_CMD_GET_RULE,		/* dump with MOUNT_ID, or do + RULE_PATH */
	RWLAYER_CMD_ADD_RULE,		/* MOUNT_ID, RULE_PATH, RULE_KIND, [limits] */
	RWLAYER_CMD_DEL_RULE,		/* MOUNT_ID, RULE_PATH */
	RWLAYER_CMD_SET_RULE,		/* MOUNT_ID, RULE_PATH, limits to change */
	RWLAYER_CMD_RESET_RULE,		/* MOUNT_ID, RULE_PATH, [FORCE] */
	RWLAYER_CMD_EVENT,		/* multicast only: EVENT + details */

	__RWLAYER_CMD_MAX,
	RWLAYER_CMD_MAX = __RWLAYER_CMD_MAX - 1
};

enum rwlayer_rule_kind {
	RWLAYER_RULE_UNION = 1,		/* writable over the lowers' content */
	RWLAYER_RULE_EMPTY,		/* writable, starts as an empty directory */
	RWLAYER_RULE_FILE,		/* one writable file */
};

enum rwlayer_event {
	RWLAYER_EVENT_THRESHOLD = 1,	/* usage crossed EVENT_PERCENT upwards */
	RWLAYER_EVENT_COPY_UP_FAILED,	/* ERRNO, PATH */
	RWLAYER_EVENT_LOWER_STALE,	/* a lower answered ESTALE: PATH */
	RWLAYER_EVENT_RULE_ADDED,
	RWLAYER_EVENT_RULE_REMOVED,
	RWLAYER_EVENT_RULE_CHANGED,
	RWLAYER_EVENT_RULE_RESET,
	RWLAYER_EVENT_MOUNT,
	RWLAYER_EVENT_UNMOUNT,
};

/* RWLAYER_A_EVENT_LIMIT: which limit a THRESHOLD event is about. */
enum rwlayer_limit {
	RWLAYER_LIMIT_BYTES = 1,
	RWLAYER_LIMIT_INODES,
};

/* RWLAYER_A_FEATURES bits. */
#define RWLAYER_FEATURE_RUNTIME_RULES	(1ULL << 0)
#define RWLAYER_FEATURE_RESET		(1ULL << 1)
#define RWLAYER_FEATURE_THRESHOLDS	(1ULL << 2)
#define RWLAYER_FEATURE_EVENTS		(1ULL << 3)
#define RWLAYER_FEATURE_EMPTY_DIR_OWNER	(1ULL << 4)

enum rwlayer_attr {
	RWLAYER_A_UNSPEC,
	RWLAYER_A_PAD,
	RWLAYER_A_VERSION,		/* string: the module's version */
	RWLAYER_A_FEATURES,		/* u64: RWLAYER_FEATURE_* */
	RWLAYER_A_MAX_RULES,		/* u32: rules per mount */
	RWLAYER_A_MOUNT_ID,		/* u32 */
	RWLAYER_A_DEV_MAJOR,		/* u32: st_dev of the union */
	RWLAYER_A_DEV_MINOR,		/* u32 */
	RWLAYER_A_LOWERS,		/* nest of LOWER, topmost first */
	RWLAYER_A_LOWER,		/* string: a lower directory as given */
	RWLAYER_A_UPPER,		/* string: upper= as given */
	RWLAYER_A_WORK,			/* string: work= as given */
	RWLAYER_A_OPTIONS,		/* string: as in /proc/self/mountinfo */
	RWLAYER_A_READ_ONLY,		/* flag: no upper layer */
	RWLAYER_A_NUM_RULES,		/* u32 */
	RWLAYER_A_RULE_PATH,		/* string, absolute inside the mount */
	RWLAYER_A_RULE_KIND,		/* u8: enum rwlayer_rule_kind */
	RWLAYER_A_RULE_MAX_BYTES,	/* u64: 0 = no limit */
	RWLAYER_A_RULE_MAX_INODES,	/* u64: 0 = no limit */
	RWLAYER_A_RULE_WARN,		/* u8: percent 1..100, 0 = only 100% */
	RWLAYER_A_RULE_MODE,		/* u16: empty rule's new directory */
	RWLAYER_A_RULE_UID,		/* u32: ditto, in the initial user ns */
	RWLAYER_A_RULE_GID,		/* u32 */
	RWLAYER_A_RULE_BYTES,		/* u64: used (4 KiB per started page) */
	RWLAYER_A_RULE_INODES,		/* u64: used */
	RWLAYER_A_RULE_COPY_UPS,	/* u64 */
	RWLAYER_A_RULE_COPY_UP_BYTES,	/* u64 */
	RWLAYER_A_RULE_WHITEOUTS,	/* u64: made since the mount */
	RWLAYER_A_RULE_ERRORS,		/* u64: refused (limit) or failed writes */
	RWLAYER_A_RULE_OPEN_FILES,	/* u32: open files inside the rule */
	RWLAYER_A_FORCE,		/* flag: RESET_RULE even with open files */
	RWLAYER_A_EVENT,		/* u32: enum rwlayer_event */
	RWLAYER_A_EVENT_PERCENT,	/* u8: the threshold crossed */
	RWLAYER_A_EVENT_LIMIT,		/* u8: enum rwlayer_limit */
	RWLAYER_A_ERRNO,		/* u32: positive errno */
	RWLAYER_A_PATH,			/* string: where an event happened */

	__RWLAYER_A_MAX,
	RWLAYER_A_MAX = __RWLAYER_A_MAX - 1
};

#endif /* _UAPI_LINUX_RWLAYER_H */
