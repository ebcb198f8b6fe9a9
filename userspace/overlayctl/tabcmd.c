// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl apply [--dry-run] [FILE] and overlayctl check [FILE]: read an
 * overlaytab; check stops there, apply brings the kernel's rules of the
 * mount at the table's @mount point in line with it, all or nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "ctl.h"
#include "tab.h"

#define CTL_DEFAULT_TAB "/etc/overlaytab"

struct ctl_tab_args {
	const char *file;
	bool dry_run;
	char hostname[256];
	struct rwl_tab_vars vars;
};

/* --var NAME=VALUE sets ${mac} or ${ip}, which overlayctl cannot know. */
static int ctl_tab_var(struct ctl_tab_args *a, const char *arg)
{
	if (!strncmp(arg, "hostname=", 9))
		a->vars.hostname = arg + 9;
	else if (!strncmp(arg, "mac=", 4))
		a->vars.mac = arg + 4;
	else if (!strncmp(arg, "ip=", 3))
		a->vars.ip = arg + 3;
	else {
		ctl_err("--var %s: expected hostname=, mac= or ip=", arg);
		return -EINVAL;
	}
	return 0;
}

static int ctl_tab_args(int argc, char **argv, bool allow_dry_run,
			struct ctl_tab_args *a)
{
	bool have_file = false;
	int i;

	memset(a, 0, sizeof(*a));
	a->file = CTL_DEFAULT_TAB;
	if (!gethostname(a->hostname, sizeof(a->hostname) - 1))
		a->vars.hostname = a->hostname;
	for (i = 1; i < argc; i++) {
		if (ctl_global_opt(argv[i]))
			continue;
		if (allow_dry_run && (!strcmp(argv[i], "--dry-run") ||
				      !strcmp(argv[i], "-n"))) {
			a->dry_run = true;
		} else if (!strcmp(argv[i], "--var") && i + 1 < argc) {
			if (ctl_tab_var(a, argv[++i]))
				return -EINVAL;
		} else if (argv[i][0] != '-' && !have_file) {
			a->file = argv[i];
			have_file = true;
		} else {
			ctl_usage_of(argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

/* Load @file; on errors print every diagnostic and return -1. */
static int ctl_tab_load(const struct ctl_tab_args *a, struct rwl_tab *tab)
{
	struct rwl_tab_diag diag = { 0 };
	size_t i;

	memset(tab, 0, sizeof(*tab));
	if (!rwl_tab_load(a->file, &a->vars, tab, &diag)) {
		rwl_tab_diag_free(&diag);
		return 0;
	}
	for (i = 0; i < diag.num; i++)
		fprintf(stderr, "%s\n", diag.msgs[i]);
	if (!diag.num)
		ctl_err("%s: invalid", a->file);
	rwl_tab_diag_free(&diag);
	return -1;
}

int ctl_cmd_check(int argc, char **argv)
{
	struct ctl_tab_args a;
	struct rwl_tab tab;

	if (ctl_tab_args(argc, argv, false, &a))
		return CTL_EXIT_ERROR;
	if (ctl_tab_load(&a, &tab))
		return CTL_EXIT_ERROR;
	printf("%s: ok, %zu rule%s for the mount at %s\n", a.file, tab.num_rules,
	       tab.num_rules == 1 ? "" : "s",
	       tab.mount.target ? tab.mount.target : "/");
	rwl_tab_free(&tab);
	return CTL_EXIT_OK;
}

/* The kernel mount at exactly @target (the visible one if stacked). */
static const struct rwl_nl_mount *ctl_mount_at(const struct ctl_mounts *mounts,
					       const char *target)
{
	const struct rwl_nl_mount *found = NULL;
	size_t i, k;

	for (i = 0; i < mounts->local.num; i++) {
		const struct rwl_mountinfo *m = &mounts->local.mounts[i];

		if (strcmp(m->mountpoint, target) || strcmp(m->root, "/"))
			continue;
		for (k = 0; k < mounts->kernel.num; k++)
			if (mounts->kernel.mounts[k].dev_major == m->dev_major &&
			    mounts->kernel.mounts[k].dev_minor == m->dev_minor)
				found = &mounts->kernel.mounts[k];
	}
	return found;
}

/* Plan for @tab against the kernel, print it, run it unless dry. */
static int ctl_apply_tab(struct rwl_nl *nl, const struct ctl_mounts *mounts,
			 const struct rwl_tab *tab, bool dry_run)
{
	const char *target = tab->mount.target ? tab->mount.target : "/";
	const struct rwl_nl_mount *mount = ctl_mount_at(mounts, target);
	struct rwl_nl_rule_list rules;
	struct rwl_apply_result result;
	struct rwl_apply_plan plan;
	int err;

	if (!mount) {
		ctl_err("apply: no rwlayer mount at %s", target);
		return CTL_EXIT_NO_MOUNT;
	}
	err = rwl_nl_get_rules(nl, mount->id, &rules);
	if (err) {
		ctl_nl_err(nl, err, "apply: reading the rules of %s", target);
		return CTL_EXIT_ERROR;
	}
	err = rwl_apply_plan_build(tab, target, mount->id, rules.rules, rules.num,
				   &plan, stderr);
	rwl_nl_rule_list_free(&rules);
	if (err) {
		if (err == -ENOMEM)
			ctl_err("apply: %s", strerror(ENOMEM));
		return CTL_EXIT_ERROR;
	}
	if (!plan.num_steps)
		printf("%s: the rules are up to date\n", target);
	rwl_apply_plan_print(&plan, stdout);
	fflush(stdout);
	if (!dry_run && plan.num_steps)
		rwl_apply_execute(&plan, &rwl_apply_nl_ops, nl, CTL_PROG,
				  stderr, &result);
	else
		result.err = 0;
	rwl_apply_plan_free(&plan);
	return result.err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

int ctl_cmd_apply(int argc, char **argv)
{
	struct ctl_mounts mounts;
	struct ctl_tab_args a;
	struct rwl_tab tab;
	struct rwl_nl *nl;
	int ret = CTL_EXIT_ERROR;

	if (ctl_tab_args(argc, argv, true, &a))
		return CTL_EXIT_ERROR;
	if (ctl_tab_load(&a, &tab))
		return CTL_EXIT_ERROR;
	if (ctl_nl_open(&nl))
		goto out_tab;
	if (ctl_mounts_load(nl, &mounts))
		goto out_close;
	ret = ctl_apply_tab(nl, &mounts, &tab, a.dry_run);
	ctl_mounts_free(&mounts);
out_close:
	rwl_nl_close(nl);
out_tab:
	rwl_tab_free(&tab);
	return ret;
}
