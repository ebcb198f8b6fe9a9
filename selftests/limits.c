// SPDX-License-Identifier: GPL-2.0
/*
 * Per-rule limits of a writable rwlayer: size= counts the apparent size
 * of every regular file the rule has in the upper, rounded up to 4 KiB;
 * inodes= counts every object it creates there (files, directories, also
 * copied-up parents, symlinks, specials and whiteouts).  Whatever would
 * go over fails with ENOSPC and changes nothing; unlink gives the usage
 * back; each rule counts alone; statfs() in a rule reports its limit.
 */
#include <sys/statfs.h>

#include "rwl_rw.h"

#define KiB		1024
#define BIG_SIZE	(128 * KiB)
#define BIG_SEED	1
#define F5K_SIZE	5000
#define F5K_SEED	2

/*
 * lower/:
 *   data/ big (128 KiB pattern), f5k (5000 bytes pattern), a b c (text),
 *         d1/d2/
 *   other/ o    var/ v  var/tmp/
 * rw/ is a 32 MiB tmpfs, far above every limit used here.
 */
FIXTURE(limits) {
	struct rwl_env env;
	struct rwl_rw rw;
	char *m;
	char buf[BIG_SIZE];
};

FIXTURE_SETUP(limits)
{
	char p[RWL_PATH];

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, "mode=0755,size=32m"));
	self->m = self->rw.mnt;
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data", 'd', NULL));
	ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/data/big", self->rw.lower),
				       BIG_SIZE, BIG_SEED, 0644));
	ASSERT_EQ(0, rwl_write_pattern(rwl_pathf(p, "%s/data/f5k", self->rw.lower),
				       F5K_SIZE, F5K_SEED, 0644));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data/a", 'f', "a"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data/b", 'f', "b"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data/c", 'f', "c"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data/d1", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "data/d1/d2", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "other", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "other/o", 'f', "o"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "var", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "var/v", 'f', "v"));
	ASSERT_EQ(0, rwl_mk(self->rw.lower, "var/tmp", 'd', NULL));
}

FIXTURE_TEARDOWN(limits)
{
	RWL_ENV_TEARDOWN(&self->env);
}

/*
 * Make the upper directories @dirs (NULL-terminated, e.g. "data") before
 * mounting, as a persistent upper would have them: their own inodes are
 * then not charged to anyone (usage counts from mount time), which keeps
 * the inode arithmetic of a test exact.
 */
static int precreate(FIXTURE_DATA(limits) *self, const char *const *dirs)
{
	int err;

	for (; dirs && *dirs; dirs++) {
		err = rwl_mkdir(rwl_at(self->rw.upper, *dirs), 0755);
		if (err)
			return err;
	}
	return 0;
}

#define MOUNT(rules, ...) do {						\
	ASSERT_EQ(0, precreate(self, (const char *const[]){ __VA_ARGS__ })); \
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, rules));	\
} while (0)

/* pwrite() @len bytes of pattern @seed at @off; 0 or the errno. */
static int pwrite_pattern(int fd, size_t len, off_t off, unsigned int seed)
{
	char buf[64 * KiB];
	ssize_t n;

	if (len > sizeof(buf))
		return E2BIG;
	rwl_pattern_fill(buf, len, off, seed);
	n = pwrite(fd, buf, len, off);
	if (n < 0)
		return errno;
	return n == (ssize_t)len ? 0 : EIO;
}

/* Create @path with @len bytes of pattern @seed; 0 or the errno. */
static int write_file(const char *path, size_t len, unsigned int seed)
{
	int fd, err = 0;
	size_t off, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	for (off = 0; !err && off < len; off += n) {
		n = len - off < 64 * KiB ? len - off : 64 * KiB;
		err = pwrite_pattern(fd, n, off, seed);
	}
	close(fd);
	return err;
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -errno : st.st_size;
}

static int create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Does @path (@size bytes) hold pattern @seed? -1 if so, else where not. */
static ssize_t check_pattern(FIXTURE_DATA(limits) *self, const char *path,
			     size_t size, unsigned int seed)
{
	ssize_t n;
	int fd;

	if (size > sizeof(self->buf))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, self->buf, sizeof(self->buf), 0);
	close(fd);
	if (n != (ssize_t)size)
		return n < 0 ? 0 : n;
	return rwl_pattern_check(self->buf, size, 0, seed);
}

/* How many non-directories lie anywhere under @dir (nftw has no context). */
static int nondirs;

static int count_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	nondirs += type != FTW_D && type != FTW_DP && !S_ISDIR(st->st_mode);
	return 0;
}

static int count_nondirs(const char *dir)
{
	nondirs = 0;
	if (nftw(dir, count_one, 16, FTW_PHYS))
		return -1;
	return nondirs;
}

/* --- size= ---------------------------------------------------------------- */

/* Writes up to the limit work; one byte more fails and changes nothing. */
TEST_F(limits, size_write_up_to_limit)
{
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	fd = open(rwl_at(self->m, "data/new"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pwrite_pattern(fd, 60 * KiB, 0, 3));
	EXPECT_EQ(0, pwrite_pattern(fd, 4 * KiB, 60 * KiB, 3));
	EXPECT_EQ(ENOSPC, pwrite_pattern(fd, 1, 64 * KiB, 3));
	EXPECT_EQ(ENOSPC, pwrite_pattern(fd, 4 * KiB, 64 * KiB, 3));
	close(fd);
	EXPECT_EQ(64 * KiB, size_of(rwl_at(self->m, "data/new")));
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/new"), 64 * KiB, 3));
	/* Rewriting inside the file needs no more space. */
	fd = open(rwl_at(self->m, "data/new"), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pwrite_pattern(fd, 64 * KiB, 0, 3));
	/* Appending does. */
	close(fd);
	fd = open(rwl_at(self->m, "data/new"), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
	EXPECT_EQ(64 * KiB, size_of(rwl_at(self->m, "data/new")));
	/* A second file may exist, but not hold a byte. */
	EXPECT_EQ(0, create(rwl_at(self->m, "data/empty")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/empty"), 1, 4));
	EXPECT_EQ(0, size_of(rwl_at(self->m, "data/empty")));
}

/* A write that would cross the limit is refused whole, not shortened. */
TEST_F(limits, size_write_not_shortened)
{
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	fd = open(rwl_at(self->m, "data/new"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pwrite_pattern(fd, 60 * KiB, 0, 3));
	EXPECT_EQ(ENOSPC, pwrite_pattern(fd, 8 * KiB, 60 * KiB, 3));
	EXPECT_EQ(60 * KiB, size_of(rwl_at(self->m, "data/new")));
	/* A read there finds the end of the file. */
	EXPECT_EQ(0, pread(fd, self->buf, 16, 60 * KiB));
	close(fd);
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/new"), 60 * KiB, 3));
}

/* Every file is charged its size rounded up to 4 KiB. */
TEST_F(limits, size_rounding)
{
	MOUNT("rule=/data:union:size=8K", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 1, 5));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 1, 5));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/three"), 1, 5));
	EXPECT_EQ(0, size_of(rwl_at(self->m, "data/three")));
	/* Growing within the first block costs nothing. */
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 4 * KiB, 6));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/one"), 4 * KiB + 1, 6));
}

TEST_F(limits, size_truncate)
{
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	fd = open(rwl_at(self->m, "data/new"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	/* Holes count: a sparse 64 KiB file uses the whole limit. */
	EXPECT_EQ(0, ftruncate(fd, 64 * KiB)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, ftruncate(fd, 64 * KiB + 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, truncate(rwl_at(self->m, "data/new"), 128 * KiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(64 * KiB, size_of(rwl_at(self->m, "data/new")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/x")) ?: write_file(rwl_at(self->m, "data/x"), 1, 1));
	/* Shrinking gives it back. */
	EXPECT_EQ(0, ftruncate(fd, 32 * KiB));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/y"), 32 * KiB, 7));
	EXPECT_EQ(-1, ftruncate(fd, 32 * KiB + 1));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
	EXPECT_EQ(32 * KiB, size_of(rwl_at(self->m, "data/new")));
}

TEST_F(limits, size_fallocate)
{
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	fd = open(rwl_at(self->m, "data/new"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fallocate(fd, 0, 0, 32 * KiB)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, fallocate(fd, 0, 32 * KiB, 33 * KiB));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(32 * KiB, size_of(rwl_at(self->m, "data/new")));
	EXPECT_EQ(0, fallocate(fd, 0, 32 * KiB, 32 * KiB));
	EXPECT_EQ(64 * KiB, size_of(rwl_at(self->m, "data/new")));
	close(fd);
}

/* unlink gives the space back, for new and for copied-up files. */
TEST_F(limits, size_unlink_frees)
{
	MOUNT("rule=/data:union:size=64K", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 64 * KiB, 8));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/two"), 4 * KiB, 8));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/one")));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 64 * KiB, 8));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/two")));

	/* f5k copied up costs 8 KiB, which its removal gives back. */
	EXPECT_EQ(0, chmod(rwl_at(self->m, "data/f5k"), 0600));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/three"), 60 * KiB, 9));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f5k")));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/three"), 64 * KiB, 9));
}

/* Hard links share one file: it is charged once, and freed with the last. */
TEST_F(limits, size_hard_links)
{
	MOUNT("rule=/data:union:size=64K:inodes=10", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 64 * KiB, 19));
	EXPECT_EQ(0, link(rwl_at(self->m, "data/one"), rwl_at(self->m, "data/one.ln")));
	EXPECT_EQ(0, link(rwl_at(self->m, "data/one"), rwl_at(self->m, "data/d1/one.ln")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/one")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/two"), 1, 19));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/one.ln")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/two"), 1, 19));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/d1/one.ln")));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 64 * KiB, 19));
}

/* A rename over a file frees the replaced one; a plain rename is free. */
TEST_F(limits, size_rename)
{
	MOUNT("rule=/data:union:size=64K", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 32 * KiB, 20));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 32 * KiB, 21));
	EXPECT_EQ(0, rename(rwl_at(self->m, "data/one"), rwl_at(self->m, "data/d1/one")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/three"), 1, 22));
	EXPECT_EQ(0, rename(rwl_at(self->m, "data/two"), rwl_at(self->m, "data/d1/one")));
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/d1/one"), 32 * KiB,
				    21));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/three"), 32 * KiB, 22));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/four"), 1, 22));
}

/*
 * Usage counts from mount time: what an earlier mount left in the upper
 * is not charged to the next one.
 */
TEST_F(limits, usage_counts_from_mount)
{
	MOUNT("rule=/data:union:size=64K:inodes=2", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 64 * KiB, 23));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/two")));
	ASSERT_EQ(0, rwl_umount(&self->env, self->m));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw,
				  "rule=/data:union:size=64K:inodes=2"));
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/one"), 64 * KiB, 23));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 64 * KiB, 24));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/three")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/four")));
}

/* A copy-up is charged the copied file's size, rounded. */
TEST_F(limits, size_copy_up_charged)
{
	MOUNT("rule=/data:union:size=16K", NULL);
	ASSERT_EQ(0, chmod(rwl_at(self->m, "data/f5k"), 0600));	/* 8 KiB */
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/f5k"), F5K_SIZE,
				    F5K_SEED));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/new"), 8 * KiB, 10));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/new2"), 1, 10));
	EXPECT_EQ(0, size_of(rwl_at(self->m, "data/new2")));
}

/*
 * A copy-up that would not fit fails with ENOSPC, whatever caused it;
 * the lower file stays visible with its content, nothing is left in the
 * upper or the work directory and nothing stays charged.
 */
TEST_F(limits, size_copy_up_too_big)
{
	static const struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	struct stat st;
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	fd = open(rwl_at(self->m, "data/big"), O_WRONLY | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOSPC, errno);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(ENOSPC, rwl_result(open(rwl_at(self->m, "data/big"),
				      O_RDWR | O_APPEND | O_CLOEXEC)));
	EXPECT_EQ(ENOSPC, rwl_result(chmod(rwl_at(self->m, "data/big"), 0600)));
	EXPECT_EQ(ENOSPC, rwl_result(chown(rwl_at(self->m, "data/big"), 1, 1)));
	EXPECT_EQ(ENOSPC, rwl_result(utimensat(AT_FDCWD, rwl_at(self->m, "data/big"),
					   ts, 0)));
	EXPECT_EQ(ENOSPC, rwl_result(link(rwl_at(self->m, "data/big"),
				      rwl_at(self->m, "data/big.ln"))));
	EXPECT_EQ(ENOSPC, rwl_result(rename(rwl_at(self->m, "data/big"),
					rwl_at(self->m, "data/big2"))));

	ASSERT_EQ(0, stat(rwl_at(self->m, "data/big"), &st));
	EXPECT_EQ(BIG_SIZE, st.st_size);
	EXPECT_EQ(0100644, st.st_mode);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(-1, check_pattern(self, rwl_at(self->m, "data/big"), BIG_SIZE,
				    BIG_SEED));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/big.ln")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/big2")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "data/big")));
	EXPECT_EQ(0, count_nondirs(self->rw.work));
	/* Nothing of the failed copy-ups is still charged. */
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/new"), 64 * KiB, 11));
}

/* --- inodes= ---------------------------------------------------------------- */

/* The N+1th object fails, whatever its type; unlink frees one. */
TEST_F(limits, inodes_limit)
{
	MOUNT("rule=/data:union:inodes=3", "data", NULL);
	EXPECT_EQ(0, create(rwl_at(self->m, "data/f1")));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "data/dir"), 0755));
	EXPECT_EQ(0, symlink("f1", rwl_at(self->m, "data/sym")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/f2")));
	EXPECT_EQ(ENOSPC, rwl_result(mkdir(rwl_at(self->m, "data/dir2"), 0755)));
	EXPECT_EQ(ENOSPC, rwl_result(symlink("f1", rwl_at(self->m, "data/sym2"))));
	EXPECT_EQ(ENOSPC, rwl_result(mknod(rwl_at(self->m, "data/fifo"), S_IFIFO | 0644,
				       0)));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/dir/f")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/f2")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/dir2")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/fifo")));
	/* A hard link is no new inode. */
	EXPECT_EQ(0, link(rwl_at(self->m, "data/f1"), rwl_at(self->m, "data/f1.ln")));
	/* An upper-only file leaves no whiteout: its inode comes back. */
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/sym")));
	EXPECT_EQ(0, mknod(rwl_at(self->m, "data/fifo"), S_IFIFO | 0644, 0));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/f3")));
	EXPECT_EQ(0, rmdir(rwl_at(self->m, "data/dir")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/f3")));
	/* Both names of f1 must go before its inode is free. */
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f1")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/f4")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f1.ln")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/f4")));
}

/* A copy-up of a lower file takes one inode. */
TEST_F(limits, inodes_copy_up)
{
	MOUNT("rule=/data:union:inodes=2", "data", NULL);
	EXPECT_EQ(0, chmod(rwl_at(self->m, "data/a"), 0600));
	EXPECT_EQ(0, chmod(rwl_at(self->m, "data/b"), 0600));
	EXPECT_EQ(ENOSPC, rwl_result(chmod(rwl_at(self->m, "data/c"), 0600)));
	EXPECT_EQ(ENOSPC, rwl_result(open(rwl_at(self->m, "data/c"),
				      O_WRONLY | O_CLOEXEC)));
	EXPECT_STREQ("c", rwl_cat(self->m, "data/c"));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "data/c")));
	EXPECT_EQ(0, count_nondirs(self->rw.work));
}

/* Directories copied up as parents count. */
TEST_F(limits, inodes_parents_count)
{
	MOUNT("rule=/data:union:inodes=3", "data", NULL);
	/* d1 and d2 are copied up, then new is created: 3 inodes. */
	EXPECT_EQ(0, create(rwl_at(self->m, "data/d1/d2/new")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->rw.upper, "data/d1/d2/new")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/x")));
	EXPECT_EQ(ENOSPC, rwl_result(mkdir(rwl_at(self->m, "data/d1/x"), 0755)));
	/* In an upper directory that already exists, freed ones come back. */
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/d1/d2/new")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/d1/d2/new2")));
}

/* Two parents would be copied up but only one inode is left. */
TEST_F(limits, inodes_parents_too_many)
{
	MOUNT("rule=/data:union:inodes=2", "data", NULL);
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/d1/d2/new")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/d1/d2/new")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->m, "data/d1/d2")));
	/* "Changes nothing": no parent was left copied up. */
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->rw.upper, "data/d1")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/x")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/y")));
}

/* Parents above the rule's root are copied up free of charge. */
TEST_F(limits, inodes_parents_outside_rule)
{
	MOUNT("rule=/data/d1:union:inodes=2", NULL);
	/* data/ is no one's; d1 (the root) and new are the rule's. */
	EXPECT_EQ(0, create(rwl_at(self->m, "data/d1/new")));
	EXPECT_EQ(0, rwl_exists(rwl_at(self->rw.upper, "data/d1/new")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/d1/new2")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/d1/new")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/d1/new2")));
}

/* The rule's own directory, copied up as a parent, is the rule's. */
TEST_F(limits, inodes_rule_root_counts)
{
	MOUNT("rule=/data:union:inodes=2", NULL);
	EXPECT_EQ(0, create(rwl_at(self->m, "data/f1")));	/* data/ and f1 */
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/f2")));
}

/* A whiteout is an inode: removing a lower file takes one. */
TEST_F(limits, inodes_whiteouts_count)
{
	MOUNT("rule=/data:union:inodes=3", "data", NULL);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/a")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/b")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/a")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/new")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/new2")));
	EXPECT_EQ(ENOSPC, rwl_result(mkdir(rwl_at(self->m, "data/dir"), 0755)));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/new2")));
}

/*
 * A name created where a whiteout was replaces it: the rule's count does
 * not grow, so this works at the limit ("a create that would go over").
 */
TEST_F(limits, inodes_create_over_whiteout)
{
	MOUNT("rule=/data:union:inodes=2", "data", NULL);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/a")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/b")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/new")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/a")));
	EXPECT_STREQ("", rwl_cat(self->m, "data/a"));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "data/b"), 0755));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/new")));
}

/*
 * The spec lists what fails with ENOSPC (write, truncate, fallocate,
 * copy-up, create), not unlink: a delete at the limit still works, its
 * whiteout counted, and statfs() then shows no inode free (not a
 * wrapped-around count).
 */
TEST_F(limits, inodes_unlink_at_limit)
{
	struct statfs sf;

	MOUNT("rule=/data:union:inodes=2", "data", NULL);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/a")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/b")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/c")));
	EXPECT_EQ(ENOENT, rwl_exists(rwl_at(self->m, "data/c")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/new")));
	ASSERT_EQ(0, statfs(rwl_at(self->m, "data"), &sf));
	EXPECT_EQ(2, sf.f_files);
	EXPECT_EQ(0, sf.f_ffree);
}

/* --- several rules -------------------------------------------------------- */

TEST_F(limits, rules_count_separately)
{
	MOUNT("rule=/data:union:size=64K:inodes=4,"
	      "rule=/other:union:size=64K:inodes=4", "data", "other", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/f"), 64 * KiB, 12));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "other/f"), 64 * KiB, 13));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/g"), 1, 12));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "other/g"), 1, 13));
	/* data/ f g, other/ f g: two inodes each so far */
	EXPECT_EQ(0, create(rwl_at(self->m, "data/h")));
	EXPECT_EQ(0, create(rwl_at(self->m, "data/i")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "data/j")));
	EXPECT_EQ(0, create(rwl_at(self->m, "other/h")));
	EXPECT_EQ(0, create(rwl_at(self->m, "other/i")));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "other/j")));
	/* Freeing in one does not help the other. */
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "other/g"), 1, 13));
	EXPECT_EQ(ENOSPC, create(rwl_at(self->m, "other/j")));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/g"), 64 * KiB, 12));
}

/* Nested rules: a name is charged to its own rule only. */
TEST_F(limits, nested_rules_count_separately)
{
	MOUNT("rule=/var:union:size=64K,rule=/var/tmp:empty:size=32K", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "var/tmp/t"), 32 * KiB, 14));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "var/tmp/u"), 1, 14));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "var/x"), 64 * KiB, 15));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "var/y"), 1, 15));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "var/tmp/t")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "var/y"), 1, 15));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "var/tmp/u"), 32 * KiB, 14));
}

/* Unlimited rules are not limited by their limited neighbours. */
TEST_F(limits, unlimited_rule)
{
	MOUNT("rule=/data:union:size=8K,rule=/other:union", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "other/big"), 256 * KiB, 16));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/f"), 8 * KiB, 16));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/g"), 1, 16));
}

/* --- statfs ----------------------------------------------------------------- */

static void check_statfs(struct __test_metadata *_metadata, const char *path,
			 unsigned long long limit, unsigned long long used,
			 unsigned long long files, unsigned long long ifree)
{
	unsigned long long total, free_bytes, bsize;
	struct statfs sf;

	ASSERT_EQ(0, statfs(path, &sf)) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_LT(0, sf.f_bsize);
	bsize = sf.f_bsize;
	total = (unsigned long long)sf.f_blocks * bsize;
	free_bytes = (unsigned long long)sf.f_bfree * bsize;
	/* the limit rounded to the block size, either way */
	EXPECT_LT(limit, total + bsize) TH_LOG("%s: %llu blocks of %llu", path,
					       (unsigned long long)sf.f_blocks,
					       bsize);
	EXPECT_GT(limit + bsize, total) TH_LOG("%s: %llu blocks of %llu", path,
					       (unsigned long long)sf.f_blocks,
					       bsize);
	/* used is a multiple of 4 KiB; allow rounding to bigger blocks */
	EXPECT_GE(total - used, free_bytes) TH_LOG("%s: bfree %llu", path,
						   (unsigned long long)sf.f_bfree);
	EXPECT_LT(total - used, free_bytes + bsize) TH_LOG("%s: bfree %llu",
							 path,
							 (unsigned long long)sf.f_bfree);
	EXPECT_EQ(sf.f_bfree, sf.f_bavail);
	EXPECT_EQ(files, sf.f_files) TH_LOG("%s", path);
	EXPECT_EQ(ifree, sf.f_ffree) TH_LOG("%s", path);
}

TEST_F(limits, statfs_reports_limit)
{
	MOUNT("rule=/data:union:size=64K:inodes=10", "data", NULL);
	check_statfs(_metadata, rwl_at(self->m, "data"), 64 * KiB, 0, 10, 10);
	check_statfs(_metadata, rwl_at(self->m, "data/d1/d2"), 64 * KiB, 0, 10, 10);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/f"), 16 * KiB, 17));
	check_statfs(_metadata, rwl_at(self->m, "data"), 64 * KiB, 16 * KiB, 10, 9);
	check_statfs(_metadata, rwl_at(self->m, "data/f"), 64 * KiB, 16 * KiB, 10, 9);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/g"), 1, 17));
	EXPECT_EQ(0, mkdir(rwl_at(self->m, "data/dir"), 0755));
	check_statfs(_metadata, rwl_at(self->m, "data/dir"), 64 * KiB, 20 * KiB, 10, 7);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f")));
	check_statfs(_metadata, rwl_at(self->m, "data"), 64 * KiB, 4 * KiB, 10, 8);
}

/* Each limited rule reports its own numbers. */
TEST_F(limits, statfs_per_rule)
{
	MOUNT("rule=/data:union:size=64K:inodes=10,"
	      "rule=/other:union:size=1M:inodes=5", "data", "other", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "other/f"), 100 * KiB, 18));
	check_statfs(_metadata, rwl_at(self->m, "data"), 64 * KiB, 0, 10, 10);
	check_statfs(_metadata, rwl_at(self->m, "other"), 1024 * KiB, 100 * KiB, 5, 4);
}

TEST_HARNESS_MAIN

static void drop_dentries(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
}

/*
 * What a file is charged survives the eviction of its cached inode: after
 * a drop_caches, growing it charges only the growth and removing it gives
 * everything back.
 */
TEST_F(limits, size_charge_survives_eviction)
{
	MOUNT("rule=/data:union:size=64K:inodes=100", NULL);
	ASSERT_EQ(0, chmod(rwl_at(self->m, "data/f5k"), 0600));	/* 8 KiB */
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 32 * KiB, 11));
	drop_dentries(_metadata);
	EXPECT_EQ(0, truncate(rwl_at(self->m, "data/one"), 40 * KiB));
	/* data/ itself, f5k and one */
	check_statfs(_metadata, rwl_at(self->m, "data"), 64 * KiB, 48 * KiB, 100,
		     97);
	drop_dentries(_metadata);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/one")));
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/f5k")));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 64 * KiB, 12));
}

/* An unlinked file still open keeps its space until the last close. */
TEST_F(limits, size_unlinked_open_file)
{
	int fd;

	MOUNT("rule=/data:union:size=64K", NULL);
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/one"), 48 * KiB, 13));
	fd = open(rwl_at(self->m, "data/one"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, unlink(rwl_at(self->m, "data/one")));
	EXPECT_EQ(ENOSPC, write_file(rwl_at(self->m, "data/two"), 32 * KiB, 14));
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, write_file(rwl_at(self->m, "data/two"), 32 * KiB, 14));
}
