// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files.  Each open union file holds an open real file and every
 * operation goes straight to it, so data is cached once, in the real
 * inode's page cache, and mmap maps the real pages.
 */
#include <linux/falloc.h>
#include <linux/fadvise.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "rwlayer.h"

/* An open union file: the real file, and the rule it counts as open in. */
struct rwl_file {
	struct file *real;
	struct rwl_rule *rule;
	unsigned int rule_gen;		/* the slot may be reused meanwhile */
};

static struct file *rwl_real_file(const struct file *file)
{
	return ((struct rwl_file *)file->private_data)->real;
}

struct file *rwl_open_real(struct super_block *sb, const struct path *realpath,
			   int flags)
{
	const struct cred *old_cred;
	struct file *realfile;

	old_cred = rwl_override_creds(sb);
	realfile = rwl_do_open(realpath, flags, RWL_FS(sb)->creator_cred);
	revert_creds(old_cred);
	return realfile;
}

/*
 * Opening for write makes the upper copy first (without the data when
 * the open truncates anyway); the union file then wraps the upper file.
 */
static int rwl_open(struct inode *inode, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	int flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	struct path realpath;
	struct rwl_file *rf;
	int err;

	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC)) {
		err = rwl_may_write(dentry);
		if (!err)
			err = rwl_copy_up_flags(dentry, file->f_flags & O_TRUNC);
		if (err)
			return err;
	}

	rf = kmalloc(sizeof(*rf), GFP_KERNEL);
	if (!rf)
		return -ENOMEM;
	rwl_real_path(dentry, &realpath);
	rf->real = rwl_open_real(inode->i_sb, &realpath, flags);
	if (IS_ERR(rf->real)) {
		err = PTR_ERR(rf->real);
		kfree(rf);
		return err;
	}
	/* A reset of the rule waits for (or is forced past) this file. */
	rf->rule = rwl_rule_of(dentry);
	if (rf->rule) {
		rf->rule_gen = READ_ONCE(rf->rule->gen);
		atomic_inc(&rf->rule->open_files);
	}
	file->f_mode |= rf->real->f_mode & FMODE_CAN_ODIRECT;
	file->private_data = rf;
	return 0;
}

/*
 * Before a data change: the set-id bits and file capabilities go when the
 * caller could not have written them (the real write runs as the mounter,
 * who could).  Decided with the caller's credentials; the change itself
 * reaches the upper through rwl_setattr().  The union inode is locked.
 */
static int rwl_remove_privs(struct file *file)
{
	rwl_copyattr(file_inode(file));
	return file_remove_privs(file);
}

static rwf_t rwl_rwf_flags(int ki_flags)
{
	rwf_t flags = 0;

	if (ki_flags & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (ki_flags & IOCB_SYNC)
		flags |= RWF_SYNC;
	if (ki_flags & IOCB_APPEND)
		flags |= RWF_APPEND;
	return flags;
}

/*
 * Writes are charged to the file's rule before they reach the upper, so
 * that one over the limit fails whole with ENOSPC.  The union inode lock
 * keeps the charge and the size in step.
 */
static ssize_t rwl_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct file *realfile = rwl_real_file(file);
	struct inode *inode = file_inode(file);
	const struct cred *old_cred;
	loff_t end;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;

	inode_lock(inode);
	ret = rwl_remove_privs(file);
	if (ret)
		goto out_unlock;
	end = (iocb->ki_flags & IOCB_APPEND ?
	       i_size_read(file_inode(realfile)) : iocb->ki_pos) +
	      iov_iter_count(iter);
	ret = rwl_charge_size(inode, rwl_rule_of(file->f_path.dentry), end);
	if (ret)
		goto out_unlock;

	old_cred = rwl_override_creds(inode->i_sb);
	ret = rwl_real_write(realfile, iter, &iocb->ki_pos,
			     rwl_rwf_flags(iocb->ki_flags));
	revert_creds(old_cred);
	rwl_copyattr(inode);
	rwl_settle_size(inode);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static long rwl_fallocate(struct file *file, int mode, loff_t offset,
			  loff_t len)
{
	struct file *realfile = rwl_real_file(file);
	struct inode *inode = file_inode(file);
	const struct cred *old_cred;
	long ret;

	inode_lock(inode);
	ret = rwl_remove_privs(file);
	if (ret)
		goto out_unlock;
	if (!(mode & FALLOC_FL_KEEP_SIZE)) {
		ret = rwl_charge_size(inode, rwl_rule_of(file->f_path.dentry),
				      offset + len);
		if (ret)
			goto out_unlock;
	}
	old_cred = rwl_override_creds(inode->i_sb);
	ret = vfs_fallocate(realfile, mode, offset, len);
	revert_creds(old_cred);
	rwl_copyattr(inode);
	rwl_settle_size(inode);
out_unlock:
	inode_unlock(inode);
	return ret;
}

static int rwl_release(struct inode *inode, struct file *file)
{
	struct rwl_file *rf = file->private_data;

	if (rf->rule && READ_ONCE(rf->rule->gen) == rf->rule_gen)
		atomic_dec(&rf->rule->open_files);
	fput(rf->real);
	kfree(rf);
	return 0;
}

static ssize_t rwl_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *realfile = rwl_real_file(iocb->ki_filp);
	const struct cred *old_cred;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;

	old_cred = rwl_override_creds(file_inode(iocb->ki_filp)->i_sb);
	ret = vfs_iter_read(realfile, iter, &iocb->ki_pos, 0);
	revert_creds(old_cred);
	return ret;
}

static ssize_t rwl_splice_read(struct file *file, loff_t *ppos,
			       struct pipe_inode_info *pipe, size_t len,
			       unsigned int flags)
{
	struct file *realfile = rwl_real_file(file);
	const struct cred *old_cred;
	ssize_t ret;

	old_cred = rwl_override_creds(file_inode(file)->i_sb);
	ret = rwl_real_splice_read(realfile, ppos, pipe, len, flags);
	revert_creds(old_cred);
	return ret;
}

/*
 * Seek on the real file so that SEEK_DATA/SEEK_HOLE and SEEK_END see the
 * real extent map and size.  f_pos_lock serialises seeks on one file.
 */
static loff_t rwl_llseek(struct file *file, loff_t offset, int whence)
{
	struct file *realfile = rwl_real_file(file);
	loff_t ret;

	if (whence == SEEK_CUR && offset == 0)
		return file->f_pos;

	realfile->f_pos = file->f_pos;
	ret = vfs_llseek(realfile, offset, whence);
	file->f_pos = realfile->f_pos;
	return ret;
}

/* The mapping is the real file's: faults fill and share its page cache. */
static int rwl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct file *realfile = rwl_real_file(file);
	const struct cred *old_cred;
	int ret;

	if (!realfile->f_op->mmap)
		return -ENODEV;

	vma_set_file(vma, realfile);
	old_cred = rwl_override_creds(file_inode(file)->i_sb);
	ret = call_mmap(realfile, vma);
	revert_creds(old_cred);
	return ret;
}

static int rwl_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	const struct cred *old_cred;
	int ret;

	old_cred = rwl_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(rwl_real_file(file), start, end, datasync);
	revert_creds(old_cred);
	return ret;
}

static int rwl_fadvise(struct file *file, loff_t offset, loff_t len,
		       int advice)
{
	return vfs_fadvise(rwl_real_file(file), offset, len, advice);
}

const struct file_operations rwl_file_operations = {
	.open		= rwl_open,
	.release	= rwl_release,
	.llseek		= rwl_llseek,
	.read_iter	= rwl_read_iter,
	.write_iter	= rwl_write_iter,
	.splice_read	= rwl_splice_read,
	.splice_write	= iter_file_splice_write,
	.fallocate	= rwl_fallocate,
	.mmap		= rwl_mmap,
	.fsync		= rwl_fsync,
	.fadvise	= rwl_fadvise,
};
