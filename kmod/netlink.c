// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "rwlayer": mounts and rules for tools
 * (overlayctl, rwlayerd), run-time rule changes, and events.
 *
 * The family lives in the initial network namespace only (netnsok is
 * off): the layers belong to the machine, not to a container.  Reading
 * is open to every user, as /proc/self/mountinfo and statfs are; changes
 * and the events group need CAP_SYS_ADMIN in the initial user namespace,
 * checked per request so that a process with the capability only in its
 * own user namespace gets EPERM.
 *
 * Mounts are found by an id handed out at mount time.  rwl_mounts_lock
 * keeps a superblock from going (rwl_mount_unregister() is the first
 * thing its kill_sb does) while a read of the mount works on it; a
 * request that needs the mount's rules_lock holds an active reference
 * instead, so that a long reset blocks no other mount.
 */
#include <linux/capability.h>
#include <linux/kdev_t.h>
#include <net/genetlink.h>

#include "rwlayer.h"

/*
 * The largest reply (a mount with many long rules in its options), and
 * an event's room: a rule path and a path of up to PATH_MAX each.
 */
#define RWL_NL_MAX_MSG		(64 * 1024)
#define RWL_NL_EVENT_SIZE	(2 * nla_total_size(PATH_MAX) + 256)

static DEFINE_MUTEX(rwl_mounts_lock);
static LIST_HEAD(rwl_mounts);
static u32 rwl_next_mount_id = 1;

static struct genl_family rwl_genl_family;

enum rwl_mcgrp {
	RWL_MCGRP_EVENTS,
};

static const struct genl_multicast_group rwl_mcgrps[] = {
	[RWL_MCGRP_EVENTS] = {
		.name = RWLAYER_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_SYS_ADMIN,
	},
};

static const u8 rwl_uapi_kind[] = {
	[RWL_RULE_UNION] = RWLAYER_RULE_UNION,
	[RWL_RULE_EMPTY] = RWLAYER_RULE_EMPTY,
	[RWL_RULE_FILE] = RWLAYER_RULE_FILE,
};

/*
 * netlink_capable(): the opener of the socket must have the capability
 * too, so that a privileged program fed a socket by an unprivileged one
 * is not a way around it.
 */
static bool rwl_nl_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return true;
	NL_SET_ERR_MSG(info->extack,
		       "changing rwlayer rules needs CAP_SYS_ADMIN in the initial user namespace");
	return false;
}

/* NL_SET_ERR_MSG() wants a literal; these messages are static strings too. */
static void rwl_nl_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

static bool rwl_nl_require(struct genl_info *info, int type, const char *msg)
{
	if (info->attrs[type])
		return true;
	NL_SET_ERR_ATTR_MISS(info->extack, NULL, type);
	rwl_nl_msg(info->extack, msg);
	return false;
}

/* The mount named by RWLAYER_A_MOUNT_ID; the caller holds rwl_mounts_lock. */
static struct rwl_fs *rwl_nl_mount(struct nlattr **attrs,
				   struct netlink_ext_ack *extack)
{
	struct nlattr *attr = attrs[RWLAYER_A_MOUNT_ID];
	struct rwl_fs *ofs;
	u32 id;

	if (!attr) {
		NL_SET_ERR_ATTR_MISS(extack, NULL, RWLAYER_A_MOUNT_ID);
		NL_SET_ERR_MSG(extack, "missing mount id (RWLAYER_A_MOUNT_ID)");
		return ERR_PTR(-EINVAL);
	}
	id = nla_get_u32(attr);
	list_for_each_entry(ofs, &rwl_mounts, mounts_link) {
		if (ofs->id == id)
			return ofs;
	}
	NL_SET_ERR_MSG_ATTR(extack, attr, "no rwlayer mount has this id");
	return ERR_PTR(-ENOENT);
}

/* RWLAYER_A_RULE_PATH, checked like rule= at mount time. */
static const char *rwl_nl_rule_path(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[RWLAYER_A_RULE_PATH];
	const char *problem;

	if (!rwl_nl_require(info, RWLAYER_A_RULE_PATH,
			    "missing rule path (RWLAYER_A_RULE_PATH)"))
		return NULL;
	problem = rwl_rule_path_problem(nla_data(attr));
	if (problem) {
		NL_SET_BAD_ATTR(info->extack, attr);
		rwl_nl_msg(info->extack, problem);
		return NULL;
	}
	return nla_data(attr);
}

static int rwl_put_rule_path(struct sk_buff *skb, const struct rwl_rule *rule)
{
	int err;

	rcu_read_lock();
	err = nla_put_string(skb, RWLAYER_A_RULE_PATH,
			     rcu_dereference(rule->path));
	rcu_read_unlock();
	return err;
}

static int rwl_put_u64(struct sk_buff *skb, int type, u64 value)
{
	return nla_put_u64_64bit(skb, type, value, RWLAYER_A_PAD);
}

/* A rule's attributes; events carry the mount id already. */
static int rwl_fill_rule_attrs(struct sk_buff *skb, const struct rwl_rule *rule)
{
	const struct rwl_dir_owner *owner = &rule->owner;

	if (rwl_put_rule_path(skb, rule) ||
	    nla_put_u8(skb, RWLAYER_A_RULE_KIND, rwl_uapi_kind[rule->kind]) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_MAX_BYTES,
			READ_ONCE(rule->max_bytes)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_MAX_INODES,
			READ_ONCE(rule->max_inodes)) ||
	    nla_put_u8(skb, RWLAYER_A_RULE_WARN, READ_ONCE(rule->warn)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_BYTES,
			atomic64_read(&rule->bytes)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_INODES,
			atomic64_read(&rule->inodes)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_COPY_UPS,
			atomic64_read(&rule->copy_ups)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_COPY_UP_BYTES,
			atomic64_read(&rule->copy_up_bytes)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_WHITEOUTS,
			atomic64_read(&rule->whiteouts)) ||
	    rwl_put_u64(skb, RWLAYER_A_RULE_ERRORS,
			atomic64_read(&rule->errors)) ||
	    nla_put_u32(skb, RWLAYER_A_RULE_OPEN_FILES,
			atomic_read(&rule->open_files)))
		return -EMSGSIZE;
	if (owner->has_mode &&
	    nla_put_u16(skb, RWLAYER_A_RULE_MODE, owner->mode))
		return -EMSGSIZE;
	if (owner->has_uid &&
	    nla_put_u32(skb, RWLAYER_A_RULE_UID,
			from_kuid(&init_user_ns, owner->uid)))
		return -EMSGSIZE;
	if (owner->has_gid &&
	    nla_put_u32(skb, RWLAYER_A_RULE_GID,
			from_kgid(&init_user_ns, owner->gid)))
		return -EMSGSIZE;
	return 0;
}

static int rwl_fill_rule(struct sk_buff *skb, const struct rwl_fs *ofs,
			 const struct rwl_rule *rule)
{
	if (nla_put_u32(skb, RWLAYER_A_MOUNT_ID, ofs->id))
		return -EMSGSIZE;
	return rwl_fill_rule_attrs(skb, rule);
}

static unsigned int rwl_active_rules(struct rwl_fs *ofs)
{
	unsigned int i, n = 0;

	for (i = 0; i < RWL_MAX_RULES; i++)
		n += ofs->rules[i] && ofs->rules[i]->active;
	return n;
}

/*
 * The options as /proc/self/mountinfo shows them, without the leading
 * ','; as much room as the message has left, at most RWL_NL_MAX_MSG.
 */
static int rwl_put_options(struct sk_buff *skb, struct rwl_fs *ofs)
{
	struct seq_file m = {};
	int err;

	m.size = min_t(size_t, skb_tailroom(skb), RWL_NL_MAX_MSG);
	if (m.size <= NLA_HDRLEN)
		return -EMSGSIZE;
	m.buf = kvmalloc(m.size, GFP_KERNEL);
	if (!m.buf)
		return -ENOMEM;
	seq_show_option(&m, "lower", ofs->lower_spec);
	if (ofs->upper.mnt) {
		seq_show_option(&m, "upper", ofs->upper_spec);
		seq_show_option(&m, "work", ofs->work_spec);
		rwl_show_rules(&m, ofs);
	}
	err = -EMSGSIZE;
	if (!seq_has_overflowed(&m) && m.count < m.size) {
		m.buf[m.count] = '\0';
		err = nla_put_string(skb, RWLAYER_A_OPTIONS,
				     m.count ? m.buf + 1 : m.buf);
	}
	kvfree(m.buf);
	return err;
}

static int rwl_put_lowers(struct sk_buff *skb, struct rwl_fs *ofs)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, RWLAYER_A_LOWERS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ofs->num_lower; i++) {
		if (nla_put_string(skb, RWLAYER_A_LOWER, ofs->layers[i].name)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int rwl_fill_mount(struct sk_buff *skb, struct rwl_fs *ofs)
{
	dev_t dev = ofs->sb->s_dev;
	int err;

	if (nla_put_u32(skb, RWLAYER_A_MOUNT_ID, ofs->id) ||
	    nla_put_u32(skb, RWLAYER_A_DEV_MAJOR, MAJOR(dev)) ||
	    nla_put_u32(skb, RWLAYER_A_DEV_MINOR, MINOR(dev)))
		return -EMSGSIZE;
	err = rwl_put_lowers(skb, ofs);
	if (err)
		return err;
	if (!ofs->upper.mnt) {
		if (nla_put_flag(skb, RWLAYER_A_READ_ONLY))
			return -EMSGSIZE;
	} else if (nla_put_string(skb, RWLAYER_A_UPPER, ofs->upper_spec) ||
		   nla_put_string(skb, RWLAYER_A_WORK, ofs->work_spec)) {
		return -EMSGSIZE;
	}
	mutex_lock(&ofs->rules_lock);
	err = nla_put_u32(skb, RWLAYER_A_NUM_RULES, rwl_active_rules(ofs));
	mutex_unlock(&ofs->rules_lock);
	return err ?: rwl_put_options(skb, ofs);
}

typedef int (*rwl_fill_fn)(struct sk_buff *skb, struct rwl_fs *ofs,
			   const void *arg);

static int rwl_fill_mount_msg(struct sk_buff *skb, struct rwl_fs *ofs,
			      const void *arg)
{
	return rwl_fill_mount(skb, ofs);
}

static int rwl_fill_rule_msg(struct sk_buff *skb, struct rwl_fs *ofs,
			     const void *arg)
{
	return rwl_fill_rule(skb, ofs, arg);
}

/*
 * Answer a "do" request with one message built by @fill: in a page
 * first, in a larger buffer when long paths or many rules need it.
 */
static int rwl_nl_reply(struct genl_info *info, u8 cmd, rwl_fill_fn fill,
			struct rwl_fs *ofs, const void *arg)
{
	size_t size = NLMSG_GOODSIZE;
	struct sk_buff *skb;
	void *hdr;
	int err;

	for (;;) {
		skb = genlmsg_new(size, GFP_KERNEL);
		if (!skb)
			return -ENOMEM;
		hdr = genlmsg_put_reply(skb, info, &rwl_genl_family, 0, cmd);
		err = hdr ? fill(skb, ofs, arg) : -EMSGSIZE;
		if (!err)
			break;
		nlmsg_free(skb);
		if (err != -EMSGSIZE || size >= RWL_NL_MAX_MSG)
			return err;
		size = RWL_NL_MAX_MSG;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static int rwl_nl_get_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &rwl_genl_family, 0,
				RWLAYER_CMD_GET_VERSION);
	if (!hdr ||
	    nla_put_string(msg, RWLAYER_A_VERSION, RWLAYER_VERSION) ||
	    rwl_put_u64(msg, RWLAYER_A_FEATURES,
			RWLAYER_FEATURE_RUNTIME_RULES | RWLAYER_FEATURE_RESET |
			RWLAYER_FEATURE_THRESHOLDS | RWLAYER_FEATURE_EVENTS |
			RWLAYER_FEATURE_EMPTY_DIR_OWNER) ||
	    nla_put_u32(msg, RWLAYER_A_MAX_RULES, RWL_MAX_RULES)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int rwl_nl_get_mount(struct sk_buff *skb, struct genl_info *info)
{
	struct rwl_fs *ofs;
	int err;

	mutex_lock(&rwl_mounts_lock);
	ofs = rwl_nl_mount(info->attrs, info->extack);
	err = PTR_ERR_OR_ZERO(ofs);
	if (!err)
		err = rwl_nl_reply(info, RWLAYER_CMD_GET_MOUNT,
				   rwl_fill_mount_msg, ofs, NULL);
	mutex_unlock(&rwl_mounts_lock);
	return err;
}

/* Dumps resume from cb->args[0]: the last mount id or rule slot sent. */
static int rwl_nl_dump_mounts(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct rwl_fs *ofs;
	void *hdr;
	int err = 0;

	mutex_lock(&rwl_mounts_lock);
	list_for_each_entry(ofs, &rwl_mounts, mounts_link) {
		if (ofs->id <= cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &rwl_genl_family,
				  NLM_F_MULTI, RWLAYER_CMD_GET_MOUNT);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		err = rwl_fill_mount(skb, ofs);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = ofs->id;
	}
	mutex_unlock(&rwl_mounts_lock);
	/* A full skb ends this round; the next one picks up after it. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* The rule at the request's RULE_PATH; NULL (ENOENT) with the reason. */
static struct rwl_rule *rwl_nl_rule(struct rwl_fs *ofs, const char *path,
				    struct genl_info *info)
{
	struct rwl_rule *rule = rwl_rule_find(ofs, path);

	if (!rule)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RWLAYER_A_RULE_PATH],
				    "no rule for that path");
	return rule;
}

/*
 * The mount a request names, with an active reference (rwl_nl_put())
 * instead of rwl_mounts_lock: whoever then waits for its rules_lock
 * behind a long reset holds up no request for another mount, and no
 * mount or unmount.
 */
static struct rwl_fs *rwl_nl_get_target(struct nlattr **attrs,
					struct netlink_ext_ack *extack)
{
	struct rwl_fs *ofs;

	mutex_lock(&rwl_mounts_lock);
	ofs = rwl_nl_mount(attrs, extack);
	if (!IS_ERR(ofs) && !atomic_inc_not_zero(&ofs->sb->s_active)) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[RWLAYER_A_MOUNT_ID],
				    "the mount is going away");
		ofs = ERR_PTR(-ENOENT);
	}
	mutex_unlock(&rwl_mounts_lock);
	return ofs;
}

static void rwl_nl_put(struct rwl_fs *ofs)
{
	deactivate_super(ofs->sb);
}

static int rwl_nl_get_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct rwl_rule *rule;
	struct rwl_fs *ofs;
	const char *path;
	int err;

	ofs = rwl_nl_get_target(info->attrs, info->extack);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	err = -EINVAL;
	path = rwl_nl_rule_path(info);
	if (!path)
		goto out;
	mutex_lock(&ofs->rules_lock);
	rule = rwl_nl_rule(ofs, path, info);
	err = -ENOENT;
	if (rule)
		err = rwl_nl_reply(info, RWLAYER_CMD_GET_RULE,
				   rwl_fill_rule_msg, ofs, rule);
	mutex_unlock(&ofs->rules_lock);
out:
	rwl_nl_put(ofs);
	return err;
}

static int rwl_nl_dump_rules(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = rwl_genl_dump_attrs(cb);
	struct rwl_rule *rule;
	struct rwl_fs *ofs;
	unsigned int i;
	void *hdr;
	int err = 0;

	ofs = rwl_nl_get_target(attrs, cb->extack);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	mutex_lock(&ofs->rules_lock);
	/* A table changed between two rounds marks the dump interrupted. */
	cb->seq = ofs->rule_gen + 1;
	for (i = cb->args[0]; i < RWL_MAX_RULES; i++) {
		rule = ofs->rules[i];
		if (!rule || !rule->active)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &rwl_genl_family,
				  NLM_F_MULTI, RWLAYER_CMD_GET_RULE);
		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		err = rwl_fill_rule(skb, ofs, rule);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = i;
	mutex_unlock(&ofs->rules_lock);
	rwl_nl_put(ofs);
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

/* A limit above RWL_LIMIT_MAX could overflow the charges it bounds. */
static bool rwl_nl_limit_ok(struct genl_info *info, int attr)
{
	struct nlattr *nla = info->attrs[attr];

	if (!nla || nla_get_u64(nla) <= RWL_LIMIT_MAX)
		return true;
	NL_SET_ERR_MSG_ATTR(info->extack, nla, "limit above 2^60");
	return false;
}

/* The attributes of ADD_RULE and SET_RULE that are limits. */
static int rwl_nl_limits(struct genl_info *info, u64 *max_bytes,
			 u64 *max_inodes, u8 *warn)
{
	struct nlattr **attrs = info->attrs;

	if (!rwl_nl_limit_ok(info, RWLAYER_A_RULE_MAX_BYTES) ||
	    !rwl_nl_limit_ok(info, RWLAYER_A_RULE_MAX_INODES))
		return -ERANGE;
	if (attrs[RWLAYER_A_RULE_MAX_BYTES])
		*max_bytes = nla_get_u64(attrs[RWLAYER_A_RULE_MAX_BYTES]);
	if (attrs[RWLAYER_A_RULE_MAX_INODES])
		*max_inodes = nla_get_u64(attrs[RWLAYER_A_RULE_MAX_INODES]);
	if (attrs[RWLAYER_A_RULE_WARN])
		*warn = nla_get_u8(attrs[RWLAYER_A_RULE_WARN]);
	return 0;
}

static int rwl_nl_owner(struct genl_info *info, struct rwl_dir_owner *owner)
{
	struct nlattr **attrs = info->attrs;

	if (attrs[RWLAYER_A_RULE_MODE]) {
		owner->has_mode = true;
		owner->mode = nla_get_u16(attrs[RWLAYER_A_RULE_MODE]);
	}
	if (attrs[RWLAYER_A_RULE_UID]) {
		owner->uid = make_kuid(&init_user_ns,
				       nla_get_u32(attrs[RWLAYER_A_RULE_UID]));
		owner->has_uid = true;
		if (!uid_valid(owner->uid)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[RWLAYER_A_RULE_UID],
					    "not a valid uid");
			return -EINVAL;
		}
	}
	if (attrs[RWLAYER_A_RULE_GID]) {
		owner->gid = make_kgid(&init_user_ns,
				       nla_get_u32(attrs[RWLAYER_A_RULE_GID]));
		owner->has_gid = true;
		if (!gid_valid(owner->gid)) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[RWLAYER_A_RULE_GID],
					    "not a valid gid");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Checks every change shares: privilege, a writable mount, a sane path.
 * The mount comes back with an active reference (rwl_nl_get_target()).
 */
static struct rwl_fs *rwl_nl_change_target(struct sk_buff *skb,
					   struct genl_info *info,
					   const char **path)
{
	struct nlattr *id = info->attrs[RWLAYER_A_MOUNT_ID];
	struct rwl_fs *ofs;
	int err = 0;

	if (!rwl_nl_admin(skb, info))
		return ERR_PTR(-EPERM);
	ofs = rwl_nl_get_target(info->attrs, info->extack);
	if (IS_ERR(ofs))
		return ofs;
	if (!ofs->upper.mnt) {
		NL_SET_ERR_MSG_ATTR(info->extack, id,
				    "the mount has no upper layer: it cannot have rules");
		err = -EROFS;
	} else if (sb_rdonly(ofs->sb)) {
		NL_SET_ERR_MSG_ATTR(info->extack, id,
				    "the mount is read-only (remounted ro)");
		err = -EROFS;
	} else {
		*path = rwl_nl_rule_path(info);
		if (!*path)
			err = -EINVAL;
	}
	if (err) {
		rwl_nl_put(ofs);
		return ERR_PTR(err);
	}
	return ofs;
}

static int rwl_nl_add_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct rwl_rule_spec spec = {};
	const char *path;
	struct rwl_fs *ofs;
	int err;

	ofs = rwl_nl_change_target(skb, info, &path);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	err = -EINVAL;
	if (!rwl_nl_require(info, RWLAYER_A_RULE_KIND,
			    "missing rule kind (RWLAYER_A_RULE_KIND)"))
		goto out;
	spec.kind = nla_get_u8(info->attrs[RWLAYER_A_RULE_KIND]) - 1;
	if (!strcmp(path, "/") && spec.kind != RWL_RULE_UNION) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RWLAYER_A_RULE_KIND],
				    "the root can only be a union rule");
		goto out;
	}
	err = rwl_nl_limits(info, &spec.max_bytes, &spec.max_inodes,
			    &spec.warn) ?: rwl_nl_owner(info, &spec.owner);
	if (err)
		goto out;
	err = -EINVAL;
	if (spec.kind != RWL_RULE_EMPTY &&
	    (spec.owner.has_mode || spec.owner.has_uid || spec.owner.has_gid)) {
		NL_SET_ERR_MSG(info->extack,
			       "mode, uid and gid are for the directory of an empty rule");
		goto out;
	}
	err = -ENOMEM;
	spec.path = kstrdup(path, GFP_KERNEL);
	if (!spec.path)
		goto out;
	mutex_lock(&ofs->rules_lock);
	err = rwl_rule_add(ofs, &spec, info->extack);
	mutex_unlock(&ofs->rules_lock);
	kfree(spec.path);	/* NULL once a slot took it */
out:
	rwl_nl_put(ofs);
	return err;
}

static int rwl_nl_del_rule(struct sk_buff *skb, struct genl_info *info)
{
	const char *path;
	struct rwl_fs *ofs;
	int err;

	ofs = rwl_nl_change_target(skb, info, &path);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	mutex_lock(&ofs->rules_lock);
	err = rwl_rule_del(ofs, path, info->extack);
	mutex_unlock(&ofs->rules_lock);
	rwl_nl_put(ofs);
	return err;
}

static int rwl_nl_set_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct rwl_rule *rule;
	const char *path;
	struct rwl_fs *ofs;
	u64 max_bytes, max_inodes;
	bool changed;
	u8 warn;
	int err;

	ofs = rwl_nl_change_target(skb, info, &path);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	mutex_lock(&ofs->rules_lock);
	rule = rwl_nl_rule(ofs, path, info);
	err = -ENOENT;
	if (!rule)
		goto out_unlock;
	err = -EINVAL;
	if (info->attrs[RWLAYER_A_RULE_KIND] &&
	    nla_get_u8(info->attrs[RWLAYER_A_RULE_KIND]) !=
	    rwl_uapi_kind[rule->kind]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RWLAYER_A_RULE_KIND],
				    "a rule's kind cannot change: delete it and add it again");
		goto out_unlock;
	}
	max_bytes = READ_ONCE(rule->max_bytes);
	max_inodes = READ_ONCE(rule->max_inodes);
	warn = READ_ONCE(rule->warn);
	err = rwl_nl_limits(info, &max_bytes, &max_inodes, &warn);
	if (err)
		goto out_unlock;
	changed = max_bytes != rule->max_bytes ||
		  max_inodes != rule->max_inodes || warn != rule->warn;
	/* A lower limit than the usage is allowed: writes fail until then. */
	WRITE_ONCE(rule->max_bytes, max_bytes);
	WRITE_ONCE(rule->max_inodes, max_inodes);
	WRITE_ONCE(rule->warn, warn);
	ofs->rules_implicit = false;
	/* New levels are crossed afresh; unchanged ones were sent already. */
	if (changed)
		rwl_rule_rearm(rule);
	rwl_event_rule(ofs, rule, RWLAYER_EVENT_RULE_CHANGED);
	err = 0;
out_unlock:
	mutex_unlock(&ofs->rules_lock);
	rwl_nl_put(ofs);
	return err;
}

static int rwl_nl_reset_rule(struct sk_buff *skb, struct genl_info *info)
{
	struct rwl_rule *rule;
	const char *path;
	struct rwl_fs *ofs;
	int err;

	ofs = rwl_nl_change_target(skb, info, &path);
	if (IS_ERR(ofs))
		return PTR_ERR(ofs);
	mutex_lock(&ofs->rules_lock);
	rule = rwl_nl_rule(ofs, path, info);
	err = -ENOENT;
	if (rule)
		err = rwl_rule_reset(ofs, rule,
				     nla_get_flag(info->attrs[RWLAYER_A_FORCE]),
				     info->extack);
	mutex_unlock(&ofs->rules_lock);
	rwl_nl_put(ofs);
	return err;
}

#define RWL_PATH_POLICY { .type = NLA_NUL_STRING, .len = RWLAYER_PATH_MAX - 1 }

static const struct nla_policy rwl_mount_policy[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_MOUNT_ID] = { .type = NLA_U32 },
};

static const struct nla_policy rwl_rule_policy[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_MOUNT_ID] = { .type = NLA_U32 },
	[RWLAYER_A_RULE_PATH] = RWL_PATH_POLICY,
};

static const struct nla_policy rwl_add_policy[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_MOUNT_ID] = { .type = NLA_U32 },
	[RWLAYER_A_RULE_PATH] = RWL_PATH_POLICY,
	[RWLAYER_A_RULE_KIND] = NLA_POLICY_RANGE(NLA_U8, RWLAYER_RULE_UNION,
						 RWLAYER_RULE_FILE),
	[RWLAYER_A_RULE_MAX_BYTES] = { .type = NLA_U64 },
	[RWLAYER_A_RULE_MAX_INODES] = { .type = NLA_U64 },
	[RWLAYER_A_RULE_WARN] = NLA_POLICY_MAX(NLA_U8, 100),
	[RWLAYER_A_RULE_MODE] = NLA_POLICY_MAX(NLA_U16, 07777),
	[RWLAYER_A_RULE_UID] = { .type = NLA_U32 },
	[RWLAYER_A_RULE_GID] = { .type = NLA_U32 },
};

static const struct nla_policy rwl_set_policy[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_MOUNT_ID] = { .type = NLA_U32 },
	[RWLAYER_A_RULE_PATH] = RWL_PATH_POLICY,
	[RWLAYER_A_RULE_KIND] = NLA_POLICY_RANGE(NLA_U8, RWLAYER_RULE_UNION,
						 RWLAYER_RULE_FILE),
	[RWLAYER_A_RULE_MAX_BYTES] = { .type = NLA_U64 },
	[RWLAYER_A_RULE_MAX_INODES] = { .type = NLA_U64 },
	[RWLAYER_A_RULE_WARN] = NLA_POLICY_MAX(NLA_U8, 100),
};

static const struct nla_policy rwl_reset_policy[RWLAYER_A_MAX + 1] = {
	[RWLAYER_A_MOUNT_ID] = { .type = NLA_U32 },
	[RWLAYER_A_RULE_PATH] = RWL_PATH_POLICY,
	[RWLAYER_A_FORCE] = { .type = NLA_FLAG },
};

static const struct genl_ops rwl_genl_ops[] = {
	{
		.cmd = RWLAYER_CMD_GET_VERSION,
		.doit = rwl_nl_get_version,
	},
	{
		.cmd = RWLAYER_CMD_GET_MOUNT,
		.doit = rwl_nl_get_mount,
		.dumpit = rwl_nl_dump_mounts,
		.policy = rwl_mount_policy,
		.maxattr = RWLAYER_A_MAX,
	},
	{
		.cmd = RWLAYER_CMD_GET_RULE,
		.doit = rwl_nl_get_rule,
		.dumpit = rwl_nl_dump_rules,
		.policy = rwl_rule_policy,
		.maxattr = RWLAYER_A_MAX,
	},
	{
		.cmd = RWLAYER_CMD_ADD_RULE,
		.doit = rwl_nl_add_rule,
		.policy = rwl_add_policy,
		.maxattr = RWLAYER_A_MAX,
	},
	{
		.cmd = RWLAYER_CMD_DEL_RULE,
		.doit = rwl_nl_del_rule,
		.policy = rwl_rule_policy,
		.maxattr = RWLAYER_A_MAX,
	},
	{
		.cmd = RWLAYER_CMD_SET_RULE,
		.doit = rwl_nl_set_rule,
		.policy = rwl_set_policy,
		.maxattr = RWLAYER_A_MAX,
	},
	{
		.cmd = RWLAYER_CMD_RESET_RULE,
		.doit = rwl_nl_reset_rule,
		.policy = rwl_reset_policy,
		.maxattr = RWLAYER_A_MAX,
	},
};

/*
 * Parallel: without it every request holds the core's genl_mutex, and a
 * long reset would stall every generic netlink user of the machine (wifi,
 * devlink, ethtool).  rwl_mounts_lock and the rules_lock of each mount
 * are all the handlers need.
 */
static struct genl_family rwl_genl_family __ro_after_init = {
	.name = RWLAYER_GENL_NAME,
	.parallel_ops = true,
	.version = RWLAYER_GENL_VERSION,
	.maxattr = RWLAYER_A_MAX,
	.module = THIS_MODULE,
	.ops = rwl_genl_ops,
	.n_ops = ARRAY_SIZE(rwl_genl_ops),
	.mcgrps = rwl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(rwl_mcgrps),
};

/*
 * Events are sent from filesystem paths that may hold upper locks, so
 * nothing here may recurse into the filesystem: GFP_NOFS throughout.
 */
static struct sk_buff *rwl_event_new(struct rwl_fs *ofs, int event, void **hdr)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&rwl_genl_family, &init_net, RWL_MCGRP_EVENTS))
		return NULL;
	skb = genlmsg_new(RWL_NL_EVENT_SIZE, GFP_NOFS);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &rwl_genl_family, 0, RWLAYER_CMD_EVENT);
	if (!*hdr || nla_put_u32(skb, RWLAYER_A_EVENT, event) ||
	    nla_put_u32(skb, RWLAYER_A_MOUNT_ID, ofs->id)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void rwl_event_send(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&rwl_genl_family, skb, 0, RWL_MCGRP_EVENTS, GFP_NOFS);
}

void rwl_event_rule(struct rwl_fs *ofs, struct rwl_rule *rule, int event)
{
	struct sk_buff *skb;
	void *hdr;

	skb = rwl_event_new(ofs, event, &hdr);
	if (!skb)
		return;
	if (rwl_fill_rule_attrs(skb, rule)) {
		nlmsg_free(skb);
		return;
	}
	rwl_event_send(skb, hdr);
}

void rwl_event_threshold(struct rwl_rule *rule, int limit, unsigned int pct,
			 u64 used, u64 max)
{
	struct sk_buff *skb;
	void *hdr;

	skb = rwl_event_new(rule->ofs, RWLAYER_EVENT_THRESHOLD, &hdr);
	if (!skb)
		return;
	if (rwl_put_rule_path(skb, rule) ||
	    nla_put_u8(skb, RWLAYER_A_EVENT_PERCENT, pct) ||
	    nla_put_u8(skb, RWLAYER_A_EVENT_LIMIT, limit) ||
	    rwl_put_u64(skb, limit == RWLAYER_LIMIT_BYTES ?
			RWLAYER_A_RULE_BYTES : RWLAYER_A_RULE_INODES, used) ||
	    rwl_put_u64(skb, limit == RWLAYER_LIMIT_BYTES ?
			RWLAYER_A_RULE_MAX_BYTES : RWLAYER_A_RULE_MAX_INODES,
			max)) {
		nlmsg_free(skb);
		return;
	}
	rwl_event_send(skb, hdr);
}

/* Something went wrong at @dentry: a failed copy-up, a stale lower. */
void rwl_event_path(const struct dentry *dentry, int event, int err)
{
	struct rwl_fs *ofs = RWL_FS(dentry->d_sb);
	struct rwl_rule *rule = NULL;
	struct sk_buff *skb;
	char *buf, *path;
	void *hdr;

	skb = rwl_event_new(ofs, event, &hdr);
	if (!skb)
		return;
	buf = kmalloc(PATH_MAX, GFP_NOFS);
	if (!buf)
		goto err_free;
	path = dentry_path_raw(dentry, buf, PATH_MAX);
	if (RWL_E(dentry))
		rule = rwl_rule_of(dentry);
	if (IS_ERR(path) || nla_put_string(skb, RWLAYER_A_PATH, path) ||
	    nla_put_u32(skb, RWLAYER_A_ERRNO, -err) ||
	    (rule && rwl_put_rule_path(skb, rule))) {
		kfree(buf);
		goto err_free;
	}
	kfree(buf);
	rwl_event_send(skb, hdr);
	return;

err_free:
	nlmsg_free(skb);
}

static void rwl_event_mount(struct rwl_fs *ofs, int event)
{
	struct sk_buff *skb;
	void *hdr;

	skb = rwl_event_new(ofs, event, &hdr);
	if (!skb)
		return;
	if (nla_put_u32(skb, RWLAYER_A_DEV_MAJOR, MAJOR(ofs->sb->s_dev)) ||
	    nla_put_u32(skb, RWLAYER_A_DEV_MINOR, MINOR(ofs->sb->s_dev))) {
		nlmsg_free(skb);
		return;
	}
	rwl_event_send(skb, hdr);
}

void rwl_mount_register(struct rwl_fs *ofs)
{
	mutex_lock(&rwl_mounts_lock);
	ofs->id = rwl_next_mount_id++;
	list_add_tail(&ofs->mounts_link, &rwl_mounts);
	mutex_unlock(&rwl_mounts_lock);
	rwl_event_mount(ofs, RWLAYER_EVENT_MOUNT);
}

/* Waits for requests working on the mount; none can find it after. */
void rwl_mount_unregister(struct rwl_fs *ofs)
{
	if (!ofs || !ofs->id)
		return;
	mutex_lock(&rwl_mounts_lock);
	list_del(&ofs->mounts_link);
	mutex_unlock(&rwl_mounts_lock);
	rwl_event_mount(ofs, RWLAYER_EVENT_UNMOUNT);
}

int rwl_netlink_init(void)
{
	return genl_register_family(&rwl_genl_family);
}

void rwl_netlink_exit(void)
{
	genl_unregister_family(&rwl_genl_family);
}
