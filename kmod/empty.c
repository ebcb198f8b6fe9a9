// SPDX-License-Identifier: GPL-2.0
/*
 * The upper side of "empty" rules: the rule's directory made in the
 * upper through the union itself (so that its parents are copied up as
 * for any create), opaque, with the owner and mode the rule asked for.
 * rules.c decides when (mount, netlink ADD_RULE, a reset); this file
 * does the VFS work.
 */
#include "rwlayer.h"

/* Look one component up through the union itself, as a path walk would. */
static struct dentry *rwl_rule_step(struct dentry *dir, const char *name,
				    unsigned int len)
{
	return lookup_one_len_unlocked(name, dir, len);
}

/* The owner and mode an "empty" rule asked for, set through the union. */
static int rwl_apply_owner(struct dentry *dir, const struct rwl_dir_owner *owner)
{
	struct iattr attr = {};
	int err;

	if (owner->has_mode) {
		attr.ia_valid |= ATTR_MODE;
		attr.ia_mode = S_IFDIR | owner->mode;
	}
	if (owner->has_uid) {
		attr.ia_valid |= ATTR_UID;
		attr.ia_uid = owner->uid;
	}
	if (owner->has_gid) {
		attr.ia_valid |= ATTR_GID;
		attr.ia_gid = owner->gid;
	}
	if (!attr.ia_valid)
		return 0;
	inode_lock(d_inode(dir));
	err = notify_change(RWL_NOP_IDMAP, dir, &attr, NULL);
	inode_unlock(d_inode(dir));
	return err;
}

static int rwl_mkdir_step(struct dentry *dir, struct dentry *child)
{
	int err;

	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	err = vfs_mkdir(RWL_NOP_IDMAP, d_inode(dir), child, 0755);
	inode_unlock(d_inode(dir));
	return err;
}

/*
 * Give the root of an "empty" rule its upper directory, copied up from
 * the lower (owner, mode, times) or made fresh, and mark it opaque.  The
 * dentry is dropped so that the next lookup shows the upper alone.
 */
int rwl_prepare_empty(struct super_block *sb, struct rwl_rule *rule,
		      const char *path, struct netlink_ext_ack *extack)
{
	struct dentry *dir = dget(sb->s_root), *child;
	const char *c = path, *name;
	int err = 0;
	size_t len;

	while ((len = rwl_path_next(&c, &name))) {
		child = rwl_rule_step(dir, name, len);
		if (IS_ERR(child)) {
			err = PTR_ERR(child);
			goto out;
		}
		/* A symlink or file on the way: lookup_one() would not stop. */
		if (*c && d_is_positive(child) && !d_can_lookup(child)) {
			dput(child);
			err = -ENOTDIR;
			goto out;
		}
		if (*c && d_is_negative(child))
			err = rwl_mkdir_step(dir, child);
		dput(dir);
		dir = child;
		if (err)
			goto out;
	}

	err = -ENOTDIR;
	if (d_is_positive(dir) && !d_is_dir(dir))
		goto out;
	err = -EBUSY;
	if (d_mountpoint(dir))
		goto out;
	if (d_is_negative(dir))
		err = rwl_mkdir_step(dir->d_parent, dir);
	else
		err = rwl_copy_up(dir);
	if (!err && d_is_positive(dir))
		err = rwl_set_opaque(sb, rwl_upper(dir));
	if (!err)
		err = rwl_apply_owner(dir, &rule->owner);
	d_drop(dir);
out:
	dput(dir);
	if (err == -EBUSY)
		NL_SET_ERR_MSG(extack, "a filesystem is mounted on the rule's directory");
	else if (err == -ENOTDIR)
		NL_SET_ERR_MSG(extack, "the rule's path or a parent is not a directory");
	else if (err)
		NL_SET_ERR_MSG(extack, "cannot make the empty rule's directory in the upper");
	/* A netlink request has its answer in the extack; a mount, here. */
	if (err && !extack)
		pr_err("rule=%s: cannot prepare the empty directory (%pe)\n",
		       path, ERR_PTR(err));
	return err;
}
