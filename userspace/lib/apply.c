// SPDX-License-Identifier: GPL-2.0
/*
 * Plan and apply the difference between an overlaytab and the kernel's
 * rules of one mount, all or nothing.  See apply.h for the step order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "fmt.h"
#include "mounts.h"

/* ---- building the plan ---- */

static bool rwl_apply_owner_differs(const struct rwl_nl_rule *a,
				    const struct rwl_nl_rule *b)
{
	return a->has_mode != b->has_mode || (a->has_mode && a->mode != b->mode) ||
	       a->has_uid != b->has_uid || (a->has_uid && a->uid != b->uid) ||
	       a->has_gid != b->has_gid || (a->has_gid && a->gid != b->gid);
}

static bool rwl_apply_limits_differ(const struct rwl_nl_rule *a,
				    const struct rwl_nl_rule *b)
{
	return a->max_bytes != b->max_bytes || a->max_inodes != b->max_inodes ||
	       a->warn != b->warn;
}

/* The settings of a table rule as a kernel rule, @inner its path. */
static void rwl_apply_from_tab(const struct rwl_tab_rule *tr, uint32_t mount_id,
			       char *inner, struct rwl_nl_rule *rule)
{
	memset(rule, 0, sizeof(*rule));
	rule->mount_id = mount_id;
	rule->path = inner;
	rule->kind = tr->kind;
	rule->max_bytes = tr->max_bytes;
	rule->max_inodes = tr->max_inodes;
	rule->warn = tr->warn;
	rule->has_mode = tr->has_mode;
	rule->mode = tr->mode & 07777;
	rule->has_uid = tr->has_uid;
	rule->uid = tr->uid;
	rule->has_gid = tr->has_gid;
	rule->gid = tr->gid;
}

/* A copy of a kernel rule's settings (not its counters). */
static int rwl_apply_copy_rule(const struct rwl_nl_rule *src,
			       uint32_t mount_id, struct rwl_nl_rule *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->path = strdup(src->path);
	if (!dst->path)
		return -ENOMEM;
	dst->mount_id = mount_id;
	dst->kind = src->kind;
	dst->max_bytes = src->max_bytes;
	dst->max_inodes = src->max_inodes;
	dst->warn = src->warn;
	dst->has_mode = src->has_mode;
	dst->mode = src->mode;
	dst->has_uid = src->has_uid;
	dst->uid = src->uid;
	dst->has_gid = src->has_gid;
	dst->gid = src->gid;
	return 0;
}

static struct rwl_apply_step *rwl_apply_add_step(struct rwl_apply_plan *plan,
						 enum rwl_apply_op op)
{
	struct rwl_apply_step *step = &plan->steps[plan->num_steps++];

	memset(step, 0, sizeof(*step));
	step->op = op;
	return step;
}

static const struct rwl_nl_rule *
rwl_apply_find_kernel(const struct rwl_nl_rule *rules, size_t num,
		      const char *path)
{
	size_t i;

	for (i = 0; i < num; i++)
		if (!strcmp(rules[i].path, path))
			return &rules[i];
	return NULL;
}

static const char *rwl_apply_step_path(const struct rwl_apply_step *step)
{
	return step->new.path ? step->new.path : step->old.path;
}

/* Execution order: by op, deletes deepest first, the rest by path. */
static int rwl_apply_step_cmp(const void *a, const void *b)
{
	const struct rwl_apply_step *sa = a, *sb = b;
	int cmp;

	if (sa->op != sb->op)
		return (int)sa->op - (int)sb->op;
	cmp = strcmp(rwl_apply_step_path(sa), rwl_apply_step_path(sb));
	/* A path sorts after its ancestors, so reversed = children first. */
	return sa->op == RWL_APPLY_DEL ? -cmp : cmp;
}

/* Steps for the rules of the table; @matched marks kernel rules seen. */
static int rwl_apply_plan_tab(const struct rwl_tab *tab,
			      const struct rwl_nl_rule *kernel_rules,
			      size_t num_kernel_rules, bool *matched,
			      struct rwl_apply_plan *plan, FILE *err)
{
	const char *target = tab->mount.target ? tab->mount.target : "/";
	size_t i;

	for (i = 0; i < tab->num_rules; i++) {
		const struct rwl_tab_rule *tr = &tab->rules[i];
		const struct rwl_nl_rule *kr;
		struct rwl_apply_step *step;
		struct rwl_nl_rule want;
		char *inner;

		inner = rwl_path_below(tr->path, target);
		if (!inner) {
			if (errno == ENOMEM)
				return -ENOMEM;
			if (err)
				fprintf(err, "%s:%u: %s is not inside the mount at %s\n",
					tr->file ? tr->file : "overlaytab",
					tr->line, tr->path, target);
			return -EINVAL;
		}
		rwl_apply_from_tab(tr, plan->mount_id, inner, &want);
		kr = rwl_apply_find_kernel(kernel_rules, num_kernel_rules, inner);
		if (!kr) {
			rwl_apply_add_step(plan, RWL_APPLY_ADD)->new = want;
			continue;
		}
		matched[kr - kernel_rules] = true;
		if (kr->kind != want.kind || rwl_apply_owner_differs(kr, &want))
			step = rwl_apply_add_step(plan, RWL_APPLY_REPLACE);
		else if (rwl_apply_limits_differ(kr, &want))
			step = rwl_apply_add_step(plan, RWL_APPLY_CHANGE);
		else {
			free(inner);
			continue;
		}
		step->new = want;
		if (rwl_apply_copy_rule(kr, plan->mount_id, &step->old))
			return -ENOMEM;
	}
	return 0;
}

int rwl_apply_plan_build(const struct rwl_tab *tab, const char *mountpoint,
			 uint32_t mount_id,
			 const struct rwl_nl_rule *kernel_rules,
			 size_t num_kernel_rules, struct rwl_apply_plan *plan,
			 FILE *err)
{
	bool *matched = NULL;
	size_t i;
	int ret = -ENOMEM;

	memset(plan, 0, sizeof(*plan));
	plan->mount_id = mount_id;
	plan->mountpoint = strdup(mountpoint);
	/* At most one step per table rule plus one per kernel rule. */
	plan->steps = calloc(tab->num_rules + num_kernel_rules + 1,
			     sizeof(*plan->steps));
	matched = calloc(num_kernel_rules + 1, sizeof(*matched));
	if (!plan->mountpoint || !plan->steps || !matched)
		goto err_free;
	ret = rwl_apply_plan_tab(tab, kernel_rules, num_kernel_rules, matched,
				 plan, err);
	if (ret)
		goto err_free;
	ret = -ENOMEM;
	for (i = 0; i < num_kernel_rules; i++) {
		struct rwl_apply_step *step;

		if (matched[i])
			continue;
		step = rwl_apply_add_step(plan, RWL_APPLY_DEL);
		if (rwl_apply_copy_rule(&kernel_rules[i], mount_id, &step->old))
			goto err_free;
	}
	qsort(plan->steps, plan->num_steps, sizeof(*plan->steps),
	      rwl_apply_step_cmp);
	free(matched);
	return 0;

err_free:
	free(matched);
	rwl_apply_plan_free(plan);
	return ret;
}

void rwl_apply_plan_free(struct rwl_apply_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->num_steps; i++) {
		free(plan->steps[i].old.path);
		free(plan->steps[i].new.path);
	}
	free(plan->steps);
	free(plan->mountpoint);
	memset(plan, 0, sizeof(*plan));
}

/* ---- printing ---- */

const char *rwl_apply_op_symbol(enum rwl_apply_op op)
{
	switch (op) {
	case RWL_APPLY_DEL: return "-";
	case RWL_APPLY_REPLACE: return "!";
	case RWL_APPLY_CHANGE: return "~";
	case RWL_APPLY_ADD: return "+";
	}
	return "?";
}

/* The system path of @inner: the mount point joined with it. */
static void rwl_apply_print_path(FILE *out, const char *mountpoint,
				 const char *inner)
{
	if (!strcmp(mountpoint, "/"))
		fputs(inner, out);
	else if (!strcmp(inner, "/"))
		fputs(mountpoint, out);
	else
		fprintf(out, "%s%s", mountpoint, inner);
}

/* "union size=128M inodes=50k warn=80% mode=0755 uid=0 gid=0" */
static void rwl_apply_print_settings(FILE *out, const struct rwl_nl_rule *r)
{
	char buf[RWL_FMT_LEN];
	const char *kind = rwl_nl_kind_name(r->kind);

	if (kind)
		fputs(kind, out);
	else
		fprintf(out, "kind-%u", (unsigned int)r->kind);
	if (r->max_bytes)
		fprintf(out, " size=%s", rwl_fmt_size_exact(buf, r->max_bytes));
	if (r->max_inodes)
		fprintf(out, " inodes=%s",
			rwl_fmt_count_exact(buf, r->max_inodes));
	if (r->warn)
		fprintf(out, " warn=%u%%", r->warn);
	if (r->has_mode)
		fprintf(out, " mode=%04o", r->mode);
	if (r->has_uid)
		fprintf(out, " uid=%u", r->uid);
	if (r->has_gid)
		fprintf(out, " gid=%u", r->gid);
}

static const char *rwl_apply_size_or_dash(char *buf, uint64_t v)
{
	return v ? rwl_fmt_size_exact(buf, v) : "-";
}

static const char *rwl_apply_count_or_dash(char *buf, uint64_t v)
{
	return v ? rwl_fmt_count_exact(buf, v) : "-";
}

/* "size 64M -> 128M, warn 80% -> -" for the limits that differ. */
static void rwl_apply_print_change(FILE *out, const struct rwl_nl_rule *old,
				   const struct rwl_nl_rule *new)
{
	char a[RWL_FMT_LEN], b[RWL_FMT_LEN];
	const char *sep = "";

	if (old->max_bytes != new->max_bytes) {
		fprintf(out, "size %s -> %s",
			rwl_apply_size_or_dash(a, old->max_bytes),
			rwl_apply_size_or_dash(b, new->max_bytes));
		sep = ", ";
	}
	if (old->max_inodes != new->max_inodes) {
		fprintf(out, "%sinodes %s -> %s", sep,
			rwl_apply_count_or_dash(a, old->max_inodes),
			rwl_apply_count_or_dash(b, new->max_inodes));
		sep = ", ";
	}
	if (old->warn != new->warn) {
		snprintf(a, sizeof(a), "%u%%", old->warn);
		snprintf(b, sizeof(b), "%u%%", new->warn);
		fprintf(out, "%swarn %s -> %s", sep, old->warn ? a : "-",
			new->warn ? b : "-");
	}
}

static void rwl_apply_print_step(FILE *out, const char *mountpoint,
				 const struct rwl_apply_step *step)
{
	fprintf(out, "%s ", rwl_apply_op_symbol(step->op));
	rwl_apply_print_path(out, mountpoint, rwl_apply_step_path(step));
	fputc(' ', out);
	switch (step->op) {
	case RWL_APPLY_ADD:
		rwl_apply_print_settings(out, &step->new);
		break;
	case RWL_APPLY_DEL:
		rwl_apply_print_settings(out, &step->old);
		break;
	case RWL_APPLY_CHANGE:
		rwl_apply_print_change(out, &step->old, &step->new);
		break;
	case RWL_APPLY_REPLACE:
		rwl_apply_print_settings(out, &step->old);
		fputs(" -> ", out);
		rwl_apply_print_settings(out, &step->new);
		fputs(" (delete + add)", out);
		break;
	}
	fputc('\n', out);
}

void rwl_apply_plan_print(const struct rwl_apply_plan *plan, FILE *out)
{
	size_t i;

	for (i = 0; i < plan->num_steps; i++)
		rwl_apply_print_step(out, plan->mountpoint, &plan->steps[i]);
}

/* ---- execution ---- */

/* One kernel call, as done or as its undo. */
enum rwl_apply_call {
	RWL_CALL_ADD,			/* add @rule */
	RWL_CALL_DEL,			/* delete @rule->path */
	RWL_CALL_SET,			/* set @rule's limits */
};

struct rwl_apply_action {
	enum rwl_apply_call call;
	const struct rwl_nl_rule *rule;
};

static int rwl_apply_call(const struct rwl_apply_ops *ops, void *ctx,
			  const struct rwl_apply_action *action)
{
	const struct rwl_nl_rule *r = action->rule;
	struct rwl_nl_rule_change change = {
		.set_max_bytes = true, .max_bytes = r->max_bytes,
		.set_max_inodes = true, .max_inodes = r->max_inodes,
		.set_warn = true, .warn = r->warn,
	};

	switch (action->call) {
	case RWL_CALL_ADD:
		return ops->add(ctx, r);
	case RWL_CALL_DEL:
		return ops->del(ctx, r->mount_id, r->path);
	case RWL_CALL_SET:
		return ops->set(ctx, r->mount_id, r->path, &change);
	}
	return -EINVAL;
}

/*
 * The calls of one step and, in the same order, their undos.  Returns
 * how many (1 or 2).
 */
static size_t rwl_apply_step_calls(const struct rwl_apply_step *step,
				   struct rwl_apply_action *calls,
				   struct rwl_apply_action *undos)
{
	switch (step->op) {
	case RWL_APPLY_DEL:
		calls[0] = (struct rwl_apply_action){ RWL_CALL_DEL, &step->old };
		undos[0] = (struct rwl_apply_action){ RWL_CALL_ADD, &step->old };
		return 1;
	case RWL_APPLY_REPLACE:
		calls[0] = (struct rwl_apply_action){ RWL_CALL_DEL, &step->old };
		undos[0] = (struct rwl_apply_action){ RWL_CALL_ADD, &step->old };
		calls[1] = (struct rwl_apply_action){ RWL_CALL_ADD, &step->new };
		undos[1] = (struct rwl_apply_action){ RWL_CALL_DEL, &step->new };
		return 2;
	case RWL_APPLY_CHANGE:
		calls[0] = (struct rwl_apply_action){ RWL_CALL_SET, &step->new };
		undos[0] = (struct rwl_apply_action){ RWL_CALL_SET, &step->old };
		return 1;
	case RWL_APPLY_ADD:
		calls[0] = (struct rwl_apply_action){ RWL_CALL_ADD, &step->new };
		undos[0] = (struct rwl_apply_action){ RWL_CALL_DEL, &step->new };
		return 1;
	}
	return 0;
}

static void rwl_apply_report(FILE *err, const char *prog, const char *what,
			     const char *mountpoint, const char *symbol,
			     const char *path, int ret, const char *message)
{
	if (!err)
		return;
	fprintf(err, "%s: %s: %s ", prog, what, symbol);
	rwl_apply_print_path(err, mountpoint, path);
	fprintf(err, ": %s", strerror(-ret));
	if (message && *message)
		fprintf(err, ": %s", message);
	fputc('\n', err);
}

static const char *rwl_apply_call_symbol(enum rwl_apply_call call)
{
	switch (call) {
	case RWL_CALL_ADD: return "+";
	case RWL_CALL_DEL: return "-";
	case RWL_CALL_SET: return "~";
	}
	return "?";
}

/* Undo @num done calls, last first, through every failure. */
static void rwl_apply_rollback(const struct rwl_apply_plan *plan,
			       const struct rwl_apply_ops *ops, void *ctx,
			       const struct rwl_apply_action *undos, size_t num,
			       const char *prog, FILE *err,
			       struct rwl_apply_result *result)
{
	while (num--) {
		int ret = rwl_apply_call(ops, ctx, &undos[num]);

		if (!ret) {
			result->undone++;
			continue;
		}
		if (!result->rollback_err)
			result->rollback_err = ret;
		result->undo_failed++;
		rwl_apply_report(err, prog, "rollback failed", plan->mountpoint,
				 rwl_apply_call_symbol(undos[num].call),
				 undos[num].rule->path, ret,
				 ops->message ? ops->message(ctx) : NULL);
	}
	if (!err)
		return;
	if (!result->undo_failed)
		fprintf(err, "%s: rolled back %zu change%s: the rules of %s are as before\n",
			prog, result->undone, result->undone == 1 ? "" : "s",
			plan->mountpoint);
	else
		fprintf(err, "%s: rollback incomplete: %zu of %zu undo steps failed; the rules of %s are now mixed, see overlayctl status\n",
			prog, result->undo_failed,
			result->undone + result->undo_failed, plan->mountpoint);
}

int rwl_apply_execute(const struct rwl_apply_plan *plan,
		      const struct rwl_apply_ops *ops, void *ctx,
		      const char *prog, FILE *err,
		      struct rwl_apply_result *result)
{
	struct rwl_apply_action *undos;
	size_t i;

	memset(result, 0, sizeof(*result));
	undos = calloc(2 * plan->num_steps + 1, sizeof(*undos));
	if (!undos) {
		result->err = -ENOMEM;
		return result->err;
	}
	for (i = 0; i < plan->num_steps; i++) {
		struct rwl_apply_action calls[2];
		size_t n, k;

		n = rwl_apply_step_calls(&plan->steps[i], calls,
					 &undos[result->done]);
		for (k = 0; k < n; k++) {
			int ret = rwl_apply_call(ops, ctx, &calls[k]);

			if (!ret) {
				result->done++;
				continue;
			}
			result->err = ret;
			result->failed_step = i;
			rwl_apply_report(err, prog, "apply failed", plan->mountpoint,
					 rwl_apply_call_symbol(calls[k].call),
					 calls[k].rule->path, ret,
					 ops->message ? ops->message(ctx) : NULL);
			rwl_apply_rollback(plan, ops, ctx, undos, result->done,
					   prog, err, result);
			free(undos);
			return result->err;
		}
	}
	free(undos);
	return 0;
}

/* ---- the real kernel ---- */

static int rwl_apply_nl_add(void *ctx, const struct rwl_nl_rule *rule)
{
	return rwl_nl_add_rule(ctx, rule);
}

static int rwl_apply_nl_del(void *ctx, uint32_t mount_id, const char *path)
{
	return rwl_nl_del_rule(ctx, mount_id, path);
}

static int rwl_apply_nl_set(void *ctx, uint32_t mount_id, const char *path,
			    const struct rwl_nl_rule_change *change)
{
	return rwl_nl_set_rule(ctx, mount_id, path, change);
}

static const char *rwl_apply_nl_message(void *ctx)
{
	return rwl_nl_extack(ctx);
}

const struct rwl_apply_ops rwl_apply_nl_ops = {
	.add = rwl_apply_nl_add,
	.del = rwl_apply_nl_del,
	.set = rwl_apply_nl_set,
	.message = rwl_apply_nl_message,
};
