/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client of the "rwlayer" generic netlink family (see <linux/rwlayer.h>).
 *
 * Every function that talks to the kernel returns 0 or a negative errno.
 * When the kernel refused a request with an extended ACK message, that
 * message is kept until the next request and rwl_nl_extack() returns it:
 * callers print "<what>: <strerror(-err)>: <extack>".
 *
 * Replies are validated attribute by attribute (type and length); a reply
 * that does not match the contract fails with -EPROTO.
 *
 * A handle that joined the events group (rwl_nl_subscribe_events) should
 * only be used for rwl_nl_recv_events: open a second handle for requests,
 * or multicast messages and replies would interleave.
 */
#ifndef RWL_NL_H
#define RWL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/rwlayer.h>

struct rwl_nl;

/* One union mount, from GET_MOUNT.  Strings are owned; NULL when absent. */
struct rwl_nl_mount {
	uint32_t id;
	uint32_t dev_major, dev_minor;
	char **lowers;			/* topmost first */
	size_t num_lowers;
	char *upper;			/* NULL: read-only mount */
	char *work;
	char *options;
	bool read_only;
	uint32_t num_rules;
};

struct rwl_nl_mount_list {
	struct rwl_nl_mount *mounts;
	size_t num;
};

/*
 * One rule, from GET_RULE, and the request of ADD_RULE.  Counters are 0
 * when the kernel did not send them.  @path is owned (malloc'ed) in
 * replies; for requests any pointer will do.
 */
struct rwl_nl_rule {
	uint32_t mount_id;
	char *path;			/* absolute inside the mount */
	enum rwlayer_rule_kind kind;
	uint64_t max_bytes;		/* 0: no limit */
	uint64_t max_inodes;		/* 0: no limit */
	uint8_t warn;			/* percent, 0: not set */
	bool has_mode, has_uid, has_gid;
	uint16_t mode;
	uint32_t uid, gid;
	/* usage, in replies only */
	uint64_t bytes, inodes;
	uint64_t copy_ups, copy_up_bytes;
	uint64_t whiteouts, errors;
	uint32_t open_files;
};

struct rwl_nl_rule_list {
	struct rwl_nl_rule *rules;
	size_t num;
};

/* SET_RULE: only the members whose set_* is true are sent. */
struct rwl_nl_rule_change {
	bool set_max_bytes, set_max_inodes, set_warn;
	uint64_t max_bytes;		/* 0 removes the limit */
	uint64_t max_inodes;
	uint8_t warn;
};

/* GET_VERSION. */
struct rwl_nl_version {
	char *version;			/* owned */
	uint64_t features;		/* RWLAYER_FEATURE_* */
	uint32_t max_rules;
};

/*
 * One multicast event.  Strings are owned, NULL when absent; has_* say
 * which of the optional numbers were present.
 */
struct rwl_nl_event {
	enum rwlayer_event event;
	uint32_t mount_id;
	char *rule_path;
	char *path;
	bool has_errno, has_percent, has_limit, has_dev;
	bool has_bytes, has_inodes, has_max_bytes, has_max_inodes;
	uint32_t err;			/* positive errno */
	uint8_t percent;
	enum rwlayer_limit limit;
	uint32_t dev_major, dev_minor;
	uint64_t bytes, inodes, max_bytes, max_inodes;
};

/*
 * Open a generic netlink socket with NETLINK_EXT_ACK set and resolve the
 * family and its events group.  Returns 0 and *nlp, or -errno; -ENOENT
 * means the family does not exist (the module is not loaded).
 */
int rwl_nl_open(struct rwl_nl **nlp);

/* Where sysfs shows the module while it is loaded. */
#define RWL_NL_SYSFS_MODULE "/sys/module/rwlayer"

/*
 * Why rwl_nl_open found no family (-ENOENT), for messages: the module is
 * not loaded, or it is (@sysfs_module exists) and this process is in a
 * network namespace other than the initial one, where the family does
 * not exist.
 */
const char *rwl_nl_missing_family_reason(const char *sysfs_module);

/* Close the socket and free the handle; NULL is fine. */
void rwl_nl_close(struct rwl_nl *nl);

/* The socket's descriptor, for poll(2). */
int rwl_nl_fd(const struct rwl_nl *nl);

/* The kernel's extack message for the last failed request, or NULL. */
const char *rwl_nl_extack(const struct rwl_nl *nl);

/* GET_VERSION.  Free with rwl_nl_version_free. */
int rwl_nl_get_version(struct rwl_nl *nl, struct rwl_nl_version *version);
void rwl_nl_version_free(struct rwl_nl_version *version);

/* GET_MOUNT dump: every mount.  Free with rwl_nl_mount_list_free. */
int rwl_nl_get_mounts(struct rwl_nl *nl, struct rwl_nl_mount_list *list);

/* GET_MOUNT of @mount_id.  Free with rwl_nl_mount_free. */
int rwl_nl_get_mount(struct rwl_nl *nl, uint32_t mount_id,
		     struct rwl_nl_mount *mount);

/* GET_RULE dump of one mount, sorted by path.  Free with ..._list_free. */
int rwl_nl_get_rules(struct rwl_nl *nl, uint32_t mount_id,
		     struct rwl_nl_rule_list *list);

/* GET_RULE of @path in @mount_id (-ENOENT: no such rule). */
int rwl_nl_get_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		    struct rwl_nl_rule *rule);

/*
 * ADD_RULE from @rule: mount_id, path, kind, the limits that are non-zero,
 * mode/uid/gid where has_* is set.  -EEXIST: the path has a rule already.
 */
int rwl_nl_add_rule(struct rwl_nl *nl, const struct rwl_nl_rule *rule);

/* DEL_RULE (-ENOENT: no such rule). */
int rwl_nl_del_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path);

/* SET_RULE with the members of @change that are marked set. */
int rwl_nl_set_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		    const struct rwl_nl_rule_change *change);

/* RESET_RULE; -EBUSY while files are open inside unless @force. */
int rwl_nl_reset_rule(struct rwl_nl *nl, uint32_t mount_id, const char *path,
		      bool force);

/*
 * Join the "events" multicast group (needs CAP_SYS_ADMIN: -EPERM).
 * -ENOENT when the family has no such group.
 */
int rwl_nl_subscribe_events(struct rwl_nl *nl);

/*
 * Wait for one datagram on a subscribed handle and call @fn for each event
 * in it; @event is freed after @fn returns (copy what you keep).  A
 * non-zero return from @fn stops and is returned.  Returns 0, -EINTR when
 * a signal came first, or -ENOBUFS when the socket overflowed and events
 * were lost: the caller must resynchronize with GET_MOUNT/GET_RULE dumps
 * (the handle stays usable).  Malformed events are skipped.
 */
typedef int (*rwl_nl_event_fn)(const struct rwl_nl_event *event, void *data);
int rwl_nl_recv_events(struct rwl_nl *nl, rwl_nl_event_fn fn, void *data);

/* "threshold", "rule-added", ...; "unknown" for values we do not know. */
const char *rwl_nl_event_name(enum rwlayer_event event);

/* "union", "empty", "file"; NULL for anything else. */
const char *rwl_nl_kind_name(enum rwlayer_rule_kind kind);

/* The kind named @name, or 0. */
enum rwlayer_rule_kind rwl_nl_kind_from_name(const char *name);

void rwl_nl_mount_free(struct rwl_nl_mount *mount);
void rwl_nl_mount_list_free(struct rwl_nl_mount_list *list);
void rwl_nl_rule_free(struct rwl_nl_rule *rule);
void rwl_nl_rule_list_free(struct rwl_nl_rule_list *list);
void rwl_nl_event_free(struct rwl_nl_event *event);

/*
 * Parsers of one genetlink message (nlmsghdr + genlmsghdr + attributes),
 * exposed for the unit tests.  Each returns 0, or -EPROTO for a message
 * with a missing required attribute or one of the wrong type or size
 * (the output is then left empty), or -ENOMEM.
 */
int rwl_nl_parse_version(const struct nlmsghdr *nlh,
			 struct rwl_nl_version *version);
int rwl_nl_parse_mount(const struct nlmsghdr *nlh, struct rwl_nl_mount *mount);
int rwl_nl_parse_rule(const struct nlmsghdr *nlh, struct rwl_nl_rule *rule);
int rwl_nl_parse_event(const struct nlmsghdr *nlh, struct rwl_nl_event *event);

/*
 * An NLMSG_ERROR message: returns its error (0 for an ACK, else -errno)
 * and sets *@extack to a copy of NLMSGERR_ATTR_MSG (NULL when absent).
 * -EPROTO for a truncated message.
 */
int rwl_nl_parse_error(const struct nlmsghdr *nlh, char **extack);

#endif /* RWL_NL_H */
