// SPDX-License-Identifier: GPL-2.0
/*
 * I/O and object creation in the writable layer: hard links, symlinks,
 * device nodes, fifos and sockets made through the union exist in the
 * upper; MAP_SHARED writes, O_DIRECT, fsync, large writes, appends and
 * truncation reach the upper file; new files get the caller's owner, the
 * umask and set-gid directories applied; and none of it touches the lower.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/xattr.h>

#include "rwl_tree.h"

#define MiB		(1024 * 1024)

/* ---- helpers ---------------------------------------------------------- */

/* open() @path with @flags: 0 or the errno (a returned fd is closed). */
static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* ---- the fixture ------------------------------------------------------ */

#define LF_TEXT		"lower file"
#define LMM_SIZE	(64 * KiB)
#define LMM_SEED	5

/*
 * lower/: lf "lower file"  lmm (64 KiB pattern)  ld/  pub/ 1777
 *         sg/ 02775 root:500
 */
FIXTURE(uio) {
	struct rwl_env env;
	struct rwl_rw rw;
	char *before;
};

FIXTURE_SETUP(uio)
{
	const char *l;

	RWL_ENV_SETUP(&self->env);
	umask(022);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;
	ASSERT_EQ(0, rwl_mk(l, "lf", 'f', LF_TEXT));
	ASSERT_EQ(0, rwl_write_pattern(pf("%s/lmm", l), LMM_SIZE, LMM_SEED, 0644));
	ASSERT_EQ(0, rwl_mk(l, "ld", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "pub", 'd', NULL));
	ASSERT_EQ(0, chmod(pf("%s/pub", l), 01777));
	ASSERT_EQ(0, rwl_mk(l, "sg", 'd', NULL));
	ASSERT_EQ(0, chown(pf("%s/sg", l), 0, 500));
	ASSERT_EQ(0, chmod(pf("%s/sg", l), 02775));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
	self->before = snapshot(l);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(uio)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower tree", self->before,
				     snapshot(self->rw.lower));
	RWL_ENV_TEARDOWN(&self->env);
}

TEST_F(uio, hard_links)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct stat a, b, ua, ub;
	int fd;

	ASSERT_EQ(0, rwl_mk(m, "f", 'f', "hello"));
	ASSERT_EQ(0, link(pf("%s/f", m), pf("%s/g", m)));
	ASSERT_EQ(0, link(pf("%s/f", m), pf("%s/ld/h", m)));

	ASSERT_EQ(0, lstat(pf("%s/f", m), &a));
	ASSERT_EQ(0, lstat(pf("%s/g", m), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_dev, b.st_dev);
	EXPECT_EQ(3, a.st_nlink);
	EXPECT_EQ(3, b.st_nlink);
	ASSERT_EQ(0, lstat(pf("%s/ld/h", m), &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	ASSERT_EQ(0, lstat(pf("%s/f", u), &ua));
	ASSERT_EQ(0, lstat(pf("%s/g", u), &ub));
	EXPECT_EQ(ua.st_ino, ub.st_ino);
	EXPECT_EQ(3, ub.st_nlink);
	ASSERT_EQ(0, lstat(pf("%s/ld/h", u), &ub));
	EXPECT_EQ(ua.st_ino, ub.st_ino);

	/* One inode: a write through one name shows through the others. */
	fd = open(pf("%s/g", m), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(6, write(fd, " world", 6));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("hello world", rwl_cat(m, "f"));
	EXPECT_STREQ("hello world", rwl_cat(m, "ld/h"));
	EXPECT_STREQ("hello world", rwl_cat(u, "f"));

	ASSERT_EQ(0, unlink(pf("%s/f", m)));
	ASSERT_EQ(0, lstat(pf("%s/g", m), &b));
	EXPECT_EQ(2, b.st_nlink);
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/f", u)));
	EXPECT_STREQ("hello world", rwl_cat(m, "g"));
	EXPECT_STREQ("g,ld", names(u));
}

TEST_F(uio, symlinks)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	char target[256], lng[201];
	struct stat st;

	ASSERT_EQ(0, symlink("lf", pf("%s/s", m)));
	ASSERT_EQ(0, symlink("nowhere", pf("%s/dangling", m)));
	memset(lng, 'x', 200);
	lng[200] = '\0';
	ASSERT_EQ(0, symlink(lng, pf("%s/ld/long", m)));

	ASSERT_EQ(0, lstat(pf("%s/s", m), &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	EXPECT_EQ(2, st.st_size);
	memset(target, 0, sizeof(target));
	EXPECT_EQ(2, readlink(pf("%s/s", m), target, sizeof(target) - 1));
	EXPECT_STREQ("lf", target);
	EXPECT_STREQ(LF_TEXT, rwl_cat(m, "s"));
	memset(target, 0, sizeof(target));
	EXPECT_EQ(2, readlink(pf("%s/s", u), target, sizeof(target) - 1));
	EXPECT_STREQ("lf", target);
	memset(target, 0, sizeof(target));
	EXPECT_EQ(200, readlink(pf("%s/ld/long", m), target, sizeof(target) - 1));
	EXPECT_STREQ(lng, target);
	memset(target, 0, sizeof(target));
	EXPECT_EQ(200, readlink(pf("%s/ld/long", u), target, sizeof(target) - 1));
	EXPECT_STREQ(lng, target);
	EXPECT_EQ(ENOENT, stat(pf("%s/dangling", m), &st) ? errno : 0);
	EXPECT_EQ(0, lstat(pf("%s/dangling", u), &st));
	EXPECT_STREQ("dangling,ld,s", names(u));
}

TEST_F(uio, char_device)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct stat st;
	char buf[8];
	int fd;

	ASSERT_EQ(0, mknod(pf("%s/null", m), S_IFCHR | 0640, makedev(1, 3)));
	ASSERT_EQ(0, lstat(pf("%s/null", m), &st));
	EXPECT_EQ(S_IFCHR | 0640, st.st_mode);
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	ASSERT_EQ(0, lstat(pf("%s/null", u), &st));
	EXPECT_EQ(S_IFCHR | 0640, st.st_mode);
	EXPECT_EQ(makedev(1, 3), st.st_rdev);
	/* It is a device: opening it reaches the null driver. */
	fd = open(pf("%s/null", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	EXPECT_EQ(5, write(fd, "hello", 5));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

TEST_F(uio, fifo)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct stat st;
	char buf[8];
	int fd;

	ASSERT_EQ(0, mkfifo(pf("%s/ld/fifo", m), 0640));
	ASSERT_EQ(0, lstat(pf("%s/ld/fifo", m), &st));
	EXPECT_EQ(S_IFIFO | 0640, st.st_mode);
	ASSERT_EQ(0, lstat(pf("%s/ld/fifo", u), &st));
	EXPECT_EQ(S_IFIFO | 0640, st.st_mode);
	fd = open(pf("%s/ld/fifo", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(4, write(fd, "ping", 4));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_STREQ("ping", buf);
	close(fd);
}

TEST_F(uio, unix_socket)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int srv, cli, conn;
	struct stat st;
	char buf[8];
	const char *sp;

	sp = pf("%s/ld/sock", m);
	ASSERT_LT(strlen(sp), sizeof(addr.sun_path));
	memcpy(addr.sun_path, sp, strlen(sp) + 1);
	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, bind(srv, (struct sockaddr *)&addr, sizeof(addr)))
		TH_LOG("bind: %s", strerror(errno));
	ASSERT_EQ(0, listen(srv, 1));
	ASSERT_EQ(0, lstat(addr.sun_path, &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(0, lstat(pf("%s/ld/sock", u), &st));
	EXPECT_TRUE(S_ISSOCK(st.st_mode));

	cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, connect(cli, (struct sockaddr *)&addr, sizeof(addr)))
		TH_LOG("connect: %s", strerror(errno));
	conn = accept(srv, NULL, NULL);
	ASSERT_LE(0, conn);
	EXPECT_EQ(2, send(cli, "hi", 2, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(2, recv(conn, buf, sizeof(buf), 0));
	EXPECT_STREQ("hi", buf);
	close(conn);
	close(cli);
	close(srv);
	ASSERT_EQ(0, unlink(addr.sun_path));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/ld/sock", u)));
}

/* @path holds the pattern @seed over [off, off + len). */
static void expect_pattern(struct __test_metadata *_metadata,
			   const char *path, off_t off, size_t len,
			   unsigned int seed)
{
	char *buf = malloc(len);
	ssize_t n;
	int fd;

	ASSERT_NE(NULL, buf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	n = pread(fd, buf, len, off);
	close(fd);
	EXPECT_EQ((ssize_t)len, n) TH_LOG("%s", path);
	if (n == (ssize_t)len) {
		EXPECT_EQ(-1, rwl_pattern_check(buf, len, off, seed))
			TH_LOG("%s at %lld", path, (long long)off);
	}
	free(buf);
}

TEST_F(uio, mmap_shared)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	size_t half = LMM_SIZE / 2;
	char *map;
	int fd;

	/* A file created in the union. */
	fd = open(pf("%s/mm", m), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, LMM_SIZE));
	map = mmap(NULL, LMM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	rwl_pattern_fill(map, LMM_SIZE, 0, 9);
	ASSERT_EQ(0, msync(map, LMM_SIZE, MS_SYNC));
	expect_pattern(_metadata, pf("%s/mm", m), 0, LMM_SIZE, 9);
	expect_pattern(_metadata, pf("%s/mm", u), 0, LMM_SIZE, 9);
	ASSERT_EQ(0, munmap(map, LMM_SIZE));
	ASSERT_EQ(0, close(fd));

	/* A lower file, copied up by the O_RDWR open; half rewritten. */
	fd = open(pf("%s/lmm", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	map = mmap(NULL, LMM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, rwl_pattern_check(map, LMM_SIZE, 0, LMM_SEED));
	rwl_pattern_fill(map, half, 0, 10);
	ASSERT_EQ(0, msync(map, LMM_SIZE, MS_SYNC));
	expect_pattern(_metadata, pf("%s/lmm", m), 0, half, 10);
	expect_pattern(_metadata, pf("%s/lmm", m), half, half, LMM_SEED);
	expect_pattern(_metadata, pf("%s/lmm", u), 0, half, 10);
	expect_pattern(_metadata, pf("%s/lmm", u), half, half, LMM_SEED);
	ASSERT_EQ(0, munmap(map, LMM_SIZE));
	ASSERT_EQ(0, close(fd));
	expect_pattern(_metadata, pf("%s/lmm", self->rw.lower), 0, LMM_SIZE,
		       LMM_SEED);
	EXPECT_STREQ("lmm,mm", names(u));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

#define DIO_SIZE	(256 * KiB)

TEST_F(uio, o_direct)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	void *wbuf, *rbuf;
	int probe, fd;

	/* Does the upper's filesystem do O_DIRECT?  Ask it beside upper/. */
	probe = open(pf("%s/probe", self->rw.rw),
		     O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
	if (probe < 0) {
		ASSERT_EQ(EINVAL, errno);
		rwl_log("the upper's filesystem refuses O_DIRECT: so must the union");
		/* The union gives the upper's answer. */
		EXPECT_EQ(EINVAL, open_errno(pf("%s/dio", m),
					     O_RDWR | O_CREAT | O_DIRECT));
		EXPECT_EQ(EINVAL, open_errno(pf("%s/lf", m), O_RDWR | O_DIRECT));
		EXPECT_STREQ(LF_TEXT, rwl_cat(m, "lf"));
		return;
	}
	close(probe);
	rwl_log("the upper's filesystem does O_DIRECT: so must the union");

	ASSERT_EQ(0, posix_memalign(&wbuf, 4096, DIO_SIZE));
	ASSERT_EQ(0, posix_memalign(&rbuf, 4096, DIO_SIZE));
	rwl_pattern_fill(wbuf, DIO_SIZE, 0, 11);
	fd = open(pf("%s/dio", m), O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("open O_DIRECT: %s", strerror(errno));
	EXPECT_NE(0, fcntl(fd, F_GETFL) & O_DIRECT);
	EXPECT_EQ(DIO_SIZE, pwrite(fd, wbuf, DIO_SIZE, 0));
	memset(rbuf, 0, DIO_SIZE);
	EXPECT_EQ(DIO_SIZE, pread(fd, rbuf, DIO_SIZE, 0));
	EXPECT_EQ(-1, rwl_pattern_check(rbuf, DIO_SIZE, 0, 11));
	ASSERT_EQ(0, close(fd));
	expect_pattern(_metadata, pf("%s/dio", m), 0, DIO_SIZE, 11);
	expect_pattern(_metadata, pf("%s/dio", u), 0, DIO_SIZE, 11);

	/* A lower file opened O_DIRECT for writing is copied up first. */
	fd = open(pf("%s/lf", m), O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open O_DIRECT: %s", strerror(errno));
	memset(rbuf, 0, 4096);
	EXPECT_EQ(strlen(LF_TEXT), pread(fd, rbuf, 4096, 0));
	EXPECT_EQ(0, memcmp(rbuf, LF_TEXT, strlen(LF_TEXT)));
	EXPECT_EQ(4096, pwrite(fd, wbuf, 4096, 0));
	ASSERT_EQ(0, close(fd));
	expect_pattern(_metadata, pf("%s/lf", m), 0, 4096, 11);
	expect_pattern(_metadata, pf("%s/lf", u), 0, 4096, 11);
	free(wbuf);
	free(rbuf);
}

TEST_F(uio, fsync_syncfs)
{
	const char *m = self->rw.mnt;
	int fd, ro, dir;

	fd = open(pf("%s/sf", m), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "sync", 4));
	EXPECT_EQ(0, fsync(fd)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, fdatasync(fd)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, syncfs(fd)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE))
		TH_LOG("%s", strerror(errno));
	close(fd);

	/* A lower file, read-only and then copied up. */
	ro = open(pf("%s/lf", m), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(0, fsync(ro)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, fdatasync(ro)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, syncfs(ro)) TH_LOG("%s", strerror(errno));
	close(ro);
	fd = open(pf("%s/lf", m), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "!", 1));
	EXPECT_EQ(0, fsync(fd)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, fdatasync(fd)) TH_LOG("%s", strerror(errno));
	close(fd);

	dir = open(m, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	EXPECT_EQ(0, fsync(dir)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, syncfs(dir)) TH_LOG("%s", strerror(errno));
	close(dir);
	EXPECT_STREQ("sync", rwl_cat(self->rw.upper, "sf"));
	EXPECT_STREQ(LF_TEXT "!", rwl_cat(self->rw.upper, "lf"));
}

#define BIG_SIZE	(8 * MiB)

TEST_F_TIMEOUT(uio, big_file, 120)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct stat st;
	char buf[3];
	int fd;

	ASSERT_EQ(0, rwl_write_pattern(pf("%s/big", m), BIG_SIZE, 21, 0644));
	ASSERT_EQ(0, stat(pf("%s/big", m), &st));
	EXPECT_EQ(BIG_SIZE, st.st_size);
	ASSERT_EQ(0, stat(pf("%s/big", u), &st));
	EXPECT_EQ(BIG_SIZE, st.st_size);
	expect_pattern(_metadata, pf("%s/big", m), 0, BIG_SIZE, 21);
	expect_pattern(_metadata, pf("%s/big", u), 0, BIG_SIZE, 21);

	/* An unaligned rewrite across a page boundary in the middle. */
	fd = open(pf("%s/big", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	rwl_pattern_fill(buf, 3, 4 * MiB - 1, 22);
	ASSERT_EQ(3, pwrite(fd, buf, 3, 4 * MiB - 1));
	ASSERT_EQ(0, close(fd));
	expect_pattern(_metadata, pf("%s/big", u), 4 * MiB - 1, 3, 22);
	expect_pattern(_metadata, pf("%s/big", m), 4 * MiB - 1, 3, 22);
	expect_pattern(_metadata, pf("%s/big", m), 0, 4 * MiB - 1, 21);
	expect_pattern(_metadata, pf("%s/big", m), 4 * MiB + 2,
		       BIG_SIZE - 4 * MiB - 2, 21);
}

TEST_F(uio, append)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	int fd;

	ASSERT_EQ(0, rwl_mk(m, "ap", 'f', "abc"));
	fd = open(pf("%s/ap", m), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "def", 3));
	/* With O_APPEND, pwrite appends too (Linux), offset untouched. */
	ASSERT_EQ(3, pwrite(fd, "ghi", 3, 0));
	EXPECT_EQ(6, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("abcdefghi", rwl_cat(m, "ap"));
	EXPECT_STREQ("abcdefghi", rwl_cat(u, "ap"));

	fd = open(pf("%s/lf", m), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "+", 1));
	ASSERT_EQ(1, write(fd, "+", 1));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ(LF_TEXT "++", rwl_cat(m, "lf"));
	EXPECT_STREQ(LF_TEXT "++", rwl_cat(u, "lf"));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(uio, ftruncate)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	char buf[8192], zeros[8192] = { 0 };
	struct stat st;
	int fd;

	ASSERT_EQ(0, rwl_mk(m, "tr", 'f', "0123456789"));
	fd = open(pf("%s/tr", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4));
	EXPECT_STREQ("0123", rwl_cat(u, "tr"));
	ASSERT_EQ(0, ftruncate(fd, 8192));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(8192, st.st_size);
	ASSERT_EQ(8192, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(0, memcmp(buf + 4, zeros, sizeof(buf) - 4));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(pf("%s/tr", u), &st));
	EXPECT_EQ(8192, st.st_size);
	ASSERT_EQ(0, stat(pf("%s/tr", m), &st));
	EXPECT_EQ(8192, st.st_size);

	/* A lower file: the fd that copied it up truncates the copy. */
	fd = open(pf("%s/lf", m), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 5));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("lower", rwl_cat(m, "lf"));
	EXPECT_STREQ("lower", rwl_cat(u, "lf"));
	fd = open(pf("%s/lf", m), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ftruncate(fd, 0));
	EXPECT_TRUE(errno == EINVAL || errno == EBADF) TH_LOG("%s", strerror(errno));
	close(fd);
}

/* Created objects: mode, owner and identity in the union and upper. */
static void expect_created(struct __test_metadata *_metadata,
			   FIXTURE_DATA(uio) *self, const char *name,
			   mode_t mode, uid_t uid, gid_t gid, bool made_here)
{
	struct stat ms, us;

	ASSERT_EQ(0, lstat(pf("%s/%s", self->rw.mnt, name), &ms)) TH_LOG("%s", name);
	ASSERT_EQ(0, lstat(pf("%s/%s", self->rw.upper, name), &us))
		TH_LOG("%s not in the upper", name);
	EXPECT_EQ(mode, us.st_mode) TH_LOG("%s", name);
	EXPECT_EQ(uid, us.st_uid) TH_LOG("%s", name);
	EXPECT_EQ(gid, us.st_gid) TH_LOG("%s", name);
	EXPECT_EQ(us.st_mode, ms.st_mode) TH_LOG("%s", name);
	EXPECT_EQ(us.st_uid, ms.st_uid) TH_LOG("%s", name);
	EXPECT_EQ(us.st_gid, ms.st_gid) TH_LOG("%s", name);
	/*
	 * Spec: a file created in the upper shows the upper's st_dev and
	 * st_ino; a directory the union's st_dev and the st_ino of its
	 * lowest layer, the upper for one made through the union.
	 */
	if (!S_ISDIR(us.st_mode)) {
		EXPECT_EQ(us.st_ino, ms.st_ino) TH_LOG("%s", name);
		EXPECT_EQ(us.st_dev, ms.st_dev) TH_LOG("%s", name);
	} else if (made_here) {
		struct stat root;

		ASSERT_EQ(0, stat(self->rw.mnt, &root));
		EXPECT_EQ(us.st_ino, ms.st_ino) TH_LOG("%s", name);
		EXPECT_EQ(root.st_dev, ms.st_dev) TH_LOG("%s", name);
	}
}

static int nobody_creates(void *arg)
{
	const char *m = arg;
	int fd;

	umask(027);
	fd = open(pf("%s/pub/nf", m), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		  0666);
	if (fd < 0 || close(fd)) {
		rwl_log("create pub/nf: %s", strerror(errno));
		return 1;
	}
	if (mkdir(pf("%s/pub/nd", m), 0777)) {
		rwl_log("mkdir pub/nd: %s", strerror(errno));
		return 2;
	}
	if (symlink("nf", pf("%s/pub/nl", m))) {
		rwl_log("symlink pub/nl: %s", strerror(errno));
		return 3;
	}
	return 0;
}

TEST_F(uio, create_mode_owner)
{
	const char *m = self->rw.mnt;
	mode_t old = umask(022);
	int fd;

	fd = open(pf("%s/cf", m), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, mkdir(pf("%s/cd", m), 0777));
	ASSERT_EQ(0, mknod(pf("%s/cp", m), S_IFIFO | 0666, 0));
	ASSERT_EQ(0, rwl_mk(m, "sg/f", 'f', "f"));
	ASSERT_EQ(0, mkdir(pf("%s/sg/d", m), 0777));
	umask(old);

	expect_created(_metadata, self, "cf", S_IFREG | 0644, 0, 0, true);
	expect_created(_metadata, self, "cd", S_IFDIR | 0755, 0, 0, true);
	expect_created(_metadata, self, "cp", S_IFIFO | 0644, 0, 0, true);
	/* A set-gid directory hands down its group (and the bit to dirs). */
	expect_created(_metadata, self, "sg/f", S_IFREG | 0644, 0, 500, true);
	expect_created(_metadata, self, "sg/d", S_IFDIR | 02755, 0, 500, true);

	ASSERT_EQ(0, rwl_run_as(RWL_NOBODY, nobody_creates, (void *)m));
	expect_created(_metadata, self, "pub/nf", S_IFREG | 0640, RWL_NOBODY,
		       RWL_NOBODY, true);
	expect_created(_metadata, self, "pub/nd", S_IFDIR | 0750, RWL_NOBODY,
		       RWL_NOBODY, true);
	expect_created(_metadata, self, "pub/nl", S_IFLNK | 0777, RWL_NOBODY,
		       RWL_NOBODY, true);
	/* The copied-up parents keep their modes. */
	expect_created(_metadata, self, "pub", S_IFDIR | 01777, 0, 0, false);
	expect_created(_metadata, self, "sg", S_IFDIR | 02775, 0, 500, false);
}

TEST_HARNESS_MAIN
