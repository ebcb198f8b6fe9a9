// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup across layers and the life of union dentries.
 *
 * The topmost layer holding a name wins.  A non-directory hides whatever
 * lies below it; directories of the same name merge until the first layer
 * where the name is not a directory.
 */
#include <linux/namei.h>
#include <linux/slab.h>

#include "rwlayer.h"

/*
 * A union dentry stays valid while every real dentry under it does.  A
 * real dentry that was unlinked or renamed away in its layer (the image
 * server updated the tree) is unhashed; dropping the union dentry makes
 * the next access look the name up again instead of serving stale data.
 */
static int rwl_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct rwl_entry *entry = READ_ONCE(dentry->d_fsdata);
	unsigned int i;
	int ret;

	if (!entry)
		return 1;
	for (i = 0; i < entry->num; i++) {
		struct dentry *real = entry->stack[i].dentry;

		if (!IS_ROOT(real) && d_unhashed(real))
			return 0;
		if (real->d_flags & DCACHE_OP_REVALIDATE) {
			ret = real->d_op->d_revalidate(real, flags);
			if (ret <= 0)
				return ret;
		}
	}
	return 1;
}

static void rwl_d_release(struct dentry *dentry)
{
	rwl_entry_free(dentry->d_fsdata);
}

const struct dentry_operations rwl_dentry_operations = {
	.d_revalidate	= rwl_d_revalidate,
	.d_release	= rwl_d_release,
};

/*
 * Collect the real dentries for @name below the layers of @parent into
 * @stack.  Returns how many were found or a negative errno; on error no
 * reference is kept.
 */
static int rwl_lookup_layers(const struct rwl_entry *parent,
			     const struct qstr *name, struct rwl_path *stack)
{
	struct dentry *this;
	unsigned int i;
	int n = 0;

	for (i = 0; i < parent->num; i++) {
		this = rwl_do_lookup(name->name, parent->stack[i].dentry,
				     name->len);
		if (IS_ERR(this))
			goto out_put;
		if (d_is_negative(this)) {
			dput(this);
			continue;
		}
		/* A non-directory under a directory is hidden and ends the merge. */
		if (n && !d_is_dir(this)) {
			dput(this);
			break;
		}
		stack[n].layer = parent->stack[i].layer;
		stack[n].dentry = this;
		n++;
		if (!d_is_dir(this))
			break;
	}
	return n;

out_put:
	while (n--)
		dput(stack[n].dentry);
	return PTR_ERR(this);
}

struct dentry *rwl_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags)
{
	const struct rwl_entry *parent = RWL_E(dentry->d_parent);
	const struct cred *old_cred;
	struct rwl_entry *entry;
	struct rwl_path *stack;
	struct inode *inode;
	int n, err;

	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);

	stack = kcalloc(parent->num, sizeof(*stack), GFP_KERNEL);
	if (!stack)
		return ERR_PTR(-ENOMEM);

	old_cred = rwl_override_creds(dentry->d_sb);
	n = rwl_lookup_layers(parent, &dentry->d_name, stack);
	revert_creds(old_cred);
	err = n;
	if (n < 0)
		goto out_free;
	if (n == 0) {
		kfree(stack);
		return d_splice_alias(NULL, dentry);
	}

	err = -ENOMEM;
	entry = rwl_entry_alloc(n);
	if (!entry)
		goto out_put;
	/* The entry owns the real dentries from here on. */
	memcpy(entry->stack, stack, n * sizeof(*stack));
	kfree(stack);

	inode = rwl_get_inode(dentry->d_sb, &entry->stack[0]);
	if (IS_ERR(inode)) {
		rwl_entry_free(entry);
		return ERR_CAST(inode);
	}
	dentry->d_fsdata = entry;
	return d_splice_alias(inode, dentry);

out_put:
	while (n--)
		dput(stack[n].dentry);
out_free:
	kfree(stack);
	return ERR_PTR(err);
}
