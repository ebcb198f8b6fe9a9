// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl(8): show and change the rules of rwlayer mounts.
 *
 *   overlayctl [-j|--json] [-p|--pretty] COMMAND [ARGS...]
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int ctl_cmd_help(int argc, char **argv);

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", ctl_cmd_status, "[PATH]",
	  "rules with their use and limits; exit status tells health" },
	{ "list", ctl_cmd_list, "", "rwlayer mounts and their layers" },
	{ "rule", ctl_cmd_rule,
	  "add PATH KIND [OPTION=VALUE...] | del PATH | set PATH OPTION=VALUE... | show PATH",
	  "add, remove, change or show one rule" },
	{ "reset", ctl_cmd_reset, "PATH [--force]",
	  "discard what was written under the rule at PATH" },
	{ "diff", ctl_cmd_diff, "PATH",
	  "what was added (A), changed (C), deleted (D) under PATH" },
	{ "monitor", ctl_cmd_monitor, "", "print the module's events" },
	{ "apply", ctl_cmd_apply, "[--dry-run] [FILE]",
	  "make the rules match an overlaytab (default /etc/overlaytab)" },
	{ "check", ctl_cmd_check, "[FILE]", "validate an overlaytab" },
	{ "version", ctl_cmd_version, "", "versions and module features" },
	{ "help", ctl_cmd_help, "", "this text" },
};

#define CTL_NUM_CMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void ctl_usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: %s [-j|--json] [-p|--pretty] COMMAND [ARGS...]\n\n",
		CTL_PROG);
	for (i = 0; i < CTL_NUM_CMDS; i++)
		fprintf(out, "  %-8s %s\n", ctl_cmds[i].name, ctl_cmds[i].help);
	fprintf(out, "\nSee overlayctl(8); '%s help COMMAND' shows its arguments.\n",
		CTL_PROG);
}

void ctl_usage_of(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NUM_CMDS; i++)
		if (!strcmp(ctl_cmds[i].name, name))
			fprintf(stderr, "Usage: %s %s %s\n", CTL_PROG, name,
				ctl_cmds[i].usage);
}

static int ctl_cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		ctl_usage_of(argv[1]);
		return CTL_EXIT_OK;
	}
	ctl_usage(stdout);
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t c;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("%s %s\n", CTL_PROG, RWL_VERSION);
			return CTL_EXIT_OK;
		}
		if (!ctl_global_opt(argv[i])) {
			ctl_err("unknown option '%s'", argv[i]);
			ctl_usage(stderr);
			return CTL_EXIT_ERROR;
		}
		i++;
	}
	if (i == argc) {
		ctl_usage(stderr);
		return CTL_EXIT_ERROR;
	}
	for (c = 0; c < CTL_NUM_CMDS; c++)
		if (!strcmp(ctl_cmds[c].name, argv[i]))
			return ctl_cmds[c].fn(argc - i, argv + i);
	ctl_err("unknown command '%s'; try '%s help'", argv[i], CTL_PROG);
	return CTL_EXIT_ERROR;
}
