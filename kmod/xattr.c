// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes are read from the real inode that the union shows.
 * The VFS has already checked the caller against the union inode
 * (xattr_permission); the real call runs with the mounter's credentials.
 */
#include <linux/xattr.h>

#include "rwlayer.h"

static int rwl_xattr_get(const struct xattr_handler *handler,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, void *buffer, size_t size)
{
	const struct cred *old_cred;
	struct path realpath;
	ssize_t ret;

	if (!dentry)
		return -EOPNOTSUPP;

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	ret = rwl_do_getxattr(&realpath, name, buffer, size);
	revert_creds(old_cred);
	return ret;
}

ssize_t rwl_listxattr(struct dentry *dentry, char *list, size_t size)
{
	const struct cred *old_cred;
	struct path realpath;
	ssize_t ret;

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	ret = rwl_do_listxattr(realpath.dentry, list, size);
	revert_creds(old_cred);
	return ret;
}

/* An empty prefix matches every name: the real filesystem decides. */
static const struct xattr_handler rwl_xattr_handler = {
	.prefix	= "",
	.get	= rwl_xattr_get,
};

const struct xattr_handler *rwl_xattr_handlers[] = {
	&rwl_xattr_handler,
	NULL
};
