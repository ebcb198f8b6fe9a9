// SPDX-License-Identifier: GPL-2.0
/*
 * Small helpers shared by the VFS operations: credentials, union entries
 * and the union inode cache.
 */
#include <linux/slab.h>

#include "rwlayer.h"

static struct kmem_cache *rwl_inode_cachep;

/*
 * The layers are accessed with the mounter's credentials; the caller's
 * permission has already been checked against the union inode.
 */
const struct cred *rwl_override_creds(struct super_block *sb)
{
	return override_creds(RWL_FS(sb)->creator_cred);
}

struct rwl_entry *rwl_entry_alloc(unsigned int num)
{
	struct rwl_entry *entry;

	entry = kzalloc(struct_size(entry, stack, num), GFP_KERNEL);
	if (entry)
		entry->num = num;
	return entry;
}

void rwl_entry_free(struct rwl_entry *entry)
{
	unsigned int i;

	if (!entry)
		return;
	/* The dcache frees the real dentries after a grace period too. */
	for (i = 0; i < entry->num; i++)
		dput(entry->stack[i].dentry);
	kfree_rcu(entry, rcu);
}

static void rwl_inode_init_once(void *foo)
{
	struct rwl_inode *oi = foo;

	inode_init_once(&oi->vfs_inode);
}

int rwl_init_inode_cache(void)
{
	rwl_inode_cachep = kmem_cache_create("rwlayer_inode",
					     sizeof(struct rwl_inode), 0,
					     SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					     rwl_inode_init_once);
	return rwl_inode_cachep ? 0 : -ENOMEM;
}

void rwl_destroy_inode_cache(void)
{
	/* Inodes are freed after an RCU grace period; wait for them all. */
	rcu_barrier();
	kmem_cache_destroy(rwl_inode_cachep);
}

struct inode *rwl_alloc_inode(struct super_block *sb)
{
	struct rwl_inode *oi = alloc_inode_sb(sb, rwl_inode_cachep, GFP_KERNEL);

	if (!oi)
		return NULL;
	oi->real = NULL;
	oi->layer = NULL;
	oi->__upper = NULL;
	oi->origin_dev = 0;
	oi->in_rule = false;
	oi->in_rule_gen = 0;
	oi->stale = false;
	oi->impure = false;
	oi->charged_rule = NULL;
	oi->charged_gen = 0;
	oi->charged_bytes = 0;
	mutex_init(&oi->lock);
	return &oi->vfs_inode;
}

void rwl_destroy_inode(struct inode *inode)
{
	struct rwl_inode *oi = RWL_I(inode);

	rwl_uncharge_inode(inode);
	dput(oi->__upper);
	iput(oi->real);
	mutex_destroy(&oi->lock);
}

/*
 * Publish the upper dentry of a union inode (a reference is taken).  It is
 * set once and never changes, so readers need no lock.
 */
void rwl_set_upper(struct inode *inode, struct dentry *upper)
{
	struct rwl_inode *oi = RWL_I(inode);

	dget(upper);
	if (cmpxchg_release(&oi->__upper, NULL, upper))
		dput(upper);
}

/* Look @name up in the locked upper directory @udir. */
struct dentry *rwl_lookup_upper(struct dentry *udir, const struct qstr *name)
{
	struct dentry *ret = lookup_one_len(name->name, udir, name->len);

	pr_debug("lookup(%pd2, %.*s) = %pe\n", udir, name->len, name->name,
		 ret);
	return ret;
}

/*
 * Look @name up in the upper directory @dir and remove it, whatever it
 * is, or with @whiteout_only only if it is a whiteout (looked at under
 * the directory's lock, so nothing made meanwhile goes).  A directory
 * that is not empty stays (-ENOTEMPTY); with @busy the caller gets a
 * reference to it, to empty it first.
 */
int rwl_remove_name(struct super_block *sb, struct dentry *dir,
		    const char *name, int len, bool whiteout_only,
		    struct dentry **busy)
{
	struct dentry *victim;
	int err;

	inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
	victim = lookup_one_len(name, dir, len);
	err = PTR_ERR(victim);
	if (IS_ERR(victim))
		goto out_unlock;
	err = d_is_positive(victim) &&
	      (!whiteout_only || rwl_is_whiteout(victim)) ?
	      rwl_do_remove(sb, d_inode(dir), victim) : 0;
	if (err == -ENOTEMPTY && busy)
		*busy = dget(victim);
	dput(victim);
out_unlock:
	inode_unlock(d_inode(dir));
	return err;
}

/*
 * Before a change of a file's attributes or xattrs: is the name writable,
 * is its upper copy there, may the upper be written.
 */
int rwl_meta_write_begin(struct dentry *dentry)
{
	int err;

	err = rwl_may_write(dentry);
	if (!err)
		err = rwl_copy_up(dentry);
	if (!err)
		err = mnt_want_write(RWL_FS(dentry->d_sb)->upper.mnt);
	return err;
}

void rwl_meta_write_end(struct dentry *dentry)
{
	mnt_drop_write(RWL_FS(dentry->d_sb)->upper.mnt);
	rwl_copyattr(d_inode(dentry));
}

void rwl_free_inode(struct inode *inode)
{
	kmem_cache_free(rwl_inode_cachep, RWL_I(inode));
}
