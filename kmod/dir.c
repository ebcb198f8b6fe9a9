// SPDX-License-Identifier: GPL-2.0
/*
 * Changes to directories: create, link, unlink, rmdir, rename.
 *
 * Every change is made in the upper after the parents were copied up.
 * Deleting a name that a lower still has leaves a whiteout; a directory
 * made where a whiteout was becomes opaque, so the lower directory of the
 * same name does not show through it.  The rule of each name decides
 * whether it may change at all (EROFS) and whether two names may be
 * linked or renamed into each other (EXDEV).
 */
#include <linux/namei.h>

#include "rwlayer.h"

int rwl_may_write(const struct dentry *dentry)
{
	return RWL_E(dentry) && rwl_rule_of(dentry) ? 0 : -EROFS;
}

/*
 * New objects belong to the caller: the mounter's credentials with the
 * caller's fsuid and fsgid (the group of a set-group-ID parent, as
 * inode_init_owner() gives it, also where the object is made in the work
 * directory), and the security label the caller's own create of @dentry
 * would give (security_dentry_create_files_as).
 */
static const struct cred *rwl_override_creator(struct dentry *dentry,
					       umode_t mode, struct cred **newp)
{
	struct inode *dir = d_inode(dentry->d_parent);
	const struct cred *caller;
	struct cred *cred;
	int err;

	caller = rwl_override_creds(dentry->d_sb);
	cred = prepare_creds();
	revert_creds(caller);
	if (!cred)
		return ERR_PTR(-ENOMEM);
	cred->fsuid = caller->fsuid;
	cred->fsgid = dir->i_mode & S_ISGID ? dir->i_gid : caller->fsgid;
	err = security_dentry_create_files_as(dentry, mode, &dentry->d_name,
					      caller, cred);
	if (err) {
		put_cred(cred);
		return ERR_PTR(err);
	}
	*newp = cred;
	return override_creds(cred);
}

/* Counted, but a delete never fails for want of an inode. */
static void rwl_count_whiteout(struct rwl_rule *rule)
{
	if (rule) {
		atomic64_inc(&rule->inodes);
		atomic64_inc(&rule->whiteouts);
	}
}

/* A whiteout for @name in the locked upper directory @udir. */
static int rwl_make_whiteout(struct super_block *sb, struct dentry *udir,
			     const struct qstr *name, struct rwl_rule *rule)
{
	struct dentry *wh;
	int err;

	wh = rwl_lookup_upper(udir, name);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	err = -EEXIST;
	if (d_is_negative(wh))
		err = rwl_do_mknod(sb, d_inode(udir), wh,
				   S_IFCHR | WHITEOUT_MODE, WHITEOUT_DEV);
	dput(wh);
	if (!err)
		rwl_count_whiteout(rule);
	return err;
}

struct rwl_new_object {
	umode_t mode;
	dev_t rdev;
	const char *link;		/* symlink target */
	struct dentry *hardlink;	/* upper dentry to link to */
	/* Inherited from the parent, for an object made in the work dir: */
	struct posix_acl *acl, *default_acl;
};

static int rwl_make_upper(struct super_block *sb, struct dentry *udir,
			  struct dentry *upper, const struct rwl_new_object *obj,
			  bool whiteout)
{
	struct inode *dir = d_inode(udir);
	int err;

	if (obj->hardlink)
		return rwl_do_link(sb, obj->hardlink, dir, upper);
	switch (obj->mode & S_IFMT) {
	case S_IFREG:
		return rwl_do_create(sb, dir, upper, obj->mode);
	case S_IFDIR:
		err = rwl_do_mkdir(sb, dir, upper, obj->mode);
		if (!err && d_really_is_negative(upper))
			err = -EIO;
		/* A lower directory of this name must not show through. */
		if (!err && whiteout)
			err = rwl_set_opaque(sb, upper);
		return err;
	case S_IFLNK:
		return rwl_do_symlink(sb, dir, upper, obj->link);
	default:
		return rwl_do_mknod(sb, dir, upper, obj->mode, obj->rdev);
	}
}

/*
 * Swap @temp, ready in the work directory, with @name in the upper
 * directory @udir in one rename (RENAME_EXCHANGE), so that the union
 * never shows a state in between.  What was at @name must be @expect's
 * dentry (a whiteout when @expect is NULL); it is returned, now in the
 * work directory, for the caller to dispose of.
 */
static struct dentry *rwl_exchange(struct super_block *sb, struct dentry *temp,
				   struct dentry *udir, const struct qstr *name,
				   const struct inode *expect)
{
	struct dentry *wdir = RWL_FS(sb)->workdir, *trap, *victim;
	int err;

	trap = lock_rename(wdir, udir);
	if (IS_ERR(trap))
		return trap;
	victim = rwl_lookup_upper(udir, name);
	if (IS_ERR(victim))
		goto out_unlock;
	err = -ESTALE;
	if (expect ? d_inode(victim) != expect : !rwl_is_whiteout(victim))
		goto out_dput;
	err = -EIO;
	if (trap == temp || trap == victim)
		goto out_dput;
	err = rwl_do_rename(sb, d_inode(wdir), temp, d_inode(udir), victim,
			    RENAME_EXCHANGE);
	if (!err)
		goto out_unlock;
out_dput:
	dput(victim);
	victim = ERR_PTR(err);
out_unlock:
	unlock_rename(wdir, udir);
	return victim;
}

/* Remove what rwl_exchange() moved to the work directory. */
static void rwl_work_discard(struct super_block *sb, struct dentry *old)
{
	struct path path = { .mnt = RWL_FS(sb)->upper.mnt, .dentry = old };

	/* A merged directory's upper holds the whiteouts it hid lowers with. */
	if (d_is_dir(old))
		rwl_clear_dir(sb, &path);
	/* What stays is cleared at the next mount. */
	rwl_work_remove(sb, old);
}

/*
 * What the object would have got from its real parent, had it been made
 * there: the mode and ACLs of rwl_inherit(), not the work directory's.
 */
static int rwl_work_object_inherit(struct super_block *sb, struct dentry *temp,
				   const struct rwl_new_object *obj)
{
	struct iattr attr = { .ia_valid = ATTR_MODE, .ia_mode = obj->mode };
	int err;

	if (obj->hardlink || S_ISLNK(obj->mode))
		return 0;
	inode_lock(d_inode(temp));
	err = rwl_do_setattr(sb, temp, &attr);
	inode_unlock(d_inode(temp));
	if (!err && obj->acl)
		err = rwl_set_real_acl(sb, temp, ACL_TYPE_ACCESS, obj->acl);
	if (!err && obj->default_acl)
		err = rwl_set_real_acl(sb, temp, ACL_TYPE_DEFAULT,
				       obj->default_acl);
	return err;
}

/* The new object, made in the work directory (opaque if a directory). */
static struct dentry *rwl_work_object(struct super_block *sb,
				      const struct rwl_new_object *obj)
{
	struct dentry *wdir = RWL_FS(sb)->workdir, *temp;
	int err;

	inode_lock_nested(d_inode(wdir), I_MUTEX_PARENT);
	temp = rwl_work_lookup(sb);
	if (IS_ERR(temp)) {
		inode_unlock(d_inode(wdir));
		return temp;
	}
	err = rwl_make_upper(sb, wdir, temp, obj, true);
	if (!err && d_really_is_negative(temp))
		err = -EIO;
	inode_unlock(d_inode(wdir));
	if (!err)
		err = rwl_work_object_inherit(sb, temp, obj);
	if (err) {
		rwl_work_remove(sb, temp);
		return ERR_PTR(err);
	}
	return temp;
}

/*
 * The upper object for a create where a whiteout hides a lower name: made
 * in the work directory, then exchanged with the whiteout.  A failure at
 * any step leaves the whiteout, so the deleted lower file stays deleted.
 */
static struct dentry *rwl_create_over_whiteout(struct super_block *sb,
					       struct dentry *udir,
					       const struct qstr *name,
					       const struct rwl_new_object *obj)
{
	struct dentry *temp, *wh;

	temp = rwl_work_object(sb, obj);
	if (IS_ERR(temp))
		return temp;
	wh = rwl_exchange(sb, temp, udir, name, NULL);
	if (IS_ERR(wh)) {
		rwl_work_remove(sb, temp);
		return wh;
	}
	rwl_work_discard(sb, wh);
	return temp;
}

/*
 * The upper object for a create, made in place where the upper has no
 * entry, and charged to @rule.  NULL when a whiteout is in the way: the
 * create must then replace it (rwl_create_over_whiteout()).  One lookup
 * under the lock answers both, as negative upper dentries are often not
 * cached (tmpfs).
 */
static struct dentry *rwl_create_in_place(struct super_block *sb,
					  struct dentry *udir,
					  const struct qstr *name,
					  const struct rwl_new_object *obj,
					  struct rwl_rule *rule, u64 inodes)
{
	struct dentry *upper;
	int err;

	inode_lock_nested(d_inode(udir), I_MUTEX_PARENT);
	upper = rwl_lookup_upper(udir, name);
	if (IS_ERR(upper))
		goto out_unlock;
	if (d_is_negative(upper)) {
		err = rwl_charge(rule, 0, inodes);
		if (!err) {
			err = rwl_make_upper(sb, udir, upper, obj, false);
			if (err)
				rwl_uncharge(rule, 0, inodes);
		}
	} else {
		/* 1: a whiteout to replace. */
		err = rwl_is_whiteout(upper) ? 1 : -EEXIST;
	}
	if (err) {
		dput(upper);
		upper = err > 0 ? NULL : ERR_PTR(err);
	}
out_unlock:
	inode_unlock(d_inode(udir));
	return upper;
}

/*
 * A create that cannot fit must change nothing, so the parents it would
 * copy up into the same rule are counted before any is made.
 */
static int rwl_room_for_parents(struct dentry *dentry, u64 inodes)
{
	struct rwl_rule *rule = rwl_rule_of(dentry);
	struct dentry *d = dget_parent(dentry), *parent;

	u64 parents = 0;

	while (!rwl_upper(d)) {
		if (rwl_rule_of(d) == rule)
			parents++;
		parent = dget_parent(d);
		dput(d);
		d = parent;
	}
	dput(d);
	/* With its parent in place, a create may replace a whiteout. */
	return parents ? rwl_rule_room(rule, 0, parents + inodes) : 0;
}

/*
 * Put a whiteout made in the work directory in place of @name in @udir,
 * whose upper entry must still be @real, in one exchange; what was there
 * is discarded.
 */
static int rwl_whiteout_over(struct super_block *sb, struct dentry *udir,
			     const struct qstr *name, struct inode *real)
{
	struct dentry *wh, *old;

	wh = rwl_work_create(sb, S_IFCHR | WHITEOUT_MODE, WHITEOUT_DEV, NULL);
	if (IS_ERR(wh))
		return PTR_ERR(wh);
	old = rwl_exchange(sb, wh, udir, name, real);
	if (IS_ERR(old)) {
		rwl_work_remove(sb, wh);
		return PTR_ERR(old);
	}
	dput(wh);
	rwl_work_discard(sb, old);
	return 0;
}

/*
 * Take back a create whose union inode could not be made: the new upper
 * object goes, and the whiteout it replaced comes back, made by the
 * mounter as every whiteout is.
 */
static int rwl_create_undo(struct super_block *sb, struct dentry *udir,
			   const struct qstr *name, struct dentry *upper,
			   bool whiteout)
{
	const struct cred *old_cred = rwl_override_creds(sb);
	int err;

	if (whiteout) {
		err = rwl_whiteout_over(sb, udir, name, d_inode(upper));
	} else {
		inode_lock_nested(d_inode(udir), I_MUTEX_PARENT);
		err = -ESTALE;
		if (upper->d_parent == udir && !d_unhashed(upper) &&
		    d_is_positive(upper))
			err = rwl_do_remove(sb, d_inode(udir), upper);
		inode_unlock(d_inode(udir));
	}
	revert_creds(old_cred);
	if (err)
		pr_warn_ratelimited("failed create of %pd2 left in the upper (%pe)\n",
				    upper, ERR_PTR(err));
	return err;
}

/*
 * An object made in the work directory gets from the union parent @dir
 * what the upper filesystem would give it in the real parent: its
 * default ACL (or the umask) and a set-group-ID parent's bit for a
 * directory.  The group comes with the creator's credentials.
 */
static int rwl_inherit(struct inode *dir, struct rwl_new_object *obj)
{
	if (obj->hardlink)
		return 0;
	if (S_ISDIR(obj->mode) && (dir->i_mode & S_ISGID))
		obj->mode |= S_ISGID;
	return posix_acl_create(dir, &obj->mode, &obj->default_acl, &obj->acl);
}

static int rwl_create_object(struct dentry *dentry,
			     const struct rwl_new_object *new,
			     struct inode *link_inode)
{
	struct rwl_new_object object = *new, *obj = &object;
	struct super_block *sb = dentry->d_sb;
	struct rwl_rule *rule = rwl_rule_of(dentry);
	struct dentry *parent = dentry->d_parent, *udir, *upper;
	u64 inodes = link_inode ? 0 : 1;
	const struct cred *old_cred;
	struct inode *inode;
	struct cred *cred;
	bool whiteout;
	int err;

	err = rwl_may_write(dentry);
	if (!err)
		err = rwl_room_for_parents(dentry, inodes);
	if (!err)
		err = rwl_copy_up(parent);
	if (err)
		return err;
	err = mnt_want_write(RWL_FS(sb)->upper.mnt);
	if (err)
		return err;
	/* A copy keeps its origin's number (rwl_is_impure()). */
	if (link_inode && READ_ONCE(RWL_I(link_inode)->origin_dev)) {
		err = rwl_mark_impure(d_inode(parent));
		if (err)
			goto out_drop_write;
	}
	old_cred = rwl_override_creator(dentry, obj->mode, &cred);
	err = PTR_ERR(old_cred);
	if (IS_ERR(old_cred))
		goto out_drop_write;

	udir = rwl_upper(parent);
	upper = rwl_create_in_place(sb, udir, &dentry->d_name, obj, rule,
				    inodes);
	whiteout = !upper;
	if (whiteout) {
		/* The new object takes over the whiteout's inode charge. */
		inodes = 0;
		err = rwl_inherit(d_inode(parent), obj);
		if (err)
			goto out_revert;
		upper = rwl_create_over_whiteout(sb, udir, &dentry->d_name, obj);
	}
	err = PTR_ERR(upper);
	if (IS_ERR(upper))
		goto out_revert;

	if (link_inode) {
		ihold(link_inode);
		inode = link_inode;
	} else {
		inode = rwl_get_inode(sb, dentry, upper, NULL, NULL);
		err = PTR_ERR(inode);
		if (IS_ERR(inode)) {
			/* Left in place: counted, and looked up afresh. */
			if (rwl_create_undo(sb, udir, &dentry->d_name, upper,
					    whiteout))
				d_drop(dentry);
			else
				rwl_uncharge(rule, 0, inodes);
			goto out_dput;
		}
		rwl_inode_charge_to(inode, rule);
		rwl_inode_set_in_rule(inode, dentry);
	}
	rwl_copyattr(inode);
	d_instantiate(dentry, inode);
	err = 0;
out_dput:
	dput(upper);
out_revert:
	revert_creds(old_cred);
	put_cred(cred);
	posix_acl_release(obj->acl);
	posix_acl_release(obj->default_acl);
	rwl_copyattr(d_inode(parent));
out_drop_write:
	mnt_drop_write(RWL_FS(sb)->upper.mnt);
	return err;
}

int rwl_create(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	       umode_t mode, bool excl)
{
	struct rwl_new_object obj = { .mode = (mode & 07777) | S_IFREG };

	return rwl_create_object(dentry, &obj, NULL);
}

int rwl_mkdir(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	      umode_t mode)
{
	struct rwl_new_object obj = { .mode = (mode & 07777) | S_IFDIR };

	return rwl_create_object(dentry, &obj, NULL);
}

int rwl_mknod(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	      umode_t mode, dev_t rdev)
{
	struct rwl_new_object obj = { .mode = mode, .rdev = rdev };

	/* A whiteout is the upper's format, not something to create. */
	if (S_ISCHR(mode) && rdev == WHITEOUT_DEV)
		return -EPERM;
	return rwl_create_object(dentry, &obj, NULL);
}

int rwl_symlink(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
		const char *link)
{
	struct rwl_new_object obj = { .mode = S_IFLNK | 0777, .link = link };

	return rwl_create_object(dentry, &obj, NULL);
}

int rwl_link(struct dentry *old, struct inode *dir, struct dentry *new)
{
	struct rwl_new_object obj = { .mode = d_inode(old)->i_mode };
	int err;

	err = rwl_may_write(old) ?: rwl_may_write(new);
	if (err)
		return err;
	if (rwl_rule_of(old) != rwl_rule_of(new))
		return -EXDEV;
	err = rwl_copy_up(old);
	if (err)
		return err;
	obj.hardlink = rwl_upper(old);
	return rwl_create_object(new, &obj, d_inode(old));
}

/*
 * Remove the upper entry of @dentry when no lower has the name, or put a
 * whiteout in place of a lower-only name.  One step each.
 */
static int rwl_remove_upper(struct dentry *dentry, struct dentry *udir,
			    bool whiteout)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *upper;
	int err;

	inode_lock_nested(d_inode(udir), I_MUTEX_PARENT);
	upper = rwl_lookup_upper(udir, &dentry->d_name);
	err = PTR_ERR(upper);
	if (IS_ERR(upper))
		goto out_unlock;
	err = 0;
	if (d_is_positive(upper)) {
		err = -ESTALE;
		if (d_inode(upper) != rwl_inode_real(d_inode(dentry)))
			goto out_dput;
		err = rwl_do_remove(sb, d_inode(udir), upper);
	} else if (whiteout) {
		err = rwl_make_whiteout(sb, udir, &dentry->d_name,
					rwl_rule_of(dentry));
	}
out_dput:
	dput(upper);
out_unlock:
	inode_unlock(d_inode(udir));
	return err;
}

/*
 * A directory no lower merges with may still hold whiteouts in its upper
 * (its lowers went, rwl_is_impure()); the union shows it empty, so they
 * hide nothing and go before the directory does.
 */
static int rwl_remove_empty_upper(struct dentry *dentry, bool is_dir)
{
	struct path upath;

	if (!is_dir || !rwl_is_impure(d_inode(dentry)))
		return 0;
	rwl_upper_path(dentry, &upath);
	return rwl_clear_whiteouts(dentry->d_sb, &upath);
}

/*
 * Replace the upper entry of @dentry with a whiteout in one step: the
 * whiteout is made in the work directory and exchanged with it.  Until
 * the exchange the name shows what it showed; after it, nothing.
 */
static int rwl_replace_with_whiteout(struct dentry *dentry,
				     struct dentry *udir)
{
	int err;

	err = rwl_whiteout_over(dentry->d_sb, udir, &dentry->d_name,
				rwl_inode_real(d_inode(dentry)));
	if (!err)
		rwl_count_whiteout(rwl_rule_of(dentry));
	return err;
}

static int rwl_remove(struct dentry *dentry, bool is_dir)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *parent = dentry->d_parent, *udir;
	const struct cred *old_cred;
	bool whiteout;
	int err;

	err = rwl_may_write(dentry);
	if (err)
		return err;
	if (is_dir && rwl_is_rule_root(dentry))
		return -EBUSY;
	if (is_dir) {
		err = rwl_check_empty(dentry);
		if (err)
			return err;
	}
	err = rwl_copy_up(parent);
	if (err)
		return err;
	whiteout = rwl_lower_has_name(parent, &dentry->d_name);

	err = mnt_want_write(RWL_FS(sb)->upper.mnt);
	if (err)
		return err;
	old_cred = rwl_override_creds(sb);
	udir = rwl_upper(parent);
	if (whiteout && rwl_upper(dentry))
		err = rwl_replace_with_whiteout(dentry, udir);
	else
		err = rwl_remove_empty_upper(dentry, is_dir) ?:
		      rwl_remove_upper(dentry, udir, whiteout);
	if (!err) {
		rwl_copyattr(d_inode(parent));
		/* The union dentry's layers are history; look the name up anew. */
		d_drop(dentry);
	}
	revert_creds(old_cred);
	mnt_drop_write(RWL_FS(sb)->upper.mnt);
	return err;
}

int rwl_unlink(struct inode *dir, struct dentry *dentry)
{
	return rwl_remove(dentry, false);
}

int rwl_rmdir(struct inode *dir, struct dentry *dentry)
{
	return rwl_remove(dentry, true);
}

/* Rules, kinds and emptiness: can @old become @new at all? */
static int rwl_rename_allowed(struct dentry *old, struct dentry *new,
			      unsigned int flags)
{
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	err = rwl_may_write(old) ?: rwl_may_write(new);
	if (err)
		return err;
	if (rwl_is_rule_root(old) || rwl_is_rule_root(new))
		return -EBUSY;
	/* Names on a rule path would take their rules along. */
	if (rwl_rule_of(old) != rwl_rule_of(new) || rwl_has_rule_below(old) ||
	    rwl_has_rule_below(new))
		return -EXDEV;
	/* A directory with lower content would have to be moved whole. */
	if (d_is_dir(old) && RWL_E(old)->num)
		return -EXDEV;
	if (d_really_is_positive(new) && d_is_dir(new))
		return rwl_check_empty(new);
	return 0;
}

struct rwl_rename {
	struct dentry *old, *new;
	struct dentry *olddir, *newdir;	/* upper parents */
	bool whiteout;			/* a lower has the old name */
	bool opaque;			/* a lower has the new name (dirs) */
};

static int rwl_do_rename_locked(struct super_block *sb, struct rwl_rename *r,
				struct dentry *trap)
{
	struct rwl_rule *rule = rwl_rule_of(r->new);	/* also old's */
	unsigned int flags = 0;
	struct dentry *uold, *unew;
	bool whiteout_gone, marked = false;
	int err;

	uold = rwl_lookup_upper(r->olddir, &r->old->d_name);
	if (IS_ERR(uold))
		return PTR_ERR(uold);
	err = -ESTALE;
	if (d_inode(uold) != rwl_inode_real(d_inode(r->old)))
		goto out_old;
	err = -EINVAL;
	if (uold == trap)
		goto out_old;
	unew = rwl_lookup_upper(r->newdir, &r->new->d_name);
	err = PTR_ERR(unew);
	if (IS_ERR(unew))
		goto out_old;
	err = -ENOTEMPTY;
	if (unew == trap)
		goto out_new;
	/* A lower directory of the new name must not show through it. */
	if (r->opaque) {
		struct path opath = { .mnt = RWL_FS(sb)->upper.mnt, .dentry = uold };

		marked = !rwl_is_opaque(&opath);
		err = marked ? rwl_set_opaque(sb, uold) : 0;
		if (err)
			goto out_new;
	}
	/*
	 * One rename does it all: RENAME_WHITEOUT leaves the whiteout the
	 * old name needs, RENAME_EXCHANGE lets a directory take the place of
	 * a whiteout (which then sits at the old name, wanted or not) and
	 * hands a whiteout at the new name to an old name that needs one, so
	 * that an upper out of inodes need not make another.
	 */
	whiteout_gone = rwl_is_whiteout(unew);
	if (whiteout_gone && (d_is_dir(uold) || r->whiteout))
		flags = RENAME_EXCHANGE;
	else if (r->whiteout)
		flags = RENAME_WHITEOUT;
	err = rwl_do_rename(sb, d_inode(r->olddir), uold, d_inode(r->newdir),
			    unew, flags);
	if (err) {
		/* Not moved: at its old name it merges with lowers again. */
		if (marked && rwl_do_removexattr(sb, uold, RWL_XATTR_OPAQUE))
			pr_warn_ratelimited("rename of %pd2 failed; it stays opaque\n",
					    uold);
		goto out_new;
	}
	if (flags == RENAME_WHITEOUT)
		rwl_count_whiteout(rule);
	/* Exchanged, the whiteout went to the old name: kept if wanted. */
	if (flags == RENAME_EXCHANGE)
		whiteout_gone = !r->whiteout &&
				!rwl_do_unlink(sb, d_inode(r->olddir), unew);
	/* A stray whiteout left behind is harmless, and stays counted. */
	if (whiteout_gone)
		rwl_uncharge(rule, 0, 1);
out_new:
	dput(unew);
out_old:
	dput(uold);
	return err;
}

int rwl_rename(rwl_idmap_t *idmap, struct inode *olddir, struct dentry *old,
	       struct inode *newdir, struct dentry *new, unsigned int flags)
{
	struct super_block *sb = old->d_sb;
	struct rwl_rename r = { .old = old, .new = new };
	const struct cred *old_cred;
	struct dentry *trap;
	struct path upath;
	int err;

	err = rwl_rename_allowed(old, new, flags);
	if (err)
		return err;
	err = rwl_copy_up(old) ?: rwl_copy_up(new->d_parent);
	if (err)
		return err;
	r.whiteout = rwl_lower_has_name(old->d_parent, &old->d_name);
	r.opaque = d_is_dir(old) &&
		   rwl_lower_has_name(new->d_parent, &new->d_name);

	err = mnt_want_write(RWL_FS(sb)->upper.mnt);
	if (err)
		return err;
	old_cred = rwl_override_creds(sb);
	if (d_really_is_positive(new) && d_is_dir(new) && rwl_upper(new) &&
	    (RWL_E(new)->num || rwl_is_impure(d_inode(new)))) {
		rwl_upper_path(new, &upath);
		err = rwl_clear_whiteouts(sb, &upath);
		if (err)
			goto out_revert;
	}
	/* A copy keeps its origin's number (rwl_is_impure()). */
	if (!d_is_dir(old) && READ_ONCE(RWL_I(d_inode(old))->origin_dev)) {
		err = rwl_mark_impure(newdir);
		if (err)
			goto out_revert;
	}
	r.olddir = rwl_upper(old->d_parent);
	r.newdir = rwl_upper(new->d_parent);
	trap = lock_rename(r.newdir, r.olddir);
	err = PTR_ERR(trap);
	if (!IS_ERR(trap)) {
		err = rwl_do_rename_locked(sb, &r, trap);
		unlock_rename(r.newdir, r.olddir);
	}
	rwl_copyattr(olddir);
	rwl_copyattr(newdir);
out_revert:
	revert_creds(old_cred);
	mnt_drop_write(RWL_FS(sb)->upper.mnt);
	return err;
}
