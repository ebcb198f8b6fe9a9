// SPDX-License-Identifier: GPL-2.0
/*
 * Mount options.  Every rejection says why through the fs_context log, so
 * fsopen() users read it back and mount(8) users find it in the kernel log.
 * A rejected option leaves the context exactly as it was.
 */
#include <linux/fs_parser.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "rwlayer.h"

enum rwl_opt {
	RWL_OPT_LOWER,
	RWL_OPT_UPPER,
	RWL_OPT_WORK,
	RWL_OPT_RULE,
	RWL_OPT_HELP,
};

/* Empty values are let through so that the setters can say what is wrong. */
const struct fs_parameter_spec rwl_fs_parameters[] = {
	__fsparam(fs_param_is_string, "lower", RWL_OPT_LOWER,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "upper", RWL_OPT_UPPER,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "work", RWL_OPT_WORK,
		  fs_param_can_be_empty, NULL),
	__fsparam(fs_param_is_string, "rule", RWL_OPT_RULE,
		  fs_param_can_be_empty, NULL),
	fsparam_flag("help", RWL_OPT_HELP),
	{}
};

static const char *const rwl_help[] = {
	"usage: lower=DIR[:DIR...][,upper=DIR,work=DIR][,rule=...]...",
	"lower: read-only layers, top first; \\: is a colon in a path",
	"upper: writable layer (tmpfs, ext4, xfs, btrfs); work: empty dir on its filesystem",
	"rule=PATH:KIND[:size=BYTES][:inodes=COUNT], once per rule",
	"KIND: union (writes copy up), empty (starts empty), file (one name)",
	"BYTES: K M G T suffixes; COUNT: k m suffixes; outside rules: EROFS",
	"no rule= with upper=: the whole mount is writable",
	"rule=none: nothing writable until rules come over netlink (overlayctl)",
};

/*
 * Cut the next element off a ':'-separated list (lower=, rule=) in place.  "\:" stands
 * for a ':' inside a path and "\\" for a backslash.  Returns the element
 * and advances *cursor past it, or NULL at the end of the list.
 */
static char *rwl_next_field(char **cursor)
{
	char *start = *cursor, *src = start, *dst = start;

	if (!start)
		return NULL;
	for (;;) {
		if (*src == '\\' && (src[1] == ':' || src[1] == '\\')) {
			src++;
		} else if (*src == ':' || *src == '\0') {
			*cursor = *src ? src + 1 : NULL;
			*dst = '\0';
			return start;
		}
		*dst++ = *src++;
	}
}

static int rwl_resolve_dir(struct fs_context *fc, const char *opt,
			   const char *name, struct path *path)
{
	int depth, err;

	err = kern_path(name, LOOKUP_FOLLOW, path);
	if (err) {
		errorfc(fc, "%s=%s: cannot resolve the path (%pe)", opt, name,
			ERR_PTR(err));
		return err;
	}

	err = -EINVAL;
	if (!d_is_dir(path->dentry)) {
		errorfc(fc, "%s=%s: not a directory", opt, name);
		goto out_put;
	}
	depth = path->mnt->mnt_sb->s_stack_depth + 1;
	if (depth > FILESYSTEM_MAX_STACK_DEPTH) {
		errorfc(fc, "%s=%s: stack too deep (%d stacked filesystems, at most %d)",
			opt, name, depth, FILESYSTEM_MAX_STACK_DEPTH);
		goto out_put;
	}
	return 0;

out_put:
	path_put(path);
	return err;
}

/* Resolve the whole list into @paths; on error nothing stays referenced. */
static int rwl_parse_lower(struct fs_context *fc, char *list,
			   struct path *paths, unsigned int *num)
{
	char *cursor = list, *name;
	unsigned int n = 0;
	int err;

	while ((name = rwl_next_field(&cursor))) {
		err = -EINVAL;
		if (n == RWL_MAX_LOWER) {
			errorfc(fc, "lower=: too many layers (at most %d)",
				RWL_MAX_LOWER);
			goto out_put;
		}
		err = -EINVAL;
		if (!*name) {
			errorfc(fc, "lower=: empty path in the list");
			goto out_put;
		}
		err = rwl_resolve_dir(fc, "lower", name, &paths[n]);
		if (err)
			goto out_put;
		n++;
	}
	*num = n;
	return 0;

out_put:
	while (n--)
		path_put(&paths[n]);
	return err;
}

static int rwl_set_lower(struct fs_context *fc, struct fs_parameter *param)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct path *paths;
	unsigned int num;
	char *list;
	int err;

	if (ctx->lower_spec)
		return invalfc(fc, "duplicate lower= option");
	if (!*param->string)
		return invalfc(fc, "lower=: empty list of directories");

	err = -ENOMEM;
	list = kstrdup(param->string, GFP_KERNEL);
	paths = kcalloc(RWL_MAX_LOWER, sizeof(*paths), GFP_KERNEL);
	if (!list || !paths)
		goto out_free;

	err = rwl_parse_lower(fc, list, paths, &num);
	if (err)
		goto out_free;

	memcpy(ctx->lower, paths, num * sizeof(*paths));
	ctx->num_lower = num;
	ctx->lower_spec = param->string;
	param->string = NULL;
	err = 0;
out_free:
	kfree(paths);
	kfree(list);
	return err;
}

/* upper= and work=: one directory each, given once. */
static int rwl_set_dir(struct fs_context *fc, struct fs_parameter *param,
		       struct path *path, char **spec)
{
	struct path dir;
	int err;

	if (*spec)
		return invalfc(fc, "duplicate %s= option", param->key);
	if (!*param->string)
		return invalfc(fc, "%s=: empty path", param->key);

	err = rwl_resolve_dir(fc, param->key, param->string, &dir);
	if (err)
		return err;
	if (__mnt_is_readonly(dir.mnt)) {
		path_put(&dir);
		return invalfc(fc, "%s=%s: read-only", param->key,
			       param->string);
	}
	*path = dir;
	*spec = param->string;
	param->string = NULL;
	return 0;
}

/*
 * A rule path is absolute and normalized, so that it names exactly one
 * chain of components.  Returns what is wrong with it, or NULL.
 */
const char *rwl_rule_path_problem(const char *path)
{
	const char *c = path, *name;
	size_t len;

	if (*path != '/')
		return "the path must be absolute";
	if (strlen(path) >= PATH_MAX)
		return "the path is too long";
	if (!strcmp(path, "/"))
		return NULL;
	while ((len = rwl_path_next(&c, &name))) {
		if ((len == 1 && name[0] == '.') ||
		    (len == 2 && name[0] == '.' && name[1] == '.'))
			return ". and .. are not allowed in a rule path";
		if (len > NAME_MAX)
			return "a path component is longer than NAME_MAX (255)";
	}
	if (*c)
		return "empty path component (// or a trailing /)";
	return NULL;
}

static int rwl_parse_kind(struct fs_context *fc, const char *spec,
			  const char *kind, enum rwl_rule_kind *out)
{
	if (!strcmp(kind, "union"))
		*out = RWL_RULE_UNION;
	else if (!strcmp(kind, "empty"))
		*out = RWL_RULE_EMPTY;
	else if (!strcmp(kind, "file"))
		*out = RWL_RULE_FILE;
	else if (!*kind)
		return invalfc(fc, "rule=%s: missing kind (union, empty or file)",
			      spec);
	else
		return invalfc(fc, "rule=%s: unknown kind '%s' (union, empty or file)",
			      spec, kind);
	return 0;
}

/* A positive number with an optional suffix from @suffixes (x@base^n). */
static int rwl_parse_limit(struct fs_context *fc, const char *spec,
			   const char *key, const char *text,
			   const char *suffixes, u64 base, u64 *out)
{
	char digits[24];
	size_t n = strspn(text, "0123456789");
	const char *unit;
	u64 value;
	int i;

	if (!n || n >= sizeof(digits))
		return invalfc(fc, "rule=%s: %s= wants a positive number", spec,
			      key);
	memcpy(digits, text, n);
	digits[n] = '\0';
	if (kstrtou64(digits, 10, &value))
		return invalfc(fc, "rule=%s: %s= is too large", spec, key);
	if (text[n]) {
		unit = text[n + 1] ? NULL : strchr(suffixes, text[n]);
		if (!unit)
			return invalfc(fc, "rule=%s: %s= has a bad suffix (one of %s)",
				      spec, key, suffixes);
		for (i = 0; i <= unit - suffixes; i++) {
			if (check_mul_overflow(value, base, &value))
				return invalfc(fc, "rule=%s: %s= is too large",
					      spec, key);
		}
	}
	if (!value)
		return invalfc(fc, "rule=%s: %s= must be positive (leave it out for no limit)",
			      spec, key);
	if (value > RWL_LIMIT_MAX)
		return invalfc(fc, "rule=%s: %s= is too large (at most 2^60)",
			      spec, key);
	*out = value;
	return 0;
}

static int rwl_parse_rule_option(struct fs_context *fc, const char *spec,
				 char *opt, struct rwl_rule_spec *rule)
{
	char *value = strchr(opt, '=');

	if (!value)
		return invalfc(fc, "rule=%s: '%s' is not size=BYTES or inodes=COUNT",
			      spec, opt);
	*value++ = '\0';
	if (!strcmp(opt, "size")) {
		if (rule->max_bytes)
			return invalfc(fc, "rule=%s: size= given twice", spec);
		return rwl_parse_limit(fc, spec, "size", value, "KMGT", 1024,
				       &rule->max_bytes);
	}
	if (!strcmp(opt, "inodes")) {
		if (rule->max_inodes)
			return invalfc(fc, "rule=%s: inodes= given twice", spec);
		return rwl_parse_limit(fc, spec, "inodes", value, "km", 1000,
				       &rule->max_inodes);
	}
	return invalfc(fc, "rule=%s: unknown rule option '%s' (size or inodes)",
		      spec, opt);
}

static int rwl_parse_rule(struct fs_context *fc, const char *spec, char *text,
			  struct rwl_rule_spec *rule)
{
	char *cursor = text, *path, *kind, *opt;
	const char *problem;
	int err;

	path = rwl_next_field(&cursor);
	problem = rwl_rule_path_problem(path);
	if (problem)
		return invalfc(fc, "rule=%s: %s", spec, problem);
	kind = rwl_next_field(&cursor);
	err = rwl_parse_kind(fc, spec, kind ?: "", &rule->kind);
	if (err)
		return err;
	if (!strcmp(path, "/") && rule->kind != RWL_RULE_UNION)
		return invalfc(fc, "rule=%s: the root can only be a union rule",
			       spec);
	while ((opt = rwl_next_field(&cursor))) {
		err = rwl_parse_rule_option(fc, spec, opt, rule);
		if (err)
			return err;
	}
	rule->path = kstrdup(path, GFP_KERNEL);
	return rule->path ? 0 : -ENOMEM;
}

static int rwl_add_rule(struct fs_context *fc, struct fs_parameter *param)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct rwl_rule_spec rule = {};
	unsigned int i;
	char *text;
	int err;

	if (!strcmp(param->string, "none")) {
		if (ctx->num_rules)
			return invalfc(fc, "rule=none: there are other rule= options");
		ctx->no_rules = true;
		return 0;
	}
	if (ctx->no_rules)
		return invalfc(fc, "rule=%s: rule=none was given before", param->string);
	if (ctx->num_rules == RWL_MAX_RULES)
		return invalfc(fc, "rule=%s: too many rules (at most %d)",
			      param->string, RWL_MAX_RULES);
	text = kstrdup(param->string, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	err = rwl_parse_rule(fc, param->string, text, &rule);
	kfree(text);
	if (err)
		return err;

	for (i = 0; i < ctx->num_rules; i++) {
		if (!strcmp(ctx->rules[i].path, rule.path)) {
			kfree(rule.path);
			return invalfc(fc, "rule=%s: duplicate rule for %s",
				      param->string, ctx->rules[i].path);
		}
	}
	ctx->rules[ctx->num_rules++] = rule;
	return 0;
}

static int rwl_show_help(struct fs_context *fc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rwl_help); i++)
		infofc(fc, "%s", rwl_help[i]);
	return -EINVAL;
}

int rwl_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct rwl_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, rwl_fs_parameters, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case RWL_OPT_LOWER:
		return rwl_set_lower(fc, param);
	case RWL_OPT_UPPER:
		return rwl_set_dir(fc, param, &ctx->upper, &ctx->upper_spec);
	case RWL_OPT_WORK:
		return rwl_set_dir(fc, param, &ctx->work, &ctx->work_spec);
	case RWL_OPT_RULE:
		return rwl_add_rule(fc, param);
	case RWL_OPT_HELP:
		return rwl_show_help(fc);
	default:
		return -EINVAL;
	}
}

void rwl_fs_context_release(struct rwl_fs_context *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->num_lower; i++)
		path_put(&ctx->lower[i]);
	for (i = 0; i < ctx->num_rules; i++)
		kfree(ctx->rules[i].path);
	path_put(&ctx->upper);
	path_put(&ctx->work);
	kfree(ctx->lower_spec);
	kfree(ctx->upper_spec);
	kfree(ctx->work_spec);
	kfree(ctx);
}
