/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rwlayer mounts as /proc/self/mountinfo shows them, and the mapping of a
 * system path to (mount, path inside the mount).
 */
#ifndef RWL_MOUNTS_H
#define RWL_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

/* One mountinfo line of fstype "rwlayer"; strings owned, unescaped. */
struct rwl_mountinfo {
	uint32_t dev_major, dev_minor;
	char *root;			/* root of the mount in its fs */
	char *mountpoint;		/* where it is, normalized */
	char *source;
	char *super_options;
};

struct rwl_mountinfo_list {
	struct rwl_mountinfo *mounts;	/* in mountinfo order */
	size_t num;
};

/*
 * Parse the text of a mountinfo file, keeping only rwlayer mounts.
 * Returns 0, -EINVAL for a malformed line (its number in *@bad_line when
 * @bad_line is not NULL), or -ENOMEM.
 */
int rwl_mountinfo_parse(const char *text, size_t len,
			struct rwl_mountinfo_list *list, size_t *bad_line);

/* The same, keeping every mount. */
int rwl_mountinfo_parse_all(const char *text, size_t len,
			    struct rwl_mountinfo_list *list, size_t *bad_line);

/* rwl_mountinfo_parse of /proc/self/mountinfo; -errno if unreadable. */
int rwl_mountinfo_read(struct rwl_mountinfo_list *list);

/* Every mount of /proc/self/mountinfo; -errno if unreadable. */
int rwl_mountinfo_read_all(struct rwl_mountinfo_list *list);

void rwl_mountinfo_list_free(struct rwl_mountinfo_list *list);

/*
 * Normalize @path lexically (no symlinks are followed, the path need not
 * exist): relative paths are taken from the current directory; "//", "."
 * and ".." are folded; no trailing slash.  Returns a malloc'ed string or
 * NULL (errno set).
 */
char *rwl_path_normalize(const char *path);

/*
 * If @path (normalized) is @prefix or below it, component-wise, return the
 * part below as an absolute path ("/" for @prefix itself) in malloc'ed
 * memory; else NULL with errno EXDEV (or ENOMEM).
 */
char *rwl_path_below(const char *path, const char *prefix);

/*
 * The rwlayer mount that holds @path (any path, normalized here): the one
 * with the longest mount point that is @path or an ancestor; among equal
 * mount points, the last one mounted (the visible one).  Sets *@inner to
 * the path inside the mount (malloc'ed), counting from the filesystem's
 * root also for bind mounts of a subdirectory.  NULL with errno ENOENT when no
 * rwlayer mount holds @path.
 */
const struct rwl_mountinfo *
rwl_mountinfo_find_path(const struct rwl_mountinfo_list *list,
			const char *path, char **inner);

/* The last mount with this st_dev, or NULL. */
const struct rwl_mountinfo *
rwl_mountinfo_find_dev(const struct rwl_mountinfo_list *list,
		       uint32_t dev_major, uint32_t dev_minor);

#endif /* RWL_MOUNTS_H */
