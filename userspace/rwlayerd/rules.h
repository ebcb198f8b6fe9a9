/* SPDX-License-Identifier: GPL-2.0 */
/* The overlaytab and the kernel's rules: load, compare, apply; logged. */
#ifndef RWLD_RULES_H
#define RWLD_RULES_H

#include "mount.h"
#include "nl.h"
#include "tab.h"

/*
 * Load @config (and @config.d/).  Returns 0, or -1 with every
 * diagnostic logged as "file:line:col: message" and @tab left empty.
 */
int rwld_rules_load(const char *config, const struct rwl_tab_vars *vars,
		    struct rwl_tab *tab);

/*
 * Make mount @m's rules what @tab says: log the plan (each step at
 * LOG_NOTICE, prefixed with @why: "start", "reload", "resync") and run it
 * all or nothing.  Returns 0 or -errno (logged; the kernel's rules are
 * then as before).
 */
int rwld_rules_apply(struct rwl_nl *nl, const struct rwl_tab *tab,
		     const struct rwld_mount *m, const char *why);

/* Log each line of @text at @priority after "@prefix". */
void rwld_log_lines(int priority, const char *prefix, const char *text);

#endif /* RWLD_RULES_H */
