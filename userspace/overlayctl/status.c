// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl status [PATH] and overlayctl list.
 *
 * status prints one row per rule and ends with the most severe exit code
 * that applies (1 before 2 before 3 before 4), so it can serve as a
 * health check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmt.h"

/* Where a rule counts as nearly full when it has no warn= of its own. */
#define CTL_DEFAULT_WARN 90

/* Whether @used is at least @percent % of a non-zero @limit. */
static bool ctl_at_level(uint64_t used, uint64_t limit, unsigned int percent)
{
	return limit &&
	       (unsigned __int128)used * 100 >= (unsigned __int128)limit * percent;
}

static unsigned int ctl_warn_level(const struct rwl_nl_rule *rule)
{
	return rule->warn ? rule->warn : CTL_DEFAULT_WARN;
}

bool ctl_rule_over_warn(const struct rwl_nl_rule *rule)
{
	unsigned int level = ctl_warn_level(rule);

	return ctl_at_level(rule->bytes, rule->max_bytes, level) ||
	       ctl_at_level(rule->inodes, rule->max_inodes, level);
}

void ctl_json_rule(struct rwl_json *j, const struct rwl_nl_rule *rule)
{
	rwl_json_obj_begin(j);
	rwl_json_kv_str(j, "path", rule->path);
	rwl_json_kv_str(j, "kind", rwl_nl_kind_name(rule->kind));
	rwl_json_kv_u64(j, "bytes", rule->bytes);
	rwl_json_kv_u64(j, "max_bytes", rule->max_bytes);
	rwl_json_kv_u64(j, "inodes", rule->inodes);
	rwl_json_kv_u64(j, "max_inodes", rule->max_inodes);
	rwl_json_kv_u64(j, "warn", rule->warn);
	rwl_json_kv_bool(j, "over_warn", ctl_rule_over_warn(rule));
	rwl_json_kv_u64(j, "copy_ups", rule->copy_ups);
	rwl_json_kv_u64(j, "copy_up_bytes", rule->copy_up_bytes);
	rwl_json_kv_u64(j, "whiteouts", rule->whiteouts);
	rwl_json_kv_u64(j, "errors", rule->errors);
	rwl_json_kv_u64(j, "open_files", rule->open_files);
	if (rule->has_mode)
		rwl_json_kv_u64(j, "mode", rule->mode);
	if (rule->has_uid)
		rwl_json_kv_u64(j, "uid", rule->uid);
	if (rule->has_gid)
		rwl_json_kv_u64(j, "gid", rule->gid);
	rwl_json_obj_end(j);
}

/* ---- status ---- */

enum { COL_MOUNT, COL_RULE, COL_KIND, COL_USED, COL_INODES, COL_COPY_UPS,
       COL_WHITEOUTS, NUM_COLS };

static const char *const ctl_status_heads[NUM_COLS] = {
	"MOUNT", "RULE", "KIND", "USED/LIMIT", "INODES", "COPY-UPS",
	"WHITEOUTS",
};

/* Right-aligned columns: the numbers. */
static const bool ctl_status_right[NUM_COLS] = {
	[COL_USED] = true, [COL_INODES] = true, [COL_COPY_UPS] = true,
	[COL_WHITEOUTS] = true,
};

struct ctl_status_row {
	char *cells[NUM_COLS];
};

/* One selected mount with its rules. */
struct ctl_status_mount {
	const struct rwl_nl_mount *mount;
	const char *mountpoint;		/* NULL: not in this namespace */
	struct rwl_nl_rule_list rules;
	bool *shown;			/* per rule: matches PATH */
};

struct ctl_status {
	struct ctl_status_mount *mounts;
	size_t num_mounts;
	int exit_code;
};

static void ctl_status_worse(struct ctl_status *st, int code)
{
	if (code && (!st->exit_code || code < st->exit_code))
		st->exit_code = code;
}

static char *ctl_ratio(uint64_t used, uint64_t limit,
		       char *(*fmt)(char *, uint64_t))
{
	char a[RWL_FMT_LEN], b[RWL_FMT_LEN];
	char *out;

	if (asprintf(&out, "%s/%s", fmt(a, used), limit ? fmt(b, limit) : "-") < 0)
		return NULL;
	return out;
}

static char *ctl_count(uint64_t n)
{
	char buf[RWL_FMT_LEN];

	return strdup(rwl_fmt_count(buf, n));
}

static int ctl_status_row_fill(struct ctl_status_row *row, const char *mountpoint,
			       const struct rwl_nl_rule *rule)
{
	size_t i;

	row->cells[COL_MOUNT] = strdup(mountpoint);
	if (rule) {
		const char *kind = rwl_nl_kind_name(rule->kind);

		row->cells[COL_RULE] = strdup(rule->path);
		row->cells[COL_KIND] = strdup(kind ? kind : "?");
		row->cells[COL_USED] = ctl_ratio(rule->bytes, rule->max_bytes,
						 rwl_fmt_size);
		row->cells[COL_INODES] = ctl_ratio(rule->inodes, rule->max_inodes,
						   rwl_fmt_count);
		row->cells[COL_COPY_UPS] = ctl_count(rule->copy_ups);
		row->cells[COL_WHITEOUTS] = ctl_count(rule->whiteouts);
	} else {
		for (i = COL_RULE; i < NUM_COLS; i++)
			row->cells[i] = strdup("-");
	}
	for (i = 0; i < NUM_COLS; i++)
		if (!row->cells[i])
			return -ENOMEM;
	return 0;
}

static void ctl_status_rows_free(struct ctl_status_row *rows, size_t num)
{
	size_t i, c;

	for (i = 0; i < num; i++)
		for (c = 0; c < NUM_COLS; c++)
			free(rows[i].cells[c]);
	free(rows);
}

static void ctl_status_print_row(char *const *cells, const size_t *width)
{
	size_t c;

	for (c = 0; c < NUM_COLS; c++) {
		const char *sep = c + 1 < NUM_COLS ? "  " : "\n";

		if (ctl_status_right[c])
			printf("%*s%s", (int)width[c], cells[c], sep);
		else if (c + 1 < NUM_COLS)
			printf("%-*s%s", (int)width[c], cells[c], sep);
		else
			printf("%s%s", cells[c], sep);
	}
}

static void ctl_status_print_table(const struct ctl_status_row *rows,
				   size_t num)
{
	size_t width[NUM_COLS];
	size_t i, c;

	for (c = 0; c < NUM_COLS; c++)
		width[c] = strlen(ctl_status_heads[c]);
	for (i = 0; i < num; i++)
		for (c = 0; c < NUM_COLS; c++)
			if (strlen(rows[i].cells[c]) > width[c])
				width[c] = strlen(rows[i].cells[c]);
	ctl_status_print_row((char *const *)ctl_status_heads, width);
	for (i = 0; i < num; i++)
		ctl_status_print_row(rows[i].cells, width);
}

static const char *ctl_status_mountpoint(const struct ctl_status_mount *sm)
{
	return sm->mountpoint ? sm->mountpoint : "?";
}

/* The notes under the table: read-only mounts and rules over warn. */
static void ctl_status_print_notes(const struct ctl_status *st)
{
	size_t m, r;

	for (m = 0; m < st->num_mounts; m++) {
		const struct ctl_status_mount *sm = &st->mounts[m];

		if (sm->mount->read_only)
			printf("%s: read-only mount (no upper layer)\n",
			       ctl_status_mountpoint(sm));
		for (r = 0; r < sm->rules.num; r++) {
			const struct rwl_nl_rule *rule = &sm->rules.rules[r];

			if (!sm->shown[r] || !ctl_rule_over_warn(rule))
				continue;
			printf("%s: rule %s is at %u%% or more of a limit\n",
			       ctl_status_mountpoint(sm), rule->path,
			       ctl_warn_level(rule));
		}
	}
}

static int ctl_status_text(const struct ctl_status *st)
{
	struct ctl_status_row *rows = NULL;
	size_t num = 0, m, r;
	int err = 0;

	for (m = 0; m < st->num_mounts; m++)
		num += st->mounts[m].rules.num + 1;
	rows = calloc(num, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	num = 0;
	for (m = 0; m < st->num_mounts && !err; m++) {
		const struct ctl_status_mount *sm = &st->mounts[m];
		size_t shown = 0;

		for (r = 0; r < sm->rules.num && !err; r++) {
			if (!sm->shown[r])
				continue;
			err = ctl_status_row_fill(&rows[num++], ctl_status_mountpoint(sm),
						  &sm->rules.rules[r]);
			shown++;
		}
		if (!shown && !err)
			err = ctl_status_row_fill(&rows[num++],
						  ctl_status_mountpoint(sm), NULL);
	}
	if (!err) {
		ctl_status_print_table(rows, num);
		ctl_status_print_notes(st);
	}
	ctl_status_rows_free(rows, num);
	return err;
}

static void ctl_status_json(const struct ctl_status *st)
{
	struct rwl_json j;
	size_t m, r;

	rwl_json_init(&j, stdout, ctl_opts.pretty);
	rwl_json_obj_begin(&j);
	rwl_json_key(&j, "mounts");
	rwl_json_arr_begin(&j);
	for (m = 0; m < st->num_mounts; m++) {
		const struct ctl_status_mount *sm = &st->mounts[m];

		rwl_json_obj_begin(&j);
		rwl_json_kv_u64(&j, "id", sm->mount->id);
		rwl_json_kv_str(&j, "mountpoint", sm->mountpoint);
		rwl_json_kv_bool(&j, "read_only", sm->mount->read_only);
		rwl_json_key(&j, "rules");
		rwl_json_arr_begin(&j);
		for (r = 0; r < sm->rules.num; r++)
			if (sm->shown[r])
				ctl_json_rule(&j, &sm->rules.rules[r]);
		rwl_json_arr_end(&j);
		rwl_json_obj_end(&j);
	}
	rwl_json_arr_end(&j);
	rwl_json_kv_u64(&j, "exit_status", st->exit_code);
	rwl_json_obj_end(&j);
	rwl_json_finish(&j);
}

/*
 * With a PATH inside the mount (@inner not "/"): the rule that governs it
 * (the longest rule path that is @inner or an ancestor) and the rules
 * nested below it.  Else every rule.
 */
static void ctl_status_select(struct ctl_status_mount *sm, const char *inner)
{
	size_t r, best = SIZE_MAX, best_len = 0;

	for (r = 0; r < sm->rules.num; r++) {
		const char *path = sm->rules.rules[r].path;
		char *below;

		if (!inner || !strcmp(inner, "/")) {
			sm->shown[r] = true;
			continue;
		}
		below = rwl_path_below(path, inner);
		sm->shown[r] = below != NULL;
		free(below);
		below = rwl_path_below(inner, path);
		if (below && strlen(path) >= best_len) {
			best = r;
			best_len = strlen(path);
		}
		free(below);
	}
	if (best != SIZE_MAX)
		sm->shown[best] = true;
}

static int ctl_status_load_mount(struct rwl_nl *nl, const struct ctl_mounts *mounts,
				 const struct rwl_nl_mount *mount,
				 const char *inner, struct ctl_status_mount *sm)
{
	int err;

	sm->mount = mount;
	sm->mountpoint = ctl_mountpoint(mounts, mount);
	err = rwl_nl_get_rules(nl, mount->id, &sm->rules);
	if (err) {
		ctl_nl_err(nl, err, "cannot read the rules of mount %u", mount->id);
		return err;
	}
	sm->shown = calloc(sm->rules.num + 1, sizeof(*sm->shown));
	if (!sm->shown)
		return -ENOMEM;
	ctl_status_select(sm, inner);
	return 0;
}

static void ctl_status_judge(struct ctl_status *st)
{
	size_t m, r;

	for (m = 0; m < st->num_mounts; m++) {
		const struct ctl_status_mount *sm = &st->mounts[m];

		if (sm->mount->read_only)
			ctl_status_worse(st, CTL_EXIT_READ_ONLY);
		for (r = 0; r < sm->rules.num; r++)
			if (sm->shown[r] && ctl_rule_over_warn(&sm->rules.rules[r]))
				ctl_status_worse(st, CTL_EXIT_WARN);
	}
}

static void ctl_status_free(struct ctl_status *st)
{
	size_t m;

	for (m = 0; m < st->num_mounts; m++) {
		rwl_nl_rule_list_free(&st->mounts[m].rules);
		free(st->mounts[m].shown);
	}
	free(st->mounts);
}

/* Load the mounts to show: the one holding @path, or all. */
static int ctl_status_load(struct rwl_nl *nl, const struct ctl_mounts *mounts,
			   const char *path, struct ctl_status *st)
{
	const struct rwl_nl_mount *only = NULL;
	char *inner = NULL;
	size_t m;
	int err = 0;

	if (path) {
		only = ctl_find_path(mounts, path, &inner);
		if (!only)
			return CTL_EXIT_NO_MOUNT;
	}
	st->mounts = calloc(mounts->kernel.num + 1, sizeof(*st->mounts));
	if (!st->mounts) {
		free(inner);
		return CTL_EXIT_ERROR;
	}
	for (m = 0; m < mounts->kernel.num && !err; m++) {
		const struct rwl_nl_mount *mount = &mounts->kernel.mounts[m];

		if (only && mount != only)
			continue;
		err = ctl_status_load_mount(nl, mounts, mount, inner,
					    &st->mounts[st->num_mounts++]);
	}
	free(inner);
	return err ? CTL_EXIT_ERROR : 0;
}

int ctl_cmd_status(int argc, char **argv)
{
	struct ctl_status st = { 0 };
	struct ctl_mounts mounts;
	const char *path = NULL;
	struct rwl_nl *nl;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (ctl_global_opt(argv[i]))
			continue;
		if (path || argv[i][0] == '-') {
			ctl_usage_of(argv[0]);
			return CTL_EXIT_ERROR;
		}
		path = argv[i];
	}
	if (ctl_nl_open(&nl))
		return CTL_EXIT_ERROR;
	if (ctl_mounts_load(nl, &mounts)) {
		rwl_nl_close(nl);
		return CTL_EXIT_ERROR;
	}
	ret = ctl_status_load(nl, &mounts, path, &st);
	if (!ret && !mounts.kernel.num) {
		ctl_err("no rwlayer mounts");
		ret = CTL_EXIT_NO_MOUNT;
	}
	if (!ret) {
		ctl_status_judge(&st);
		if (ctl_opts.json)
			ctl_status_json(&st);
		else if (ctl_status_text(&st))
			st.exit_code = CTL_EXIT_ERROR;
		ret = st.exit_code;
	}
	ctl_status_free(&st);
	ctl_mounts_free(&mounts);
	rwl_nl_close(nl);
	return ret;
}

/* ---- list ---- */

static void ctl_list_json(const struct ctl_mounts *mounts)
{
	struct rwl_json j;
	size_t m, l;

	rwl_json_init(&j, stdout, ctl_opts.pretty);
	rwl_json_arr_begin(&j);
	for (m = 0; m < mounts->kernel.num; m++) {
		const struct rwl_nl_mount *mount = &mounts->kernel.mounts[m];
		char dev[32];

		snprintf(dev, sizeof(dev), "%u:%u", mount->dev_major,
			 mount->dev_minor);
		rwl_json_obj_begin(&j);
		rwl_json_kv_u64(&j, "id", mount->id);
		rwl_json_kv_str(&j, "mountpoint", ctl_mountpoint(mounts, mount));
		rwl_json_kv_str(&j, "dev", dev);
		rwl_json_key(&j, "lowers");
		rwl_json_arr_begin(&j);
		for (l = 0; l < mount->num_lowers; l++)
			rwl_json_str(&j, mount->lowers[l]);
		rwl_json_arr_end(&j);
		rwl_json_kv_str(&j, "upper", mount->upper);
		rwl_json_kv_str(&j, "work", mount->work);
		rwl_json_kv_str(&j, "options", mount->options);
		rwl_json_kv_bool(&j, "read_only", mount->read_only);
		rwl_json_kv_u64(&j, "num_rules", mount->num_rules);
		rwl_json_obj_end(&j);
	}
	rwl_json_arr_end(&j);
	rwl_json_finish(&j);
}

static void ctl_list_text(const struct ctl_mounts *mounts)
{
	size_t m, l;

	for (m = 0; m < mounts->kernel.num; m++) {
		const struct rwl_nl_mount *mount = &mounts->kernel.mounts[m];
		const char *where = ctl_mountpoint(mounts, mount);

		printf("%u: %s (dev %u:%u)%s, %u rule%s\n", mount->id,
		       where ? where : "(not in this mount namespace)",
		       mount->dev_major, mount->dev_minor,
		       mount->read_only ? ", read-only" : "", mount->num_rules,
		       mount->num_rules == 1 ? "" : "s");
		printf("    lowers  ");
		for (l = 0; l < mount->num_lowers; l++)
			printf("%s%s", l ? ":" : "", mount->lowers[l]);
		printf("\n    upper   %s\n", mount->upper ? mount->upper : "-");
		printf("    work    %s\n", mount->work ? mount->work : "-");
		printf("    options %s\n", mount->options ? mount->options : "-");
	}
}

int ctl_cmd_list(int argc, char **argv)
{
	struct ctl_mounts mounts;
	struct rwl_nl *nl;
	int i;

	for (i = 1; i < argc; i++) {
		if (!ctl_global_opt(argv[i])) {
			ctl_usage_of(argv[0]);
			return CTL_EXIT_ERROR;
		}
	}
	if (ctl_nl_open(&nl))
		return CTL_EXIT_ERROR;
	if (ctl_mounts_load(nl, &mounts)) {
		rwl_nl_close(nl);
		return CTL_EXIT_ERROR;
	}
	if (ctl_opts.json)
		ctl_list_json(&mounts);
	else
		ctl_list_text(&mounts);
	ctl_mounts_free(&mounts);
	rwl_nl_close(nl);
	return CTL_EXIT_OK;
}
