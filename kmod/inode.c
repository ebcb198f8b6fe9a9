// SPDX-License-Identifier: GPL-2.0
/*
 * Union inodes: attributes, permission, symlinks and ACLs.
 */
#include <linux/fileattr.h>
#include <linux/hash.h>
#include <linux/posix_acl.h>
#include <linux/xattr.h>

#include "rwlayer.h"

/* The real inode's flags that the VFS checks on the union inode. */
#define RWL_MIRRORED_FLAGS	(S_APPEND | S_IMMUTABLE | S_SYNC | S_NOATIME)

/*
 * Do the union inode's owner, mode and flags still say what the real
 * inode says?  The image server may change them at any time.
 */
static bool rwl_perm_attrs_current(const struct inode *inode,
				   const struct inode *real)
{
	return READ_ONCE(inode->i_mode) == READ_ONCE(real->i_mode) &&
	       uid_eq(inode->i_uid, real->i_uid) &&
	       gid_eq(inode->i_gid, real->i_gid) &&
	       !((READ_ONCE(inode->i_flags) ^ READ_ONCE(real->i_flags)) &
		 RWL_MIRRORED_FLAGS);
}

static void rwl_copy_perm_attrs(struct inode *inode, const struct inode *real)
{
	WRITE_ONCE(inode->i_mode, real->i_mode);
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	inode_set_flags(inode, READ_ONCE(real->i_flags) & RWL_MIRRORED_FLAGS,
			RWL_MIRRORED_FLAGS);
}

/*
 * From d_revalidate, also in RCU walk: the VFS checks the flags before
 * ->permission, on every name of a path walk.
 */
void rwl_refresh_perm_attrs(struct inode *inode)
{
	struct inode *real = rwl_inode_real(inode);

	if (!rwl_perm_attrs_current(inode, real))
		rwl_copy_perm_attrs(inode, real);
}

/* Mirror the real inode's attributes, which the caller's checks rely on. */
void rwl_copyattr(struct inode *inode)
{
	struct inode *real = rwl_inode_real(inode);

	rwl_copy_perm_attrs(inode, real);
	set_nlink(inode, real->i_nlink);
	i_size_write(inode, i_size_read(real));
	inode->i_blocks = real->i_blocks;
	rwl_copy_times(inode, real);
}

/*
 * Permission is checked twice: for the caller against the union inode,
 * then for the mounter against the real inode, because every access to
 * the layer is made with the mounter's credentials.  A write to a lower
 * inode will be a write to its upper copy; the mounter only needs to be
 * able to read the lower for that.
 */
static int rwl_permission(rwl_idmap_t *idmap, struct inode *inode, int mask)
{
	const struct rwl_layer *layer = rwl_inode_layer(inode);
	struct inode *real = rwl_inode_real(inode);
	const struct cred *old_cred;
	int err;

	/*
	 * The caller is checked against the real owner and mode as they are
	 * now; in RCU walk a change since the last look means the slow walk.
	 */
	if (!rwl_perm_attrs_current(inode, real)) {
		if (mask & MAY_NOT_BLOCK)
			return -ECHILD;
		rwl_copy_perm_attrs(inode, real);
	}

	/* Like a read-only filesystem, before any other answer. */
	if ((mask & MAY_WRITE) && !special_file(inode->i_mode)) {
		err = rwl_inode_in_rule(inode, mask & MAY_NOT_BLOCK);
		if (err < 0)
			return err;
		if (!err)
			return -EROFS;
	}
	err = generic_permission(RWL_NOP_IDMAP, inode, mask);
	if (err)
		return err;

	if (!rwl_i_upper(inode) && (mask & MAY_WRITE) &&
	    !special_file(real->i_mode)) {
		mask &= ~(MAY_WRITE | MAY_APPEND);
		mask |= MAY_READ;
	}
	old_cred = rwl_override_creds(inode->i_sb);
	err = inode_permission(rwl_mnt_idmap(layer->mnt), real, mask);
	revert_creds(old_cred);
	return err;
}

/*
 * The caller's right to change attributes is checked against the union
 * inode; the change itself goes to the upper copy, made first.
 */
static int rwl_setattr(rwl_idmap_t *idmap, struct dentry *dentry,
		       struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct dentry *upper;
	const struct cred *old_cred;
	int err;

	err = rwl_may_write(dentry);
	if (err)
		return err;
	err = setattr_prepare(RWL_NOP_IDMAP, dentry, attr);
	if (err)
		return err;

	/* The copy-up pays for the data it copies, the growth comes after. */
	err = rwl_copy_up_flags(dentry, attr->ia_valid & ATTR_SIZE &&
				!attr->ia_size ? O_TRUNC : 0);
	if (err)
		return err;
	if (attr->ia_valid & ATTR_SIZE) {
		err = rwl_charge_size(inode, rwl_rule_of(dentry),
				      attr->ia_size);
		if (err)
			goto out_settle;
	}

	/* The real filesystem works the mode out again from the kill bits. */
	if (attr->ia_valid & (ATTR_KILL_SUID | ATTR_KILL_SGID))
		attr->ia_valid &= ~ATTR_MODE;
	/* The union file is not the upper's. */
	attr->ia_valid &= ~ATTR_FILE;

	upper = rwl_upper(dentry);
	err = mnt_want_write(RWL_FS(dentry->d_sb)->upper.mnt);
	if (err)
		goto out_settle;
	old_cred = rwl_override_creds(dentry->d_sb);
	inode_lock(d_inode(upper));
	err = rwl_do_setattr(dentry->d_sb, upper, attr);
	inode_unlock(d_inode(upper));
	revert_creds(old_cred);
	mnt_drop_write(RWL_FS(dentry->d_sb)->upper.mnt);
	rwl_copyattr(inode);
out_settle:
	if (attr->ia_valid & ATTR_SIZE)
		rwl_settle_size(inode);
	return err;
}

/*
 * A non-directory reports the real st_dev/st_ino of the file it shows, so
 * its identity is stable across remounts.  A directory reports the union's
 * own device: find -xdev, mountpoint(1) and ".." checks see one filesystem.
 */
static int rwl_getattr(rwl_idmap_t *idmap, const struct path *path,
		       struct kstat *stat, u32 request_mask,
		       unsigned int flags)
{
	struct dentry *dentry = path->dentry;
	const struct cred *old_cred;
	struct path realpath;
	int err;

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	err = rwl_do_getattr(&realpath, stat, request_mask, flags);
	revert_creds(old_cred);
	if (err)
		return err;

	/* Identity is the lower file's, before and after copy-up. */
	if (d_is_dir(dentry)) {
		stat->dev = dentry->d_sb->s_dev;
		stat->ino = d_inode(dentry)->i_ino;
		/*
		 * No real link count says how many subdirectories a merge
		 * shows; 1 means "unknown" to find(1), as on overlayfs.
		 */
		if (rwl_dir_layers(dentry) > 1)
			stat->nlink = 1;
	} else if (READ_ONCE(RWL_I(d_inode(dentry))->origin_dev)) {
		stat->dev = RWL_I(d_inode(dentry))->origin_dev;
		stat->ino = d_inode(dentry)->i_ino;
	}
	rwl_copyattr(d_inode(dentry));
	return 0;
}

/* chattr/lsattr: read from the real inode the union shows. */
static int rwl_fileattr_get(struct dentry *dentry, struct fileattr *fa)
{
	const struct cred *old_cred;
	struct path realpath;
	int err;

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	err = vfs_fileattr_get(realpath.dentry, fa);
	revert_creds(old_cred);
	return err;
}

/*
 * The VFS checked the caller on the union inode (owner,
 * CAP_LINUX_IMMUTABLE).  Append-only and immutable are not set in the
 * upper, where they would block the union's own changes (a reset).
 */
static int rwl_fileattr_set(rwl_idmap_t *idmap, struct dentry *dentry,
			    struct fileattr *fa)
{
	const struct cred *old_cred;
	int err;

	if ((fa->flags & (FS_APPEND_FL | FS_IMMUTABLE_FL)) ||
	    (fa->fsx_xflags & (FS_XFLAG_APPEND | FS_XFLAG_IMMUTABLE)))
		return -EOPNOTSUPP;
	err = rwl_meta_write_begin(dentry);
	if (err)
		return err;
	old_cred = rwl_override_creds(dentry->d_sb);
	err = vfs_fileattr_set(rwl_upper_idmap(dentry->d_sb), rwl_upper(dentry),
			       fa);
	revert_creds(old_cred);
	rwl_meta_write_end(dentry);
	return err;
}

static const char *rwl_get_link(struct dentry *dentry, struct inode *inode,
				struct delayed_call *done)
{
	const struct cred *old_cred;
	struct path realpath;
	const char *link;

	if (!dentry)
		return ERR_PTR(-ECHILD);

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	link = vfs_get_link(realpath.dentry, done);
	revert_creds(old_cred);
	return link;
}

struct posix_acl *rwl_get_inode_acl(struct inode *inode, int type, bool rcu)
{
	struct inode *real = rwl_inode_real(inode);
	const struct cred *old_cred;
	struct posix_acl *acl;

	if (!IS_POSIXACL(real))
		return NULL;
	if (rcu)
		return get_cached_acl_rcu(real, type);

	old_cred = rwl_override_creds(inode->i_sb);
	acl = rwl_real_inode_acl(real, type);
	revert_creds(old_cred);
	return acl;
}

/*
 * Before an ACL reaches the upper: the checks of set_posix_acl() (the
 * VFS makes them itself since 6.2), and the set-group-ID bit that the
 * real filesystem clears when the caller is outside the file's group.
 * It cannot see the caller: the ACL is set with the mounter's
 * credentials, which are in every group.
 */
int rwl_acl_prepare(struct dentry *dentry, int type,
		    const struct posix_acl *acl)
{
	struct inode *inode = d_inode(dentry);
	struct iattr attr = { .ia_valid = ATTR_MODE | ATTR_FORCE };
	int err;

	rwl_copyattr(inode);
	if (!inode_owner_or_capable(RWL_NOP_IDMAP, inode))
		return -EPERM;
	if (acl) {
		err = posix_acl_valid(&init_user_ns, acl);
		if (err)
			return err;
	}
	if (type != ACL_TYPE_ACCESS || !(inode->i_mode & S_ISGID) ||
	    in_group_p(inode->i_gid) ||
	    capable_wrt_inode_uidgid(RWL_NOP_IDMAP, inode, CAP_FSETID))
		return 0;
	attr.ia_mode = inode->i_mode & ~S_ISGID;
	return rwl_setattr(RWL_NOP_IDMAP, dentry, &attr);
}

struct posix_acl *rwl_get_acl(rwl_idmap_t *idmap, struct dentry *dentry,
			      int type)
{
	const struct cred *old_cred;
	struct path realpath;
	struct posix_acl *acl;

	rwl_real_path(dentry, &realpath);
	if (!IS_POSIXACL(d_inode(realpath.dentry)))
		return NULL;

	old_cred = rwl_override_creds(dentry->d_sb);
	acl = rwl_real_acl(&realpath, type);
	revert_creds(old_cred);
	return acl;
}

const struct inode_operations rwl_dir_inode_operations = {
	.lookup		= rwl_lookup,
	.create		= rwl_create,
	.mkdir		= rwl_mkdir,
	.mknod		= rwl_mknod,
	.symlink	= rwl_symlink,
	.link		= rwl_link,
	.unlink		= rwl_unlink,
	.rmdir		= rwl_rmdir,
	.rename		= rwl_rename,
	.permission	= rwl_permission,
	.setattr	= rwl_setattr,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	.fileattr_get	= rwl_fileattr_get,
	.fileattr_set	= rwl_fileattr_set,
	RWL_ACL_INODE_OPERATIONS,
};

static const struct inode_operations rwl_file_inode_operations = {
	.permission	= rwl_permission,
	.setattr	= rwl_setattr,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	.fileattr_get	= rwl_fileattr_get,
	.fileattr_set	= rwl_fileattr_set,
	RWL_ACL_INODE_OPERATIONS,
};

static const struct inode_operations rwl_symlink_inode_operations = {
	.get_link	= rwl_get_link,
	.setattr	= rwl_setattr,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
};

static const struct inode_operations rwl_special_inode_operations = {
	.permission	= rwl_permission,
	.setattr	= rwl_setattr,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	.fileattr_get	= rwl_fileattr_get,
	.fileattr_set	= rwl_fileattr_set,
	RWL_ACL_INODE_OPERATIONS,
};

/*
 * Directories report the union's st_dev, so their numbers must be unique
 * across the layers' filesystems: the real number with the index of its
 * filesystem in the top bits (overlayfs' xino does the same).  0 when the
 * real number needs those bits.  The same for an inode and in readdir.
 */
u64 rwl_dir_ino(const struct rwl_fs *ofs, const struct rwl_layer *layer,
		u64 ino)
{
	if (!ofs->ino_shift)
		return ino;
	if (ino >> ofs->ino_shift)
		return 0;
	return ino | ((u64)layer->fsid << ofs->ino_shift);
}

/*
 * A directory whose real number is too big gets one from the top index,
 * which no filesystem has: unique, but only while the inode is cached.
 */
static u64 rwl_dir_inode_ino(struct inode *inode)
{
	struct rwl_fs *ofs = RWL_FS(inode->i_sb);
	u64 ino = rwl_dir_ino(ofs, RWL_I(inode)->layer, RWL_I(inode)->real->i_ino);

	return ino ?: (~0ULL << ofs->ino_shift) |
		      atomic64_inc_return(&ofs->pseudo_ino);
}

/*
 * An rwlayer may be a layer of another rwlayer (or of overlayfs): the
 * union inode's locks are then taken while those of the union below are
 * held, which lockdep would take for recursion within one class.  Each
 * stacking depth gets classes of its own.
 */
static void rwl_lockdep_classes(struct inode *inode)
{
#ifdef CONFIG_LOCKDEP
	static struct lock_class_key dir_rwsem[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key rwsem[FILESYSTEM_MAX_STACK_DEPTH];
	static struct lock_class_key copy_up[FILESYSTEM_MAX_STACK_DEPTH];
	int depth = clamp(inode->i_sb->s_stack_depth - 1, 0,
			  FILESYSTEM_MAX_STACK_DEPTH - 1);

	lockdep_set_class(&inode->i_rwsem, S_ISDIR(inode->i_mode) ?
			  &dir_rwsem[depth] : &rwsem[depth]);
	lockdep_set_class(&RWL_I(inode)->lock, &copy_up[depth]);
#endif
}

static void rwl_inode_init(struct inode *inode, const struct rwl_path *lower,
			   const struct rwl_origin *origin)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct inode *real = oi->real;
	umode_t mode = real->i_mode;

	ihold(real);
	oi->layer = lower ? lower->layer : &RWL_FS(inode->i_sb)->upper;
	inode->i_ino = real->i_ino;
	if (lower && !S_ISDIR(mode))
		oi->origin_dev = real->i_sb->s_dev;
	/* A copy renamed away from its lower file keeps that identity. */
	if (!lower && origin) {
		oi->origin_dev = origin->dev;
		inode->i_ino = origin->ino;
	}
	/*
	 * The copy of one name of a lower hard link is a file of its own:
	 * it must not share an identity with the other names (tar, rsync -H
	 * would take them for one file).  Copies made now carry no origin.
	 */
	if (lower && oi->__upper && !S_ISDIR(mode) && real->i_nlink > 1) {
		oi->origin_dev = 0;
		inode->i_ino = d_inode(oi->__upper)->i_ino;
	}
	if (S_ISDIR(mode))
		inode->i_ino = rwl_dir_inode_ino(inode);
	inode->i_mode = mode;
	inode->i_flags |= S_NOCMTIME;
	rwl_lockdep_classes(inode);
#ifdef CONFIG_FS_POSIX_ACL
	/* The real inode caches its ACLs; a second cache would go stale. */
	inode->i_acl = ACL_DONT_CACHE;
	inode->i_default_acl = ACL_DONT_CACHE;
#endif

	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &rwl_file_inode_operations;
		inode->i_fop = &rwl_file_operations;
		break;
	case S_IFDIR:
		inode->i_op = &rwl_dir_inode_operations;
		inode->i_fop = &rwl_dir_operations;
		break;
	case S_IFLNK:
		inode->i_op = &rwl_symlink_inode_operations;
		break;
	default:
		inode->i_op = &rwl_special_inode_operations;
		init_special_inode(inode, mode, real->i_rdev);
		break;
	}
	rwl_copyattr(inode);
}

/*
 * What a lookup found: the hash key and the upper copy, if any, and the
 * dentry the inode is for (in-lookup or new, its parent locked; NULL for
 * the root, the first inode of its superblock).  mkdir attaches its new
 * inode without rwl_dir_alias_lock(): it holds the upper's freeze
 * protection, which a lookup's copy-up charge (rwl_inherit_charge())
 * waits for under that lock.  Its key is an upper directory made a
 * moment ago, which only a lookup of the same path can find.
 */
struct rwl_inode_key {
	struct inode *real;
	struct dentry *upper;
	const struct dentry *dentry;
};

/*
 * Does the directory inode show, if anywhere, only at @dentry's name in
 * @dentry's parent?  An alias there (one a process still holds, which a
 * revalidation dropped) is attached again as it was; an alias elsewhere
 * would be moved by d_splice_alias(), with the places and lower stacks
 * cached in it and below it, and a subtree would keep another path's
 * rule.  Under the inode hash lock, so i_lock and d_lock nest inside.
 */
static bool rwl_dir_shows_only_here(struct inode *inode,
				    const struct dentry *dentry)
{
	const struct qstr *name = dentry ? &dentry->d_name : NULL;
	struct dentry *alias;
	bool here = true;

	spin_lock(&inode->i_lock);
	hlist_for_each_entry(alias, &inode->i_dentry, d_u.d_alias) {
		spin_lock(&alias->d_lock);
		here = dentry && alias->d_parent == dentry->d_parent &&
		       alias->d_name.hash_len == name->hash_len &&
		       !memcmp(alias->d_name.name, name->name, name->len);
		spin_unlock(&alias->d_lock);
		if (!here)
			break;
	}
	spin_unlock(&inode->i_lock);
	return here;
}

struct mutex *rwl_dir_alias_lock(struct super_block *sb,
				 const struct inode *real)
{
	return &RWL_FS(sb)->dir_alias_locks[hash_ptr(real, RWL_DIR_ALIAS_BITS)];
}

/*
 * One lower inode may stand behind several union inodes: the names of a
 * lower hard link copied up one by one, a lower directory the server
 * renamed while the client holds an upper directory made for its old
 * name.  A cached union inode is the one found only if its upper copy is
 * the one the lookup found (or neither has one), so no name ever reaches
 * another name's data.  A directory's is found only where it already
 * shows (rwl_dir_shows_only_here()); the server's rename gets the new
 * name an inode of its own.  Directory inodes are found and attached
 * under their rwl_dir_alias_lock(), so two lookups of one directory at
 * two names cannot both find it shown nowhere.
 */
static int rwl_inode_test(struct inode *inode, void *data)
{
	const struct rwl_inode_key *key = data;
	struct rwl_inode *oi = RWL_I(inode);
	struct dentry *cached = READ_ONCE(oi->__upper);

	if (oi->real != key->real)
		return 0;
	if (S_ISDIR(key->real->i_mode) &&
	    !rwl_dir_shows_only_here(inode, key->dentry))
		return 0;
	if (!cached || !key->upper)
		return !cached && !key->upper;
	return d_inode(cached) == d_inode(key->upper);
}

/* Under the inode hash lock: the inode is found by its upper from now on. */
static int rwl_inode_set(struct inode *inode, void *data)
{
	const struct rwl_inode_key *key = data;

	RWL_I(inode)->real = key->real;
	if (key->upper)
		RWL_I(inode)->__upper = dget(key->upper);
	return 0;
}

/*
 * The union inode for a name found as @upper and/or @lower (the topmost
 * lower dentry).  The lower inode is the key when there is one, so a
 * file keeps its union inode when it is copied up; rwl_inode_test()
 * tells apart the union inodes of one key.
 */
struct inode *rwl_get_inode(struct super_block *sb,
			    const struct dentry *dentry, struct dentry *upper,
			    const struct rwl_path *lower,
			    const struct rwl_origin *origin)
{
	struct rwl_inode_key key = {
		.real = d_inode(lower ? lower->dentry : upper),
		.upper = upper,
		.dentry = dentry,
	};
	struct inode *inode;

	/*
	 * Names of a hard-linked lower file get a union inode each once the
	 * union is writable: a copy-up through one name must not change what
	 * the others show (overlayfs without index=on does the same).
	 */
	if (lower && !upper && rwl_has_upper(sb) &&
	    !S_ISDIR(key.real->i_mode) && key.real->i_nlink > 1) {
		inode = new_inode(sb);
		if (!inode)
			return ERR_PTR(-ENOMEM);
		RWL_I(inode)->real = key.real;
		rwl_inode_init(inode, lower, origin);
		return inode;
	}

	inode = iget5_locked(sb, (unsigned long)key.real, rwl_inode_test,
			     rwl_inode_set, &key);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		rwl_inode_init(inode, lower, origin);
		unlock_new_inode(inode);
	}
	return inode;
}
