// SPDX-License-Identifier: GPL-2.0
/*
 * The rule table: which parts of the tree are writable and how.
 *
 * Rules form a tree of path components.  Every union dentry caches its
 * place in that tree (its node, or none below the last rule path), so
 * lookup finds a child's rule from its parent in one step and no path is
 * ever rebuilt from dentries.
 *
 * The table changes at run time (netlink).  A change builds a new tree,
 * publishes it with a new generation and frees the old one after a grace
 * period; cached places of an older generation are recomputed, parents
 * first, the next time someone asks (rwl_place()).  So a rule added over
 * a subtree that is in the dcache takes effect at once, without dropping
 * a single dentry, and mounts on directories inside it stay where they
 * are.
 */
#include <linux/slab.h>

#include "rwlayer.h"

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

/*
 * Iteratively: a rule path may have 2000 components.  Each node's
 * children are spliced in front of its siblings before it is freed.
 */
static void rwl_node_free(struct rwl_rule_node *node)
{
	struct rwl_rule_node *next, *last;

	while (node) {
		next = node->next;
		if (node->children) {
			for (last = node->children; last->next; last = last->next)
				;
			last->next = next;
			next = node->children;
		}
		kfree(node);
		node = next;
	}
}

/* Find or make the node for @path ("/" or "/a/b"). */
static struct rwl_rule_node *rwl_node_insert(struct rwl_rule_node *root,
					     const char *path)
{
	struct rwl_rule_node *node = root, *child;
	const char *c = path, *name;
	size_t len;

	while ((len = rwl_path_next(&c, &name))) {
		child = rwl_node_child(node, name, len);
		if (!child) {
			child = rwl_node_alloc(name, len);
			if (!child)
				return NULL;
			child->next = node->children;
			node->children = child;
		}
		node = child;
	}
	return node;
}

/* The caller holds rules_lock. */
const char *rwl_rule_path_locked(struct rwl_fs *ofs,
				 const struct rwl_rule *rule)
{
	return rcu_dereference_protected(rule->path,
					 lockdep_is_held(&ofs->rules_lock));
}

/* A tree of the active rules; the caller holds rules_lock. */
static struct rwl_rule_node *rwl_tree_build(struct rwl_fs *ofs)
{
	struct rwl_rule_node *root, *node;
	struct rwl_rule *rule;
	unsigned int i;

	root = rwl_node_alloc("", 0);
	if (!root)
		return NULL;
	for (i = 0; i < RWL_MAX_RULES; i++) {
		rule = ofs->rules[i];
		if (!rule || !rule->active)
			continue;
		node = rwl_node_insert(root, rwl_rule_path_locked(ofs, rule));
		if (!node) {
			rwl_node_free(root);
			return NULL;
		}
		node->rule = rule;
	}
	return root;
}

/*
 * Make the active rules the table every lookup sees.  Places cached in
 * the old generation are recomputed when next used; the old tree goes
 * once no RCU reader can be following it.
 */
static int rwl_tree_publish(struct rwl_fs *ofs)
{
	struct rwl_rule_node *root, *old;

	root = rwl_tree_build(ofs);
	if (!root)
		return -ENOMEM;
	write_seqlock(&ofs->place_lock);
	old = rcu_dereference_protected(ofs->rule_root,
					lockdep_is_held(&ofs->rules_lock));
	rcu_assign_pointer(ofs->rule_root, root);
	ofs->rule_gen++;
	write_sequnlock(&ofs->place_lock);
	if (old) {
		synchronize_rcu();
		rwl_node_free(old);
	}
	return 0;
}

/* Fill a free slot (allocated on first use, reused after a delete). */
static struct rwl_rule *rwl_slot_fill(struct rwl_fs *ofs,
				      struct rwl_rule_spec *spec)
{
	struct rwl_rule *rule = NULL;
	char *old;
	unsigned int i;

	for (i = 0; i < RWL_MAX_RULES; i++) {
		if (!ofs->rules[i] || !ofs->rules[i]->active)
			break;
	}
	if (i == RWL_MAX_RULES)
		return ERR_PTR(-ENOSPC);
	rule = ofs->rules[i];
	if (!rule) {
		rule = kzalloc(sizeof(*rule), GFP_KERNEL);
		if (!rule)
			return ERR_PTR(-ENOMEM);
		/* rwl_show_rules() reads the slots without rules_lock. */
		smp_store_release(&ofs->rules[i], rule);
	}
	old = rcu_dereference_protected(rule->path,
					lockdep_is_held(&ofs->rules_lock));
	rcu_assign_pointer(rule->path, spec->path);
	spec->path = NULL;
	if (old) {
		/* Events may be printing the old path under RCU. */
		synchronize_rcu();
		kfree(old);
	}
	rule->kind = spec->kind;
	rule->owner = spec->owner;
	WRITE_ONCE(rule->max_bytes, spec->max_bytes);
	WRITE_ONCE(rule->max_inodes, spec->max_inodes);
	WRITE_ONCE(rule->warn, spec->warn);
	rule->warned = 0;
	atomic64_set(&rule->bytes, 0);
	atomic64_set(&rule->inodes, 0);
	atomic64_set(&rule->copy_ups, 0);
	atomic64_set(&rule->copy_up_bytes, 0);
	atomic64_set(&rule->whiteouts, 0);
	atomic64_set(&rule->errors, 0);
	atomic_set(&rule->open_files, 0);
	rule->ofs = ofs;
	/* Charges and open files of the slot's old rule are not ours. */
	WRITE_ONCE(rule->gen, rule->gen + 1);
	/* The rule is complete before rwl_show_rules() can see it active. */
	smp_store_release(&rule->active, true);
	return rule;
}

/*
 * Take the rules over from the mount context.  An upper without rules is
 * one union rule for the whole tree, unless rule=none.
 */
int rwl_rules_build(struct fs_context *fc, struct rwl_fs *ofs)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_rule_spec whole = { .kind = RWL_RULE_UNION };
	struct rwl_rule *rule;
	unsigned int i;
	int err = 0;

	mutex_init(&ofs->rules_lock);
	seqlock_init(&ofs->place_lock);
	mutex_lock(&ofs->rules_lock);
	if (ofs->upper.mnt && !ctx->num_rules && !ctx->no_rules) {
		whole.path = kstrdup("/", GFP_KERNEL);
		rule = whole.path ? rwl_slot_fill(ofs, &whole) : ERR_PTR(-ENOMEM);
		err = PTR_ERR_OR_ZERO(rule);
		kfree(whole.path);	/* NULL once the slot took it */
		ofs->rules_implicit = true;
	}
	for (i = 0; !err && ofs->upper.mnt && i < ctx->num_rules; i++) {
		rule = rwl_slot_fill(ofs, &ctx->rules[i]);
		err = PTR_ERR_OR_ZERO(rule);
	}
	if (!err)
		err = rwl_tree_publish(ofs);
	mutex_unlock(&ofs->rules_lock);
	return err;
}

void rwl_rules_free(struct rwl_fs *ofs)
{
	unsigned int i;

	for (i = 0; i < RWL_MAX_RULES; i++) {
		if (!ofs->rules[i])
			continue;
		kfree(rcu_dereference_raw(ofs->rules[i]->path));
		kfree(ofs->rules[i]);
	}
	/* No reader is left: the superblock is gone. */
	rwl_node_free(rcu_dereference_raw(ofs->rule_root));
}

/*
 * The rule of a name is the rule ending at its node, else what its parent
 * hands down; a file rule covers its own name only.
 */
static void rwl_place_child(const struct rwl_place *parent,
			    const char *name, unsigned int len,
			    struct rwl_place *place)
{
	struct rwl_rule *own;

	place->node = parent->node ?
		      rwl_node_child(parent->node, name, len) : NULL;
	own = place->node ? place->node->rule : NULL;
	place->rule = own ?: parent->dir_rule;
	place->dir_rule = own && own->kind != RWL_RULE_FILE ?
			  own : parent->dir_rule;
}

static void rwl_place_root(const struct rwl_rule_node *root,
			   struct rwl_place *place)
{
	place->node = root;
	place->rule = root->rule;
	place->dir_rule = root->rule;
}

#define RWL_PLACE_BATCH 16

/*
 * Walk up from @dentry to its nearest ancestor with a current place and
 * return that one (NULL when even the root is stale).  @batch gets the
 * stale entries right below it, topmost first, at most RWL_PLACE_BATCH.
 */
static const struct dentry *rwl_place_stale_top(const struct dentry *dentry,
						unsigned int gen,
						const struct dentry **batch,
						unsigned int *count)
{
	const struct dentry *ring[RWL_PLACE_BATCH];
	const struct dentry *d = dentry, *parent;
	unsigned int n = 0, i;

	for (;;) {
		ring[n++ % RWL_PLACE_BATCH] = d;
		parent = READ_ONCE(d->d_parent);
		if (d == parent)
			parent = NULL;
		if (!parent || RWL_E(parent)->place_gen == gen)
			break;
		d = parent;
	}
	*count = min_t(unsigned int, n, RWL_PLACE_BATCH);
	for (i = 0; i < *count; i++)
		batch[i] = ring[(n - 1 - i) % RWL_PLACE_BATCH];
	return parent;
}

static void rwl_place_refresh_one(const struct dentry *d,
				  const struct rwl_rule_node *root,
				  unsigned int gen)
{
	struct rwl_entry *entry = RWL_E(d);
	const struct dentry *parent;
	struct rwl_place place;

	/* Under rename_lock: the name and the parent stay. */
	spin_lock(&((struct dentry *)d)->d_lock);
	parent = d->d_parent;
	if (parent == d)
		rwl_place_root(root, &place);
	else
		rwl_place_child(&RWL_E(parent)->place, d->d_name.name,
				d->d_name.len, &place);
	spin_unlock(&((struct dentry *)d)->d_lock);
	entry->place = place;
	entry->place_gen = gen;
}

/*
 * Below the last rule node every name has the same place, so a long
 * stale chain under such an ancestor is filled in one pass.
 */
static void rwl_place_fill(const struct dentry *dentry,
			   const struct dentry *fresh, unsigned int gen)
{
	const struct rwl_place *from = &RWL_E(fresh)->place;
	const struct dentry *d = dentry;

	while (d != fresh) {
		RWL_E(d)->place = (struct rwl_place){
			.rule = from->dir_rule,
			.dir_rule = from->dir_rule,
		};
		RWL_E(d)->place_gen = gen;
		if (d == READ_ONCE(d->d_parent))
			break;
		d = READ_ONCE(d->d_parent);
	}
}

/*
 * Bring the places of @dentry and its ancestors up to the current
 * generation, topmost stale ones first, in batches: the cost stays
 * linear in the depth of @dentry (the rule tree is shallow).  Rare
 * (after a table change), so one lock for all of them is enough.
 * Walking up needs no references: @dentry pins its ancestors.  No
 * dentry may move meanwhile (a client's rename stays under one rule,
 * but the server's, seen through d_splice_alias(), can move a directory
 * anywhere): a place computed under a parent the dentry left, or stamped
 * on a chain that no longer ends in @fresh, would put a whole subtree
 * under the wrong rule for this generation.  So rename_lock is held
 * for writing, as d_move() takes it.
 */
static void rwl_place_refresh(const struct dentry *dentry)
{
	struct rwl_fs *ofs = RWL_FS(dentry->d_sb);
	const struct dentry *batch[RWL_PLACE_BATCH], *fresh;
	const struct rwl_rule_node *root;
	unsigned int gen, count, i;

	rcu_read_lock();
	write_seqlock(&ofs->place_lock);
	read_seqlock_excl(&rename_lock);
	gen = ofs->rule_gen;
	root = rcu_dereference(ofs->rule_root);
	while (RWL_E(dentry)->place_gen != gen) {
		fresh = rwl_place_stale_top(dentry, gen, batch, &count);
		if (fresh && !RWL_E(fresh)->place.node) {
			rwl_place_fill(dentry, fresh, gen);
			break;
		}
		for (i = 0; i < count; i++)
			rwl_place_refresh_one(batch[i], root, gen);
	}
	read_sequnlock_excl(&rename_lock);
	write_sequnlock(&ofs->place_lock);
	rcu_read_unlock();
}

/*
 * Where @dentry sits in the current rule table.  Callers that follow
 * place->node hold rcu_read_lock(); the rules themselves stay valid.
 */
void rwl_place(const struct dentry *dentry, struct rwl_place *place)
{
	struct rwl_fs *ofs = RWL_FS(dentry->d_sb);
	const struct rwl_entry *entry = RWL_E(dentry);
	unsigned int seq;
	bool fresh;

	for (;;) {
		seq = read_seqbegin(&ofs->place_lock);
		*place = entry->place;
		fresh = entry->place_gen == ofs->rule_gen;
		if (read_seqretry(&ofs->place_lock, seq))
			continue;
		if (fresh)
			return;
		rwl_place_refresh(dentry);
	}
}

struct rwl_rule *rwl_rule_of(const struct dentry *dentry)
{
	struct rwl_place place;

	rwl_place(dentry, &place);
	return place.rule;
}

/*
 * The place of a new child of @dentry's parent, and what it was born
 * under: a reset of that rule makes the dentry stale.
 */
void rwl_entry_set_place(struct dentry *dentry, struct rwl_entry *entry,
			 const struct qstr *name)
{
	struct rwl_fs *ofs = RWL_FS(dentry->d_sb);
	const struct rwl_entry *pe = RWL_E(dentry->d_parent);
	struct rwl_place parent;
	unsigned int seq;
	bool fresh;

	rcu_read_lock();
	do {
		/* Brings the parent up to date, then re-read it consistently. */
		rwl_place(dentry->d_parent, &parent);
		seq = read_seqbegin(&ofs->place_lock);
		parent = pe->place;
		fresh = pe->place_gen == ofs->rule_gen;
		rwl_place_child(&parent, name->name, name->len, &entry->place);
		entry->place_gen = pe->place_gen;
	} while (read_seqretry(&ofs->place_lock, seq) || !fresh);
	entry->hides_lower = entry->place.node && entry->place.rule &&
			     entry->place.node->rule == entry->place.rule &&
			     entry->place.rule->kind == RWL_RULE_EMPTY;
	rcu_read_unlock();
	entry->born_resets = atomic_read(&ofs->resets);
}

void rwl_root_set_place(struct super_block *sb, struct rwl_entry *entry)
{
	struct rwl_fs *ofs = RWL_FS(sb);

	rcu_read_lock();
	rwl_place_root(rcu_dereference(ofs->rule_root), &entry->place);
	entry->place_gen = ofs->rule_gen;
	rcu_read_unlock();
}

/*
 * Did a reset take away what this dentry shows?  An upper copy that went
 * marks its inode stale; an absent name may exist in a lower again.  A
 * mountpoint stays: dropping it would take the mount along (d_invalidate).
 */
bool rwl_entry_reset_stale(const struct dentry *dentry)
{
	struct inode *inode = d_inode_rcu(dentry);

	if (d_mountpoint(dentry))
		return false;
	if (inode)
		return READ_ONCE(RWL_I(inode)->stale);
	return RWL_E(dentry)->born_resets !=
	       atomic_read(&RWL_FS(dentry->d_sb)->resets);
}

/*
 * May anything under this name change: the name itself, or (for a
 * directory on the way to a rule) names inside it?
 */
bool rwl_may_change(const struct dentry *dentry)
{
	struct rwl_place place;
	bool ret;

	rcu_read_lock();
	rwl_place(dentry, &place);
	ret = place.rule || (place.node && place.node->children);
	rcu_read_unlock();
	return ret;
}

/* The root of a directory rule stays where the rule table says it is. */
bool rwl_is_rule_root(const struct dentry *dentry)
{
	struct rwl_place place;
	bool ret;

	rcu_read_lock();
	rwl_place(dentry, &place);
	ret = place.node && place.node->rule &&
	      place.node->rule->kind != RWL_RULE_FILE;
	rcu_read_unlock();
	return ret;
}

/* Is a rule path at or below this name (it must not move)? */
bool rwl_has_rule_below(const struct dentry *dentry)
{
	struct rwl_place place;

	rwl_place(dentry, &place);
	return place.node;
}

/*
 * Union inodes remember whether writes may be allowed (permission() has
 * no dentry); a table change makes them ask one of their names again.
 */
void rwl_inode_set_in_rule(struct inode *inode, const struct dentry *dentry)
{
	struct rwl_inode *oi = RWL_I(inode);
	unsigned int gen = READ_ONCE(RWL_FS(inode->i_sb)->rule_gen);
	bool may = rwl_may_change(dentry);

	/* Hard links: one writable name is enough. */
	if (READ_ONCE(oi->in_rule_gen) == gen && READ_ONCE(oi->in_rule))
		return;
	WRITE_ONCE(oi->in_rule, may);
	/* Publishes @in_rule; pairs with rwl_inode_in_rule(). */
	smp_store_release(&oi->in_rule_gen, gen);
}

/* Returns whether writes may be allowed, or -ECHILD under RCU walk. */
int rwl_inode_in_rule(struct inode *inode, bool rcu)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct dentry *alias;

	/* Pairs with rwl_inode_set_in_rule(): @in_rule is of that table. */
	if (smp_load_acquire(&oi->in_rule_gen) ==
	    READ_ONCE(RWL_FS(inode->i_sb)->rule_gen))
		return READ_ONCE(oi->in_rule);
	if (rcu)
		return -ECHILD;
	alias = d_find_alias(inode);
	/* No name to ask: let the operation itself decide (rwl_may_write). */
	if (!alias)
		return true;
	rwl_inode_set_in_rule(inode, alias);
	dput(alias);
	return READ_ONCE(oi->in_rule);
}

int rwl_rules_prepare(struct super_block *sb)
{
	struct rwl_fs *ofs = RWL_FS(sb);
	struct rwl_rule *rule;
	unsigned int i;
	int err = 0;

	mutex_lock(&ofs->rules_lock);
	for (i = 0; !err && i < RWL_MAX_RULES; i++) {
		rule = ofs->rules[i];
		if (rule && rule->active && rule->kind == RWL_RULE_EMPTY)
			err = rwl_prepare_empty(sb, rule,
						rwl_rule_path_locked(ofs, rule),
						NULL);
	}
	mutex_unlock(&ofs->rules_lock);
	return err;
}

/* The active rule for exactly @path; the caller holds rules_lock. */
struct rwl_rule *rwl_rule_find(struct rwl_fs *ofs, const char *path)
{
	struct rwl_rule *rule;
	unsigned int i;

	for (i = 0; i < RWL_MAX_RULES; i++) {
		rule = ofs->rules[i];
		if (rule && rule->active &&
		    !strcmp(rwl_rule_path_locked(ofs, rule), path))
			return rule;
	}
	return NULL;
}

/*
 * Add a rule at run time; the caller holds rules_lock.  An empty rule
 * gets its directory made (and the lower's content hidden) at once; if
 * that fails the rule goes again.
 */
int rwl_rule_add(struct rwl_fs *ofs, struct rwl_rule_spec *spec,
		 struct netlink_ext_ack *extack)
{
	struct rwl_rule *rule;
	int err;

	if (rwl_rule_find(ofs, spec->path)) {
		NL_SET_ERR_MSG(extack, "that path already has a rule");
		return -EEXIST;
	}
	if (rwl_reset_under_way(ofs, spec->path)) {
		NL_SET_ERR_MSG(extack, "a rule around or inside that path is being reset");
		return -EBUSY;
	}
	rule = rwl_slot_fill(ofs, spec);
	if (IS_ERR(rule)) {
		if (PTR_ERR(rule) == -ENOSPC)
			NL_SET_ERR_MSG(extack, "the mount has as many rules as it can hold");
		return PTR_ERR(rule);
	}
	ofs->rules_implicit = false;
	err = rwl_tree_publish(ofs);
	if (!err && rule->kind == RWL_RULE_EMPTY)
		err = rwl_prepare_empty(ofs->sb, rule,
					rwl_rule_path_locked(ofs, rule), extack);
	if (err) {
		rule->active = false;
		/* Without memory for a new tree the rule stays: say so. */
		if (rwl_tree_publish(ofs))
			rule->active = true;
		return err;
	}
	rwl_event_rule(ofs, rule, RWLAYER_EVENT_RULE_ADDED);
	return 0;
}

/*
 * Delete a rule; the caller holds rules_lock.  What was written under it
 * stays in the upper and visible, read-only (or under an outer rule).
 * Open files keep charging the slot until they close.
 */
int rwl_rule_del(struct rwl_fs *ofs, const char *path,
		 struct netlink_ext_ack *extack)
{
	struct rwl_rule *rule = rwl_rule_find(ofs, path);
	int err;

	if (!rule) {
		NL_SET_ERR_MSG(extack, "no rule for that path");
		return -ENOENT;
	}
	/* The reset's inode walk may be crediting it. */
	if (rwl_reset_under_way(ofs, path)) {
		NL_SET_ERR_MSG(extack, "the rule, or one around or inside it, is being reset");
		return -EBUSY;
	}
	rule->active = false;
	err = rwl_tree_publish(ofs);
	if (err) {
		rule->active = true;
		return err;
	}
	ofs->rules_implicit = false;
	rwl_event_rule(ofs, rule, RWLAYER_EVENT_RULE_REMOVED);
	return 0;
}
