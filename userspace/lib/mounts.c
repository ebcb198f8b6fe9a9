// SPDX-License-Identifier: GPL-2.0
/*
 * rwlayer mounts from /proc/self/mountinfo (proc(5)):
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPER
 * where spaces, tabs, newlines and backslashes in names are written as
 * \040, \011, \012 and \134.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"

#define RWL_FSTYPE "rwlayer"

/* Undo the kernel's octal escapes in place. */
static void rwl_mountinfo_unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

static void rwl_mountinfo_free_one(struct rwl_mountinfo *m)
{
	free(m->root);
	free(m->mountpoint);
	free(m->source);
	free(m->super_options);
}

/* The next space-separated field of *@line, or NULL at its end. */
static char *rwl_mountinfo_field(char **line)
{
	char *field;

	do {
		field = strsep(line, " ");
	} while (field && !*field && *line);
	return field && *field ? field : NULL;
}

static int rwl_mountinfo_dup(const char *escaped, char **out)
{
	*out = strdup(escaped);
	if (!*out)
		return -ENOMEM;
	rwl_mountinfo_unescape(*out);
	return 0;
}

/*
 * One line.  Returns 1 and fills @m for an rwlayer mount (any mount with
 * @all), 0 for any other mount, -EINVAL for a malformed line, -ENOMEM.
 */
static int rwl_mountinfo_parse_line(char *line, bool all,
				    struct rwl_mountinfo *m)
{
	char *id, *parent, *dev, *root, *mountpoint, *opts, *field;
	char *fstype, *source, *super;
	unsigned int major, minor;
	int end, err;

	id = rwl_mountinfo_field(&line);
	parent = rwl_mountinfo_field(&line);
	dev = rwl_mountinfo_field(&line);
	root = rwl_mountinfo_field(&line);
	mountpoint = rwl_mountinfo_field(&line);
	opts = rwl_mountinfo_field(&line);
	if (!id || !parent || !dev || !root || !mountpoint || !opts)
		return -EINVAL;
	do {
		field = rwl_mountinfo_field(&line);
	} while (field && strcmp(field, "-"));
	fstype = rwl_mountinfo_field(&line);
	source = rwl_mountinfo_field(&line);
	super = rwl_mountinfo_field(&line);
	if (!fstype || !source || !super)
		return -EINVAL;
	if (sscanf(dev, "%u:%u%n", &major, &minor, &end) != 2 || dev[end])
		return -EINVAL;
	if (!all && strcmp(fstype, RWL_FSTYPE))
		return 0;
	memset(m, 0, sizeof(*m));
	m->dev_major = major;
	m->dev_minor = minor;
	err = rwl_mountinfo_dup(root, &m->root);
	if (!err)
		err = rwl_mountinfo_dup(mountpoint, &m->mountpoint);
	if (!err)
		err = rwl_mountinfo_dup(source, &m->source);
	if (!err)
		err = rwl_mountinfo_dup(super, &m->super_options);
	if (err) {
		rwl_mountinfo_free_one(m);
		return err;
	}
	return 1;
}

static int rwl_mountinfo_append(struct rwl_mountinfo_list *list,
				const struct rwl_mountinfo *m)
{
	struct rwl_mountinfo *mounts;

	mounts = reallocarray(list->mounts, list->num + 1, sizeof(*mounts));
	if (!mounts)
		return -ENOMEM;
	list->mounts = mounts;
	list->mounts[list->num++] = *m;
	return 0;
}

static int rwl_mountinfo_parse_some(const char *text, size_t len, bool all,
				    struct rwl_mountinfo_list *list,
				    size_t *bad_line)
{
	char *copy, *rest, *line;
	size_t line_no = 0;
	int err = 0;

	memset(list, 0, sizeof(*list));
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	while ((line = strsep(&rest, "\n"))) {
		struct rwl_mountinfo m;

		line_no++;
		if (!*line)
			continue;
		err = rwl_mountinfo_parse_line(line, all, &m);
		if (err == 1)
			err = rwl_mountinfo_append(list, &m);
		if (err == -ENOMEM)
			rwl_mountinfo_free_one(&m);
		if (err < 0)
			break;
	}
	free(copy);
	if (err < 0) {
		if (bad_line)
			*bad_line = line_no;
		rwl_mountinfo_list_free(list);
		return err;
	}
	return 0;
}

int rwl_mountinfo_parse(const char *text, size_t len,
			struct rwl_mountinfo_list *list, size_t *bad_line)
{
	return rwl_mountinfo_parse_some(text, len, false, list, bad_line);
}

int rwl_mountinfo_parse_all(const char *text, size_t len,
			    struct rwl_mountinfo_list *list, size_t *bad_line)
{
	return rwl_mountinfo_parse_some(text, len, true, list, bad_line);
}

/* The whole of a /proc file (st_size is 0 there, so read to the end). */
static int rwl_read_file(const char *path, char **text, size_t *len)
{
	size_t cap = 16384, used = 0;
	char *buf = NULL;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (!buf || used == cap) {
			char *bigger = realloc(buf, buf ? cap *= 2 : cap);

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (!n)
			break;
		used += n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	*len = used;
	return 0;
}

static int rwl_mountinfo_read_some(struct rwl_mountinfo_list *list, bool all)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	memset(list, 0, sizeof(*list));
	err = rwl_read_file("/proc/self/mountinfo", &text, &len);
	if (err)
		return err;
	err = rwl_mountinfo_parse_some(text, len, all, list, NULL);
	free(text);
	return err;
}

int rwl_mountinfo_read(struct rwl_mountinfo_list *list)
{
	return rwl_mountinfo_read_some(list, false);
}

int rwl_mountinfo_read_all(struct rwl_mountinfo_list *list)
{
	return rwl_mountinfo_read_some(list, true);
}

void rwl_mountinfo_list_free(struct rwl_mountinfo_list *list)
{
	size_t i;

	for (i = 0; i < list->num; i++)
		rwl_mountinfo_free_one(&list->mounts[i]);
	free(list->mounts);
	memset(list, 0, sizeof(*list));
}

char *rwl_path_normalize(const char *path)
{
	char *cwd = NULL, *out, *copy, *rest, *comp;
	size_t len = 0;

	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return NULL;
	}
	copy = malloc((cwd ? strlen(cwd) + 1 : 0) + strlen(path) + 1);
	out = malloc((cwd ? strlen(cwd) + 1 : 0) + strlen(path) + 2);
	if (!copy || !out) {
		free(cwd);
		free(copy);
		free(out);
		errno = ENOMEM;
		return NULL;
	}
	sprintf(copy, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", path);
	free(cwd);
	rest = copy;
	while ((comp = strsep(&rest, "/"))) {
		if (!*comp || !strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			while (len && out[--len] != '/')
				;
			continue;
		}
		out[len++] = '/';
		strcpy(out + len, comp);
		len += strlen(comp);
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	free(copy);
	return out;
}

char *rwl_path_below(const char *path, const char *prefix)
{
	size_t plen = strlen(prefix);
	char *below;

	if (!strcmp(prefix, "/"))
		plen = 0;
	if (strncmp(path, prefix, plen) || (path[plen] && path[plen] != '/')) {
		errno = EXDEV;
		return NULL;
	}
	below = strdup(path[plen] ? path + plen : "/");
	if (!below)
		errno = ENOMEM;
	return below;
}

/* @below inside a mount whose root is @root (not "/" for a bind mount). */
static char *rwl_path_join_root(const char *root, char *below)
{
	char *joined;

	if (!strcmp(root, "/"))
		return below;
	if (asprintf(&joined, "%s%s", root, strcmp(below, "/") ? below : "") < 0)
		joined = NULL;
	free(below);
	if (!joined)
		errno = ENOMEM;
	return joined;
}

const struct rwl_mountinfo *
rwl_mountinfo_find_path(const struct rwl_mountinfo_list *list,
			const char *path, char **inner)
{
	const struct rwl_mountinfo *best = NULL;
	size_t best_len = 0, i;
	char *norm;

	*inner = NULL;
	norm = rwl_path_normalize(path);
	if (!norm)
		return NULL;
	for (i = 0; i < list->num; i++) {
		const struct rwl_mountinfo *m = &list->mounts[i];
		size_t len = strlen(m->mountpoint);
		char *below = rwl_path_below(norm, m->mountpoint);

		if (!below)
			continue;
		/* >=: of two mounts on one point, the later one is on top */
		if (!best || len >= best_len) {
			free(*inner);
			*inner = below;
			best = m;
			best_len = len;
		} else {
			free(below);
		}
	}
	free(norm);
	if (!best) {
		errno = ENOENT;
		return NULL;
	}
	*inner = rwl_path_join_root(best->root, *inner);
	return *inner ? best : NULL;
}

const struct rwl_mountinfo *
rwl_mountinfo_find_dev(const struct rwl_mountinfo_list *list,
		       uint32_t dev_major, uint32_t dev_minor)
{
	const struct rwl_mountinfo *found = NULL;
	size_t i;

	for (i = 0; i < list->num; i++)
		if (list->mounts[i].dev_major == dev_major &&
		    list->mounts[i].dev_minor == dev_minor)
			found = &list->mounts[i];
	return found;
}
