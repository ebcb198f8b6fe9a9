// SPDX-License-Identifier: GPL-2.0
/*
 * Finding or making the union.
 *
 * The union is made with the new mount API (fsopen, fsconfig, fsmount,
 * move_mount; glibc 2.36 has the wrappers): the kernel's explanation of a
 * refused option comes back on the fsopen descriptor, and the lowers are
 * resolved at fsconfig time, before the union covers the target, which
 * is what lets the target itself be the bottom lower.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mount.h"
#include "mounts.h"

#define RWLD_RUN_DIR "/run/rwlayer"

char *rwld_mount_escape(const char *path)
{
	size_t len = strlen(path);
	char *out, *o;

	while (len > 1 && path[len - 1] == '/')
		len--;
	while (len > 1 && *path == '/')
		path++, len--;
	if (len == 1 && *path == '/')
		return strdup("-");
	out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '/')
			*o++ = '-';
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' ||
			 (c == '.' && i > 0) || c == ':')
			*o++ = (char)c;
		else
			o += sprintf(o, "\\x%02x", c);
	}
	*o = '\0';
	return out;
}

int rwld_mount_find(struct rwl_nl *nl, const char *path, struct rwld_mount *m)
{
	struct rwl_mountinfo_list infos = { 0 };
	struct rwl_nl_mount_list mounts = { 0 };
	const struct rwl_mountinfo *info = NULL;
	const struct rwl_nl_mount *found = NULL;
	int err;

	err = rwl_mountinfo_read(&infos);
	if (err < 0) {
		rwld_log(LOG_ERR, "/proc/self/mountinfo: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < infos.num; i++)
		if (!strcmp(infos.mounts[i].mountpoint, path))
			info = &infos.mounts[i];	/* the last is on top */
	err = -ENOENT;
	if (!info)
		goto out;
	err = rwl_nl_get_mounts(nl, &mounts);
	if (err < 0) {
		rwld_log(LOG_ERR, "listing rwlayer mounts: %s%s%s", strerror(-err),
			 rwl_nl_extack(nl) ? ": " : "",
			 rwl_nl_extack(nl) ? rwl_nl_extack(nl) : "");
		goto out;
	}
	for (size_t i = 0; i < mounts.num; i++)
		if (mounts.mounts[i].dev_major == info->dev_major &&
		    mounts.mounts[i].dev_minor == info->dev_minor)
			found = &mounts.mounts[i];
	err = -ENODEV;
	if (!found) {
		rwld_log(LOG_ERR, "%s: mountinfo shows an rwlayer mount (device "
			 "%u:%u) the module does not list", path,
			 info->dev_major, info->dev_minor);
		goto out;
	}
	err = -EROFS;
	if (found->read_only) {
		rwld_log(LOG_ERR, "%s: the rwlayer mount has no upper layer: "
			 "rules need one (remount it with upper= and work=)", path);
		goto out;
	}
	err = -ENOMEM;
	m->path = strdup(path);
	if (!m->path)
		goto out;
	m->id = found->id;
	m->created = false;
	err = 0;
out:
	rwl_nl_mount_list_free(&mounts);
	rwl_mountinfo_list_free(&infos);
	return err;
}

/* Log what the kernel wrote to the fs_context; "e ", "w ", "i " lines. */
static void log_fs_context(int fsfd, const char *path)
{
	char msg[1024];
	ssize_t len;

	while ((len = read(fsfd, msg, sizeof(msg) - 1)) > 0) {
		int priority = msg[0] == 'e' ? LOG_ERR :
			       msg[0] == 'w' ? LOG_WARNING : LOG_INFO;

		msg[len] = '\0';
		rwld_log(priority, "%s: kernel: %s", path,
			 len > 2 && msg[1] == ' ' ? msg + 2 : msg);
	}
}

/* A device upper: mount(2) cannot probe, so try the usable types. */
static int mount_upper_device(const char *dev, const char *fstype,
			      const char *dir)
{
	static const char *const probe[] = { "ext4", "xfs", "btrfs" };

	if (fstype) {
		if (mount(dev, dir, fstype, MS_NOSUID | MS_NODEV, NULL) == 0)
			return 0;
		rwld_log(LOG_ERR, "@upper %s fstype=%s: mount on %s: %m", dev,
			 fstype, dir);
		return -errno;
	}
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		if (mount(dev, dir, probe[i], MS_NOSUID | MS_NODEV, NULL) == 0)
			return 0;
		if (errno != EINVAL && errno != ENODEV)
			break;
	}
	rwld_log(LOG_ERR, "@upper %s: mount on %s: %m (name the type: "
		 "fstype=)", dev, dir);
	return -errno;
}

static int make_subdir(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		rwld_log(LOG_ERR, "mkdir %s: %m", path);
		return -errno;
	}
	return 0;
}

static int mount_upper(const struct rwl_tab_mount *tab, const char *dir)
{
	char options[64];
	struct stat st, parent;
	int err;

	if (mkdir(RWLD_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		rwld_log(LOG_ERR, "mkdir %s: %m", RWLD_RUN_DIR);
		return -errno;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rwld_log(LOG_ERR, "mkdir %s: %m", dir);
		return -errno;
	}
	if (stat(dir, &st) < 0 || stat(RWLD_RUN_DIR, &parent) < 0) {
		rwld_log(LOG_ERR, "stat %s: %m", dir);
		return -errno;
	}
	if (st.st_dev != parent.st_dev) {
		rwld_log(LOG_ERR, "%s is a mount point already: left from an "
			 "earlier start? Unmount it first", dir);
		return -EBUSY;
	}
	if (strcmp(tab->upper, "tmpfs")) {
		err = mount_upper_device(tab->upper, tab->upper_fstype, dir);
		if (err < 0)
			return err;
	} else {
		if (tab->upper_size)
			snprintf(options, sizeof(options), "mode=0755,size=%llu",
				 (unsigned long long)tab->upper_size);
		else
			snprintf(options, sizeof(options), "mode=0755");
		if (mount("rwlayer-upper", dir, "tmpfs", MS_NOSUID | MS_NODEV,
			  options) < 0) {
			rwld_log(LOG_ERR, "@upper tmpfs %s: mount on %s: %m",
				 options, dir);
			return -errno;
		}
	}
	err = make_subdir(dir, "upper");
	if (!err)
		err = make_subdir(dir, "work");
	if (err < 0) {
		umount2(dir, MNT_DETACH);
		return err;
	}
	return 0;
}

/* Append @path to @out with ':' escaped as "\:", the lower= syntax. */
static void put_lower(FILE *out, const char *root, const char *path, bool first)
{
	if (!first)
		fputc(':', out);
	if (root && strcmp(root, "/"))
		for (const char *p = root; *p; p++)
			fprintf(out, *p == ':' ? "\\%c" : "%c", *p);
	if (root && strcmp(root, "/") && !strcmp(path, "/"))
		return;
	for (const char *p = path; *p; p++)
		fprintf(out, *p == ':' ? "\\%c" : "%c", *p);
}

/* The @lowers of the overlaytab over @bottom, the target's own tree. */
static char *lower_option(const struct rwl_tab_mount *tab, const char *root,
			  const char *bottom)
{
	char *lowers = NULL;
	size_t len;
	FILE *out = open_memstream(&lowers, &len);

	if (!out)
		return NULL;
	for (size_t i = 0; i < tab->num_lowers; i++)
		put_lower(out, root, tab->lowers[i], i == 0);
	put_lower(out, NULL, bottom, tab->num_lowers == 0);
	if (fclose(out)) {
		free(lowers);
		return NULL;
	}
	return lowers;
}

static int fs_set(int fsfd, const char *key, const char *value, const char *path)
{
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) == 0)
		return 0;
	rwld_log(LOG_ERR, "%s: rwlayer option %s=%s: %m", path, key, value);
	return -errno;
}

static int mount_union(const char *lowers, const char *base, const char *path)
{
	char upper[PATH_MAX], work[PATH_MAX];
	int fsfd, mntfd = -1, err;

	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(work, sizeof(work), "%s/work", base);
	fsfd = fsopen("rwlayer", FSOPEN_CLOEXEC);
	if (fsfd < 0) {
		rwld_log(LOG_ERR, "fsopen rwlayer: %m%s", errno == ENODEV ?
			 " (the module is not loaded)" : "");
		return -errno;
	}
	rwld_log(LOG_INFO, "mounting rwlayer on %s: lower=%s upper=%s work=%s "
		 "rule=none", path, lowers, upper, work);
	if ((err = fs_set(fsfd, "source", "rwlayer", path)) < 0 ||
	    (err = fs_set(fsfd, "lower", lowers, path)) < 0 ||
	    (err = fs_set(fsfd, "upper", upper, path)) < 0 ||
	    (err = fs_set(fsfd, "work", work, path)) < 0 ||
	    (err = fs_set(fsfd, "rule", "none", path)) < 0)
		goto out;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		err = -errno;
		rwld_log(LOG_ERR, "%s: creating the rwlayer superblock: %m", path);
		goto out;
	}
	mntfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mntfd < 0) {
		err = -errno;
		rwld_log(LOG_ERR, "%s: fsmount: %m", path);
		goto out;
	}
	err = 0;
	if (move_mount(mntfd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		err = -errno;
		rwld_log(LOG_ERR, "%s: move_mount: %m", path);
	}
	close(mntfd);
out:
	log_fs_context(fsfd, path);
	close(fsfd);
	return err;
}

/*
 * The target's own tree, read-only at @base/lower, is the bottom lower.
 * The union covers the target, and from the initramfs the target's name
 * (/root) means something else once the root is switched; @base is
 * under /run, which moves along.  So the lowers keep a name that reaches
 * them (overlayctl diff, an admin looking at the pristine tree).
 */
static int bind_lower(const char *target, const char *base, char **bottom)
{
	int err;

	if (asprintf(bottom, "%s/lower", base) < 0) {
		*bottom = NULL;
		return -ENOMEM;
	}
	err = make_subdir(base, "lower");
	if (err < 0)
		return err;
	if (mount(target, *bottom, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, *bottom, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		err = -errno;
		rwld_log(LOG_ERR, "bind %s read-only on %s: %m", target, *bottom);
		umount2(*bottom, MNT_DETACH);
		return err;
	}
	return 0;
}

int rwld_mount_create(struct rwl_nl *nl, const struct rwl_tab_mount *tab,
		      const char *root, const char *path, struct rwld_mount *m)
{
	char *escaped, *base = NULL, *lowers = NULL, *bottom = NULL;
	int err = -ENOMEM;

	escaped = rwld_mount_escape(tab->target);
	if (!escaped || asprintf(&base, RWLD_RUN_DIR "/%s", escaped) < 0)
		goto err_free;
	err = mount_upper(tab, base);
	if (err < 0)
		goto err_rmdir;
	err = bind_lower(path, base, &bottom);
	if (err < 0)
		goto err_umount_upper;
	err = -ENOMEM;
	lowers = lower_option(tab, root, bottom);
	if (!lowers)
		goto err_umount_upper;
	err = mount_union(lowers, base, path);
	if (err < 0)
		goto err_umount_upper;
	err = rwld_mount_find(nl, path, m);
	if (err < 0) {
		rwld_log(LOG_ERR, "%s: mounted, but not found again: %s", path,
			 strerror(-err));
		goto err_umount_union;
	}
	m->created = true;
	m->upper_base = base;
	rwld_log(LOG_NOTICE, "%s: rwlayer mounted (mount %u), upper %s on %s",
		 path, m->id, tab->upper, base);
	free(lowers);
	free(bottom);
	free(escaped);
	return 0;

err_umount_union:
	umount2(path, MNT_DETACH);
err_umount_upper:
	/* The bound lower is below it: a lazy unmount takes both. */
	umount2(base, MNT_DETACH);
err_rmdir:
	rmdir(base);
err_free:
	free(lowers);
	free(bottom);
	free(base);
	free(escaped);
	return err;
}

void rwld_mount_destroy(struct rwld_mount *m)
{
	if (!m->created)
		return;
	if (umount2(m->path, MNT_DETACH) < 0)
		rwld_log(LOG_ERR, "umount %s: %m", m->path);
	else if (umount2(m->upper_base, MNT_DETACH) < 0)
		rwld_log(LOG_ERR, "umount %s: %m", m->upper_base);
	else
		rmdir(m->upper_base);
	m->created = false;
}

void rwld_mount_free(struct rwld_mount *m)
{
	free(m->path);
	free(m->upper_base);
	m->path = m->upper_base = NULL;
}
