// SPDX-License-Identifier: GPL-2.0
/*
 * Union inodes: attributes, permission, symlinks and ACLs.
 */
#include <linux/posix_acl.h>
#include <linux/xattr.h>

#include "rwlayer.h"

/* Mirror the real inode's attributes, which the caller's checks rely on. */
void rwl_copyattr(struct inode *inode)
{
	struct inode *real = rwl_inode_real(inode);

	inode->i_mode = real->i_mode;
	inode->i_uid = real->i_uid;
	inode->i_gid = real->i_gid;
	set_nlink(inode, real->i_nlink);
	i_size_write(inode, i_size_read(real));
	inode->i_blocks = real->i_blocks;
	rwl_copy_times(inode, real);
}

/*
 * Permission is checked twice: for the caller against the union inode,
 * then for the mounter against the real inode, because every access to
 * the layer is made with the mounter's credentials.
 */
static int rwl_permission(rwl_idmap_t *idmap, struct inode *inode, int mask)
{
	const struct rwl_inode *oi = RWL_I(inode);
	const struct cred *old_cred;
	int err;

	err = generic_permission(RWL_NOP_IDMAP, inode, mask);
	if (err)
		return err;

	old_cred = rwl_override_creds(inode->i_sb);
	err = inode_permission(rwl_mnt_idmap(oi->layer->mnt), oi->real, mask);
	revert_creds(old_cred);
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

	if (d_is_dir(dentry))
		stat->dev = dentry->d_sb->s_dev;
	rwl_copyattr(d_inode(dentry));
	return 0;
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
	.permission	= rwl_permission,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	RWL_ACL_INODE_OPERATIONS,
};

static const struct inode_operations rwl_file_inode_operations = {
	.permission	= rwl_permission,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	RWL_ACL_INODE_OPERATIONS,
};

static const struct inode_operations rwl_symlink_inode_operations = {
	.get_link	= rwl_get_link,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
};

static const struct inode_operations rwl_special_inode_operations = {
	.permission	= rwl_permission,
	.getattr	= rwl_getattr,
	.listxattr	= rwl_listxattr,
	RWL_ACL_INODE_OPERATIONS,
};

static void rwl_inode_init(struct inode *inode, const struct rwl_path *top)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct inode *real = oi->real;
	umode_t mode = real->i_mode;

	ihold(real);
	oi->layer = top->layer;
	inode->i_ino = real->i_ino;
	inode->i_mode = mode;
	inode->i_flags |= S_NOCMTIME;

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

static int rwl_inode_test(struct inode *inode, void *data)
{
	return RWL_I(inode)->real == data;
}

static int rwl_inode_set(struct inode *inode, void *data)
{
	RWL_I(inode)->real = data;
	return 0;
}

struct inode *rwl_get_inode(struct super_block *sb, const struct rwl_path *top)
{
	struct inode *real = d_inode(top->dentry);
	struct inode *inode;

	inode = iget5_locked(sb, (unsigned long)real, rwl_inode_test,
			     rwl_inode_set, real);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (inode->i_state & I_NEW) {
		rwl_inode_init(inode, top);
		unlock_new_inode(inode);
	}
	return inode;
}
