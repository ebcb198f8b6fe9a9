// SPDX-License-Identifier: GPL-2.0
/*
 * Changes where a lower has the name, made while the upper is out of
 * inodes (a tmpfs with nr_inodes filled up): each either happens whole or
 * leaves the union as it was.  A deleted lower file never comes back, a
 * copied-up file never shows its lower content again.  Checked right
 * after the step, after drop_caches and after a remount.
 */
#include "rwl_rw.h"
#include "rwl_tree.h"

FIXTURE(full) {
	struct rwl_env env;
	struct rwl_rw rw;
	char fill[RWL_PATH];
	int filled;
};

FIXTURE_SETUP(full)
{
	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755,nr_inodes=256"));
	rwl_pathf(self->fill, "%s/fill", self->rw.rw);
	ASSERT_EQ(0, rwl_mkdir(self->fill, 0755));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "f", 'f', "lower f"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "g", 'f', "lower g"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "a", 'f', "lower a"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "b", 'f', "lower b"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "w", 'f', "lower w"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "d", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "d/x", 'f', "lower d/x"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "m/x", 'f', "lower m/x"));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
}

FIXTURE_TEARDOWN(full)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/* Use up every inode of the upper's filesystem. */
static int fill_inodes(FIXTURE_DATA(full) *self)
{
	char name[16];

	for (;;) {
		snprintf(name, sizeof(name), "%d", self->filled);
		if (mknod(rwl_at(self->fill, name), S_IFREG | 0600, 0))
			return errno == ENOSPC ? 0 : -errno;
		self->filled++;
	}
}

static int unfill_inodes(FIXTURE_DATA(full) *self)
{
	char name[16];

	while (self->filled > 0) {
		snprintf(name, sizeof(name), "%d", --self->filled);
		if (unlink(rwl_at(self->fill, name)))
			return -errno;
	}
	return 0;
}

static const char *mnt_at(FIXTURE_DATA(full) *self, const char *name)
{
	return rwl_at(self->rw.mnt, name);
}

/* @name's content through the union, or "" and its errno in @err. */
static const char *content(FIXTURE_DATA(full) *self, const char *name,
			   int *err)
{
	static char buf[4][64];
	static int next;
	char *b = buf[next++ % 4];
	ssize_t n;

	b[0] = '\0';
	n = rwl_read_text(mnt_at(self, name), b, 64);
	*err = n < 0 ? (int)-n : 0;
	if (n < 0)
		b[0] = '\0';
	return b;
}

static int remount(FIXTURE_DATA(full) *self)
{
	int err = rwl_umount(&self->env, self->rw.mnt);

	return err ?: rwl_rw_mount(&self->env, &self->rw, NULL);
}

/*
 * Run @check now and after dropping the caches, with the upper still
 * full; then free the inodes (a mount needs a few) and check after a
 * remount.
 */
#define CHECK_STAYS(check) do {						\
	check;								\
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));	\
	check;								\
	ASSERT_EQ(0, unfill_inodes(self));				\
	ASSERT_EQ(0, remount(self));					\
	check;								\
} while (0)

TEST_F(full, create_over_whiteout)
{
	int err;

	ASSERT_EQ(0, unlink(mnt_at(self, "f")));
	ASSERT_EQ(0, fill_inodes(self));
	EXPECT_EQ(ENOSPC, rwl_try_open(mnt_at(self, "f"), O_WRONLY | O_CREAT));
	CHECK_STAYS(EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "f"))));
	/* With room again the create works and hides the lower file. */
	ASSERT_EQ(0, rwl_write_text(mnt_at(self, "f"), "new f"));
	EXPECT_STREQ("new f", content(self, "f", &err));
}

TEST_F(full, mkdir_over_whiteout)
{
	ASSERT_EQ(0, unlink(mnt_at(self, "d/x")));
	ASSERT_EQ(0, rmdir(mnt_at(self, "d")));
	ASSERT_EQ(0, fill_inodes(self));
	EXPECT_EQ(-1, mkdir(mnt_at(self, "d"), 0755));
	EXPECT_EQ(ENOSPC, errno);
	CHECK_STAYS(EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "d"))));
	ASSERT_EQ(0, mkdir(mnt_at(self, "d"), 0755));
	/* Opaque: the lower d/x does not show through the new d. */
	EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "d/x")));
}

TEST_F(full, unlink_copied_up)
{
	int ret, err;

	ASSERT_EQ(0, rwl_write_text(mnt_at(self, "g"), "mine"));
	ASSERT_EQ(0, fill_inodes(self));
	ret = unlink(mnt_at(self, "g"));
	if (ret) {
		EXPECT_EQ(ENOSPC, errno);
		CHECK_STAYS(EXPECT_STREQ("mine", content(self, "g", &err)));
	} else {
		CHECK_STAYS(EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "g"))));
	}
}

TEST_F(full, rmdir_merged)
{
	ASSERT_EQ(0, unlink(mnt_at(self, "m/x")));
	ASSERT_EQ(0, fill_inodes(self));
	if (rmdir(mnt_at(self, "m"))) {
		EXPECT_EQ(ENOSPC, errno);
		CHECK_STAYS(EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "m/x"))));
	} else {
		CHECK_STAYS(EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "m"))));
	}
}

/*
 * The old name needs a whiteout and the new one is a whiteout: they trade
 * places in one exchange, and no inode is needed (overlayfs does the
 * same), where making a whiteout would fail for want of one.
 */
TEST_F(full, rename_over_whiteout)
{
	int err;

	ASSERT_EQ(0, unlink(mnt_at(self, "b")));
	ASSERT_EQ(0, rwl_write_text(mnt_at(self, "a"), "my a"));
	ASSERT_EQ(0, fill_inodes(self));
	EXPECT_EQ(0, rename(mnt_at(self, "a"), mnt_at(self, "b")) ? errno : 0);
	CHECK_STAYS({
		EXPECT_STREQ("my a", content(self, "b", &err));
		EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "a")));
	});
}

TEST_F(full, rename_dir_over_whiteout)
{
	ASSERT_EQ(0, mkdir(mnt_at(self, "n"), 0755));
	ASSERT_EQ(0, rwl_write_text(mnt_at(self, "n/y"), "n/y"));
	ASSERT_EQ(0, unlink(mnt_at(self, "w")));
	ASSERT_EQ(0, fill_inodes(self));
	/*
	 * The exchange needs no inode, the opaque mark may need room for an
	 * xattr (tmpfs since 6.6 counts xattrs against nr_inodes).
	 */
	if (rename(mnt_at(self, "n"), mnt_at(self, "w"))) {
		EXPECT_EQ(ENOSPC, errno);
		CHECK_STAYS({
			EXPECT_EQ(0, rwl_exists(mnt_at(self, "n/y")));
			EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "w")));
		});
	} else {
		CHECK_STAYS({
			EXPECT_EQ(0, rwl_exists(mnt_at(self, "w/y")));
			EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "n")));
		});
	}
}

/*
 * Copy-up with no inode left: the copy cannot even start.  Neither the
 * file nor the directory a create needs is half there afterwards.
 */
TEST_F(full, copy_up_no_inode)
{
	int err;

	ASSERT_EQ(0, fill_inodes(self));
	EXPECT_EQ(ENOSPC, rwl_try_open(mnt_at(self, "a"), O_WRONLY));
	EXPECT_EQ(ENOSPC, rwl_try_open(mnt_at(self, "m/new"), O_WRONLY | O_CREAT));
	EXPECT_EQ(ENOSPC, chmod(mnt_at(self, "d/x"), 0600) ? errno : 0);
	CHECK_STAYS({
		EXPECT_STREQ("lower a", content(self, "a", &err));
		EXPECT_STREQ("lower m/x", content(self, "m/x", &err));
		EXPECT_EQ(ENOENT, rwl_exists(mnt_at(self, "m/new")));
		EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "a")));
		EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "d/x")));
		EXPECT_EQ(0, work_leftovers(self->rw.work));
	});
}

#define BIG_LINE	"lower big\n"
#define BIG_LINES	(128 * 1024)	/* 1.25 MiB */

/*
 * Copy-up with no room for the data (the upper's tmpfs shrunk below the
 * file): it fails half-way through the copy, and the union goes on
 * showing the whole lower file; with room again it copies up whole.
 */
TEST_F(full, copy_up_no_space_for_data)
{
	const char *big = mnt_at(self, "big");
	struct stat st;
	int err, fd, i;

	fd = open(rwl_at(self->rw.lower, "big"), O_WRONLY | O_CREAT | O_CLOEXEC,
		  0644);
	ASSERT_LE(0, fd);
	for (i = 0; i < BIG_LINES; i++)
		ASSERT_EQ(10, write(fd, BIG_LINE, 10));
	close(fd);
	ASSERT_EQ(0, mount(NULL, self->rw.rw, NULL, MS_REMOUNT,
			   "size=256k,nr_inodes=256"));
	EXPECT_EQ(ENOSPC, rwl_try_open(big, O_WRONLY));
	CHECK_STAYS({
		EXPECT_EQ(0, strncmp(content(self, "big", &err), BIG_LINE, 10));
		EXPECT_EQ(0, stat(big, &st));
		EXPECT_EQ(10 * BIG_LINES, st.st_size);
		EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "big")));
		EXPECT_EQ(0, work_leftovers(self->rw.work));
	});
	ASSERT_EQ(0, mount(NULL, self->rw.rw, NULL, MS_REMOUNT,
			   "size=16m,nr_inodes=256"));
	fd = open(big, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(10, write(fd, BIG_LINE, 10));
	close(fd);
	ASSERT_EQ(0, stat(rwl_at(self->rw.upper, "big"), &st));
	EXPECT_EQ(10 * (BIG_LINES + 1), st.st_size);
}

TEST_HARNESS_MAIN
