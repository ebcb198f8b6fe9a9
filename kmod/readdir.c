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
	unsigned int len;
	char name[];
};

struct rwl_dir_snapshot {
	unsigned int count;
	struct rwl_dirent **entries;	/* in listing order */
};

struct rwl_dir_file {
	struct file *realfile;		/* single-layer directory */
	struct rwl_dir_snapshot *snap;	/* merged directory, NULL until read */
};

/* Collects the names of the layers, top first, for a new snapshot. */
struct rwl_dir_reader {
	struct dir_context ctx;
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
	if (!link)
		return true;	/* an upper layer already has this name */

	d = kmalloc(struct_size(d, name, namelen + 1), GFP_KERNEL);
	if (!d) {
		rd->err = -ENOMEM;
		return false;
	}
	d->ino = ino;
	d->type = d_type;
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

static int rwl_read_layer(struct super_block *sb, const struct rwl_path *p,
			  struct rwl_dir_reader *rd)
{
	struct path realpath;
	struct file *realfile;
	int err;

	rwl_layer_path(p, &realpath);
	realfile = rwl_open_real(sb, &realpath, O_RDONLY | O_DIRECTORY);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);

	/* A filesystem may stop early; read until a pass adds nothing. */
	do {
		rd->added = 0;
		err = rwl_do_iterate(realfile, &rd->ctx);
	} while (!err && !rd->err && rd->added);

	fput(realfile);
	return err ?: rd->err;
}

static struct rwl_dir_snapshot *rwl_snapshot_read(struct dentry *dentry)
{
	const struct rwl_entry *entry = RWL_E(dentry);
	struct rwl_dir_reader rd = {
		.ctx.actor = rwl_fill_merge,
		.names = RB_ROOT,
		.order = LIST_HEAD_INIT(rd.order),
	};
	struct rwl_dir_snapshot *snap;
	struct rwl_dirent *d;
	unsigned int i;
	int err;

	for (i = 0; i < entry->num; i++) {
		err = rwl_read_layer(dentry->d_sb, &entry->stack[i], &rd);
		if (err)
			goto out_free;
	}

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

static int rwl_iterate(struct file *file, struct dir_context *ctx)
{
	struct rwl_dir_file *od = file->private_data;

	if (od->realfile)
		return rwl_do_iterate(od->realfile, ctx);
	return rwl_iterate_merged(file, ctx);
}

static loff_t rwl_dir_llseek(struct file *file, loff_t offset, int whence)
{
	struct rwl_dir_file *od = file->private_data;
	loff_t ret;

	if (od->realfile) {
		ret = vfs_llseek(od->realfile, offset, whence);
		file->f_pos = od->realfile->f_pos;
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
	const struct rwl_entry *entry = RWL_E(file->f_path.dentry);
	struct rwl_dir_file *od;
	struct path realpath;
	struct file *realfile;

	od = kzalloc(sizeof(*od), GFP_KERNEL);
	if (!od)
		return -ENOMEM;

	if (entry->num == 1) {
		rwl_real_path(file->f_path.dentry, &realpath);
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

const struct file_operations rwl_dir_operations = {
	.open		= rwl_dir_open,
	.release	= rwl_dir_release,
	.read		= generic_read_dir,
	.iterate_shared	= rwl_iterate,
	.llseek		= rwl_dir_llseek,
};
