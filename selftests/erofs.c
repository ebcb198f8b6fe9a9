// SPDX-License-Identifier: GPL-2.0
/*
 * Without an upper layer the union is read-only: every way of changing
 * it fails with EROFS, and none of them reaches a lower layer.  After
 * every test the lower trees are compared with a snapshot taken before.
 */
#include <sys/mman.h>
#include <sys/xattr.h>

#include "rwl_util.h"

#define XATTR_NAME	"trusted.rwltest"
#define SNAP_SIZE	(64 * 1024)

/*
 *   l0: f="data" (with trusted.rwltest)   d/c="child"   empty/
 *   l1: lf="lower"   ld/empty2/
 */
FIXTURE(ro) {
	struct rwl_env env;
	char l0[RWL_PATH], l1[RWL_PATH], mnt[RWL_PATH];
	char *before;
};

/* nftw() has no context argument: the snapshot being built. */
static char *snap_buf;
static size_t snap_len;
static size_t snap_skip;	/* length of the layer's path prefix */

static int snap_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char data[256] = "", xattrs[1024] = "", value[256];
	ssize_t n, len, pos, vn;

	(void)type;
	(void)ftw;
	if (S_ISREG(st->st_mode)) {
		n = rwl_read_text(path, data, sizeof(data));
		if (n < 0)
			snprintf(data, sizeof(data), "<%s>", strerror(-n));
	}
	len = llistxattr(path, xattrs, sizeof(xattrs));
	for (pos = 0; len > 0 && pos < len; pos += strlen(xattrs + pos) + 1) {
		vn = lgetxattr(path, xattrs + pos, value, sizeof(value) - 1);
		value[vn < 0 ? 0 : vn] = '\0';
		snap_len += snprintf(snap_buf + snap_len, SNAP_SIZE - snap_len,
				     "  xattr %s=%s\n", xattrs + pos, value);
	}
	snap_len += snprintf(snap_buf + snap_len, SNAP_SIZE - snap_len,
			     "%s mode %o uid %u gid %u size %lld nlink %lu ino %lu "
			     "mtime %lld.%09ld ctime %lld.%09ld data %s\n",
			     path + snap_skip, st->st_mode, st->st_uid, st->st_gid,
			     (long long)st->st_size, (unsigned long)st->st_nlink,
			     (unsigned long)st->st_ino,
			     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			     (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
			     data);
	return snap_len >= SNAP_SIZE;
}

/* A listing of both lower trees with every attribute and content. */
static char *snapshot(FIXTURE_DATA(ro) *self)
{
	const char *layers[] = { self->l0, self->l1 };
	size_t i;

	snap_buf = calloc(1, SNAP_SIZE);
	snap_len = 0;
	if (!snap_buf)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(layers); i++) {
		snap_len += snprintf(snap_buf + snap_len, SNAP_SIZE - snap_len,
				     "layer %zu\n", i);
		snap_skip = strlen(layers[i]);
		if (nftw(layers[i], snap_one, 16, FTW_PHYS)) {
			rwl_log("walking %s failed", layers[i]);
			free(snap_buf);
			return NULL;
		}
	}
	return snap_buf;
}

FIXTURE_SETUP(ro)
{
	char p[RWL_PATH], lower[2 * RWL_PATH + 2];

	RWL_ENV_SETUP(&self->env);
	rwl_pathf(self->l0, "%s/l0", self->env.base);
	rwl_pathf(self->l1, "%s/l1", self->env.base);
	rwl_pathf(self->mnt, "%s/mnt", self->env.base);
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l0, NULL));
	ASSERT_EQ(0, rwl_mount_tmpfs(&self->env, self->l1, NULL));

	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/f", self->l0), "data"));
	ASSERT_EQ(0, setxattr(p, XATTR_NAME, "x", 1, 0));
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/d", self->l0), 0755));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/d/c", self->l0), "child"));
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/empty", self->l0), 0755));
	ASSERT_EQ(0, rwl_write_text(rwl_pathf(p, "%s/lf", self->l1), "lower"));
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/ld", self->l1), 0755));
	ASSERT_EQ(0, rwl_mkdir(rwl_pathf(p, "%s/ld/empty2", self->l1), 0755));

	snprintf(lower, sizeof(lower), "%s:%s", self->l0, self->l1);
	ASSERT_EQ(0, rwl_mount_lower(&self->env, self->mnt, lower));
	self->before = snapshot(self);
	ASSERT_NE(NULL, self->before);
}

/* The lower trees must be exactly as they were before the test. */
static void check_unchanged(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ro) *self)
{
	char *after = snapshot(self);

	EXPECT_NE(NULL, after);
	if (after && self->before) {
		EXPECT_STREQ(self->before, after);
	}
	free(after);
}

FIXTURE_TEARDOWN(ro)
{
	if (self->before)
		check_unchanged(_metadata, self);
	free(self->before);
	RWL_ENV_TEARDOWN(&self->env);
}

static int op_open_wronly(const char *m)
{
	return rwl_try_open(rwl_at(m, "f"), O_WRONLY) ?:
	       rwl_try_open(rwl_at(m, "lf"), O_WRONLY) ?:
	       rwl_try_open(rwl_at(m, "d/c"), O_WRONLY | O_APPEND);
}

static int op_open_rdwr(const char *m)
{
	return rwl_try_open(rwl_at(m, "f"), O_RDWR) ?: rwl_try_open(rwl_at(m, "lf"), O_RDWR);
}

static int op_open_creat(const char *m)
{
	return rwl_try_open(rwl_at(m, "new"), O_WRONLY | O_CREAT) ?:
	       rwl_try_open(rwl_at(m, "d/new"), O_RDONLY | O_CREAT | O_EXCL) ?:
	       rwl_try_open(rwl_at(m, "ld/new"), O_RDWR | O_CREAT);
}

static int op_open_trunc(const char *m)
{
	return rwl_try_open(rwl_at(m, "f"), O_WRONLY | O_TRUNC) ?:
	       rwl_try_open(rwl_at(m, "lf"), O_RDONLY | O_TRUNC);
}

static int op_truncate(const char *m)
{
	return rwl_result(truncate(rwl_at(m, "f"), 0)) ?:
	       rwl_result(truncate(rwl_at(m, "lf"), 1 << 20));
}

static int op_mkdir(const char *m)
{
	return rwl_result(mkdir(rwl_at(m, "newdir"), 0755)) ?:
	       rwl_result(mkdir(rwl_at(m, "ld/newdir"), 0755));
}

static int op_mknod_fifo(const char *m)
{
	return rwl_result(mknod(rwl_at(m, "newfifo"), S_IFIFO | 0644, 0));
}

static int op_mkfifo(const char *m)
{
	return rwl_result(mkfifo(rwl_at(m, "d/newfifo"), 0644));
}

static int op_unlink(const char *m)
{
	return rwl_result(unlink(rwl_at(m, "f"))) ?: rwl_result(unlink(rwl_at(m, "lf"))) ?:
	       rwl_result(unlink(rwl_at(m, "d/c")));
}

static int op_rmdir(const char *m)
{
	return rwl_result(rmdir(rwl_at(m, "empty"))) ?:
	       rwl_result(rmdir(rwl_at(m, "ld/empty2")));
}

static int op_rename(const char *m)
{
	return rwl_result(rename(rwl_at(m, "f"), rwl_at(m, "renamed"))) ?:
	       rwl_result(rename(rwl_at(m, "lf"), rwl_at(m, "d/lf")));
}

static int op_link(const char *m)
{
	return rwl_result(link(rwl_at(m, "f"), rwl_at(m, "newlink"))) ?:
	       rwl_result(link(rwl_at(m, "lf"), rwl_at(m, "ld/newlink")));
}

static int op_symlink(const char *m)
{
	return rwl_result(symlink("f", rwl_at(m, "newsym")));
}

static int op_chmod(const char *m)
{
	int fd, err;

	err = rwl_result(chmod(rwl_at(m, "f"), 0600)) ?: rwl_result(chmod(rwl_at(m, "ld"), 0700));
	if (err)
		return err;
	fd = open(rwl_at(m, "lf"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = rwl_result(fchmod(fd, 0600));
	close(fd);
	return err;
}

static int op_chown(const char *m)
{
	int fd, err;

	err = rwl_result(chown(rwl_at(m, "f"), 1, 1)) ?: rwl_result(lchown(rwl_at(m, "d"), 1, 1));
	if (err)
		return err;
	fd = open(rwl_at(m, "lf"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = rwl_result(fchown(fd, 1, 1));
	close(fd);
	return err;
}

static int op_utimensat(const char *m)
{
	const struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	int fd, err;

	err = rwl_result(utimensat(AT_FDCWD, rwl_at(m, "f"), NULL, 0)) ?:
	      rwl_result(utimensat(AT_FDCWD, rwl_at(m, "lf"), ts, 0)) ?:
	      rwl_result(utimensat(AT_FDCWD, rwl_at(m, "d"), ts, AT_SYMLINK_NOFOLLOW));
	if (err)
		return err;
	fd = open(rwl_at(m, "f"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = rwl_result(futimens(fd, ts));
	close(fd);
	return err;
}

static int op_setxattr(const char *m)
{
	int fd, err;

	err = rwl_result(setxattr(rwl_at(m, "f"), "trusted.new", "v", 1, 0)) ?:
	      rwl_result(setxattr(rwl_at(m, "f"), XATTR_NAME, "y", 1, XATTR_REPLACE)) ?:
	      rwl_result(setxattr(rwl_at(m, "d"), "trusted.new", "v", 1, 0));
	if (err)
		return err;
	fd = open(rwl_at(m, "lf"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = rwl_result(fsetxattr(fd, "trusted.new", "v", 1, 0));
	close(fd);
	return err;
}

static int op_removexattr(const char *m)
{
	int fd, err;

	err = rwl_result(removexattr(rwl_at(m, "f"), XATTR_NAME));
	if (err)
		return err;
	fd = open(rwl_at(m, "f"), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	err = rwl_result(fremovexattr(fd, XATTR_NAME));
	close(fd);
	return err;
}

static const struct {
	const char *name;
	int (*fn)(const char *m);
} ops[] = {
	{ "open O_WRONLY", op_open_wronly },
	{ "open O_RDWR", op_open_rdwr },
	{ "open O_CREAT", op_open_creat },
	{ "open O_TRUNC", op_open_trunc },
	{ "truncate", op_truncate },
	{ "mkdir", op_mkdir },
	{ "mknod fifo", op_mknod_fifo },
	{ "mkfifo", op_mkfifo },
	{ "unlink", op_unlink },
	{ "rmdir", op_rmdir },
	{ "rename", op_rename },
	{ "link", op_link },
	{ "symlink", op_symlink },
	{ "chmod", op_chmod },
	{ "chown", op_chown },
	{ "utimensat", op_utimensat },
	{ "setxattr", op_setxattr },
	{ "removexattr", op_removexattr },
};

#define EXPECT_EROFS(op) do {						\
	int __err = op(self->mnt);					\
									\
	EXPECT_EQ(EROFS, __err) TH_LOG("%s: %s", #op,			\
				       __err ? strerror(__err) : "succeeded"); \
} while (0)

TEST_F(ro, open_wronly)		{ EXPECT_EROFS(op_open_wronly); }
TEST_F(ro, open_rdwr)		{ EXPECT_EROFS(op_open_rdwr); }
TEST_F(ro, open_creat)		{ EXPECT_EROFS(op_open_creat); }
TEST_F(ro, open_trunc)		{ EXPECT_EROFS(op_open_trunc); }
TEST_F(ro, truncate)		{ EXPECT_EROFS(op_truncate); }
TEST_F(ro, mkdir)		{ EXPECT_EROFS(op_mkdir); }
TEST_F(ro, mknod_fifo)		{ EXPECT_EROFS(op_mknod_fifo); }
TEST_F(ro, mkfifo)		{ EXPECT_EROFS(op_mkfifo); }
TEST_F(ro, unlink)		{ EXPECT_EROFS(op_unlink); }
TEST_F(ro, rmdir)		{ EXPECT_EROFS(op_rmdir); }
TEST_F(ro, rename)		{ EXPECT_EROFS(op_rename); }
TEST_F(ro, link)		{ EXPECT_EROFS(op_link); }
TEST_F(ro, symlink)		{ EXPECT_EROFS(op_symlink); }
TEST_F(ro, chmod)		{ EXPECT_EROFS(op_chmod); }
TEST_F(ro, chown)		{ EXPECT_EROFS(op_chown); }
TEST_F(ro, utimensat)		{ EXPECT_EROFS(op_utimensat); }
TEST_F(ro, setxattr)		{ EXPECT_EROFS(op_setxattr); }
TEST_F(ro, removexattr)		{ EXPECT_EROFS(op_removexattr); }

/* No writable fd can be had, and a read-only one cannot allocate. */
TEST_F(ro, fallocate)
{
	int fd;

	EXPECT_EQ(-1, open(rwl_at(self->mnt, "f"), O_RDWR | O_CLOEXEC));
	EXPECT_EQ(EROFS, errno);
	fd = open(rwl_at(self->mnt, "f"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, fallocate(fd, 0, 0, 1 << 20));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, 4096));
	EXPECT_EQ(EBADF, errno);
	/* Nor a read-only fd write or truncate. */
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/* A shared writable mapping is refused; a private one stays private. */
TEST_F(ro, mmap_write)
{
	char *map;
	int fd;

	fd = open(rwl_at(self->mnt, "f"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EACCES, errno);
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, memcmp(map, "data", 4));
	memcpy(map, "DATA", 4);
	EXPECT_EQ(0, msync(map, 4096, MS_SYNC));
	munmap(map, 4096);
	close(fd);
}

/* Everything at once, then an explicit comparison with the snapshot. */
TEST_F(ro, all_attempts_lower_unchanged)
{
	char buf[16];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		err = ops[i].fn(self->mnt);
		EXPECT_EQ(EROFS, err) TH_LOG("%s: %s", ops[i].name,
					     err ? strerror(err) : "succeeded");
	}
	check_unchanged(_metadata, self);
	/* The union still shows the old content. */
	EXPECT_EQ(4, rwl_read_text(rwl_at(self->mnt, "f"), buf, sizeof(buf)));
	EXPECT_STREQ("data", buf);
	EXPECT_EQ(5, rwl_read_text(rwl_at(self->mnt, "lf"), buf, sizeof(buf)));
	EXPECT_STREQ("lower", buf);
}

TEST_HARNESS_MAIN
