/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rwlayer: a stacking union filesystem for diskless clients.
 *
 * The single internal header: structures first, then prototypes grouped by
 * the file that defines them, then the thin wrappers through which every
 * call into a real (lower) filesystem goes.
 */
#ifndef _RWLAYER_H
#define _RWLAYER_H

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>

#define RWLAYER_SUPER_MAGIC	0x72776c79	/* "rwly" */
#define RWL_MAX_LOWER		32

/*
 * A read-only layer.  Its mount is a private clone of the directory the
 * user named, so later changes to the user's mount tree (umount, move) do
 * not pull the layer from under us.
 */
struct rwl_layer {
	struct vfsmount *mnt;
	unsigned int idx;		/* 0 is the topmost lower */
};

/*
 * Per-superblock state.  The writable upper and the rule table join the
 * lower stack here; everything below reaches layers only through it.
 */
struct rwl_fs {
	unsigned int num_lower;
	struct rwl_layer *layers;	/* num_lower entries, top first */
	char *lower_spec;		/* lower= as given, for /proc/mounts */
	const struct cred *creator_cred;
};

/* One real dentry and the layer it lives in. */
struct rwl_path {
	const struct rwl_layer *layer;
	struct dentry *dentry;
};

/*
 * Per-dentry: the real dentries that make up a union dentry, topmost
 * first.  A directory may merge several; anything else has exactly one.
 * Immutable once the dentry is instantiated; a change below invalidates
 * the dentry (d_revalidate) and a new lookup builds a new entry.
 */
struct rwl_entry {
	unsigned int num;
	struct rwl_path stack[];
};

/*
 * Union inodes are hashed by the real inode they show, so hard links in a
 * lower share one union inode and inode numbers follow the real ones.
 */
struct rwl_inode {
	struct inode vfs_inode;
	struct inode *real;		/* pinned with ihold() */
	const struct rwl_layer *layer;	/* where @real lives */
};

static inline struct rwl_fs *RWL_FS(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct rwl_inode *RWL_I(const struct inode *inode)
{
	return container_of(inode, struct rwl_inode, vfs_inode);
}

static inline struct inode *rwl_inode_real(const struct inode *inode)
{
	return RWL_I(inode)->real;
}

static inline struct rwl_entry *RWL_E(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

/* The real path of one layer's dentry. */
static inline void rwl_layer_path(const struct rwl_path *p, struct path *path)
{
	path->mnt = p->layer->mnt;
	path->dentry = p->dentry;
}

/* The topmost real path of a positive union dentry. */
static inline void rwl_real_path(const struct dentry *dentry,
				 struct path *path)
{
	rwl_layer_path(&RWL_E(dentry)->stack[0], path);
}

/* params.c */
struct rwl_fs_context {
	unsigned int num_lower;
	struct path lower[RWL_MAX_LOWER];
	char *lower_spec;
};

extern const struct fs_parameter_spec rwl_fs_parameters[];
int rwl_parse_param(struct fs_context *fc, struct fs_parameter *param);
void rwl_fs_context_release(struct rwl_fs_context *ctx);

/* super.c */
extern struct file_system_type rwl_fs_type;

/* namei.c */
extern const struct dentry_operations rwl_dentry_operations;
struct dentry *rwl_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags);

/* inode.c */
extern const struct inode_operations rwl_dir_inode_operations;
struct inode *rwl_get_inode(struct super_block *sb, const struct rwl_path *top);
void rwl_copyattr(struct inode *inode);

/* file.c */
extern const struct file_operations rwl_file_operations;
struct file *rwl_open_real(struct super_block *sb, const struct path *realpath,
			   int flags);

/* readdir.c */
extern const struct file_operations rwl_dir_operations;

/* xattr.c */
extern const struct xattr_handler *rwl_xattr_handlers[];
ssize_t rwl_listxattr(struct dentry *dentry, char *list, size_t size);

/* util.c */
const struct cred *rwl_override_creds(struct super_block *sb);
struct rwl_entry *rwl_entry_alloc(unsigned int num);
void rwl_entry_free(struct rwl_entry *entry);
int rwl_init_inode_cache(void);
void rwl_destroy_inode_cache(void);
struct inode *rwl_alloc_inode(struct super_block *sb);
void rwl_destroy_inode(struct inode *inode);
void rwl_free_inode(struct inode *inode);

/*
 * Calls into the real filesystems.  Each logs its arguments and result
 * with pr_debug() so that dynamic debug shows what the union asked of
 * the layers below.
 */
static inline struct dentry *rwl_do_lookup(const char *name,
					   struct dentry *base, int len)
{
	struct dentry *ret = lookup_one_len_unlocked(name, base, len);

	pr_debug("lookup(%pd2, %.*s) = %pe\n", base, len, name, ret);
	return ret;
}

static inline struct file *rwl_do_open(const struct path *path, int flags,
				       const struct cred *cred)
{
	struct file *ret = dentry_open(path, flags, cred);

	pr_debug("open(%pd2, 0%o) = %pe\n", path->dentry, flags, ret);
	return ret;
}

static inline int rwl_do_getattr(const struct path *path, struct kstat *stat,
				 u32 request_mask, unsigned int flags)
{
	int ret = rwl_real_getattr(path, stat, request_mask, flags);

	pr_debug("getattr(%pd2, 0x%x) = %i\n", path->dentry, request_mask, ret);
	return ret;
}

static inline ssize_t rwl_do_getxattr(const struct path *path,
				      const char *name, void *value,
				      size_t size)
{
	ssize_t ret = vfs_getxattr(rwl_mnt_idmap(path->mnt), path->dentry,
				   name, value, size);

	pr_debug("getxattr(%pd2, %s, %zu) = %zi\n", path->dentry, name, size,
		 ret);
	return ret;
}

static inline ssize_t rwl_do_listxattr(struct dentry *dentry, char *list,
				       size_t size)
{
	ssize_t ret = vfs_listxattr(dentry, list, size);

	pr_debug("listxattr(%pd2, %zu) = %zi\n", dentry, size, ret);
	return ret;
}

static inline int rwl_do_iterate(struct file *realfile, struct dir_context *ctx)
{
	int ret = iterate_dir(realfile, ctx);

	pr_debug("iterate(%pD2, %lld) = %i\n", realfile, ctx->pos, ret);
	return ret;
}

#endif /* _RWLAYER_H */
