// SPDX-License-Identifier: GPL-2.0
/*
 * Whiteouts and opaque directories (rwlayer.rst "Upper layout"): removing
 * a lower name leaves a character device 0/0 in the upper and the name is
 * gone from lookup and readdir; a name can be created again over its
 * whiteout; a directory that is empty through the union can be removed,
 * one that is not fails with ENOTEMPTY; a directory made over a removed
 * lower directory is opaque (trusted.overlay.opaque = "y") and empty;
 * whiteouts and opaque directories already in a lower are honoured; and
 * overlayfs reads the same upper as the same tree.
 */
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "rwl_tree.h"

#define OPAQUE_XATTR	"trusted.overlay.opaque"

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

static int make_whiteout(const char *path)
{
	if (mknod(path, S_IFCHR | 0, makedev(0, 0))) {
		rwl_log("mknod %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Three lowers, top first:
 *   l0: f0 "f0"  m/a "a"  only0/x "x"  empty0/  sl -> f0  ff (fifo)
 *       opq/ (opaque) with opq/top "top"
 *   l1: f1 "f1"  m/b "b"  m/wh (whiteout)  opq/below "below"
 *       gone (whiteout)  hid/x (whiteout)
 *   l2: gone "gone"  m/wh "hidden"  m/c "c"  hid/x "x"
 * Through the union: m/ = {a, b, c}, hid/ is empty, gone and opq/below
 * do not exist.
 */
FIXTURE(wh) {
	struct rwl_env env;
	struct rwl_rw rw;
	char l1[RWL_PATH], l2[RWL_PATH], work2[RWL_PATH];
	char *before;
};

static char *snapshot_lowers(FIXTURE_DATA(wh) *self)
{
	char *a = snapshot(self->rw.lower), *b = snapshot(self->l1);
	char *c = snapshot(self->l2), *all = NULL;

	if (a && b && c && asprintf(&all, "l0\n%sl1\n%sl2\n%s", a, b, c) < 0)
		all = NULL;
	free(a);
	free(b);
	free(c);
	return all;
}

static int mount_union(FIXTURE_DATA(wh) *self)
{
	char data[8 * RWL_PATH];

	snprintf(data, sizeof(data), "lower=%s:%s:%s,upper=%s,work=%s",
		 self->rw.lower, self->l1, self->l2, self->rw.upper,
		 self->rw.work);
	return rwl_mount(&self->env, self->rw.mnt, 0, data);
}

FIXTURE_SETUP(wh)
{
	const char *l0, *l1, *l2;

	RWL_ENV_SETUP(&self->env);
	ASSERT_EQ(0, rwl_rw_init(&self->env, &self->rw, NULL));
	rwl_pathf(self->l1, "%s/l1", self->env.base);
	rwl_pathf(self->l2, "%s/l2", self->env.base);
	rwl_pathf(self->work2, "%s/work2", self->rw.rw);
	l0 = self->rw.lower;
	l1 = self->l1;
	l2 = self->l2;
	ASSERT_EQ(0, rwl_mkdir(l1, 0755));
	ASSERT_EQ(0, rwl_mkdir(l2, 0755));

	ASSERT_EQ(0, rwl_mk(l0, "f0", 'f', "f0"));
	ASSERT_EQ(0, rwl_mk(l0, "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l0, "m/a", 'f', "a"));
	ASSERT_EQ(0, rwl_mk(l0, "only0", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l0, "only0/x", 'f', "x"));
	ASSERT_EQ(0, rwl_mk(l0, "empty0", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l0, "sl", 'l', "f0"));
	ASSERT_EQ(0, rwl_mk(l0, "ff", 'p', NULL));
	ASSERT_EQ(0, rwl_mk(l0, "opq", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l0, "opq/top", 'f', "top"));
	ASSERT_EQ(0, lsetxattr(pf("%s/opq", l0), OPAQUE_XATTR, "y", 1, 0));

	ASSERT_EQ(0, rwl_mk(l1, "f1", 'f', "f1"));
	ASSERT_EQ(0, rwl_mk(l1, "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l1, "m/b", 'f', "b"));
	ASSERT_EQ(0, make_whiteout(pf("%s/m/wh", l1)));
	ASSERT_EQ(0, rwl_mk(l1, "opq", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l1, "opq/below", 'f', "below"));
	ASSERT_EQ(0, make_whiteout(pf("%s/gone", l1)));
	ASSERT_EQ(0, rwl_mk(l1, "hid", 'd', NULL));
	ASSERT_EQ(0, make_whiteout(pf("%s/hid/x", l1)));

	ASSERT_EQ(0, rwl_mk(l2, "gone", 'f', "gone"));
	ASSERT_EQ(0, rwl_mk(l2, "m", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l2, "m/wh", 'f', "hidden"));
	ASSERT_EQ(0, rwl_mk(l2, "m/c", 'f', "c"));
	ASSERT_EQ(0, rwl_mk(l2, "hid", 'd', NULL));
	ASSERT_EQ(0, rwl_mk(l2, "hid/x", 'f', "x"));

	ASSERT_EQ(0, mount_union(self));
	self->before = snapshot_lowers(self);
	ASSERT_NE(NULL, self->before);
}

FIXTURE_TEARDOWN(wh)
{
	if (self->before)
		expect_snapshot_kept(_metadata, "lower trees", self->before,
				     snapshot_lowers(self));
	RWL_ENV_TEARDOWN(&self->env);
}

#define ROOT_NAMES	"empty0,f0,f1,ff,hid,m,only0,opq,sl"

/* @name is gone from the union: lookup, open and readdir of its parent. */
static void expect_gone(struct __test_metadata *_metadata,
			FIXTURE_DATA(wh) *self, const char *dir,
			const char *name)
{
	const char *p = pf("%s/%s%s%s", self->rw.mnt, dir, *dir ? "/" : "", name);
	struct rwl_dents d = { 0 };

	EXPECT_EQ(ENOENT, lstat_errno(p)) TH_LOG("%s", p);
	EXPECT_EQ(ENOENT, open_errno(p, O_RDONLY)) TH_LOG("%s", p);
	EXPECT_EQ(-1, access(p, F_OK));
	ASSERT_LE(0, rwl_list_dir(pf("%s/%s", self->rw.mnt, dir), 4096, &d));
	EXPECT_EQ(0, rwl_dents_count(&d, name)) TH_LOG("%s listed", p);
	rwl_dents_free(&d);
}

static void expect_whiteout(struct __test_metadata *_metadata,
			    FIXTURE_DATA(wh) *self, const char *name)
{
	const char *p = pf("%s/%s", self->rw.upper, name);
	struct stat st;

	ASSERT_EQ(0, lstat(p, &st)) TH_LOG("no whiteout %s: %s", p, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s mode %o", p, st.st_mode);
	EXPECT_EQ(0, major(st.st_rdev)) TH_LOG("%s", p);
	EXPECT_EQ(0, minor(st.st_rdev)) TH_LOG("%s", p);
}

TEST_F(wh, unlink_lower_file)
{
	const char *m = self->rw.mnt;

	EXPECT_STREQ(ROOT_NAMES, names(m));
	ASSERT_EQ(0, unlink(pf("%s/f0", m)));
	ASSERT_EQ(0, unlink(pf("%s/f1", m)));	/* from the second lower */
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));	/* from the third */
	expect_whiteout(_metadata, self, "f0");
	expect_whiteout(_metadata, self, "f1");
	expect_whiteout(_metadata, self, "m/c");
	expect_gone(_metadata, self, "", "f0");
	expect_gone(_metadata, self, "", "f1");
	expect_gone(_metadata, self, "m", "c");
	EXPECT_STREQ("empty0,ff,hid,m,only0,opq,sl", names(m));
	EXPECT_STREQ("a,b", names(pf("%s/m", m)));
	EXPECT_EQ(-1, unlink(pf("%s/f0", m)));
	EXPECT_EQ(ENOENT, errno);
	/* The symlink to the removed file now dangles. */
	EXPECT_EQ(ENOENT, access(pf("%s/sl", m), F_OK) ? errno : 0);
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(wh, unlink_symlink_fifo_copied)
{
	const char *m = self->rw.mnt;
	int fd;

	ASSERT_EQ(0, unlink(pf("%s/sl", m)));
	ASSERT_EQ(0, unlink(pf("%s/ff", m)));
	/* A file copied up first, then removed, also leaves a whiteout. */
	fd = open(pf("%s/only0/x", m), O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "+", 1));
	ASSERT_EQ(0, close(fd));
	EXPECT_STREQ("x+", rwl_cat(self->rw.upper, "only0/x"));
	ASSERT_EQ(0, unlink(pf("%s/only0/x", m)));

	expect_whiteout(_metadata, self, "sl");
	expect_whiteout(_metadata, self, "ff");
	expect_whiteout(_metadata, self, "only0/x");
	expect_gone(_metadata, self, "", "sl");
	expect_gone(_metadata, self, "", "ff");
	expect_gone(_metadata, self, "only0", "x");
	EXPECT_STREQ("", names(pf("%s/only0", m)));
	/* The copied-up parent is a plain directory, not opaque. */
	EXPECT_STREQ(errstr(ENODATA),
		     xattr_str(pf("%s/only0", self->rw.upper), OPAQUE_XATTR));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* Names no lower has need no whiteout (overlayfs does the same). */
TEST_F(wh, unlink_upper_only)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	ASSERT_EQ(0, rwl_mk(m, "nf", 'f', "new"));
	ASSERT_EQ(0, rwl_mk(m, "m/nf", 'f', "new"));
	EXPECT_STREQ("new", rwl_cat(u, "nf"));
	EXPECT_STREQ("new", rwl_cat(u, "m/nf"));
	ASSERT_EQ(0, unlink(pf("%s/nf", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/nf", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/nf", u)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/nf", u)));
	expect_gone(_metadata, self, "", "nf");
	expect_gone(_metadata, self, "m", "nf");
	EXPECT_STREQ("a,b,c", names(pf("%s/m", m)));
	EXPECT_STREQ(ROOT_NAMES, names(m));
}

TEST_F(wh, recreate)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	struct rwl_dents d = { 0 };
	char target[64];
	struct stat st;

	ASSERT_EQ(0, unlink(pf("%s/f0", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/b", m)));
	ASSERT_EQ(0, rwl_mk(m, "f0", 'f', "new f0"));
	ASSERT_EQ(0, symlink("a", pf("%s/m/b", m)));

	EXPECT_STREQ("new f0", rwl_cat(m, "f0"));
	EXPECT_STREQ("new f0", rwl_cat(u, "f0"));
	ASSERT_EQ(0, lstat(pf("%s/f0", u), &st));
	EXPECT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, lstat(pf("%s/m/b", m), &st));
	EXPECT_TRUE(S_ISLNK(st.st_mode));
	memset(target, 0, sizeof(target));
	EXPECT_EQ(1, readlink(pf("%s/m/b", u), target, sizeof(target) - 1));
	EXPECT_STREQ("a", target);
	EXPECT_STREQ("a", rwl_cat(m, "m/b"));

	ASSERT_LE(0, rwl_list_dir(m, 4096, &d));
	EXPECT_EQ(1, rwl_dents_count(&d, "f0"));
	rwl_dents_free(&d);
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_STREQ("a,b,c", names(pf("%s/m", m)));

	/* And removed again: a whiteout once more. */
	ASSERT_EQ(0, unlink(pf("%s/f0", m)));
	expect_whiteout(_metadata, self, "f0");
	expect_gone(_metadata, self, "", "f0");
	/* O_CREAT | O_EXCL over a whiteout is a creation, not EEXIST. */
	ASSERT_EQ(0, close(open(pf("%s/f0", m), O_WRONLY | O_CREAT | O_EXCL |
				O_CLOEXEC, 0600)));
	ASSERT_EQ(0, lstat(pf("%s/f0", m), &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_EQ(S_IFREG | 0600, st.st_mode);
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(wh, rmdir_emptied_merged)
{
	const char *m = self->rw.mnt;

	ASSERT_EQ(0, unlink(pf("%s/m/a", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/b", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));
	EXPECT_STREQ("", names(pf("%s/m", m)));
	/* m/wh is a lower whiteout: it does not make m non-empty. */
	ASSERT_EQ(0, rmdir(pf("%s/m", m))) TH_LOG("%s", strerror(errno));
	expect_whiteout(_metadata, self, "m");
	expect_gone(_metadata, self, "", "m");
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/a", m)));
	EXPECT_STREQ("empty0,f0,f1,ff,hid,only0,opq,sl", names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(wh, rmdir_lower_only)
{
	const char *m = self->rw.mnt;

	/* empty0 is empty in its lower; hid only holds a lower whiteout. */
	ASSERT_EQ(0, rmdir(pf("%s/empty0", m))) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, rmdir(pf("%s/hid", m))) TH_LOG("%s", strerror(errno));
	expect_whiteout(_metadata, self, "empty0");
	expect_whiteout(_metadata, self, "hid");
	expect_gone(_metadata, self, "", "empty0");
	expect_gone(_metadata, self, "", "hid");
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(wh, rmdir_not_empty)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	EXPECT_EQ(-1, rmdir(pf("%s/m", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, rmdir(pf("%s/only0", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(-1, rmdir(pf("%s/opq", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	/* Nothing was copied up or whited out by the failures. */
	EXPECT_STREQ("", names(u));

	/* All lower entries gone, but an upper one is left. */
	ASSERT_EQ(0, unlink(pf("%s/m/a", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/b", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));
	ASSERT_EQ(0, rwl_mk(m, "m/new", 'f', "new"));
	EXPECT_EQ(-1, rmdir(pf("%s/m", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_STREQ("new", names(pf("%s/m", m)));

	/* An upper-only directory with a file. */
	ASSERT_EQ(0, mkdir(pf("%s/ud", m), 0755));
	ASSERT_EQ(0, rwl_mk(m, "ud/f", 'f', "f"));
	EXPECT_EQ(-1, rmdir(pf("%s/ud", m)));
	EXPECT_EQ(ENOTEMPTY, errno);
	ASSERT_EQ(0, unlink(pf("%s/ud/f", m)));
	ASSERT_EQ(0, rmdir(pf("%s/ud", m)));
	EXPECT_EQ(ENOENT, lstat_errno(pf("%s/ud", u)));

	EXPECT_STREQ("x", rwl_cat(m, "only0/x"));
	EXPECT_STREQ("top", names(pf("%s/opq", m)));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

static int drop_caches(void)
{
	int fd, err = 0;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "2", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

TEST_F(wh, mkdir_over_whiteout_is_opaque)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;
	char list[1024];
	ssize_t n, pos;
	int pass;

	ASSERT_EQ(0, unlink(pf("%s/m/a", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/b", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));
	ASSERT_EQ(0, rmdir(pf("%s/m", m)));
	ASSERT_EQ(0, rmdir(pf("%s/empty0", m)));
	ASSERT_EQ(0, mkdir(pf("%s/m", m), 0700));
	ASSERT_EQ(0, mkdir(pf("%s/empty0", m), 0700));

	for (pass = 0; pass < 2; pass++) {
		EXPECT_STREQ("", names(pf("%s/m", m))) TH_LOG("pass %d", pass);
		EXPECT_STREQ("", names(pf("%s/empty0", m))) TH_LOG("pass %d", pass);
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/a", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/b", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/c", m)));
		EXPECT_EQ(ENOENT, lstat_errno(pf("%s/m/wh", m)));
		EXPECT_STREQ("y", xattr_str(pf("%s/m", u), OPAQUE_XATTR));
		EXPECT_STREQ("y", xattr_str(pf("%s/empty0", u), OPAQUE_XATTR));
		/* The marker is the union's own business. */
		n = listxattr(pf("%s/m", m), list, sizeof(list));
		ASSERT_LE(0, n);
		for (pos = 0; pos < n; pos += strlen(list + pos) + 1)
			EXPECT_NE(0, strncmp(list + pos, "trusted.overlay.", 16))
				TH_LOG("listed: %s", list + pos);
		/* Again with the cached inodes gone: the xattr is read back. */
		ASSERT_EQ(0, drop_caches());
	}

	ASSERT_EQ(0, rwl_mk(m, "m/z", 'f', "z"));
	EXPECT_STREQ("z", names(pf("%s/m", m)));
	EXPECT_STREQ("z", names(pf("%s/m", u)));
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

/* Every listed name is unique, no whiteout, and lstat()s as its d_type. */
static void expect_clean_listing(struct __test_metadata *_metadata,
				 const char *dir, size_t bufsize)
{
	struct rwl_dents d = { 0 };
	struct stat st;
	size_t i;

	ASSERT_LE(0, rwl_list_dir(dir, bufsize, &d));
	for (i = 0; i < d.num; i++) {
		const struct rwl_dent *e = &d.v[i];

		EXPECT_NE(DT_CHR, e->type) TH_LOG("%s/%s", dir, e->name);
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		ASSERT_EQ(0, lstat(pf("%s/%s", dir, e->name), &st))
			TH_LOG("%s/%s listed but: %s", dir, e->name,
			       strerror(errno));
		EXPECT_EQ(IFTODT(st.st_mode), e->type) TH_LOG("%s/%s", dir, e->name);
	}
	rwl_dents_sort(&d);
	EXPECT_EQ(NULL, rwl_dents_first_dup(&d)) TH_LOG("%s", dir);
	rwl_dents_free(&d);
}

/*
 * A merged directory being removed is first moved into the work
 * directory with its whiteouts (dir.c); a crash can leave it there.  The
 * next mount empties it instead of refusing the work directory.
 */
TEST_F(wh, mount_clears_removed_dir_in_work)
{
	const char *w = self->rw.work;

	ASSERT_EQ(0, rwl_umount(&self->env, self->rw.mnt));
	ASSERT_EQ(0, rwl_mk(w, "#1f", 'd', NULL));
	ASSERT_EQ(0, make_whiteout(pf("%s/#1f/a", w)));
	ASSERT_EQ(0, make_whiteout(pf("%s/#1f/b", w)));
	ASSERT_EQ(0, rwl_mk(w, "#1f/c", 'f', "c"));
	ASSERT_EQ(0, rwl_mk(w, "#20", 'f', "half a copy"));
	ASSERT_EQ(0, mount_union(self));
	EXPECT_EQ(0, work_leftovers(w));
	EXPECT_STREQ(ROOT_NAMES, names(self->rw.mnt));
	ASSERT_EQ(0, rwl_mk(self->rw.mnt, "m/new", 'f', "new"));
	EXPECT_STREQ("new", rwl_cat(self->rw.upper, "m/new"));
}

TEST_F(wh, readdir_hides_whiteouts)
{
	const char *m = self->rw.mnt;
	static const size_t bufsizes[] = { 64, 100, 4096 };
	size_t b;

	ASSERT_EQ(0, unlink(pf("%s/m/a", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));
	ASSERT_EQ(0, unlink(pf("%s/f0", m)));
	ASSERT_EQ(0, unlink(pf("%s/f1", m)));
	ASSERT_EQ(0, unlink(pf("%s/only0/x", m)));
	ASSERT_EQ(0, rmdir(pf("%s/empty0", m)));
	ASSERT_EQ(0, rwl_mk(m, "m/n", 'f', "n"));

	EXPECT_STREQ("ff,hid,m,only0,opq,sl", names(m));
	EXPECT_STREQ("b,n", names(pf("%s/m", m)));
	EXPECT_STREQ("", names(pf("%s/only0", m)));
	EXPECT_STREQ("", names(pf("%s/hid", m)));
	for (b = 0; b < ARRAY_SIZE(bufsizes); b++) {
		expect_clean_listing(_metadata, m, bufsizes[b]);
		expect_clean_listing(_metadata, pf("%s/m", m), bufsizes[b]);
		expect_clean_listing(_metadata, pf("%s/only0", m), bufsizes[b]);
		expect_clean_listing(_metadata, pf("%s/hid", m), bufsizes[b]);
	}
	/* The whiteouts are there in the upper all the same. */
	EXPECT_STREQ("a,c,n", names(pf("%s/m", self->rw.upper)));
	EXPECT_STREQ("empty0,f0,f1,m,only0", names(self->rw.upper));
}

TEST_F(wh, lower_whiteout_honoured)
{
	const char *m = self->rw.mnt, *u = self->rw.upper;

	expect_gone(_metadata, self, "", "gone");
	expect_gone(_metadata, self, "m", "wh");
	expect_gone(_metadata, self, "hid", "x");
	EXPECT_STREQ(ROOT_NAMES, names(m));
	EXPECT_STREQ("a,b,c", names(pf("%s/m", m)));
	EXPECT_STREQ("", names(pf("%s/hid", m)));
	EXPECT_EQ(-1, unlink(pf("%s/gone", m)));
	EXPECT_EQ(ENOENT, errno);

	/* The names can be created: they are free in the union. */
	ASSERT_EQ(0, rwl_mk(m, "gone", 'f', "mine"));
	ASSERT_EQ(0, rwl_mk(m, "m/wh", 'f', "mine too"));
	EXPECT_STREQ("mine", rwl_cat(m, "gone"));
	EXPECT_STREQ("mine too", rwl_cat(m, "m/wh"));
	EXPECT_STREQ("mine", rwl_cat(u, "gone"));
	EXPECT_STREQ("mine too", rwl_cat(u, "m/wh"));
	EXPECT_STREQ("empty0,f0,f1,ff,gone,hid,m,only0,opq,sl", names(m));
	EXPECT_STREQ("a,b,c,wh", names(pf("%s/m", m)));

	/* Removed again, they are gone again (whiteout or not). */
	ASSERT_EQ(0, unlink(pf("%s/gone", m)));
	ASSERT_EQ(0, unlink(pf("%s/m/wh", m)));
	expect_gone(_metadata, self, "", "gone");
	expect_gone(_metadata, self, "m", "wh");
	EXPECT_EQ(0, work_leftovers(self->rw.work));
}

TEST_F(wh, lower_opaque_honoured)
{
	const char *m = self->rw.mnt;
	char list[1024];
	ssize_t n, pos;

	EXPECT_STREQ("top", names(pf("%s/opq", m)));
	expect_gone(_metadata, self, "opq", "below");
	n = listxattr(pf("%s/opq", m), list, sizeof(list));
	ASSERT_LE(0, n);
	for (pos = 0; pos < n; pos += strlen(list + pos) + 1)
		EXPECT_NE(0, strncmp(list + pos, "trusted.overlay.", 16))
			TH_LOG("listed: %s", list + pos);

	/* Still opaque once copied up as a parent. */
	ASSERT_EQ(0, rwl_mk(m, "opq/new", 'f', "new"));
	EXPECT_STREQ("new,top", names(pf("%s/opq", m)));
	expect_gone(_metadata, self, "opq", "below");
	ASSERT_EQ(0, drop_caches());
	EXPECT_STREQ("new,top", names(pf("%s/opq", m)));
	expect_gone(_metadata, self, "opq", "below");
	EXPECT_STREQ("top", rwl_cat(m, "opq/top"));
}

/* ---- overlayfs reads the same upper ----------------------------------- */

static bool have_fs(const char *name)
{
	char line[128], want[128];
	bool found = false;
	FILE *f;

	snprintf(want, sizeof(want), "\t%s\n", name);
	f = fopen("/proc/filesystems", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, want) != NULL;
	fclose(f);
	return found;
}

/* Load /modules/overlay.ko and its dependencies, in load-order order. */
static bool load_overlay(void)
{
	char name[128];
	FILE *order;
	int fd;

	if (have_fs("overlay"))
		return true;
	order = fopen("/modules/load-order", "re");
	if (!order)
		return false;
	while (fgets(name, sizeof(name), order)) {
		name[strcspn(name, "\n")] = '\0';
		if (!name[0])
			continue;
		fd = open(pf("/modules/%s", name), O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rwl_log("open /modules/%s: %s", name, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
			rwl_log("finit_module %s: %s", name, strerror(errno));
		close(fd);
	}
	fclose(order);
	return have_fs("overlay");
}

struct view {
	char **lines;
	size_t num, cap;
	size_t skip;
};

static struct view *view_cur;

static int view_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	char target[RWL_PATH] = "", data[256] = "", *line;
	struct view *v = view_cur;
	ssize_t n;

	(void)type;
	(void)ftw;
	if (S_ISLNK(st->st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
	}
	if (S_ISREG(st->st_mode) && rwl_read_text(path, data, sizeof(data)) < 0)
		snprintf(data, sizeof(data), "<unreadable>");
	if (asprintf(&line, "%s %07o %u:%u size %lld rdev %u:%u -> %s data %s",
		     path[v->skip] ? path + v->skip : "/", st->st_mode,
		     st->st_uid, st->st_gid,
		     S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size,
		     major(st->st_rdev), minor(st->st_rdev), target, data) < 0)
		return 1;
	if (v->num == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 64;
		v->lines = realloc(v->lines, v->cap * sizeof(*v->lines));
		if (!v->lines)
			return 1;
	}
	v->lines[v->num++] = line;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a mount shows: every entry with type, mode, owner and content. */
static char *view(const char *root)
{
	struct view v = { .skip = strlen(root) };
	char *out = NULL;
	size_t size = 0, i;
	FILE *f;

	view_cur = &v;
	if (nftw(root, view_one, 16, FTW_PHYS))
		rwl_log("walking %s failed", root);
	qsort(v.lines, v.num, sizeof(*v.lines), cmp_str);
	f = open_memstream(&out, &size);
	for (i = 0; i < v.num; i++) {
		if (f)
			fprintf(f, "%s\n", v.lines[i]);
		free(v.lines[i]);
	}
	free(v.lines);
	if (f)
		fclose(f);
	return out;
}

TEST_F_TIMEOUT(wh, overlayfs_reads_upper, 60)
{
	const char *m = self->rw.mnt;
	char data[8 * RWL_PATH], *ours, *theirs;
	int fd;

	/* A bit of everything in the upper. */
	ASSERT_EQ(0, unlink(pf("%s/f0", m)));
	ASSERT_EQ(0, rwl_mk(m, "nf", 'f', "new"));
	fd = open(pf("%s/m/a", m), O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, write(fd, "A2", 2));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, unlink(pf("%s/m/c", m)));
	ASSERT_EQ(0, rmdir(pf("%s/empty0", m)));
	ASSERT_EQ(0, mkdir(pf("%s/empty0", m), 0750));
	ASSERT_EQ(0, rwl_mk(m, "empty0/z", 'f', "z"));
	ASSERT_EQ(0, rename(pf("%s/f1", m), pf("%s/f1r", m)));
	ASSERT_EQ(0, unlink(pf("%s/only0/x", m)));
	ASSERT_EQ(0, symlink("nf", pf("%s/nl", m)));
	ASSERT_EQ(0, chmod(pf("%s/ff", m), 0600));
	ASSERT_EQ(0, mkdir(pf("%s/nd", m), 0700));
	ASSERT_EQ(0, rwl_mk(m, "nd/f", 'f', "nd f"));
	ASSERT_EQ(0, rwl_mk(m, "gone", 'f', "back"));
	ASSERT_EQ(0, rwl_mk(m, "opq/new", 'f', "new"));

	ours = view(m);
	ASSERT_NE(NULL, ours);
	ASSERT_EQ(0, rwl_umount(&self->env, m));

	if (!load_overlay()) {
		free(ours);
		SKIP(return, "overlay filesystem not available");
	}
	ASSERT_EQ(0, rwl_mkdir(self->work2, 0755));
	snprintf(data, sizeof(data),
		 "lowerdir=%s:%s:%s,upperdir=%s,workdir=%s,index=off,"
		 "redirect_dir=off,metacopy=off",
		 self->rw.lower, self->l1, self->l2, self->rw.upper,
		 self->work2);
	ASSERT_EQ(0, mount("overlay", m, "overlay", 0, data))
		TH_LOG("mount -t overlay -o %s: %s", data, strerror(errno));
	ASSERT_EQ(0, rwl_env_record(&self->env, m));
	theirs = view(m);
	ASSERT_NE(NULL, theirs);
	expect_same_snapshot(_metadata, "overlayfs view", ours, theirs);
	free(ours);
	free(theirs);
}

TEST_HARNESS_MAIN
