// SPDX-License-Identifier: GPL-2.0
/*
 * lib/apply.c against a fake kernel: the plan (steps, order, printed
 * text), a run that reaches the table's state, and for a failure at every
 * single kernel call a rollback that restores the kernel's state exactly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MiB (1024ULL * 1024)
#define MOUNT_ID 7

/* ---- a fake kernel with the module's EEXIST/ENOENT answers ---- */

#define FAKE_MAX 16

struct fake_kernel {
	struct rwl_nl_rule rules[FAKE_MAX];	/* path points at path_buf */
	char path_buf[FAKE_MAX][64];
	size_t num;
	int calls;			/* kernel calls so far */
	int fail_call;			/* this call fails (-1: none) */
	int fail_undo_call;		/* and this one too */
};

static int fake_find(struct fake_kernel *k, const char *path)
{
	size_t i;

	for (i = 0; i < k->num; i++)
		if (!strcmp(k->rules[i].path, path))
			return (int)i;
	return -1;
}

/* Counts the call; -EIO when it is one of the calls meant to fail. */
static int fake_enter(struct fake_kernel *k)
{
	int call = k->calls++;

	return call == k->fail_call || call == k->fail_undo_call ? -EIO : 0;
}

static int fake_add(void *ctx, const struct rwl_nl_rule *rule)
{
	struct fake_kernel *k = ctx;
	struct rwl_nl_rule *r;
	int err = fake_enter(k);

	if (err)
		return err;
	if (rule->mount_id != MOUNT_ID)
		return -ENODEV;
	if (fake_find(k, rule->path) >= 0)
		return -EEXIST;
	if (k->num == FAKE_MAX)
		return -ENOSPC;
	r = &k->rules[k->num];
	*r = *rule;
	snprintf(k->path_buf[k->num], sizeof(k->path_buf[0]), "%s", rule->path);
	r->path = k->path_buf[k->num];
	k->num++;
	return 0;
}

static int fake_del(void *ctx, uint32_t mount_id, const char *path)
{
	struct fake_kernel *k = ctx;
	int err = fake_enter(k), i;

	if (err)
		return err;
	if (mount_id != MOUNT_ID)
		return -ENODEV;
	i = fake_find(k, path);
	if (i < 0)
		return -ENOENT;
	for (; (size_t)i + 1 < k->num; i++) {
		k->rules[i] = k->rules[i + 1];
		memcpy(k->path_buf[i], k->path_buf[i + 1], sizeof(k->path_buf[0]));
		k->rules[i].path = k->path_buf[i];
	}
	k->num--;
	return 0;
}

static int fake_set(void *ctx, uint32_t mount_id, const char *path,
		    const struct rwl_nl_rule_change *change)
{
	struct fake_kernel *k = ctx;
	int err = fake_enter(k), i;

	if (err)
		return err;
	if (mount_id != MOUNT_ID)
		return -ENODEV;
	i = fake_find(k, path);
	if (i < 0)
		return -ENOENT;
	if (change->set_max_bytes)
		k->rules[i].max_bytes = change->max_bytes;
	if (change->set_max_inodes)
		k->rules[i].max_inodes = change->max_inodes;
	if (change->set_warn)
		k->rules[i].warn = change->warn;
	return 0;
}

static const char *fake_message(void *ctx)
{
	(void)ctx;
	return "injected failure";
}

static const struct rwl_apply_ops fake_ops = {
	.add = fake_add, .del = fake_del, .set = fake_set,
	.message = fake_message,
};

static void fake_load(struct fake_kernel *k, const struct rwl_nl_rule *rules,
		      size_t num)
{
	size_t i;

	memset(k, 0, sizeof(*k));
	k->fail_call = k->fail_undo_call = -1;
	for (i = 0; i < num; i++) {
		k->rules[i] = rules[i];
		k->rules[i].mount_id = MOUNT_ID;
		snprintf(k->path_buf[i], sizeof(k->path_buf[0]), "%s", rules[i].path);
		k->rules[i].path = k->path_buf[i];
	}
	k->num = num;
}

static bool same_settings(const struct rwl_nl_rule *a, const struct rwl_nl_rule *b)
{
	return !strcmp(a->path, b->path) && a->kind == b->kind &&
	       a->max_bytes == b->max_bytes && a->max_inodes == b->max_inodes &&
	       a->warn == b->warn && a->has_mode == b->has_mode &&
	       (!a->has_mode || a->mode == b->mode) && a->has_uid == b->has_uid &&
	       (!a->has_uid || a->uid == b->uid) && a->has_gid == b->has_gid &&
	       (!a->has_gid || a->gid == b->gid);
}

/* Whether the fake kernel holds exactly @rules (in any order). */
static bool fake_equals(struct fake_kernel *k, const struct rwl_nl_rule *rules,
			size_t num)
{
	size_t i;

	if (k->num != num)
		return false;
	for (i = 0; i < num; i++) {
		int at = fake_find(k, rules[i].path);

		if (at < 0 || !same_settings(&k->rules[at], &rules[i]))
			return false;
	}
	return true;
}

/* ---- the scenario ---- */

static struct rwl_tab_rule tab_rules[] = {
	{ .path = "/etc/machine-id", .kind = RWLAYER_RULE_FILE, .line = 1 },
	{ .path = "/home", .kind = RWLAYER_RULE_UNION, .warn = 80, .line = 2 },
	{ .path = "/srv", .kind = RWLAYER_RULE_EMPTY, .has_mode = true,
	  .mode = 0755, .line = 3 },
	{ .path = "/tmp", .kind = RWLAYER_RULE_EMPTY, .max_bytes = 64 * MiB,
	  .line = 4 },
	{ .path = "/var", .kind = RWLAYER_RULE_UNION, .max_bytes = 128 * MiB,
	  .max_inodes = 50000, .warn = 90, .line = 5 },
	{ .path = "/var/tmp", .kind = RWLAYER_RULE_EMPTY, .line = 6 },
};

static const struct rwl_tab tab = {
	.mount = { .target = "/" },
	.rules = tab_rules,
	.num_rules = ARRAY_SIZE(tab_rules),
};

/* The kernel before: one same, one change, two replaces, two extra. */
static const struct rwl_nl_rule kernel_before[] = {
	{ .path = "/etc/machine-id", .kind = RWLAYER_RULE_FILE },
	{ .path = "/old", .kind = RWLAYER_RULE_UNION, .max_bytes = MiB },
	{ .path = "/old/nested", .kind = RWLAYER_RULE_EMPTY, .bytes = 4096 },
	{ .path = "/srv", .kind = RWLAYER_RULE_EMPTY, .has_mode = true,
	  .mode = 0700, .has_uid = true, .uid = 1000 },
	{ .path = "/tmp", .kind = RWLAYER_RULE_UNION, .max_bytes = 64 * MiB },
	{ .path = "/var", .kind = RWLAYER_RULE_UNION, .max_bytes = 64 * MiB,
	  .max_inodes = 50000, .warn = 80, .bytes = 12345 },
	{ .path = "/var/tmp", .kind = RWLAYER_RULE_EMPTY },
};

/* What the kernel must hold after a successful run. */
static const struct rwl_nl_rule kernel_after[] = {
	{ .path = "/etc/machine-id", .kind = RWLAYER_RULE_FILE },
	{ .path = "/home", .kind = RWLAYER_RULE_UNION, .warn = 80 },
	{ .path = "/srv", .kind = RWLAYER_RULE_EMPTY, .has_mode = true,
	  .mode = 0755 },
	{ .path = "/tmp", .kind = RWLAYER_RULE_EMPTY, .max_bytes = 64 * MiB },
	{ .path = "/var", .kind = RWLAYER_RULE_UNION, .max_bytes = 128 * MiB,
	  .max_inodes = 50000, .warn = 90 },
	{ .path = "/var/tmp", .kind = RWLAYER_RULE_EMPTY },
};

static const char expected_plan[] =
	"- /old/nested empty\n"
	"- /old union size=1M\n"
	"! /srv empty mode=0700 uid=1000 -> empty mode=0755 (delete + add)\n"
	"! /tmp union size=64M -> empty size=64M (delete + add)\n"
	"~ /var size 64M -> 128M, warn 80% -> 90%\n"
	"+ /home union warn=80%\n";

/* Kernel calls the plan makes: 2 deletes, 2 x 2 replaces, 1 set, 1 add. */
#define PLAN_CALLS 8

static char *capture_plan(const struct rwl_apply_plan *plan)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	rwl_apply_plan_print(plan, f);
	fclose(f);
	return buf;
}

static int build(const struct rwl_tab *t, const char *mountpoint,
		 const struct rwl_nl_rule *kernel, size_t num,
		 struct rwl_apply_plan *plan, char **err_text)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int err;

	err = rwl_apply_plan_build(t, mountpoint, MOUNT_ID, kernel, num, plan, f);
	fclose(f);
	if (err_text)
		*err_text = buf;
	else
		free(buf);
	return err;
}

static void test_plan(void)
{
	struct rwl_apply_plan plan;
	char *text;
	int err;

	err = build(&tab, "/", kernel_before, ARRAY_SIZE(kernel_before), &plan,
		    NULL);
	ok(!err && plan.num_steps == 6, "six steps planned (got %d, %zu)", err,
	   plan.num_steps);
	text = capture_plan(&plan);
	if (!ok(!strcmp(text, expected_plan),
		"plan order: deletes deepest first, replaces, changes, adds"))
		printf("# got:\n%s# want:\n%s", text, expected_plan);
	free(text);
	ok(plan.num_steps == 6 && plan.steps[0].old.mount_id == MOUNT_ID &&
	   plan.steps[5].new.mount_id == MOUNT_ID, "steps carry the mount id");
	rwl_apply_plan_free(&plan);
	ok(!plan.steps && !plan.num_steps, "plan_free empties the plan");
}

static void test_up_to_date(void)
{
	struct rwl_apply_plan plan;
	struct rwl_apply_result result;
	struct fake_kernel k;
	char *text;

	fake_load(&k, kernel_after, ARRAY_SIZE(kernel_after));
	ok(!build(&tab, "/", kernel_after, ARRAY_SIZE(kernel_after), &plan, NULL) &&
	   plan.num_steps == 0, "no steps when the kernel matches the table");
	text = capture_plan(&plan);
	ok(!strcmp(text, ""), "an empty plan prints nothing");
	free(text);
	ok(!rwl_apply_execute(&plan, &fake_ops, &k, "t", NULL, &result) &&
	   k.calls == 0, "an empty plan makes no kernel call");
	rwl_apply_plan_free(&plan);
}

static void test_run(void)
{
	struct rwl_apply_plan plan;
	struct rwl_apply_result result;
	struct fake_kernel k;
	int err;

	fake_load(&k, kernel_before, ARRAY_SIZE(kernel_before));
	build(&tab, "/", kernel_before, ARRAY_SIZE(kernel_before), &plan, NULL);
	err = rwl_apply_execute(&plan, &fake_ops, &k, "t", stderr, &result);
	ok(!err && !result.err && result.done == PLAN_CALLS && k.calls == PLAN_CALLS,
	   "run succeeds in %d calls (got %d, %zu done, %d calls)", PLAN_CALLS,
	   err, result.done, k.calls);
	ok(fake_equals(&k, kernel_after, ARRAY_SIZE(kernel_after)),
	   "the kernel then holds the table's rules");
	rwl_apply_plan_free(&plan);
}

static void test_rollback_each_call(void)
{
	int fail;

	for (fail = 0; fail < PLAN_CALLS; fail++) {
		struct rwl_apply_plan plan;
		struct rwl_apply_result result;
		struct fake_kernel k;
		char *msgs = NULL;
		size_t len;
		FILE *f = open_memstream(&msgs, &len);
		int err;

		fake_load(&k, kernel_before, ARRAY_SIZE(kernel_before));
		k.fail_call = fail;
		build(&tab, "/", kernel_before, ARRAY_SIZE(kernel_before), &plan,
		      NULL);
		err = rwl_apply_execute(&plan, &fake_ops, &k, "t", f, &result);
		fclose(f);
		ok(err == -EIO && result.err == -EIO && result.done == (size_t)fail &&
		   result.undone == (size_t)fail && !result.rollback_err,
		   "failure at call %d: error kept, %d calls undone", fail, fail);
		ok(fake_equals(&k, kernel_before, ARRAY_SIZE(kernel_before)),
		   "failure at call %d: the kernel's rules are as before", fail);
		ok(strstr(msgs, "t: apply failed: ") &&
		   strstr(msgs, "Input/output error: injected failure") &&
		   strstr(msgs, "are as before"),
		   "failure at call %d: failure and rollback reported", fail);
		free(msgs);
		rwl_apply_plan_free(&plan);
	}
}

static void test_rollback_fails(void)
{
	struct rwl_apply_plan plan;
	struct rwl_apply_result result;
	struct fake_kernel k;
	char *msgs = NULL;
	size_t len;
	FILE *f = open_memstream(&msgs, &len);

	/* calls 0-3 succeed, 4 fails; the undos are calls 5 (of 3) .. 8 */
	fake_load(&k, kernel_before, ARRAY_SIZE(kernel_before));
	k.fail_call = 4;
	k.fail_undo_call = 6;
	build(&tab, "/", kernel_before, ARRAY_SIZE(kernel_before), &plan, NULL);
	rwl_apply_execute(&plan, &fake_ops, &k, "t", f, &result);
	fclose(f);
	ok(result.err == -EIO && result.rollback_err == -EIO &&
	   result.undo_failed == 1 && result.undone == 3,
	   "a failed undo is counted and the others still run (undone %zu, failed %zu)",
	   result.undone, result.undo_failed);
	ok(strstr(msgs, "t: rollback failed: ") &&
	   strstr(msgs, "rollback incomplete: 1 of 4"),
	   "an incomplete rollback says so");
	free(msgs);
	rwl_apply_plan_free(&plan);
}

static void test_target(void)
{
	static struct rwl_tab_rule rules[] = {
		{ .path = "/sysroot/var", .kind = RWLAYER_RULE_UNION, .line = 3 },
		{ .path = "/sysroot", .kind = RWLAYER_RULE_UNION, .line = 4 },
	};
	static struct rwl_tab_rule outside[] = {
		{ .path = "/etc", .kind = RWLAYER_RULE_UNION, .file = "tab",
		  .line = 9 },
	};
	struct rwl_tab t = { .mount = { .target = "/sysroot" }, .rules = rules,
			     .num_rules = ARRAY_SIZE(rules) };
	struct rwl_apply_plan plan;
	char *text;
	int err;

	err = build(&t, "/sysroot", NULL, 0, &plan, NULL);
	ok(!err && plan.num_steps == 2 && !strcmp(plan.steps[0].new.path, "/") &&
	   !strcmp(plan.steps[1].new.path, "/var"),
	   "paths under @mount /sysroot become paths inside the mount");
	text = capture_plan(&plan);
	if (!ok(!strcmp(text, "+ /sysroot union\n+ /sysroot/var union\n"),
		"the plan shows system paths"))
		printf("# got:\n%s", text);
	free(text);
	rwl_apply_plan_free(&plan);

	t.rules = outside;
	t.num_rules = 1;
	err = build(&t, "/sysroot", NULL, 0, &plan, &text);
	if (!ok(err == -EINVAL && !plan.steps &&
		!strcmp(text, "tab:9: /etc is not inside the mount at /sysroot\n"),
		"a rule outside the mount is refused with file:line"))
		printf("# got: %s", text);
	free(text);
}

int main(void)
{
	test_plan();
	test_up_to_date();
	test_run();
	test_rollback_each_call();
	test_rollback_fails();
	test_target();
	return tap_done();
}
