// SPDX-License-Identifier: GPL-2.0
/*
 * Setting a POSIX ACL through the union, per kernel.  The caller's right
 * is checked by rwl_acl_prepare() either way; the ACL then goes to the
 * upper copy with the mounter's credentials.
 */
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "../rwlayer.h"

#ifdef COMPAT_HAS_GET_INODE_ACL
/* ->set_acl: the VFS has parsed the ACL and checked the caller. */
int rwl_set_acl(struct mnt_idmap *idmap, struct dentry *dentry,
		struct posix_acl *acl, int type)
{
	const struct cred *old_cred;
	int err;

	err = rwl_acl_prepare(dentry, type, acl);
	if (!err)
		err = rwl_meta_write_begin(dentry);
	if (err)
		return err;
	old_cred = rwl_override_creds(dentry->d_sb);
	err = vfs_set_acl(&nop_mnt_idmap, rwl_upper(dentry),
			  posix_acl_xattr_name(type), acl);
	revert_creds(old_cred);
	rwl_meta_write_end(dentry);
	return err;
}

const struct xattr_handler *rwl_xattr_handlers[] = {
	&rwl_xattr_handler,
	NULL
};

/* An ACL the union worked out, on an upper object, as the mounter. */
int rwl_set_real_acl(struct super_block *sb, struct dentry *real, int type,
		     struct posix_acl *acl)
{
	return vfs_set_acl(rwl_upper_idmap(sb), real, posix_acl_xattr_name(type),
			   acl);
}

int rwl_remove_real_acl(struct super_block *sb, struct dentry *real, int type)
{
	return vfs_remove_acl(rwl_upper_idmap(sb), real,
			      posix_acl_xattr_name(type));
}
#else
/*
 * setxattr(system.posix_acl_*) arrives here unchecked (6.1's
 * xattr_permission() leaves system.* to the filesystem): the rules of
 * set_posix_acl() first, then the value as it came to the upper.
 */
static int rwl_acl_xattr_set(const struct xattr_handler *handler,
			     struct user_namespace *mnt_userns,
			     struct dentry *dentry, struct inode *inode,
			     const char *name, const void *value, size_t size,
			     int flags)
{
	struct posix_acl *acl = NULL;
	int err;

	if (value) {
		acl = posix_acl_from_xattr(&init_user_ns, value, size);
		if (IS_ERR(acl))
			return PTR_ERR(acl);
	}
	if (handler->flags == ACL_TYPE_DEFAULT && !S_ISDIR(inode->i_mode))
		err = acl ? -EACCES : 0;
	else
		err = rwl_acl_prepare(dentry, handler->flags, acl);
	posix_acl_release(acl);
	if (err)
		return err;
	return rwl_xattr_set_real(dentry, handler->name, value, size, flags);
}

static int rwl_acl_xattr_get(const struct xattr_handler *handler,
			     struct dentry *dentry, struct inode *inode,
			     const char *name, void *buffer, size_t size)
{
	if (!dentry)
		return -EOPNOTSUPP;
	return rwl_xattr_get_real(dentry, handler->name, buffer, size);
}

static const struct xattr_handler rwl_acl_access_handler = {
	.name	= XATTR_NAME_POSIX_ACL_ACCESS,
	.flags	= ACL_TYPE_ACCESS,
	.get	= rwl_acl_xattr_get,
	.set	= rwl_acl_xattr_set,
};

static const struct xattr_handler rwl_acl_default_handler = {
	.name	= XATTR_NAME_POSIX_ACL_DEFAULT,
	.flags	= ACL_TYPE_DEFAULT,
	.get	= rwl_acl_xattr_get,
	.set	= rwl_acl_xattr_set,
};

/* An ACL the union worked out, on an upper object, as the mounter. */
int rwl_set_real_acl(struct super_block *sb, struct dentry *real, int type,
		     struct posix_acl *acl)
{
	size_t size = posix_acl_xattr_size(acl->a_count);
	void *value;
	int err;

	/* An XFS ACL may take tens of KiB. */
	value = kvmalloc(size, GFP_KERNEL);
	if (!value)
		return -ENOMEM;
	err = posix_acl_to_xattr(&init_user_ns, acl, value, size);
	if (err >= 0)
		err = vfs_setxattr(rwl_upper_idmap(sb), real,
				   type == ACL_TYPE_ACCESS ?
				   XATTR_NAME_POSIX_ACL_ACCESS :
				   XATTR_NAME_POSIX_ACL_DEFAULT,
				   value, size, 0);
	kvfree(value);
	return err;
}

int rwl_remove_real_acl(struct super_block *sb, struct dentry *real, int type)
{
	return vfs_removexattr(rwl_upper_idmap(sb), real,
			       type == ACL_TYPE_ACCESS ?
			       XATTR_NAME_POSIX_ACL_ACCESS :
			       XATTR_NAME_POSIX_ACL_DEFAULT);
}

/* Ahead of the catch-all, which would take every name. */
const struct xattr_handler *rwl_xattr_handlers[] = {
	&rwl_acl_access_handler,
	&rwl_acl_default_handler,
	&rwl_xattr_handler,
	NULL
};
#endif
