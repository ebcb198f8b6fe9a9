// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl: messages, opening the netlink family, and finding mounts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

struct ctl_opts ctl_opts;

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs(CTL_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ctl_nl_err(const struct rwl_nl *nl, int err, const char *fmt, ...)
{
	const char *extack = nl ? rwl_nl_extack(nl) : NULL;
	va_list ap;

	fputs(CTL_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s", strerror(-err));
	if (extack && *extack)
		fprintf(stderr, ": %s", extack);
	else if (err == -EPERM)
		fputs(" (needs CAP_SYS_ADMIN)", stderr);
	fputc('\n', stderr);
}

int ctl_nl_open(struct rwl_nl **nl)
{
	int err = rwl_nl_open(nl);

	if (err == -ENOENT)
		ctl_err("%s (no generic netlink family \"%s\")",
			rwl_nl_missing_family_reason(RWL_NL_SYSFS_MODULE),
			RWLAYER_GENL_NAME);
	else if (err)
		ctl_nl_err(NULL, err, "cannot open a generic netlink socket");
	return err;
}

int ctl_mounts_load(struct rwl_nl *nl, struct ctl_mounts *mounts)
{
	int err;

	memset(mounts, 0, sizeof(*mounts));
	err = rwl_nl_get_mounts(nl, &mounts->kernel);
	if (err) {
		ctl_nl_err(nl, err, "cannot list rwlayer mounts");
		return err;
	}
	err = rwl_mountinfo_read(&mounts->local);
	if (err) {
		ctl_err("cannot read /proc/self/mountinfo: %s", strerror(-err));
		rwl_nl_mount_list_free(&mounts->kernel);
		return err;
	}
	return 0;
}

void ctl_mounts_free(struct ctl_mounts *mounts)
{
	rwl_nl_mount_list_free(&mounts->kernel);
	rwl_mountinfo_list_free(&mounts->local);
}

/*
 * The mountinfo entry of a kernel mount: same st_dev, and the union's own
 * root (a bind mount of a subdirectory shows only part of it).
 */
static const struct rwl_mountinfo *
ctl_local_mount(const struct ctl_mounts *mounts,
		const struct rwl_nl_mount *mount)
{
	const struct rwl_mountinfo *found = NULL;
	size_t i;

	for (i = 0; i < mounts->local.num; i++) {
		const struct rwl_mountinfo *m = &mounts->local.mounts[i];

		if (m->dev_major != mount->dev_major ||
		    m->dev_minor != mount->dev_minor)
			continue;
		if (!found || (!strcmp(m->root, "/") && strcmp(found->root, "/")))
			found = m;
	}
	return found;
}

const char *ctl_mountpoint(const struct ctl_mounts *mounts,
			   const struct rwl_nl_mount *mount)
{
	const struct rwl_mountinfo *m = ctl_local_mount(mounts, mount);

	return m ? m->mountpoint : NULL;
}

const struct rwl_nl_mount *ctl_find_path(const struct ctl_mounts *mounts,
					 const char *path, char **inner)
{
	const struct rwl_mountinfo *m;
	size_t i;

	m = rwl_mountinfo_find_path(&mounts->local, path, inner);
	if (!m) {
		if (errno == ENOENT)
			ctl_err("%s: not on an rwlayer mount", path);
		else
			ctl_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	for (i = 0; i < mounts->kernel.num; i++)
		if (mounts->kernel.mounts[i].dev_major == m->dev_major &&
		    mounts->kernel.mounts[i].dev_minor == m->dev_minor)
			return &mounts->kernel.mounts[i];
	ctl_err("%s: the rwlayer mount at %s (dev %u:%u) is unknown to the module",
		path, m->mountpoint, m->dev_major, m->dev_minor);
	free(*inner);
	*inner = NULL;
	return NULL;
}

char *ctl_system_path(const char *mountpoint, const char *inner)
{
	char *path;

	if (!strcmp(mountpoint, "/"))
		return strdup(inner);
	if (!strcmp(inner, "/"))
		return strdup(mountpoint);
	if (asprintf(&path, "%s%s", mountpoint, inner) < 0)
		return NULL;
	return path;
}

bool ctl_global_opt(const char *arg)
{
	if (!strcmp(arg, "-j") || !strcmp(arg, "--json")) {
		ctl_opts.json = true;
		return true;
	}
	if (!strcmp(arg, "-p") || !strcmp(arg, "--pretty")) {
		ctl_opts.pretty = true;
		return true;
	}
	return false;
}
