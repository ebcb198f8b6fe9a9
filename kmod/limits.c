// SPDX-License-Identifier: GPL-2.0
/*
 * What each rule has used of the upper, its limits, and the events when
 * its usage crosses a threshold.
 *
 * Usage is charged before the upper grows, so that a write over the
 * limit fails whole and changes nothing; a delete never fails.
 */
#include <linux/math64.h>
#include <linux/statfs.h>

#include "rwlayer.h"

/* Usage is charged in pages: a file of 1 byte costs 4 KiB. */
#define RWL_CHARGE_UNIT		4096

/* Bits of rwl_rule.warned: a threshold event went out for this. */
enum {
	RWL_WARNED_BYTES,
	RWL_WARNED_BYTES_FULL,
	RWL_WARNED_INODES,
	RWL_WARNED_INODES_FULL,
};

/* @pct percent of @max, without overflowing for any u64. */
static u64 rwl_percent_of(u64 max, unsigned int pct)
{
	return div64_u64(max, 100) * pct + div64_u64((max % 100) * pct, 100);
}

/*
 * Send each threshold once on the way up; rwl_watch_down() re-arms it
 * when usage falls back below, so a rule that hovers does not flood.
 */
static void rwl_watch_up(struct rwl_rule *rule, int limit, int bit, u64 now,
			 u64 max)
{
	unsigned int warn = READ_ONCE(rule->warn);

	if (!max)
		return;
	if (warn && warn < 100 && now >= rwl_percent_of(max, warn) &&
	    !test_and_set_bit(bit, &rule->warned))
		rwl_event_threshold(rule, limit, warn, now, max);
	if (now >= max && !test_and_set_bit(bit + 1, &rule->warned))
		rwl_event_threshold(rule, limit, 100, now, max);
}

static void rwl_watch_down(struct rwl_rule *rule, int bit, u64 now, u64 max)
{
	unsigned int warn = READ_ONCE(rule->warn);

	if (!max || !READ_ONCE(rule->warned))
		return;
	if (now < max)
		clear_bit(bit + 1, &rule->warned);
	if (!warn || now < rwl_percent_of(max, warn))
		clear_bit(bit, &rule->warned);
}

static int rwl_charge_one(struct rwl_rule *rule, atomic64_t *used, u64 max,
			  u64 amount, int limit, int bit)
{
	s64 old = atomic64_read(used), now;

	if (!amount)
		return 0;
	/* Check and add at once: a refused charge never blocks one that fits. */
	do {
		now = old + amount;
		if (max && (u64)now > max) {
			atomic64_inc(&rule->errors);
			/* Refused: the limit is reached for this writer. */
			rwl_watch_up(rule, limit, bit, max, max);
			return -ENOSPC;
		}
	} while (!atomic64_try_cmpxchg(used, &old, now));
	rwl_watch_up(rule, limit, bit, now, max);
	return 0;
}

int rwl_charge(struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	int err;

	if (!rule)
		return 0;
	err = rwl_charge_one(rule, &rule->inodes, READ_ONCE(rule->max_inodes),
			     inodes, RWLAYER_LIMIT_INODES, RWL_WARNED_INODES);
	if (err)
		return err;
	err = rwl_charge_one(rule, &rule->bytes, READ_ONCE(rule->max_bytes),
			     bytes, RWLAYER_LIMIT_BYTES, RWL_WARNED_BYTES);
	if (err)
		rwl_uncharge(rule, 0, inodes);
	return err;
}

/* Would @bytes and @inodes more still fit? */
int rwl_rule_room(const struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	u64 max_inodes, max_bytes;

	if (!rule)
		return 0;
	max_inodes = READ_ONCE(rule->max_inodes);
	max_bytes = READ_ONCE(rule->max_bytes);
	if (max_inodes && atomic64_read(&rule->inodes) + inodes > max_inodes)
		return -ENOSPC;
	if (max_bytes && atomic64_read(&rule->bytes) + bytes > max_bytes)
		return -ENOSPC;
	return 0;
}

/*
 * Never below zero: a rule adopts upper copies made before it existed
 * (or before an eviction lost their charge) without counting them, and
 * their removal must not wrap its usage around.
 */
static u64 rwl_sub_clamped(atomic64_t *used, u64 amount)
{
	s64 old = atomic64_read(used), new;

	do {
		new = (u64)old > amount ? old - amount : 0;
	} while (!atomic64_try_cmpxchg(used, &old, new));
	return new;
}

void rwl_uncharge(struct rwl_rule *rule, u64 bytes, u64 inodes)
{
	u64 now;

	if (!rule)
		return;
	if (bytes) {
		now = rwl_sub_clamped(&rule->bytes, bytes);
		rwl_watch_down(rule, RWL_WARNED_BYTES, now,
			       READ_ONCE(rule->max_bytes));
	}
	if (inodes) {
		now = rwl_sub_clamped(&rule->inodes, inodes);
		rwl_watch_down(rule, RWL_WARNED_INODES, now,
			       READ_ONCE(rule->max_inodes));
	}
}

/* A limit or threshold changed: events follow the new numbers. */
void rwl_rule_rearm(struct rwl_rule *rule)
{
	WRITE_ONCE(rule->warned, 0);
	rwl_watch_up(rule, RWLAYER_LIMIT_BYTES, RWL_WARNED_BYTES,
		     atomic64_read(&rule->bytes), READ_ONCE(rule->max_bytes));
	rwl_watch_up(rule, RWLAYER_LIMIT_INODES, RWL_WARNED_INODES,
		     atomic64_read(&rule->inodes), READ_ONCE(rule->max_inodes));
}

/*
 * The rule an inode's upper copy is charged to.  A deleted rule's slot may
 * hold another rule by now, which owes nothing for this copy.
 */
struct rwl_rule *rwl_inode_charged(struct inode *inode)
{
	struct rwl_inode *oi = RWL_I(inode);
	struct rwl_rule *rule = oi->charged_rule;

	return rule && READ_ONCE(rule->gen) == oi->charged_gen ? rule : NULL;
}

void rwl_inode_charge_to(struct inode *inode, struct rwl_rule *rule)
{
	struct rwl_inode *oi = RWL_I(inode);

	oi->charged_rule = rule;
	oi->charged_gen = rule ? READ_ONCE(rule->gen) : 0;
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
	if (!rwl_inode_charged(inode))
		rwl_inode_charge_to(inode, rule);
	if (want > oi->charged_bytes) {
		err = rwl_charge(rwl_inode_charged(inode),
				 want - oi->charged_bytes, 0);
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
	struct rwl_rule *rule;
	u64 want;

	if (!upper || !d_is_reg(upper))
		return;
	want = rwl_size_charge(i_size_read(d_inode(upper)));
	mutex_lock(&oi->lock);
	rule = rwl_inode_charged(inode);
	if (rule && want != oi->charged_bytes) {
		/* Growing past the limit was refused before the write. */
		if (want > oi->charged_bytes)
			atomic64_add(want - oi->charged_bytes, &rule->bytes);
		else
			rwl_uncharge(rule, oi->charged_bytes - want, 0);
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

	if (upper && !d_inode(upper)->i_nlink)
		rwl_uncharge(rwl_inode_charged(inode), oi->charged_bytes, 1);
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
	if (!rwl_inode_charged(inode)) {
		rwl_inode_charge_to(inode, rule);
		oi->charged_bytes = d_is_reg(upper) ?
			rwl_size_charge(i_size_read(d_inode(upper))) : 0;
	}
	mutex_unlock(&oi->lock);
}

/* A limited rule looks like a filesystem of its limit's size. */
void rwl_rule_statfs(const struct rwl_rule *rule, struct kstatfs *buf)
{
	u64 used, blocks, max_bytes = READ_ONCE(rule->max_bytes);
	u64 max_inodes = READ_ONCE(rule->max_inodes);

	if (max_bytes) {
		used = atomic64_read(&rule->bytes);
		blocks = DIV_ROUND_UP(max_bytes, buf->f_bsize);
		buf->f_blocks = blocks;
		used = min(blocks, DIV_ROUND_UP(used, buf->f_bsize));
		buf->f_bfree = min_t(u64, buf->f_bfree, blocks - used);
		buf->f_bavail = min_t(u64, buf->f_bavail, blocks - used);
	}
	if (max_inodes) {
		used = min_t(u64, atomic64_read(&rule->inodes), max_inodes);
		buf->f_files = max_inodes;
		buf->f_ffree = max_inodes - used;
	}
}
