// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files.  Each open union file holds an open real file and every
 * operation goes straight to it, so data is cached once, in the real
 * inode's page cache, and mmap maps the real pages.
 */
#include <linux/fadvise.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/uio.h>

#include "rwlayer.h"

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

static int rwl_open(struct inode *inode, struct file *file)
{
	struct path realpath;
	struct file *realfile;
	int flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);

	rwl_real_path(file->f_path.dentry, &realpath);
	realfile = rwl_open_real(inode->i_sb, &realpath, flags);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	file->private_data = realfile;
	return 0;
}

static int rwl_release(struct inode *inode, struct file *file)
{
	fput(file->private_data);
	return 0;
}

static ssize_t rwl_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *realfile = iocb->ki_filp->private_data;
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
	struct file *realfile = file->private_data;
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
	struct file *realfile = file->private_data;
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
	struct file *realfile = file->private_data;
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
	return vfs_fsync_range(file->private_data, start, end, datasync);
}

static int rwl_fadvise(struct file *file, loff_t offset, loff_t len,
		       int advice)
{
	return vfs_fadvise(file->private_data, offset, len, advice);
}

const struct file_operations rwl_file_operations = {
	.open		= rwl_open,
	.release	= rwl_release,
	.llseek		= rwl_llseek,
	.read_iter	= rwl_read_iter,
	.splice_read	= rwl_splice_read,
	.mmap		= rwl_mmap,
	.fsync		= rwl_fsync,
	.fadvise	= rwl_fadvise,
};
