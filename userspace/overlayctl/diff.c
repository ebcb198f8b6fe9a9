// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl diff PATH: what the upper layer holds under PATH, compared
 * with the lowers, in the manner of docker diff:
 *
 *   A  added: not in any lower;
 *   C  changed: in a lower too (a copied-up or replaced file), or a
 *      directory whose mode, owner or mtime differs from the lower's, or
 *      an opaque directory that hides a lower one;
 *   D  deleted: a whiteout (character device 0/0) in the upper, and each
 *      entry of a lower directory that an opaque directory hides.
 *
 * The upper is read directly (UPPER of GET_MOUNT), so this needs read
 * access to it; the lowers are looked up by path, topmost first.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "ctl.h"

#define CTL_OPAQUE_XATTR "trusted.overlay.opaque"

struct ctl_change {
	char *path;			/* inside the mount */
	char change;			/* 'A', 'C' or 'D' */
};

struct ctl_diff {
	const struct rwl_nl_mount *mount;
	struct ctl_change *changes;
	size_t num, cap;
	int err;			/* first error, reported */
};

/* @dir + @name as a path inside the mount. */
static char *ctl_diff_join(const char *dir, const char *name)
{
	char *path;

	if (asprintf(&path, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name) < 0)
		return NULL;
	return path;
}

/* @inner under @layer (a layer's root directory). */
static char *ctl_diff_layer_path(const char *layer, const char *inner)
{
	char *path;

	if (asprintf(&path, "%s%s", layer, strcmp(inner, "/") ? inner : "") < 0)
		return NULL;
	return path;
}

static void ctl_diff_add(struct ctl_diff *d, const char *path, char change)
{
	struct ctl_change *c;

	if (d->err)
		return;
	if (d->num == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;

		c = reallocarray(d->changes, cap, sizeof(*c));
		if (!c) {
			d->err = -ENOMEM;
			return;
		}
		d->changes = c;
		d->cap = cap;
	}
	c = &d->changes[d->num];
	c->path = strdup(path);
	c->change = change;
	if (!c->path)
		d->err = -ENOMEM;
	else
		d->num++;
}

/* The first lower that has @inner; 0 and *@st, or -ENOENT. */
static int ctl_diff_lower_stat(const struct ctl_diff *d, const char *inner,
			       struct stat *st)
{
	size_t i;

	for (i = 0; i < d->mount->num_lowers; i++) {
		char *path = ctl_diff_layer_path(d->mount->lowers[i], inner);
		int ret;

		if (!path)
			return -ENOMEM;
		ret = lstat(path, st);
		free(path);
		if (!ret)
			return 0;
	}
	return -ENOENT;
}

static bool ctl_diff_is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 &&
	       minor(st->st_rdev) == 0;
}

static bool ctl_diff_is_opaque(const char *upper_path)
{
	char value[2];

	return lgetxattr(upper_path, CTL_OPAQUE_XATTR, value, sizeof(value)) == 1 &&
	       value[0] == 'y';
}

static bool ctl_diff_dir_changed(const struct stat *upper,
				 const struct stat *lower)
{
	return upper->st_mode != lower->st_mode ||
	       upper->st_uid != lower->st_uid || upper->st_gid != lower->st_gid ||
	       upper->st_mtim.tv_sec != lower->st_mtim.tv_sec ||
	       upper->st_mtim.tv_nsec != lower->st_mtim.tv_nsec;
}

/*
 * An opaque directory hides every lower entry of @inner: report those the
 * upper directory @upper_dir does not have itself (they are walked).
 */
static void ctl_diff_hidden(struct ctl_diff *d, const char *inner,
			    const char *upper_dir)
{
	size_t i;

	for (i = 0; i < d->mount->num_lowers && !d->err; i++) {
		char *lower_dir = ctl_diff_layer_path(d->mount->lowers[i], inner);
		struct dirent *de;
		DIR *dir;

		if (!lower_dir) {
			d->err = -ENOMEM;
			return;
		}
		dir = opendir(lower_dir);
		free(lower_dir);
		if (!dir)
			continue;
		while ((de = readdir(dir)) && !d->err) {
			char *upper = NULL, *path = NULL;
			struct stat st;
			size_t k;
			bool seen = false;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			upper = ctl_diff_join(upper_dir, de->d_name);
			path = ctl_diff_join(inner, de->d_name);
			if (!upper || !path)
				d->err = -ENOMEM;
			/* the same name in two lowers is one hidden entry */
			for (k = 0; path && k < d->num && !seen; k++)
				seen = !strcmp(d->changes[k].path, path);
			if (!d->err && !seen && lstat(upper, &st))
				ctl_diff_add(d, path, 'D');
			free(upper);
			free(path);
		}
		closedir(dir);
	}
}

static void ctl_diff_walk(struct ctl_diff *d, const char *inner,
			  const char *upper_dir);

/* One entry of the upper: @inner inside the mount, @upper its path. */
static void ctl_diff_entry(struct ctl_diff *d, const char *inner,
			   const char *upper)
{
	struct stat st, lst;
	int lower;

	if (lstat(upper, &st))
		return;		/* gone since readdir */
	if (ctl_diff_is_whiteout(&st)) {
		ctl_diff_add(d, inner, 'D');
		return;
	}
	lower = ctl_diff_lower_stat(d, inner, &lst);
	if (lower == -ENOMEM) {
		d->err = lower;
		return;
	}
	if (lower) {
		ctl_diff_add(d, inner, 'A');
	} else if (!S_ISDIR(st.st_mode) || !S_ISDIR(lst.st_mode)) {
		ctl_diff_add(d, inner, 'C');
	} else if (ctl_diff_is_opaque(upper)) {
		ctl_diff_add(d, inner, 'C');
		ctl_diff_hidden(d, inner, upper);
	} else if (ctl_diff_dir_changed(&st, &lst)) {
		ctl_diff_add(d, inner, 'C');
	}
	if (S_ISDIR(st.st_mode))
		ctl_diff_walk(d, inner, upper);
}

static void ctl_diff_walk(struct ctl_diff *d, const char *inner,
			  const char *upper_dir)
{
	struct dirent *de;
	DIR *dir;

	dir = opendir(upper_dir);
	if (!dir) {
		ctl_err("diff: cannot read %s: %s", upper_dir, strerror(errno));
		d->err = -errno;
		return;
	}
	while ((de = readdir(dir)) && !d->err) {
		char *path, *upper;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = ctl_diff_join(inner, de->d_name);
		upper = ctl_diff_join(upper_dir, de->d_name);
		if (path && upper)
			ctl_diff_entry(d, path, upper);
		else
			d->err = -ENOMEM;
		free(path);
		free(upper);
	}
	closedir(dir);
}

/*
 * PATH itself: a directory is walked (and, when opaque over a lower one,
 * its hidden lower entries reported), anything else is one entry.
 */
static void ctl_diff_start(struct ctl_diff *d, const char *inner)
{
	char *upper = ctl_diff_layer_path(d->mount->upper, inner);
	struct stat st, lst;

	if (!upper) {
		d->err = -ENOMEM;
		return;
	}
	if (lstat(upper, &st)) {
		if (errno != ENOENT) {
			ctl_err("diff: cannot read %s: %s", upper, strerror(errno));
			d->err = -errno;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		ctl_diff_entry(d, inner, upper);
	} else {
		if (ctl_diff_is_opaque(upper) &&
		    !ctl_diff_lower_stat(d, inner, &lst) && S_ISDIR(lst.st_mode))
			ctl_diff_hidden(d, inner, upper);
		ctl_diff_walk(d, inner, upper);
	}
	free(upper);
}

static int ctl_change_cmp(const void *a, const void *b)
{
	const struct ctl_change *ca = a, *cb = b;

	return strcmp(ca->path, cb->path);
}

static int ctl_diff_print(const struct ctl_diff *d, const char *mountpoint)
{
	struct rwl_json j;
	size_t i;

	if (ctl_opts.json) {
		rwl_json_init(&j, stdout, ctl_opts.pretty);
		rwl_json_arr_begin(&j);
	}
	for (i = 0; i < d->num; i++) {
		char *path = ctl_system_path(mountpoint, d->changes[i].path);
		char change[2] = { d->changes[i].change, '\0' };

		if (!path)
			return -ENOMEM;
		if (ctl_opts.json) {
			rwl_json_obj_begin(&j);
			rwl_json_kv_str(&j, "path", path);
			rwl_json_kv_str(&j, "change", change);
			rwl_json_obj_end(&j);
		} else {
			printf("%s %s\n", change, path);
		}
		free(path);
	}
	if (ctl_opts.json) {
		rwl_json_arr_end(&j);
		rwl_json_finish(&j);
	}
	return 0;
}

int ctl_cmd_diff(int argc, char **argv)
{
	struct ctl_diff d = { 0 };
	struct ctl_mounts mounts;
	const char *path = NULL, *mountpoint;
	struct rwl_nl *nl;
	char *inner = NULL;
	int i, ret = CTL_EXIT_ERROR;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (ctl_global_opt(argv[i]))
			continue;
		if (path || argv[i][0] == '-') {
			ctl_usage_of(argv[0]);
			return CTL_EXIT_ERROR;
		}
		path = argv[i];
	}
	if (!path) {
		ctl_usage_of(argv[0]);
		return CTL_EXIT_ERROR;
	}
	if (ctl_nl_open(&nl))
		return CTL_EXIT_ERROR;
	if (ctl_mounts_load(nl, &mounts))
		goto out_close;
	d.mount = ctl_find_path(&mounts, path, &inner);
	if (!d.mount) {
		ret = CTL_EXIT_NO_MOUNT;
		goto out_mounts;
	}
	if (!d.mount->upper) {
		ctl_err("diff %s: the mount has no upper layer", path);
		goto out_mounts;
	}
	mountpoint = ctl_mountpoint(&mounts, d.mount);
	ctl_diff_start(&d, inner);
	if (d.err == -ENOMEM)
		ctl_err("diff %s: %s", path, strerror(ENOMEM));
	if (!d.err) {
		qsort(d.changes, d.num, sizeof(*d.changes), ctl_change_cmp);
		if (!ctl_diff_print(&d, mountpoint ? mountpoint : "/"))
			ret = CTL_EXIT_OK;
	}
	for (k = 0; k < d.num; k++)
		free(d.changes[k].path);
	free(d.changes);
	free(inner);
out_mounts:
	ctl_mounts_free(&mounts);
out_close:
	rwl_nl_close(nl);
	return ret;
}
