// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table: which parts of the tree are writable, how, and what
 * they have used of the upper.
 *
 * Rules form a tree of path components.  Every union dentry points at its
 * node in that tree (or at none, below the last rule path), so lookup
 * finds a child's rule from its parent in one step and no path is ever
 * rebuilt from dentries.
 */
#include <linux/slab.h>
#include <linux/statfs.h>

#include "rwlayer.h"

/* Usage is charged in pages: a file of 1 byte costs 4 KiB. */
#define RWL_CHARGE_UNIT		4096

static struct rwl_rule_node *rwl_node_child(const struct rwl_rule_node *node,
					    const char *name, unsigned int len)
{
	struct rwl_rule_node *child;

	for (child = node->children; child; child = child->next) {
		if (child->len == len && !memcmp(child->name, name, len))
			return child;
	}
	return NULL;
}

static struct rwl_rule_node *rwl_node_alloc(const char *name, unsigned int len)
{
	struct rwl_rule_node *node;

	node = kzalloc(struct_size(node, name, len + 1), GFP_KERNEL);
	if (!node)
		return NULL;
	memcpy(node->name, name, len);
	node->len = len;
	return node;
}

static void rwl_node_free(struct rwl_rule_node *node)
{
	struct rwl_rule_node *next;

	while (node) {
		rwl_node_free(node->children);
		next = node->next;
		kfree(node);
		node = next;
	}
}

/* Find or make the node for @path ("/" or "/a/b"). */
static struct rwl_rule_node *rwl_node_insert(struct rwl_rule_node *root,
					     const char *path)
{
	struct rwl_rule_node *node = root, *child;
	const char *c = path, *end;

	while (*c == '/' && c[1]) {
		c++;
		end = strchrnul(c, '/');
		child = rwl_node_child(node, c, end - c);
		if (!child) {
			child = rwl_node_alloc(c, end - c);
			if (!child)
				return NULL;
			child->next = node->children;
			node->children = child;
		}
		node = child;
		c = end;
	}
	return node;
}

static void rwl_rule_init(struct rwl_rule *rule, struct rwl_rule_spec *spec)
{
	rule->path = spec->path;
	spec->path = NULL;
	rule->kind = spec->kind;
	rule->max_bytes = spec->max_bytes;
	rule->max_inodes = spec->max_inodes;
	atomic64_set(&rule->bytes, 0);
	atomic64_set(&rule->inodes, 0);
}

/*
 * Take the rules over from the mount context.  An upper without rules is
 * one union rule for the whole tree.
 */
int rwl_rules_build(struct fs_context *fc, struct rwl_fs *ofs)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_rule_spec whole = { .kind = RWL_RULE_UNION };
	struct rwl_rule_spec *specs = ctx->rules;
	unsigned int i, num = ctx->num_rules;
	struct rwl_rule_node *node;

	ofs->rule_root = rwl_node_alloc("", 0);
	if (!ofs->rule_root)
		return -ENOMEM;
	if (!ofs->upper.mnt)
		return 0;

	if (!num) {
		whole.path = kstrdup("/", GFP_KERNEL);
		if (!whole.path)
			return -ENOMEM;
		specs = &whole;
		num = 1;
		ofs->rules_implicit = true;
	}
	ofs->rules = kcalloc(num, sizeof(*ofs->rules), GFP_KERNEL);
	if (!ofs->rules) {
		kfree(whole.path);
		return -ENOMEM;
	}
	for (i = 0; i < num; i++) {
		node = rwl_node_insert(ofs->rule_root, specs[i].path);
		if (!node)
			return -ENOMEM;
		rwl_rule_init(&ofs->rules[i], &specs[i]);
		ofs->num_rules++;
		node->rule = &ofs->rules[i];
	}
	return 0;
}

void rwl_rules_free(struct rwl_fs *ofs)
{
	unsigned int i;

	for (i = 0; i < ofs->num_rules; i++)
		kfree(ofs->rules[i].path);
	kfree(ofs->rules);
	rwl_node_free(ofs->rule_root);
}

/*
 * The rule of a name is the rule ending at its node, else what its parent
 * hands down; a file rule covers its own name only.
 */
void rwl_entry_set_rule(struct rwl_entry *entry,
			const struct rwl_entry *parent,
			const struct qstr *name)
{
	const struct rwl_rule_node *node = NULL;
	struct rwl_rule *own;

	if (parent && parent->node)
		node = rwl_node_child(parent->node, name->name, name->len);
	entry->node = node;
	own = node ? node->rule : NULL;
	entry->rule = own ?: (parent ? parent->dir_rule : NULL);
	entry->dir_rule = own && own->kind != RWL_RULE_FILE ?
			  own : (parent ? parent->dir_rule : NULL);
}

/*
 * May anything under this name change: the name itself, or (for a
 * directory on the way to a rule) names inside it?
 */
bool rwl_entry_may_change(const struct rwl_entry *entry)
{
	return entry->rule || (entry->node && entry->node->children);
}

/* The root of an "empty" rule shows its upper directory alone. */
bool rwl_rule_hides_lower(const struct rwl_entry *entry)
{
	return entry->node && entry->node->rule &&
	       entry->node->rule->kind == RWL_RULE_EMPTY;
}

static int rwl_charge_one(atomic64_t *used, u64 max, u64 amount)
{
	u64 now;

	if (!amount)
		return 0;
	now = atomic64_add_return(amount, used);
	if (max && now > max) {
		atomic64_sub(amount, used);
		return -ENOSPC;
	}
	return 0;
}

int rwl_charge(struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	int err;

	if (!rule)
		return 0;
	err = rwl_charge_one(&rule->inodes, rule->max_inodes, inodes);
	if (err)
		return err;
	err = rwl_charge_one(&rule->bytes, rule->max_bytes, bytes);
	if (err)
		atomic64_sub(inodes, &rule->inodes);
	return err;
}

/* Would @bytes and @inodes more still fit? */
int rwl_rule_room(const struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	if (!rule)
		return 0;
	if (rule->max_inodes &&
	    atomic64_read(&rule->inodes) + inodes > rule->max_inodes)
		return -ENOSPC;
	if (rule->max_bytes &&
	    atomic64_read(&rule->bytes) + bytes > rule->max_bytes)
		return -ENOSPC;
	return 0;
}

void rwl_uncharge(struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	if (!rule)
		return;
	atomic64_sub(bytes, &rule->bytes);
	atomic64_sub(inodes, &rule->inodes);
}

static u64 rwl_size_charge(loff_t size)
{
	return round_up((u64)max_t(loff_t, size, 0), RWL_CHARGE_UNIT);
}

/*
 * Make sure the upper copy of a regular file may grow to @size before it
 * does, so that a write over the limit fails whole.  Callers hold the
 * union inode's lock.
 */
int rwl_charge_size(struct inode *inode, struct rwl_rule *rule, loff_t size)
{
	struct rwl_inode *oi = RWL_I(inode);
	u64 want = rwl_size_charge(size);
	int err = 0;

	mutex_lock(&oi->lock);
	if (!oi->charged_rule)
		oi->charged_rule = rule;
	if (want > oi->charged_bytes) {
		err = rwl_charge(oi->charged_rule, want - oi->charged_bytes, 0);
		if (!err)
			oi->charged_bytes = want;
	}
	mutex_unlock(&oi->lock);
	return err;
}

/* After a write or truncate: charge what the upper file really holds. */
void rwl_settle_size(struct inode *inode)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct dentry *upper = rwl_i_upper(inode);
	u64 want;

	if (!upper || !d_is_reg(upper))
		return;
	want = rwl_size_charge(i_size_read(d_inode(upper)));
	mutex_lock(&oi->lock);
	if (oi->charged_rule && want != oi->charged_bytes) {
		if (want > oi->charged_bytes)
			atomic64_add(want - oi->charged_bytes,
				     &oi->charged_rule->bytes);
		else
			atomic64_sub(oi->charged_bytes - want,
				     &oi->charged_rule->bytes);
		oi->charged_bytes = want;
	}
	mutex_unlock(&oi->lock);
}

/*
 * A union inode goes away.  If its upper copy has no name left, give
 * back what the copy held: an unlinked file that was still open is paid
 * for until its last close, as on any filesystem.
 */
void rwl_uncharge_inode(struct inode *inode)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct dentry *upper = oi->__upper;

	if (upper && oi->charged_rule && !d_inode(upper)->i_nlink)
		rwl_uncharge(oi->charged_rule, oi->charged_bytes, 1);
}

/*
 * A union inode made for an upper copy that already exists takes over
 * what the rule was charged for it when it was made.
 */
void rwl_inherit_charge(struct inode *inode, struct rwl_rule *rule)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct dentry *upper = rwl_i_upper(inode);

	if (!upper || !rule)
		return;
	mutex_lock(&oi->lock);
	if (!oi->charged_rule) {
		oi->charged_rule = rule;
		oi->charged_bytes = d_is_reg(upper) ?
			rwl_size_charge(i_size_read(d_inode(upper))) : 0;
	}
	mutex_unlock(&oi->lock);
}

/* A limited rule looks like a filesystem of its limit's size. */
void rwl_rule_statfs(const struct rwl_rule *rule, struct kstatfs *buf)
{
	u64 used, blocks;

	if (rule->max_bytes) {
		used = atomic64_read(&rule->bytes);
		blocks = DIV_ROUND_UP(rule->max_bytes, buf->f_bsize);
		buf->f_blocks = blocks;
		used = min(blocks, DIV_ROUND_UP(used, buf->f_bsize));
		buf->f_bfree = min_t(u64, buf->f_bfree, blocks - used);
		buf->f_bavail = min_t(u64, buf->f_bavail, blocks - used);
	}
	if (rule->max_inodes) {
		used = min_t(u64, atomic64_read(&rule->inodes),
			     rule->max_inodes);
		buf->f_files = rule->max_inodes;
		buf->f_ffree = rule->max_inodes - used;
	}
}

/* Look one component up through the union itself, as a path walk would. */
static struct dentry *rwl_rule_step(struct dentry *dir, const char *name,
				    unsigned int len)
{
	return lookup_one_len_unlocked(name, dir, len);
}

/*
 * Give the root of an "empty" rule its upper directory, copied up from
 * the lower (owner, mode, times) or made fresh, and mark it opaque.  The
 * dentry is dropped so that the next lookup shows the upper alone.
 */
static int rwl_prepare_empty(struct super_block *sb, struct rwl_rule *rule)
{
	struct dentry *dir = dget(sb->s_root), *child;
	const char *c = rule->path, *end;
	int err = 0;

	while (*c == '/' && c[1]) {
		c++;
		end = strchrnul(c, '/');
		child = rwl_rule_step(dir, c, end - c);
		if (IS_ERR(child)) {
			err = PTR_ERR(child);
			goto out;
		}
		if (*end && d_is_negative(child)) {
			inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
			err = vfs_mkdir(RWL_NOP_IDMAP, d_inode(dir), child, 0755);
			inode_unlock(d_inode(dir));
		}
		dput(dir);
		dir = child;
		if (err)
			goto out;
		c = end;
	}

	err = -ENOTDIR;
	if (d_is_positive(dir) && !d_is_dir(dir))
		goto out;
	if (d_is_negative(dir)) {
		inode_lock_nested(d_inode(dir->d_parent), I_MUTEX_PARENT);
		err = vfs_mkdir(RWL_NOP_IDMAP, d_inode(dir->d_parent), dir,
				0755);
		inode_unlock(d_inode(dir->d_parent));
	} else {
		err = rwl_copy_up(dir);
	}
	if (!err && d_is_positive(dir))
		err = rwl_set_opaque(sb, rwl_upper(dir));
	d_drop(dir);
out:
	dput(dir);
	if (err)
		pr_err("rule=%s: cannot prepare the empty directory (%pe)\n",
		       rule->path, ERR_PTR(err));
	return err;
}

int rwl_rules_prepare(struct super_block *sb)
{
	struct rwl_fs *ofs = RWL_FS(sb);
	unsigned int i;
	int err;

	for (i = 0; i < ofs->num_rules; i++) {
		if (ofs->rules[i].kind != RWL_RULE_EMPTY)
			continue;
		err = rwl_prepare_empty(sb, &ofs->rules[i]);
		if (err)
			return err;
	}
	return 0;
}
