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
#include <linux/slab.h>
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
int rwl_set_real_acl(struct super_block *sb, struct dentry *real, int type,
		     struct posix_acl *acl);
int rwl_remove_real_acl(struct super_block *sb, struct dentry *real, int type);

#ifdef COMPAT_HAS_GET_INODE_ACL
/*
 * 6.2 split ACL access: ->get_inode_acl serves permission checks,
 * ->get_acl serves getxattr(system.posix_acl_*) and ->set_acl serves
 * setxattr(system.posix_acl_*), after the VFS checked the caller.
 */
#define RWL_ACL_INODE_OPERATIONS		\
	.get_inode_acl = rwl_get_inode_acl,	\
	.get_acl = rwl_get_acl,			\
	.set_acl = rwl_set_acl

int rwl_set_acl(struct mnt_idmap *idmap, struct dentry *dentry,
		struct posix_acl *acl, int type);

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
/*
 * Before 6.2 {get,set}xattr of ACLs went through the xattr handlers, with
 * no check by the VFS: compat/acl.c has ours.
 */
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

#ifdef COMPAT_HAS_GET_INODE_ACL
/* Since 6.2 ACLs are no longer reachable as plain xattrs in the kernel. */
static inline int rwl_copy_acl(const struct path *from, struct dentry *to,
			       const char *name)
{
	struct posix_acl *acl;
	int err;

	acl = vfs_get_acl(mnt_idmap(from->mnt), from->dentry, name);
	if (IS_ERR(acl))
		return PTR_ERR(acl) == -ENODATA ? 0 : PTR_ERR(acl);
	err = vfs_set_acl(&nop_mnt_idmap, to, name, acl);
	posix_acl_release(acl);
	return err;
}
#else
static inline int rwl_copy_acl(const struct path *from, struct dentry *to,
			       const char *name)
{
	ssize_t size;
	void *value;
	int err;

	size = vfs_getxattr(mnt_user_ns(from->mnt), from->dentry, name, NULL, 0);
	if (size <= 0)
		return size == -ENODATA ? 0 : size;
	value = kmalloc(size, GFP_KERNEL);
	if (!value)
		return -ENOMEM;
	size = vfs_getxattr(mnt_user_ns(from->mnt), from->dentry, name, value,
			    size);
	err = size < 0 ? size : vfs_setxattr(&init_user_ns, to, name, value,
					     size, 0);
	kfree(value);
	return err;
}
#endif

#ifdef COMPAT_HAS_MNT_IDMAP
static inline int rwl_vfs_rename(struct mnt_idmap *idmap, struct inode *olddir,
				 struct dentry *old, struct inode *newdir,
				 struct dentry *new, unsigned int flags)
{
	struct renamedata rd = {
		.old_mnt_idmap	= idmap,
		.old_dir	= olddir,
		.old_dentry	= old,
		.new_mnt_idmap	= idmap,
		.new_dir	= newdir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
}
#else
static inline int rwl_vfs_rename(struct user_namespace *userns,
				 struct inode *olddir, struct dentry *old,
				 struct inode *newdir, struct dentry *new,
				 unsigned int flags)
{
	struct renamedata rd = {
		.old_mnt_userns	= userns,
		.old_dir	= olddir,
		.old_dentry	= old,
		.new_mnt_userns	= userns,
		.new_dir	= newdir,
		.new_dentry	= new,
		.flags		= flags,
	};

	return vfs_rename(&rd);
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

static inline struct timespec64 rwl_inode_ctime(const struct inode *inode)
{
	return inode_get_ctime(inode);
}
#else
static inline void rwl_copy_times(struct inode *dst, const struct inode *src)
{
	dst->i_atime = src->i_atime;
	dst->i_mtime = src->i_mtime;
	dst->i_ctime = src->i_ctime;
}

static inline struct timespec64 rwl_inode_ctime(const struct inode *inode)
{
	return inode->i_ctime;
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

#ifdef COMPAT_HAS_D_PARENT_INO
/* 6.9 renamed parent_ino() and moved it out of line. */
#define rwl_parent_ino(dentry)	d_parent_ino(dentry)
#else
#define rwl_parent_ino(dentry)	parent_ino(dentry)
#endif

#ifdef COMPAT_ITER_WRITE_FREEZES
static inline ssize_t rwl_real_write(struct file *realfile,
				     struct iov_iter *iter, loff_t *ppos,
				     rwf_t flags)
{
	return vfs_iter_write(realfile, iter, ppos, flags);
}
#else
/*
 * Before 6.8 the caller of vfs_iter_write() takes the freeze protection
 * of the file's filesystem (overlayfs did); since then it does itself.
 */
static inline ssize_t rwl_real_write(struct file *realfile,
				     struct iov_iter *iter, loff_t *ppos,
				     rwf_t flags)
{
	ssize_t ret;

	file_start_write(realfile);
	ret = vfs_iter_write(realfile, iter, ppos, flags);
	file_end_write(realfile);
	return ret;
}
#endif

#ifdef COMPAT_SPLICE_DIRECT_FREEZES
static inline ssize_t rwl_splice_direct(struct file *in, loff_t *ipos,
					struct file *out, loff_t *opos,
					size_t len)
{
	return do_splice_direct(in, ipos, out, opos, len, 0);
}
#else
/*
 * Before 6.7 the caller of do_splice_direct() takes the freeze protection
 * of the output's filesystem (do_sendfile() did); since then it does
 * itself.
 */
static inline ssize_t rwl_splice_direct(struct file *in, loff_t *ipos,
					struct file *out, loff_t *opos,
					size_t len)
{
	ssize_t ret;

	file_start_write(out);
	ret = do_splice_direct(in, ipos, out, opos, len, 0);
	file_end_write(out);
	return ret;
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

#ifdef COMPAT_HAS_GENL_INFO_DUMP
/* 6.7 made a dump's parsed request a struct genl_info. */
#define rwl_genl_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define rwl_genl_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

#endif /* _RWLAYER_COMPAT_H */
