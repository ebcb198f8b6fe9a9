/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rwlayer: a stacking union filesystem for diskless clients.
 *
 * The single internal header: structures first, then prototypes grouped by
 * the file that defines them, then the thin wrappers through which every
 * call into a real (lower) filesystem goes.
 *
 * Locking order, outermost first:
 *
 *   rwl_mounts_lock (netlink.c, while finding the mount; the family runs
 *   its requests in parallel, without the core's genl_mutex)
 *     rwl_fs.rules_lock (table changes; empty rules create through the
 *     union, so it comes before the VFS's locks.  A reset drops it while
 *     it removes in the upper, with its rule marked resetting)
 *       union directory i_rwsem (VFS; lock_rename() for renames)
 *         rwl_dir_alias_lock() (lookup: a directory's union inode
 *         found and its dentry attached, d_splice_alias() inside; the
 *         charge it inherits takes rwl_inode.lock, so never under that
 *         or the upper's freeze protection)
 *         union inode i_rwsem (VFS for setattr, setxattr, fileattr;
 *         ours around write and fallocate)
 *           rwl_inode.lock (copy-up, usage charges)
 *             upper freeze protection (mnt_want_write on the upper)
 *               upper directories: lock_rename(work, udir), or one
 *               directory with I_MUTEX_PARENT, then the upper child
 *   spinlocks, never held across the above:
 *     rwl_fs.place_lock (write side) -> rename_lock -> dentry d_lock
 *     sb->s_inode_list_lock -> inode i_lock (reset's inode walk)
 *     inode hash lock -> inode i_lock -> dentry d_lock (rwl_inode_test())
 *   leaves: rwl_in_use_lock (super.c)
 *   no lock of ours: rule charges and the netlink events they send
 *   (GFP_NOFS), so they may run under any of the above, upper
 *   directories included
 *
 * Whatever runs below the union's own locks calls the real filesystems
 * with the mounter's credentials (rwl_override_creds()); the caller's
 * credentials decide every permission before that (rwlayer.rst,
 * "Security model").
 */
#ifndef _RWLAYER_H
#define _RWLAYER_H

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/netlink.h>
#include <linux/path.h>
#include <linux/seq_file.h>

#include "uapi/linux/rwlayer.h"

#define RWLAYER_SUPER_MAGIC	0x72776c79	/* "rwly" */
#define RWL_MAX_LOWER		32
#define RWL_MAX_RULES		64
/* Locks for directory inodes being attached, by the real inode's hash. */
#define RWL_DIR_ALIAS_BITS	4
#define RWL_DIR_ALIAS_LOCKS	BIT(RWL_DIR_ALIAS_BITS)
/* The largest size or inode limit: charges below it never wrap a u64. */
#define RWL_LIMIT_MAX		BIT_ULL(60)

/* The upper's on-disk format is overlayfs' (see rwlayer.rst). */
#define RWL_XATTR_OPAQUE	"trusted.overlay.opaque"
#define RWL_XATTR_ORIGIN	"trusted.rwlayer.origin"
/* The upper directory may hold whiteouts or copies: see rwl_is_impure(). */
#define RWL_XATTR_IMPURE	"trusted.overlay.impure"
#define RWL_XATTR_OVL_PREFIX	"trusted.overlay."
#define RWL_XATTR_OWN_PREFIX	"trusted.rwlayer."

/*
 * A layer.  Its mount is a private clone of the directory the user named,
 * so later changes to the user's mount tree (umount, move) do not pull the
 * layer from under us.  Lowers are read-only clones; the upper is not.
 */
struct rwl_layer {
	struct vfsmount *mnt;
	unsigned int idx;		/* lowers: 0 is the topmost */
	unsigned int fsid;		/* its filesystem, see rwl_dir_ino() */
	char *name;			/* its path at mount time, for tools */
};

enum rwl_rule_kind {
	RWL_RULE_UNION,
	RWL_RULE_EMPTY,
	RWL_RULE_FILE,
};

/* Who owns the directory an "empty" rule makes, when not the lower's. */
struct rwl_dir_owner {
	bool has_mode, has_uid, has_gid;
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
};

/*
 * One writable part of the tree and what it has used of the upper.
 * Rules live in slots that are reused but never freed before the
 * superblock: inodes and dentries may point at a rule that was deleted
 * meanwhile.  Path, kind and owner change only under
 * rwl_fs.rules_lock; limits and warn are read without it.
 */
struct rwl_rule {
	char __rcu *path;		/* normalized, "/" for the root */
	enum rwl_rule_kind kind;
	bool active;			/* false: a free slot */
	bool resetting;			/* rwl_rule_reset() under way */
	unsigned int gen;		/* which rule holds the slot */
	struct rwl_dir_owner owner;	/* empty rules */
	u64 max_bytes;			/* 0: no limit */
	u64 max_inodes;			/* 0: no limit */
	u8 warn;			/* percent, 0: only when full */
	unsigned long warned;		/* RWL_WARNED_* sent, not yet cleared */
	atomic64_t bytes;
	atomic64_t inodes;
	atomic64_t copy_ups;
	atomic64_t copy_up_bytes;
	atomic64_t whiteouts;
	atomic64_t errors;
	atomic_t open_files;
	struct rwl_fs *ofs;
};

/*
 * The rule table as a tree of path components, so that lookup finds the
 * rule of a child from its parent's node in one step.  Nodes exist for
 * every rule path and their ancestors.
 */
struct rwl_rule_node {
	struct rwl_rule_node *children;
	struct rwl_rule_node *next;	/* sibling */
	struct rwl_rule *rule;		/* the rule whose path ends here */
	unsigned int len;
	char name[];
};

/*
 * Per-superblock state.  Everything below reaches layers only through it.
 */
struct rwl_fs {
	unsigned int num_lower;
	struct rwl_layer *layers;	/* num_lower entries, top first */
	struct rwl_layer upper;		/* upper.mnt NULL: read-only union */
	struct dentry *workdir;		/* on the upper's filesystem */
	bool upper_persists;		/* not tmpfs: copy-ups are fsynced */
	bool upper_claimed;		/* on rwl_in_use (super.c) */
	struct list_head in_use_link;
	unsigned int ino_shift;		/* 0: the layers share a filesystem */
	atomic64_t pseudo_ino;		/* directories whose number is too big */
	char *lower_spec;		/* lower= as given, for /proc/mounts */
	char *upper_spec;
	char *work_spec;
	/* rules_lock serializes changes of the table (netlink, mount). */
	struct mutex rules_lock;
	struct rwl_rule *rules[RWL_MAX_RULES];	/* slots, NULL until used */
	bool rules_implicit;		/* no rule=: the whole tree */
	/*
	 * The tree of the active rules, replaced whole by a change.
	 * place_lock orders the replacement (and @rule_gen) against the
	 * entries' cached places (struct rwl_place).
	 */
	struct rwl_rule_node __rcu *rule_root;
	unsigned int rule_gen;
	seqlock_t place_lock;
	/* A directory's union inode found and attached (rwl_inode_test()). */
	struct mutex dir_alias_locks[RWL_DIR_ALIAS_LOCKS];
	atomic_t resets;		/* rule resets: absent names may appear */
	/* The netlink family's view: see netlink.c. */
	struct list_head mounts_link;
	u32 id;
	struct super_block *sb;
	atomic_t tmp_seq;		/* names in the work directory */
	const struct cred *creator_cred;
};

/* The lower file an upper copy came from (trusted.rwlayer.origin). */
struct rwl_origin {
	u64 dev;
	u64 ino;
};

/* One real dentry and the layer it lives in. */
struct rwl_path {
	const struct rwl_layer *layer;
	struct dentry *dentry;
};

/*
 * Where a name sits in the rule table.  @node points into the tree of
 * one generation and may only be followed under rcu_read_lock() with the
 * generation current; the rules are never freed before the superblock.
 */
struct rwl_place {
	const struct rwl_rule_node *node;	/* NULL: below no rule path */
	struct rwl_rule *rule;		/* NULL: read-only */
	struct rwl_rule *dir_rule;	/* what children inherit */
};

/*
 * Per-dentry: where the name sits in the rule table and the real lower
 * dentries that make it up, topmost first.  A directory may merge
 * several; a non-directory has at most one (its origin after copy-up).
 * A negative dentry has none but still knows its rule.  The stack is
 * immutable once the dentry is instantiated; a change below invalidates
 * the dentry (d_revalidate) and a new lookup builds a new entry.  The
 * place is recomputed when the rule table changed (rwl_place()).  The
 * upper dentry belongs to the inode, which is why copy-up never changes
 * an entry.
 */
struct rwl_entry {
	struct rwl_place place;		/* read through rwl_place() */
	unsigned int place_gen;		/* the table @place was computed in */
	int born_resets;		/* rwl_fs.resets at lookup */
	bool hides_lower;		/* the root of an empty rule */
	u64 lower_stamp;		/* negative: the lowers' ctimes then */
	bool stamp_sure;		/* ... and they tell every change */
	struct rcu_head rcu;		/* RCU-walk d_revalidate reads it */
	unsigned int num;
	struct rwl_path stack[];
};

/*
 * Union inodes are hashed by the lower inode they show (the upper inode
 * when there is no lower), so hard links in a lower share one union
 * inode, and copy-up does not change which union inode a file is.
 */
struct rwl_inode {
	struct inode vfs_inode;
	struct inode *real;		/* the hash key, pinned with ihold() */
	const struct rwl_layer *layer;	/* where @real lives */
	struct dentry *__upper;		/* set once, see rwl_i_upper() */
	dev_t origin_dev;		/* st_dev reported for a non-dir */
	bool in_rule;			/* writes may be allowed (EROFS if not) */
	unsigned int in_rule_gen;	/* the rule table @in_rule is from */
	bool stale;			/* its upper copy went in a reset */
	bool impure;			/* rwl_is_impure() saw the mark */
	struct mutex lock;		/* copy-up and usage accounting */
	struct rwl_rule *charged_rule;	/* who pays for the upper copy ... */
	unsigned int charged_gen;	/* ... if it still holds the slot */
	u64 charged_bytes;
};

static inline struct rwl_fs *RWL_FS(const struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct rwl_inode *RWL_I(const struct inode *inode)
{
	return container_of(inode, struct rwl_inode, vfs_inode);
}

static inline struct rwl_entry *RWL_E(const struct dentry *dentry)
{
	return dentry->d_fsdata;
}

/* The upper dentry of a union inode, NULL until copy-up or create. */
static inline struct dentry *rwl_i_upper(const struct inode *inode)
{
	/* Pairs with cmpxchg_release() in rwl_set_upper(). */
	return smp_load_acquire(&RWL_I(inode)->__upper);
}

static inline struct dentry *rwl_upper(const struct dentry *dentry)
{
	return d_inode(dentry) ? rwl_i_upper(d_inode(dentry)) : NULL;
}

/* The real inode whose data and attributes the union inode shows. */
static inline struct inode *rwl_inode_real(const struct inode *inode)
{
	struct dentry *upper = rwl_i_upper(inode);

	return upper ? d_inode(upper) : RWL_I(inode)->real;
}

static inline const struct rwl_layer *rwl_inode_layer(const struct inode *inode)
{
	if (rwl_i_upper(inode))
		return &RWL_FS(inode->i_sb)->upper;
	return RWL_I(inode)->layer;
}

/* The real path of one layer's dentry. */
static inline void rwl_layer_path(const struct rwl_path *p, struct path *path)
{
	path->mnt = p->layer->mnt;
	path->dentry = p->dentry;
}

static inline void rwl_upper_path(const struct dentry *dentry,
				  struct path *path)
{
	path->mnt = RWL_FS(dentry->d_sb)->upper.mnt;
	path->dentry = rwl_upper(dentry);
}

/* The topmost real path of a positive union dentry. */
static inline void rwl_real_path(const struct dentry *dentry,
				 struct path *path)
{
	if (rwl_upper(dentry))
		rwl_upper_path(dentry, path);
	else
		rwl_layer_path(&RWL_E(dentry)->stack[0], path);
}

/* How many real directories a union directory reads: upper + lowers. */
static inline unsigned int rwl_dir_layers(const struct dentry *dentry)
{
	return !!rwl_upper(dentry) + RWL_E(dentry)->num;
}

static inline bool rwl_has_upper(const struct super_block *sb)
{
	return RWL_FS(sb)->upper.mnt;
}

/* The dcache has no whiteout type: a whiteout is a char device 0/0. */
static inline bool rwl_is_whiteout(const struct dentry *real)
{
	return d_really_is_positive(real) && IS_WHITEOUT(d_inode(real));
}

/* params.c */
struct rwl_rule_spec {
	char *path;
	enum rwl_rule_kind kind;
	u64 max_bytes;
	u64 max_inodes;
	u8 warn;
	struct rwl_dir_owner owner;
};

struct rwl_fs_context {
	unsigned int num_lower;
	struct path lower[RWL_MAX_LOWER];
	char *lower_spec;
	struct path upper;
	char *upper_spec;
	struct path work;
	char *work_spec;
	unsigned int num_rules;
	bool no_rules;			/* rule=none */
	struct rwl_rule_spec rules[RWL_MAX_RULES];
};

extern const struct fs_parameter_spec rwl_fs_parameters[];
int rwl_parse_param(struct fs_context *fc, struct fs_parameter *param);
void rwl_fs_context_release(struct rwl_fs_context *ctx);
const char *rwl_rule_path_problem(const char *path);

/*
 * The components of an absolute rule path, one per call: the length of
 * the next one (*@name is its start), or 0 if none is left or the next
 * is empty ("//" or a trailing "/": *@pos is then still at its '/').
 */
static inline size_t rwl_path_next(const char **pos, const char **name)
{
	const char *c = *pos, *end;

	if (c[0] != '/' || !c[1])
		return 0;
	end = strchrnul(c + 1, '/');
	if (end == c + 1)
		return 0;
	*name = c + 1;
	*pos = end;
	return end - *name;
}

/* super.c */
extern struct file_system_type rwl_fs_type;
void rwl_show_rules(struct seq_file *m, struct rwl_fs *ofs);

/* netlink.c */
int rwl_netlink_init(void);
void rwl_netlink_exit(void);
void rwl_mount_register(struct rwl_fs *ofs);
void rwl_mount_unregister(struct rwl_fs *ofs);
void rwl_event_rule(struct rwl_fs *ofs, struct rwl_rule *rule, int event);
void rwl_event_threshold(struct rwl_rule *rule, int limit, unsigned int pct,
			 u64 used, u64 max);
void rwl_event_path(const struct dentry *dentry, int event, int err);

/* rules.c */
int rwl_rules_build(struct fs_context *fc, struct rwl_fs *ofs);
void rwl_rules_free(struct rwl_fs *ofs);
int rwl_rules_prepare(struct super_block *sb);
void rwl_place(const struct dentry *dentry, struct rwl_place *place);
struct rwl_rule *rwl_rule_of(const struct dentry *dentry);
void rwl_entry_set_place(struct dentry *dentry, struct rwl_entry *entry,
			 const struct qstr *name);
void rwl_root_set_place(struct super_block *sb, struct rwl_entry *entry);
bool rwl_may_change(const struct dentry *dentry);
bool rwl_is_rule_root(const struct dentry *dentry);
bool rwl_has_rule_below(const struct dentry *dentry);
void rwl_inode_set_in_rule(struct inode *inode, const struct dentry *dentry);
int rwl_inode_in_rule(struct inode *inode, bool rcu);
bool rwl_entry_reset_stale(const struct dentry *dentry);
void rwl_rule_rearm(struct rwl_rule *rule);
struct rwl_rule *rwl_inode_charged(struct inode *inode);
void rwl_inode_charge_to(struct inode *inode, struct rwl_rule *rule);
int rwl_rule_add(struct rwl_fs *ofs, struct rwl_rule_spec *spec,
		 struct netlink_ext_ack *extack);
int rwl_rule_del(struct rwl_fs *ofs, const char *path,
		 struct netlink_ext_ack *extack);
bool rwl_reset_under_way(struct rwl_fs *ofs, const char *path);
int rwl_rule_reset(struct rwl_fs *ofs, struct rwl_rule *rule, bool force,
		   struct netlink_ext_ack *extack);
struct rwl_rule *rwl_rule_find(struct rwl_fs *ofs, const char *path);
const char *rwl_rule_path_locked(struct rwl_fs *ofs,
				 const struct rwl_rule *rule);
int rwl_charge(struct rwl_rule *rule, u64 bytes, u64 inodes);
void rwl_uncharge(struct rwl_rule *rule, u64 bytes, u64 inodes);
int rwl_rule_room(const struct rwl_rule *rule, u64 bytes, u64 inodes);
int rwl_charge_size(struct inode *inode, struct rwl_rule *rule, loff_t size);
void rwl_settle_size(struct inode *inode);
void rwl_uncharge_inode(struct inode *inode);
void rwl_inherit_charge(struct inode *inode, struct rwl_rule *rule);
void rwl_rule_statfs(const struct rwl_rule *rule, struct kstatfs *buf);

/* namei.c */
extern const struct dentry_operations rwl_dentry_operations;
struct dentry *rwl_lookup(struct inode *dir, struct dentry *dentry,
			  unsigned int flags);
bool rwl_lower_has_name(const struct dentry *parent, const struct qstr *name);
bool rwl_is_opaque(const struct path *dir);
bool rwl_is_impure(struct inode *dir);
bool rwl_read_origin(struct super_block *sb, struct dentry *upper,
		     struct rwl_origin *origin);

/* inode.c */
extern const struct inode_operations rwl_dir_inode_operations;
struct mutex *rwl_dir_alias_lock(struct super_block *sb, const struct inode *real);
struct inode *rwl_get_inode(struct super_block *sb,
			    const struct dentry *dentry, struct dentry *upper,
			    const struct rwl_path *lower,
			    const struct rwl_origin *origin);
void rwl_copyattr(struct inode *inode);
void rwl_refresh_perm_attrs(struct inode *inode);
u64 rwl_dir_ino(const struct rwl_fs *ofs, const struct rwl_layer *layer,
		u64 ino);
int rwl_acl_prepare(struct dentry *dentry, int type,
		    const struct posix_acl *acl);

/* dir.c */
int rwl_may_write(const struct dentry *dentry);
int rwl_create(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	       umode_t mode, bool excl);
int rwl_mkdir(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	      umode_t mode);
int rwl_mknod(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
	      umode_t mode, dev_t rdev);
int rwl_symlink(rwl_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
		const char *link);
int rwl_link(struct dentry *old, struct inode *dir, struct dentry *new);
int rwl_unlink(struct inode *dir, struct dentry *dentry);
int rwl_rmdir(struct inode *dir, struct dentry *dentry);
int rwl_rename(rwl_idmap_t *idmap, struct inode *olddir, struct dentry *old,
	       struct inode *newdir, struct dentry *new, unsigned int flags);

/* copy_up.c */
int rwl_copy_up(struct dentry *dentry);
int rwl_copy_up_flags(struct dentry *dentry, int flags);
struct dentry *rwl_work_lookup(struct super_block *sb);
struct dentry *rwl_work_create(struct super_block *sb, umode_t mode,
			       dev_t rdev, const char *link);
void rwl_work_remove(struct super_block *sb, struct dentry *temp);
int rwl_set_opaque(struct super_block *sb, struct dentry *upper);
int rwl_mark_impure(struct inode *dir);
int rwl_clear_dir(struct super_block *sb, const struct path *dir);
int rwl_clear_whiteouts(struct super_block *sb, const struct path *dir);

/* compat/acl.c */
extern const struct xattr_handler *rwl_xattr_handlers[];

/* file.c */
extern const struct file_operations rwl_file_operations;
struct file *rwl_open_real(struct super_block *sb, const struct path *realpath,
			   int flags);

/* readdir.c */
extern const struct file_operations rwl_dir_operations;
int rwl_check_empty(struct dentry *dentry);
int rwl_real_dir_names(struct super_block *sb, const struct path *dir,
		       int (*fn)(void *arg, const char *name, int len,
				 unsigned int type),
		       void *arg);

/* xattr.c */
extern const struct xattr_handler rwl_xattr_handler;
ssize_t rwl_listxattr(struct dentry *dentry, char *list, size_t size);
ssize_t rwl_xattr_get_real(struct dentry *dentry, const char *name,
			   void *buffer, size_t size);
int rwl_xattr_set_real(struct dentry *dentry, const char *name,
		       const void *value, size_t size, int flags);
bool rwl_is_private_xattr(const char *name);
int rwl_copy_xattrs(struct super_block *sb, const struct path *from,
		    struct dentry *to);

/* empty.c */
int rwl_prepare_empty(struct super_block *sb, struct rwl_rule *rule,
		      const char *path, struct netlink_ext_ack *extack);

/* util.c */
const struct cred *rwl_override_creds(struct super_block *sb);
struct rwl_entry *rwl_entry_alloc(unsigned int num);
void rwl_entry_free(struct rwl_entry *entry);
int rwl_init_inode_cache(void);
void rwl_destroy_inode_cache(void);
struct inode *rwl_alloc_inode(struct super_block *sb);
void rwl_destroy_inode(struct inode *inode);
void rwl_free_inode(struct inode *inode);
void rwl_set_upper(struct inode *inode, struct dentry *upper);
struct dentry *rwl_lookup_upper(struct dentry *udir, const struct qstr *name);
int rwl_remove_name(struct super_block *sb, struct dentry *dir,
		    const char *name, int len, bool whiteout_only,
		    struct dentry **busy);
int rwl_meta_write_begin(struct dentry *dentry);
void rwl_meta_write_end(struct dentry *dentry);

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

static inline rwl_idmap_t *rwl_upper_idmap(struct super_block *sb)
{
	return rwl_mnt_idmap(RWL_FS(sb)->upper.mnt);
}

static inline int rwl_do_create(struct super_block *sb, struct inode *dir,
				struct dentry *dentry, umode_t mode)
{
	int ret = vfs_create(rwl_upper_idmap(sb), dir, dentry, mode, true);

	pr_debug("create(%pd2, 0%o) = %i\n", dentry, mode, ret);
	return ret;
}

static inline int rwl_do_mkdir(struct super_block *sb, struct inode *dir,
			       struct dentry *dentry, umode_t mode)
{
	int ret = vfs_mkdir(rwl_upper_idmap(sb), dir, dentry, mode);

	pr_debug("mkdir(%pd2, 0%o) = %i\n", dentry, mode, ret);
	return ret;
}

static inline int rwl_do_mknod(struct super_block *sb, struct inode *dir,
			       struct dentry *dentry, umode_t mode, dev_t dev)
{
	int ret = vfs_mknod(rwl_upper_idmap(sb), dir, dentry, mode, dev);

	pr_debug("mknod(%pd2, 0%o, 0%o) = %i\n", dentry, mode, dev, ret);
	return ret;
}

static inline int rwl_do_symlink(struct super_block *sb, struct inode *dir,
				 struct dentry *dentry, const char *link)
{
	int ret = vfs_symlink(rwl_upper_idmap(sb), dir, dentry, link);

	pr_debug("symlink(%s, %pd2) = %i\n", link, dentry, ret);
	return ret;
}

static inline int rwl_do_link(struct super_block *sb, struct dentry *old,
			      struct inode *dir, struct dentry *new)
{
	int ret = vfs_link(old, rwl_upper_idmap(sb), dir, new, NULL);

	pr_debug("link(%pd2, %pd2) = %i\n", old, new, ret);
	return ret;
}

static inline int rwl_do_unlink(struct super_block *sb, struct inode *dir,
				struct dentry *dentry)
{
	int ret = vfs_unlink(rwl_upper_idmap(sb), dir, dentry, NULL);

	pr_debug("unlink(%pd2) = %i\n", dentry, ret);
	return ret;
}

static inline int rwl_do_rmdir(struct super_block *sb, struct inode *dir,
			       struct dentry *dentry)
{
	int ret = vfs_rmdir(rwl_upper_idmap(sb), dir, dentry);

	pr_debug("rmdir(%pd2) = %i\n", dentry, ret);
	return ret;
}

/* Remove an upper entry whatever it is (a directory must be empty). */
static inline int rwl_do_remove(struct super_block *sb, struct inode *dir,
				struct dentry *dentry)
{
	return d_is_dir(dentry) ? rwl_do_rmdir(sb, dir, dentry) :
				  rwl_do_unlink(sb, dir, dentry);
}

static inline int rwl_do_rename(struct super_block *sb, struct inode *olddir,
				struct dentry *old, struct inode *newdir,
				struct dentry *new, unsigned int flags)
{
	int ret = rwl_vfs_rename(rwl_upper_idmap(sb), olddir, old, newdir, new,
				 flags);

	pr_debug("rename(%pd2, %pd2, 0x%x) = %i\n", old, new, flags, ret);
	return ret;
}

static inline int rwl_do_setattr(struct super_block *sb, struct dentry *dentry,
				 struct iattr *attr)
{
	int ret = notify_change(rwl_upper_idmap(sb), dentry, attr, NULL);

	pr_debug("setattr(%pd2, 0x%x) = %i\n", dentry, attr->ia_valid, ret);
	return ret;
}

static inline int rwl_do_setxattr(struct super_block *sb, struct dentry *dentry,
				  const char *name, const void *value,
				  size_t size, int flags)
{
	int ret = vfs_setxattr(rwl_upper_idmap(sb), dentry, name, value, size,
			       flags);

	pr_debug("setxattr(%pd2, %s, %zu, 0x%x) = %i\n", dentry, name, size,
		 flags, ret);
	return ret;
}

static inline int rwl_do_removexattr(struct super_block *sb,
				     struct dentry *dentry, const char *name)
{
	int ret = vfs_removexattr(rwl_upper_idmap(sb), dentry, name);

	pr_debug("removexattr(%pd2, %s) = %i\n", dentry, name, ret);
	return ret;
}

#endif /* _RWLAYER_H */
