// SPDX-License-Identifier: GPL-2.0
/*
 * lib/mounts.c: mountinfo parsing (escapes, optional fields, other
 * filesystems), path normalization, and the system path -> (mount, path
 * inside) mapping, including stacked and bind mounts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mounts.h"
#include "tap.h"

static const char sample[] =
	"22 1 0:21 / / rw,relatime shared:1 - rwlayer none rw,lower=/srv/a,upper=/run/u\n"
	"25 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=10k\n"
	"30 22 0:30 / /mnt/with\\040space rw shared:5 master:2 - rwlayer my\\040src rw,lower=/x\n"
	"31 22 8:1 / /boot rw - ext4 /dev/sda1 rw\n"
	"32 22 0:30 /var /srv/bind rw - rwlayer none rw\n"
	"33 30 0:31 / /mnt/with\\040space rw - rwlayer none rw,lower=/y\\134z\n"
	"34 22 0:32 / /rwlayer rw - tmpfs rwlayer rw\n";

static void test_parse(struct rwl_mountinfo_list *list)
{
	int err = rwl_mountinfo_parse(sample, sizeof(sample) - 1, list, NULL);

	ok(!err && list->num == 4, "four rwlayer mounts of seven lines (got %d, %zu)",
	   err, list->num);
	if (list->num != 4)
		exit(1);
	ok(!strcmp(list->mounts[0].mountpoint, "/") &&
	   list->mounts[0].dev_major == 0 && list->mounts[0].dev_minor == 21,
	   "root mount with its st_dev");
	ok(!strcmp(list->mounts[1].mountpoint, "/mnt/with space"),
	   "\\040 in the mount point is a space (got \"%s\")",
	   list->mounts[1].mountpoint);
	ok(!strcmp(list->mounts[1].source, "my src"),
	   "source unescaped past two optional fields");
	ok(!strcmp(list->mounts[2].root, "/var") &&
	   !strcmp(list->mounts[2].mountpoint, "/srv/bind"),
	   "bind mount keeps its root /var");
	ok(!strcmp(list->mounts[3].super_options, "rw,lower=/y\\z"),
	   "\\134 is a backslash (got \"%s\")", list->mounts[3].super_options);
}

static void test_parse_all(void)
{
	struct rwl_mountinfo_list all;
	int err = rwl_mountinfo_parse_all(sample, sizeof(sample) - 1, &all, NULL);

	ok(!err && all.num == 7 && !strcmp(all.mounts[1].mountpoint, "/dev") &&
	   !strcmp(all.mounts[3].mountpoint, "/boot"),
	   "parse_all keeps all seven mounts, in order (got %d, %zu)", err,
	   all.num);
	rwl_mountinfo_list_free(&all);
}

static void find_case(const struct rwl_mountinfo_list *list, const char *path,
		      int want_index, const char *want_inner)
{
	const struct rwl_mountinfo *m;
	char *inner = NULL;

	errno = 0;
	m = rwl_mountinfo_find_path(list, path, &inner);
	if (want_index < 0) {
		ok(!m && errno == ENOENT && !inner, "%s is on no rwlayer mount", path);
		return;
	}
	ok(m == &list->mounts[want_index] && inner && !strcmp(inner, want_inner),
	   "%s -> mount %d, inside \"%s\" (got %td, \"%s\")", path, want_index,
	   want_inner, m ? m - list->mounts : -1, inner ? inner : "(null)");
	free(inner);
}

static void test_find(const struct rwl_mountinfo_list *list)
{
	find_case(list, "/etc/machine-id", 0, "/etc/machine-id");
	find_case(list, "/", 0, "/");
	find_case(list, "/mnt/with space", 3, "/");
	find_case(list, "/mnt/with space/var//log/", 3, "/var/log");
	find_case(list, "/mnt/with spacex", 0, "/mnt/with spacex");
	find_case(list, "/srv/bind/log", 2, "/var/log");
	find_case(list, "/srv/bind", 2, "/var");
	find_case(list, "/srv/bind/../x", 0, "/srv/x");
	ok(rwl_mountinfo_find_dev(list, 0, 30) == &list->mounts[2],
	   "find_dev picks the last mount of a st_dev");
	ok(!rwl_mountinfo_find_dev(list, 8, 1), "find_dev ignores other filesystems");
}

static void test_no_rwlayer(void)
{
	static const char text[] = "31 22 8:1 / / rw - ext4 /dev/sda1 rw\n";
	struct rwl_mountinfo_list list;

	ok(!rwl_mountinfo_parse(text, sizeof(text) - 1, &list, NULL) &&
	   list.num == 0, "no rwlayer mounts is an empty list");
	find_case(&list, "/var", -1, NULL);
	rwl_mountinfo_list_free(&list);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"22 1 0:21 / / rw\n",				/* no separator */
		"22 1 0:21 / / rw - rwlayer\n",			/* cut after fstype */
		"22 1 021 / / rw - rwlayer none rw\n",		/* dev without ':' */
		"22 1 0:21x / / rw - rwlayer none rw\n",
		"22 1 0:21 /\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct rwl_mountinfo_list list;
		size_t line = 0;
		int err;

		snprintf(text, sizeof(text), "31 22 8:1 / /boot rw - ext4 /dev/sda1 rw\n%s",
			 bad[i]);
		err = rwl_mountinfo_parse(text, strlen(text), &list, &line);
		ok(err == -EINVAL && line == 2 && !list.num && !list.mounts,
		   "malformed line %zu rejected with its line number (got %d, %zu)",
		   i, err, line);
	}
}

static void normalize_case(const char *in, const char *want)
{
	char *got = rwl_path_normalize(in);

	ok(got && !strcmp(got, want), "normalize \"%s\" = \"%s\" (got \"%s\")", in,
	   want, got ? got : "(null)");
	free(got);
}

static void below_case(const char *path, const char *prefix, const char *want)
{
	char *got;

	errno = 0;
	got = rwl_path_below(path, prefix);
	if (!want)
		ok(!got && errno == EXDEV, "\"%s\" is not below \"%s\"", path, prefix);
	else
		ok(got && !strcmp(got, want), "\"%s\" below \"%s\" = \"%s\"", path,
		   prefix, want);
	free(got);
}

static void test_paths(void)
{
	normalize_case("/a//b/./c/../d/", "/a/b/d");
	normalize_case("/..", "/");
	normalize_case("/../../x", "/x");
	normalize_case("///", "/");
	normalize_case("/a/b/..", "/a");
	if (chdir("/tmp") == 0) {
		normalize_case("x/y", "/tmp/x/y");
		normalize_case(".", "/tmp");
		normalize_case("..", "/");
	}
	below_case("/var", "/", "/var");
	below_case("/", "/", "/");
	below_case("/var", "/var", "/");
	below_case("/var/log", "/var", "/log");
	below_case("/variable", "/var", NULL);
	below_case("/va", "/var", NULL);
	below_case("/sysroot/var", "/sysroot", "/var");
}

int main(void)
{
	struct rwl_mountinfo_list list;

	test_parse(&list);
	test_parse_all();
	test_find(&list);
	rwl_mountinfo_list_free(&list);
	ok(!list.num && !list.mounts, "list_free empties the list");
	test_no_rwlayer();
	test_malformed();
	test_paths();
	return tap_done();
}
