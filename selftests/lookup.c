// SPDX-License-Identifier: GPL-2.0
/*
 * Name lookup across layers: the leftmost layer wins, a non-directory
 * hides a directory below it, directories merge, symlinks resolve inside
 * the union, and special files keep their type and device number.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include "rwl_util.h"

/*
 * Three tmpfs layers, l0 on top:
 *
 *   l0: same="top"   hidedir="file-over-dir"   dironfile/a="a0"
 *       m/a="a" m/common="c0" m/n/x="x"   lnk_dir -> m
 *   l1: same="mid"   onlymid="mid-only"   hidedir/child="hidden"
 *       dironfile="file-under-dir"   m/b="b" m/common="c1"
 *       m/lnk_parent -> ../onlymid   lnk_rel -> same
 *       lnk_abs -> <mnt>/onlybot   chr(1,3) blk(7,0) fifo sock
 *   l2: same="bottom"   onlybot="bot-only"   m/c="c" m/common="c2"
 *       m/sub/deep="deep"   m/n/y="y"
 */
FIXTURE(lookup) {
	struct rwl_env env;
	char l[3][RWL_PATH];
	char mnt[RWL_PATH];
};

static int mknode(const char *dir, const char *name, mode_t mode, dev_t dev)
{
	char p[RWL_PATH];

	if (mknod(rwl_pathf(p, "%s/%s", dir, name), mode, dev))
		return -errno;
	return 0;
}

static int mksock(const char *dir, const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err = 0;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", dir,
			     name) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)))
		err = -errno;
	close(fd);
	return err;
}

FIXTURE_SETUP(lookup)
{
	char target[RWL_PATH], lower[3 * RWL_PATH + 3];
	int i;

	RWL_ENV_SETUP(&self->env);
	for (i = 0; i < 3; i++) {
		rwl_pathf(self->l[i], "%s/l%d", self->env.base, i);
		ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l[i], NULL));
	}
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);

	ASSERT_EQ(0, rwl_mk(self->l[0], "same", 'f', "top"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "hidedir", 'f', "file-over-dir"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "dironfile", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[0], "dironfile/a", 'f', "a0"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[0], "m/a", 'f', "a"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "m/common", 'f', "c0"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "m/n", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[0], "m/n/x", 'f', "x"));
	ASSERT_EQ(0, rwl_mk(self->l[0], "lnk_dir", 'l', "m"));

	ASSERT_EQ(0, rwl_mk(self->l[1], "same", 'f', "mid"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "onlymid", 'f', "mid-only"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "hidedir", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[1], "hidedir/child", 'f', "hidden"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "dironfile", 'f', "file-under-dir"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[1], "m/b", 'f', "b"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "m/common", 'f', "c1"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "m/lnk_parent", 'l', "../onlymid"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "lnk_rel", 'l', "same"));
	ASSERT_EQ(0, rwl_mk(self->l[1], "lnk_abs", 'l',
			    rwl_pathf(target, "%s/onlybot", self->mnt)));
	ASSERT_EQ(0, mknode(self->l[1], "chr", S_IFCHR | 0644, makedev(1, 3)));
	ASSERT_EQ(0, mknode(self->l[1], "blk", S_IFBLK | 0600, makedev(7, 0)));
	ASSERT_EQ(0, mknode(self->l[1], "fifo", S_IFIFO | 0640, 0));
	ASSERT_EQ(0, mksock(self->l[1], "sock"));

	ASSERT_EQ(0, rwl_mk(self->l[2], "same", 'f', "bottom"));
	ASSERT_EQ(0, rwl_mk(self->l[2], "onlybot", 'f', "bot-only"));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/c", 'f', "c"));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/common", 'f', "c2"));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/sub", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/sub/deep", 'f', "deep"));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/n", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->l[2], "m/n/y", 'f', "y"));

	snprintf(lower, sizeof(lower), "%s:%s:%s", self->l[0], self->l[1],
		 self->l[2]);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, lower));
}

FIXTURE_TEARDOWN(lookup)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* lstat() of <mnt>/@name; returns 0 or errno. */
static int lstat_mnt(FIXTURE_DATA(lookup) *self, const char *name,
		     struct stat *st)
{
	char p[RWL_PATH];

	return lstat(rwl_pathf(p, "%s/%s", self->mnt, name), st) ? errno : 0;
}

static int stat_mnt(FIXTURE_DATA(lookup) *self, const char *name,
		    struct stat *st)
{
	char p[RWL_PATH];

	return stat(rwl_pathf(p, "%s/%s", self->mnt, name), st) ? errno : 0;
}

TEST_F(lookup, leftmost_wins)
{
	struct stat st, real;
	char p[RWL_PATH];

	EXPECT_STREQ("top", rwl_cat(self->mnt, "same"));
	EXPECT_STREQ("mid-only", rwl_cat(self->mnt, "onlymid"));
	EXPECT_STREQ("bot-only", rwl_cat(self->mnt, "onlybot"));
	EXPECT_STREQ("c0", rwl_cat(self->mnt, "m/common"));

	/* The file shown is the top layer's own. */
	ASSERT_EQ(0, lstat_mnt(self, "same", &st));
	ASSERT_EQ(0, lstat(rwl_pathf(p, "%s/same", self->l[0]), &real));
	EXPECT_EQ(real.st_ino, st.st_ino);
	EXPECT_EQ(real.st_dev, st.st_dev);
}

TEST_F(lookup, missing_names)
{
	struct stat st;

	EXPECT_EQ(ENOENT, lstat_mnt(self, "nothing", &st));
	EXPECT_EQ(ENOENT, lstat_mnt(self, "m/nothing", &st));
	EXPECT_EQ(ENOENT, lstat_mnt(self, "nothing/child", &st));
	EXPECT_EQ(ENOENT, lstat_mnt(self, "m/sub/nothing", &st));
	/* Asking twice gives the same answer (negative dentries). */
	EXPECT_EQ(ENOENT, lstat_mnt(self, "nothing", &st));
}

TEST_F(lookup, name_too_long)
{
	char name[NAME_MAX + 2], p[RWL_PATH + NAME_MAX + 8];
	struct stat st;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(p, sizeof(p), "%s/%s", self->mnt, name);
	EXPECT_EQ(-1, lstat(p, &st));
	EXPECT_EQ(ENAMETOOLONG, errno);
	snprintf(p, sizeof(p), "%s/m/%s", self->mnt, name);
	EXPECT_EQ(-1, lstat(p, &st));
	EXPECT_EQ(ENAMETOOLONG, errno);
}

TEST_F(lookup, file_hides_dir)
{
	char p[RWL_PATH];
	struct stat st;

	ASSERT_EQ(0, lstat_mnt(self, "hidedir", &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_STREQ("file-over-dir", rwl_cat(self->mnt, "hidedir"));
	EXPECT_EQ(ENOTDIR, lstat_mnt(self, "hidedir/child", &st));
	EXPECT_EQ(-1, open(rwl_pathf(p, "%s/hidedir", self->mnt),
			   O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	EXPECT_EQ(ENOTDIR, errno);
}

TEST_F(lookup, dir_over_file)
{
	struct rwl_dents d = {};
	char p[RWL_PATH];
	struct stat st;

	ASSERT_EQ(0, lstat_mnt(self, "dironfile", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_STREQ("a0", rwl_cat(self->mnt, "dironfile/a"));
	ASSERT_LE(0, rwl_list_dir(rwl_pathf(p, "%s/dironfile", self->mnt),
				  4096, &d));
	EXPECT_EQ(3, d.num);
	EXPECT_EQ(1, rwl_dents_count(&d, "a"));
	rwl_dents_free(&d);
}

TEST_F(lookup, merged_dirs)
{
	struct stat st;

	EXPECT_STREQ("a", rwl_cat(self->mnt, "m/a"));
	EXPECT_STREQ("b", rwl_cat(self->mnt, "m/b"));
	EXPECT_STREQ("c", rwl_cat(self->mnt, "m/c"));
	EXPECT_STREQ("c0", rwl_cat(self->mnt, "m/common"));
	/* A directory that only the bottom layer has. */
	ASSERT_EQ(0, lstat_mnt(self, "m/sub", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_STREQ("deep", rwl_cat(self->mnt, "m/sub/deep"));
	/* Merging goes on below a merged directory. */
	EXPECT_STREQ("x", rwl_cat(self->mnt, "m/n/x"));
	EXPECT_STREQ("y", rwl_cat(self->mnt, "m/n/y"));
}

TEST_F(lookup, symlink_readlink)
{
	char p[RWL_PATH], buf[RWL_PATH], want[RWL_PATH];
	struct stat st;
	ssize_t n;

	n = readlink(rwl_pathf(p, "%s/lnk_rel", self->mnt), buf, sizeof(buf));
	ASSERT_EQ(4, n);
	buf[n] = '\0';
	EXPECT_STREQ("same", buf);
	ASSERT_EQ(0, lstat_mnt(self, "lnk_rel", &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(4, st.st_size);

	rwl_pathf(want, "%s/onlybot", self->mnt);
	n = readlink(rwl_pathf(p, "%s/lnk_abs", self->mnt), buf, sizeof(buf));
	ASSERT_EQ((ssize_t)strlen(want), n);
	buf[n] = '\0';
	EXPECT_STREQ(want, buf);
	ASSERT_EQ(0, lstat_mnt(self, "lnk_abs", &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ((off_t)strlen(want), st.st_size);
}

/* Targets resolve in the union, not in the layer holding the link. */
TEST_F(lookup, symlink_follow)
{
	struct stat st;

	EXPECT_STREQ("top", rwl_cat(self->mnt, "lnk_rel"));
	EXPECT_STREQ("mid-only", rwl_cat(self->mnt, "m/lnk_parent"));
	EXPECT_STREQ("bot-only", rwl_cat(self->mnt, "lnk_abs"));
	ASSERT_EQ(0, stat_mnt(self, "lnk_dir", &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_STREQ("c", rwl_cat(self->mnt, "lnk_dir/c"));
	EXPECT_STREQ("c0", rwl_cat(self->mnt, "lnk_dir/common"));
}

TEST_F(lookup, special_files)
{
	struct stat st;

	ASSERT_EQ(0, lstat_mnt(self, "chr", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	ASSERT_EQ(0, lstat_mnt(self, "blk", &st));
	EXPECT_TRUE(S_ISBLK(st.st_mode));
	EXPECT_EQ(makedev(7, 0), st.st_rdev);
	ASSERT_EQ(0, lstat_mnt(self, "fifo", &st));
	EXPECT_TRUE(S_ISFIFO(st.st_mode));
	EXPECT_EQ(0, st.st_rdev);
	ASSERT_EQ(0, lstat_mnt(self, "sock", &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST_F(lookup, dotdot)
{
	struct stat st, want;

	/* ".." at the root leaves the union. */
	ASSERT_EQ(0, stat_mnt(self, "..", &st));
	ASSERT_EQ(0, stat(self->env.base, &want));
	EXPECT_EQ(want.st_ino, st.st_ino);
	EXPECT_EQ(want.st_dev, st.st_dev);
	/* Below it, ".." is the union parent. */
	ASSERT_EQ(0, stat_mnt(self, "m/sub/..", &st));
	ASSERT_EQ(0, stat_mnt(self, "m", &want));
	EXPECT_EQ(want.st_ino, st.st_ino);
	EXPECT_EQ(want.st_dev, st.st_dev);
	EXPECT_STREQ("top", rwl_cat(self->mnt, "m/sub/../../same"));
}

TEST_HARNESS_MAIN
