/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bring one mount's rules in the kernel in line with an overlaytab.
 *
 * rwl_apply_plan_build() compares the table with the kernel's rules and
 * lists the steps; rwl_apply_plan_print() shows them; rwl_apply_execute()
 * runs them all or none: when a step fails, the steps already done are
 * undone in reverse order.
 *
 * Step order: deletes first (they free rule slots; nested rules are
 * independent in the kernel, so deleting a parent before or after its
 * children does not matter), then replaces (delete + add of the same
 * path, since the kernel cannot change a rule's kind or directory owner),
 * then limit changes, then adds in path order (parents before children).
 * Within deletes the deepest paths go first, so the read-only window of
 * a subtree opens from the leaves up.
 */
#ifndef RWL_APPLY_H
#define RWL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nl.h"
#include "tab.h"

enum rwl_apply_op {
	RWL_APPLY_DEL,			/* in the kernel, not in the table */
	RWL_APPLY_REPLACE,		/* kind or mode/uid/gid differ */
	RWL_APPLY_CHANGE,		/* limits or warn differ */
	RWL_APPLY_ADD,			/* in the table, not in the kernel */
};

/*
 * One step.  @old is the kernel's rule (DEL, REPLACE, CHANGE), @new the
 * wanted one (REPLACE, CHANGE, ADD); both have owned paths inside the
 * mount.  The other one is zeroed.
 */
struct rwl_apply_step {
	enum rwl_apply_op op;
	struct rwl_nl_rule old;
	struct rwl_nl_rule new;
};

struct rwl_apply_plan {
	uint32_t mount_id;
	char *mountpoint;		/* where the mount is, for messages */
	struct rwl_apply_step *steps;	/* in execution order */
	size_t num_steps;
};

/*
 * Kernel operations used by rwl_apply_execute, so that tests can stand in
 * for the kernel.  Each returns 0 or -errno; @message, when not NULL,
 * returns the kernel's explanation of the last failure (or NULL).
 */
struct rwl_apply_ops {
	int (*add)(void *ctx, const struct rwl_nl_rule *rule);
	int (*del)(void *ctx, uint32_t mount_id, const char *path);
	int (*set)(void *ctx, uint32_t mount_id, const char *path,
		   const struct rwl_nl_rule_change *change);
	const char *(*message)(void *ctx);
};

/* The real kernel: ctx is a struct rwl_nl *. */
extern const struct rwl_apply_ops rwl_apply_nl_ops;

/*
 * Build the plan for mount @mount_id.  The table's rule paths are system
 * paths under tab->mount.target ("/" when NULL); the part below it is the
 * path inside the mount.  @mountpoint is where the mount is seen now, for
 * the messages (normally the same as the target).  @kernel_rules are the
 * mount's current rules (GET_RULE dump).  Returns 0, -EINVAL when a rule
 * of the table lies outside the target (written to @err, if not NULL, as
 * "file:line: ..."), or -ENOMEM.  Free with rwl_apply_plan_free.
 */
int rwl_apply_plan_build(const struct rwl_tab *tab, const char *mountpoint,
			 uint32_t mount_id,
			 const struct rwl_nl_rule *kernel_rules,
			 size_t num_kernel_rules, struct rwl_apply_plan *plan,
			 FILE *err);

/*
 * One line per step, system paths (mount point + path inside):
 *   + /var union size=128M inodes=50k warn=80%
 *   - /old
 *   ~ /tmp size 64M -> 128M, warn 0% -> 90%
 *   ! /srv union -> empty mode=0755 (delete + add)
 * Nothing at all for an empty plan.
 */
void rwl_apply_plan_print(const struct rwl_apply_plan *plan, FILE *out);

/* What rwl_apply_execute did. */
struct rwl_apply_result {
	int err;			/* 0, or the failed step's -errno */
	size_t failed_step;		/* index into plan->steps, if err */
	size_t done;			/* kernel calls that succeeded */
	int rollback_err;		/* 0, or the first undo's -errno */
	size_t undone;			/* kernel calls undone */
	size_t undo_failed;		/* undo calls that failed */
};

/*
 * Run @plan.  On the first failure, undo what was done (re-add deleted
 * rules with their old kind, limits and owner, delete added ones, restore
 * old limits), keep going through undo failures, and write to @err (if not
 * NULL) one line for the failure and one for the rollback's outcome, each
 * starting with @prog.  Returns result->err.
 *
 * Re-adding a deleted rule restores its settings, not its usage counters
 * (the kernel counts from the add).
 */
int rwl_apply_execute(const struct rwl_apply_plan *plan,
		      const struct rwl_apply_ops *ops, void *ctx,
		      const char *prog, FILE *err,
		      struct rwl_apply_result *result);

void rwl_apply_plan_free(struct rwl_apply_plan *plan);

/* "+", "-", "~", "!" */
const char *rwl_apply_op_symbol(enum rwl_apply_op op);

#endif /* RWL_APPLY_H */
