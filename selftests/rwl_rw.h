/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for writable rwlayer mounts: a lower tree, an upper and a work
 * directory on one tmpfs, and an rwlayer over them with optional rules.
 * Layout under env->base (all paths in struct rwl_rw):
 *
 *   lower/           the read-only layer the test fills before mounting
 *   rw/              a tmpfs (size from rwl_rw_init) holding upper/ and work/
 *   mnt/             the rwlayer mount
 */
#ifndef RWL_RW_H
#define RWL_RW_H

#include "rwl_util.h"

struct rwl_rw {
	char lower[RWL_PATH];
	char rw[RWL_PATH];
	char upper[RWL_PATH];
	char work[RWL_PATH];
	char mnt[RWL_PATH];
};

/* Create lower/ (a plain directory on the env's tmpfs) and the rw tmpfs. */
static inline int rwl_rw_init(struct rwl_env *env, struct rwl_rw *rw,
			      const char *rw_tmpfs_opts)
{
	int err;

	rwl_pathf(rw->lower, "%s/lower", env->base);
	rwl_pathf(rw->rw, "%s/rw", env->base);
	rwl_pathf(rw->upper, "%s/rw/upper", env->base);
	rwl_pathf(rw->work, "%s/rw/work", env->base);
	rwl_pathf(rw->mnt, "%s/mnt", env->base);
	err = rwl_mkdir(rw->lower, 0755);
	if (!err)
		err = rwl_mount_tmpfs(env, rw->rw, rw_tmpfs_opts);
	if (!err)
		err = rwl_mkdir(rw->upper, 0755);
	if (!err)
		err = rwl_mkdir(rw->work, 0755);
	return err;
}

/*
 * Mount rwlayer on rw->mnt with lower, upper and work, plus @extra
 * (e.g. "rule=/var:union,rule=/tmp:empty"; NULL or "" for none).
 * Returns 0 or the mount's -errno, quietly.
 */
static inline int rwl_rw_mount(struct rwl_env *env, struct rwl_rw *rw,
			       const char *extra)
{
	char data[4096];
	int n;

	n = snprintf(data, sizeof(data), "lower=%s,upper=%s,work=%s%s%s",
		     rw->lower, rw->upper, rw->work,
		     extra && *extra ? "," : "", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(data))
		return -ENAMETOOLONG;
	return rwl_mount(env, rw->mnt, 0, data);
}

#endif /* RWL_RW_H */
