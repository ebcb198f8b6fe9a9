// SPDX-License-Identifier: GPL-2.0
/*
 * The server changes a lower layer while the union is mounted
 * (rwlayer.rst "Changes in the lower"): a file replaced, deleted,
 * created, renamed or rewritten in place in the lower shows through the
 * union at once, with no error, also for names the union had looked up
 * before (present or absent) and in directories it has listed; and what
 * the client changed lives in the upper and keeps the client's version.
 */
#include "rwl_tree.h"

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

/*
 * lower/: r "old"  d "doomed"  rn "renamed"  w "0123456789"  ap "append"
 *         c "server c"  c2 "server c2"  wd "server wd"  ff "file"
 *         sub/s "s"   dd/f "f"   tf/
 */
FIXTURE(lc) {
	struct rwl_env env;
	struct rwl_rw rw;
};

FIXTURE_SETUP(lc)
{
	const char *l;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	l = self->rw.lower;
	ASSERT_EQ(0, rwl_mk(l, "r", 'f', "old"));
	ASSERT_EQ(0, rwl_mk(l, "d", 'f', "doomed"));
	ASSERT_EQ(0, rwl_mk(l, "rn", 'f', "renamed"));
	ASSERT_EQ(0, rwl_mk(l, "w", 'f', "0123456789"));
	ASSERT_EQ(0, rwl_mk(l, "ap", 'f', "append"));
	ASSERT_EQ(0, rwl_mk(l, "c", 'f', "server c"));
	ASSERT_EQ(0, rwl_mk(l, "c2", 'f', "server c2"));
	ASSERT_EQ(0, rwl_mk(l, "wd", 'f', "server wd"));
	ASSERT_EQ(0, rwl_mk(l, "ff", 'f', "file"));
	ASSERT_EQ(0, rwl_mk(l, "sub", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "sub/s", 'f', "s"));
	ASSERT_EQ(0, rwl_mk(l, "dd", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "dd/f", 'f', "f"));
	ASSERT_EQ(0, rwl_mk(l, "tf", 'd', NULL));
	ASSERT_EQ(0, rwl_rw_mount(&self->env, &self->rw, NULL));
}

FIXTURE_TEARDOWN(lc)
{
	RWL_ENV_TEARDOWN(&self->env);
}

#define ROOT_NAMES	"ap,c,c2,d,dd,ff,r,rn,sub,tf,w,wd"

/* What the server does: replace @name in @dir by a new file via rename. */
static int server_replace(const char *dir, const char *name, const char *text)
{
	char tmp[RWL_PATH], dst[RWL_PATH];
	int err;

	rwl_pathf(tmp, "%s/.%s.new", dir, name);
	rwl_pathf(dst, "%s/%s", dir, name);
	err = rwl_write_text(tmp, text);
	if (!err && rename(tmp, dst))
		err = -errno;
	return err;
}

/* @name in the union reads @text and stat()s with the lower's identity. */
static void expect_lower_file(struct __test_metadata *_metadata,
			      FIXTURE_DATA(lc) *self, const char *name,
			      const char *text)
{
	struct stat ls, ms;

	EXPECT_STREQ(text, rwl_cat(self->rw.mnt, name)) TH_LOG("%s", name);
	ASSERT_EQ(0, stat(pf("%s/%s", self->rw.lower, name), &ls));
	ASSERT_EQ(0, stat(pf("%s/%s", self->rw.mnt, name), &ms))
		TH_LOG("%s: %s", name, strerror(errno));
	EXPECT_EQ(ls.st_ino, ms.st_ino) TH_LOG("%s", name);
	EXPECT_EQ(ls.st_size, ms.st_size) TH_LOG("%s", name);
	EXPECT_EQ(ls.st_mode, ms.st_mode) TH_LOG("%s", name);
}

TEST_F(lc, replace_file)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	char buf[32];
	int old;

	EXPECT_STREQ("old", rwl_cat(m, "r"));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	old = open(pf("%s/r", m), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, old);

	ASSERT_EQ(0, server_replace(l, "r", "new content"));
	expect_lower_file(_metadata, self, "r", "new content");
	EXPECT_STREQ(ROOT_NAMES, names(m));
	/* An fd opened before keeps its file, without error. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(3, pread(old, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("old", buf);
	close(old);

	/* Twice more, each seen at once. */
	ASSERT_EQ(0, server_replace(l, "r", "third"));
	expect_lower_file(_metadata, self, "r", "third");
	ASSERT_EQ(0, server_replace(l, "r", "fourth version"));
	expect_lower_file(_metadata, self, "r", "fourth version");
	ASSERT_EQ(0, server_replace(pf("%s/sub", l), "s", "new s"));
	EXPECT_STREQ("new s", rwl_cat(m, "sub/s"));
	EXPECT_STREQ("", names(self->rw.upper));
}

TEST_F(lc, delete_file)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;

	EXPECT_STREQ("doomed", rwl_cat(m, "d"));
	EXPECT_STREQ("s", rwl_cat(m, "sub/s"));
	ASSERT_EQ(0, unlink(pf("%s/d", l)));
	ASSERT_EQ(0, unlink(pf("%s/sub/s", l)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/d", m)));
	EXPECT_EQ(ENOENT, open_errno(pf("%s/d", m), O_RDONLY));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/sub/s", m)));
	EXPECT_STREQ("ap,c,c2,dd,ff,r,rn,sub,tf,w,wd", names(m));
	EXPECT_STREQ("", names(pf("%s/sub", m)));
	/* The union can create the name again, in its upper. */
	ASSERT_EQ(0, rwl_mk(m, "d", 'f', "client d"));
	EXPECT_STREQ("client d", rwl_cat(m, "d"));
	EXPECT_STREQ("client d", rwl_cat(self->rw.upper, "d"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/d", l)));
}

TEST_F(lc, create_file)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	int i;

	/* Looked up, absent, more than once: negative dentries. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/n", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/sub/n", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/newdir", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/newdir/f", m)));
	}
	EXPECT_EQ(ENOENT, open_errno(pf("%s/n", m), O_RDONLY));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_STREQ("s", names(pf("%s/sub", m)));

	ASSERT_EQ(0, rwl_mk(l, "n", 'f', "n"));
	ASSERT_EQ(0, rwl_mk(l, "sub/n", 'f', "sub n"));
	ASSERT_EQ(0, rwl_mk(l, "newdir", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "newdir/f", 'f', "newdir f"));

	expect_lower_file(_metadata, self, "n", "n");
	expect_lower_file(_metadata, self, "sub/n", "sub n");
	expect_lower_file(_metadata, self, "newdir/f", "newdir f");
	EXPECT_STREQ("ap,c,c2,d,dd,ff,n,newdir,r,rn,sub,tf,w,wd", names(m));
	EXPECT_STREQ("n,s", names(pf("%s/sub", m)));
	EXPECT_STREQ("f", names(pf("%s/newdir", m)));
	EXPECT_STREQ("", names(self->rw.upper));
}

TEST_F(lc, rename_file)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;

	EXPECT_STREQ("renamed", rwl_cat(m, "rn"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/rn2", m)));
	ASSERT_EQ(0, rename(pf("%s/rn", l), pf("%s/rn2", l)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/rn", m)));
	expect_lower_file(_metadata, self, "rn2", "renamed");
	EXPECT_STREQ("ap,c,c2,d,dd,ff,r,rn2,sub,tf,w,wd", names(m));

	/* Into a directory the union has looked at, and over a file. */
	EXPECT_STREQ("s", rwl_cat(m, "sub/s"));
	ASSERT_EQ(0, rename(pf("%s/rn2", l), pf("%s/sub/rn3", l)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/rn2", m)));
	expect_lower_file(_metadata, self, "sub/rn3", "renamed");
	ASSERT_EQ(0, rename(pf("%s/sub/rn3", l), pf("%s/sub/s", l)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/sub/rn3", m)));
	expect_lower_file(_metadata, self, "sub/s", "renamed");
	EXPECT_STREQ("s", names(pf("%s/sub", m)));

	/* A directory renamed. */
	EXPECT_STREQ("f", rwl_cat(m, "dd/f"));
	ASSERT_EQ(0, rename(pf("%s/dd", l), pf("%s/dd2", l)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/dd", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/dd/f", m)));
	expect_lower_file(_metadata, self, "dd2/f", "f");
	EXPECT_STREQ("ap,c,c2,d,dd2,ff,r,sub,tf,w,wd", names(m));
	EXPECT_STREQ("", names(self->rw.upper));
}

TEST_F(lc, rewrite_in_place)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	char buf[32];
	int fd, lfd;

	fd = open(pf("%s/w", m), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(10, read(fd, buf, sizeof(buf) - 1));
	EXPECT_STREQ("0123456789", buf);

	lfd = open(pf("%s/w", l), O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(3, pwrite(lfd, "ABC", 3, 3));
	ASSERT_EQ(0, close(lfd));

	EXPECT_STREQ("012ABC6789", rwl_cat(m, "w"));
	/* The open fd shares the lower's page cache. */
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(10, pread(fd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("012ABC6789", buf);
	close(fd);
	EXPECT_STREQ("", names(self->rw.upper));
}

/* Spec silent on attributes: like overlayfs, stat() shows the lower's. */
TEST_F(lc, size_and_mode_change)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	struct stat st;
	int lfd;

	ASSERT_EQ(0, stat(pf("%s/ap", m), &st));
	EXPECT_EQ(6, st.st_size);
	lfd = open(pf("%s/ap", l), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(5, write(lfd, "+more", 5));
	ASSERT_EQ(0, close(lfd));
	ASSERT_EQ(0, chmod(pf("%s/ap", l), 0600));
	ASSERT_EQ(0, stat(pf("%s/ap", m), &st));
	EXPECT_EQ(11, st.st_size);
	EXPECT_EQ(S_IFREG | 0600, st.st_mode);
	EXPECT_STREQ("append+more", rwl_cat(m, "ap"));
	ASSERT_EQ(0, truncate(pf("%s/ap", l), 3));
	ASSERT_EQ(0, stat(pf("%s/ap", m), &st));
	EXPECT_EQ(3, st.st_size);
	EXPECT_STREQ("app", rwl_cat(m, "ap"));
}

TEST_F(lc, client_copy_survives)
{
	const char *m = self->rw.mnt, *l = self->rw.lower, *u = self->rw.upper;
	int fd;

	/* The client writes c and c2 and removes wd. */
	fd = open(pf("%s/c", m), O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, write(fd, "client c", 8));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, chmod(pf("%s/c2", m), 0600));
	ASSERT_EQ(0, unlink(pf("%s/wd", m)));
	ASSERT_EQ(0, rwl_mk(m, "sub/mine", 'f', "mine"));

	/* The server replaces c and wd, deletes c2, changes sub. */
	ASSERT_EQ(0, server_replace(l, "c", "server new c"));
	ASSERT_EQ(0, server_replace(l, "wd", "server new wd"));
	ASSERT_EQ(0, unlink(pf("%s/c2", l)));
	ASSERT_EQ(0, rwl_mk(l, "sub/s2", 'f', "s2"));

	EXPECT_STREQ("client c", rwl_cat(m, "c"));
	EXPECT_STREQ("server c2", rwl_cat(m, "c2"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/wd", m)));
	EXPECT_STREQ("ap,c,c2,d,dd,ff,r,rn,sub,tf,w", names(m));
	EXPECT_STREQ("mine,s,s2", names(pf("%s/sub", m)));
	EXPECT_STREQ("s2", rwl_cat(m, "sub/s2"));

	/* The server removes its whole sub/: the client's file stays. */
	ASSERT_EQ(0, unlink(pf("%s/sub/s", l)));
	ASSERT_EQ(0, unlink(pf("%s/sub/s2", l)));
	ASSERT_EQ(0, rmdir(pf("%s/sub", l)));
	EXPECT_STREQ("mine", names(pf("%s/sub", m)));
	EXPECT_STREQ("mine", rwl_cat(m, "sub/mine"));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/sub/s", m)));

	EXPECT_STREQ("client c", rwl_cat(u, "c"));
	EXPECT_STREQ("server c2", rwl_cat(u, "c2"));
	EXPECT_STREQ("server new c", rwl_cat(l, "c"));
	EXPECT_STREQ("server new wd", rwl_cat(l, "wd"));
}

TEST_F(lc, directory_changes)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	struct stat st;

	EXPECT_STREQ("f", rwl_cat(m, "dd/f"));
	EXPECT_STREQ("", names(pf("%s/tf", m)));
	EXPECT_STREQ("file", rwl_cat(m, "ff"));

	/* A directory removed, one replaced by a file, a file by a directory. */
	ASSERT_EQ(0, unlink(pf("%s/dd/f", l)));
	ASSERT_EQ(0, rmdir(pf("%s/dd", l)));
	ASSERT_EQ(0, rmdir(pf("%s/tf", l)));
	ASSERT_EQ(0, rwl_mk(l, "tf", 'f', "now a file"));
	ASSERT_EQ(0, unlink(pf("%s/ff", l)));
	ASSERT_EQ(0, rwl_mk(l, "ff", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l, "ff/inner", 'f', "inner"));

	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/dd", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/dd/f", m)));
	ASSERT_EQ(0, lstat(pf("%s/tf", m), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	EXPECT_STREQ("now a file", rwl_cat(m, "tf"));
	ASSERT_EQ(0, lstat(pf("%s/ff", m), &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_STREQ("inner", rwl_cat(m, "ff/inner"));
	EXPECT_STREQ("inner", names(pf("%s/ff", m)));
	EXPECT_STREQ("ap,c,c2,d,ff,r,rn,sub,tf,w,wd", names(m));
}

TEST_F(lc, churn)
{
	const char *m = self->rw.mnt, *l = self->rw.lower;
	char text[16];
	int i, bad = 0;

	for (i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "round %d", i);
		if (lstat_errno(pf("%s/ch", m)) != ENOENT)
			bad++;
		ASSERT_EQ(0, rwl_mk(l, "ch", 'f', text));
		if (strcmp(text, rwl_cat(m, "ch")))
			bad++;
		if (i % 10 == 0 && strcmp(names(m), "ap,c,c2,ch,d,dd,ff,r,rn,sub,tf,w,wd"))
			bad++;
		ASSERT_EQ(0, server_replace(l, "ch", "replaced"));
		if (strcmp("replaced", rwl_cat(m, "ch")))
			bad++;
		ASSERT_EQ(0, unlink(pf("%s/ch", l)));
		if (lstat_errno(pf("%s/ch", m)) != ENOENT)
			bad++;
		EXPECT_EQ(0, bad) TH_LOG("round %d", i);
		if (bad)
			break;
	}
	EXPECT_STREQ(ROOT_NAMES, names(m));
}

/*
 * A directory a process holds (its working directory, an open fd) while
 * the server moves it away and back, with a walk of the union in
 * between: the held directory and the name are one directory again,
 * whichever copies up first, and getcwd() still finds the name.
 */
TEST_F(lc, held_directory_away_and_back)
{
	const char *l = self->rw.lower, *m = self->rw.mnt;
	char cwd[RWL_PATH];
	struct stat a, b;
	int fd, saved, x;

	fd = open(pf("%s/dd", m), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	saved = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, saved);
	ASSERT_EQ(0, rename(pf("%s/dd", l), pf("%s/dd.away", l)));
	EXPECT_EQ(ENOENT, rwl_exists(pf("%s/dd", m)));
	ASSERT_EQ(0, rename(pf("%s/dd.away", l), pf("%s/dd", l)));
	ASSERT_EQ(0, stat(pf("%s/dd", m), &b));

	ASSERT_EQ(0, fstat(fd, &a));
	EXPECT_EQ(a.st_ino, b.st_ino);
	ASSERT_EQ(0, fchdir(fd));
	EXPECT_NE(NULL, getcwd(cwd, sizeof(cwd)));
	EXPECT_STREQ(pf("%s/dd", m), cwd);
	ASSERT_EQ(0, fchdir(saved));

	/* Copied up through the held directory first, then by name. */
	x = openat(fd, "x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	EXPECT_LE(0, x) TH_LOG("create through the held fd: %s",
			       strerror(errno));
	if (x >= 0)
		close(x);
	EXPECT_EQ(0, open_errno(pf("%s/dd/y", m), O_CREAT | O_WRONLY));
	EXPECT_EQ(0, rwl_exists(pf("%s/dd/x", m)));
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));
	EXPECT_STREQ("f,x,y", names(pf("%s/dd", m)));
	close(fd);
	close(saved);
}

/*
 * The server removes a lower directory the client had changed: a file
 * deleted (a whiteout in the upper), one written (a copy).  The directory
 * now lives in the upper alone: it lists the copy and nothing of the
 * whiteout, with the number stat() gives, and once the copy is deleted
 * it is empty and can be removed.
 */
TEST_F(lc, changed_directory_loses_its_lower)
{
	const char *l = self->rw.lower, *m = self->rw.mnt;
	struct rwl_dents d = { 0 };
	struct stat st;

	ASSERT_EQ(0, rwl_mk(l, "dd/g", 'f', "g"));
	ASSERT_EQ(0, unlink(pf("%s/dd/f", m)));
	ASSERT_EQ(0, rwl_write_text(pf("%s/dd/g", m), "mine"));
	ASSERT_EQ(0, unlink(pf("%s/dd/f", l)));
	ASSERT_EQ(0, unlink(pf("%s/dd/g", l)));
	ASSERT_EQ(0, rmdir(pf("%s/dd", l)));
	ASSERT_EQ(0, rwl_write_text("/proc/sys/vm/drop_caches", "2"));

	EXPECT_STREQ("g", names(pf("%s/dd", m)));
	ASSERT_LT(0, rwl_list_dir(pf("%s/dd", m), 4096, &d));
	ASSERT_EQ(0, stat(pf("%s/dd/g", m), &st));
	ASSERT_NE(NULL, rwl_dents_find(&d, "g"));
	EXPECT_EQ((uint64_t)st.st_ino, rwl_dents_find(&d, "g")->ino);
	rwl_dents_free(&d);
	EXPECT_STREQ("mine", rwl_cat(m, "dd/g"));

	EXPECT_EQ(ENOTEMPTY, rmdir(pf("%s/dd", m)) ? errno : 0);
	ASSERT_EQ(0, unlink(pf("%s/dd/g", m)));
	EXPECT_EQ(0, rmdir(pf("%s/dd", m)) ? errno : 0);
	EXPECT_EQ(ENOENT, rwl_exists(pf("%s/dd", m)));
	EXPECT_EQ(ENOENT, rwl_exists(pf("%s/dd", self->rw.upper)));
}

TEST_HARNESS_MAIN
