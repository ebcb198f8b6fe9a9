// SPDX-License-Identifier: GPL-2.0
/*
 * Extended attributes are read from the real inode that the union shows
 * and written to the upper copy.  The VFS has already checked the caller
 * against the union inode (xattr_permission); the real call runs with
 * the mounter's credentials.  The xattrs that make up the upper's format
 * (trusted.overlay.*, trusted.rwlayer.*) are not visible through the
 * union.
 */
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "rwlayer.h"

bool rwl_is_private_xattr(const char *name)
{
	return !strncmp(name, RWL_XATTR_OVL_PREFIX,
			sizeof(RWL_XATTR_OVL_PREFIX) - 1) ||
	       !strncmp(name, RWL_XATTR_OWN_PREFIX,
			sizeof(RWL_XATTR_OWN_PREFIX) - 1);
}

/* Read @name from the real inode that @dentry shows. */
ssize_t rwl_xattr_get_real(struct dentry *dentry, const char *name,
			   void *buffer, size_t size)
{
	const struct cred *old_cred;
	struct path realpath;
	ssize_t ret;

	rwl_real_path(dentry, &realpath);
	old_cred = rwl_override_creds(dentry->d_sb);
	ret = rwl_do_getxattr(&realpath, name, buffer, size);
	revert_creds(old_cred);
	return ret;
}

/* setxattr (@value set) and removexattr (@value NULL) on the upper copy. */
int rwl_xattr_set_real(struct dentry *dentry, const char *name,
		       const void *value, size_t size, int flags)
{
	const struct cred *old_cred;
	struct dentry *upper;
	ssize_t err;

	/* Removing what is not there changes nothing: no copy-up for it. */
	if (!value && !rwl_upper(dentry)) {
		err = rwl_xattr_get_real(dentry, name, NULL, 0);
		if (err < 0)
			return err;
	}
	err = rwl_meta_write_begin(dentry);
	if (err)
		return err;
	upper = rwl_upper(dentry);
	old_cred = rwl_override_creds(dentry->d_sb);
	if (value)
		err = rwl_do_setxattr(dentry->d_sb, upper, name, value, size,
				      flags);
	else
		err = rwl_do_removexattr(dentry->d_sb, upper, name);
	revert_creds(old_cred);
	rwl_meta_write_end(dentry);
	return err;
}

static int rwl_xattr_get(const struct xattr_handler *handler,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, void *buffer, size_t size)
{
	if (!dentry || rwl_is_private_xattr(name))
		return -EOPNOTSUPP;
	return rwl_xattr_get_real(dentry, name, buffer, size);
}

static int rwl_xattr_set(const struct xattr_handler *handler,
			 rwl_idmap_t *idmap, struct dentry *dentry,
			 struct inode *inode, const char *name,
			 const void *value, size_t size, int flags)
{
	if (rwl_is_private_xattr(name))
		return -EOPNOTSUPP;
	return rwl_xattr_set_real(dentry, name, value, size, flags);
}

/*
 * May the caller see @name in a listing?  Not the private names, and the
 * trusted.* ones only with CAP_SYS_ADMIN, as the bare filesystem decides
 * it: the listing itself was made with the mounter's credentials.
 */
static bool rwl_can_list(const char *name, bool trusted)
{
	if (rwl_is_private_xattr(name))
		return false;
	return trusted || strncmp(name, XATTR_TRUSTED_PREFIX,
				  XATTR_TRUSTED_PREFIX_LEN);
}

/* Keep what the caller may see of a list of NUL-terminated names. */
static ssize_t rwl_filter_xattr_list(char *list, ssize_t len)
{
	bool trusted = ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	char *src = list, *dst = list;
	size_t n;

	while (src < list + len) {
		n = strnlen(src, list + len - src) + 1;
		/* The real filesystem's list must end in a NUL. */
		if (src + n > list + len)
			return -EIO;
		if (rwl_can_list(src, trusted)) {
			memmove(dst, src, n);
			dst += n;
		}
		src += n;
	}
	return dst - list;
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
	/* A size query may answer more than the caller then gets. */
	if (ret <= 0 || !size)
		return ret;
	return rwl_filter_xattr_list(list, ret);
}

static bool rwl_is_acl_xattr(const char *name)
{
	return !strcmp(name, XATTR_NAME_POSIX_ACL_ACCESS) ||
	       !strcmp(name, XATTR_NAME_POSIX_ACL_DEFAULT);
}

static int rwl_copy_one_xattr(struct super_block *sb, const struct path *from,
			      struct dentry *to, const char *name, void **buf,
			      size_t *bufsize)
{
	rwl_idmap_t *idmap = rwl_mnt_idmap(from->mnt);
	ssize_t size;
	int err;

	if (rwl_is_acl_xattr(name))
		return rwl_copy_acl(from, to, name);

	size = vfs_getxattr(idmap, from->dentry, name, NULL, 0);
	if (size < 0)
		return size == -ENODATA ? 0 : size;
	if (size > *bufsize) {
		kvfree(*buf);
		*bufsize = 0;
		*buf = kvmalloc(size, GFP_KERNEL);
		if (!*buf)
			return -ENOMEM;
		*bufsize = size;
	}
	size = vfs_getxattr(idmap, from->dentry, name, *buf, size);
	if (size < 0)
		return size;
	err = rwl_do_setxattr(sb, to, name, *buf, size, 0);
	/* An xattr namespace the upper lacks must not block the copy. */
	if (err == -EOPNOTSUPP) {
		pr_warn_ratelimited("copy-up of %pd2: upper cannot store %s\n",
				    from->dentry, name);
		err = 0;
	}
	return err;
}

/* Copy every xattr (ACLs and file capabilities included) but ours. */
int rwl_copy_xattrs(struct super_block *sb, const struct path *from,
		    struct dentry *to)
{
	size_t bufsize = 0;
	void *buf = NULL;
	ssize_t len;
	char *list, *name;
	int err = 0;

	len = rwl_do_listxattr(from->dentry, NULL, 0);
	if (len <= 0)
		return len == -EOPNOTSUPP ? 0 : len;
	list = kvmalloc(len, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	len = rwl_do_listxattr(from->dentry, list, len);
	if (len < 0) {
		err = len;
		goto out;
	}
	for (name = list; name < list + len; name += strlen(name) + 1) {
		if (rwl_is_private_xattr(name))
			continue;
		err = rwl_copy_one_xattr(sb, from, to, name, &buf, &bufsize);
		if (err)
			break;
	}
out:
	kvfree(buf);
	kvfree(list);
	return err;
}

/*
 * An empty prefix matches every name: the real filesystem decides.  The
 * list of handlers is per kernel (compat/acl.c).
 */
const struct xattr_handler rwl_xattr_handler = {
	.prefix	= "",
	.get	= rwl_xattr_get,
	.set	= rwl_xattr_set,
};
