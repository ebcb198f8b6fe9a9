// SPDX-License-Identifier: GPL-2.0
/*
 * Resetting a rule: what the client wrote under it is thrown away and the
 * subtree shows the lowers' content again.
 *
 * The rule's upper content is removed in the upper itself.  A directory
 * rule keeps its (now empty) upper directory, so the union dentry and
 * inode of the rule's root stay valid and nothing mounted below the root
 * is disturbed by the reset itself.  Every union inode whose upper copy
 * was inside goes stale: it leaves the inode hash (a new lookup makes a
 * fresh one without the deleted copy) and its dentries fail
 * d_revalidate; absent names are looked up again.  Files still open
 * keep their deleted upper copy until closed, which is why a reset with
 * open files needs force.
 */
#include <linux/fs.h>
#include <linux/namei.h>

#include "rwlayer.h"

struct rwl_tree_cleaner {
	struct super_block *sb;
	struct dentry *dir;
	struct dentry *busy;		/* a subdirectory still to empty */
};

static int rwl_remove_tree_entry(void *arg, const char *name, int len,
				 unsigned int type)
{
	struct rwl_tree_cleaner *c = arg;
	int err;

	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return 0;
	err = rwl_remove_name(c->sb, c->dir, name, len, false, &c->busy);
	/* Descend into it; the caller comes back for this one. */
	return err == -ENOTEMPTY ? 1 : err;
}

/*
 * Remove everything below the upper directory @top, depth first and
 * without recursion: a user's tree may be deeper than the kernel stack.
 */
static int rwl_remove_tree(struct super_block *sb, struct dentry *top)
{
	struct rwl_tree_cleaner c = { .sb = sb, .dir = dget(top) };
	struct path path = { .mnt = RWL_FS(sb)->upper.mnt };
	struct dentry *parent;
	int err;

	for (;;) {
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		c.busy = NULL;
		path.dentry = c.dir;
		err = rwl_real_dir_names(sb, &path, rwl_remove_tree_entry, &c);
		if (err < 0)
			break;
		if (c.busy) {
			dput(c.dir);
			c.dir = c.busy;
			continue;
		}
		if (c.dir == top)
			break;
		/* Emptied: back up, and the parent's pass removes it. */
		parent = dget_parent(c.dir);
		dput(c.dir);
		c.dir = parent;
	}
	dput(c.dir);
	return err < 0 ? err : 0;
}

/* The upper dentry at @path (inside the union), or NULL if there is none. */
static struct dentry *rwl_upper_at(struct super_block *sb, const char *path)
{
	struct dentry *dir = dget(RWL_FS(sb)->upper.mnt->mnt_root), *child;
	const char *c = path, *name;
	size_t len;

	while ((len = rwl_path_next(&c, &name))) {
		child = rwl_do_lookup(name, dir, len);
		dput(dir);
		if (IS_ERR(child))
			return child;
		/* Nothing of the rule's in the upper under a non-directory. */
		if (d_is_negative(child) || (*c && !d_can_lookup(child))) {
			dput(child);
			return NULL;
		}
		dir = child;
	}
	return dir;
}

static int rwl_reset_upper(struct super_block *sb, struct rwl_rule *rule,
			   struct dentry *upper)
{
	struct dentry *parent;
	int err;

	if (rule->kind == RWL_RULE_FILE || !d_is_dir(upper)) {
		if (d_is_dir(upper)) {
			err = rwl_remove_tree(sb, upper);
			if (err)
				return err;
		}
		parent = dget_parent(upper);
		inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
		if (upper->d_parent != parent || d_unhashed(upper))
			err = -ENOENT;
		else
			err = rwl_do_remove(sb, d_inode(parent), upper);
		inode_unlock(d_inode(parent));
		dput(parent);
		return err;
	}
	err = rwl_remove_tree(sb, upper);
	/* A union rule shows the lowers again, even after rm -r; mkdir. */
	if (!err && rule->kind == RWL_RULE_UNION) {
		err = rwl_do_removexattr(sb, upper, RWL_XATTR_OPAQUE);
		if (err == -ENODATA)
			err = 0;
	}
	return err;
}

/* Is @p the path @top or below it?  Every path is below "/". */
static bool rwl_path_within(const char *p, const char *top)
{
	size_t len = strlen(top);

	if (len == 1)
		return true;
	return !strncmp(p, top, len) && (p[len] == '\0' || p[len] == '/');
}

/*
 * Is @inner's path @path or below it?  Also without rules_lock: a path
 * is freed only after a grace period (rwl_slot_fill()).
 */
static bool rwl_rule_within(const struct rwl_rule *inner, const char *path)
{
	const char *p;
	bool within;

	if (!inner)
		return false;
	rcu_read_lock();
	p = rcu_dereference(inner->path);
	within = p && rwl_path_within(p, path);
	rcu_read_unlock();
	return within;
}

/*
 * Is a rule at @path, around it or inside it being reset?  A change
 * there would race with the removal.  The caller holds rules_lock.
 */
bool rwl_reset_under_way(struct rwl_fs *ofs, const char *path)
{
	struct rwl_rule *rule;
	const char *p;
	unsigned int i;

	for (i = 0; i < RWL_MAX_RULES; i++) {
		rule = ofs->rules[i];
		if (!rule || !rule->active || !rule->resetting)
			continue;
		p = rwl_rule_path_locked(ofs, rule);
		if (rwl_path_within(p, path) || rwl_path_within(path, p))
			return true;
	}
	return false;
}

/*
 * Forget the union inodes that show an upper copy inside @top (other
 * than @top itself when it stays): they go stale and leave the inode
 * hash.  A rule outside the reset is credited for what it paid; the
 * rules inside start from zero anyway.  Returns how many inodes @rule
 * still pays for.
 */
static u64 rwl_forget_inodes(struct rwl_fs *ofs, struct rwl_rule *rule,
			     const char *path, struct dentry *top,
			     bool keep_top)
{
	struct super_block *sb = ofs->sb;
	struct inode *inode, *prev = NULL;
	struct rwl_rule *charged;
	struct rwl_inode *oi;
	struct dentry *upper;
	u64 kept = 0;

	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		if (!rwl_i_upper(inode))
			continue;
		spin_lock(&inode->i_lock);
		if (inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);

		iput(prev);
		prev = inode;
		oi = RWL_I(inode);
		upper = rwl_i_upper(inode);
		mutex_lock(&oi->lock);
		charged = rwl_inode_charged(inode);
		if (keep_top && upper == top) {
			kept += charged == rule;
		} else if (is_subdir(upper, top)) {
			WRITE_ONCE(oi->stale, true);
			remove_inode_hash(inode);
			if (!rwl_rule_within(charged, path))
				rwl_uncharge(charged, oi->charged_bytes, 1);
			rwl_inode_charge_to(inode, NULL);
			oi->charged_bytes = 0;
		}
		mutex_unlock(&oi->lock);

		/* A mount may hold millions of inodes. */
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(prev);
	return kept;
}

static unsigned int rwl_open_files_within(struct rwl_fs *ofs, const char *path)
{
	unsigned int i, n = 0;

	for (i = 0; i < RWL_MAX_RULES; i++) {
		if (ofs->rules[i] && ofs->rules[i]->active &&
		    rwl_rule_within(ofs->rules[i], path))
			n += atomic_read(&ofs->rules[i]->open_files);
	}
	return n;
}

/*
 * Rules inside the reset one lost their content too: they start from
 * zero, and an empty rule gets its directory again.
 */
static int rwl_reset_inner(struct rwl_fs *ofs, struct rwl_rule *rule,
			   const char *path, struct netlink_ext_ack *extack)
{
	struct rwl_rule *inner;
	unsigned int i;
	int err = 0;

	for (i = 0; i < RWL_MAX_RULES && !err; i++) {
		inner = ofs->rules[i];
		if (!inner || !inner->active || inner == rule ||
		    !rwl_rule_within(inner, path))
			continue;
		atomic64_set(&inner->bytes, 0);
		atomic64_set(&inner->inodes, 0);
		if (inner->kind == RWL_RULE_EMPTY)
			err = rwl_prepare_empty(ofs->sb, inner,
						rwl_rule_path_locked(ofs, inner),
						extack);
		rwl_rule_rearm(inner);
		rwl_event_rule(ofs, inner, RWLAYER_EVENT_RULE_RESET);
	}
	return err;
}

/*
 * Remove what @rule's upper holds and forget the inodes that showed it;
 * *@kept: how many inodes @rule still pays for.  Runs without
 * rules_lock, with @rule marked resetting.
 */
static int rwl_reset_content(struct rwl_fs *ofs, struct rwl_rule *rule,
			     const char *path, u64 *kept,
			     struct netlink_ext_ack *extack)
{
	struct super_block *sb = ofs->sb;
	const struct cred *old_cred;
	struct dentry *upper;
	int err;

	*kept = 0;
	err = mnt_want_write(ofs->upper.mnt);
	if (err) {
		NL_SET_ERR_MSG(extack, "the upper filesystem is read-only");
		return err;
	}
	old_cred = rwl_override_creds(sb);
	upper = rwl_upper_at(sb, path);
	if (IS_ERR(upper)) {
		revert_creds(old_cred);
		mnt_drop_write(ofs->upper.mnt);
		NL_SET_ERR_MSG(extack, "cannot look up the rule's path in the upper");
		return PTR_ERR(upper);
	}
	err = upper ? rwl_reset_upper(sb, rule, upper) : 0;
	revert_creds(old_cred);
	mnt_drop_write(ofs->upper.mnt);

	/*
	 * Even after a partial removal, nothing cached may keep pointing at
	 * what is gone: absent names are looked up again, inodes forgotten.
	 */
	atomic_inc(&ofs->resets);
	if (upper)
		*kept = rwl_forget_inodes(ofs, rule, path, upper,
					  rule->kind != RWL_RULE_FILE);
	dput(upper);
	if (err)
		NL_SET_ERR_MSG(extack, "the rule's content was removed only in part");
	return err;
}

/*
 * Called with rules_lock held, which is dropped while the upper content
 * goes (a big tree takes minutes): meanwhile the rule is marked
 * resetting, and only what would race with the removal or the inode
 * walk's charges is refused (EBUSY): adding, deleting or resetting the
 * rule or a rule around or inside it.  Other rules and requests go on.
 */
int rwl_rule_reset(struct rwl_fs *ofs, struct rwl_rule *rule, bool force,
		   struct netlink_ext_ack *extack)
{
	/* Stays: the slot is not reused while the rule is resetting. */
	const char *path = rwl_rule_path_locked(ofs, rule);
	u64 kept;
	int err;

	if (!strcmp(path, "/")) {
		NL_SET_ERR_MSG(extack, "the root's rule cannot be reset; remount instead");
		return -EINVAL;
	}
	if (rwl_reset_under_way(ofs, path)) {
		NL_SET_ERR_MSG(extack, "a reset of this rule or one around or in it is under way");
		return -EBUSY;
	}
	if (!force && rwl_open_files_within(ofs, path)) {
		NL_SET_ERR_MSG(extack, "files are open under the rule (force resets anyway)");
		return -EBUSY;
	}

	rule->resetting = true;
	mutex_unlock(&ofs->rules_lock);
	err = rwl_reset_content(ofs, rule, path, &kept, extack);
	mutex_lock(&ofs->rules_lock);
	rule->resetting = false;

	atomic64_set(&rule->bytes, 0);
	atomic64_set(&rule->inodes, kept);
	rwl_rule_rearm(rule);
	if (err)
		return err;
	err = rwl_reset_inner(ofs, rule, path, extack);
	rwl_event_rule(ofs, rule, RWLAYER_EVENT_RULE_RESET);
	return err;
}
