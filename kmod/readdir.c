// SPDX-License-Identifier: GPL-2.0
/*
 * Directories.
 *
 * A directory that lives in one layer is read straight from the real
 * directory; offsets are the real filesystem's.  A merged directory is
 * read once per open (and again on rewind) into a snapshot: every name
 * once, the topmost layer's entry winning.  Offsets into a merged
 * directory are indexes into that snapshot, so getdents in small chunks,
 * telldir and seekdir all see one consistent listing.
 */
#include <linux/mm.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "rwlayer.h"

struct rwl_dirent {
	struct rb_node node;		/* in rwl_dir_reader.names */
	struct list_head list;		/* in rwl_dir_reader.order */
	u64 ino;
	unsigned int type;
	bool whiteout;			/* hides the name, is not listed */
	const struct rwl_layer *layer;	/* the topmost that has the name */
	/* An upper name's first entry in a lower, which may be the key. */
	const struct rwl_layer *lower;
	u64 lower_ino;
	unsigned int lower_type;
	unsigned int len;
	char name[];
};

struct rwl_dir_snapshot {
	unsigned int count;
	struct rwl_dirent **entries;	/* in listing order */
};

struct rwl_dir_file {
	struct file *realfile;		/* single-layer directory */
	const struct rwl_layer *layer;	/* ... its layer */
	bool lower_only;		/* ... a lower */
	unsigned int dots_listed;	/* ... RWL_DOT, RWL_DOTDOT since pos 0 */
	struct rwl_dir_snapshot *snap;	/* merged directory, NULL until read */
};

/* Collects the names of the layers, top first, for a new snapshot. */
struct rwl_dir_reader {
	struct dir_context ctx;
	const struct rwl_layer *layer;	/* being read */
	const struct rwl_layer *upper;
	struct rb_root names;
	struct list_head order;
	unsigned int count;
	unsigned int added;		/* names seen by the current pass */
	int err;
};

static int rwl_dirent_cmp(const char *name, unsigned int len,
			  const struct rwl_dirent *d)
{
	int cmp = memcmp(name, d->name, min(len, d->len));

	if (cmp)
		return cmp;
	return len < d->len ? -1 : len > d->len;
}

/* Finds where @name belongs; NULL if it is already there. */
static struct rb_node **rwl_dirent_slot(struct rb_root *root, const char *name,
					unsigned int len,
					struct rb_node **parent)
{
	struct rb_node **link = &root->rb_node;
	int cmp;

	*parent = NULL;
	while (*link) {
		*parent = *link;
		cmp = rwl_dirent_cmp(name, len,
				     rb_entry(*link, struct rwl_dirent, node));
		if (!cmp)
			return NULL;
		link = cmp < 0 ? &(*link)->rb_left : &(*link)->rb_right;
	}
	return link;
}

static bool rwl_fill_merge(struct dir_context *ctx, const char *name,
			   int namelen, loff_t offset, u64 ino,
			   unsigned int d_type)
{
	struct rwl_dir_reader *rd = container_of(ctx, struct rwl_dir_reader,
						 ctx);
	struct rb_node **link, *parent;
	struct rwl_dirent *d;

	rd->added++;
	link = rwl_dirent_slot(&rd->names, name, namelen, &parent);
	if (!link) {
		/* A layer above has the name; the upper's may merge this. */
		d = rb_entry(parent, struct rwl_dirent, node);
		if (d->layer == rd->upper && !d->lower) {
			d->lower = rd->layer;
			d->lower_ino = ino;
			d->lower_type = d_type;
		}
		return true;
	}

	d = kmalloc(struct_size(d, name, namelen + 1), GFP_KERNEL);
	if (!d) {
		rd->err = -ENOMEM;
		return false;
	}
	d->ino = ino;
	d->type = d_type;
	d->whiteout = false;
	d->layer = rd->layer;
	d->lower = NULL;
	d->lower_type = DT_UNKNOWN;
	d->len = namelen;
	memcpy(d->name, name, namelen);
	d->name[namelen] = '\0';
	rb_link_node(&d->node, parent, link);
	rb_insert_color(&d->node, &rd->names);
	list_add_tail(&d->list, &rd->order);
	rd->count++;
	return true;
}

static void rwl_free_dirents(struct list_head *order)
{
	struct rwl_dirent *d, *next;

	list_for_each_entry_safe(d, next, order, list)
		kfree(d);
}

static void rwl_snapshot_free(struct rwl_dir_snapshot *snap)
{
	unsigned int i;

	if (!snap)
		return;
	for (i = 0; i < snap->count; i++)
		kfree(snap->entries[i]);
	kvfree(snap->entries);
	kfree(snap);
}

/*
 * Whiteouts show up as character devices; which character devices are
 * whiteouts takes a lookup, done after the layer's directory was read
 * (the lookup must not nest in iterate_dir()).
 */
static int rwl_mark_whiteouts(struct super_block *sb, struct dentry *dir,
			      struct list_head *from, struct list_head *order)
{
	const struct cred *old_cred;
	struct rwl_dirent *d;
	struct dentry *real;
	int err = 0;

	old_cred = rwl_override_creds(sb);
	d = list_entry(from, struct rwl_dirent, list);
	list_for_each_entry_continue(d, order, list) {
		if (d->type != DT_CHR)
			continue;
		real = rwl_do_lookup(d->name, dir, d->len);
		if (IS_ERR(real)) {
			err = PTR_ERR(real);
			break;
		}
		d->whiteout = rwl_is_whiteout(real);
		dput(real);
	}
	revert_creds(old_cred);
	return err;
}

/*
 * The st_ino of "." or "..", or 0 for another name.  ".." of the root is
 * the root itself, as the union cannot see past its mount.
 */
static u64 rwl_dot_ino(struct dentry *dir, const char *name, int len)
{
	if (len > 2 || name[0] != '.' || (len == 2 && name[1] != '.'))
		return 0;
	/* Safe against a rename of the directory meanwhile. */
	return len == 1 ? d_inode(dir)->i_ino : rwl_parent_ino(dir);
}

/*
 * The number stat() reports for @d of the merged directory @dir, which
 * readdir must report too: a directory's comes from the layer whose
 * directory is its key (rwl_get_inode(): the topmost lower that merges,
 * else the upper), a copied-up file's is its origin's.  Upper names
 * need a look at their upper entry (opaque, origin).
 */
static int rwl_dirent_ino(struct dentry *dir, struct dentry *udir,
			  struct rwl_dirent *d)
{
	struct super_block *sb = dir->d_sb;
	const struct rwl_layer *layer = d->layer;
	struct rwl_origin origin;
	struct path child;
	u64 ino = d->ino;

	if (d->layer == &RWL_FS(sb)->upper &&
	    (d->type != DT_DIR || d->lower_type == DT_DIR)) {
		child.mnt = RWL_FS(sb)->upper.mnt;
		child.dentry = rwl_do_lookup(d->name, udir, d->len);
		if (IS_ERR(child.dentry))
			return PTR_ERR(child.dentry);
		if (d->type != DT_DIR) {
			if (d_is_positive(child.dentry) &&
			    rwl_read_origin(sb, child.dentry, &origin))
				ino = origin.ino;
		} else if (d_is_dir(child.dentry) && !rwl_is_opaque(&child)) {
			layer = d->lower;
			ino = d->lower_ino;
		}
		dput(child.dentry);
	}
	if (d->type == DT_DIR)
		ino = rwl_dir_ino(RWL_FS(sb), layer, ino) ?: d->ino;
	d->ino = ino;
	return 0;
}

static int rwl_snapshot_inos(struct dentry *dir, struct rwl_dir_reader *rd)
{
	struct dentry *udir = rwl_upper(dir);
	const struct cred *old_cred;
	struct rwl_dirent *d;
	int err = 0;
	u64 dot;

	old_cred = rwl_override_creds(dir->d_sb);
	list_for_each_entry(d, &rd->order, list) {
		dot = rwl_dot_ino(dir, d->name, d->len);
		if (dot)
			d->ino = dot;
		else
			err = rwl_dirent_ino(dir, udir, d);
		if (err)
			break;
	}
	revert_creds(old_cred);
	return err;
}

static int rwl_read_layer(struct super_block *sb, const struct path *realpath,
			  const struct rwl_layer *layer,
			  struct rwl_dir_reader *rd)
{
	struct list_head *last = rd->order.prev;
	struct file *realfile;
	int err;

	rd->layer = layer;
	realfile = rwl_open_real(sb, realpath, O_RDONLY | O_DIRECTORY);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);

	/* A filesystem may stop early; read until a pass adds nothing. */
	do {
		rd->added = 0;
		err = rwl_do_iterate(realfile, &rd->ctx);
	} while (!err && !rd->err && rd->added);

	fput(realfile);
	err = err ?: rd->err;
	if (!err)
		err = rwl_mark_whiteouts(sb, realpath->dentry, last, &rd->order);
	return err;
}

static struct rwl_dir_snapshot *rwl_snapshot_read(struct dentry *dentry)
{
	const struct rwl_entry *entry = RWL_E(dentry);
	struct rwl_dir_reader rd = {
		.ctx.actor = rwl_fill_merge,
		.upper = &RWL_FS(dentry->d_sb)->upper,
		.names = RB_ROOT,
		.order = LIST_HEAD_INIT(rd.order),
	};
	struct rwl_dir_snapshot *snap;
	struct rwl_dirent *d, *next;
	struct path realpath;
	unsigned int i;
	int err;

	if (rwl_upper(dentry)) {
		rwl_upper_path(dentry, &realpath);
		err = rwl_read_layer(dentry->d_sb, &realpath, rd.upper, &rd);
		if (err)
			goto out_free;
	}
	for (i = 0; i < entry->num; i++) {
		rwl_layer_path(&entry->stack[i], &realpath);
		err = rwl_read_layer(dentry->d_sb, &realpath,
				     entry->stack[i].layer, &rd);
		if (err)
			goto out_free;
	}
	/* Whiteouts did their job of hiding lower names; they are not listed. */
	list_for_each_entry_safe(d, next, &rd.order, list) {
		if (d->whiteout) {
			list_del(&d->list);
			kfree(d);
			rd.count--;
		}
	}

	err = rwl_snapshot_inos(dentry, &rd);
	if (err)
		goto out_free;

	err = -ENOMEM;
	snap = kzalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		goto out_free;
	snap->entries = kvmalloc_array(rd.count, sizeof(*snap->entries),
				       GFP_KERNEL);
	if (!snap->entries) {
		kfree(snap);
		goto out_free;
	}
	list_for_each_entry(d, &rd.order, list)
		snap->entries[snap->count++] = d;
	return snap;

out_free:
	rwl_free_dirents(&rd.order);
	return ERR_PTR(err);
}

static int rwl_iterate_merged(struct file *file, struct dir_context *ctx)
{
	struct rwl_dir_file *od = file->private_data;
	struct rwl_dir_snapshot *snap;
	const struct rwl_dirent *d;

	/* Offset 0 is a fresh read: rewinddir() shows the layers as they are now. */
	if (!od->snap || ctx->pos == 0) {
		snap = rwl_snapshot_read(file->f_path.dentry);
		if (IS_ERR(snap))
			return PTR_ERR(snap);
		rwl_snapshot_free(od->snap);
		od->snap = snap;
	}

	snap = od->snap;
	while (ctx->pos >= 0 && ctx->pos < snap->count) {
		d = snap->entries[ctx->pos];
		if (!dir_emit(ctx, d->name, d->len, d->ino, d->type))
			break;
		ctx->pos++;
	}
	return 0;
}

#define RWL_DOT		1
#define RWL_DOTDOT	2

/*
 * A single-layer directory's entries, with the numbers stat() reports.
 * Only the dot entries and subdirectories need another number, so in a
 * directory without subdirectories (a link count of 2) the real
 * directory hands its entries straight to the caller once both dots are
 * listed: the first other entry stops the mapped pass (@handover).
 */
struct rwl_dir_mapper {
	struct dir_context ctx;
	struct dir_context *caller;
	struct dentry *dir;
	const struct rwl_layer *layer;
	unsigned int *dots_listed;
	bool leaf;
	bool handover;
};

/*
 * A link count of 2 says "no subdirectories" on the filesystems that keep
 * it (tmpfs, ext4, xfs, NFS exports of them; btrfs says 1).  Not from a
 * stacking filesystem: a union's merged directory keeps its upper's.
 */
static bool rwl_real_dir_is_leaf(struct file *realfile)
{
	const struct inode *real = file_inode(realfile);

	return real->i_nlink == 2 && !real->i_sb->s_stack_depth;
}

static bool rwl_fill_dot(struct rwl_dir_mapper *m, const char *name,
			 int namelen, loff_t offset, u64 ino)
{
	if (!m->caller->actor(m->caller, name, namelen, offset, ino, DT_DIR))
		return false;
	*m->dots_listed |= namelen == 1 ? RWL_DOT : RWL_DOTDOT;
	return true;
}

static bool rwl_fill_mapped(struct dir_context *ctx, const char *name,
			    int namelen, loff_t offset, u64 ino,
			    unsigned int d_type)
{
	struct rwl_dir_mapper *m = container_of(ctx, struct rwl_dir_mapper,
						ctx);
	u64 dot;

	/* Most entries, as they are: the cheapest test first. */
	if (name[0] == '.' || d_type == DT_DIR) {
		dot = rwl_dot_ino(m->dir, name, namelen);
		if (dot)
			return rwl_fill_dot(m, name, namelen, offset, dot);
		/* Its subdirectories live in this layer alone (rwl_dir_ino()). */
		if (d_type == DT_DIR)
			ino = rwl_dir_ino(RWL_FS(m->dir->d_sb), m->layer, ino) ?: ino;
	} else if (m->leaf && *m->dots_listed == (RWL_DOT | RWL_DOTDOT)) {
		/* Not listed: the real directory lists it again. */
		m->handover = true;
		return false;
	}
	return m->caller->actor(m->caller, name, namelen, offset, ino, d_type);
}

static int rwl_iterate_single(struct file *file, struct dir_context *ctx)
{
	struct rwl_dir_file *od = file->private_data;
	struct rwl_dir_mapper m = {
		.ctx.actor = rwl_fill_mapped,
		.ctx.pos = ctx->pos,
		.caller = ctx,
		.dir = file->f_path.dentry,
		.layer = od->layer,
		.dots_listed = &od->dots_listed,
		.leaf = rwl_real_dir_is_leaf(od->realfile),
	};
	int err;

	if (ctx->pos == 0)
		od->dots_listed = 0;
	err = rwl_do_iterate(od->realfile, &m.ctx);
	ctx->pos = m.ctx.pos;
	if (!err && m.handover)
		err = rwl_do_iterate(od->realfile, ctx);
	return err;
}

static int rwl_iterate(struct file *file, struct dir_context *ctx)
{
	struct rwl_dir_file *od = file->private_data;

	/* Copied up since it was opened: read from the start, merged. */
	if (od->realfile && od->lower_only && ctx->pos == 0 &&
	    rwl_upper(file->f_path.dentry)) {
		fput(od->realfile);
		od->realfile = NULL;
	}
	if (od->realfile)
		return rwl_iterate_single(file, ctx);
	return rwl_iterate_merged(file, ctx);
}

static loff_t rwl_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct rwl_dir_file *od = file->private_data;
	loff_t ret;

	if (od->realfile) {
		ret = vfs_llseek(od->realfile, offset, whence);
		file->f_pos = od->realfile->f_pos;
		/* The dots may lie after the new position: map everything. */
		od->dots_listed = 0;
		return ret;
	}

	switch (whence) {
	case SEEK_CUR:
		offset += file->f_pos;
		break;
	case SEEK_SET:
		break;
	default:
		return -EINVAL;
	}
	if (offset < 0)
		return -EINVAL;
	file->f_pos = offset;
	return offset;
}

static int rwl_dir_open(struct inode *inode, struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct rwl_dir_file *od;
	struct path realpath;
	struct file *realfile;

	od = kzalloc(sizeof(*od), GFP_KERNEL);
	if (!od)
		return -ENOMEM;

	/* A single layer, unless its upper may hold whiteouts or copies. */
	if (rwl_dir_layers(dentry) == 1 && !rwl_is_impure(inode)) {
		od->lower_only = !rwl_upper(dentry);
		od->layer = od->lower_only ? RWL_E(dentry)->stack[0].layer :
			    &RWL_FS(dentry->d_sb)->upper;
		rwl_real_path(dentry, &realpath);
		realfile = rwl_open_real(inode->i_sb, &realpath,
					 O_RDONLY | O_DIRECTORY);
		if (IS_ERR(realfile)) {
			kfree(od);
			return PTR_ERR(realfile);
		}
		od->realfile = realfile;
	}
	file->private_data = od;
	return 0;
}

static int rwl_dir_release(struct inode *inode, struct file *file)
{
	struct rwl_dir_file *od = file->private_data;

	if (od->realfile)
		fput(od->realfile);
	rwl_snapshot_free(od->snap);
	kfree(od);
	return 0;
}

/* Is a directory empty as the union shows it?  0 or -ENOTEMPTY. */
int rwl_check_empty(struct dentry *dentry)
{
	struct rwl_dir_snapshot *snap;
	unsigned int i, names = 0;
	struct rwl_dirent *d;

	snap = rwl_snapshot_read(dentry);
	if (IS_ERR(snap))
		return PTR_ERR(snap);
	for (i = 0; i < snap->count; i++) {
		d = snap->entries[i];
		if (!(d->len <= 2 && d->name[0] == '.' &&
		      (d->len == 1 || d->name[1] == '.')))
			names++;
	}
	rwl_snapshot_free(snap);
	return names ? -ENOTEMPTY : 0;
}

struct rwl_name_collector {
	struct dir_context ctx;
	struct list_head names;
	unsigned int added;
	int err;
};

static bool rwl_collect_name(struct dir_context *ctx, const char *name,
			     int namelen, loff_t offset, u64 ino,
			     unsigned int d_type)
{
	struct rwl_name_collector *nc = container_of(ctx,
						     struct rwl_name_collector,
						     ctx);
	struct rwl_dirent *d;

	d = kmalloc(struct_size(d, name, namelen + 1), GFP_KERNEL);
	if (!d) {
		nc->err = -ENOMEM;
		return false;
	}
	d->type = d_type;
	d->len = namelen;
	memcpy(d->name, name, namelen);
	d->name[namelen] = '\0';
	list_add_tail(&d->list, &nc->names);
	nc->added++;
	return true;
}

/*
 * Call @fn for every name in one real directory.  The names are read
 * first, so @fn runs with no lock held and may change the directory.
 */
int rwl_real_dir_names(struct super_block *sb, const struct path *dir,
		       int (*fn)(void *arg, const char *name, int len,
				 unsigned int type),
		       void *arg)
{
	struct rwl_name_collector nc = {
		.ctx.actor = rwl_collect_name,
		.names = LIST_HEAD_INIT(nc.names),
	};
	const struct cred *old_cred;
	struct rwl_dirent *d;
	struct file *realfile;
	int err;

	realfile = rwl_open_real(sb, dir, O_RDONLY | O_DIRECTORY);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	do {
		nc.added = 0;
		err = rwl_do_iterate(realfile, &nc.ctx);
	} while (!err && !nc.err && nc.added);
	fput(realfile);
	err = err ?: nc.err;

	old_cred = rwl_override_creds(sb);
	list_for_each_entry(d, &nc.names, list) {
		if (err)
			break;
		err = fn(arg, d->name, d->len, d->type);
	}
	revert_creds(old_cred);
	rwl_free_dirents(&nc.names);
	return err;
}

/* fsync() of a directory reaches its upper copy, the only one that changes. */
static int rwl_dir_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	struct dentry *dentry = file->f_path.dentry;
	struct rwl_dir_file *od = file->private_data;
	struct file *realfile;
	struct path upath;
	int ret;

	if (!rwl_upper(dentry))
		return 0;
	if (od->realfile && !od->lower_only)
		return vfs_fsync_range(od->realfile, start, end, datasync);

	rwl_upper_path(dentry, &upath);
	realfile = rwl_open_real(dentry->d_sb, &upath, O_RDONLY | O_DIRECTORY);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	ret = vfs_fsync_range(realfile, start, end, datasync);
	fput(realfile);
	return ret;
}

const struct file_operations rwl_dir_operations = {
	.open		= rwl_dir_open,
	.release	= rwl_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= rwl_iterate,
	.llseek		= rwl_dir_llseek,
	.fsync		= rwl_dir_fsync,
};
