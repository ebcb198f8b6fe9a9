/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels rwlayer builds for (Debian's 6.1 and
 * 6.12) live here and only here.  Core files use the rwl_* names below and
 * never test kernel versions themselves.  The COMPAT_HAS_* macros come
 * from probing the kernel headers (Kbuild.include); force-included by
 * Kbuild.
 */
#ifndef _RWLAYER_COMPAT_H
#define _RWLAYER_COMPAT_H

#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/splice.h>
#include <linux/xattr.h>

#ifdef COMPAT_HAS_MNT_IDMAP
/* 6.3 replaced the user namespace argument of the VFS with an idmap. */
#define rwl_idmap_t		struct mnt_idmap
#define RWL_NOP_IDMAP		(&nop_mnt_idmap)
#define rwl_mnt_idmap(mnt)	mnt_idmap(mnt)
#else
#define rwl_idmap_t		struct user_namespace
#define RWL_NOP_IDMAP		(&init_user_ns)
#define rwl_mnt_idmap(mnt)	mnt_user_ns(mnt)
#endif

struct posix_acl *rwl_get_inode_acl(struct inode *inode, int type, bool rcu);
struct posix_acl *rwl_get_acl(rwl_idmap_t *idmap, struct dentry *dentry,
			      int type);

#ifdef COMPAT_HAS_GET_INODE_ACL
/*
 * 6.2 split ACL access: ->get_inode_acl serves permission checks,
 * ->get_acl serves getxattr(system.posix_acl_*).
 */
#define RWL_ACL_INODE_OPERATIONS		\
	.get_inode_acl = rwl_get_inode_acl,	\
	.get_acl = rwl_get_acl

static inline struct posix_acl *rwl_real_inode_acl(struct inode *realinode,
						   int type)
{
	return get_inode_acl(realinode, type);
}

static inline struct posix_acl *rwl_real_acl(const struct path *realpath,
					     int type)
{
	return vfs_get_acl(mnt_idmap(realpath->mnt), realpath->dentry,
			   posix_acl_xattr_name(type));
}
#else
/* Before 6.2 getxattr of ACLs went through the xattr handlers. */
#define RWL_ACL_INODE_OPERATIONS		\
	.get_acl = rwl_get_inode_acl

static inline struct posix_acl *rwl_real_inode_acl(struct inode *realinode,
						   int type)
{
	return get_acl(realinode, type);
}

static inline struct posix_acl *rwl_real_acl(const struct path *realpath,
					     int type)
{
	return get_acl(d_inode(realpath->dentry), type);
}
#endif

#ifdef COMPAT_HAS_INODE_TIME_ACCESSORS
/* 6.6 hid the timestamps behind accessors. */
static inline void rwl_copy_times(struct inode *dst, const struct inode *src)
{
	inode_set_atime_to_ts(dst, inode_get_atime(src));
	inode_set_mtime_to_ts(dst, inode_get_mtime(src));
	inode_set_ctime_to_ts(dst, inode_get_ctime(src));
}
#else
static inline void rwl_copy_times(struct inode *dst, const struct inode *src)
{
	dst->i_atime = src->i_atime;
	dst->i_mtime = src->i_mtime;
	dst->i_ctime = src->i_ctime;
}
#endif

#ifdef COMPAT_HAS_VFS_SPLICE_READ
static inline ssize_t rwl_real_splice_read(struct file *realfile, loff_t *ppos,
					   struct pipe_inode_info *pipe,
					   size_t len, unsigned int flags)
{
	return vfs_splice_read(realfile, ppos, pipe, len, flags);
}
#else
/* do_splice_to() is not exported before 6.5; call the real method. */
static inline ssize_t rwl_real_splice_read(struct file *realfile, loff_t *ppos,
					   struct pipe_inode_info *pipe,
					   size_t len, unsigned int flags)
{
	if (unlikely(!realfile->f_op->splice_read))
		return -EINVAL;
	return realfile->f_op->splice_read(realfile, ppos, pipe, len, flags);
}
#endif

#ifdef AT_GETATTR_NOSEC
/*
 * Since 6.8 a stacked getattr reached through vfs_getattr_nosec() carries
 * AT_GETATTR_NOSEC and must not run the security hook again (vfs_getattr
 * warns about the flag).
 */
static inline int rwl_real_getattr(const struct path *path, struct kstat *stat,
				   u32 request_mask, unsigned int flags)
{
	if (flags & AT_GETATTR_NOSEC)
		return vfs_getattr_nosec(path, stat, request_mask, flags);
	return vfs_getattr(path, stat, request_mask, flags);
}
#else
static inline int rwl_real_getattr(const struct path *path, struct kstat *stat,
				   u32 request_mask, unsigned int flags)
{
	return vfs_getattr(path, stat, request_mask, flags);
}
#endif

#endif /* _RWLAYER_COMPAT_H */
