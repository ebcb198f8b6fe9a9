// SPDX-License-Identifier: GPL-2.0
/*
 * Copy-up: the first change to a lower entry makes its upper copy.
 *
 * The copy is prepared in the work directory (data, owner, xattrs, mode,
 * times) and renamed into place in one step, so an interrupted copy-up
 * never shows a partial file and the lower entry stays what the union
 * shows until the rename.  Missing parents are copied up first, top down.
 * Everything runs with the mounter's credentials; the caller's rights
 * were checked on the union before.
 */
#include <linux/fileattr.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/splice.h>
#include <linux/xattr.h>

#include "rwlayer.h"

/* Data moves in chunks so that a fatal signal stops a long copy soon. */
#define RWL_COPY_CHUNK		(4 << 20)

/* A new, unused name in the work directory, which the caller has locked. */
struct dentry *rwl_work_lookup(struct super_block *sb)
{
	struct rwl_fs *ofs = RWL_FS(sb);
	struct dentry *temp;
	char name[16];

	snprintf(name, sizeof(name), "#%x", atomic_inc_return(&ofs->tmp_seq));
	temp = lookup_one_len(name, ofs->workdir, strlen(name));
	if (!IS_ERR(temp) && d_is_positive(temp)) {
		dput(temp);
		return ERR_PTR(-EEXIST);
	}
	return temp;
}

/* Make an object of type and permissions @mode in the work directory. */
struct dentry *rwl_work_create(struct super_block *sb, umode_t mode,
			       dev_t rdev, const char *link)
{
	struct inode *wdir = d_inode(RWL_FS(sb)->workdir);
	struct dentry *temp;
	int err;

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	temp = rwl_work_lookup(sb);
	if (IS_ERR(temp))
		goto out_unlock;

	switch (mode & S_IFMT) {
	case S_IFREG:
		err = rwl_do_create(sb, wdir, temp, mode);
		break;
	case S_IFDIR:
		err = rwl_do_mkdir(sb, wdir, temp, mode);
		break;
	case S_IFLNK:
		err = rwl_do_symlink(sb, wdir, temp, link);
		break;
	default:
		err = rwl_do_mknod(sb, wdir, temp, mode, rdev);
		break;
	}
	/* A filesystem may leave a new directory's dentry unhashed. */
	if (!err && d_really_is_negative(temp))
		err = -EIO;
	if (err) {
		dput(temp);
		temp = ERR_PTR(err);
	}
out_unlock:
	inode_unlock(wdir);
	return temp;
}

/* Throw away an object made by rwl_work_create() and drop its reference. */
void rwl_work_remove(struct super_block *sb, struct dentry *temp)
{
	struct inode *wdir = d_inode(RWL_FS(sb)->workdir);

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	if (temp->d_parent == RWL_FS(sb)->workdir && d_is_positive(temp))
		rwl_do_remove(sb, wdir, temp);
	inode_unlock(wdir);
	dput(temp);
}

int rwl_set_opaque(struct super_block *sb, struct dentry *upper)
{
	return rwl_do_setxattr(sb, upper, RWL_XATTR_OPAQUE, "y", 1, 0);
}

static int rwl_set_impure(struct super_block *sb, struct dentry *upper)
{
	return rwl_do_setxattr(sb, upper, RWL_XATTR_IMPURE, "y", 1, 0);
}

/*
 * A copy that keeps its origin's number is about to be renamed or linked
 * into the union directory @dir: mark its upper (rwl_is_impure()).  With
 * write access to the upper, no upper directory locked.
 */
int rwl_mark_impure(struct inode *dir)
{
	const struct cred *old_cred;
	int err;

	if (rwl_is_impure(dir))
		return 0;
	old_cred = rwl_override_creds(dir->i_sb);
	err = rwl_set_impure(dir->i_sb, rwl_i_upper(dir));
	revert_creds(old_cred);
	if (!err)
		WRITE_ONCE(RWL_I(dir)->impure, true);
	return err;
}

static ssize_t rwl_copy_range(struct file *in, struct file *out, loff_t pos,
			      loff_t count)
{
	loff_t ipos, opos;
	ssize_t ret;
	size_t len;

	while (count > 0) {
		if (fatal_signal_pending(current))
			return -EINTR;
		len = min_t(loff_t, count, RWL_COPY_CHUNK);
		ret = vfs_copy_file_range(in, pos, out, pos, len, 0);
		if (ret == -EXDEV || ret == -EOPNOTSUPP || ret == -EINVAL) {
			ipos = pos;
			opos = pos;
			ret = rwl_splice_direct(in, &ipos, out, &opos, len);
		}
		if (ret < 0)
			return ret;
		if (!ret)
			return -EIO;	/* the lower file shrank under us */
		pos += ret;
		count -= ret;
		cond_resched();
	}
	return 0;
}

/*
 * Copy @len bytes extent by extent: a hole in the lower stays a hole in
 * the upper.  A whole-file clone is tried first where the layers share a
 * filesystem that can reflink.
 */
static int rwl_copy_data(struct super_block *sb, const struct path *lower,
			 struct dentry *temp, loff_t len)
{
	struct path tpath = { .mnt = RWL_FS(sb)->upper.mnt, .dentry = temp };
	struct file *in, *out;
	loff_t pos = 0, data, hole;
	int err = 0;

	in = rwl_open_real(sb, lower, O_RDONLY | O_LARGEFILE);
	if (IS_ERR(in))
		return PTR_ERR(in);
	out = rwl_open_real(sb, &tpath, O_WRONLY | O_LARGEFILE);
	if (IS_ERR(out)) {
		err = PTR_ERR(out);
		goto out_in;
	}
	if (len && vfs_clone_file_range(in, 0, out, 0, len, 0) == len)
		goto out;

	while (pos < len) {
		data = vfs_llseek(in, pos, SEEK_DATA);
		if (data == -ENXIO)
			break;
		if (data < 0)
			data = pos;	/* no SEEK_DATA: copy it all */
		hole = vfs_llseek(in, data, SEEK_HOLE);
		if (hole < 0 || hole > len)
			hole = len;
		err = rwl_copy_range(in, out, data, hole - data);
		if (err)
			goto out;
		pos = hole;
	}
	/* Trailing holes: the size alone says they are there. */
	if (i_size_read(file_inode(out)) < len)
		err = vfs_truncate(&tpath, len);
	/*
	 * On an upper that survives a crash, the data is on disk before the
	 * rename makes it the file: after a crash, the whole copy or none.
	 */
	if (!err && RWL_FS(sb)->upper_persists)
		err = vfs_fsync(out, 0);
out:
	fput(out);
out_in:
	fput(in);
	return err;
}

static int rwl_set_origin(struct super_block *sb, struct dentry *temp,
			  struct inode *lower)
{
	__le64 origin[2] = {
		cpu_to_le64(lower->i_sb->s_dev), cpu_to_le64(lower->i_ino),
	};

	return rwl_do_setxattr(sb, temp, RWL_XATTR_ORIGIN, origin,
			       sizeof(origin), 0);
}

static int rwl_set_times_locked(struct super_block *sb, struct dentry *upper,
				const struct kstat *stat)
{
	struct iattr attr = {
		.ia_valid = ATTR_ATIME | ATTR_MTIME | ATTR_ATIME_SET |
			    ATTR_MTIME_SET,
		.ia_atime = stat->atime,
		.ia_mtime = stat->mtime,
	};

	return rwl_do_setattr(sb, upper, &attr);
}

/* Owner first (chown may clear set-id bits), then mode, then times. */
static int rwl_set_attrs(struct super_block *sb, struct dentry *temp,
			 const struct kstat *stat)
{
	struct iattr attr = {
		.ia_valid = ATTR_UID | ATTR_GID,
		.ia_uid = stat->uid,
		.ia_gid = stat->gid,
	};
	int err;

	inode_lock(d_inode(temp));
	err = rwl_do_setattr(sb, temp, &attr);
	if (!err && !S_ISLNK(stat->mode)) {
		attr.ia_valid = ATTR_MODE;
		attr.ia_mode = stat->mode;
		err = rwl_do_setattr(sb, temp, &attr);
	}
	if (!err)
		err = rwl_set_times_locked(sb, temp, stat);
	inode_unlock(d_inode(temp));
	return err;
}

/*
 * The data of a fresh copy in the work directory.  Called without the
 * upper's freeze protection: clone, copy_file_range, splice (compat:
 * before 6.7, rwl_splice_direct()) and truncate take it themselves, and
 * taking it twice deadlocks against a freeze
 * that starts in between.  The copy is open for write meanwhile, so the
 * upper cannot turn read-only under it.
 */
static int rwl_fill_data(struct super_block *sb, const struct path *lower,
			 const struct kstat *stat, struct dentry *temp,
			 int flags)
{
	if (!S_ISREG(stat->mode) || (flags & O_TRUNC))
		return 0;
	return rwl_copy_data(sb, lower, temp, stat->size);
}

/*
 * The inode flags a copy takes over from its lower file.  Append-only and
 * immutable files are never copied up (rwl_copy_up_one()), so those two
 * flags never reach the upper, where they would block the union's own
 * changes (copy-ups into a directory, a reset).
 */
#define RWL_COPIED_FLAGS	(FS_SYNC_FL | FS_NOATIME_FL | FS_NODUMP_FL)

/* A flag the upper cannot hold (tmpfs has no sync flag) is left out. */
static int rwl_copy_fileattr(struct super_block *sb, const struct path *lower,
			     struct dentry *temp)
{
	struct fileattr fa = { .flags_valid = true };
	int err;

	err = vfs_fileattr_get(lower->dentry, &fa);
	if (err == -ENOIOCTLCMD || err == -ENOTTY || err == -EOPNOTSUPP)
		return 0;
	if (err || !(fa.flags & RWL_COPIED_FLAGS))
		return err;
	fileattr_fill_flags(&fa, fa.flags & RWL_COPIED_FLAGS);
	err = vfs_fileattr_set(rwl_upper_idmap(sb), temp, &fa);
	return err == -EOPNOTSUPP || err == -ENOIOCTLCMD ? 0 : err;
}

/* The rest of a fresh copy: xattrs, origin, owner, mode, times, flags. */
static int rwl_fill_meta(struct super_block *sb, const struct path *lower,
			 const struct kstat *stat, struct dentry *temp)
{
	int err;

	err = rwl_copy_xattrs(sb, lower, temp);
	/* The copy of one name of a hard link is a file of its own. */
	if (!err && !S_ISDIR(stat->mode) && stat->nlink == 1)
		err = rwl_set_origin(sb, temp, d_inode(lower->dentry));
	if (!err && S_ISDIR(stat->mode))
		err = rwl_set_impure(sb, temp);
	if (!err)
		err = rwl_set_attrs(sb, temp, stat);
	if (!err && !S_ISLNK(stat->mode))
		err = rwl_copy_fileattr(sb, lower, temp);
	return err;
}

/* Rename the finished copy over the (negative) upper name of @dentry. */
static int rwl_install_copy(struct dentry *dentry, struct dentry *udir,
			    struct dentry *temp)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *wdir = RWL_FS(sb)->workdir;
	struct dentry *trap, *upper;
	int err;

	trap = lock_rename(wdir, udir);
	err = -EIO;
	if (IS_ERR(trap) || trap == temp || trap == udir)
		goto out_unlock;
	upper = rwl_lookup_upper(udir, &dentry->d_name);
	err = PTR_ERR(upper);
	if (IS_ERR(upper))
		goto out_unlock;
	err = -ESTALE;
	if (d_is_negative(upper))
		err = rwl_do_rename(sb, d_inode(wdir), temp, d_inode(udir),
				    upper, 0);
	dput(upper);
out_unlock:
	if (!IS_ERR(trap))
		unlock_rename(wdir, udir);
	return err;
}

/*
 * A copy-up changes nothing the user did: the upper parent gets back the
 * times it had before the copy was renamed into it.
 */
static void rwl_restore_times(struct super_block *sb, struct dentry *udir,
			      const struct kstat *stat)
{
	inode_lock(d_inode(udir));
	rwl_set_times_locked(sb, udir, stat);
	inode_unlock(d_inode(udir));
}

static const char *rwl_lower_link(const struct path *lower,
				  struct delayed_call *done)
{
	if (!d_is_symlink(lower->dentry))
		return NULL;
	return vfs_get_link(lower->dentry, done);
}

/* Worth telling the admin: counted, and an event. */
static void rwl_copy_up_failed(struct dentry *dentry, struct rwl_rule *rule,
			       int err)
{
	pr_debug("copy-up of %pd2 failed (%pe)\n", dentry, ERR_PTR(err));
	/* A killed process is nobody's problem. */
	if (err == -EINTR)
		return;
	if (rule)
		atomic64_inc(&rule->errors);
	rwl_event_path(dentry, RWLAYER_EVENT_COPY_UP_FAILED, err);
	if (err == -ESTALE)
		rwl_event_path(dentry, RWLAYER_EVENT_LOWER_STALE, err);
}

/* Copy up @dentry, whose parent has its upper already. */
static int rwl_copy_up_one(struct dentry *dentry, int flags)
{
	struct super_block *sb = dentry->d_sb;
	struct rwl_inode *oi = RWL_I(d_inode(dentry));
	struct rwl_rule *rule = rwl_rule_of(dentry);
	struct dentry *parent, *temp;
	DEFINE_DELAYED_CALL(done);
	const struct cred *old_cred;
	const char *link = NULL;
	struct path lower, ppath;
	struct kstat stat, pstat;
	int err, err2;
	u64 bytes;

	err = mutex_lock_killable(&oi->lock);
	if (err)
		return err;
	/* Someone else may have done it while we waited. */
	if (rwl_i_upper(d_inode(dentry)))
		goto out_unlock;

	parent = dget_parent(dentry);
	ppath.mnt = RWL_FS(sb)->upper.mnt;
	ppath.dentry = rwl_upper(parent);
	rwl_layer_path(&RWL_E(dentry)->stack[0], &lower);
	/*
	 * The flags would not survive in the upper (see RWL_COPIED_FLAGS):
	 * what the server made append-only or immutable stays the lower's.
	 */
	err = -EPERM;
	if (IS_APPEND(d_inode(lower.dentry)) ||
	    IS_IMMUTABLE(d_inode(lower.dentry)))
		goto out_put_parent;
	old_cred = rwl_override_creds(sb);
	err = rwl_do_getattr(&lower, &stat, STATX_BASIC_STATS,
			     AT_STATX_SYNC_AS_STAT);
	if (!err)
		err = rwl_do_getattr(&ppath, &pstat, STATX_BASIC_STATS,
				     AT_STATX_SYNC_AS_STAT);
	if (err)
		goto out_revert;

	bytes = S_ISREG(stat.mode) && !(flags & O_TRUNC) ?
		round_up((u64)stat.size, 4096) : 0;
	err = rwl_charge(rule, bytes, 1);
	/* A limit's refusal is counted and announced by the charge. */
	if (err)
		goto out_refused;
	err = mnt_want_write(RWL_FS(sb)->upper.mnt);
	if (err)
		goto out_uncharge;

	link = rwl_lower_link(&lower, &done);
	err = PTR_ERR(link);
	if (IS_ERR(link))
		goto out_drop_write;
	temp = rwl_work_create(sb, (stat.mode & S_IFMT) | 0700, stat.rdev,
			       link);
	err = PTR_ERR(temp);
	if (IS_ERR(temp))
		goto out_drop_write;

	mnt_drop_write(RWL_FS(sb)->upper.mnt);
	err = rwl_fill_data(sb, &lower, &stat, temp, flags);
	err2 = mnt_want_write(RWL_FS(sb)->upper.mnt);
	if (err2) {
		/* Left in the work directory, cleared at the next mount. */
		dput(temp);
		err = err ?: err2;
		goto out_put_link;
	}
	if (!err)
		err = rwl_fill_meta(sb, &lower, &stat, temp);
	if (!err)
		err = rwl_install_copy(dentry, ppath.dentry, temp);
	if (err) {
		rwl_work_remove(sb, temp);
		goto out_drop_write;
	}
	rwl_restore_times(sb, ppath.dentry, &pstat);
	/* The rename moved the prepared dentry into place. */
	rwl_set_upper(d_inode(dentry), temp);
	if (!S_ISDIR(stat.mode) && stat.nlink > 1) {
		WRITE_ONCE(oi->origin_dev, 0);
		d_inode(dentry)->i_ino = d_inode(temp)->i_ino;
	}
	dput(temp);
	rwl_inode_charge_to(d_inode(dentry), rule);
	oi->charged_bytes = bytes;
	if (rule) {
		atomic64_inc(&rule->copy_ups);
		atomic64_add(bytes, &rule->copy_up_bytes);
	}
	mnt_drop_write(RWL_FS(sb)->upper.mnt);
	revert_creds(old_cred);
	do_delayed_call(&done);
	dput(parent);
	mutex_unlock(&oi->lock);
	rwl_copyattr(d_inode(dentry));
	return 0;

out_drop_write:
	mnt_drop_write(RWL_FS(sb)->upper.mnt);
out_put_link:
	do_delayed_call(&done);
out_uncharge:
	rwl_uncharge(rule, bytes, 1);
out_revert:
	rwl_copy_up_failed(dentry, rule, err);
out_refused:
	revert_creds(old_cred);
out_put_parent:
	dput(parent);
out_unlock:
	mutex_unlock(&oi->lock);
	return err;
}

/*
 * Give @dentry an upper copy, copying up missing parents first.  O_TRUNC
 * in @flags skips the data of a file about to be truncated.
 */
int rwl_copy_up_flags(struct dentry *dentry, int flags)
{
	struct dentry *next, *parent;
	int err;

	if (!rwl_has_upper(dentry->d_sb))
		return -EROFS;
	while (!rwl_upper(dentry)) {
		/* Find the topmost ancestor still without an upper copy. */
		next = dget(dentry);
		for (;;) {
			parent = dget_parent(next);
			if (rwl_upper(parent))
				break;
			dput(next);
			next = parent;
		}
		dput(parent);
		err = rwl_copy_up_one(next, next == dentry ? flags : 0);
		dput(next);
		if (err)
			return err;
	}
	return 0;
}

int rwl_copy_up(struct dentry *dentry)
{
	return rwl_copy_up_flags(dentry, 0);
}

struct rwl_dir_cleaner {
	struct super_block *sb;
	struct dentry *dir;
	bool top;		/* may empty subdirectories first */
	bool whiteouts_only;	/* leaves everything else */
};

static int rwl_clear_names(struct super_block *sb, const struct path *dir,
			   bool top, bool whiteouts_only);

/*
 * A subdirectory of the work directory may be a merged directory that a
 * delete discarded (dir.c) with its whiteouts still in it, when a crash
 * came first: empty it, one level deep, before it is removed.
 */
static int rwl_clear_subdir(struct rwl_dir_cleaner *c, const char *name,
			    int len)
{
	struct path sub = { .mnt = RWL_FS(c->sb)->upper.mnt };
	int err;

	sub.dentry = rwl_do_lookup(name, c->dir, len);
	if (IS_ERR(sub.dentry))
		return PTR_ERR(sub.dentry);
	err = d_is_dir(sub.dentry) ?
	      rwl_clear_names(c->sb, &sub, false, false) : 0;
	dput(sub.dentry);
	return err;
}

static int rwl_remove_entry(void *arg, const char *name, int len,
			    unsigned int type)
{
	struct rwl_dir_cleaner *c = arg;
	int err;

	if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
		return 0;
	if (c->whiteouts_only && type != DT_CHR && type != DT_UNKNOWN)
		return 0;
	if (c->top && type == DT_DIR) {
		err = rwl_clear_subdir(c, name, len);
		if (err)
			return err;
	}
	return rwl_remove_name(c->sb, c->dir, name, len, c->whiteouts_only,
			       NULL);
}

static int rwl_clear_names(struct super_block *sb, const struct path *dir,
			   bool top, bool whiteouts_only)
{
	struct rwl_dir_cleaner c = {
		.sb = sb, .dir = dir->dentry,
		.top = top, .whiteouts_only = whiteouts_only,
	};

	return rwl_real_dir_names(sb, dir, rwl_remove_entry, &c);
}

/*
 * Empty an upper directory that holds only whiteouts (a merged directory
 * being removed) or leftovers of interrupted copy-ups and deletes (the
 * work directory).  Its subdirectories may hold no subdirectories of
 * their own.  The caller holds no lock on @dir.
 */
int rwl_clear_dir(struct super_block *sb, const struct path *dir)
{
	return rwl_clear_names(sb, dir, true, false);
}

/*
 * Remove the whiteouts of an upper directory the union shows empty,
 * before it goes: what is not a whiteout (made since the union looked)
 * stays, and the removal of the directory then fails with ENOTEMPTY.
 */
int rwl_clear_whiteouts(struct super_block *sb, const struct path *dir)
{
	return rwl_clear_names(sb, dir, false, true);
}
