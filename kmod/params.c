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
};

/* "lower=" is let through so that rwl_set_lower() can say what is wrong. */
const struct fs_parameter_spec rwl_fs_parameters[] = {
	__fsparam(fs_param_is_string, "lower", RWL_OPT_LOWER,
		  fs_param_can_be_empty, NULL),
	{}
};

/*
 * Cut the next element off a ':'-separated list in place.  "\:" stands
 * for a ':' inside a path and "\\" for a backslash.  Returns the element
 * and advances *cursor past it, or NULL at the end of the list.
 */
static char *rwl_next_lower(char **cursor)
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

static int rwl_resolve_lower(struct fs_context *fc, const char *name,
			     struct path *path)
{
	int depth, err;

	if (!*name)
		return invalfc(fc, "lower=: empty path in the list");

	err = kern_path(name, LOOKUP_FOLLOW, path);
	if (err) {
		errorfc(fc, "lower=%s: cannot resolve the path (%pe)", name,
			ERR_PTR(err));
		return err;
	}

	err = -EINVAL;
	if (!d_is_dir(path->dentry)) {
		errorfc(fc, "lower=%s: not a directory", name);
		goto out_put;
	}
	depth = path->mnt->mnt_sb->s_stack_depth + 1;
	if (depth > FILESYSTEM_MAX_STACK_DEPTH) {
		errorfc(fc, "lower=%s: stack too deep (%d stacked filesystems, at most %d)",
			name, depth, FILESYSTEM_MAX_STACK_DEPTH);
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

	while ((name = rwl_next_lower(&cursor))) {
		err = -EINVAL;
		if (n == RWL_MAX_LOWER) {
			errorfc(fc, "lower=: too many layers (at most %d)",
				RWL_MAX_LOWER);
			goto out_put;
		}
		err = rwl_resolve_lower(fc, name, &paths[n]);
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

int rwl_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, rwl_fs_parameters, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case RWL_OPT_LOWER:
		return rwl_set_lower(fc, param);
	default:
		return -EINVAL;
	}
}

void rwl_fs_context_release(struct rwl_fs_context *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->num_lower; i++)
		path_put(&ctx->lower[i]);
	kfree(ctx->lower_spec);
	kfree(ctx);
}
