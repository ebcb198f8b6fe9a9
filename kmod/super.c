// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayer superblock: mount, unmount, statfs and the module itself.
 */
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "rwlayer.h"

static int rwl_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct path realpath;
	int err;

	rwl_real_path(dentry, &realpath);
	err = vfs_statfs(&realpath, buf);
	if (!err)
		buf->f_type = RWLAYER_SUPER_MAGIC;
	return err;
}

static int rwl_show_options(struct seq_file *m, struct dentry *root)
{
	seq_show_option(m, "lower", RWL_FS(root->d_sb)->lower_spec);
	return 0;
}

static const struct super_operations rwl_super_operations = {
	.alloc_inode	= rwl_alloc_inode,
	.destroy_inode	= rwl_destroy_inode,
	.free_inode	= rwl_free_inode,
	.drop_inode	= generic_delete_inode,
	.statfs		= rwl_statfs,
	.show_options	= rwl_show_options,
};

static void rwl_free_fs(struct rwl_fs *ofs)
{
	unsigned int i;

	if (!ofs)
		return;
	for (i = 0; i < ofs->num_lower; i++)
		kern_unmount(ofs->layers[i].mnt);
	kfree(ofs->layers);
	kfree(ofs->lower_spec);
	if (ofs->creator_cred)
		put_cred(ofs->creator_cred);
	kfree(ofs);
}

/* Take over the resolved lower paths as private, read-only mounts. */
static int rwl_get_layers(struct fs_context *fc, struct rwl_fs *ofs)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct vfsmount *mnt;
	unsigned int i;

	ofs->layers = kcalloc(ctx->num_lower, sizeof(*ofs->layers), GFP_KERNEL);
	if (!ofs->layers)
		return -ENOMEM;

	for (i = 0; i < ctx->num_lower; i++) {
		mnt = clone_private_mount(&ctx->lower[i]);
		if (IS_ERR(mnt)) {
			errorfc(fc, "lower %pd2: cannot clone its mount (%pe)",
				ctx->lower[i].dentry, mnt);
			return PTR_ERR(mnt);
		}
		/* Writes never go to a lower, and atime belongs to the union. */
		mnt->mnt_flags |= MNT_READONLY | MNT_NOATIME;
		ofs->layers[i].mnt = mnt;
		ofs->layers[i].idx = i;
		ofs->num_lower++;
	}
	return 0;
}

static struct dentry *rwl_make_root(struct super_block *sb,
				    struct rwl_fs_context *ctx)
{
	struct rwl_fs *ofs = RWL_FS(sb);
	struct rwl_entry *entry;
	struct dentry *root;
	struct inode *inode;
	unsigned int i;

	entry = rwl_entry_alloc(ctx->num_lower);
	if (!entry)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < ctx->num_lower; i++) {
		entry->stack[i].layer = &ofs->layers[i];
		entry->stack[i].dentry = dget(ctx->lower[i].dentry);
	}

	inode = rwl_get_inode(sb, &entry->stack[0]);
	if (IS_ERR(inode)) {
		rwl_entry_free(entry);
		return ERR_CAST(inode);
	}
	root = d_make_root(inode);
	if (!root) {
		rwl_entry_free(entry);
		return ERR_PTR(-ENOMEM);
	}
	root->d_fsdata = entry;
	return root;
}

static int rwl_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_fs *ofs;
	struct dentry *root;
	unsigned int i;
	int depth = 0;
	int err;

	err = -ENOMEM;
	ofs = kzalloc(sizeof(*ofs), GFP_KERNEL);
	if (!ofs)
		return err;
	/* From here on rwl_kill_sb() releases whatever was set up. */
	sb->s_fs_info = ofs;
	ofs->creator_cred = prepare_creds();
	if (!ofs->creator_cred)
		return err;

	err = rwl_get_layers(fc, ofs);
	if (err)
		return err;

	for (i = 0; i < ctx->num_lower; i++) {
		struct super_block *lower_sb = ctx->lower[i].mnt->mnt_sb;

		depth = max(depth, lower_sb->s_stack_depth);
		if (lower_sb->s_flags & SB_POSIXACL)
			sb->s_flags |= SB_POSIXACL;
		sb->s_maxbytes = max(sb->s_maxbytes, lower_sb->s_maxbytes);
	}
	sb->s_stack_depth = depth + 1;
	sb->s_magic = RWLAYER_SUPER_MAGIC;
	sb->s_op = &rwl_super_operations;
	sb->s_d_op = &rwl_dentry_operations;
	sb->s_xattr = rwl_xattr_handlers;
	sb->s_time_gran = 1;
	/* Without an upper layer there is nowhere to write. */
	sb->s_flags |= SB_RDONLY;

	root = rwl_make_root(sb, ctx);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = root;

	ofs->lower_spec = ctx->lower_spec;
	ctx->lower_spec = NULL;
	return 0;
}

static int rwl_get_tree(struct fs_context *fc)
{
	struct rwl_fs_context *ctx = fc->fs_private;

	if (!ctx->num_lower)
		return invalfc(fc, "missing lower=: at least one lower directory is needed");
	return get_tree_nodev(fc, rwl_fill_super);
}

static int rwl_reconfigure(struct fs_context *fc)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_fs *ofs = RWL_FS(fc->root->d_sb);

	/* mount(8) may repeat the options it was given; only changes fail. */
	if (ctx->lower_spec && strcmp(ctx->lower_spec, ofs->lower_spec))
		return invalfc(fc, "lower= cannot be changed by a remount");
	if ((fc->sb_flags_mask & SB_RDONLY) && !(fc->sb_flags & SB_RDONLY))
		return invalfc(fc, "no upper layer: the mount stays read-only");
	return 0;
}

static void rwl_free_fc(struct fs_context *fc)
{
	rwl_fs_context_release(fc->fs_private);
}

static const struct fs_context_operations rwl_context_operations = {
	.parse_param	= rwl_parse_param,
	.get_tree	= rwl_get_tree,
	.reconfigure	= rwl_reconfigure,
	.free		= rwl_free_fc,
};

static int rwl_init_fs_context(struct fs_context *fc)
{
	struct rwl_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fc->fs_private = ctx;
	fc->ops = &rwl_context_operations;
	return 0;
}

static void rwl_kill_sb(struct super_block *sb)
{
	struct rwl_fs *ofs = RWL_FS(sb);

	kill_anon_super(sb);
	rwl_free_fs(ofs);
}

struct file_system_type rwl_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "rwlayer",
	.init_fs_context	= rwl_init_fs_context,
	.parameters		= rwl_fs_parameters,
	.kill_sb		= rwl_kill_sb,
};
MODULE_ALIAS_FS("rwlayer");

static int __init rwl_init(void)
{
	int err;

	err = rwl_init_inode_cache();
	if (err)
		return err;
	err = register_filesystem(&rwl_fs_type);
	if (err)
		goto err_cache;
	pr_info("version %s loaded\n", RWLAYER_VERSION);
	return 0;

err_cache:
	rwl_destroy_inode_cache();
	return err;
}

static void __exit rwl_exit(void)
{
	unregister_filesystem(&rwl_fs_type);
	rwl_destroy_inode_cache();
}

module_init(rwl_init);
module_exit(rwl_exit);

MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Union filesystem with rule-based writable layers for diskless clients");
MODULE_AUTHOR("The rwlayer authors");
MODULE_VERSION(RWLAYER_VERSION);
