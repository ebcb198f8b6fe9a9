// SPDX-License-Identifier: GPL-2.0
/*
 * The apply engine (lib/apply.h) writes its plan and its errors to a
 * FILE; here they go to memory and then to the log line by line, so
 * each step is one journal entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "log.h"
#include "rules.h"

void rwld_log_lines(int priority, const char *prefix, const char *text)
{
	const char *line = text;

	while (line && *line) {
		size_t len = strcspn(line, "\n");

		rwld_log(priority, "%s%.*s", prefix, (int)len, line);
		line += len;
		if (*line)
			line++;
	}
}

int rwld_rules_load(const char *config, const struct rwl_tab_vars *vars,
		    struct rwl_tab *tab)
{
	struct rwl_tab_diag diag = { 0 };

	memset(tab, 0, sizeof(*tab));
	if (rwl_tab_load(config, vars, tab, &diag) == 0) {
		rwl_tab_diag_free(&diag);
		return 0;
	}
	for (size_t i = 0; i < diag.num; i++)
		rwld_log(LOG_ERR, "%s", diag.msgs[i]);
	if (!diag.num)
		rwld_log(LOG_ERR, "%s: cannot be loaded", config);
	rwl_tab_diag_free(&diag);
	return -1;
}

/* A memory FILE whose text goes to the log when closed. */
struct log_buffer {
	FILE *stream;
	char *text;
	size_t len;
};

static FILE *log_buffer_open(struct log_buffer *b)
{
	b->text = NULL;
	b->stream = open_memstream(&b->text, &b->len);
	return b->stream;
}

static void log_buffer_flush(struct log_buffer *b, int priority,
			     const char *prefix)
{
	if (b->stream)
		fclose(b->stream);
	b->stream = NULL;
	rwld_log_lines(priority, prefix, b->text);
	free(b->text);
	b->text = NULL;
}

static int plan_build(struct rwl_nl *nl, const struct rwl_tab *tab,
		      const struct rwld_mount *m, struct rwl_apply_plan *plan)
{
	struct rwl_nl_rule_list kernel = { 0 };
	struct log_buffer errors;
	int err;

	err = rwl_nl_get_rules(nl, m->id, &kernel);
	if (err < 0) {
		rwld_log(LOG_ERR, "%s: reading the rules of mount %u: %s%s%s",
			 m->path, m->id, strerror(-err),
			 rwl_nl_extack(nl) ? ": " : "",
			 rwl_nl_extack(nl) ? rwl_nl_extack(nl) : "");
		return err;
	}
	if (!log_buffer_open(&errors)) {
		rwl_nl_rule_list_free(&kernel);
		return -ENOMEM;
	}
	err = rwl_apply_plan_build(tab, tab->mount.target, m->id, kernel.rules,
				   kernel.num, plan, errors.stream);
	log_buffer_flush(&errors, LOG_ERR, "");
	rwl_nl_rule_list_free(&kernel);
	return err;
}

int rwld_rules_apply(struct rwl_nl *nl, const struct rwl_tab *tab,
		     const struct rwld_mount *m, const char *why)
{
	struct rwl_apply_plan plan = { 0 };
	struct rwl_apply_result result;
	struct log_buffer out;
	char prefix[64];
	int err;

	err = plan_build(nl, tab, m, &plan);
	if (err < 0)
		return err;
	if (plan.num_steps == 0) {
		rwld_log(LOG_INFO, "%s: %s: the kernel's %zu rules match the table",
			 tab->mount.target, why, tab->num_rules);
		rwl_apply_plan_free(&plan);
		return 0;
	}
	snprintf(prefix, sizeof(prefix), "%s: plan: ", why);
	if (!log_buffer_open(&out)) {
		rwl_apply_plan_free(&plan);
		return -ENOMEM;
	}
	rwl_apply_plan_print(&plan, out.stream);
	log_buffer_flush(&out, LOG_NOTICE, prefix);

	if (!log_buffer_open(&out)) {
		rwl_apply_plan_free(&plan);
		return -ENOMEM;
	}
	err = rwl_apply_execute(&plan, &rwl_apply_nl_ops, nl, "rwlayerd",
				out.stream, &result);
	log_buffer_flush(&out, LOG_ERR, "");
	if (!err)
		rwld_log(LOG_NOTICE, "%s: %s: %zu change%s applied",
			 tab->mount.target, why, result.done,
			 result.done == 1 ? "" : "s");
	rwl_apply_plan_free(&plan);
	return err;
}
