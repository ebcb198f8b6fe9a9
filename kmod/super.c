// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayer superblock: mount, unmount, statfs and the module itself.
 */
#include <linux/fs_context.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "rwlayer.h"

/*
 * Inside a rule the space that matters is the upper's, cut down to the
 * rule's limits; outside, the layer the name comes from.
 */
static int rwl_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct rwl_fs *ofs = RWL_FS(dentry->d_sb);
	const struct rwl_rule *rule = rwl_rule_of(dentry);
	struct path realpath;
	int err;

	if (rule) {
		realpath.mnt = ofs->upper.mnt;
		realpath.dentry = ofs->upper.mnt->mnt_root;
	} else {
		rwl_real_path(dentry, &realpath);
	}
	err = vfs_statfs(&realpath, buf);
	if (err)
		return err;
	if (rule)
		rwl_rule_statfs(rule, buf);
	buf->f_type = RWLAYER_SUPER_MAGIC;
	return 0;
}

static const char *const rwl_kind_names[] = {
	[RWL_RULE_UNION] = "union",
	[RWL_RULE_EMPTY] = "empty",
	[RWL_RULE_FILE] = "file",
};

static void rwl_show_rule(struct seq_file *m, const struct rwl_rule *rule,
			  const char *path)
{
	u64 max_bytes = READ_ONCE(rule->max_bytes);
	u64 max_inodes = READ_ONCE(rule->max_inodes);

	seq_puts(m, ",rule=");
	seq_escape(m, path, ",:\\ \t\n");
	seq_printf(m, ":%s", rwl_kind_names[rule->kind]);
	if (max_bytes)
		seq_printf(m, ":size=%llu", max_bytes);
	if (max_inodes)
		seq_printf(m, ":inodes=%llu", max_inodes);
}

/*
 * The rules as they are now, which netlink may have changed.  Without
 * rules_lock: a reader of /proc/mounts holds namespace_sem, which a rule
 * change may need (a stale dentry's d_invalidate() detaches mounts).
 * Slots are never freed before the superblock, paths are RCU.
 */
void rwl_show_rules(struct seq_file *m, struct rwl_fs *ofs)
{
	const struct rwl_rule *rule;
	unsigned int i, shown = 0;

	rcu_read_lock();
	for (i = 0; !ofs->rules_implicit && i < RWL_MAX_RULES; i++) {
		/* Pairs with the release of the slot in rwl_slot_fill(). */
		rule = smp_load_acquire(&ofs->rules[i]);
		if (!rule)
			continue;
		/* Pairs with the release of ->active in rwl_slot_fill(). */
		if (!smp_load_acquire(&rule->active))
			continue;
		rwl_show_rule(m, rule, rcu_dereference(rule->path));
		shown++;
	}
	rcu_read_unlock();
	if (!shown && !ofs->rules_implicit)
		seq_puts(m, ",rule=none");
}

static int rwl_show_options(struct seq_file *m, struct dentry *root)
{
	struct rwl_fs *ofs = RWL_FS(root->d_sb);

	seq_show_option(m, "lower", ofs->lower_spec);
	if (!ofs->upper.mnt)
		return 0;
	seq_show_option(m, "upper", ofs->upper_spec);
	seq_show_option(m, "work", ofs->work_spec);
	rwl_show_rules(m, ofs);
	return 0;
}

/* syncfs() on the union reaches the upper's filesystem. */
static int rwl_sync_fs(struct super_block *sb, int wait)
{
	struct super_block *upper_sb;
	int ret;

	if (!rwl_has_upper(sb) || !wait)
		return 0;
	upper_sb = RWL_FS(sb)->upper.mnt->mnt_sb;
	down_read(&upper_sb->s_umount);
	ret = sync_filesystem(upper_sb);
	up_read(&upper_sb->s_umount);
	return ret;
}

static const struct super_operations rwl_super_operations = {
	.alloc_inode	= rwl_alloc_inode,
	.destroy_inode	= rwl_destroy_inode,
	.free_inode	= rwl_free_inode,
	.drop_inode	= generic_delete_inode,
	.statfs		= rwl_statfs,
	.sync_fs	= rwl_sync_fs,
	.show_options	= rwl_show_options,
};

/*
 * The mounts whose upper and work directories are in use: a second union
 * on one of them would change the same names through two caches (and
 * clear the first one's work directory at mount).
 */
static DEFINE_MUTEX(rwl_in_use_lock);
static LIST_HEAD(rwl_in_use);

static bool rwl_dir_in_use(const struct dentry *dir)
{
	struct rwl_fs *ofs;

	list_for_each_entry(ofs, &rwl_in_use, in_use_link) {
		if (ofs->upper.mnt->mnt_root == dir || ofs->workdir == dir)
			return true;
	}
	return false;
}

/* Take @ofs's upper and work directories, unless another mount has one. */
static int rwl_claim_upper(struct fs_context *fc, struct rwl_fs *ofs)
{
	int err = -EBUSY;

	mutex_lock(&rwl_in_use_lock);
	if (rwl_dir_in_use(ofs->upper.mnt->mnt_root)) {
		errorfc(fc, "upper=%s: in use by another rwlayer mount",
			ofs->upper_spec);
	} else if (rwl_dir_in_use(ofs->workdir)) {
		errorfc(fc, "work=%s: in use by another rwlayer mount",
			ofs->work_spec);
	} else {
		list_add(&ofs->in_use_link, &rwl_in_use);
		ofs->upper_claimed = true;
		err = 0;
	}
	mutex_unlock(&rwl_in_use_lock);
	return err;
}

static void rwl_release_upper(struct rwl_fs *ofs)
{
	mutex_lock(&rwl_in_use_lock);
	if (ofs->upper_claimed)
		list_del(&ofs->in_use_link);
	mutex_unlock(&rwl_in_use_lock);
}

static void rwl_free_fs(struct rwl_fs *ofs)
{
	unsigned int i;

	if (!ofs)
		return;
	rwl_release_upper(ofs);
	dput(ofs->workdir);
	kern_unmount(ofs->upper.mnt);
	for (i = 0; i < ofs->num_lower; i++) {
		kern_unmount(ofs->layers[i].mnt);
		kfree(ofs->layers[i].name);
	}
	kfree(ofs->layers);
	rwl_rules_free(ofs);
	kfree(ofs->lower_spec);
	kfree(ofs->upper_spec);
	kfree(ofs->work_spec);
	if (ofs->creator_cred)
		put_cred(ofs->creator_cred);
	kfree(ofs);
}

/*
 * A private clone has no place in any namespace (d_path() of it is "/"),
 * so the name tools see is taken from the path the mounter gave.
 */
static char *rwl_layer_name(const struct path *path)
{
	char *buf, *p, *name;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return NULL;
	p = d_path(path, buf, PATH_MAX);
	name = kstrdup(IS_ERR(p) ? "?" : p, GFP_KERNEL);
	kfree(buf);
	return name;
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
		/* Its ids would have to be mapped at every step: not done. */
		if (is_idmapped_mnt(ctx->lower[i].mnt))
			return invalfc(fc, "lower %pd2: idmapped layers are not supported",
				       ctx->lower[i].dentry);
		ofs->layers[i].name = rwl_layer_name(&ctx->lower[i]);
		if (!ofs->layers[i].name)
			return -ENOMEM;
		mnt = clone_private_mount(&ctx->lower[i]);
		if (IS_ERR(mnt)) {
			errorfc(fc, "lower %pd2: cannot clone its mount (%pe)",
				ctx->lower[i].dentry, mnt);
			kfree(ofs->layers[i].name);
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

/*
 * Can the upper rename with @flags?  Tried on two objects of the work
 * directory (emptied again by the caller).
 */
static int rwl_probe_rename(struct super_block *sb, unsigned int flags)
{
	struct dentry *wdir = RWL_FS(sb)->workdir, *from, *to;
	int err;

	from = rwl_work_create(sb, S_IFREG | 0600, 0, NULL);
	if (IS_ERR(from))
		return PTR_ERR(from);
	if (flags & RENAME_EXCHANGE) {
		to = rwl_work_create(sb, S_IFREG | 0600, 0, NULL);
	} else {
		inode_lock_nested(d_inode(wdir), I_MUTEX_PARENT);
		to = rwl_work_lookup(sb);
		inode_unlock(d_inode(wdir));
	}
	err = PTR_ERR(to);
	if (IS_ERR(to))
		goto out_from;
	inode_lock_nested(d_inode(wdir), I_MUTEX_PARENT);
	err = rwl_do_rename(sb, d_inode(wdir), from, d_inode(wdir), to, flags);
	inode_unlock(d_inode(wdir));
	dput(to);
out_from:
	dput(from);
	return err;
}

/*
 * Creates and deletes where a lower has the name are one exchange or
 * whiteout-making rename each (dir.c): without them no upper.
 */
static int rwl_check_upper_renames(struct fs_context *fc,
				   struct super_block *sb)
{
	static const struct {
		unsigned int flags;
		const char *name;
	} needed[] = {
		{ RENAME_EXCHANGE, "RENAME_EXCHANGE" },
		{ RENAME_WHITEOUT, "RENAME_WHITEOUT" },
	};
	struct rwl_fs *ofs = RWL_FS(sb);
	struct path work = { .mnt = ofs->upper.mnt, .dentry = ofs->workdir };
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(needed) && !err; i++) {
		err = rwl_probe_rename(sb, needed[i].flags);
		if (err)
			errorfc(fc, "upper=%s: cannot rename with %s (%pe)",
				ofs->upper_spec, needed[i].name, ERR_PTR(err));
	}
	if (!err)
		err = rwl_clear_dir(sb, &work);
	return err == -EOPNOTSUPP ? -EINVAL : err;
}

/* Refuse an upper that cannot hold what rwlayer stores there. */
static int rwl_check_upper_features(struct fs_context *fc,
				    struct super_block *sb)
{
	struct rwl_fs *ofs = RWL_FS(sb);
	struct dentry *probe, *wh;
	int err;

	probe = rwl_work_create(sb, S_IFDIR | 0700, 0, NULL);
	if (IS_ERR(probe)) {
		errorfc(fc, "work=%s: cannot create in it (%pe)",
			ofs->work_spec, probe);
		return PTR_ERR(probe);
	}
	err = rwl_set_opaque(sb, probe);
	rwl_work_remove(sb, probe);
	if (err) {
		errorfc(fc, "upper=%s: no trusted.* xattr support (%pe)",
			ofs->upper_spec, ERR_PTR(err));
		return err == -EOPNOTSUPP ? -EINVAL : err;
	}

	wh = rwl_work_create(sb, S_IFCHR | WHITEOUT_MODE, WHITEOUT_DEV, NULL);
	if (IS_ERR(wh)) {
		errorfc(fc, "upper=%s: cannot hold whiteouts (%pe)",
			ofs->upper_spec, wh);
		return PTR_ERR(wh) == -EOPNOTSUPP ? -EINVAL : PTR_ERR(wh);
	}
	rwl_work_remove(sb, wh);
	return rwl_check_upper_renames(fc, sb);
}

/*
 * Every new object is made in the work directory before it moves into
 * place: the directory must hand it nothing of its own, neither its
 * group (set-group-ID) nor an ACL, or the object would carry it into the
 * union.  Cleared, as the work directory is rwlayer's alone.
 */
static int rwl_neutral_workdir(struct fs_context *fc, struct super_block *sb)
{
	static const int acl_types[] = { ACL_TYPE_ACCESS, ACL_TYPE_DEFAULT };
	struct dentry *work = RWL_FS(sb)->workdir;
	struct iattr attr = { .ia_valid = ATTR_MODE };
	unsigned int i;
	int err = 0;

	for (i = 0; !err && i < ARRAY_SIZE(acl_types); i++) {
		err = rwl_remove_real_acl(sb, work, acl_types[i]);
		if (err == -ENODATA || err == -EOPNOTSUPP)
			err = 0;
	}
	if (!err && (d_inode(work)->i_mode & S_ISGID)) {
		attr.ia_mode = d_inode(work)->i_mode & ~S_ISGID;
		inode_lock(d_inode(work));
		err = rwl_do_setattr(sb, work, &attr);
		inode_unlock(d_inode(work));
	}
	if (err)
		errorfc(fc, "work=%s: cannot clear its set-group-ID bit and ACLs (%pe)",
			RWL_FS(sb)->work_spec, ERR_PTR(err));
	return err;
}

/* Take over the upper and work directories and make them ready. */
static int rwl_get_upper(struct fs_context *fc, struct super_block *sb)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_fs *ofs = RWL_FS(sb);
	struct vfsmount *mnt;
	struct path work;
	int err;

	if (is_idmapped_mnt(ctx->upper.mnt))
		return invalfc(fc, "upper=%s: idmapped layers are not supported",
			       ctx->upper_spec);
	mnt = clone_private_mount(&ctx->upper);
	if (IS_ERR(mnt)) {
		errorfc(fc, "upper=%s: cannot clone its mount (%pe)",
			ctx->upper_spec, mnt);
		return PTR_ERR(mnt);
	}
	ofs->upper.mnt = mnt;
	ofs->upper_spec = ctx->upper_spec;
	ctx->upper_spec = NULL;
	ofs->work_spec = ctx->work_spec;
	ctx->work_spec = NULL;
	ofs->workdir = dget(ctx->work.dentry);
	ofs->upper_persists = mnt->mnt_sb->s_magic != TMPFS_MAGIC;
	err = rwl_claim_upper(fc, ofs);
	if (err)
		return err;

	err = mnt_want_write(mnt);
	if (err)
		return err;
	/* Leftovers of copy-ups that a crash interrupted. */
	work.mnt = mnt;
	work.dentry = ofs->workdir;
	err = rwl_clear_dir(sb, &work);
	if (err)
		errorfc(fc, "work=%s: cannot clear it (%pe)", ofs->work_spec,
			ERR_PTR(err));
	else
		err = rwl_neutral_workdir(fc, sb) ?:
		      rwl_check_upper_features(fc, sb);
	mnt_drop_write(mnt);
	return err;
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
	rwl_root_set_place(sb, entry);

	inode = rwl_get_inode(sb, NULL, ofs->upper.mnt ?
			      ofs->upper.mnt->mnt_root : NULL,
			      &entry->stack[0], NULL);
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
	rwl_inode_set_in_rule(inode, root);
	return root;
}

/* Number the layers' filesystems for rwl_dir_ino(); the upper's is 0. */
static void rwl_set_fsids(struct rwl_fs *ofs)
{
	struct super_block *sbs[RWL_MAX_LOWER + 1];
	unsigned int i, j, n = 0;

	if (ofs->upper.mnt)
		sbs[n++] = ofs->upper.mnt->mnt_sb;
	for (i = 0; i < ofs->num_lower; i++) {
		for (j = 0; j < n; j++) {
			if (sbs[j] == ofs->layers[i].mnt->mnt_sb)
				break;
		}
		if (j == n)
			sbs[n++] = ofs->layers[i].mnt->mnt_sb;
		ofs->layers[i].fsid = j;
	}
	/* One index more than needed: the top one is for pseudo numbers. */
	ofs->ino_shift = n > 1 ? 64 - fls(n) : 0;
}

/*
 * The credentials every layer access runs with: the mounter's, but
 * quotas and reserved blocks bind the union's users like anyone else.
 */
static int rwl_make_creator_cred(struct rwl_fs *ofs)
{
	struct cred *cred = prepare_creds();

	if (!cred)
		return -ENOMEM;
	cap_lower(cred->cap_effective, CAP_SYS_RESOURCE);
	ofs->creator_cred = cred;
	return 0;
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
	ofs->sb = sb;
	for (i = 0; i < RWL_DIR_ALIAS_LOCKS; i++)
		mutex_init(&ofs->dir_alias_locks[i]);
	err = rwl_make_creator_cred(ofs);
	if (err)
		return err;

	err = rwl_get_layers(fc, ofs);
	if (err)
		return err;
	if (ctx->upper.dentry) {
		err = rwl_get_upper(fc, sb);
		if (err)
			return err;
	}
	rwl_set_fsids(ofs);
	err = rwl_rules_build(fc, ofs);
	if (err)
		return err;

	for (i = 0; i < ctx->num_lower; i++) {
		struct super_block *lower_sb = ctx->lower[i].mnt->mnt_sb;

		depth = max(depth, lower_sb->s_stack_depth);
		if (lower_sb->s_flags & SB_POSIXACL)
			sb->s_flags |= SB_POSIXACL;
		sb->s_maxbytes = max(sb->s_maxbytes, lower_sb->s_maxbytes);
	}
	if (ctx->upper.dentry) {
		struct super_block *upper_sb = ctx->upper.mnt->mnt_sb;

		depth = max(depth, upper_sb->s_stack_depth);
		if (upper_sb->s_flags & SB_POSIXACL)
			sb->s_flags |= SB_POSIXACL;
		sb->s_maxbytes = upper_sb->s_maxbytes;
	}
	sb->s_stack_depth = depth + 1;
	sb->s_magic = RWLAYER_SUPER_MAGIC;
	sb->s_op = &rwl_super_operations;
	sb->s_d_op = &rwl_dentry_operations;
	sb->s_xattr = rwl_xattr_handlers;
	sb->s_time_gran = 1;
	/* Without an upper layer there is nowhere to write. */
	if (!ctx->upper.dentry)
		sb->s_flags |= SB_RDONLY;

	root = rwl_make_root(sb, ctx);
	if (IS_ERR(root))
		return PTR_ERR(root);
	sb->s_root = root;

	ofs->lower_spec = ctx->lower_spec;
	ctx->lower_spec = NULL;

	err = rwl_rules_prepare(sb);
	if (err) {
		errorfc(fc, "cannot prepare the empty rules' directories (%pe)",
			ERR_PTR(err));
		return err;
	}
	rwl_mount_register(ofs);
	return 0;
}

static int rwl_get_tree(struct fs_context *fc)
{
	struct rwl_fs_context *ctx = fc->fs_private;

	if (!ctx->num_lower)
		return invalfc(fc, "missing lower=: at least one lower directory is needed");
	if (ctx->work_spec && !ctx->upper_spec)
		return invalfc(fc, "work= without upper=");
	if ((ctx->num_rules || ctx->no_rules) && !ctx->upper_spec)
		return invalfc(fc, "rule= needs upper=");
	if (!ctx->upper_spec)
		return get_tree_nodev(fc, rwl_fill_super);
	if (!ctx->work_spec)
		return invalfc(fc, "upper= needs work= on the same filesystem");
	if (ctx->work.mnt->mnt_sb != ctx->upper.mnt->mnt_sb)
		return invalfc(fc, "work=%s: not on the same filesystem as upper=%s",
			       ctx->work_spec, ctx->upper_spec);
	if (is_subdir(ctx->work.dentry, ctx->upper.dentry) ||
	    is_subdir(ctx->upper.dentry, ctx->work.dentry))
		return invalfc(fc, "work= and upper= must not contain each other");
	return get_tree_nodev(fc, rwl_fill_super);
}

/* mount(8) repeats what /proc/mounts shows: the rules as they are now. */
static bool rwl_same_rules(const struct rwl_fs_context *ctx,
			   struct rwl_fs *ofs)
{
	const struct rwl_rule_spec *spec;
	const struct rwl_rule *rule;
	unsigned int i, active = 0;
	bool same = !ofs->rules_implicit;

	mutex_lock(&ofs->rules_lock);
	for (i = 0; i < RWL_MAX_RULES; i++)
		active += ofs->rules[i] && ofs->rules[i]->active;
	if (active != ctx->num_rules)
		same = false;
	for (i = 0; same && i < ctx->num_rules; i++) {
		spec = &ctx->rules[i];
		rule = rwl_rule_find(ofs, spec->path);
		same = rule && rule->kind == spec->kind &&
		       READ_ONCE(rule->max_bytes) == spec->max_bytes &&
		       READ_ONCE(rule->max_inodes) == spec->max_inodes;
	}
	mutex_unlock(&ofs->rules_lock);
	return same;
}

static int rwl_reconfigure(struct fs_context *fc)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_fs *ofs = RWL_FS(fc->root->d_sb);

	/* mount(8) may repeat the options it was given; only changes fail. */
	if (ctx->lower_spec && strcmp(ctx->lower_spec, ofs->lower_spec))
		return invalfc(fc, "lower= cannot be changed by a remount");
	if (ctx->upper_spec && (!ofs->upper_spec ||
				strcmp(ctx->upper_spec, ofs->upper_spec)))
		return invalfc(fc, "upper= cannot be changed by a remount");
	if (ctx->work_spec && (!ofs->work_spec ||
			       strcmp(ctx->work_spec, ofs->work_spec)))
		return invalfc(fc, "work= cannot be changed by a remount");
	if ((ctx->num_rules || ctx->no_rules) && !rwl_same_rules(ctx, ofs))
		return invalfc(fc, "rule= cannot be changed by a remount");
	if (!ofs->upper.mnt && (fc->sb_flags_mask & SB_RDONLY) &&
	    !(fc->sb_flags & SB_RDONLY))
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

	/* First, so that no netlink request works on a dying superblock. */
	rwl_mount_unregister(ofs);
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
	/* The family first: once registered, the filesystem can be mounted. */
	err = rwl_netlink_init();
	if (err)
		goto err_cache;
	err = register_filesystem(&rwl_fs_type);
	if (err)
		goto err_netlink;
	pr_info("version %s loaded\n", RWLAYER_VERSION);
	return 0;

err_netlink:
	rwl_netlink_exit();
err_cache:
	rwl_destroy_inode_cache();
	return err;
}

static void __exit rwl_exit(void)
{
	unregister_filesystem(&rwl_fs_type);
	rwl_netlink_exit();
	rwl_destroy_inode_cache();
}

module_init(rwl_init);
module_exit(rwl_exit);

MODULE_LICENSE("GPL v2");
MODULE_DESCRIPTION("Union filesystem with rule-based writable layers for diskless clients");
MODULE_AUTHOR("The rwlayer authors");
MODULE_VERSION(RWLAYER_VERSION);
