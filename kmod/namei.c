// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup across layers and the life of union dentries.
 *
 * The upper is asked first, then each lower, top down.  A whiteout ends
 * the lookup with a negative result; a non-directory hides whatever lies
 * below it; directories of one name merge until an opaque directory or a
 * layer where the name is not a directory.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "rwlayer.h"

/*
 * Was the lower dentry at layer @i renamed away (it is still hashed, at
 * another name or in another directory)?  Under RCU a concurrent rename
 * may show a torn name: that only costs a fresh lookup.
 */
static bool rwl_real_moved(const struct dentry *dentry, struct dentry *real)
{
	const struct dentry *parent = READ_ONCE(dentry->d_parent);
	const struct rwl_entry *pe = READ_ONCE(parent->d_fsdata);
	struct dentry *real_parent = READ_ONCE(real->d_parent);
	unsigned int i;
	bool found = false;

	if (IS_ROOT(dentry) || !pe)
		return false;
	for (i = 0; i < pe->num && !found; i++)
		found = pe->stack[i].dentry == real_parent;
	if (!found)
		return true;
	return real->d_name.len != dentry->d_name.len ||
	       memcmp(real->d_name.name, dentry->d_name.name,
		      dentry->d_name.len);
}

static bool rwl_real_dentry_stale(const struct dentry *dentry,
				  struct dentry *real, unsigned int flags,
				  int *ret)
{
	if (!IS_ROOT(real) && (d_unhashed(real) ||
			       rwl_real_moved(dentry, real))) {
		*ret = 0;
		return true;
	}
	if (real->d_flags & DCACHE_OP_REVALIDATE) {
		*ret = real->d_op->d_revalidate(real, flags);
		return *ret <= 0;
	}
	return false;
}

/*
 * Creating, removing or renaming a name in a directory changes its ctime:
 * one number for the ctimes of a union directory's lower directories
 * tells a negative dentry whether a lower gained names since.  @latest
 * gets the newest of those ctimes.
 */
static u64 rwl_lower_stamp(const struct rwl_entry *dir,
			   struct timespec64 *latest)
{
	struct timespec64 ts, max = {};
	u64 stamp = 0;
	unsigned int i;

	for (i = 0; i < dir->num; i++) {
		ts = rwl_inode_ctime(d_inode(dir->stack[i].dentry));
		stamp = stamp * 31 + (u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
		if (timespec64_compare(&ts, &max) > 0)
			max = ts;
	}
	if (latest)
		*latest = max;
	return stamp;
}

/*
 * Can the stamp alone tell when a name appears?  Not for a lower that
 * revalidates its own dentries (NFS: the ctime comes from the server
 * and is refreshed only when asked), and not while the newest ctime is
 * in the current clock tick: a second change in that tick would keep it.
 */
static bool rwl_stamp_sure(const struct rwl_entry *dir,
			   const struct timespec64 *latest)
{
	struct timespec64 now;
	unsigned int i;

	for (i = 0; i < dir->num; i++) {
		if (dir->stack[i].dentry->d_flags & DCACHE_OP_REVALIDATE)
			return false;
	}
	ktime_get_coarse_real_ts64(&now);
	return timespec64_compare(latest, &now) < 0;
}

/*
 * A union dentry stays valid while every lower dentry under it does.  A
 * lower dentry that was unlinked or renamed away in its layer (the image
 * server updated the tree) is unhashed; dropping the union dentry makes
 * the next access look the name up again instead of serving stale data.
 * A name that was absent is looked up again once a lower directory
 * changed, so a file the server adds shows at the next lookup.  A non-directory copied up is
 * the client's own: the lower no longer matters to it.
 */
static int rwl_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct rwl_entry *entry = READ_ONCE(dentry->d_fsdata);
	const struct rwl_entry *pe;
	struct dentry *parent;
	struct inode *inode;
	unsigned int i;
	int ret = 1;

	if (!entry)
		return 1;
	if (rwl_entry_reset_stale(dentry))
		return 0;
	inode = d_inode_rcu(dentry);
	if (!inode) {
		parent = READ_ONCE(dentry->d_parent);
		pe = READ_ONCE(parent->d_fsdata);
		if (!pe || !pe->num)
			return 1;
		return entry->stamp_sure &&
		       rwl_lower_stamp(pe, NULL) == entry->lower_stamp;
	}
	/* Owner, mode and flags as the real inode has them now, for permission. */
	rwl_refresh_perm_attrs(inode);
	if (rwl_i_upper(inode) && !S_ISDIR(inode->i_mode))
		return 1;
	for (i = 0; i < entry->num; i++) {
		if (rwl_real_dentry_stale(dentry, entry->stack[i].dentry, flags,
					  &ret))
			return ret;
	}
	return 1;
}

static void rwl_d_release(struct dentry *dentry)
{
	rwl_entry_free(dentry->d_fsdata);
}

const struct dentry_operations rwl_dentry_operations = {
	.d_revalidate	= rwl_d_revalidate,
	.d_release	= rwl_d_release,
};

/* Does the upper directory carry the mark @name = "y"? */
static bool rwl_dir_marked(const struct path *dir, const char *name)
{
	char val;

	return rwl_do_getxattr(dir, name, &val, 1) == 1 && val == 'y';
}

bool rwl_is_opaque(const struct path *dir)
{
	return rwl_dir_marked(dir, RWL_XATTR_OPAQUE);
}

/*
 * May the upper directory of @dir hold whiteouts, or files copied up
 * from a lower (which report their origin's number), even when no lower
 * directory merges with it now?  A directory copied up from a lower is
 * marked so from the start (its lower may go: the server removes it),
 * one that a copy is renamed or linked into when that happens
 * (rwl_mark_impure()).  Such a directory is never read as a single
 * layer, and its whiteouts go with it when it is removed.
 */
bool rwl_is_impure(struct inode *dir)
{
	struct rwl_inode *oi = RWL_I(dir);
	struct path upath = {
		.mnt = RWL_FS(dir->i_sb)->upper.mnt,
		.dentry = rwl_i_upper(dir),
	};
	const struct cred *old_cred;
	bool marked;

	if (READ_ONCE(oi->impure))
		return true;
	if (!upath.dentry)
		return false;
	old_cred = rwl_override_creds(dir->i_sb);
	marked = rwl_dir_marked(&upath, RWL_XATTR_IMPURE);
	revert_creds(old_cred);
	if (marked)
		WRITE_ONCE(oi->impure, true);
	return marked;
}

/* Which lower file an upper non-directory was copied up from, if any. */
bool rwl_read_origin(struct super_block *sb, struct dentry *upper,
		     struct rwl_origin *origin)
{
	struct path upath = { .mnt = RWL_FS(sb)->upper.mnt, .dentry = upper };
	__le64 raw[2];

	if (d_is_dir(upper) ||
	    rwl_do_getxattr(&upath, RWL_XATTR_ORIGIN, raw, sizeof(raw)) !=
	    sizeof(raw))
		return false;
	origin->dev = le64_to_cpu(raw[0]);
	origin->ino = le64_to_cpu(raw[1]);
	return true;
}

/*
 * Is @lower the file the upper non-directory @upper was copied from?  Its
 * type must match too: the lower's inode number may have been reused.
 */
static bool rwl_origin_matches(const struct rwl_origin *origin,
			       struct dentry *upper, struct dentry *lower)
{
	return origin && origin->dev == d_inode(lower)->i_sb->s_dev &&
	       origin->ino == d_inode(lower)->i_ino &&
	       !inode_wrong_type(d_inode(lower), d_inode(upper)->i_mode);
}

/*
 * Collect the lower dentries for @name below @parent into @stack.  @above
 * is the upper dentry found, if any.  Returns how many were found or a
 * negative errno; on error no reference is kept.
 */
static int rwl_lookup_lowers(const struct rwl_entry *parent,
			     const struct qstr *name, struct dentry *above,
			     const struct rwl_origin *origin,
			     struct rwl_path *stack)
{
	struct dentry *this;
	struct path p;
	unsigned int i;
	int n = 0;

	for (i = 0; i < parent->num; i++) {
		this = rwl_do_lookup(name->name, parent->stack[i].dentry,
				     name->len);
		if (IS_ERR(this))
			goto out_put;
		if (d_is_negative(this)) {
			dput(this);
			continue;
		}
		if (rwl_is_whiteout(this)) {
			dput(this);
			break;
		}
		if (above && !d_is_dir(above)) {
			/* Only the file an upper copy came from stays below it. */
			if (rwl_origin_matches(origin, above, this)) {
				stack[n].layer = parent->stack[i].layer;
				stack[n++].dentry = this;
			} else {
				dput(this);
			}
			break;
		}
		/* A non-directory under a directory is hidden and ends the merge. */
		if ((n || above) && !d_is_dir(this)) {
			dput(this);
			break;
		}
		stack[n].layer = parent->stack[i].layer;
		stack[n].dentry = this;
		n++;
		if (!d_is_dir(this))
			break;
		rwl_layer_path(&stack[n - 1], &p);
		if (rwl_is_opaque(&p))
			break;
	}
	return n;

out_put:
	while (n--)
		dput(stack[n].dentry);
	return PTR_ERR(this);
}

/*
 * The upper dentry of @name in the upper directory @udir: NULL when the
 * name is absent or whited out (*whiteout says which), else a positive
 * dentry whose reference the caller owns.
 */
static struct dentry *rwl_lookup_upper_layer(struct dentry *udir,
					     const struct qstr *name,
					     bool *whiteout)
{
	struct dentry *this;

	*whiteout = false;
	if (!udir)
		return NULL;
	this = rwl_do_lookup(name->name, udir, name->len);
	if (IS_ERR(this) || (d_is_positive(this) && !rwl_is_whiteout(this)))
		return this;
	*whiteout = rwl_is_whiteout(this);
	dput(this);
	return NULL;
}

/* Is @name present in a lower below @parent (deleting it needs a whiteout)? */
bool rwl_lower_has_name(const struct dentry *parent, const struct qstr *name)
{
	const struct rwl_entry *pe = RWL_E(parent);
	const struct cred *old_cred;
	struct dentry *this;
	bool found = false;
	unsigned int i;

	old_cred = rwl_override_creds(parent->d_sb);
	for (i = 0; i < pe->num && !found; i++) {
		this = rwl_do_lookup(name->name, pe->stack[i].dentry, name->len);
		if (IS_ERR(this)) {
			/* When in doubt, hide: a stray whiteout is harmless. */
			found = true;
			break;
		}
		if (rwl_is_whiteout(this)) {
			dput(this);
			break;
		}
		found = d_is_positive(this);
		dput(this);
	}
	revert_creds(old_cred);
	return found;
}

/*
 * @stamp and @born_resets were taken before the layers were asked, so no
 * change slips by: a reset that removed an upper entry meanwhile makes
 * the negative dentry stale at once.
 */
static struct dentry *rwl_lookup_negative(struct dentry *dentry,
					  u64 stamp, bool sure,
					  int born_resets)
{
	struct rwl_entry *entry = rwl_entry_alloc(0);

	if (!entry)
		return ERR_PTR(-ENOMEM);
	rwl_entry_set_place(dentry, entry, &dentry->d_name);
	entry->born_resets = born_resets;
	entry->lower_stamp = stamp;
	entry->stamp_sure = sure;
	dentry->d_fsdata = entry;
	return d_splice_alias(NULL, dentry);
}

/*
 * Attach the union inode of what the lookup found.  A directory's inode
 * is found and attached under its rwl_dir_alias_lock(): rwl_inode_test()
 * passes over inodes that show under another name, and two lookups of
 * one directory (its old name and the new one, while the server renames
 * it) must not both find it shown nowhere, or d_splice_alias() would
 * move the first dentry, with the places cached below it, to the second
 * name.
 */
static struct dentry *rwl_lookup_instantiate(struct dentry *dentry,
					     struct rwl_entry *entry,
					     struct dentry *upper,
					     const struct rwl_origin *origin)
{
	struct super_block *sb = dentry->d_sb;
	const struct rwl_path *lower = entry->num ? &entry->stack[0] : NULL;
	struct inode *real = d_inode(lower ? lower->dentry : upper);
	struct mutex *alias_lock = NULL;
	struct inode *inode;
	struct dentry *ret;

	if (S_ISDIR(real->i_mode)) {
		alias_lock = rwl_dir_alias_lock(sb, real);
		mutex_lock(alias_lock);
	}
	inode = rwl_get_inode(sb, dentry, upper, lower, origin);
	dput(upper);
	if (IS_ERR(inode)) {
		rwl_entry_free(entry);
		ret = ERR_CAST(inode);
		goto out_unlock;
	}
	rwl_inherit_charge(inode, entry->place.rule);
	dentry->d_fsdata = entry;
	rwl_inode_set_in_rule(inode, dentry);
	ret = d_splice_alias(inode, dentry);
out_unlock:
	if (alias_lock)
		mutex_unlock(alias_lock);
	return ret;
}

struct dentry *rwl_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags)
{
	const struct rwl_entry *parent = RWL_E(dentry->d_parent);
	struct super_block *sb = dentry->d_sb;
	struct rwl_origin origin, *has_origin = NULL;
	struct dentry *upper = NULL;
	const struct cred *old_cred;
	struct rwl_entry *entry;
	struct timespec64 latest;
	bool whiteout, hide, sure;
	int n = 0, err, born_resets;
	u64 stamp;

	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);

	stamp = rwl_lower_stamp(parent, &latest);
	sure = rwl_stamp_sure(parent, &latest);
	/* Order the ctime reads before the lookups in the layers. */
	smp_rmb();

	entry = rwl_entry_alloc(parent->num);
	if (!entry)
		return ERR_PTR(-ENOMEM);
	rwl_entry_set_place(dentry, entry, &dentry->d_name);

	old_cred = rwl_override_creds(sb);
	upper = rwl_lookup_upper_layer(rwl_i_upper(dir), &dentry->d_name,
				       &whiteout);
	err = PTR_ERR(upper);
	if (IS_ERR(upper))
		goto out_revert;
	hide = whiteout ||
	       (upper && d_is_dir(upper) && entry->hides_lower);
	if (upper && d_is_dir(upper) && !hide) {
		struct path upath = {
			.mnt = RWL_FS(sb)->upper.mnt, .dentry = upper,
		};

		hide = rwl_is_opaque(&upath);
	}
	if (upper && rwl_read_origin(sb, upper, &origin))
		has_origin = &origin;
	if (!hide) {
		n = rwl_lookup_lowers(parent, &dentry->d_name, upper,
				      has_origin, entry->stack);
		err = n;
		if (n == -ESTALE)
			rwl_event_path(dentry, RWLAYER_EVENT_LOWER_STALE, n);
		if (n < 0)
			goto out_revert;
	}
	revert_creds(old_cred);
	entry->num = n;

	if (!upper && !n) {
		born_resets = entry->born_resets;
		rwl_entry_free(entry);
		return rwl_lookup_negative(dentry, stamp, sure, born_resets);
	}

	return rwl_lookup_instantiate(dentry, entry, upper, has_origin);

out_revert:
	revert_creds(old_cred);
	entry->num = 0;
	rwl_entry_free(entry);
	return ERR_PTR(err);
}
