// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the overlaytab parser: any input either parses
 * into a well-formed table with no messages, or fails with messages that
 * all name the input and no table.  A broken invariant aborts, which
 * libFuzzer reports as a crash with the input that caused it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tab.h"

#define FUZZ_NAME "fuzz"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_tab: invariant broken: %s\n", what);
	abort();
}

/* Absolute, no empty, "." or ".." component, no trailing '/'. */
static bool path_is_normal(const char *path)
{
	const char *c = path, *end;
	size_t len;

	if (path[0] != '/' || strlen(path) >= RWLAYER_PATH_MAX)
		return false;
	if (!strcmp(path, "/"))
		return true;
	while (*c == '/') {
		c++;
		end = strchrnul(c, '/');
		len = (size_t)(end - c);
		if (!len || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = end;
	}
	return true;
}

static bool path_within(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return len == 1 ||
	       (!strncmp(path, dir, len) && (!path[len] || path[len] == '/'));
}

/* What rwl_tab_parse_buf() promises about a table it returns. */
static void check_table(const struct rwl_tab *tab)
{
	const struct rwl_tab_rule *rule;
	size_t i;

	if (!tab->mount.target || !path_is_normal(tab->mount.target) ||
	    !tab->mount.upper)
		fail("mount target or upper");
	if (tab->num_rules > RWL_TAB_MAX_RULES ||
	    tab->mount.num_lowers > RWL_TAB_MAX_LOWERS)
		fail("too many rules or lowers");
	for (i = 0; i < tab->mount.num_lowers; i++) {
		if (!path_is_normal(tab->mount.lowers[i]))
			fail("lower not normalized");
	}
	for (i = 0; i < tab->num_rules; i++) {
		rule = &tab->rules[i];
		if (!path_is_normal(rule->path) ||
		    !path_within(rule->path, tab->mount.target))
			fail("rule path not normalized or outside the mount");
		if (i && strcmp(tab->rules[i - 1].path, rule->path) >= 0)
			fail("rules not sorted or duplicated");
		if (rule->kind < RWLAYER_RULE_UNION || rule->kind > RWLAYER_RULE_FILE)
			fail("kind");
		if (rule->warn > 100 || (rule->warn && !rule->max_bytes &&
					 !rule->max_inodes))
			fail("warn");
		if ((rule->has_mode || rule->has_uid || rule->has_gid) &&
		    rule->kind != RWLAYER_RULE_EMPTY)
			fail("mode/uid/gid on a rule that is not empty");
		if (rule->has_mode && rule->mode > 07777)
			fail("mode");
		if (rwl_tab_find(tab, rule->path) != rule)
			fail("rwl_tab_find");
		if (strcmp(rule->file, FUZZ_NAME) || !rule->line ||
		    !rule->column)
			fail("rule origin");
	}
}

static void check_diag(const struct rwl_tab_diag *diag)
{
	size_t i;

	if (!diag->num || diag->num > RWL_TAB_MAX_ERRORS + 1)
		fail("number of messages");
	for (i = 0; i < diag->num; i++) {
		if (strncmp(diag->msgs[i], FUZZ_NAME ":",
			    sizeof(FUZZ_NAME ":") - 1))
			fail("message does not start with the name");
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct rwl_tab_vars vars = {
		.hostname = "pc1",
		.mac = "52:54:00:12:34:56",
		.ip = NULL,
	};
	struct rwl_tab_diag diag;
	struct rwl_tab tab;
	int ret;

	ret = rwl_tab_parse_buf(FUZZ_NAME, (const char *)data, size, &vars,
				&tab, &diag);
	if (ret == 0) {
		if (diag.num || diag.msgs)
			fail("messages on success");
		check_table(&tab);
	} else if (ret == -1) {
		check_diag(&diag);
		if (tab.num_rules || tab.rules || tab.mount.target ||
		    tab.mount.num_lowers)
			fail("a table after an error");
	} else {
		fail("return value");
	}
	rwl_tab_free(&tab);
	rwl_tab_diag_free(&diag);
	return 0;
}
